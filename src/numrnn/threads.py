"""How many threads NumPy's BLAS may use: one policy, applied by every entry point.

OpenBLAS wakes its worker threads for every matrix product. For the small products of a recurrence (one time step
of a few sequences: (G*H, H) by (H, B)) the wake-up costs more than the product, many times more when the machine
is busy: a 512-unit LSTM step took 2.8 ms with two threads and 0.16 ms with one on a loaded 2-core machine, and a
small model's whole training ran 18x slower with the default threads than with one. So:

- a model whose recurrent step is small (fewer than SMALL_STEP multiply-adds for the batch at hand: every tutorial
  task, the CSV forecaster) runs the whole call on one BLAS thread: `fit`, `predict`, `evaluate`, `train_on_batch`,
  `test_on_batch`, sampling and the command line all enter `for_model` (Sequential does it for its methods);
- a larger model keeps every thread for its large products (the input projection, the weight gradients), and its
  time loop runs on one thread only where a step is small or has a single row (`for_step`, entered by the layers);
- with several Python worker threads, each running a share of the batch (the character model's trainer), BLAS gets
  the cores divided among them (`workers=`).

Limits only ever lower the thread count, nest freely, and cost nothing when an outer block already set a lower or
equal limit. The threads are set through threadpoolctl (the library scikit-learn uses for this), on the BLAS
libraries loaded in this process; where it finds none, nothing changes.
"""
import contextlib
import os
import threading

#: a time step's multiply-adds below which the recurrence runs on one BLAS thread. Measured on 2 idle cores
#: (W (G*H, K) times (K, B), the unit-major step): 512 x 128 x 8 (0.5M) takes the same time on one thread as on
#: two; 512 x 128 x 16 (1M) 25 us on one against 17 on two; 512 x 128 x 32 (2M) 51 against 28.
SMALL_STEP = 1024 * 1024

_lock = threading.RLock()
_controllers = None
_limit = None  # the limit in force (None: none); BLAS thread counts are the process's, so is this


def _blas_controllers():
    """threadpoolctl's controllers of the BLAS libraries in this process, found once."""
    global _controllers
    if _controllers is None:
        with _lock:
            if _controllers is None:
                try:
                    from threadpoolctl import ThreadpoolController
                except ImportError:  # declared as a dependency; without it, threads are left alone
                    _controllers = []
                else:
                    import numpy  # noqa: F401  (loads NumPy's BLAS, so that threadpoolctl finds it)
                    _controllers = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return _controllers


def current_limit():
    """The BLAS thread limit set by the enclosing `blas_threads` blocks, or None."""
    return _limit


@contextlib.contextmanager
def blas_threads(count):
    """Limit NumPy's BLAS to `count` threads inside the block (never raising it); a no-op inside a block whose
    limit is already `count` or lower. The count is the process's: worker threads started inside the block (a
    pool running a model on shares of a batch) work under its limit, and their own blocks are no-ops."""
    global _limit
    count = max(1, int(count))
    with _lock:
        outer = _limit
        if outer is not None and outer <= count:
            nested = True
        else:
            nested = False
            controllers = _blas_controllers()
            previous = [controller.get_num_threads() for controller in controllers]
            for controller, before in zip(controllers, previous):
                if count < before:
                    controller.set_num_threads(count)
            _limit = count
    if nested:
        yield
        return
    try:
        yield
    finally:
        with _lock:
            _limit = outer
            for controller, before in zip(controllers, previous):
                if controller.get_num_threads() != before:
                    controller.set_num_threads(before)


def threads_for(step_multiply_adds, rows=None, workers=1):
    """The policy: the BLAS thread count for work whose recurrent step has `step_multiply_adds` multiply-adds
    (`rows`: the batch; one row is bound by memory), shared by `workers` Python threads. None means no limit."""
    if workers > 1:
        return max(1, (os.cpu_count() or 1) // workers)
    if rows == 1 or step_multiply_adds < SMALL_STEP:
        return 1
    return None


def for_step(batch, rows, columns):
    """The context for a time loop whose step multiplies (rows, columns) by (columns, batch)."""
    count = threads_for(batch * rows * columns, rows=batch)
    return contextlib.nullcontext() if count is None else blas_threads(count)


def for_model(model, batch, workers=1):
    """The context for a call of `model` (anything with `layers`, each with `step_multiply_adds(batch)`) on
    `batch` sequences, shared by `workers` Python threads."""
    largest = max((layer.step_multiply_adds(batch) for layer in getattr(model, "layers", ())), default=0)
    count = threads_for(largest, rows=batch, workers=workers)
    return contextlib.nullcontext() if count is None else blas_threads(count)
