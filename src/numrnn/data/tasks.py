"""The four tasks of the seed tutorials as datasets: small, seeded, and shaped for numrnn.Sequential.

    count_ones(n, steps)   X (n, steps, 1) of 0.0/1.0          y (n, 1)  the number of ones         (tutorial 003)
    mod3(n, steps)         X (n, steps, 3) one-hot of x_t       y (n, steps) int, (x_t + 1) % 3      (tutorial 001)
    sine(n, start)         X (n, 50, 1): sin(x), ..., sin(x+49) y (n, 1)  sin(x + 50)               (tutorial 002)
    mult_series(n)         X (n, 10, 61) one-hot of s, 2s, ..., 10s, s in 2..6
                           y (n, 10) int: the next element, and class 1 (an end marker) at the last step (000)

Class targets are integer indices (what numrnn's CrossEntropy takes); inputs are float arrays of `dtype`.
`seed`: an int gives the same data on every call; None draws from numrnn's generator (numrnn.seed sets it).
"""
import numpy as np

from .._validate import check_dtype, check_positive_int
from ..random import get_rng

__all__ = ["count_ones", "mod3", "sine", "mult_series", "sine_windows", "MULT_SERIES_CLASSES", "END_MARKER",
           "SINE_WINDOW"]

#: the classes of the multiplication series: the numbers 0..60 (10 s is at most 60)
MULT_SERIES_CLASSES = 61
#: the class that marks the end of a multiplication series (no element of a series is 1)
END_MARKER = 1
#: the window length of the sine task, as in tutorial 002
SINE_WINDOW = 50


def _generator(seed):
    if seed is None:
        return get_rng()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer or None, got {type(seed).__name__} {seed!r}")
    return np.random.default_rng(int(seed))


def count_ones(n=20, steps=10, seed=None, dtype="float32"):
    """Binary sequences and how many ones each holds: X (n, steps, 1) of 0.0/1.0, y (n, 1) of counts.

    Each bit is 1 with probability 1/2, as in tutorial 003 (20 sequences of length 10 there).
    """
    n, steps, dtype = check_positive_int("n", n), check_positive_int("steps", steps), check_dtype(dtype)
    bits = _generator(seed).integers(0, 2, size=(n, steps))
    X = bits[:, :, None].astype(dtype)
    y = bits.sum(axis=1, keepdims=True).astype(dtype)
    return X, y


def mod3(n=100, steps=10, seed=None, dtype="float32"):
    """Symbols 0, 1, 2 one-hot, X (n, steps, 3), and at every step the next symbol mod 3: y (n, steps) int64.

    y[i, t] = (x[i, t] + 1) % 3, where x[i, t] = X[i, t].argmax().
    """
    n, steps, dtype = check_positive_int("n", n), check_positive_int("steps", steps), check_dtype(dtype)
    symbols = _generator(seed).integers(0, 3, size=(n, steps))
    X = np.eye(3, dtype=dtype)[symbols]
    y = (symbols + 1) % 3
    return X, y.astype(np.int64)


def sine_windows(starts, window=SINE_WINDOW, dtype="float32"):
    """For each integer x0 in `starts`: X[i] = sin(x0), ..., sin(x0 + window - 1) (radians), y[i] = sin(x0 + window).

    Returns X (len(starts), window, 1) and y (len(starts), 1).
    """
    window, dtype = check_positive_int("window", window), check_dtype(dtype)
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    if starts.size == 0:
        raise ValueError("starts is empty: give at least one window start")
    x = starts[:, None] + np.arange(window + 1)[None, :]
    wave = np.sin(x.astype(np.float64))
    return wave[:, :window, None].astype(dtype), wave[:, window:].astype(dtype)


def sine(n=100, start=0, window=SINE_WINDOW, dtype="float32"):
    """n consecutive windows of sin(x), x = start, start + 1, ... (integer radians), and the value after each.

    X[i] = sin(start + i), ..., sin(start + i + window - 1), shape (n, window, 1); y[i] = sin(start + i + window),
    shape (n, 1). Tutorial 002 trains on sine(100, start=0) and validates on sine(50, start=100). No randomness:
    the same arguments give the same windows.
    """
    n = check_positive_int("n", n)
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(f"start must be a non-negative integer, got {start!r}")
    return sine_windows(int(start) + np.arange(n), window=window, dtype=dtype)


def mult_series(n=3000, seed=None, dtype="float32"):
    """Multiplication series s, 2s, ..., 10s with s drawn uniformly from 2..6, one-hot over 61 classes.

    X (n, 10, 61): X[i, t] is the one-hot of (t + 1) s.  y (n, 10) int64: y[i, t] = (t + 2) s for t < 9, the next
    element, and y[i, 9] = 1, the end marker (tutorial 000 made its last target two-hot; this one is a single
    class). Only 5 different sequences exist, so any training and test split share them.
    """
    n, dtype = check_positive_int("n", n), check_dtype(dtype)
    starts = _generator(seed).integers(2, 7, size=n)
    series = starts[:, None] * np.arange(1, 11)[None, :]  # (n, 10): s, 2s, ..., 10s
    X = np.eye(MULT_SERIES_CLASSES, dtype=dtype)[series]
    y = np.empty_like(series)
    y[:, :-1] = series[:, 1:]
    y[:, -1] = END_MARKER
    return X, y.astype(np.int64)
