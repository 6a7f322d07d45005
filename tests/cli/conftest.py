"""Fixtures of the command-line tests: a quickly trained mod3 model and a CSV series."""
import numpy as np
import pytest

from numrnn.cli.main import main


@pytest.fixture(scope="module")
def mod3_model(tmp_path_factory):
    """A quickly trained mod3 model (2 epochs), written by the command line."""
    out = tmp_path_factory.mktemp("mod3")
    assert main(["train", "mod3", "--epochs", "2", "--out", str(out), "--quiet", "--no-plots"]) == 0
    return out / "model.npz"


@pytest.fixture
def series_csv(tmp_path):
    values = 5 + np.sin(np.arange(120) / 4.0)
    lines = ["day,level,note"] + [f"{i},{v:.5f},x" for i, v in enumerate(values)]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n")
    return path
