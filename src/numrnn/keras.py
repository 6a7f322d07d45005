"""Keras recurrent weights -> numrnn (torch-named) state dicts.

Keras keeps one layer's weights as `kernel` (input_dim, G*H), `recurrent_kernel` (H, G*H) and `bias`, with rows of
the input multiplied from the left (x K); torch and numrnn keep `weight_ih` (G*H, input_dim) multiplied from the
right (x W_ih^T). So W_ih = K^T and W_hh = R^T, gate block by gate block, and only the order of the blocks and the
biases differ. With x a row vector, h = h_{t-1}, s the logistic sigmoid and [.]_g the columns of gate g:

LSTM, Keras (gates i, f, c, o)                         numrnn / torch (gates i, f, g, o)
    a = x K + h R + b                                      a = x W_ih^T + b_ih + h W_hh^T + b_hh
    i = s(a_i)  f = s(a_f)  c~ = tanh(a_c)  o = s(a_o)     i = s(a_i)  f = s(a_f)  g = tanh(a_g)  o = s(a_o)
    c_t = f c_{t-1} + i c~,   h_t = o tanh(c_t)             c_t = f c_{t-1} + i g,   h_t = o tanh(c_t)
  -> same order; W_ih = K^T, W_hh = R^T, b_ih = b, b_hh = 0.

GRU, Keras reset_after=True (gates z, r, h; the default since TF 2)   numrnn / torch (gates r, z, n)
    bias (2, 3H): b_x = bias[0] (input), b_h = bias[1] (recurrent)
    z = s([x K + b_x]_z + [h R + b_h]_z)                   z = s([x W_ih^T + b_ih]_z + [h W_hh^T + b_hh]_z)
    r = s([x K + b_x]_r + [h R + b_h]_r)                   r = s([x W_ih^T + b_ih]_r + [h W_hh^T + b_hh]_r)
    h~ = tanh([x K + b_x]_h + r * [h R + b_h]_h)           n = tanh([x W_ih^T + b_ih]_n + r * [h W_hh^T + b_hh]_n)
    h_t = z * h + (1 - z) * h~                             h_t = (1 - z) * n + z * h
  -> the same function with the blocks reordered z, r, h -> r, z, n: b_ih = b_x, b_hh = b_h.

GRU, Keras reset_after=False (Keras 1 and TF 1's default) applies the reset gate before the recurrent product,
    h~ = tanh([x K + b]_h + (r * h) [R]_h),
which no choice of torch's weights reproduces (torch multiplies r after it), so it is refused with an error.

SimpleRNN, Keras: h_t = tanh(x K + h R + b); numrnn.RNN: W_ih = K^T, W_hh = R^T, b_ih = b, b_hh = 0.

The activations must be Keras's defaults (activation="tanh", recurrent_activation="sigmoid"); Keras 2.0-2.2's
default "hard_sigmoid" has no numrnn equivalent. Each function returns the arrays of one layer and direction under
numrnn's names, for `layer.load_state_dict` (or for merging into the state dict of a stack):

    import numrnn
    from numrnn.keras import lstm_from_keras
    kernel, recurrent_kernel, bias = keras_layer.get_weights()
    lstm = numrnn.LSTM(input_size=kernel.shape[0], hidden_size=recurrent_kernel.shape[0])
    lstm.load_state_dict(lstm_from_keras(kernel, recurrent_kernel, bias))

`layer=k` names the arrays for layer k of a stack (a Keras model of stacked LSTMs -> one numrnn.LSTM with
num_layers > 1) and `reverse=True` for the backward direction of a Bidirectional wrapper (its backward_layer).
"""
import numpy as np

__all__ = ["lstm_from_keras", "gru_from_keras", "simple_rnn_from_keras"]


def lstm_from_keras(kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """Keras LSTM weights (kernel (in, 4H), recurrent_kernel (H, 4H), bias (4H,) or None) -> numrnn.LSTM names.

    Keras's gate order i, f, c, o is torch's i, f, g, o; the single Keras bias goes to bias_ih, bias_hh is zero.
    """
    kernel, recurrent_kernel, size = _check_kernels("LSTM", 4, kernel, recurrent_kernel)
    bias = _check_bias("LSTM", bias, (4 * size,), kernel.dtype)
    return _state(layer, reverse, kernel.T, recurrent_kernel.T, bias, np.zeros_like(bias))


def gru_from_keras(kernel, recurrent_kernel, bias=None, reset_after=True, layer=0, reverse=False):
    """Keras GRU weights (kernel (in, 3H), recurrent_kernel (H, 3H), bias (2, 3H) or None) -> numrnn.GRU names.

    Keras's gate blocks z, r, h are reordered to torch's r, z, n in every array; bias[0] (input) goes to
    bias_ih and bias[1] (recurrent) to bias_hh. reset_after=False has no torch equivalent and raises ValueError.
    """
    if not reset_after:
        raise ValueError("a Keras GRU with reset_after=False cannot be converted: it computes "
                         "tanh(x K_h + (r * h) R_h + b_h), applying the reset gate before the recurrent product, and "
                         "torch's (and numrnn's) GRU applies it after: tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)). "
                         "Only reset_after=True (Keras's default since TF 2) has the same equations")
    kernel, recurrent_kernel, size = _check_kernels("GRU", 3, kernel, recurrent_kernel)
    bias = _check_bias("GRU", bias, (2, 3 * size), kernel.dtype, reset_after_hint=True)
    order = np.concatenate([np.arange(size, 2 * size), np.arange(size), np.arange(2 * size, 3 * size)])  # r, z, n
    return _state(layer, reverse, kernel.T[order], recurrent_kernel.T[order], bias[0][order],
                  bias[1][order])


def simple_rnn_from_keras(kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """Keras SimpleRNN weights (kernel (in, H), recurrent_kernel (H, H), bias (H,) or None) -> numrnn.RNN names."""
    kernel, recurrent_kernel, size = _check_kernels("SimpleRNN", 1, kernel, recurrent_kernel)
    bias = _check_bias("SimpleRNN", bias, (size,), kernel.dtype)
    return _state(layer, reverse, kernel.T, recurrent_kernel.T, bias, np.zeros_like(bias))


# -- checks and naming -------------------------------------------------------------------------------------------------
def _as_matrix(cell, name, value):
    array = np.asarray(value)
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"Keras {cell} {name} must hold real numbers, got an array of dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(f"Keras {cell} {name} must have 2 dimensions, got {array.ndim} (shape {array.shape})")
    if not np.isfinite(array).all():
        raise ValueError(f"Keras {cell} {name} must be finite")
    return array if np.issubdtype(array.dtype, np.floating) else array.astype(np.float64)


def _check_kernels(cell, gates, kernel, recurrent_kernel):
    kernel = _as_matrix(cell, "kernel", kernel)
    recurrent_kernel = _as_matrix(cell, "recurrent_kernel", recurrent_kernel)
    size = recurrent_kernel.shape[0]
    if recurrent_kernel.shape != (size, gates * size):
        raise ValueError(f"Keras {cell} recurrent_kernel must have shape (units, {gates} * units), got "
                         f"{recurrent_kernel.shape}")
    if kernel.shape[1] != gates * size:
        raise ValueError(f"Keras {cell} kernel.shape[1] must be equal to {gates} * units. Expected {gates * size}, "
                         f"got {kernel.shape[1]} (kernel has shape {kernel.shape})")
    return kernel, recurrent_kernel, size


def _check_bias(cell, bias, shape, dtype, reset_after_hint=False):
    if bias is None:  # use_bias=False: numrnn's layer keeps its biases, at zero
        return np.zeros(shape, dtype=dtype)
    array = np.asarray(bias)
    if array.shape != shape:
        hint = (" (reset_after=True keeps the input and recurrent biases as two rows; a bias of shape "
                f"({shape[1]},) comes from reset_after=False, which cannot be converted)") if reset_after_hint else ""
        raise ValueError(f"Keras {cell} bias must have shape {shape}, got {array.shape}{hint}")
    if not np.issubdtype(array.dtype, np.number) or not np.isfinite(array).all():
        raise ValueError(f"Keras {cell} bias must hold finite numbers")
    return array.astype(dtype, copy=False)


def _state(layer, reverse, weight_ih, weight_hh, bias_ih, bias_hh):
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or layer < 0:
        raise ValueError(f"layer must be a non-negative integer, got {layer!r}")
    suffix = f"_l{int(layer)}" + ("_reverse" if reverse else "")
    arrays = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}
    return {f"{name}{suffix}": np.ascontiguousarray(value) for name, value in arrays.items()}
