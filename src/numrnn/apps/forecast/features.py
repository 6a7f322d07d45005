"""What the network reads besides the data's own columns, and how those columns are transformed.

For each column j (the target is column 0), with d_j its differencing flag and (m_j, s_j) the mean and standard
deviation of the transformed values of the training rows only:

    u_j[t] = v_j[t] - v_j[t-1] if d_j else v_j[t]           differencing removes a trend
    z_j[t] = (u_j[t] - m_j) / s_j                           scaling

With a season of S steps (12 for monthly data), two more inputs say where in the season row t lies, from its
date (the month, the quarter, the day of the week, the hour ...; the row number without dates):

    sin(2 pi p_t / S),  cos(2 pi p_t / S)                   p_t = the phase of row t, 0 .. S - 1

The future's phases are known, so a forecast can run past the rows of the file; the future of a user's feature is
not, which is why only a target without features is forecast recursively (numrnn.apps.forecast.windows).
"""
import numpy as np

__all__ = ["Transform", "phases", "calendar_inputs"]


class Transform:
    """The per-column differencing flags and scaling, fitted on the first `n_train` rows."""

    def __init__(self, difference, mean, std):
        self.difference = [bool(d) for d in difference]
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)

    @classmethod
    def fit(cls, values, n_train, difference):
        part = np.asarray(values, dtype=np.float64)[:n_train]
        means, stds = [], []
        for j, flag in enumerate(difference):
            u = np.diff(part[:, j]) if flag else part[:, j]
            mean, std = float(u.mean()), float(u.std())
            means.append(mean)
            stds.append(std if std > 1e-12 * max(1.0, abs(mean)) else 1.0)  # a constant: nothing to scale
        return cls(difference, means, stds)

    @property
    def differenced(self):
        return any(self.difference)

    @property
    def lost_rows(self):
        """Rows at the start without a transformed value (1 when a column is differenced)."""
        return int(self.differenced)

    def scaled(self, values):
        """z of every row, (n, columns); NaN where a difference has no previous row."""
        values = np.asarray(values, dtype=np.float64)
        u = values.copy()
        for j, flag in enumerate(self.difference):
            if flag:
                u[0, j] = np.nan
                u[1:, j] = np.diff(values[:, j])
        return (u - self.mean) / self.std

    def scaled_target(self, history):
        """z of the target for each row of `history` (m, L) of target values: (m, L - lost_rows)."""
        u = np.diff(history, axis=1) if self.difference[0] else history[:, self.lost_rows:]
        return (u - self.mean[0]) / self.std[0]

    def config(self):
        return {"difference": self.difference, "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_config(cls, config):
        return cls(config["difference"], config["mean"], config["std"])


def phases(dates, freq, season, count=None):
    """The phase in the season, 0 .. season - 1, of each date (or of rows 0 .. count - 1 without dates)."""
    if dates is None or freq is None:
        return np.arange(count if count is not None else 0) % season
    from .series import require_pandas
    pd = require_pandas()
    offset = pd.tseries.frequencies.to_offset(freq)
    code = offset.rule_code.split("-")[0]
    months = np.asarray(dates.year, dtype=np.int64) * 12 + np.asarray(dates.month, dtype=np.int64) - 1
    if code in ("MS", "ME", "M", "BMS", "BME", "BM"):
        steps = months // offset.n
    elif code.startswith(("Q", "BQ")):
        steps = months // (3 * offset.n)
    elif code in ("SMS", "SME"):
        steps = months * 2 + (np.asarray(dates.day) >= 15)
    elif code == "W":
        steps = (np.asarray(dates.dayofyear, dtype=np.int64) - 1) // 7
    elif code == "B":
        steps = np.asarray(dates.dayofweek, dtype=np.int64)
    else:  # fixed-length steps: days, hours, minutes, seconds
        steps = np.asarray((dates - pd.Timestamp(0)) // pd.Timedelta(offset), dtype=np.int64)
    return np.asarray(steps, dtype=np.int64) % season


def calendar_inputs(phase, season):
    """(n, 2): sin and cos of each phase."""
    angle = 2 * np.pi * np.asarray(phase, dtype=np.float64) / season
    return np.stack([np.sin(angle), np.cos(angle)], axis=-1)
