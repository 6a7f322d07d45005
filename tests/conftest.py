import numpy as np
import pytest

import numrnn


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same generator state, so a failure reproduces."""
    numrnn.seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
