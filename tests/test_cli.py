"""The command line, run in-process through numrnn.cli.main: what each command writes and prints, its exit status,
and a clear `numrnn: error: ...` with status 2 (never a traceback) for every kind of bad input."""
import json

import numpy as np
import pytest

import numrnn
from numrnn import cli


def run(capsys, *argv):
    """main(argv) -> (status, stdout, stderr)."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def assert_usage_error(result, *fragments):
    status, out, err = result
    assert status == 2, (out, err)
    assert err.startswith("numrnn: error: ") or "error:" in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.fixture(scope="module")
def mod3_model(tmp_path_factory):
    """A quickly trained mod3 model (2 epochs), written by the command line."""
    out = tmp_path_factory.mktemp("mod3")
    assert cli.main(["train", "mod3", "--epochs", "2", "--out", str(out), "--quiet", "--no-plots"]) == 0
    return out / "model.npz"


@pytest.fixture
def series_csv(tmp_path):
    values = 5 + np.sin(np.arange(120) / 4.0)
    lines = ["day,level,note"] + [f"{i},{v:.5f},x" for i, v in enumerate(values)]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- train ------------------------------------------------------------------------------------------------------------

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


# -- bad input to train -----------------------------------------------------------------------------------------------

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

    monkeypatch.setattr(cli.tempfile, "mkstemp", refuse)
    assert_usage_error(run(capsys, "train", "mod3", "--out", tmp_path / "out"), "cannot write to output folder",
                       "Permission denied")


def test_text_commands_without_the_text_module(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "numrnn.text", None)  # as in a build without numrnn/text.py
    assert_usage_error(run(capsys, "train", "text", "--data", "x.txt", "--out", tmp_path),
                       "text models are not available in this build")
    assert_usage_error(run(capsys, "sample", "model.npz"), "text models are not available")
    assert_usage_error(run(capsys, "evaluate", "model.npz", "--data", "x.txt"), "text models are not available")


def test_text_commands_dispatch_to_numrnn_text(capsys, monkeypatch):
    import types

    calls = []
    fake = types.ModuleType("numrnn.text")
    fake.add_train_text_arguments = lambda parser: parser.add_argument("--hidden", type=int)
    fake.add_sample_arguments = lambda parser: parser.add_argument("--length", type=int)
    fake.train_text = lambda args: calls.append(("train", args.hidden)) or 0
    fake.sample = lambda args: calls.append(("sample", args.model, args.length)) or 0
    fake.evaluate_text = lambda args: calls.append(("evaluate", args.model, args.data, args.json)) or 3
    monkeypatch.setitem(__import__("sys").modules, "numrnn.text", fake)
    assert run(capsys, "train", "text", "--hidden", "7")[0] == 0
    assert run(capsys, "sample", "m.npz", "--length", "9")[0] == 0
    assert run(capsys, "evaluate", "m.npz", "--data", "t.txt", "--json")[0] == 3
    assert calls == [("train", 7), ("sample", "m.npz", 9), ("evaluate", "m.npz", "t.txt", True)]


# -- csv and forecast -------------------------------------------------------------------------------------------------

def test_train_csv_and_forecast(tmp_path, capsys, series_csv):
    out = tmp_path / "out"
    status, text, _ = run(capsys, "train", "csv", "--data", series_csv, "--column", "level", "--window", "8",
                          "--epochs", "3", "--out", out, "--quiet")
    assert status == 0 and text.startswith("csv: validation RMSE")
    assert {"model.npz", "history.json", "loss.png", "predictions.png", "gradient_heatmap.png"} <= \
        {p.name for p in out.iterdir()}
    forecaster = numrnn.load(out / "model.npz").extra["forecaster"]
    assert forecaster["window"] == 8 and forecaster["column"] == "level"
    assert abs(forecaster["mean"] - 5.0) < 0.2  # the first 80% of the rows of 5 + sin(i / 4)
    status, text, _ = run(capsys, "forecast", out / "model.npz", "--data", series_csv, "--steps", "5",
                          "--out", tmp_path / "fc")
    assert status == 0
    rows = [line.split("\t") for line in text.splitlines() if "\t" in line]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(float(r[1])) for r in rows)
    assert (tmp_path / "fc" / "forecast.png").stat().st_size > 1000
    assert (tmp_path / "fc" / "forecast.csv").read_text().startswith("step,level\n1,")


def test_forecast_feeds_predictions_back():
    model = numrnn.Sequential([numrnn.RNN(1, 3, return_sequences=False), numrnn.Dense(3, 1)], loss="mse")
    model.extra = {"forecaster": {"window": 4, "mean": 10.0, "std": 2.0, "column": "v"}}
    series = np.array([9.0, 11.0, 10.0, 12.0, 8.0])
    from numrnn.apps.forecast import forecast

    values = forecast(model, series, 3)
    context = list((series[-4:] - 10.0) / 2.0)
    for value in values:
        scaled = float(model.predict(np.array(context[-4:])[None, :, None])[0, 0])
        assert value == pytest.approx(scaled * 2.0 + 10.0, rel=1e-6)
        context.append(scaled)


def test_csv_missing_file(tmp_path, capsys):
    assert_usage_error(run(capsys, "train", "csv", "--data", tmp_path / "none.csv", "--column", "a", "--window", "3",
                           "--out", tmp_path / "o"), "no such data file")


def test_csv_missing_column_lists_the_columns(tmp_path, capsys, series_csv):
    assert_usage_error(run(capsys, "train", "csv", "--data", series_csv, "--column", "price", "--window", "3",
                           "--out", tmp_path / "o"), "no column 'price'", "'day', 'level', 'note'")


def test_csv_non_numeric_column_names_the_row(tmp_path, capsys, series_csv):
    assert_usage_error(run(capsys, "train", "csv", "--data", series_csv, "--column", "note", "--window", "3",
                           "--out", tmp_path / "o"), "must hold numbers", "row 2")


def test_csv_too_few_rows_for_the_window(tmp_path, capsys):
    path = tmp_path / "short.csv"
    path.write_text("v\n" + "\n".join(str(i) for i in range(12)) + "\n")
    assert_usage_error(run(capsys, "train", "csv", "--data", path, "--column", "v", "--window", "10",
                           "--out", tmp_path / "o"), "too few rows for a window of 10", "12 values")


def test_csv_requires_data_column_and_window(tmp_path, capsys):
    status, _, err = run(capsys, "train", "csv", "--out", tmp_path)
    assert status == 2 and "--data" in err


def test_forecast_with_a_model_that_is_not_a_forecaster(capsys, mod3_model, series_csv):
    assert_usage_error(run(capsys, "forecast", mod3_model, "--data", series_csv, "--steps", "3"),
                       "not a forecaster")


# -- evaluate, predict, info ------------------------------------------------------------------------------------------

def test_evaluate_prints_the_task_metrics(capsys, mod3_model):
    status, out, _ = run(capsys, "evaluate", mod3_model, "--task", "mod3")
    assert status == 0 and out.startswith("mod3: accuracy")
    status, out, _ = run(capsys, "evaluate", mod3_model, "--task", "mod3", "--json", "--seed", "11")
    metrics = json.loads(out)
    assert 0.0 <= metrics["accuracy_5T"] <= 1.0 and len(metrics["accuracy_per_step_5T"]) == 50


def test_evaluate_on_the_wrong_task(capsys, mod3_model):
    assert_usage_error(run(capsys, "evaluate", mod3_model, "--task", "sine"), "task sine needs 1 and 1")


def test_evaluate_needs_a_task_or_data(capsys, mod3_model):
    assert_usage_error(run(capsys, "evaluate", mod3_model), "--task")


def test_evaluate_a_missing_model(tmp_path, capsys):
    assert_usage_error(run(capsys, "evaluate", tmp_path / "none.npz", "--task", "mod3"), "no such model file")


def test_evaluate_a_file_that_is_not_a_model(tmp_path, capsys):
    path = tmp_path / "fake.npz"
    path.write_text("not a zip")
    assert_usage_error(run(capsys, "evaluate", path, "--task", "mod3"), "not a numrnn model")


def test_predict_from_npy_prints_class_ids_and_writes_outputs(tmp_path, capsys, mod3_model):
    X, _ = numrnn.data.mod3(4, steps=6, seed=0)
    np.save(tmp_path / "x.npy", X)
    status, out, _ = run(capsys, "predict", mod3_model, "--input", tmp_path / "x.npy")
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all(len(line.split()) == 6 for line in lines)
    assert set(" ".join(lines).split()) <= {"0", "1", "2"}
    status, _, _ = run(capsys, "predict", mod3_model, "--input", tmp_path / "x.npy", "--output", tmp_path / "p.npy")
    probabilities = np.load(tmp_path / "p.npy")
    assert status == 0 and probabilities.shape == (4, 6, 3)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)


def test_predict_from_csv_for_a_one_feature_model(tmp_path, capsys):
    out = tmp_path / "count"
    assert cli.main(["train", "count", "--epochs", "5", "--out", str(out), "--no-plots", "--quiet"]) == 0
    capsys.readouterr()
    inputs = tmp_path / "x.csv"
    inputs.write_text("b1,b2,b3\n1,0,1\n1,1,1\n")
    status, text, _ = run(capsys, "predict", out / "model.npz", "--input", inputs, "--output", tmp_path / "p.csv")
    assert status == 0 and "wrote 2 predictions" in text
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 2


def test_predict_with_inputs_of_the_wrong_shape(tmp_path, capsys, mod3_model):
    np.save(tmp_path / "x.npy", np.zeros((2, 5, 4)))
    assert_usage_error(run(capsys, "predict", mod3_model, "--input", tmp_path / "x.npy"),
                       "shape (2, 5, 4)", "(batch, time, 3)")


def test_predict_with_a_missing_or_unknown_input(tmp_path, capsys, mod3_model):
    assert_usage_error(run(capsys, "predict", mod3_model, "--input", tmp_path / "x.npy"), "no such input file")
    other = tmp_path / "x.txt"
    other.write_text("1 2 3")
    assert_usage_error(run(capsys, "predict", mod3_model, "--input", other), ".npy or .csv")


def test_info_prints_architecture_and_parameter_count(capsys, mod3_model):
    status, out, _ = run(capsys, "info", mod3_model)
    assert status == 0
    assert "RNN(3, 16)" in out and "total parameters: 387" in out  # 16*3 + 16*16 + 2*16, then 3*16 + 3
    assert "trained on: mod3" in out
    status, out, _ = run(capsys, "info", mod3_model, "--json")
    assert json.loads(out)["parameters"] == 387


# -- gradcheck --------------------------------------------------------------------------------------------------------

def test_gradcheck_prints_an_error_per_tensor(capsys):
    status, out, _ = run(capsys, "gradcheck", "--nonlinearity", "tanh", "--layers", "2", "--hidden", "3",
                         "--steps", "4")
    assert status == 0
    for name in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l1", "input"):
        assert name in out
    assert "all 9 tensors within 1e-06" in out


def test_gradcheck_with_truncation_compares_with_the_truncated_gradient(capsys):
    status, out, _ = run(capsys, "gradcheck", "--nonlinearity", "sigmoid", "--bptt-truncate", "2", "--steps", "6")
    assert status == 0 and "truncated at 2" in out and "FAIL" not in out


def test_gradcheck_exits_1_when_an_error_exceeds_the_tolerance(capsys):
    status, out, _ = run(capsys, "gradcheck", "--hidden", "2", "--steps", "3", "--tolerance", "1e-30")
    assert status == 1 and "FAIL" in out and "exceed the tolerance" in out


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck_of_the_other_cells(capsys, cell):
    from numrnn.apps.gradcheck import available_cells

    if cell not in available_cells():
        pytest.skip(f"numrnn has no {cell.upper()} in this build")
    status, out, _ = run(capsys, "gradcheck", "--cell", cell, "--hidden", "3", "--steps", "4")
    assert status == 0 and f"{cell.upper()}," in out and "FAIL" not in out
    assert_usage_error(run(capsys, "gradcheck", "--cell", cell, "--nonlinearity", "relu"), "no nonlinearity")


def test_gradcheck_truncation_needs_one_layer(capsys):
    assert_usage_error(run(capsys, "gradcheck", "--layers", "2", "--bptt-truncate", "2"), "single-layer")


# -- the entry points -------------------------------------------------------------------------------------------------

def test_help_exits_0(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "train" in out and "gradcheck" in out


def test_no_command_is_a_usage_error(capsys):
    status, _, err = run(capsys)
    assert status == 2 and "COMMAND" in err


def test_python_dash_m_numrnn_runs_the_cli(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-m", "numrnn", "gradcheck", "--hidden", "2", "--steps", "3"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "all" in result.stdout
