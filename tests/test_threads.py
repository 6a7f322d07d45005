"""numrnn.threads: the BLAS thread policy, through threadpoolctl; limits lower, nest, restore, and every entry
point of a model applies them."""
import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import numrnn
from numrnn import threads


def blas_threads_now():
    """NumPy's BLAS threads, as a list of one ([] where threadpoolctl finds no BLAS). Only NumPy's: a test that
    imports statsmodels loads SciPy's BLAS too, which numrnn does not limit (these tests skipped in a full run
    before they looked at NumPy's alone)."""
    entries = [entry for entry in threadpool_info() if entry["user_api"] == "blas"]
    numpy_dir = os.path.dirname(np.__file__)  # its wheels keep the library in numpy.libs/ beside it
    own = [entry for entry in entries if os.path.dirname(entry["filepath"]).startswith(numpy_dir)]
    return [entry["num_threads"] for entry in (own or entries[:1])]


@pytest.fixture
def two_threads():
    from threadpoolctl import threadpool_limits
    if not blas_threads_now():
        pytest.skip("threadpoolctl finds no BLAS library here")
    with threadpool_limits(limits=2, user_api="blas"):
        if blas_threads_now() != [2]:
            pytest.skip("this BLAS cannot run two threads")
        yield


def test_limit_lowers_nests_and_restores(two_threads):
    with threads.blas_threads(1):
        assert blas_threads_now() == [1] and threads.current_limit() == 1
        with threads.blas_threads(2):  # never raises an outer limit
            assert blas_threads_now() == [1]
        np.ones((64, 64)) @ np.ones((64, 64))
    assert blas_threads_now() == [2] and threads.current_limit() is None


def test_limit_is_restored_after_an_exception(two_threads):
    with pytest.raises(RuntimeError):
        with threads.blas_threads(1):
            raise RuntimeError("inside")
    assert blas_threads_now() == [2]


@pytest.mark.parametrize("batch, rows, columns, limited", [
    (16, 256, 128, True),     # 0.5M multiply-adds a step: one thread is as fast
    (1, 2048, 512, True),     # one row (sampling): always one thread
    (32, 512, 128, False),    # 2M: two threads are ~1.8x faster on an idle machine
    (64, 2048, 512, False),
])
def test_time_loop_threads_by_step_size(two_threads, batch, rows, columns, limited):
    with threads.for_step(batch, rows, columns):
        assert blas_threads_now() == ([1] if limited else [2])


def test_workers_share_the_cores():
    assert threads.threads_for(10 ** 9, rows=64, workers=2) == max(1, (os.cpu_count() or 1) // 2)
    assert threads.threads_for(10 ** 9, rows=64) is None
    assert threads.threads_for(10, rows=64) == 1


class Spy(numrnn.callbacks.Callback):
    def on_batch_end(self, batch, logs=None):
        self.seen = blas_threads_now()


def test_every_entry_point_of_a_small_model_runs_on_one_thread(two_threads, rng):
    X, y = np.eye(3)[rng.integers(0, 3, (8, 5))], rng.integers(0, 3, (8, 5))
    model = numrnn.Sequential([numrnn.RNN(3, 8), numrnn.Dense(8, 3)], loss="cross_entropy", optimizer="adam")
    spy = Spy()
    model.fit(X, y, epochs=1, batch_size=4, callbacks=[spy])
    assert spy.seen == [1] and blas_threads_now() == [2]
    seen = []
    original = model.forward

    def forward(*args, **kwargs):
        seen.append(blas_threads_now())
        return original(*args, **kwargs)

    model.forward = forward
    model.predict(X)
    model.evaluate(X, y)
    model.train_on_batch(X, y)
    assert seen == [[1]] * 3 and blas_threads_now() == [2]


def test_a_large_model_keeps_every_thread_outside_its_time_loop(two_threads):
    model = numrnn.Sequential([numrnn.LSTM(8, 512), numrnn.Dense(512, 3)], loss="cross_entropy")
    with threads.for_model(model, 64):
        assert blas_threads_now() == [2]
