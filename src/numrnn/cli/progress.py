"""Progress bars for the command line, as numrnn.callbacks.Callback objects handed to the applications.

    Progress        fit's batches (the tasks, the CSV forecaster): the epoch's running loss and the last validation
    TextProgress    the character model's steps, or the seconds of its time budget, with the smoothed loss

Both draw a tqdm bar on stderr; without tqdm, Progress prints a line about ten times per run and TextProgress
prints nothing but the trainer's own lines.
"""
import sys

from ..callbacks import Callback

__all__ = ["Progress", "TextProgress"]


def _tqdm():
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress(Callback):
    """A fit callback: a tqdm bar over the training batches showing the epoch's running loss and the last
    validation loss; without tqdm, plain lines on stderr about ten times per run."""

    def __init__(self, quiet=False, stream=None):
        self.quiet, self.stream = quiet, stream or sys.stderr
        self.epochs = self.batches = None
        self.bar = None
        self.epoch, self.loss_sum, self.loss_count, self.shown = 0, 0.0, 0, {}

    def set_params(self, params):
        """fit's {"epochs": ..., "steps": batches per epoch, ...}."""
        super().set_params(params)
        self.epochs, self.batches = params.get("epochs"), params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self.loss_sum, self.loss_count = 0.0, 0
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        self.loss_sum += logs["loss"]
        self.loss_count += 1
        if self.quiet:
            return
        if self.bar is None:
            self.bar = self._make_bar()
        if self.bar:
            self.bar.set_postfix_str(self._postfix(), refresh=False)
            self.bar.update(1)

    def _postfix(self):
        text = f"epoch {self.epoch + 1}/{self.epochs or '?'} loss {self.loss_sum / max(self.loss_count, 1):.4g}"
        return text + "".join(f" {key} {value}" for key, value in self.shown.items())

    def on_epoch_end(self, epoch, logs=None):
        self.shown = {key: f"{logs[key]:.4g}" for key in ("val_loss", "val_accuracy") if logs.get(key) is not None}
        if self.quiet or self.bar:
            return
        total = self.epochs or 0
        every = max(1, total // 10) if total else 1
        if (epoch + 1) % every == 0 or epoch == 0 or epoch + 1 == total:
            text = " ".join(f"{k} {v}" for k, v in {"loss": f"{logs['loss']:.4g}", **self.shown}.items())
            print(f"epoch {epoch + 1}/{total or '?'}  {text}", file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        self.close()

    def _make_bar(self):
        tqdm = _tqdm()
        if tqdm is None:
            return False
        total = self.epochs * self.batches if self.epochs and self.batches else None
        return tqdm(total=total, unit="batch", file=self.stream, dynamic_ncols=True, leave=True, mininterval=0.2)

    def close(self):
        """End the bar (also when training stopped with an error)."""
        if self.bar:
            self.bar.set_postfix_str(self._postfix(), refresh=False)
            self.bar.close()
        self.bar = None


class TextProgress(Callback):
    """The character model's trainer's callback: a tqdm bar over its steps, or over the seconds of a time budget,
    with the smoothed training loss. `write` prints the trainer's lines above the bar (or plainly without one)."""

    def __init__(self, enabled=True, stream=None):
        self.enabled, self.stream = enabled, stream or sys.stderr
        self.bar = None
        self.budget = None

    def set_params(self, params):
        """The trainer's {"epochs", "steps": steps per epoch, "time_budget": seconds or None, "max_steps",
        "initial_step": where a resumed run starts}."""
        super().set_params(params)
        self.budget = params.get("time_budget")
        tqdm = _tqdm() if self.enabled else None
        if tqdm is None:
            return
        if self.budget:
            self.bar = tqdm(total=self.budget, unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s {postfix}",
                            file=self.stream, leave=False)
        else:
            total = params["epochs"] * params["steps"]
            if params.get("max_steps"):
                total = min(total, params["max_steps"])
            self.bar = tqdm(total=total, initial=params.get("initial_step", 0), unit="step", file=self.stream,
                            leave=False)

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(min(logs["seconds"], self.budget) - self.bar.n if self.budget else 1)
            self.bar.set_postfix_str(f"loss {logs['smoothed_loss']:.3f}", refresh=False)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def write(self, line):
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line, flush=True)
