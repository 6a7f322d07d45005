"""What a forecaster must beat: naive, seasonal naive and, where statsmodels is installed, ETS.

Each returns forecasts of `steps` values after each origin, (origins, steps), from rows up to the origin only:

    naive(y, origins, steps)                  y[t + k] = y[t]                   (tomorrow as today)
    seasonal_naive(y, origins, steps, S)      y[t + k] = y[t + k - S ceil(k / S)]   (as one season ago)
    ETS.fit(y[:rows], season).paths(y, origins, steps)

ETS is statsmodels' ETSModel with additive errors, fitted on the rows before the tail being predicted (the last
2,000 of them, which keeps a long series' fit to seconds): no trend,
an additive trend or a damped one, each with an additive season when the season is known and the rows hold two
seasons; the lowest AIC wins (what R's forecast::ets does). Its forecasts come in closed form from the smoothed
states, with the parameters fitted once (the model is not refitted at each origin, as numrnn is not):

    y[t + k] = l_t + (phi + ... + phi^k) b_t + s_{t + k - S ceil(k / S)}

statsmodels fits on one BLAS thread: its products are tiny, and SciPy's own OpenBLAS (not the one numrnn.threads
found at its first use) woke two threads for each, which made ETS 3x slower on a busy 2-core machine.
"""
import warnings

import numpy as np

__all__ = ["naive", "seasonal_naive", "ETS", "statsmodels_available"]


def naive(y, origins, steps):
    y = np.asarray(y, dtype=np.float64)
    return np.repeat(y[np.asarray(origins)][:, None], steps, axis=1)


def seasonal_naive(y, origins, steps, season):
    y = np.asarray(y, dtype=np.float64)
    k = np.arange(1, steps + 1)
    back = season * ((k - 1) // season + 1)
    return y[np.asarray(origins)[:, None] + (k - back)[None, :]]


def statsmodels_available():
    try:
        import statsmodels  # noqa: F401
    except ImportError:
        return False
    return True


class ETS:
    """An exponential smoothing model fitted on the first rows of a series (see the module docstring)."""

    def __init__(self, kind, params, season, offset=0, initialization="estimated"):
        #: (trend None or "add", damped, seasonal); params: statsmodels' fitted parameters by name; offset: the
        #: first row of the fit, where the states start; initialization: statsmodels' initialization_method
        self.kind, self.params, self.season, self.offset = kind, params, season, offset
        self.initialization = initialization

    @property
    def name(self):
        """Hyndman's notation: ETS(error, trend, season), e.g. ETS(A,Ad,A)."""
        trend, damped, seasonal = self.kind
        return f"ETS(A,{'N' if trend is None else 'Ad' if damped else 'A'},{'A' if seasonal else 'N'})"

    @classmethod
    def fit(cls, y, season=None, rows=2000):
        """The kind with the lowest AIC on the last `rows` values of `y`; None when statsmodels is not installed
        or no kind fits."""
        if not statsmodels_available():
            return None
        offset = max(0, len(y) - rows)
        y = np.asarray(y, dtype=np.float64)[offset:]
        kinds = [(None, False, False), ("add", False, False), ("add", True, False)]
        if season and y.size >= 2 * season + 2:
            kinds += [(trend, damped, True) for trend, damped, _ in kinds]
        initialization = "heuristic" if season and season > 12 and y.size >= 2 * season + 2 else "estimated"
        best = None
        for kind in kinds:
            try:
                with warnings.catch_warnings(), _one_thread():
                    warnings.simplefilter("ignore")
                    result = _model(y, kind, season, initialization).fit(disp=False)
            except (ValueError, np.linalg.LinAlgError):
                continue
            if np.isfinite(result.aic) and (best is None or result.aic < best[0]):
                best = (result.aic, kind, dict(zip(result.param_names, np.asarray(result.params))))
        return None if best is None else cls(best[1], best[2], season, offset, initialization)

    def paths(self, y, origins, steps):
        """Forecasts (origins, steps) after each origin, from the states smoothed over `y` (from the fit's first
        row on) with the fitted parameters: a state at row t has seen rows up to t only."""
        y = np.asarray(y, dtype=np.float64)[self.offset:]
        trend, damped, seasonal = self.kind
        with warnings.catch_warnings(), _one_thread():
            warnings.simplefilter("ignore")
            states = np.asarray(_model(y, self.kind, self.season, self.initialization)
                                .smooth(list(self.params.values())).states)
        origins = np.asarray(origins, dtype=np.int64) - self.offset
        k = np.arange(1, steps + 1)
        out = np.repeat(states[origins, 0][:, None], steps, axis=1)
        if trend is not None:
            phi = float(self.params["damping_trend"]) if damped else 1.0
            out += np.cumsum(phi ** k)[None, :] * states[origins, 1][:, None]
        if seasonal:
            back = self.season * ((k - 1) // self.season + 1)
            out += states[origins[:, None] + (k - back)[None, :], -1]
        return out


def _one_thread():
    """One BLAS thread for every BLAS library (statsmodels imported first, so SciPy's is loaded), as numrnn.threads
    does for numrnn's."""
    import statsmodels.tsa.exponential_smoothing.ets  # noqa: F401
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def _model(y, kind, season, initialization="estimated"):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel
    trend, damped, seasonal = kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ETSModel(y, error="add", trend=trend, damped_trend=damped, seasonal="add" if seasonal else None,
                        seasonal_periods=season if seasonal else None, initialization_method=initialization)
