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


@pytest.mark.parametrize("batch, hidden, gate_size, threads", [
    (16, 128, 256, 1),    # 0.5M multiply-adds a step: one thread is as fast
    (1, 512, 2048, 1),    # one row (sampling): always one thread
    (32, 128, 512, 2),    # 2M: two threads are ~1.8x faster on an idle machine
    (64, 512, 2048, 2),
])
def test_recurrence_threads_by_step_size(batch, hidden, gate_size, threads):
    handles = _blas._openblas_handles()
    if not handles:
        pytest.skip("NumPy's BLAS here is not OpenBLAS")
    get, put = handles[0]
    before = get()
    put(2)
    try:
        with _blas.recurrence_threads(batch, hidden, gate_size):
            assert get() == threads
        assert get() == 2
    finally:
        put(before)
