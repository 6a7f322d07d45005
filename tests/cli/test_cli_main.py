"""The entry points: the one parser's help, a missing command, `python -m numrnn`, and the dispatch of the text
commands to numrnn.cli.text."""
from numrnn.cli import text

from ._helpers import run


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


def test_text_commands_dispatch_to_numrnn_cli_text(capsys, monkeypatch):
    """train text, sample and evaluate --data (without --task) reach the text commands with their options."""
    calls = []
    monkeypatch.setattr(text, "train_text", lambda args: calls.append(("train", args.hidden)) or 0)
    monkeypatch.setattr(text, "sample", lambda args: calls.append(("sample", args.model, args.length)) or 0)
    monkeypatch.setattr(text, "evaluate_text",
                        lambda args: calls.append(("evaluate", args.model, args.data, args.json)) or 3)
    assert run(capsys, "train", "text", "--hidden", "7")[0] == 0
    assert run(capsys, "sample", "m.npz", "--length", "9")[0] == 0
    assert run(capsys, "evaluate", "m.npz", "--data", "t.txt", "--json")[0] == 3
    assert calls == [("train", 7), ("sample", "m.npz", 9), ("evaluate", "m.npz", "t.txt", True)]


def test_the_text_commands_are_in_the_one_parser(capsys):
    """No second parser: `numrnn train --help` lists text beside the tasks, and train text has its own help."""
    status, out, _ = run(capsys, "train", "--help")
    assert status == 0 and "text" in out and "csv" in out and "mult-series" in out
    status, out, _ = run(capsys, "train", "text", "--help")
    assert status == 0 and "usage: numrnn train text" in out and "--time-budget" in out and "--val-streams" in out
    status, out, _ = run(capsys, "sample", "--help")
    assert status == 0 and "--temperature" in out


def test_bad_text_options_are_usage_errors(capsys):
    status, _, err = run(capsys, "train", "text", "--hidden", "0")
    assert status == 2 and "--hidden" in err and "usage: numrnn train text" in err
