"""The issue's targets, reached by the default command (`numrnn train TASK`, default seed) of each task.

Each test runs `python -m numrnn train TASK --out DIR` in a subprocess, exactly the user's command (plots and the
progress bar left out), and reads the metrics it wrote to history.json. These small models run BLAS on one thread
(numrnn.threads' policy); the environment variables below do the same where threadpoolctl finds no BLAS to limit,
since on a machine shared with other work a multi-threaded BLAS made these small models up to 20 times slower.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import numrnn

ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def train(task, out, *options):
    """Run the command line's train in a fresh process; returns history.json's record."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **ONE_THREAD)
    command = [sys.executable, "-m", "numrnn", "train", task, "--out", str(out), "--no-plots", "--quiet", *options]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "target met" in result.stdout or "target NOT met" in result.stdout
    return json.loads((out / "history.json").read_text())


def assert_default_run(record, task):
    assert record["task"] == task and record["preset"] == "default"
    assert record["settings"]["seed"] == 0
    assert record["seconds"] < 60, f"{task} trained in {record['seconds']:.1f} s"
    assert record["target_met"] is True


def test_count_is_exact_on_sequences_of_length_10_100_and_1000(tmp_path):
    record = train("count", tmp_path)
    assert_default_run(record, "count")
    metrics = record["metrics"]
    for length in (10, 100, 1000):
        assert metrics[f"max_error_T{length}"] < 0.01, (length, metrics)
    # the target at length 1000 needs w_rec within ~1e-7 of 1; the run gets far closer
    assert abs(metrics["w_rec"] - 1.0) < 1e-9 and abs(metrics["w_x"] - 1.0) < 1e-8


def test_count_model_loads_and_counts_a_new_long_sequence(tmp_path):
    train("count", tmp_path)
    model = numrnn.load(tmp_path / "model.npz")
    bits = np.random.default_rng(123).integers(0, 2, 5000).astype(np.float64)
    assert model.predict(bits[None, :, None])[0, 0] == pytest.approx(bits.sum(), abs=0.01)


def test_count_tutorial_preset_is_worse_on_long_sequences(tmp_path):
    record = train("count", tmp_path, "--preset", "tutorial")
    metrics = record["metrics"]
    assert record["target_met"] is False
    assert metrics["max_error_T10"] < 0.01 < metrics["max_error_T100"] < metrics["max_error_T1000"]


def test_mod3_is_perfect_on_new_sequences_and_five_times_longer_ones(tmp_path):
    record = train("mod3", tmp_path)
    assert_default_run(record, "mod3")
    metrics = record["metrics"]
    assert metrics["accuracy_T"] == 1.0 and metrics["accuracy_5T"] == 1.0
    assert len(metrics["accuracy_per_step_5T"]) == 5 * metrics["length_T"] == 50
    assert min(metrics["accuracy_per_step_5T"]) == 1.0


def test_sine_rmse_on_an_unseen_stretch_of_the_wave(tmp_path):
    record = train("sine", tmp_path)
    assert_default_run(record, "sine")
    assert record["metrics"]["test_rmse"] < 0.002
    # evaluate on the saved model reproduces the number from the windows at x >= 1000
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), **ONE_THREAD)
    result = subprocess.run([sys.executable, "-m", "numrnn", "evaluate", str(tmp_path / "model.npz"), "--task",
                             "sine", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["test_rmse"] == pytest.approx(record["metrics"]["test_rmse"], rel=1e-6)


def test_mult_series_is_perfect_at_every_step_including_the_end_marker(tmp_path):
    record = train("mult-series", tmp_path)
    assert_default_run(record, "mult-series")
    metrics = record["metrics"]
    assert metrics["accuracy_per_step"] == [1.0] * 10
    assert metrics["end_marker_accuracy"] == 1.0 and metrics["sequences_all_right"] == 1.0
    # said plainly in the README: the 5 distinct series are in the training and the test split alike
    assert metrics["distinct_series_in_test"] == 5
