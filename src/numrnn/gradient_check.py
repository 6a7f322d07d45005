"""Numerical gradient checking by central differences, in float64.

    numerical_gradient(f, array)       d f / d array, one element at a time: (f(a + eps) - f(a - eps)) / (2 eps)
    relative_error(analytic, numeric)  ||a - n|| / (||a|| + ||n||), the figure reported per tensor
    gradcheck(target, x, ...)          every parameter and the input of a layer, a stack of layers, a model or
                                       a cell (and a cell's states) against the hand-written backward;
                                       returns {name: relative error}
    truncated_gradcheck(layer, x)      a layer with truncated BPTT against the brute-force truncated gradient

The analytic gradients come from one forward and one backward; the numerical ones perturb each element in place
and run two forwards. Everything runs in float64 so the rounding error (~1e-16 / eps) stays far below the 1e-6
tolerance the tests ask for.
"""
import numpy as np

from .cells.base import Cell


def numerical_gradient(f, array, eps=1e-6):
    """Central-difference gradient of the scalar f() with respect to `array`, perturbed in place and restored."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)  # a view: writing through it perturbs what f() reads
    grad_flat = grad.reshape(-1)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        plus = f()
        flat[i] = original - eps
        minus = f()
        flat[i] = original
        grad_flat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric, floor=1e-12):
    """||a - n|| / max(||a|| + ||n||, floor) over the whole tensor (L2 norms).

    Measured per tensor rather than per element: an element whose gradient is tiny (a saturated sigmoid, a
    far-away time step) carries the finite-difference noise of the whole function (~1e-10 absolute) and would
    report a large element-wise ratio although the tensor's gradient is right to ten digits.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic gradient has shape {analytic.shape}, numerical {numeric.shape}")
    if analytic.size == 0:
        return 0.0
    scale = max(np.linalg.norm(analytic) + np.linalg.norm(numeric), floor)
    return float(np.linalg.norm(analytic - numeric) / scale)


def gradcheck(target, x, y=None, loss=None, eps=1e-6, seed=0, forward_kwargs=None, check_input=True, state=None):
    """Compare the hand-written gradients of `target` with central differences; return {tensor: rel. error}.

    target: a layer (anything with forward/backward/params/grads), a numrnn.Sequential, or a numrnn.cells.Cell.
    x: the input, float64 (integer ids for an Embedding).
    y, loss: a target and a loss object; without them the scalar checked is sum(output * R) for a fixed random R,
        which sends a different, non-trivial gradient into every output element.
    forward_kwargs: passed to forward (h0, lengths, ...).
    state: for a cell only, the tuple of states its forward takes (default: random normal ones from a generator
        seeded with `seed`). The scalar is sum(output * R0) + sum_k sum(new_state[k] * R_k), and the result has
        an entry per parameter, "input" and "state0", "state1", ... (the inputs' only if check_input).
    The target must be in float64 and have no dropout active: a check needs the same function on every call.
    """
    if isinstance(target, Cell):
        return _gradcheck_cell(target, x, state, eps, seed, check_input)
    if state is not None:
        raise TypeError("state is for a cell; pass a layer's initial state as forward_kwargs={'h0': ...}")
    forward_kwargs = dict(forward_kwargs or {})
    layers = target.layers if hasattr(target, "layers") else [target]
    for layer in layers:
        _check_float64(layer)
    x = np.array(x, copy=True)
    float_input = np.issubdtype(x.dtype, np.floating)
    if float_input:
        x = x.astype(np.float64)

    def run_forward():
        out = x
        for index, layer in enumerate(layers):
            kwargs = forward_kwargs if index == 0 else {}
            out = layer.forward(out, **kwargs)
        return out

    output = run_forward()
    projection = np.random.default_rng(seed).standard_normal(output.shape)

    def scalar():
        out = run_forward()
        if loss is not None:
            return loss.forward(out, y)
        return float(np.sum(out * projection))

    # analytic: one forward and one backward
    output = run_forward()
    if loss is not None:
        loss.forward(output, y)
        grad = loss.backward()
    else:
        grad = projection.copy()
    for layer in reversed(layers):
        grad = layer.backward(grad)
    analytic, tensors = {}, {}
    for index, layer in enumerate(layers):
        prefix = f"{index}." if len(layers) > 1 or hasattr(target, "layers") else ""
        for name, param in layer.params.items():
            analytic[prefix + name], tensors[prefix + name] = layer.grads[name].copy(), param
    if check_input and float_input:
        analytic["input"], tensors["input"] = grad.copy(), x
    return _compare(scalar, analytic, tensors, eps)


def _gradcheck_cell(cell, x, state, eps, seed, check_input):
    """One step of a cell: the gradients of its parameters, of x and of each state; cell.grads is zeroed first."""
    _check_float64(cell)
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64, copy=True)
    if state is None:
        state = tuple(rng.standard_normal((x.shape[0], width)) for width in cell.state_size)
    state = tuple(np.array(array, dtype=np.float64, copy=True) for array in state)
    cell.check_step(x, state)
    output, new_state, cache = cell.forward(x, state)
    projections = [rng.standard_normal(np.shape(array)) for array in (output, *new_state)]

    def scalar():
        output, new_state, _ = cell.forward(x, state)
        return float(sum(np.sum(array * projection) for array, projection in zip((output, *new_state), projections)))

    cell.zero_grad()  # backward adds into grads
    grad_x, grad_state = cell.backward(projections[0].copy(), tuple(r.copy() for r in projections[1:]), cache)
    analytic = {name: grad.copy() for name, grad in cell.grads.items()}
    tensors = dict(cell.params)
    if check_input:
        analytic["input"], tensors["input"] = np.array(grad_x), x
        for k, (grad, array) in enumerate(zip(grad_state, state)):
            analytic[f"state{k}"], tensors[f"state{k}"] = np.array(grad), array
    return _compare(scalar, analytic, tensors, eps)


def _check_float64(module):
    if getattr(module, "dtype", np.float64) != np.float64:
        kind = "cells" if isinstance(module, Cell) else "layers"
        raise ValueError(f"gradcheck needs float64 {kind}, got {module.__class__.__name__} in {module.dtype}")


def _compare(scalar, analytic, tensors, eps):
    """{name: relative error of analytic[name] against the central differences of scalar() in tensors[name]}."""
    return {name: relative_error(analytic[name], numerical_gradient(scalar, tensors[name], eps)) for name in tensors}


def truncated_gradcheck(layer, x, seed=0):
    """A one-direction recurrent layer with bptt_truncate=k against the brute-force truncated gradient.

    With truncation the gradient is, by design, not the derivative of the output: the output at step t sends its
    gradient back through steps t, ..., t - k only. The reference, which never uses the backward code: for every
    output step t, the central differences of <R_t, y_t> computed from step t - k on, the state before that
    window held constant (as h0), summed over t. Works for numrnn.Recurrent of any cell and for numrnn.RNN with
    num_layers=1; returns {tensor: relative error} for the parameters and "input".
    """
    _check_float64(layer)
    horizon = layer.bptt_truncate
    if horizon is None:
        raise ValueError("truncated_gradcheck needs a layer with bptt_truncate set; use gradcheck otherwise")
    if getattr(layer, "num_layers", 1) != 1 or getattr(layer, "bidirectional", False):
        raise ValueError("truncated_gradcheck truncates one recurrence: use a single-layer, one-direction layer")
    x = np.array(x, dtype=np.float64, copy=True)
    steps = x.shape[1]
    output = layer.forward(x)
    projection = np.random.default_rng(seed).standard_normal(output.shape)
    if not layer.return_sequences:  # only the last output has a gradient
        projection = np.concatenate([np.zeros((x.shape[0], steps - 1, output.shape[-1])), projection[:, None]], 1)
        grad_x = layer.backward(projection[:, -1])
    else:
        grad_x = layer.backward(projection)
    analytic = {name: grad.copy() for name, grad in layer.grads.items()}
    analytic["input"] = grad_x
    numeric = {name: np.zeros_like(param) for name, param in layer.params.items()}
    numeric["input"] = np.zeros_like(x)
    return_sequences = layer.return_sequences
    layer.return_sequences = True  # the reference reads every step's output
    try:
        for t in range(steps):
            if not projection[:, t].any():
                continue
            start = max(0, t - horizon)
            h0 = None
            if start:
                layer.forward(x[:, :start])
                h0 = layer.h_n
            window = x[:, start:t + 1].copy()
            weights = projection[:, t]

            def term():
                return float(np.sum(layer.forward(window, h0=h0)[:, -1] * weights))

            for name, param in layer.params.items():
                numeric[name] += numerical_gradient(term, param)
            numeric["input"][:, start:t + 1] += numerical_gradient(term, window)
    finally:
        layer.return_sequences = return_sequences
    return {name: relative_error(analytic[name], numeric[name]) for name in analytic}
