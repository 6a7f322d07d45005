"""The README runs top to bottom: every ```bash and ```python block, in order, in one scratch folder, as a user
pasting them into a fresh checkout would (pip installs are skipped: the test runs in the installed package).

Long runs take a shorter budget here: `--time-budget N` becomes `--time-budget 3`, and `--epochs N` of the text
model `--epochs 1`. A block marked `<!-- readme-test: skip -->` on the line before it is not run (none is, today).
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- readme-test: skip -->\n)?```(bash|python)\n(.*?)```", re.S)

pytestmark = pytest.mark.slow


def blocks(text):
    """(language, code) of every runnable block, in order."""
    return [(language, code) for skip, language, code in BLOCK.findall(text) if not skip]


def shorten(command):
    command = re.sub(r"--time-budget \d+", "--time-budget 3", command)
    return command


def bash_lines(code):
    """The commands of a bash block: comments stripped, continuation lines joined, pip installs skipped."""
    joined = code.replace("\\\n", " ")
    for line in joined.splitlines():
        command = line.split("  #")[0].split(" # ")[0].strip()
        if not command or command.startswith("#"):
            continue
        parts = [part.strip() for part in command.split("&&")]
        parts = [part for part in parts if not part.startswith(("pip ", "python -m pip", "python -m pytest", "python3.11 -m venv",
                                                                ". .venv"))]
        if parts:
            yield shorten(" && ".join(parts))


def test_readme_has_the_two_command_quick_start():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [line for _, code in blocks(quick) for line in code.strip().splitlines()]
    assert len(commands) == 2, commands
    assert commands[1].split("#")[0].strip() == 'pip install -e ".[test]" && python -m pytest'


def test_every_block_runs_in_order(tmp_path):
    text = (ROOT / "README.md").read_text()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), MPLBACKEND="Agg")
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    ran = 0
    for index, (language, code) in enumerate(blocks(text)):
        if language == "python":
            script = tmp_path / f"block_{index}.py"
            script.write_text(code)
            commands = [f"{sys.executable} {script.name}"]
        else:
            commands = list(bash_lines(code))
        for command in commands:
            if command.startswith("numrnn "):
                command = f"{sys.executable} -m numrnn {command[len('numrnn '):]}"
            result = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                                    timeout=300)
            assert result.returncode == 0, f"README block {index} ({language}): {command}\n{result.stdout}\n" \
                                           f"{result.stderr}"
            ran += 1
    assert ran >= 10
