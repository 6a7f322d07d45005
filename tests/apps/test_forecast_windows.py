"""numrnn.apps.forecast.features and windows: differencing and scaling fitted on the training rows only, the
calendar's phases, the examples a forecaster trains on and the forecasts it makes from any row (direct and fed
back), inverted to the data's units exactly."""
import numpy as np
import pytest

from numrnn.apps.forecast.features import Transform, calendar_inputs, phases
from numrnn.apps.forecast.windows import Framing, to_values


class Constant:
    """A stand-in network: every window predicts the same scaled values (and the calls are counted)."""

    dtype = np.float64

    def __init__(self, outputs):
        self.outputs, self.calls = np.asarray(outputs, dtype=np.float64), []

    def predict(self, X):
        self.calls.append(X.copy())
        return np.repeat(self.outputs[None, :], X.shape[0], axis=0)


def test_scaling_is_fitted_on_the_training_rows_only():
    values = np.concatenate([np.arange(10.0), 1000 + np.arange(10.0)])[:, None]
    levels = Transform.fit(values, 10, [False])
    assert levels.mean[0] == pytest.approx(4.5) and levels.std[0] == pytest.approx(np.arange(10.0).std())
    changes = Transform.fit(values, 10, [True])
    assert changes.mean[0] == pytest.approx(1.0) and changes.std[0] == 1.0  # constant steps: not scaled


def test_differenced_targets_are_the_change_since_the_origin_and_invert_exactly():
    rng = np.random.default_rng(0)
    values = np.cumsum(rng.normal(1.0, 2.0, 60))[:, None]
    framing = Framing(Transform.fit(values, 40, [True]), window=5, horizon=3)
    origins = np.arange(framing.first_origin, 56)
    X, Y = framing.examples(values, None, origins)
    assert X.shape == (origins.size, 5, 1) and Y.shape == (origins.size, 3)
    assert framing.first_origin == 5 and np.all(np.isfinite(X))
    np.testing.assert_allclose(to_values(Y, values[origins, 0], framing.transform),
                               values[origins[:, None] + np.arange(1, 4), 0], rtol=1e-12)


def test_level_targets_invert_exactly():
    values = np.sin(np.arange(40.0))[:, None] * 3 + 7
    framing = Framing(Transform.fit(values, 30, [False]), window=4, horizon=2)
    origins = np.arange(framing.first_origin, 38)
    _, Y = framing.examples(values, None, origins)
    assert framing.first_origin == 3
    np.testing.assert_allclose(to_values(Y, values[origins, 0], framing.transform),
                               values[origins[:, None] + np.arange(1, 3), 0], rtol=1e-12)


def test_a_forecast_past_the_horizon_feeds_its_predictions_back():
    """A network that always predicts a scaled change of 0 forecasts the training drift, step after step, and
    the second call reads the first call's forecast as its newest input."""
    values = (2.0 * np.arange(30.0) + np.random.default_rng(1).normal(0, 0.1, 30))[:, None]
    transform = Transform.fit(values, 20, [True])
    model = Constant([0.0])
    framing = Framing(transform, window=4, horizon=1)
    paths = framing.paths(model, values, None, [25, 29], steps=3)
    drift = transform.mean[0]
    np.testing.assert_allclose(paths, values[[25, 29], 0][:, None] + drift * np.arange(1, 4), rtol=1e-12)
    assert len(model.calls) == 3
    expected = (np.diff(np.append(values[22:26, 0], [paths[0, 0]])) - drift) / transform.std[0]
    np.testing.assert_allclose(model.calls[1][0, :, 0], expected[-4:], rtol=1e-12)


def test_a_direct_horizon_predicts_k_values_per_call():
    values = np.arange(50.0)[:, None]
    model = Constant([0.0, 0.0, 0.0])
    framing = Framing(Transform.fit(values, 30, [False]), window=6, horizon=3)
    paths = framing.paths(model, values, None, [10], steps=7)
    assert len(model.calls) == 3 and paths.shape == (1, 7)
    np.testing.assert_allclose(paths, framing.transform.mean[0])


def test_features_forecast_at_most_their_horizon():
    values = np.stack([np.arange(40.0), np.ones(40)], axis=1)
    framing = Framing(Transform.fit(values, 30, [True, False]), window=4, horizon=2)
    assert framing.paths(Constant([0.0, 0.0]), values, None, [35], steps=2).shape == (1, 2)
    with pytest.raises(ValueError, match="at most its horizon .2 steps.*--horizon 5"):
        framing.paths(Constant([0.0, 0.0]), values, None, [35], steps=5)


def test_the_calendar_inputs_follow_the_dates():
    pd = pytest.importorskip("pandas")
    dates = pd.date_range("2021-11-01", periods=5, freq="MS")
    np.testing.assert_array_equal(phases(dates, "MS", 12), [10, 11, 0, 1, 2])
    quarters = pd.date_range("2021-07-01", periods=3, freq="QS")
    np.testing.assert_array_equal(phases(quarters, "QS-JAN", 4), [2, 3, 0])
    hours = pd.date_range("2021-01-01 22:00", periods=3, freq="h")
    np.testing.assert_array_equal(phases(hours, "h", 24), [22, 23, 0])
    np.testing.assert_array_equal(phases(None, None, 3, count=5), [0, 1, 2, 0, 1])
    np.testing.assert_allclose(calendar_inputs([0, 3], 12), [[0, 1], [1, 0]], atol=1e-12)


def test_a_season_adds_two_inputs_to_every_step():
    values = np.arange(40.0)[:, None]
    framing = Framing(Transform.fit(values, 30, [True]), window=5, horizon=1, season=4)
    X, _ = framing.examples(values, np.arange(41) % 4, [10])
    assert framing.inputs_size(1) == 3 and X.shape == (1, 5, 3)
    np.testing.assert_allclose(X[0, :, 1:], calendar_inputs(np.arange(6, 11) % 4, 4))
