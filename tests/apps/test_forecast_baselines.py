"""numrnn.apps.forecast.baselines: naive and seasonal naive by their definitions, and ETS's closed-form forecasts
from every origin equal to statsmodels' own forecast from the data up to that origin."""
import warnings

import numpy as np
import pytest

from numrnn.apps.forecast.baselines import ETS, naive, seasonal_naive


def test_naive_repeats_the_last_value():
    y = np.array([1.0, 4.0, 2.0, 8.0])
    np.testing.assert_array_equal(naive(y, [1, 3], 2), [[4, 4], [8, 8]])


def test_seasonal_naive_repeats_the_last_season():
    y = np.arange(10.0)
    np.testing.assert_array_equal(seasonal_naive(y, [5], 5, season=3), [[3, 4, 5, 3, 4]])


@pytest.mark.parametrize("kind", [(None, False, False), ("add", True, False), ("add", False, True)])
def test_ets_forecasts_from_every_origin_equal_statsmodels(kind):
    pytest.importorskip("statsmodels")
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rng = np.random.default_rng(0)
    t = np.arange(120)
    y = 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, t.size)
    trend, damped, seasonal = kind
    options = dict(error="add", trend=trend, damped_trend=damped, seasonal="add" if seasonal else None,
                   seasonal_periods=12 if seasonal else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ETSModel(y[:90], **options).fit(disp=False)
        model = ETS(kind, dict(zip(fitted.param_names, fitted.params)), 12)
        paths = model.paths(y, [95, 104], 6)
        for row, origin in enumerate((95, 104)):
            own = ETSModel(y[:origin + 1], **options).smooth(fitted.params).forecast(6)
            np.testing.assert_allclose(paths[row], np.asarray(own), rtol=1e-9)


def test_ets_picks_a_seasonal_kind_for_a_seasonal_series_by_aic():
    pytest.importorskip("statsmodels")
    t = np.arange(96)
    y = 5 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(1).normal(0, 0.2, t.size)
    model = ETS.fit(y, season=12)
    assert model.kind[2] and model.name.endswith(",A)")
    assert ETS.fit(y[:20], season=12).kind[2] is False  # fewer than two seasons and two rows: no season
