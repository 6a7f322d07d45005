"""Sequential with masks: mask= through fit, evaluate, predict, train_on_batch, test_on_batch, compute_gradients and
check_data; the loss ignores masked positions; Embedding(mask_zero=True) makes the mask from id 0 and the model
passes it on (Keras's mask propagation); empty sequences; a mask of trailing padding is lengths."""
import numpy as np
import pytest

import numrnn

STEPS = 6


def model(embedding=None, bidirectional=False, dtype="float64", **layer_options):
    """ids -> Embedding(5, 3) -> GRU(3, 4) -> Dense(., 3), cross-entropy at every step, SGD."""
    numrnn.seed(7)
    recurrent = numrnn.GRU(3, 4, bidirectional=bidirectional, dtype=dtype, **layer_options)
    layers = [embedding or numrnn.Embedding(5, 3, dtype=dtype), recurrent,
              numrnn.Dense(4 * recurrent.num_directions, 3, dtype=dtype)]
    return numrnn.Sequential(layers, loss="cross_entropy", optimizer=numrnn.SGD(lr=0.1))


def data(rng, count=6):
    ids = rng.integers(1, 5, (count, STEPS))
    mask = rng.random((count, STEPS)) < 0.7
    mask[0] = True
    mask[1, :2] = False   # front padding
    mask[2, 2:4] = False  # a gap
    return ids, ids % 3, mask


def test_a_mask_of_trailing_padding_is_lengths_through_every_method(rng):
    ids, y, _ = data(rng)
    lengths = np.array([STEPS, 3, 1, 0, 5, 2])
    mask = np.arange(STEPS)[None, :] < lengths[:, None]
    results = []
    for padding in ({"lengths": lengths}, {"mask": mask}):
        net = model()
        step = [net.compute_gradients(ids, y, **padding), net.train_on_batch(ids, y, **padding),
                net.test_on_batch(ids, y, **padding), net.evaluate(ids, y, batch_size=4, **padding),
                net.predict(ids, **padding)]
        history = net.fit(ids, y, epochs=2, batch_size=4, seed=0, validation_data=(ids, y, *padding.values()))
        results.append((step, history.history, net.state_dict()))
    (step_l, history_l, state_l), (step_m, history_m, state_m) = results
    assert step_l[:4] == step_m[:4] and history_l == history_m
    np.testing.assert_array_equal(step_l[4], step_m[4])
    for name, value in state_l.items():
        np.testing.assert_array_equal(state_m[name], value, err_msg=name)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_positions_have_no_target_and_no_gradient(bidirectional, rng):
    """Targets at masked steps are never read (-100 accepted there), change nothing, and count for nothing; each
    sequence's loss is that of its real steps alone."""
    ids, y, mask = data(rng)
    net = model(bidirectional=bidirectional)
    scrambled = y.copy()
    scrambled[~mask] = -100
    loss = net.compute_gradients(ids, y, mask=mask)
    grads = {name: value.copy() for name, value in net.grads.items()}
    assert net.compute_gradients(ids, scrambled, mask=mask) == loss
    for name, value in net.grads.items():
        np.testing.assert_array_equal(value, grads[name], err_msg=name)
    # the loss is the mean over real positions of each sequence's loss over its real steps alone
    total = sum(net.test_on_batch(ids[b:b + 1, real], y[b:b + 1, real])["loss"] * real.sum()
                for b, real in enumerate(mask))
    assert loss == pytest.approx(total / mask.sum(), rel=1e-12)
    assert net.evaluate(ids, scrambled, mask=mask)["loss"] == pytest.approx(loss, rel=1e-12)


def test_embedding_mask_zero_makes_the_mask_and_the_model_passes_it_on(rng):
    """Id 0 as padding, anywhere: the same losses, gradients, training and predictions as the explicit mask."""
    ids, y, mask = data(rng)
    padded = np.where(mask, ids, 0)
    explicit, implicit = model(), model(numrnn.Embedding(5, 3, mask_zero=True, dtype="float64"))
    implicit.load_state_dict(explicit.state_dict())
    assert implicit.layers[0].produces_mask and not explicit.layers[0].produces_mask
    np.testing.assert_array_equal(implicit.layers[0].compute_mask(padded), mask)
    assert implicit.compute_gradients(padded, y) == explicit.compute_gradients(padded, y, mask=mask)
    for name, value in explicit.grads.items():
        np.testing.assert_array_equal(implicit.grads[name], value, err_msg=name)
    assert not implicit.grads["0.weight"][0].any()  # the padding id's row takes no gradient
    np.testing.assert_array_equal(implicit.predict(padded), explicit.predict(padded, mask=mask))
    assert implicit.evaluate(padded, y) == explicit.evaluate(padded, y, mask=mask)
    histories = [net.fit(padded, y, epochs=2, batch_size=4, seed=0, **kwargs).history
                 for net, kwargs in ((implicit, {}), (explicit, {"mask": mask}))]
    assert histories[0] == histories[1]
    # with lengths or a mask as well, a step is real where both say so
    lengths = np.full(len(ids), STEPS - 1)
    both = mask & (np.arange(STEPS)[None, :] < lengths[:, None])
    assert implicit.test_on_batch(padded, y, lengths=lengths) == explicit.test_on_batch(padded, y, mask=both)


def test_a_mask_making_layer_must_come_first_and_its_option_round_trips(tmp_path):
    with pytest.raises(ValueError, match=r"Embedding makes its mask from the model's input .* must be the first "
                                         r"layer, got it as layer 1"):
        numrnn.Sequential([numrnn.Embedding(5, 3), numrnn.Embedding(5, 3, mask_zero=True)])
    net = model(numrnn.Embedding(5, 3, mask_zero=True, dtype="float64"))
    net.save(tmp_path / "m.npz")
    assert numrnn.load(tmp_path / "m.npz").layers[0].mask_zero is True
    assert numrnn.Embedding(5, 3).config()["mask_zero"] is False


def test_empty_sequences_are_absent_from_the_loss_and_an_all_empty_batch_is_refused(rng):
    ids, y, _ = data(rng, 3)
    lengths = np.array([STEPS, 0, 2])
    net = model()
    loss = net.compute_gradients(ids, y, lengths=lengths)
    alone = (net.test_on_batch(ids[:1], y[:1])["loss"] * STEPS
             + net.test_on_batch(ids[2:, :2], y[2:, :2])["loss"] * 2) / (STEPS + 2)
    assert loss == pytest.approx(alone, rel=1e-12)
    assert net.target_positions(ids, lengths) == STEPS + 2
    with pytest.raises(ValueError, match="the batch has no target: every sequence is empty"):
        net.compute_gradients(ids, y, lengths=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="the batch has no target: every sequence is empty"):
        net.train_on_batch(ids, y, mask=np.zeros((3, STEPS), dtype=bool))


def test_fit_and_evaluate_pass_over_a_batch_of_empty_sequences_and_refuse_data_with_no_target(rng):
    """Such a batch has no target: it weighs nothing in a dataset's mean and fit takes no step on it."""
    ids, y, _ = data(rng, 4)
    lengths = np.array([STEPS, 0, 0, 3])
    net = model()
    whole = net.evaluate(ids, y, lengths=lengths)
    assert net.evaluate(ids[[1, 2, 0, 3]], y[[1, 2, 0, 3]], batch_size=2, lengths=lengths[[1, 2, 0, 3]]) == \
        pytest.approx(whole, rel=1e-12)
    start = net.state_dict()
    steps = []

    class Steps(numrnn.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            steps.append(batch)

    callback = Steps()
    net.fit(ids[[1, 2, 0, 3]], y[[1, 2, 0, 3]], batch_size=2, shuffle=False, lengths=lengths[[1, 2, 0, 3]],
            callbacks=[callback])
    assert steps == [1]
    reference = model().load_state_dict(start)
    reference.train_on_batch(ids[[0, 3]], y[[0, 3]], lengths=lengths[[0, 3]])
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(net.params[name], value, err_msg=name)
    empty = np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="nothing to evaluate: every sequence is empty"):
        net.evaluate(ids, y, lengths=empty)
    with pytest.raises(ValueError, match="nothing to train on: every sequence is empty"):
        net.fit(ids, y, mask=np.zeros((4, STEPS), dtype=bool))


def test_an_empty_sequence_has_no_target_when_the_model_outputs_one_vector_per_sequence(rng):
    """return_sequences=False: an empty sequence outputs zeros and its target (never read) is absent from the loss,
    the accuracy and the dataset's mean."""
    ids, _, _ = data(rng, 4)
    y = rng.integers(0, 3, 4)
    net = model(return_sequences=False)
    lengths = np.array([STEPS, 0, 2, 0])
    padded = y.copy()
    padded[[1, 3]] = -100
    loss = net.compute_gradients(ids, padded, lengths=lengths)
    kept = [net.test_on_batch(ids[b:b + 1, :n], y[b:b + 1])["loss"] for b, n in ((0, STEPS), (2, 2))]
    assert loss == pytest.approx(np.mean(kept), rel=1e-12)
    assert net.target_positions(ids, lengths) == 2
    assert net.evaluate(ids, padded, batch_size=3, lengths=lengths)["loss"] == pytest.approx(loss, rel=1e-12)
    with pytest.raises(ValueError, match="the batch has no target: every sequence is empty"):
        net.test_on_batch(ids, y, mask=np.zeros((4, STEPS), dtype=bool))


def test_inputs_under_the_mask_may_hold_anything_but_a_real_step_must_be_finite(rng):
    ids, y, mask = data(rng)
    net = numrnn.Sequential([numrnn.LSTM(3, 4, dtype="float64"), numrnn.Dense(4, 3, dtype="float64")],
                            loss="cross_entropy", optimizer=numrnn.SGD(lr=0.1))
    X = np.eye(3)[ids % 3]
    dirty = X.copy()
    dirty[~mask] = np.nan
    dirty[1, 0, 2] = np.inf
    assert net.evaluate(dirty, y, mask=mask) == net.evaluate(X, y, mask=mask)
    np.testing.assert_array_equal(net.predict(dirty, mask=mask)[mask], net.predict(X, mask=mask)[mask])
    dirty[2, 1, 0] = np.nan  # a real step
    with pytest.raises(ValueError, match=r"X must be finite, found nan at index \(2, 1, 0\)"):
        net.fit(dirty, y, mask=mask)
    with pytest.raises(ValueError, match=r"X must be finite, found nan at index \(2, 1, 0\)"):
        net.predict(dirty, mask=mask)


def test_mask_errors_name_the_argument(rng):
    ids, y, mask = data(rng)
    net = model()
    with pytest.raises(ValueError, match="pass lengths or mask, not both"):
        net.fit(ids, y, lengths=np.full(len(ids), STEPS), mask=mask)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(6, 6\), got \(6, 5\)"):
        net.predict(ids, mask=mask[:, 1:])
    with pytest.raises(ValueError, match=r"validation_data\[2\] must have shape \(batch, time\) = \(6, 6\)"):
        net.fit(ids, y, validation_data=(ids, y, mask[:, 1:]))
    with pytest.raises(TypeError, match=r"mask must hold booleans"):
        net.evaluate(ids, y, mask=mask.astype(float))
    dense = numrnn.Sequential([numrnn.Dense(3, 2)], loss="mse")
    with pytest.raises(ValueError, match=r"mask needs sequence input \(batch, time, ...\), got X of shape \(4, 3\)"):
        dense.evaluate(np.zeros((4, 3)), np.zeros((4, 2)), mask=np.ones((4, 3), dtype=bool))
