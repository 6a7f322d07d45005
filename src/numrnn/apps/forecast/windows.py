"""Windows: the examples a forecaster trains on, and the forecasts it makes from any row of a series.

An origin t is the last row a forecast may see. Its input is the window of w rows t-w+1 .. t: every column's z
(numrnn.apps.forecast.features), then the calendar's two inputs when there is a season. Its targets are the next
K values of the target, k = 1 .. K:

    Y_k = z_0[t+k]                                      the target not differenced: the scaled value
    Y_k = z_0[t+1] + ... + z_0[t+k]                     differenced: the scaled change since row t
        = (y[t+k] - y[t] - k m_0) / s_0

and `to_values` inverts them: y[t+k] = s_0 Y_k + m_0, or y[t] + s_0 Y_k + k m_0. A forecast longer than K feeds
its predictions back as the newest inputs, K at a time (only for a target without features: their future is
unknown); every origin's forecast runs at once, one predict call per K steps.
"""
import numpy as np

from .features import calendar_inputs

__all__ = ["Framing", "to_values"]


class Framing:
    """How a forecaster frames a series: its Transform, window w, horizon K and season (None: no calendar)."""

    def __init__(self, transform, window, horizon, season=None):
        self.transform, self.window, self.horizon, self.season = transform, int(window), int(horizon), season

    @property
    def first_origin(self):
        """The first row that can end a window: w - 1, or w when a column is differenced."""
        return self.window - 1 + self.transform.lost_rows

    def inputs_size(self, columns):
        return columns + (2 if self.season else 0)

    def examples(self, values, phase, origins):
        """X (m, w, inputs) and Y (m, K) for the origins (each origin's K targets must exist)."""
        origins = np.asarray(origins, dtype=np.int64)
        z = self.transform.scaled(values)
        rows = origins[:, None] + np.arange(-self.window + 1, 1)[None, :]
        X = self._with_calendar(z[rows], phase, rows)
        ahead = origins[:, None] + np.arange(1, self.horizon + 1)[None, :]
        target = z[:, 0]
        Y = np.cumsum(target[ahead], axis=1) if self.transform.difference[0] else target[ahead]
        return X, Y

    def _with_calendar(self, X, phase, rows):
        if not self.season:
            return X
        return np.concatenate([X, calendar_inputs(np.asarray(phase)[rows], self.season)], axis=-1)

    def paths(self, model, values, phase, origins, steps):
        """Forecasts of `steps` values after each origin, (m, steps) in the target's units, from rows up to the
        origin only. phase: the phase of every row, and of `steps` rows past the last (None without a season)."""
        values = np.asarray(values, dtype=np.float64)
        origins = np.asarray(origins, dtype=np.int64)
        columns, K = values.shape[1], self.horizon
        if steps > K and columns > 1:
            raise ValueError(f"a forecaster with features forecasts at most its horizon ({K} steps): the features' "
                             f"future values are unknown; train it with --horizon {steps}, or ask for fewer steps")
        if columns > 1:
            X, _ = self.examples(np.vstack([values, np.full((K, columns), np.nan)]), phase, origins)
            Y = model.predict(X.astype(model.dtype)).reshape(origins.size, K)
            return to_values(Y, values[origins, 0], self.transform)[:, :steps]
        span = self.window + self.transform.lost_rows
        history = values[origins[:, None] + np.arange(-span + 1, 1)[None, :], 0]
        done = 0
        while done < steps:
            z = self.transform.scaled_target(history[:, -span:])[:, :, None]
            rows = origins[:, None] + done + np.arange(-self.window + 1, 1)[None, :]
            X = self._with_calendar(z, phase, rows)
            Y = model.predict(X.astype(model.dtype)).reshape(origins.size, K)
            history = np.concatenate([history, to_values(Y, history[:, -1], self.transform)], axis=1)
            done += K
        return history[:, span:span + steps]


def to_values(Y, last, transform):
    """Predicted Y (m, K) back in the target's units; last: the target at each origin (m,)."""
    mean, std = transform.mean[0], transform.std[0]
    Y = np.asarray(Y, dtype=np.float64)
    if transform.difference[0]:
        k = np.arange(1, Y.shape[1] + 1)[None, :]
        return np.asarray(last, dtype=np.float64)[:, None] + std * Y + k * mean
    return std * Y + mean
