"""Plots of training runs as PNG files, with matplotlib imported only when a plot is made.

    loss_curves(history, path)                   training and validation loss per epoch (log scale)
    gradient_heatmap(norms, path)                epochs x time steps: the gradient reaching each step (log colors)
    predictions(panels, path)                    predicted against true values, one panel per data split
    loss_surface(w_x, w_rec, loss, points, path) contours of the loss over two weights and an optimizer's path
    accuracy_per_step(curves, path)              accuracy at each time step, one line per test set
    forecast(history, future, path)              a series and its forecast (dates, a prediction band)

Each function draws on its own matplotlib Figure (no pyplot, so no global backend or state is touched: the Agg
canvas renders the PNG), writes it through numrnn.io.atomic (a crash leaves no half-written image) and returns
the path written. Without matplotlib they raise ImportError saying how to install it; the rest of numrnn never
needs it.
"""
import os

import numpy as np

from ..io.atomic import atomic_write

__all__ = ["require", "finite", "loss_curves", "gradient_heatmap", "predictions", "loss_surface", "accuracy_per_step",
           "forecast", "INSTALL_HINT"]

INSTALL_HINT = "numrnn's plots need matplotlib: pip install 'numrnn[cli]' (or pip install matplotlib)"
DPI = 100


def require():
    """Import matplotlib (Agg canvas) or raise ImportError with the install command."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return Figure


def _figure(width=7.0, height=4.2, **kwargs):
    Figure = require()
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained", **kwargs)


def _save(figure, path):
    path = os.fspath(path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    FigureCanvasAgg(figure)
    with atomic_write(path, "wb") as stream:
        figure.savefig(stream, dpi=DPI, format="png")  # a stream has no suffix to guess the format from
    return path


def loss_curves(history, path, title="Loss per epoch"):
    """history: a numrnn History or its .history dict, with "loss" and optionally "val_loss". Values that are not
    finite (None, NaN, infinity) leave gaps; a history without any epoch gives a plot that says so."""
    logs = getattr(history, "history", history)
    figure = _figure()
    axes = figure.add_subplot()
    curves = {key: finite(logs.get(key, [])) for key in ("loss", "val_loss")}
    epochs = np.arange(1, max(len(values) for values in curves.values()) + 1)
    positive = any(np.isfinite(values).any() for values in curves.values())
    for key, label, style in (("loss", "training", "-"), ("val_loss", "validation", "--")):
        values = curves[key]
        if values.size:
            axes.plot(epochs[:values.size], values, style, label=label, linewidth=1.6)
            positive &= bool(np.all(values[np.isfinite(values)] > 0))
    if positive:
        axes.set_yscale("log")
    if not any(np.isfinite(values).any() for values in curves.values()):
        axes.text(0.5, 0.5, "no finite loss recorded\n(no epoch ended, or training diverged)", ha="center",
                  va="center", transform=axes.transAxes)
    else:
        axes.legend()
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss" + (" (log scale)" if positive else ""))
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    return _save(figure, path)


def finite(values):
    """float64 values with None, NaN and infinities as NaN (a gap in a line)."""
    array = np.asarray([np.nan if v is None else v for v in np.asarray(values, dtype=object).reshape(-1)],
                       dtype=np.float64)
    array[~np.isfinite(array)] = np.nan
    return array


def gradient_heatmap(norms, path, title="Gradient norm reaching each time step"):
    """norms (epochs, T): ||dL/dz_t||, the gradient at the pre-activations of step t, averaged over an epoch.

    Left: the norms themselves (log colors). Right: each epoch divided by its largest step, which shows how the
    gradient shrinks (vanishes) or grows (explodes) as it travels back from the last steps to the first. Zeros,
    the steps a truncated BPTT never reaches, are grey.
    """
    norms = np.asarray(norms, dtype=np.float64)
    if norms.ndim != 2 or norms.size == 0:
        raise ValueError(f"norms must be a non-empty (epochs, time steps) matrix, got shape {norms.shape}")
    norms = np.where(np.isfinite(norms), norms, 0.0)  # an overflowed norm is no color: grey, as a zero
    figure = _figure(10.0, 4.4)
    from matplotlib.colors import LogNorm

    left, right = figure.subplots(1, 2)
    largest = norms.max(axis=1, keepdims=True)
    relative = np.divide(norms, largest, out=np.zeros_like(norms), where=largest > 0)
    panels = ((left, norms, "gradient norm", "||dL/dz_t|| (mean over the epoch's batches)"),
              (right, relative, "relative to the epoch's largest", "norm / largest norm in the epoch"))
    steps, epochs = norms.shape[1], norms.shape[0]
    for axes, values, subtitle, label in panels:
        masked = np.ma.masked_less_equal(values, 0.0)
        if masked.count() == 0:
            masked = np.ma.masked_array(np.ones_like(values), mask=True)
            norm = LogNorm(vmin=1e-12, vmax=1.0)
            axes.text(0.5, 0.5, "no gradient reached\nthe recurrent layer", ha="center", va="center",
                      transform=axes.transAxes)
        else:
            high = float(masked.max())
            low = max(float(masked.min()), high * 1e-12)
            norm = LogNorm(vmin=low, vmax=high if high > low else low * 10)
        colormap = _colormap("viridis").with_extremes(bad="#bbbbbb")
        image = axes.pcolormesh(np.arange(steps + 1) - 0.5, np.arange(epochs + 1) + 0.5, masked, cmap=colormap,
                                norm=norm, shading="flat")
        figure.colorbar(image, ax=axes, label=label + " (log)")
        axes.set_xlabel("time step t (0 = first input)")
        if epochs >= 200:  # long runs: a log axis keeps the first epochs, where most changes, visible
            axes.set_yscale("log")
            axes.set_ylabel("epoch (log scale)")
        else:
            axes.set_ylabel("epoch")
        axes.set_title(subtitle)
    if np.any(norms == 0):
        title += "\ngrey: exactly zero gradient (steps beyond the truncation, or saturated units)"
    figure.suptitle(title)
    return _save(figure, path)


def _colormap(name):
    from matplotlib import colormaps
    return colormaps[name].copy()


def predictions(panels, path, title="Predictions against the true values", xlabel="x of the predicted value"):
    """panels: {name: (x, true, predicted)} with x the position of each value (None: 0, 1, ...)."""
    figure = _figure(7.0, 2.4 * len(panels) + 0.6)
    axes_list = figure.subplots(len(panels), 1, squeeze=False)[:, 0]
    for axes, (name, (x, true, predicted)) in zip(axes_list, panels.items()):
        true = finite(true)
        predicted = finite(predicted)
        x = np.arange(true.size) if x is None else np.asarray(x).reshape(-1)
        with np.errstate(over="ignore"):
            rmse = float(np.sqrt(np.mean((true - predicted) ** 2)))
        axes.plot(x, predicted, "-", color="tab:green", linewidth=1.2, label="predicted")
        axes.plot(x, true, "o", color="tab:red", markersize=3, fillstyle="none", label="true")
        axes.set_title(f"{name}: RMSE {rmse:.3g}", fontsize=10)
        axes.set_ylabel("value")
        axes.grid(True, alpha=0.3)
        axes.legend(loc="upper right", fontsize=8)
    axes_list[-1].set_xlabel(xlabel)
    if np.issubdtype(np.asarray(x).dtype, np.datetime64):
        figure.autofmt_xdate()
    figure.suptitle(title)
    return _save(figure, path)


def loss_surface(w_x, w_rec, loss, points, path, title="Loss surface and the optimizer's path"):
    """loss[i, j] at (w_x[j], w_rec[i]); points: the (w_x, w_rec) after each step, the first being the start."""
    loss = finite(loss).reshape(np.shape(loss))
    points = np.asarray(points, dtype=np.float64)
    figure = _figure(6.4, 5.2)
    axes = figure.add_subplot()
    positive = loss[loss > 0]
    floor = max(float(positive.min()), 1e-8) if positive.size else 1e-8
    ceiling = float(positive.max()) if positive.size else 1.0
    log_loss = np.log10(np.clip(np.where(np.isnan(loss), ceiling, loss), floor, ceiling))  # overflow: the highest
    contour = axes.contourf(w_x, w_rec, log_loss, levels=24, cmap="viridis")
    axes.contour(w_x, w_rec, log_loss, levels=contour.levels[::3], colors="black", linewidths=0.4, alpha=0.5)
    figure.colorbar(contour, ax=axes, label="log10 of the mean squared error")
    axes.plot(points[:, 0], points[:, 1], ".-", color="tab:orange", linewidth=1.1, markersize=3,
              label=f"path ({len(points) - 1} steps)")
    axes.plot(*points[0], "o", color="tab:red", markersize=7, label=f"start ({points[0, 0]:.3g}, {points[0, 1]:.3g})")
    axes.plot(*points[-1], "*", color="yellow", markeredgecolor="black", markersize=13,
              label=f"end ({points[-1, 0]:.6g}, {points[-1, 1]:.6g})")
    axes.plot(1, 1, "x", color="black", markersize=9, label="exact counter (1, 1)")
    axes.set_xlim(w_x[0], w_x[-1])
    axes.set_ylim(w_rec[0], w_rec[-1])
    axes.set_xlabel("w_x  (weight_ih_l0)")
    axes.set_ylabel("w_rec  (weight_hh_l0)")
    axes.set_title(title)
    axes.legend(loc="best", fontsize=8, framealpha=0.85)
    return _save(figure, path)


def accuracy_per_step(curves, path, title="Accuracy at each time step"):
    """curves: {label: accuracies per step}."""
    figure = _figure()
    axes = figure.add_subplot()
    markers = "os^Dv"
    for index, (label, values) in enumerate(curves.items()):
        values = 100 * finite(values)
        mean = np.nanmean(values) if np.isfinite(values).any() else np.nan
        axes.plot(np.arange(values.size), values, marker=markers[index % len(markers)], markersize=3.5,
                  linewidth=1.3, label=f"{label} (mean {mean:.2f}%)")
    axes.set_xlabel("time step t")
    axes.set_ylabel("accuracy (%)")
    axes.set_ylim(-2, 102)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="lower left", fontsize=9)
    return _save(figure, path)


def forecast(history, future, path, title="Series and forecast", label="value", shown=None, x=None, future_x=None,
             lower=None, upper=None, band="interval"):
    """The series (its last `shown` values, all if None) and the forecast that continues it.

    x, future_x: the positions of the history's and the forecast's values (dates as numpy datetime64, or numbers;
    None: row numbers); lower, upper: a prediction interval around the forecast, drawn as a band named `band`.
    """
    history = np.asarray(history, dtype=np.float64).reshape(-1)
    future = np.asarray(future, dtype=np.float64).reshape(-1)
    x = np.arange(history.size) if x is None else np.asarray(x)
    future_x = np.arange(history.size, history.size + future.size) if future_x is None else np.asarray(future_x)
    start = 0 if shown is None else max(0, history.size - shown)
    figure = _figure(8.0, 4.0)
    axes = figure.add_subplot()
    axes.plot(x[start:], history[start:], "-", color="tab:blue", linewidth=1.4, label="data")
    if lower is not None and upper is not None:
        axes.fill_between(future_x, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64),
                          color="tab:orange", alpha=0.25, linewidth=0, label=band)
    axes.plot(future_x, future, "-o", color="tab:orange", markersize=3, linewidth=1.4,
              label=f"forecast ({future.size} steps)")
    if history.size:
        axes.axvline(x[-1], color="gray", linestyle=":", linewidth=1)
    dated = np.issubdtype(np.asarray(future_x).dtype, np.datetime64)
    axes.set_xlabel("date" if dated else "row")
    if dated:
        figure.autofmt_xdate()
    axes.set_ylabel(label)
    axes.set_title(title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="best")
    return _save(figure, path)
