"""Numerical gradient checking by central differences, in float64.

    numerical_gradient(f, array)       d f / d array, one element at a time: (f(a + eps) - f(a - eps)) / (2 eps)
    relative_error(analytic, numeric)  ||a - n|| / (||a|| + ||n||), the figure reported per tensor
    gradcheck(layer_or_model, x, ...)  every parameter and the input of a layer, a stack of layers or a model,
                                       against the hand-written backward; returns {name: largest relative error}

The analytic gradients come from one forward and one backward; the numerical ones perturb each element in place
and run two forwards. Everything runs in float64 so the rounding error (~1e-16 / eps) stays far below the 1e-6
tolerance the tests ask for.
"""
import numpy as np


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


def gradcheck(target, x, y=None, loss=None, eps=1e-6, seed=0, forward_kwargs=None, check_input=True):
    """Compare the hand-written gradients of `target` with central differences; return {tensor: max rel. error}.

    target: a layer (anything with forward/backward/params/grads) or a numrnn.Sequential.
    x: the input, float64 (integer ids for an Embedding).
    y, loss: a target and a loss object; without them the scalar checked is sum(output * R) for a fixed random R,
        which sends a different, non-trivial gradient into every output element.
    forward_kwargs: passed to forward (h0, lengths, ...).
    The layer must be in float64 and have no dropout active: a check needs the same function on every call.
    """
    forward_kwargs = dict(forward_kwargs or {})
    layers = target.layers if hasattr(target, "layers") else [target]
    for layer in layers:
        if getattr(layer, "dtype", np.float64) != np.float64:
            raise ValueError(f"gradcheck needs float64 layers, got {layer.__class__.__name__} in {layer.dtype}")
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
    analytic = {}
    for index, layer in enumerate(layers):
        prefix = f"{index}." if len(layers) > 1 or hasattr(target, "layers") else ""
        for name, value in layer.grads.items():
            analytic[prefix + name] = value.copy()
    if check_input and float_input:
        analytic["input"] = grad.copy()

    errors = {}
    for index, layer in enumerate(layers):
        prefix = f"{index}." if len(layers) > 1 or hasattr(target, "layers") else ""
        for name, param in layer.params.items():
            errors[prefix + name] = relative_error(analytic[prefix + name], numerical_gradient(scalar, param, eps))
    if check_input and float_input:
        errors["input"] = relative_error(analytic["input"], numerical_gradient(scalar, x, eps))
    return errors
