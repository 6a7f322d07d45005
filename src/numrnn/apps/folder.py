"""A run's folder: one run at a time, never the files of two runs mixed.

    folder = prepare_run_folder("runs/sine", resume=False, overwrite=False)
    folder.resuming        True when the folder's last.npz will be continued
    folder.record(paths)   remember the files this run wrote (DIR/run.json), so that --overwrite removes them

A folder that already holds a run (model.npz, last.npz, history.json or run.json) is refused unless the run is to
be resumed (resume: its last.npz continues) or replaced (overwrite: the old run's files are removed first: those
listed in its run.json and numrnn's usual names). Whatever happens, temporaries left by a
process killed mid-write are removed (numrnn.io.atomic.clean_stale_temporaries). run.json names the run (a random
run id, also kept in model.npz and last.npz), the command that made it and the files it wrote.
"""
import json
import os
import uuid

from ..io.atomic import atomic_write, clean_stale_temporaries, temporary_file
from .durable import BEST, LAST

__all__ = ["RunFolder", "prepare_run_folder", "RUN_FILE", "RUN_FILES", "PLOT_FILES"]

RUN_FILE = "run.json"
#: the files every run may write, whatever its task
RUN_FILES = (BEST, LAST, "history.json", RUN_FILE)
#: the plots numrnn's tasks write (removed by --overwrite even when an older run.json does not list them)
PLOT_FILES = ("loss.png", "gradient_heatmap.png", "accuracy_per_step.png", "predictions.png", "loss_surface.png")


class RunFolder:
    """The folder of one run: its path, its run id, whether it resumes, the files it wrote."""

    def __init__(self, path, run_id, resuming, command=None, files=()):
        self.path, self.run_id, self.resuming, self.command = path, run_id, resuming, command
        self.files = list(files)

    def join(self, name):
        return os.path.join(self.path, name)

    def record(self, paths=()):
        """Add `paths` (files of this run in the folder) to run.json, written atomically."""
        for path in paths:
            name = os.path.basename(os.fspath(path))
            if name not in self.files:
                self.files.append(name)
        with atomic_write(self.join(RUN_FILE), "w") as stream:
            json.dump({"run_id": self.run_id, "command": self.command, "files": self.files}, stream, indent=1)
            stream.write("\n")


def writable_folder(path):
    """`path` as an absolute folder, created if needed, where a file can be written (checked by writing one), its
    stale temporaries removed; a ValueError that says why not."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"output folder {path} is a file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        handle, probe = temporary_file(path)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ValueError(f"cannot write to output folder {path}: {error.strerror or error}") from None
    clean_stale_temporaries(path)
    return path


def prepare_run_folder(path, resume=False, overwrite=False, command=None):
    """Create or check the folder of a new run, or of a run to resume (see the module docstring); returns a
    RunFolder. A ValueError when the folder holds another run and neither resume nor overwrite is given."""
    if resume and overwrite:
        raise ValueError("--resume and --overwrite exclude each other: resume continues the run in the folder, "
                         "overwrite replaces it")
    path = writable_folder(path)
    present = [name for name in RUN_FILES if os.path.exists(os.path.join(path, name))]
    previous = _read_manifest(path)
    if present and overwrite:
        _remove_run(path, previous)
        present, previous = [], {}
    elif present and not resume:
        raise ValueError(f"output folder {path} already holds a run ({', '.join(present)}): pass --resume to "
                         f"continue it or --overwrite to replace it")
    elif resume and BEST in present and LAST not in present:
        raise ValueError(f"{os.path.join(path, BEST)} has no {LAST} beside it to resume from (a run of an older "
                         f"numrnn?): pass --overwrite to start a new run there")
    resuming = resume and LAST in present
    run_id = previous.get("run_id") if resuming and isinstance(previous.get("run_id"), str) else uuid.uuid4().hex[:12]
    files = previous.get("files", []) if resuming and isinstance(previous.get("files"), list) else []
    folder = RunFolder(path, run_id, resuming, command=command,
                       files=[name for name in files if isinstance(name, str)])
    folder.record()
    return folder


def _read_manifest(path):
    try:
        with open(os.path.join(path, RUN_FILE), encoding="utf-8") as stream:
            manifest = json.loads(stream.read(1 << 20))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _remove_run(path, manifest):
    """Remove an old run's files: its run.json's list and numrnn's usual names (stale temporaries are gone
    already)."""
    listed = manifest.get("files") if isinstance(manifest.get("files"), list) else []
    names = set(RUN_FILES) | set(PLOT_FILES) | {name for name in listed if isinstance(name, str)}
    for name in sorted(names):
        if os.path.basename(name) != name or name in ("", ".", ".."):
            continue  # a manifest never names anything outside the folder
        target = os.path.join(path, name)
        if os.path.isfile(target) or os.path.islink(target):
            try:
                os.unlink(target)
            except OSError as error:
                raise ValueError(f"cannot remove {target} of the previous run: {error.strerror or error}") from None
