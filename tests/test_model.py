"""Sequential: training, evaluation, prediction, naming, reproducibility and the errors it raises."""
import numpy as np
import pytest

import numrnn
from numrnn.gradient_check import gradcheck


def mod3_data(rng, count=256, steps=8):
    ids = rng.integers(0, 3, (count, steps))
    return np.eye(3)[ids], (ids + 1) % 3


def small_model(hidden=12, dtype="float32", **kwargs):
    defaults = dict(loss="cross_entropy", optimizer=numrnn.Adam(lr=0.02))
    defaults.update(kwargs)
    return numrnn.Sequential([numrnn.RNN(3, hidden, dtype=dtype), numrnn.Dense(hidden, 3, dtype=dtype)], **defaults)


def test_fit_learns_mod3_and_reports_history(rng):
    X, y = mod3_data(rng)
    model = small_model()
    history = model.fit(X, y, epochs=15, batch_size=32, validation_data=mod3_data(rng, 64))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history.history["loss"]) == 15
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] == 1.0


def test_same_seed_gives_same_weights_and_same_training(rng):
    X, y = mod3_data(rng, 64)
    results = []
    for _ in range(2):
        numrnn.seed(42)
        model = small_model()
        history = model.fit(X, y, epochs=3, batch_size=16, seed=5)
        results.append((model.state_dict(), history.history["loss"]))
    for name in results[0][0]:
        np.testing.assert_array_equal(results[0][0][name], results[1][0][name])
    assert results[0][1] == results[1][1]


def test_whole_model_gradients_match_central_differences(rng):
    X, y = mod3_data(rng, 3, 5)
    model = numrnn.Sequential([numrnn.RNN(3, 4, num_layers=2, dtype="float64"), numrnn.Dense(4, 3, dtype="float64")])
    errors = gradcheck(model, X, y=y, loss=numrnn.CrossEntropy())
    assert "0.weight_hh_l1" in errors and "1.weight" in errors
    assert max(errors.values()) < 1e-6, errors


def test_train_on_batch_changes_weights_by_the_optimizer_step(rng):
    X, y = mod3_data(rng, 8)
    model = small_model(optimizer=numrnn.SGD(lr=0.1))
    before = model.state_dict()
    logs = model.train_on_batch(X, y)
    # SGD: w_new = w_old - lr * grad, with the gradients the step left in model.grads
    for name, value in model.params.items():
        np.testing.assert_allclose(value, before[name] - 0.1 * model.grads[name], rtol=1e-6, atol=1e-7)
    assert set(logs) == {"loss", "accuracy", "grad_norm"}


def test_clip_norm_bounds_the_update(rng):
    X, y = mod3_data(rng, 8)
    model = small_model(optimizer=numrnn.SGD(lr=1.0), clip_norm=1e-3)
    before = model.state_dict()
    logs = model.train_on_batch(X, y)
    assert logs["grad_norm"] > 1e-3
    step = np.sqrt(sum(np.sum((model.params[n] - before[n]) ** 2) for n in before))
    assert step == pytest.approx(1e-3, rel=1e-3)


def test_evaluate_is_independent_of_batch_size(rng):
    X, y = mod3_data(rng, 50)
    model = small_model()
    a, b = model.evaluate(X, y, batch_size=7), model.evaluate(X, y, batch_size=50)
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
    assert a["accuracy"] == pytest.approx(b["accuracy"], rel=1e-9)


def test_predict_returns_probabilities_batch_first(rng):
    X, _ = mod3_data(rng, 5)
    probabilities = small_model().predict(X)
    assert probabilities.shape == (5, 8, 3)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_many_to_one_regression(rng):
    X = rng.standard_normal((64, 6, 2))
    y = X.sum(axis=(1, 2))[:, None] * 0.1
    model = numrnn.Sequential([numrnn.RNN(2, 16, return_sequences=False), numrnn.Dense(16, 1)],
                              loss="mse", optimizer=numrnn.Adam(lr=0.01))
    history = model.fit(X, y, epochs=30, batch_size=16)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert "accuracy" not in history.history
    assert model.predict(X).shape == (64, 1)


def test_variable_lengths_only_count_valid_positions(rng):
    X, y = mod3_data(rng, 4, 6)
    lengths = np.array([6, 3, 2, 5])
    model = small_model(dtype="float64")
    full = model.evaluate(X, y, lengths=lengths)
    scrambled = y.copy()
    for row, length in enumerate(lengths):
        scrambled[row, length:] = (scrambled[row, length:] + 1) % 3
    assert model.evaluate(X, scrambled, lengths=lengths)["loss"] == pytest.approx(full["loss"], rel=1e-12)


def test_padded_targets_may_hold_anything(rng):
    """Past a sequence's length targets are never read, so -100 (torch's ignore_index) or NaN padding is
    accepted and gives the loss and update of any valid filler; a bad target at a valid position still raises."""
    X, y = mod3_data(rng, 4, 6)
    lengths = np.array([6, 3, 2, 5])
    padded = y.copy()
    for row, length in enumerate(lengths):
        padded[row, length:] = -100
    start = small_model(dtype="float64").state_dict()
    results = []
    for targets in (y, padded):
        model = small_model(dtype="float64").load_state_dict(start)
        loss = model.train_on_batch(X, targets, lengths=lengths)["loss"]
        results.append((loss, model.state_dict(), model.evaluate(X, targets, lengths=lengths)))
    (valid_loss, valid_state, valid_eval), (padded_loss, padded_state, padded_eval) = results
    assert padded_loss == valid_loss and padded_eval == valid_eval
    for key, value in valid_state.items():
        np.testing.assert_array_equal(padded_state[key], value, err_msg=key)
    bad = padded.copy()
    bad[2, 1] = -100  # inside the third sequence (length 2)
    with pytest.raises(ValueError, match=r"y must hold class indices in \[0, 3\), found -100 at index \(2, 1\)"):
        small_model().evaluate(X, bad, lengths=lengths)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\), found -100"):
        small_model().evaluate(X, padded)  # without lengths every position is valid

    regression = numrnn.Sequential([numrnn.RNN(3, 4, dtype="float64"), numrnn.Dense(4, 1, dtype="float64")],
                                   loss="mse", optimizer=numrnn.SGD(lr=0.1))
    targets = rng.standard_normal((4, 6, 1))
    nan_padded = targets.copy()
    for row, length in enumerate(lengths):
        targets[row, length:] = 0.0
        nan_padded[row, length:] = np.nan
    assert regression.evaluate(X, nan_padded, lengths=lengths)["loss"] == \
        regression.evaluate(X, targets, lengths=lengths)["loss"]


def test_state_dict_uses_torch_sequential_names():
    model = small_model()
    assert list(model.state_dict()) == ["0.weight_ih_l0", "0.weight_hh_l0", "0.bias_ih_l0", "0.bias_hh_l0",
                                        "1.weight", "1.bias"]


def test_load_state_dict_checks_names_and_shapes_before_changing_anything():
    model = small_model()
    before = model.state_dict()
    bad = model.state_dict()
    bad["0.weight_hh_l0"] = np.ones((12, 12))
    bad["1.weight"] = np.ones((3, 5))
    with pytest.raises(ValueError, match=r"'1.weight' must have shape \(3, 12\), got \(3, 5\)"):
        model.load_state_dict(bad)
    np.testing.assert_array_equal(model.params["0.weight_hh_l0"], before["0.weight_hh_l0"])
    missing = model.state_dict()
    del missing["1.bias"]
    with pytest.raises(ValueError, match=r"missing \['1.bias'\]"):
        model.load_state_dict(missing)


def test_summary_lists_layers_shapes_and_parameter_counts():
    text = small_model().summary(print_fn=None)
    assert "RNN(3, 12)" in text and "(batch, time, 12)" in text
    assert "total parameters: 243" in text  # 12*3 + 12*12 + 12 + 12 + 3*12 + 3


def test_add_builds_the_model_as_the_tutorial_does():
    model = numrnn.Sequential(loss="cross_entropy", optimizer="adam")
    model.add(numrnn.RNN(3, 8))
    model.add(numrnn.Dense(8, 3))
    assert model.num_parameters() == 8 * 3 + 64 + 16 + 24 + 3


# -- errors raised before any work ------------------------------------------------------------------------------------
def test_layers_that_do_not_chain_are_refused():
    with pytest.raises(ValueError, match=r"layer 1 \(Dense\) expects 5 input features, but layer 0 \(RNN\) gives 8"):
        numrnn.Sequential([numrnn.RNN(3, 8), numrnn.Dense(5, 3)])
    with pytest.raises(ValueError, match=r"expects input of rank 3.*return_sequences=True"):
        numrnn.Sequential([numrnn.RNN(3, 8, return_sequences=False), numrnn.RNN(8, 8)])


@pytest.mark.parametrize("mutate, error, match", [
    (lambda X, y: (X[:-1], y), ValueError, r"X and y must have the same number of samples: X has 7, y has 8"),
    (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 5, np.nan, X), y), ValueError,
     r"X must be finite, found nan at index \(0, 1, 2\)"),
    (lambda X, y: (X.astype(str), y), TypeError, r"X must hold numbers"),
    (lambda X, y: (X[:, :, :2], y), ValueError, r"X.shape\[-1\] must be equal to 3, got 2"),
    (lambda X, y: (X[0], y), ValueError, r"X must have 3 dimensions, got 2"),
    (lambda X, y: (X[:0], y[:0]), ValueError, r"X is empty"),
    (lambda X, y: (X, y + 3), ValueError, r"y.*\[0, 3\)"),
])
def test_bad_data_raises_naming_the_argument(mutate, error, match, rng):
    X, y = mod3_data(rng, 8)
    model = small_model()
    before = model.state_dict()
    with pytest.raises(error, match=match):
        model.fit(*mutate(X, y), epochs=1)
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("kwargs, match", [
    (dict(epochs=0), "epochs must be a positive integer, got 0"),
    (dict(batch_size=-4), "batch_size must be a positive integer, got -4"),
    (dict(batch_size=2.5), "batch_size must be a positive integer, got float 2.5"),
])
def test_bad_fit_arguments_raise(kwargs, match, rng):
    with pytest.raises((ValueError, TypeError), match=match):
        small_model().fit(*mod3_data(rng, 8), **kwargs)


def test_unknown_loss_or_optimizer_names_raise():
    with pytest.raises(ValueError, match="hinge"):
        small_model(loss="hinge")
    with pytest.raises(ValueError, match="adamw"):
        small_model(optimizer="adamw")
    with pytest.raises(ValueError, match="lr"):
        numrnn.Adam(lr=0)


def test_validation_data_is_checked_under_its_own_name(rng):
    X, y = mod3_data(rng, 8)
    with pytest.raises(ValueError, match=r"validation_data\[0\] must be finite"):
        small_model().fit(X, y, validation_data=(np.full_like(X, np.inf), y))


def test_training_without_loss_or_optimizer_says_what_is_missing(rng):
    model = numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 3)])
    with pytest.raises(ValueError, match="no loss"):
        model.fit(*mod3_data(rng, 4))
