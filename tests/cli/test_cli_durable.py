"""`numrnn train TASK` keeps DIR/last.npz and the best model DIR/model.npz: a folder holding a run is refused
without --resume or --overwrite, a stopped run resumes bit-identical, a changed run is refused saying what
changed, a diverging run ends with status 1 after its summary (the best model kept), a checkpoint that cannot be
written is a warning, and every file is written with the same permissions. (Real kills: test_cli_kill_resume.py.)"""
import errno
import json
import os
import signal

import numpy as np
import pytest

import numrnn
from numrnn.apps import durable
from numrnn.io import atomic
from numrnn.io.format import read_archive

from ._helpers import assert_usage_error, run

MOD3 = ("train", "mod3", "--epochs", "3", "--train-size", "96", "--hidden", "8", "--quiet", "--no-plots")


def params(path):
    _, arrays = read_archive(path)
    return {key: value for key, value in arrays.items() if key.startswith(("params/", "optimizer/"))}


def assert_same_arrays(first, second):
    first, second = params(first), params(second)
    assert first.keys() == second.keys()
    for key, value in first.items():
        np.testing.assert_array_equal(second[key], value, err_msg=key)


def test_a_folder_holding_a_run_is_refused_without_resume_or_overwrite(tmp_path, capsys):
    assert run(capsys, *MOD3, "--out", tmp_path)[0] == 0
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert_usage_error(run(capsys, *MOD3, "--out", tmp_path), "already holds a run", "--resume", "--overwrite")
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == before
    assert_usage_error(run(capsys, *MOD3, "--out", tmp_path, "--resume", "--overwrite"), "exclude each other")


def test_overwrite_removes_the_old_runs_files_first(tmp_path, capsys):
    assert run(capsys, "train", "count", "--epochs", "5", "--quiet", "--out", tmp_path)[0] == 0
    first = json.loads((tmp_path / "run.json").read_text())
    assert "loss_surface.png" in first["files"]
    (tmp_path / "notes.txt").write_text("mine")
    assert run(capsys, *MOD3, "--out", tmp_path, "--overwrite")[0] == 0
    second = json.loads((tmp_path / "run.json").read_text())
    assert second["run_id"] != first["run_id"]
    assert {p.name for p in tmp_path.iterdir()} == {"model.npz", "last.npz", "history.json", "run.json", "notes.txt"}
    assert numrnn.load(tmp_path / "model.npz").extra["run_id"] == second["run_id"]


def test_a_stopped_run_resumes_bit_identical(tmp_path, capsys, monkeypatch):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert run(capsys, *MOD3, "--out", straight, "--checkpoint-every", "0")[0] == 0
    calls = []
    original = durable.Checkpoints.check_stop

    def stop_at_the_fifth_batch(self, *args):
        calls.append(1)
        if len(calls) == 5:
            self.stop.request(signal.SIGTERM)
        return original(self, *args)

    monkeypatch.setattr(durable.Checkpoints, "check_stop", stop_at_the_fifth_batch)
    status, _, err = run(capsys, *MOD3, "--out", stopped, "--checkpoint-every", "1000")
    assert status == 143 and "interrupted by SIGTERM" in err and "--resume" in err
    assert read_archive(stopped / "last.npz")[0]["training"]["step"] == 4  # 3 batches an epoch, its end a call
    monkeypatch.setattr(durable.Checkpoints, "check_stop", original)
    assert run(capsys, *MOD3, "--out", stopped, "--resume")[0] == 0
    assert_same_arrays(straight / "model.npz", stopped / "model.npz")
    assert_same_arrays(straight / "last.npz", stopped / "last.npz")
    histories = [json.loads((folder / "history.json").read_text()) for folder in (straight, stopped)]
    assert histories[0]["history"] == histories[1]["history"]
    assert histories[0]["step_gradient_norms"] == histories[1]["step_gradient_norms"]
    assert run(capsys, *MOD3, "--out", stopped, "--resume")[0] == 0  # resuming a finished run changes nothing
    assert_same_arrays(straight / "model.npz", stopped / "model.npz")


def test_resuming_a_changed_run_is_refused_saying_what_changed(tmp_path, capsys):
    assert run(capsys, *MOD3, "--out", tmp_path)[0] == 0
    assert_usage_error(run(capsys, *MOD3, "--out", tmp_path, "--resume", "--hidden", "6"),
                       "written by a different run", "--hidden was 8, now 6")
    assert_usage_error(run(capsys, *MOD3, "--out", tmp_path, "--resume", "--seed", "2"),
                       "the training and validation data changed", "--seed was 0, now 2")


def test_resume_in_an_empty_folder_starts_a_new_run(tmp_path, capsys):
    status, _, err = run(capsys, *MOD3, "--out", tmp_path, "--resume")
    assert status == 0 and "nothing to resume" in err and (tmp_path / "model.npz").exists()


def test_a_diverging_run_exits_1_after_its_summary_and_writes_nothing_non_finite(tmp_path, capsys):
    status, out, err = run(capsys, "train", "sine", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "3",
                           "--train-size", "64", "--quiet", "--out", tmp_path)
    assert status == 1
    assert "numrnn: error: training diverged at epoch 1, batch" in err and "Try a smaller learning rate" in err
    assert "no model.npz was written" in err and "training diverged" in out
    assert {"history.json", "loss.png", "predictions.png", "last.npz"} <= {p.name for p in tmp_path.iterdir()}
    assert not (tmp_path / "model.npz").exists()
    record = json.loads((tmp_path / "history.json").read_text())
    assert record["diverged"].startswith("training diverged") and record["epochs"] == 0
    for value in params(tmp_path / "last.npz").values():
        assert np.isfinite(value).all()


def test_a_diverging_run_keeps_its_best_model(tmp_path, capsys):
    status, _, err = run(capsys, "train", "count", "--optimizer", "sgd", "--lr", "10", "--epochs", "5", "--quiet",
                         "--out", tmp_path)
    assert status == 1 and "the best model (epoch 1) is in" in err
    record = json.loads((tmp_path / "history.json").read_text())
    model = numrnn.load(tmp_path / "model.npz")
    assert all(np.isfinite(value).all() for value in model.params.values())
    X, y = numrnn.data.count_ones(100, 10, seed=1)
    assert model.evaluate(X, y)["loss"] == pytest.approx(min(v for v in record["history"]["val_loss"] if v), rel=1e-5)
    assert (tmp_path / "loss_surface.png").exists() and (tmp_path / "gradient_heatmap.png").exists()


def test_a_checkpoint_that_cannot_be_written_is_a_warning(tmp_path, capsys, monkeypatch):
    written = []
    original = durable.write_model

    def full_after_the_first(path, *args, **kwargs):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        written.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(durable, "write_model", full_after_the_first)
    status, _, err = run(capsys, *MOD3, "--out", tmp_path, "--checkpoint-every", "0")
    assert status == 0
    assert f"numrnn: warning: could not write the checkpoint {tmp_path / 'last.npz'}: No space left on device" \
           in err and "the previous one is kept and training continues" in err
    assert read_archive(tmp_path / "last.npz")[0]["training"]["step"] == 0  # the one written before the disk filled
    assert numrnn.load(tmp_path / "model.npz").extra["metrics"]["accuracy_T"] >= 0


def test_every_file_of_a_run_gets_0666_less_the_umask(tmp_path, capsys):
    previous = os.umask(0o027)
    try:
        assert run(capsys, "train", "mod3", "--epochs", "2", "--quiet", "--out", tmp_path)[0] == 0
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert len(modes) >= 7 and set(modes.values()) == {0o640}, modes


def test_csv_runs_resume_and_their_best_model_forecasts_while_training(tmp_path, capsys, monkeypatch, series_csv):
    command = ("train", "csv", "--data", series_csv, "--column", "level", "--window", "8", "--epochs", "4",
               "--quiet", "--no-plots")
    assert run(capsys, *command, "--out", tmp_path / "straight")[0] == 0
    original = durable.Checkpoints.check_stop

    def stop_in_the_third_epoch(self, *args):
        if read_archive(self.path)[0]["training"]["epoch"] == 2:
            self.stop.request(signal.SIGINT)
        return original(self, *args)

    monkeypatch.setattr(durable.Checkpoints, "check_stop", stop_in_the_third_epoch)
    status, _, err = run(capsys, *command, "--out", tmp_path / "stopped", "--checkpoint-every", "0")
    assert status == 130 and "interrupted by SIGINT" in err
    monkeypatch.setattr(durable.Checkpoints, "check_stop", original)
    best = tmp_path / "stopped" / "model.npz"  # written during training: a forecaster already
    assert run(capsys, "forecast", best, "--data", series_csv, "--steps", "2")[0] == 0
    assert_usage_error(run(capsys, *command[:7], "9", *command[8:], "--out", tmp_path / "stopped", "--resume"),
                       "--window was 8, now 9")
    assert run(capsys, *command, "--out", tmp_path / "stopped", "--resume")[0] == 0
    assert_same_arrays(tmp_path / "straight" / "model.npz", best)
    assert_same_arrays(tmp_path / "straight" / "last.npz", tmp_path / "stopped" / "last.npz")


def test_stale_temporaries_are_removed_when_a_command_prepares_its_folder(tmp_path, capsys):
    stale = tmp_path / ".numrnn-999999999-x1.tmp"  # no such process
    stale.write_bytes(b"half a model")
    assert run(capsys, *MOD3, "--out", tmp_path)[0] == 0
    assert not stale.exists() and not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_a_full_disk_names_the_file(tmp_path, capsys, monkeypatch):
    calls = []
    fsync = os.fsync

    def full_after_run_json(descriptor):
        calls.append(descriptor)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        fsync(descriptor)

    monkeypatch.setattr(atomic.os, "fsync", full_after_run_json)
    status, _, err = run(capsys, *MOD3, "--out", tmp_path)
    assert status == 2 and "warning: could not write the checkpoint" in err
    assert f"numrnn: error: {tmp_path / 'model.npz'}: No space left on device" in err
    assert {p.name for p in tmp_path.iterdir()} == {"run.json"}
