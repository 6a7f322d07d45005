"""The CSV forecaster as a task of numrnn.apps.runs: its summary line, its target and its plots."""
import os

import numpy as np

from .. import plots
from ..tasks.base import Task

__all__ = ["CsvTask", "CSV_TASK"]


class CsvTask(Task):
    """What a forecaster's run reports: the backtest's one-step RMSE against the best baseline."""

    name = "csv"
    title = "forecast a column of your CSV file"
    target = "one-step RMSE on the test tail below naive, seasonal naive and ETS"

    def target_met(self, metrics):
        return bool(metrics["beats_baselines"])

    def describe(self, metrics):
        text = f"{metrics['part']} RMSE {metrics['rmse']:.4g} one step ahead"
        if "multi_step_rmse" in metrics:
            text += f", {metrics['multi_step_rmse']:.4g} over 1 to {metrics['steps']} steps"
        return text + f" (best baseline, {metrics['best_baseline']}: {metrics['best_baseline_rmse']:.4g})"

    def label(self, run):
        return f"column {run.settings['target']!r}"

    def plots(self, run, out):
        """loss.png, gradient_heatmap.png (the gradient reaching each step of the window) and predictions.png: the
        one-step forecasts of the tail against the values, dated."""
        files = [plots.loss_curves(run.history, os.path.join(out, "loss.png"),
                                   title=f"Loss per epoch ({self.label(run)}; scaled values)")]
        if run.step_gradients.size:
            files.append(plots.gradient_heatmap(run.step_gradients, os.path.join(out, "gradient_heatmap.png"),
                                                title=f"Gradient reaching each step of the window ({self.label(run)}, "
                                                      f"{run.settings['cell']})"))
        settings, series, table = run.settings, run.data["series"], run.data["table"]
        x = _axis(series, np.arange(table.start, len(series)))
        part = "test tail" if run.metrics["part"] == "test" else "validation part"
        panels = {f"{part}, one step ahead": (x, series.y[table.start:], table.forecasts)}
        files.append(plots.predictions(panels, os.path.join(out, "predictions.png"),
                                       title=f"{settings['target']!r}: numrnn's forecasts ({settings['cell']}, "
                                             f"window {settings['window']})",
                                       xlabel="date" if series.dates is not None else "row"))
        return files


def _axis(series, rows):
    """The x values of rows: their dates (numpy datetime64), or the row numbers."""
    if series.dates is None:
        return rows
    return series.dates[rows].to_numpy()


CSV_TASK = CsvTask()
