"""`numrnn evaluate MODEL --data FILE`, `numrnn sample` and `numrnn train text` from the command line: what they print,
and `numrnn: error: ...` with status 2 (never a traceback) for bad input. (The trained model: tests/conftest.py.)"""
import json
import math

import pytest

from numrnn.cli.main import main


def run_text(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_evaluate_json_prints_nats_and_bits(trained, corpus, capsys):
    status, out, err = run_text(["evaluate", str(trained / "model.npz"), "--data", str(corpus), "--json"], capsys)
    assert status == 0, err
    result = json.loads(out)
    assert result["val_loss"] == pytest.approx(json.loads((trained / "history.json").read_text())["final"]["val_loss"],
                                               abs=1e-4)
    assert result["bits_per_char"] == pytest.approx(result["val_loss"] / math.log(2))


def test_output_dropout_puts_a_dropout_layer_before_the_dense_one(corpus, tmp_path, capsys):
    import numrnn

    argv = ["train", "text", "--data", str(corpus), "--out", str(tmp_path), "--max-steps", "2", "--hidden", "8",
            "--layers", "1", "--embedding-size", "4", "--batch", "4", "--steps", "10", "--val-streams", "2",
            "--cell", "lstm", "--output-dropout", "0.3", "--quiet"]
    status, _, err = run_text(argv, capsys)
    assert status == 0, err
    layers = numrnn.load(tmp_path / "model.npz").layers
    assert [type(layer).__name__ for layer in layers] == ["Embedding", "LSTM", "Dropout", "Dense"]
    assert layers[2].p == 0.3


def test_sample_command_prints_prime_and_text(trained, capsys):
    argv = ["sample", str(trained / "model.npz"), "--length", "40", "--temperature", "0.8", "--prime", "ROMEO:",
            "--seed", "3"]
    status, out, _ = run_text(argv, capsys)
    assert status == 0
    assert out.startswith("ROMEO:") and len(out) == len("ROMEO:") + 40 + 1
    assert run_text(argv, capsys)[1] == out


@pytest.mark.parametrize("argv, message", [
    (["train", "text", "--data", "{missing}", "--out", "{out}"], "no such text file"),
    (["train", "text", "--data", "{empty}", "--out", "{out}"], "is empty"),
    (["sample", "{model}", "--prime", "\u2603"], "outside the vocabulary"),
    (["sample", "{model}", "--length", "0"], "--length must be a positive integer"),
    (["sample", "{model}", "--length", "-3"], "--length must be a positive integer"),
    (["sample", "{model}", "--temperature", "-0.5"], "temperature must be"),
    (["sample", "{missing}"], "no such model file"),
    (["evaluate", "{model}", "--data", "{missing}"], "no such text file"),
    (["evaluate", "{model}", "--data", "{empty}"], "is empty"),
    (["evaluate", "{model}", "--data", "{foreign}"], "not in the model's vocabulary"),
    (["train", "text", "--out", "{out}", "--output-dropout", "1"], "--output-dropout must be in [0, 1)"),
])
def test_bad_input_exits_2_with_a_message(argv, message, trained, tmp_path, capsys):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "foreign.txt").write_text("\u00e9\u00e8" * 20, encoding="utf-8")
    paths = {"missing": str(tmp_path / "missing.txt"), "empty": str(tmp_path / "empty.txt"),
             "foreign": str(tmp_path / "foreign.txt"), "model": str(trained / "model.npz"),
             "out": str(tmp_path / "out")}
    status, _, err = run_text([item.format(**paths) for item in argv], capsys)
    assert status == 2
    assert err.startswith("numrnn: error: ") and message in err
    assert "Traceback" not in err
