"""`numrnn evaluate MODEL --task TASK`, `numrnn predict` and `numrnn info` on a saved model."""
import json

import numpy as np

import numrnn
from numrnn.cli.main import main

from ._helpers import assert_usage_error, run


def test_evaluate_prints_the_task_metrics(capsys, mod3_model):
    status, out, _ = run(capsys, "evaluate", mod3_model, "--task", "mod3")
    assert status == 0 and out.startswith("mod3: accuracy")
    status, out, _ = run(capsys, "evaluate", mod3_model, "--task", "mod3", "--json", "--seed", "11")
    metrics = json.loads(out)
    assert 0.0 <= metrics["accuracy_5T"] <= 1.0 and len(metrics["accuracy_per_step_5T"]) == 50


def test_evaluate_on_the_wrong_task(capsys, mod3_model):
    assert_usage_error(run(capsys, "evaluate", mod3_model, "--task", "sine"), "task sine needs 1 and 1")


def test_evaluate_without_a_task_uses_the_one_the_model_was_trained_on(capsys, mod3_model):
    status, out, _ = run(capsys, "evaluate", mod3_model)
    assert status == 0 and out.startswith("mod3: accuracy")


def test_evaluate_needs_a_task_or_data_for_a_model_that_does_not_say(capsys, tmp_path):
    import numrnn
    path = tmp_path / "plain.npz"
    numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 3)], loss="cross_entropy").save(path)
    assert_usage_error(run(capsys, "evaluate", path), "--task")


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
    assert main(["train", "count", "--epochs", "5", "--out", str(out), "--no-plots", "--quiet"]) == 0
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
