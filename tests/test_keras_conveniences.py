"""Keras's conveniences for fit: validation_split, sample_weight, class_weight, metrics=, Keras's loss names,
callbacks that stop training, and a shape error that names return_sequences."""
import numpy as np
import pytest

import numrnn
from numrnn.gradient_check import numerical_gradient, relative_error


def mod3(rng, count=64, steps=6):
    ids = rng.integers(0, 3, (count, steps))
    return np.eye(3)[ids], (ids + 1) % 3


def classifier(dtype="float32", **kwargs):
    numrnn.seed(0)
    return numrnn.Sequential([numrnn.GRU(3, 6, dtype=dtype), numrnn.Dense(6, 3, dtype=dtype)],
                             loss="cross_entropy", optimizer=numrnn.Adam(lr=0.02), **kwargs)


# -- weighted losses: the math, and its gradient ---------------------------------------------------------------------
@pytest.mark.parametrize("name, target", [("mse", "values"), ("cross_entropy", "indices"),
                                          ("cross_entropy", "rows"), ("bce", "bits")])
@pytest.mark.parametrize("with_mask", [False, True])
def test_weighted_loss_is_the_weighted_sum_and_its_gradient_matches_central_differences(name, target, with_mask,
                                                                                        rng):
    output = rng.standard_normal((3, 4, 5))
    y = {"values": rng.standard_normal((3, 4, 5)), "indices": rng.integers(0, 5, (3, 4)),
         "rows": np.eye(5)[rng.integers(0, 5, (3, 4))], "bits": (rng.random((3, 4, 5)) > 0.5) * 1.0}[target]
    weights = rng.uniform(0, 3, (3, 4))
    mask = rng.random((3, 4)) > 0.3 if with_mask else None
    loss = numrnn.get_loss(name)
    weighted = loss.forward(output, y, mask=mask, weights=weights)
    grad = loss.backward()
    kept = np.ones((3, 4), bool) if mask is None else mask
    # the weighted sum, term by term, against the unweighted loss of each position alone
    per_position = np.zeros((3, 4))
    for index in zip(*np.nonzero(kept)):
        one = np.zeros((3, 4), bool)
        one[index] = True
        per_position[index] = numrnn.get_loss(name, reduction="sum").forward(output, y, mask=one)
    count = kept.sum() * (1 if name == "cross_entropy" else 5)
    assert weighted == pytest.approx((weights * per_position)[kept].sum() / count, rel=1e-12)
    numeric = numerical_gradient(lambda: loss.forward(output, y, mask=mask, weights=weights), output)
    assert relative_error(grad, numeric) < 1e-6


def test_weights_are_checked(rng):
    loss = numrnn.get_loss("mse")
    with pytest.raises(ValueError, match=r"weights must have one entry per position, shape \(3,\)"):
        loss.forward(np.zeros((3, 2)), np.zeros((3, 2)), weights=np.ones(4))
    with pytest.raises(ValueError, match="finite and non-negative"):
        loss.forward(np.zeros((3, 2)), np.zeros((3, 2)), weights=np.array([1, -1, 1]))


# -- sample_weight and class_weight through the model ----------------------------------------------------------------
def test_sample_weight_per_sequence_or_per_step_scales_the_loss(rng):
    X, y = mod3(rng, 8)
    model = classifier(dtype="float64")
    plain = model.evaluate(X, y)["loss"]
    assert model.evaluate(X, y, sample_weight=np.full(8, 2.0))["loss"] == pytest.approx(2 * plain, rel=1e-12)
    steps = np.ones((8, 6))
    steps[:, :3] = 0  # only the last three steps count, N still every position
    half = model.evaluate(X, y, sample_weight=steps)["loss"]
    late = numrnn.get_loss("cross_entropy", reduction="sum")
    model.eval()
    output = model.forward(X)
    mask = np.zeros((6, 8), bool)
    mask[3:] = True
    assert half == pytest.approx(late.forward(output, y.T, mask=mask) / 48, rel=1e-12)


def test_class_weight_equals_the_sample_weights_it_stands_for(rng):
    X, y = mod3(rng, 16)
    by_class = classifier(dtype="float64")
    by_hand = classifier(dtype="float64")
    table = {0: 1.0, 1: 3.0, 2: 0.5}
    by_class.fit(X, y, epochs=2, batch_size=8, seed=1, class_weight=table)
    by_hand.fit(X, y, epochs=2, batch_size=8, seed=1, sample_weight=np.vectorize(table.get)(y).astype(float))
    for name, value in by_class.params.items():
        np.testing.assert_array_equal(value, by_hand.params[name])
    regression = numrnn.Sequential([numrnn.RNN(3, 4, return_sequences=False), numrnn.Dense(4, 1)], loss="mse",
                                   optimizer="adam")
    with pytest.raises(ValueError, match="class_weight needs a classification loss"):
        regression.fit(X, rng.standard_normal((16, 1)), class_weight=table)


def test_sample_weight_shape_is_checked(rng):
    X, y = mod3(rng, 8)
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(8,\) or \(8, 6\)"):
        classifier().fit(X, y, sample_weight=np.ones(7))
    with pytest.raises(ValueError, match="sample_weight must hold finite weights >= 0"):
        classifier().fit(X, y, sample_weight=-np.ones(8))


# -- validation_split, metrics, loss names, stopping -----------------------------------------------------------------
def test_validation_split_holds_out_the_last_fraction(rng):
    X, y = mod3(rng, 40)
    model = classifier()
    history = model.fit(X, y, epochs=2, batch_size=8, validation_split=0.25, seed=0)
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(X[30:], y[30:])["loss"], rel=1e-6)
    with pytest.raises(ValueError, match="validation_data or validation_split, not both"):
        classifier().fit(X, y, validation_split=0.2, validation_data=(X, y))
    with pytest.raises(ValueError, match=r"validation_split must be a number in \(0, 1\)"):
        classifier().fit(X, y, validation_split=1.5)


def test_metrics_are_reported_for_training_and_validation(rng):
    X = rng.standard_normal((32, 5, 2))
    y = X.sum(axis=1)
    model = numrnn.Sequential([numrnn.LSTM(2, 8, return_sequences=False), numrnn.Dense(8, 2)], loss="mse",
                              optimizer="adam", metrics=["mae", "mean_squared_error"])
    history = model.fit(X, y, epochs=2, batch_size=8, validation_split=0.25)
    assert set(history.history) == {"loss", "mae", "mse", "val_loss", "val_mae", "val_mse"}
    logs = model.evaluate(X, y)
    prediction = model.predict(X)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(prediction - y)), rel=1e-5)
    assert logs["mse"] == pytest.approx(logs["loss"], rel=1e-5)  # mse metric = the mse loss
    assert numrnn.Sequential.from_config(model.config()).metrics == ["mae", "mse"]
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        model.compile(metrics=["f1"])


@pytest.mark.parametrize("name, targets", [("sparse_categorical_crossentropy", "indices"),
                                           ("categorical_crossentropy", "rows"),
                                           ("binary_crossentropy", "bits"), ("mse", "rows")])
def test_keras_loss_names(name, targets, rng):
    X, ids = mod3(rng, 8)
    y = {"indices": ids, "rows": np.eye(3)[ids], "bits": np.eye(3)[ids]}[targets]
    model = numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 3)], loss=name, optimizer="sgd")
    assert np.isfinite(model.train_on_batch(X, y)["loss"])


def test_a_forgotten_return_sequences_is_named(rng):
    X = rng.standard_normal((8, 5, 2))
    model = numrnn.Sequential([numrnn.LSTM(2, 4), numrnn.Dense(4, 1)], loss="mse", optimizer="adam")
    with pytest.raises(ValueError, match="set return_sequences=False on its last recurrent layer"):
        model.fit(X, rng.standard_normal((8, 1)))
    many_to_one = numrnn.Sequential([numrnn.LSTM(2, 4, return_sequences=False), numrnn.Dense(4, 1)], loss="mse")
    with pytest.raises(ValueError, match="set return_sequences=True on its last recurrent layer"):
        many_to_one.evaluate(X, rng.standard_normal((8, 5, 1)))
