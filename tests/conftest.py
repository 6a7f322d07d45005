import numpy as np
import pytest

import numrnn
from numrnn.apps import charlm
from numrnn.cli.main import main


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same generator state, so a failure reproduces."""
    numrnn.seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- a small character model, shared by the charlm and text-command tests ----------------------------------------

@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text(charlm.read_text(charlm.default_corpus())[:3000], encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained(corpus, tmp_path_factory):
    """A tiny model trained for 1.5 s through the command line, as a user would."""
    out = tmp_path_factory.mktemp("run")
    status = main(["train", "text", "--data", str(corpus), "--out", str(out), "--time-budget", "1.5",
                   "--hidden", "16", "--layers", "1", "--embedding-size", "8", "--batch", "4", "--steps", "10",
                   "--val-every", "0.5", "--val-streams", "4", "--quiet"])
    assert status == 0
    return out
