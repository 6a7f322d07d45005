"""Argument checks shared by every public entry point.

Each check raises before any work is done, with a message that names the argument, says what was expected and
what came, in the spirit of torch's "input.size(-1) must be equal to input_size. Expected 5, got 4".
"""
import numbers

import numpy as np

FLOAT_DTYPES = {"float32": np.float32, "float64": np.float64}


def check_dtype(dtype):
    """Return np.float32 or np.float64 for a name or dtype, or raise ValueError."""
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return FLOAT_DTYPES[name]


def check_positive_int(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_positive_float(name, value, allow_zero=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a {bound} finite number, got {value}")
    return value


def check_probability(name, value):
    """A number in [0, 1), as for dropout."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in [0, 1), got {type(value).__name__} {value!r}")
    value = float(value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def as_real_array(name, data):
    """`data` as a NumPy array of real numbers (bools count), or a TypeError naming it: strings, objects,
    complex numbers, dates and durations are refused, never parsed or cast."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged lists
        raise TypeError(f"{name} must be an array of numbers, could not convert it: {error}") from None
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex dtype {array.dtype}")
    if kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype}")
    return array


def as_float_array(name, data, dtype, ndim=None, last_dim=None, finite=True, min_ndim=None):
    """Convert `data` to a float array of `dtype`, checking its rank, last axis and (if `finite`) for NaN/inf.

    ndim may be an int or a tuple of allowed ranks (min_ndim a lower bound); last_dim the required size of the last
    axis. Layers pass finite=False: the model checks its data once, not on every step.
    """
    array = as_real_array(name, data)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got {array.ndim} (shape {array.shape})")
    if min_ndim is not None and array.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got {array.ndim} (shape {array.shape})")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    if last_dim is not None and (array.ndim == 0 or array.shape[-1] != last_dim):
        got = "a scalar" if array.ndim == 0 else array.shape[-1]
        raise ValueError(f"{name}.shape[-1] must be equal to {last_dim}, got {got} (shape {array.shape})")
    array = array.astype(dtype, copy=False)
    if finite:
        check_finite(name, array)
    return array


def as_gradient(name, grad, shape, dtype):
    """A backward's incoming gradient: real numbers of exactly `shape`, as `dtype` (strings are never parsed)."""
    array = as_real_array(name, grad)
    if array.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of the last output {tuple(shape)}, got {array.shape}")
    return array.astype(dtype, copy=False)


def check_finite(name, array, where=None):
    """Raise a ValueError naming the first NaN or inf of `array`; where: a boolean array over its leading axes, to
    look only where it is True (a batch's real steps: padding may hold anything)."""
    bad = ~np.isfinite(array)
    if where is not None:
        bad &= where.reshape(where.shape + (1,) * (array.ndim - where.ndim))
    if bad.any():
        bad = np.argwhere(bad)[0]
        value = array[tuple(bad)]
        raise ValueError(f"{name} must be finite, found {value} at index {tuple(int(i) for i in bad)}")


def as_index_array(name, data, ndim=None, upper=None):
    """Integer class indices in [0, upper)."""
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged lists
        raise TypeError(f"{name} must be an array of integer indices, could not convert it: {error}") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold integer indices, got an array of dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        if not np.isfinite(array).all() or not np.all(array == np.round(array)):
            raise TypeError(f"{name} must hold integer indices, got non-integer values of dtype {array.dtype}")
        if array.size and float(np.abs(array).max()) >= 2.0 ** 62:
            raise ValueError(f"{name} must hold integer indices, got values as large as {np.abs(array).max():g}")
        array = array.astype(np.int64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if array.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got {array.ndim} (shape {array.shape})")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape})")
    low, high = int(array.min()), int(array.max())
    if low < 0 or (upper is not None and high >= upper):
        bounds = "non-negative" if upper is None else f"in [0, {upper})"
        raise ValueError(f"{name} must be {bounds}, got values from {low} to {high}")
    return array
