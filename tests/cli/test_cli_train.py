"""`numrnn train TASK`: what it writes and prints, the options reaching the model, the progress bar, and a clear
`numrnn: error: ...` with status 2 (never a traceback) for bad options and output folders."""
import json
import tempfile

import numpy as np
import pytest

import numrnn
from ._helpers import assert_usage_error, run


def test_train_writes_model_history_and_plots(tmp_path, capsys):
    status, out, err = run(capsys, "train", "count", "--epochs", "40", "--out", tmp_path)
    assert status == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"model.npz", "history.json", "loss.png", "gradient_heatmap.png",
                                                    "loss_surface.png"}
    assert out.splitlines()[0].startswith("count: max |error|")
    assert "wrote model.npz" in out


def test_the_written_model_loads_and_history_holds_settings_metrics_and_gradients(tmp_path, capsys):
    status, _, _ = run(capsys, "train", "mod3", "--epochs", "3", "--hidden", "8", "--seed", "4", "--out", tmp_path,
                       "--quiet")
    assert status == 0
    model = numrnn.load(tmp_path / "model.npz")
    assert model.layers[0].hidden_size == 8
    assert model.extra["task"] == "mod3" and model.extra["settings"]["seed"] == 4
    record = json.loads((tmp_path / "history.json").read_text())
    assert len(record["history"]["loss"]) == 3 and len(record["history"]["val_accuracy"]) == 3
    assert np.array(record["step_gradient_norms"]).shape == (3, 10)  # epochs x time steps
    assert record["settings"]["hidden"] == 8 and record["command"].startswith("numrnn train mod3")
    assert 0.0 <= record["metrics"]["accuracy_T"] <= 1.0
    assert {"accuracy_per_step.png", "gradient_heatmap.png", "loss.png"} <= {p.name for p in tmp_path.iterdir()}


def test_the_same_seed_trains_the_same_model(tmp_path, capsys):
    for name in ("a", "b"):
        assert run(capsys, "train", "mod3", "--epochs", "1", "--out", tmp_path / name, "--no-plots", "--quiet")[0] == 0
    first, second = numrnn.load(tmp_path / "a" / "model.npz"), numrnn.load(tmp_path / "b" / "model.npz")
    for name, value in first.state_dict().items():
        np.testing.assert_array_equal(value, second.state_dict()[name])


def test_options_reach_the_model(tmp_path, capsys):
    status, _, _ = run(capsys, "train", "sine", "--epochs", "1", "--train-size", "20", "--hidden", "5",
                       "--nonlinearity", "relu", "--optimizer", "sgd", "--lr", "0.01", "--bptt-truncate", "3",
                       "--clip-norm", "1", "--batch-size", "4", "--out", tmp_path, "--no-plots", "--quiet")
    assert status == 0
    model = numrnn.load(tmp_path / "model.npz")
    rnn = model.layers[0]
    assert (rnn.hidden_size, rnn.nonlinearity, rnn.bptt_truncate) == (5, "relu", 3)
    assert model.optimizer.name == "sgd" and model.clip_norm == 1.0


def test_tutorial_preset_uses_the_tutorials_configuration(tmp_path, capsys):
    status, out, _ = run(capsys, "train", "sine", "--preset", "tutorial", "--epochs", "1", "--train-size", "10",
                         "--out", tmp_path, "--no-plots", "--quiet")
    assert status == 0
    record = json.loads((tmp_path / "history.json").read_text())
    settings = record["settings"]
    assert (settings["hidden"], settings["nonlinearity"], settings["bptt_truncate"]) == (100, "sigmoid", 5)
    assert (settings["optimizer"], settings["lr"], settings["clip_value"]) == ("sgd", 1e-4, 10.0)
    assert record["preset"] == "tutorial"


def test_bptt_truncate_zero_means_full_bptt(tmp_path, capsys):
    status, _, _ = run(capsys, "train", "sine", "--preset", "tutorial", "--bptt-truncate", "0", "--epochs", "1",
                       "--train-size", "5", "--out", tmp_path, "--no-plots", "--quiet")
    assert status == 0
    assert numrnn.load(tmp_path / "model.npz").layers[0].bptt_truncate is None


def test_progress_shows_the_running_loss(tmp_path, capsys):
    status, _, err = run(capsys, "train", "mod3", "--epochs", "2", "--out", tmp_path, "--no-plots")
    assert status == 0
    assert "loss" in err and "epoch 2/2" in err


def test_progress_falls_back_to_lines_without_tqdm(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    status, _, err = run(capsys, "train", "mod3", "--epochs", "2", "--out", tmp_path, "--no-plots")
    assert status == 0
    assert "epoch 1/2" in err and "epoch 2/2" in err


def test_train_without_matplotlib_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "matplotlib", None)
    assert_usage_error(run(capsys, "train", "mod3", "--epochs", "1", "--out", tmp_path), "matplotlib", "--no-plots")
    assert not (tmp_path / "model.npz").exists()


def test_unknown_task_is_a_usage_error(tmp_path, capsys):
    status, _, err = run(capsys, "train", "nonsense", "--out", tmp_path)
    assert status == 2 and "invalid choice" in err


@pytest.mark.parametrize("option,value", [("--hidden", "0"), ("--epochs", "-1"), ("--lr", "abc"),
                                          ("--nonlinearity", "softplus"), ("--optimizer", "lbfgs"),
                                          ("--bptt-truncate", "-2")])
def test_bad_option_values_are_usage_errors(tmp_path, capsys, option, value):
    status, _, err = run(capsys, "train", "mod3", option, value, "--out", tmp_path)
    assert status == 2 and option in err


def test_an_output_folder_that_is_a_file(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    assert_usage_error(run(capsys, "train", "mod3", "--out", target), "is a file, not a folder")


def test_an_output_folder_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_usage_error(run(capsys, "train", "mod3", "--out", blocker / "sub"), "cannot write to output folder")


def test_an_unwritable_output_folder_fails_before_training(tmp_path, capsys, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    assert_usage_error(run(capsys, "train", "mod3", "--out", tmp_path / "out"), "cannot write to output folder",
                       "Permission denied")
