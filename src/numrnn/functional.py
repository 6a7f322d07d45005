"""The element-wise functions of numrnn and their derivatives, written once.

    tanh     y = tanh(z)                      act'(z) = 1 - y^2
    sigmoid  y = 1 / (1 + exp(-z))            act'(z) = y (1 - y)        computed as (1 + tanh(z / 2)) / 2, exact to 1e-16 absolute
    relu     y = max(z, 0)                    act'(z) = [y > 0]
    linear   y = z                            act'(z) = 1
    softmax  y_i = exp(z_i - m) / sum_j exp(z_j - m),   m = max_j z_j           over the last axis
    log_softmax  z_i - m - log sum_j exp(z_j - m)

Every derivative is written in terms of the output y, so a backward pass needs only what its forward returned.
sigmoid through tanh needs one transcendental call and cannot overflow for any finite z; subtracting the row's
maximum m makes softmax's largest exponent exp(0) = 1, so nothing overflows and the log's argument lies in [1, C].
Functions take `out=` (which may be the input itself) so the recurrent loops can work in place.
"""
import numpy as np

#: the nonlinearities a recurrent cell or an Activation layer may use
ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def sigmoid(z, out=None):
    """1 / (1 + exp(-z)) as (1 + tanh(z / 2)) / 2, into `out` (z itself for in place)."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def activate(name, z, out=None):
    """act(z) for act in ACTIVATIONS, into `out` (z itself for in place)."""
    if name == "tanh":
        return np.tanh(z, out=out)
    if name == "sigmoid":
        return sigmoid(z, out=out)
    if name == "relu":
        return np.maximum(z, 0, out=out)
    if name == "linear":
        if out is None:
            return np.array(z, copy=True)
        if out is not z:
            np.copyto(out, z)
        return out
    raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}")


def derivative(name, y, out=None):
    """act'(z) written in terms of the output y = act(z), into `out`."""
    if out is None:
        out = np.empty_like(y)
    if name == "tanh":
        np.multiply(y, y, out=out)
        np.subtract(1, out, out=out)
    elif name == "sigmoid":
        np.subtract(1, y, out=out)
        out *= y
    elif name == "relu":
        np.greater(y, 0, out=out)
    elif name == "linear":
        out.fill(1)
    else:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}")
    return out


def softmax(z, axis=-1):
    """exp(z - m) / sum exp(z - m) over `axis`, a new array in z's dtype."""
    probs = np.subtract(z, np.max(z, axis=axis, keepdims=True))
    np.exp(probs, out=probs)
    probs /= probs.sum(axis=axis, keepdims=True)
    return probs


def log_softmax(z, axis=-1):
    """z - m - log sum exp(z - m) over `axis`, a new array in z's dtype (exact for logits of any size)."""
    return softmax_and_log_softmax(z, axis)[1]


def softmax_and_log_softmax(z, axis=-1):
    """(softmax(z), log_softmax(z)) with one exp: what a cross-entropy needs for its loss and its gradient."""
    log_probs = np.subtract(z, np.max(z, axis=axis, keepdims=True))  # z - m <= 0: exp cannot overflow
    probs = np.exp(log_probs)
    sums = probs.sum(axis=axis, keepdims=True)  # in [1, C]: its log is safe
    probs /= sums
    log_probs -= np.log(sums)
    return probs, log_probs


def softmax_backward(y, grad_y):
    """dL/dz from y = softmax(z) and dL/dy:  y * (grad_y - sum(grad_y * y))  over the last axis."""
    return y * (grad_y - np.sum(grad_y * y, axis=-1, keepdims=True))
