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

GRU, Keras reset_after=False (Keras 1 and TF 1's default)   numrnn GRU(reset_after=False) / GRUCell(reset_after=False)
    bias (3H,): one bias, all of it outside the reset gate
    z = s([x K + b]_z + [h R]_z)                           z = s([x W_ih^T + b_ih]_z + [h W_hh^T + b_hh]_z)
    r = s([x K + b]_r + [h R]_r)                           r = s([x W_ih^T + b_ih]_r + [h W_hh^T + b_hh]_r)
    h~ = tanh([x K + b]_h + (r * h) [R]_h)                 n = tanh([x W_ih^T + b_ih]_n + (r * h) W_hn^T + b_hn)
    h_t = z * h + (1 - z) * h~                             h_t = (1 - z) * n + z * h
  -> the blocks reordered as above: b_ih = b, b_hh = 0 (numrnn's two biases enter every gate alike, so Keras's one
     bias is b_ih + b_hh). torch's own GRU has no such form (numrnn.torch runs it as a loop).

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

from_keras(model_or_layer) does all of it for a Keras 3 model or layer: SimpleRNN, LSTM, GRU (reset_after=True or
False), Bidirectional(merge_mode="concat") of those (forward_layer -> weight_ih_l0, backward_layer ->
weight_ih_l0_reverse: Keras runs the backward layer on the reversed sequence and reverses its outputs back, as numrnn
does), Embedding (mask_zero too), Dense (its activation as an Activation layer after it), Activation and Dropout, in
the layers' dtype. Keras is not imported: the layers are read through get_config() and get_weights(), and classes by
name (a subclass may compute something else, and is refused). dropout and recurrent_dropout change training only
and are not carried over.

Masks. Embedding(mask_zero=True) becomes numrnn.Embedding(mask_zero=True): id 0 is padding wherever it stands, and
the model gives the mask to every recurrent layer, as Keras propagates it. A masked step keeps the state in both, so
every real step's output, every final state (return_sequences=False) and an empty sequence's zeros are the same.
They differ by design at masked steps of a one-way layer with return_sequences=True: numrnn outputs zeros there,
Keras (zero_output_for_mask=False, its default outside Bidirectional) repeats the layer's previous output. Before
the first real step that previous output is Keras's zero initial one, so with front padding (pad_sequences'
default, padding="pre") the two agree at every step; after a gap or in trailing padding they differ, and only at
the masked steps, which a masked loss ignores (the layers after see the same real steps). Bidirectional forces
zero_output_for_mask=True, and layers that set it agree everywhere.
"""
import functools

import numpy as np

__all__ = ["lstm_from_keras", "gru_from_keras", "simple_rnn_from_keras", "from_keras"]


def lstm_from_keras(kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """Keras LSTM weights (kernel (in, 4H), recurrent_kernel (H, 4H), bias (4H,) or None) -> numrnn.LSTM names.

    Keras's gate order i, f, c, o is torch's i, f, g, o; the single Keras bias goes to bias_ih, bias_hh is zero.
    """
    kernel, recurrent_kernel, size = _check_kernels("LSTM", 4, kernel, recurrent_kernel)
    bias = _check_bias("LSTM", bias, (4 * size,), kernel.dtype)
    return _state(layer, reverse, kernel.T, recurrent_kernel.T, bias, np.zeros_like(bias))


def gru_from_keras(kernel, recurrent_kernel, bias=None, reset_after=True, layer=0, reverse=False):
    """Keras GRU weights (kernel (in, 3H), recurrent_kernel (H, 3H), bias or None) -> numrnn.GRU names, for a
    numrnn GRU (or GRUCell) of the same reset_after.

    Keras's gate blocks z, r, h are reordered to torch's r, z, n in every array. reset_after=True: bias (2, 3H),
    bias[0] (input) goes to bias_ih and bias[1] (recurrent) to bias_hh. reset_after=False: bias (3H,) goes to
    bias_ih, and bias_hh is zeros (numrnn.GRU(reset_after=False) computes Keras's reset_after=False).
    """
    kernel, recurrent_kernel, size = _check_kernels("GRU", 3, kernel, recurrent_kernel)
    bias_ih, bias_hh = _GRU_BIASES[bool(reset_after)](bias, size, kernel.dtype)
    order = np.concatenate([np.arange(size, 2 * size), np.arange(size), np.arange(2 * size, 3 * size)])  # r, z, n
    return _state(layer, reverse, kernel.T[order], recurrent_kernel.T[order], bias_ih[order], bias_hh[order])


def _gru_reset_after_biases(bias, size, dtype):
    """reset_after=True: bias (2, 3H), rows [input, recurrent] -> (bias_ih, bias_hh), Keras's gate order."""
    bias = _check_bias("GRU", bias, (2, 3 * size), dtype, gru_hint=True)
    return bias[0], bias[1]


def _gru_reset_before_biases(bias, size, dtype):
    """reset_after=False: one bias (3H,), outside the reset gate -> (bias, zeros), Keras's gate order."""
    bias = _check_bias("GRU", bias, (3 * size,), dtype, gru_hint=False)
    return bias, np.zeros_like(bias)


#: Keras's reset_after -> its bias as numrnn's (bias_ih, bias_hh), in Keras's gate order
_GRU_BIASES = {True: _gru_reset_after_biases, False: _gru_reset_before_biases}


def simple_rnn_from_keras(kernel, recurrent_kernel, bias=None, layer=0, reverse=False):
    """Keras SimpleRNN weights (kernel (in, H), recurrent_kernel (H, H), bias (H,) or None) -> numrnn.RNN names."""
    kernel, recurrent_kernel, size = _check_kernels("SimpleRNN", 1, kernel, recurrent_kernel)
    bias = _check_bias("SimpleRNN", bias, (size,), kernel.dtype)
    return _state(layer, reverse, kernel.T, recurrent_kernel.T, bias, np.zeros_like(bias))


# -- whole Keras layers and models ---------------------------------------------------------------------------------
_RECURRENT = {"SimpleRNN": ("RNN", simple_rnn_from_keras), "LSTM": ("LSTM", lstm_from_keras),
              "GRU": ("GRU", gru_from_keras)}
_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear", "softmax")


def from_keras(model_or_layer):
    """A numrnn.Sequential computing what a Keras 3 model (Sequential, or a functional chain of layers) or a single
    Keras layer computes, with its weights; no loss (numrnn's predict gives the raw output, as Keras's does).
    ValueError names the Keras layer that numrnn cannot express and why."""
    from .model import Sequential
    layers = getattr(model_or_layer, "layers", None)
    if layers is None:
        layers = [model_or_layer]
    elif type(model_or_layer).__name__ != "Sequential":  # functional: each layer must take the previous one's output
        for previous, layer in zip(layers, layers[1:]):
            if getattr(layer, "input", None) is not getattr(previous, "output", ()):
                raise ValueError(f"the Keras model is not a chain of layers: {layer.name!r} does not take the output "
                                 f"of {previous.name!r}")
    built = []
    for index, layer in enumerate(layers):
        try:
            built.extend(_from_keras_layer(layer))
        except ValueError as error:
            raise ValueError(f"Keras layer {index} ({type(layer).__name__} {layer.name!r}): {error}") from None
    return Sequential(built)


def _from_keras_layer(layer):
    from . import layers as nl
    kind, config = type(layer).__name__, layer.get_config()
    dtype = np.dtype(layer.dtype).name
    if dtype not in ("float32", "float64"):
        raise ValueError(f"its dtype {dtype} is not float32 or float64")
    if kind == "InputLayer":
        return []
    if kind in _RECURRENT:
        if config.get("go_backwards"):
            raise ValueError("go_backwards=True alone (outside Bidirectional) returns reversed outputs; numrnn has no "
                             "such layer")
        return [_recurrent(layer, [layer], dtype)]
    if kind == "Bidirectional":
        forward, backward = layer.forward_layer, layer.backward_layer
        if config.get("merge_mode") != "concat" or type(forward) is not type(backward) or \
                type(forward).__name__ not in _RECURRENT or forward.go_backwards or not backward.go_backwards:
            raise ValueError("numrnn reads Bidirectional(merge_mode='concat') of SimpleRNN, LSTM or GRU")
        return [_recurrent(forward, [forward, backward], dtype)]
    weights = layer.get_weights()
    if kind == "Embedding":  # mask_zero=True: numrnn's Embedding makes the same mask (see the module docstring)
        built = nl.Embedding(*weights[0].shape, mask_zero=bool(config.get("mask_zero")), dtype=dtype)
        built.load_state_dict({"weight": weights[0]})
        return [built]
    if kind == "Dense":
        built = nl.Dense(*weights[0].shape, bias=config["use_bias"], dtype=dtype)
        built.load_state_dict({"weight": weights[0].T, **({"bias": weights[1]} if config["use_bias"] else {})})
        activation = _activation(config["activation"])
        return [built] + ([] if activation == "linear" else [nl.Activation(activation, dtype=dtype)])
    if kind == "Activation":
        return [nl.Activation(_activation(config["activation"]), dtype=dtype)]
    if kind == "Dropout":
        return [nl.Dropout(config["rate"], dtype=dtype)]
    raise ValueError("numrnn reads SimpleRNN, LSTM, GRU, Bidirectional, Embedding, Dense, Activation, Dropout and "
                     "InputLayer")


def _activation(name):
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        raise ValueError(f"activation {name!r} is none of numrnn's {list(_ACTIVATIONS)}")
    return name


def _recurrent(layer, directions, dtype):
    """One numrnn.RNN/LSTM/GRU from a Keras recurrent layer (and the backward layer of a Bidirectional)."""
    from . import layers as nl
    config = layer.get_config()
    kind, convert = _RECURRENT[type(layer).__name__]
    if config.get("return_state"):
        raise ValueError("return_state=True returns the states too; numrnn's layer returns one output")
    options = {}
    if kind == "RNN":
        options["nonlinearity"] = _activation(config["activation"])
        if options["nonlinearity"] == "softmax":
            raise ValueError("activation 'softmax' is not a recurrent nonlinearity of numrnn's")
    elif (config["activation"], config["recurrent_activation"]) != ("tanh", "sigmoid"):
        raise ValueError(f"activations ({config['activation']!r}, {config['recurrent_activation']!r}); numrnn's "
                         f"{kind} has Keras's defaults ('tanh', 'sigmoid')")
    if kind == "GRU":
        options["reset_after"] = bool(config["reset_after"])
        convert = functools.partial(convert, reset_after=options["reset_after"])
    state = {}
    for reverse, part in zip((False, True), directions):
        weights = part.get_weights()
        state.update(convert(weights[0], weights[1], weights[2] if config["use_bias"] else None, reverse=reverse))
    if not config["use_bias"]:  # numrnn's layer without biases, rather than biases held at zero
        state = {name: value for name, value in state.items() if not name.startswith("bias")}
    weights = layer.get_weights()
    built = getattr(nl, kind)(weights[0].shape[0], weights[1].shape[0], bidirectional=len(directions) == 2,
                              bias=config["use_bias"], return_sequences=config["return_sequences"], dtype=dtype,
                              **options)
    built.load_state_dict(state)
    return built


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


def _check_bias(cell, bias, shape, dtype, gru_hint=None):
    """gru_hint: the reset_after a GRU's bias of this shape belongs to (the other form's shape is named)."""
    if bias is None:  # use_bias=False: numrnn's layer keeps its biases, at zero
        return np.zeros(shape, dtype=dtype)
    array = np.asarray(bias)
    if array.shape != shape:
        hint = ""
        if gru_hint is True:
            hint = (" (reset_after=True keeps the input and recurrent biases as two rows; a bias of shape "
                    f"({shape[1]},) comes from reset_after=False: pass reset_after=False)")
        elif gru_hint is False:
            hint = (f" (reset_after=False has one bias; a bias of shape (2, {shape[0]}) comes from reset_after=True: "
                    f"pass reset_after=True)")
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
