"""A run's training state on disk, DIR/last.npz: when it is written, how a stop is asked for, how it is resumed.

    checkpoints = Checkpoints(folder, every=30.0, resume=True, stop=StopFlag(), warn=print)
    state = checkpoints.read(model, fingerprint)     # the saved training state (weights put in model), or None
    checkpoints.save(model, state, extra)            # at an epoch's end, when due(), on a stop
    checkpoints.check_stop(model, state_fn, extra)   # a stop was asked for: save, then raise Interrupted

last.npz is numrnn's model format with a training state (numrnn.io.format.write_model(..., training=...)): the
weights, the optimizer's state and everything else the trainer needs to continue exactly. It is written every
`every` seconds, at each epoch's end (at most once a second: the count task's 3,000 epochs of a millisecond each
would otherwise spend their time writing) and when the process is asked to stop (SIGINT, SIGTERM: the command line
sets the StopFlag; training stops at the next step's end, writes the state and raises Interrupted). A write that fails
(a full disk) is a warning: the previous last.npz stays and training continues. A run's fingerprint (its options and
a digest of its data) is kept in last.npz, and resuming a run whose options or data differ is refused, saying what
changed.
"""
import hashlib
import json
import os
import signal
import time

import numpy as np

from ..io.format import read_archive, write_model
from ..io.schema import restore_checkpoint

__all__ = ["Checkpoints", "StopFlag", "Interrupted", "digest", "difference", "LAST", "BEST"]

LAST, BEST = "last.npz", "model.npz"
#: the least time between two writes of a file at epochs' ends (or `every`, if that is shorter), in seconds
EPOCH_SECONDS = 1.0


class Interrupted(Exception):
    """Training stopped because the process was asked to (SIGINT, SIGTERM), after writing its state."""

    def __init__(self, signum, path, saved):
        self.signum, self.path, self.saved = signum, path, saved
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = f"signal {signum}"
        where = (f"the training state is in {path}; run the same command with --resume to continue" if saved else
                 f"the training state could not be written; {path} holds the last one written")
        super().__init__(f"interrupted by {name}: {where}")


class StopFlag:
    """Set by a signal handler (the command line's); training looks at it between steps."""

    def __init__(self):
        self.signum = None

    def request(self, signum=signal.SIGTERM):
        self.signum = signum

    @property
    def requested(self):
        return self.signum is not None


class Checkpoints:
    """When and where a run writes DIR/last.npz, and reading it back (see the module docstring)."""

    def __init__(self, folder, every=30.0, resume=False, stop=None, warn=None):
        self.folder = os.fspath(folder)
        self.path = os.path.join(self.folder, LAST)
        self.best_path = os.path.join(self.folder, BEST)
        self.every, self.resume = float(every), bool(resume)
        self.stop = stop or StopFlag()
        self.warn = warn or (lambda message: None)
        self.last_write = self.last_best = time.monotonic()

    def due(self, epoch_end=False):
        """Whether `every` seconds have passed since the last write (at an epoch's end: EPOCH_SECONDS)."""
        return time.monotonic() - self.last_write >= (min(self.every, EPOCH_SECONDS) if epoch_end else self.every)

    def best_due(self):
        """Whether the best model may be written now (at most once per EPOCH_SECONDS, or `every`)."""
        return time.monotonic() - self.last_best >= min(self.every, EPOCH_SECONDS)

    def save(self, model, training, extra=None):
        """Write last.npz now; True if written. A failure to write is a warning, the previous file stays."""
        written = self._write_or_warn(lambda: write_model(self.path, model, extra, training=training),
                                      f"the checkpoint {self.path}", "the previous one is kept and training continues")
        self.last_write = time.monotonic()
        return written

    def save_best(self, model, extra):
        """Write the best model (model.npz) now; True if written, a warning if not (retried at the next
        improvement and at the end)."""
        written = self._write_or_warn(lambda: model.save(self.best_path, extra=extra),
                                      f"the best model {self.best_path}", "training continues")
        self.last_best = time.monotonic()
        return written

    def _write_or_warn(self, write, what, consequence):
        """write(); True if it wrote, else a warning naming `what` and the reason, and False."""
        try:
            write()
        except (OSError, ValueError) as error:  # a full disk; a value JSON cannot hold
            self.warn(f"numrnn: warning: could not write {what}: {getattr(error, 'strerror', None) or error}; "
                      f"{consequence}")
            return False
        return True

    def check_stop(self, model, state, extra=None):
        """If a stop was asked for: write the state (state() gives it) and raise Interrupted."""
        if self.stop.requested:
            saved = self.save(model, state(), extra)
            raise Interrupted(self.stop.signum, self.path, saved)

    def saved_fingerprint(self):
        """The fingerprint kept in last.npz (None if there is no last.npz to resume)."""
        if not (self.resume and os.path.exists(self.path)):
            return None
        meta, _ = read_archive(self.path)
        extra = meta.get("extra") if isinstance(meta.get("extra"), dict) else {}
        run = extra.get("run") if isinstance(extra.get("run"), dict) else {}
        return run.get("fingerprint", {})

    def read(self, model, fingerprint, names=None):
        """The training state of last.npz, its weights and optimizer state put into `model`; None when not
        resuming or there is nothing to resume. A ValueError if last.npz was written by a different run."""
        saved = self.saved_fingerprint()
        if saved is None:
            return None
        changed = difference(saved, fingerprint, names)
        if changed:
            raise ValueError(f"{self.path} was written by a different run, refusing to resume it: {changed} "
                             f"(use --overwrite to start a new run in {self.folder})")
        return restore_checkpoint(model, self.path)


def digest(*arrays):
    """SHA-256 of arrays (their dtype, shape and bytes) or strings, in order: a run's data, in a fingerprint."""
    hasher = hashlib.sha256()
    for array in arrays:
        if array is None:
            hasher.update(b"none")
        elif isinstance(array, str):
            hasher.update(array.encode("utf-8"))
        else:
            array = np.ascontiguousarray(array)
            hasher.update(repr((array.dtype.str, array.shape)).encode())
            hasher.update(array.tobytes())
    return hasher.hexdigest()


def difference(saved, current, names=None):
    """What differs between two fingerprints ({name: JSON-able value}), in words: '' if nothing.
    names: {key: how to call it} ("data": "the training data"); other keys are options ("--hidden")."""
    names = names or {}
    current = json.loads(json.dumps(current))
    if not isinstance(saved, dict):
        return "it holds no fingerprint of its run"
    changes = []
    for key in sorted(set(saved) | set(current)):
        before, now = saved.get(key), current.get(key)
        if before == now:
            continue
        if key in names:
            changes.append(f"{names[key]} changed")
        else:
            changes.append(f"--{key.replace('_', '-')} was {_shown(before)}, now {_shown(now)}")
    return "; ".join(changes)


def _shown(value):
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:60] + "..."
