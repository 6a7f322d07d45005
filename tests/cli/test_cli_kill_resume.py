"""Kill-and-resume trials with real signals: `numrnn train ...` killed with SIGKILL several times (and once stopped
with SIGTERM, which writes DIR/last.npz and exits 143), restarted with --resume each time, ends with model.npz and
last.npz bit-identical to a run never stopped: a task (mod3) and the character model (two worker threads,
dropout)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from numrnn.io.format import read_archive

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
MOD3 = ["train", "mod3", "--epochs", "150", "--train-size", "3000", "--hidden", "32", "--checkpoint-every", "0.1",
        "--quiet", "--no-plots"]
TEXT = ["train", "text", "--epochs", "60", "--hidden", "32", "--layers", "2", "--dropout", "0.3", "--threads", "2",
        "--batch", "8", "--steps", "20", "--embedding-size", "8", "--val-streams", "4", "--checkpoint-every", "0.1",
        "--quiet"]


def start(argv, out, resume):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **ONE_THREAD)
    command = [sys.executable, "-m", "numrnn", *argv, "--out", str(out)] + (["--resume"] if resume else [])
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_training(process, last, since, limit=20.0):
    """Wait until this process has written last.npz (its training began) or ended."""
    deadline = time.monotonic() + limit
    while process.poll() is None and time.monotonic() < deadline:
        if last.exists() and last.stat().st_mtime > since:
            return
        time.sleep(0.02)


def train_with_kills(argv, out, rng, window, kills=0, terminate=False):
    """Run to the end, SIGKILL-ing the command `kills` times after a random delay in `window` (seconds after its
    training began), then stopping it once with SIGTERM if `terminate`; each restart resumes. Returns the number
    of (SIGKILLs, SIGTERMs) that landed before the run ended."""
    killed = terminated = 0
    resume = False
    while True:
        began = time.time()
        process = start(argv, out, resume)
        resume = True
        if killed < kills or (terminate and not terminated):
            wait_for_training(process, out / "last.npz", began)
            time.sleep(rng.uniform(*window))
            if process.poll() is None:
                signum = signal.SIGKILL if killed < kills else signal.SIGTERM
                process.send_signal(signum)
                _, error = process.communicate(timeout=60)
                if signum == signal.SIGKILL:
                    assert process.returncode == -signal.SIGKILL
                    killed += 1
                else:
                    assert process.returncode == 143, error
                    assert "interrupted by SIGTERM" in error and "--resume" in error, error
                    terminated += 1
                continue
        _, error = process.communicate(timeout=300)
        assert process.returncode == 0, error
        return killed, terminated


def assert_bit_identical(straight, resumed):
    for name in ("model.npz", "last.npz"):
        first, second = read_archive(straight / name)[1], read_archive(resumed / name)[1]
        weights = [key for key in first if key.startswith(("params/", "optimizer/"))]
        assert weights and weights == [key for key in second if key.startswith(("params/", "optimizer/"))]
        for key in weights:
            np.testing.assert_array_equal(second[key], first[key], err_msg=f"{name}: {key}")


@pytest.mark.slow
@pytest.mark.parametrize("argv, window", [(MOD3, (0.05, 0.4)), (TEXT, (0.05, 0.4))], ids=["mod3", "text"])
def test_killed_and_resumed_runs_end_bit_identical(argv, window, tmp_path, corpus):
    argv = argv + (["--data", str(corpus)] if argv[1] == "text" else [])
    rng = np.random.default_rng(5)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    began = time.monotonic()
    train_with_kills(argv, straight, rng, window)
    assert time.monotonic() - began > 3.0, "the run is too short to be killed four times"
    kills, terms = train_with_kills(argv, killed, rng, window, kills=3, terminate=True)
    assert kills == 3 and terms == 1
    assert_bit_identical(straight, killed)
