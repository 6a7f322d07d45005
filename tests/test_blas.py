"""The BLAS thread limiter: it lowers the thread count inside the block and restores it after."""
import numpy as np
import pytest

from numrnn import _blas


def test_blas_threads_limits_and_restores():
    handles = _blas._openblas_handles()
    if not handles:
        pytest.skip("NumPy's BLAS here is not OpenBLAS")
    get, put = handles[0]
    put(2)
    with _blas.blas_threads(1):
        assert get() == 1
        np.ones((64, 64)) @ np.ones((64, 64))
    assert get() == 2


def test_small_recurrences_use_one_thread_large_ones_all():
    assert _blas.recurrence_threads(64, 256, 256).__class__.__name__ == "_GeneratorContextManager"
    assert _blas.recurrence_threads(64, 512, 512).__class__.__name__ == "nullcontext"
