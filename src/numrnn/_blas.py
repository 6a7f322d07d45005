"""How many threads NumPy's BLAS may use, set from inside the process.

OpenBLAS wakes its worker threads for every matrix product. For the small products of a recurrence (one time step:
(batch, H) x (H, G*H)) the wake-up costs more than the product, many times more when the machine is busy: a 512-unit
LSTM step took 2.8 ms with two threads and 0.16 ms with one on a loaded 2-core machine. So the recurrent layers run
their time loop on one thread when a step's product is small, and leave the large products (the input projection,
the weight gradients) to all threads.

The threads are set through OpenBLAS's own setter, found with ctypes in the libraries the process loaded; where
there is none (another BLAS, another OS), `blas_threads` does nothing.
"""
import contextlib
import ctypes

_handles = None


def _openblas_handles():
    """(get_num_threads, set_num_threads) of each OpenBLAS loaded in this process (Linux: /proc/self/maps)."""
    global _handles
    if _handles is not None:
        return _handles
    import numpy  # noqa: F401  (loads NumPy's OpenBLAS, so that it is in the maps)

    handles = []
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    except OSError:
        paths = []
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", "_64_", ""):
                get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
                put = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                    handles.append((get, put))
                    break
            else:
                continue
            break
    _handles = handles
    return handles


@contextlib.contextmanager
def blas_threads(count):
    """Limit NumPy's OpenBLAS to `count` threads inside the block (never raising it); a no-op elsewhere."""
    handles = _openblas_handles()
    previous = [get() for get, _ in handles]
    for (_, put), before in zip(handles, previous):
        if count < before:
            put(count)
    try:
        yield
    finally:
        for (get, put), before in zip(handles, previous):
            if get() != before:
                put(before)


#: a time step's multiply-adds below which the recurrence runs on one BLAS thread. Measured on 2 idle cores
#: (W (G*H, K) times (K, B), the unit-major step): 512 x 128 x 8 (0.5M) takes the same time on one thread as on
#: two; 512 x 128 x 16 (1M) 25 us on one against 17 on two; 512 x 128 x 32 (2M) 51 against 28.
SMALL_STEP = 1024 * 1024


def recurrence_threads(batch, hidden, gate_size):
    """A context for a time loop whose step multiplies (batch, hidden) by (hidden, gate_size).

    One row (sampling) always runs on one thread: the product is then bound by memory, and two threads, 1.9x
    faster on an idle machine, were 17x slower on a loaded one (a 512-unit LSTM step: 2.8 ms against 0.16)."""
    if batch == 1 or batch * hidden * gate_size < SMALL_STEP:
        return blas_threads(1)
    return contextlib.nullcontext()
