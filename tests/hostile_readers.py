"""The eight readers of a model file, run on each file of tests/hostile_corpus.py, with what each outcome was.

    READERS                     name -> argv of the command line (None: numrnn.load itself), MODEL for the file
    read_in_process(reader, path, inputs)   -> Outcome: run inside this process, stderr captured, a timeout, the
                                               peak of Python's allocations (tracemalloc, NumPy's included)
    read_in_subprocess(reader, path, inputs) -> Outcome: `python -m numrnn ...`, a timeout, the peak RSS

An outcome is "refused" (exit status 2, one `numrnn: error: ...` line naming the file, no traceback), "read" (exit
status 0), or what went wrong: "traceback", "hang", "status N", "refused without naming the file".
"""
import contextlib
import io
import os
import signal
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import numrnn
from numrnn.cli.main import main

READERS = {
    "numrnn.load": None,
    "info": ["info", "MODEL"],
    "info --json": ["info", "MODEL", "--json"],
    "predict": ["predict", "MODEL", "--input", "{ids}"],
    "evaluate --task": ["evaluate", "MODEL", "--task", "mod3"],
    "evaluate --data": ["evaluate", "MODEL", "--data", "{text}"],
    "sample": ["sample", "MODEL", "--length", "20", "--seed", "0"],
    "forecast": ["forecast", "MODEL", "--data", "{series}", "--steps", "3"],
}
TIMEOUT = 10.0


class Outcome:
    def __init__(self, kind, seconds, peak_bytes, detail=""):
        self.kind, self.seconds, self.peak_bytes, self.detail = kind, seconds, peak_bytes, detail

    def __repr__(self):
        return f"Outcome({self.kind!r}, {self.seconds:.2f}s, {self.peak_bytes / 2 ** 20:.1f} MiB, {self.detail!r})"


def inputs(folder):
    """The other files the readers need, valid for the corpus's good model (vocabulary "abcde", ids below 5)."""
    paths = {"ids": os.path.join(folder, "ids.npy"), "text": os.path.join(folder, "text.txt"),
             "series": os.path.join(folder, "series.csv")}
    np.save(paths["ids"], np.random.default_rng(0).integers(0, 5, (2, 7)))
    with open(paths["text"], "w", encoding="utf-8") as stream:
        stream.write("abcdeedcba" * 10)
    with open(paths["series"], "w", encoding="utf-8") as stream:
        stream.write("t,value\n" + "".join(f"{i},{np.sin(i / 3):.4f}\n" for i in range(60)))
    return paths


def argv(reader, path, files):
    return [str(path) if item == "MODEL" else item.format(**files) for item in READERS[reader]]


def classify(status, err, path):
    if "Traceback" in err:
        return "traceback", err[-300:]
    if status == 0:
        return "read", ""
    if status != 2:
        return f"status {status}", err[-300:]
    lines = [line for line in err.splitlines() if line.strip()]
    if len(lines) != 1 or not lines[0].startswith("numrnn: error: "):
        return "not one error line", err[-300:]
    if str(path) not in lines[0]:
        return "refused without naming the file", lines[0]
    return "refused", lines[0]


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def read_in_process(reader, path, files):
    """Run one reader on `path` here, under a timeout; the peak of traced allocations."""
    stdout, stderr = io.StringIO(), io.StringIO()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    tracemalloc.start()
    began = time.perf_counter()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            if READERS[reader] is None:
                status = _load(path)
            else:
                status = main(argv(reader, path, files))
        kind, detail = classify(status, stderr.getvalue(), path)
    except _Timeout:
        kind, detail = "hang", ""
    except Exception as error:  # noqa: BLE001 (what escaped is the finding)
        kind, detail = "traceback", f"{type(error).__name__}: {error}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        seconds = time.perf_counter() - began
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Outcome(kind, seconds, peak, detail)


def _load(path):
    """numrnn.load as a reader: 0 when it loads, 2 with the command line's error line when it refuses."""
    try:
        numrnn.load(path)
    except ValueError as error:
        print(f"numrnn: error: {error}", file=sys.stderr)
        return 2
    return 0


def read_in_subprocess(reader, path, files):
    """Run one reader on `path` as `python -m numrnn ...` (numrnn.load through a one-line script), under a timeout;
    the child's peak resident memory, from wait4."""
    if READERS[reader] is None:
        command = [sys.executable, "-c", "import sys; from tests.hostile_readers import _load; "
                                         "sys.exit(_load(sys.argv[1]))", str(path)]
    else:
        command = [sys.executable, "-m", "numrnn", *argv(reader, path, files)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, *sys.path]), MPLBACKEND="Agg")
    with open(os.devnull, "wb") as devnull, _temporary_stream() as err_stream:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=devnull, stderr=err_stream, env=env)
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - began > TIMEOUT:
                process.kill()
                os.wait4(process.pid, 0)
                return Outcome("hang", time.perf_counter() - began, 0)
            time.sleep(0.01)
        process.returncode = os.waitstatus_to_exitcode(status)
        err_stream.seek(0)
        err = err_stream.read().decode("utf-8", "replace")
    kind, detail = classify(process.returncode, err, path)
    return Outcome(kind, time.perf_counter() - began, usage.ru_maxrss * 1024, detail)


def _temporary_stream():
    import tempfile
    return tempfile.TemporaryFile()


def build_extras(folder):
    """Files whose arrays and metadata are sound but whose `extra` (what an application keeps with a model) lies:
    the settings `evaluate --task` reads, the forecaster's facts `forecast` reads, a vocabulary that does not fit
    the model. Returns {name: path}."""
    os.makedirs(folder, exist_ok=True)
    numrnn.seed(0)
    mod3 = numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 3)], loss="cross_entropy",
                             optimizer=numrnn.Adam(lr=0.01))
    forecaster = numrnn.Sequential([numrnn.RNN(1, 4, return_sequences=False), numrnn.Dense(4, 1)], loss="mse",
                                   optimizer=numrnn.Adam(lr=0.01))
    text = numrnn.Sequential([numrnn.Embedding(5, 4), numrnn.LSTM(4, 6), numrnn.Dense(6, 5)],
                             loss="cross_entropy", optimizer=numrnn.Adam(lr=0.01))
    good_forecaster = {"window": 5, "column": "value", "mean": 0.0, "std": 1.0, "rows": 60}
    variants = {
        "settings_steps_1e12": (mod3, {"task": "mod3", "settings": {"steps": 10 ** 12}}),
        "settings_steps_string": (mod3, {"task": "mod3", "settings": {"steps": "ten"}}),
        "settings_seed_negative": (mod3, {"task": "mod3", "settings": {"seed": -5}}),
        "settings_train_size_1e9": (mod3, {"task": "mod3", "settings": {"train_size": 10 ** 9}}),
        "settings_list": (mod3, {"task": "mod3", "settings": [1, 2]}),
        "metrics_and_preset_odd": (mod3, {"task": "mod3", "preset": [1], "metrics": {"a": [1], "b": {"c": 1}}}),
        "forecaster_window_1e12": (forecaster, {"forecaster": dict(good_forecaster, window=10 ** 12)}),
        "forecaster_window_string": (forecaster, {"forecaster": dict(good_forecaster, window="5")}),
        "forecaster_window_bool": (forecaster, {"forecaster": dict(good_forecaster, window=True)}),
        "forecaster_std_zero": (forecaster, {"forecaster": dict(good_forecaster, std=0.0)}),
        "forecaster_mean_string": (forecaster, {"forecaster": dict(good_forecaster, mean="0")}),
        "forecaster_column_int": (forecaster, {"forecaster": dict(good_forecaster, column=3)}),
        "forecaster_list": (forecaster, {"forecaster": [5, 0.0, 1.0]}),
        "vocab_shorter_than_the_model": (text, {}),
        "good_forecaster": (forecaster, {"forecaster": good_forecaster}),
    }
    files = {}
    for name, (model, extra) in variants.items():
        model.vocab = list("abc") if name == "vocab_shorter_than_the_model" else None
        path = os.path.join(folder, name + ".npz")
        model.save(path, extra=extra)
        files[name] = path
    return files


#: which reader must refuse which of build_extras' files (every reader refuses or reads every file)
MUST_REFUSE = {"evaluate --task": ("settings_",), "forecast": ("forecaster_", "vocab_", "metrics_"),
               "sample": ("vocab_",), "evaluate --data": ("vocab_",)}
