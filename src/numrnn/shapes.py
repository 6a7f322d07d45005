"""Shapes through a stack of layers, without data: what each layer gives for an input whose batch and time sizes
are unknown (None), and whether a new layer takes what the last one gives."""
import numpy as np


def input_shape(layers):
    """The first layer's input with unknown batch (and time) sizes, e.g. (None, None, 3) for RNN(3, ...)."""
    rank, features = layers[0].input_spec()
    return (None,) * ((rank or 2) - 1) + (features,)


def output_shape(layers, shape=None):
    """The shape the layers give for `shape` (default: input_shape(layers))."""
    shape = tuple(input_shape(layers) if shape is None else shape)
    for layer in layers:
        shape = tuple(layer.output_shape(shape))
    return shape


def check_chain(layers, layer):
    """A ValueError saying why `layer` cannot follow `layers`: input features, rank or dtype."""
    if not layers:
        return
    if layer.produces_mask:
        raise ValueError(f"{type(layer).__name__} makes its mask from the model's input (produces_mask): it must be "
                         f"the first layer, got it as layer {len(layers)}")
    shape = output_shape(layers)
    rank, features = layer.input_spec()
    index, previous, name = len(layers), type(layers[-1]).__name__, type(layer).__name__
    if features is not None and shape[-1] is not None and shape[-1] != features:
        raise ValueError(f"layers do not chain: layer {index} ({name}) expects {features} input features, but "
                         f"layer {index - 1} ({previous}) gives {shape[-1]}")
    if rank is not None and len(shape) != rank:
        raise ValueError(f"layers do not chain: layer {index} ({name}) expects input of rank {rank}, but layer "
                         f"{index - 1} ({previous}) gives rank {len(shape)} (set return_sequences=True on it to "
                         f"keep the time axis)")
    if layer.dtype != layers[0].dtype:
        raise ValueError(f"all layers must share one dtype: layer 0 is {np.dtype(layers[0].dtype).name}, the new "
                         f"layer {np.dtype(layer.dtype).name}")


def return_sequences_hint(output_shape, y_shape):
    """The option a shape mismatch points to: targets that lack exactly the output's time axis (one per sequence
    beside a sequence output), or have one the output lacks."""
    output_shape, y_shape = tuple(output_shape), tuple(y_shape)
    if len(output_shape) >= 3 and y_shape[1:] in (output_shape[2:], output_shape[2:-1]):
        return (" (the model gives an output at every time step; for one output per sequence, set "
                "return_sequences=False on its last recurrent layer)")
    if len(output_shape) == 2 and len(y_shape) >= 3 - (y_shape[2:] == ()) and y_shape[2:] in (output_shape[1:], ()):
        return (" (the model gives one output per sequence; for an output at every time step, set "
                "return_sequences=True on its last recurrent layer)")
    return ""
