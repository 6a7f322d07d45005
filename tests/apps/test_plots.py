"""numrnn.apps.plots: every plot writes a non-empty PNG, leaves pyplot's global state alone, and a missing matplotlib
gives an ImportError that says how to install it."""
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from numrnn.apps import plots  # noqa: E402
from numrnn.apps.tasks import TASKS  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, max_bytes=300_000):
    data = open(path, "rb").read()
    assert data[:8] == PNG_SIGNATURE
    assert 5_000 < len(data) < max_bytes  # something was drawn, and small enough for the docs


def test_loss_curves(tmp_path):
    history = {"loss": list(np.geomspace(1, 1e-3, 20)), "val_loss": list(np.geomspace(2, 2e-3, 20))}
    assert_png(plots.loss_curves(history, tmp_path / "loss.png"))


def test_loss_curves_with_a_non_positive_loss_use_a_linear_axis(tmp_path):
    assert_png(plots.loss_curves({"loss": [1.0, 0.0, -0.5]}, tmp_path / "loss.png"))


def test_gradient_heatmap_with_zeros_from_truncation(tmp_path):
    norms = np.geomspace(1e-6, 1, 12)[None, :] * np.linspace(1, 2, 30)[:, None]
    norms[:, :5] = 0.0  # steps a truncated BPTT never reaches
    assert_png(plots.gradient_heatmap(norms, tmp_path / "heat.png"))


def test_gradient_heatmap_of_many_epochs_and_all_zero(tmp_path):
    assert_png(plots.gradient_heatmap(np.random.default_rng(0).random((500, 10)), tmp_path / "long.png"))
    assert_png(plots.gradient_heatmap(np.zeros((4, 6)), tmp_path / "zero.png"))


def test_gradient_heatmap_rejects_a_non_matrix(tmp_path):
    with pytest.raises(ValueError, match="epochs, time steps"):
        plots.gradient_heatmap(np.ones(5), tmp_path / "bad.png")


def test_predictions(tmp_path):
    x = np.arange(60)
    panels = {"training": (x, np.sin(x), np.sin(x) + 0.01), "test": (None, np.cos(x), np.cos(x))}
    assert_png(plots.predictions(panels, tmp_path / "pred.png"))


def test_loss_surface_of_the_count_task(tmp_path):
    X = np.random.default_rng(0).integers(0, 2, (20, 10, 1)).astype(float)
    y = X.sum(axis=1)
    path = [(-1.5, 2.0), (-1.0, 1.5), (0.5, 1.1), (1.0, 1.0)]
    w_x, w_rec, loss = TASKS.get("count").loss_surface(X, y, path, size=41)
    assert loss.shape == (41, 41)
    i, j = np.argmin(np.abs(w_rec - 1.0)), np.argmin(np.abs(w_x - 1.0))
    assert loss[i, j] == pytest.approx(0.0, abs=0.05 * loss.mean())  # the minimum is at (1, 1)
    assert_png(plots.loss_surface(w_x, w_rec, loss, path, tmp_path / "surface.png"))


def test_accuracy_per_step(tmp_path):
    curves = {"T = 10": np.ones(10), "T = 50": np.linspace(0.5, 1, 50)}
    assert_png(plots.accuracy_per_step(curves, tmp_path / "acc.png"))


def test_forecast(tmp_path):
    assert_png(plots.forecast(np.sin(np.arange(200) / 5), np.sin(np.arange(200, 230) / 5), tmp_path / "fc.png",
                              shown=100))


def test_forecast_with_dates_and_a_band(tmp_path):
    """The forecaster's plot: a date axis (numpy datetime64), the history, the forecast and its interval."""
    dates = np.arange("2000-01", "2010-01", dtype="datetime64[M]").astype("datetime64[D]")
    future = np.arange("2010-01", "2011-01", dtype="datetime64[M]").astype("datetime64[D]")
    values = np.sin(np.arange(dates.size) / 3)
    ahead = np.sin(np.arange(dates.size, dates.size + 12) / 3)
    path = plots.forecast(values, ahead, tmp_path / "fc.png", x=dates, future_x=future, lower=ahead - 0.2,
                          upper=ahead + 0.2, band="90% interval", shown=48)
    assert_png(path)


def test_plots_do_not_touch_pyplot(tmp_path):
    plots.loss_curves({"loss": [1.0, 0.5]}, tmp_path / "loss.png")
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or not pyplot.get_fignums()


def test_missing_matplotlib_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'numrnn\[cli\]'"):
        plots.loss_curves({"loss": [1.0]}, tmp_path / "loss.png")


def test_importing_numrnn_does_not_import_matplotlib():
    import subprocess

    code = ("import sys, numrnn, numrnn.cli.main, numrnn.apps.tasks, numrnn.apps.runs, numrnn.apps.forecast, "
            "numrnn.apps.gradcheck, numrnn.apps.charlm, numrnn.data; print('matplotlib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"PYTHONPATH": ":".join(sys.path), "PATH": ""}, timeout=60)
    assert result.stdout.strip() == "False", result.stderr


def test_a_plot_that_fails_midway_leaves_no_file(tmp_path, monkeypatch):
    """PNGs are written through numrnn.io.atomic: a failure while drawing leaves neither the file nor a
    temporary one."""
    from matplotlib.figure import Figure

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.loss_curves({"loss": [1.0, 0.5]}, tmp_path / "loss.png")
    assert list(tmp_path.iterdir()) == []


# -- a run that diverged or never ended an epoch: NaN, infinities, None and nothing at all ----------------------------
@pytest.mark.parametrize("history", [{}, {"loss": []}, {"loss": [None, float("nan")], "val_loss": [float("inf")]},
                                     {"loss": [1.0, 1e30, float("inf")], "val_loss": [2.0, None, float("nan")]}])
def test_loss_curves_of_empty_or_non_finite_histories(tmp_path, history):
    assert_png(plots.loss_curves(history, tmp_path / "loss.png"))


def test_non_finite_values_in_the_other_plots(tmp_path):
    norms = np.array([[1.0, np.inf, 2.0], [np.nan, 1e300, 0.0]])
    assert_png(plots.gradient_heatmap(norms, tmp_path / "heat.png"))
    x = np.arange(5)
    assert_png(plots.predictions({"test": (x, x * 1.0, [0.0, np.nan, np.inf, -np.inf, 1e300])}, tmp_path / "p.png"))
    assert_png(plots.accuracy_per_step({"all NaN": [np.nan] * 4, "some": [1.0, np.nan, 0.5, 1.0]},
                                       tmp_path / "acc.png"))
    grid = np.linspace(-1, 2, 5)
    loss = np.full((5, 5), np.inf)
    loss[2, 2] = 0.5
    assert_png(plots.loss_surface(grid, grid, loss, [(0.0, 0.0), (1e30, -1e30)], tmp_path / "surface.png"))
