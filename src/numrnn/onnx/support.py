"""Which numrnn layers ONNX can express, and each recurrent layer as a plan of ONNX operators.

A plan is what the writer emits for one recurrent layer: a forward Stack (one operator per stacked layer, each with
one or two directions) and, for a Bidirectional whose wrapped layer is itself a stack, a backward Stack run on the
reversed input. A Stack holds each operator's weights per direction as (weight_ih, weight_hh, bias_ih, bias_hh) in
numrnn's names and order; layout.to_onnx reorders them.

    RNN, LSTM, GRU (fast)                 Stack of num_layers operators, num_directions each
    Recurrent(RNNCell/LSTMCell/GRUCell)   Stack of one operator, one direction: the cell's weight_ih, ...
    Bidirectional(Recurrent(cell))        Stack of one operator, two directions: weight_ih and weight_ih_reverse
    Bidirectional(one-layer, one-way RNN/LSTM/GRU)   likewise, weight_ih_l0 and weight_ih_l0_reverse
    Bidirectional(any other fast layer)   forward Stack, backward Stack on the reversed input

Only the exact classes are accepted (a subclass may compute something else), and only the options listed in
OPTIONS: an option a later numrnn adds is refused until it is mapped here, rather than exported wrong. stateful,
bptt_truncate and dropout change training only; predict starts every batch from zeros and drops nothing.
"""
from dataclasses import dataclass

from ..cells import GRUCell, LSTMCell, RNNCell
from ..layers import GRU, LSTM, RNN, Activation, Bidirectional, Dense, Dropout, Embedding, OneHot, Recurrent
from . import layout

_INFERENCE_ONLY = {"stateful": None, "bptt_truncate": None, "dropout": None, "return_sequences": None,
                   "input_size": None, "hidden_size": None, "num_layers": None, "bias": None,
                   "bidirectional": None, "dtype": None}
#: per class, the config keys the export knows, with the values it can write (None: any value)
OPTIONS = {
    RNN: {**_INFERENCE_ONLY, "nonlinearity": tuple(layout.RNN_ACTIVATIONS)},
    LSTM: dict(_INFERENCE_ONLY),
    GRU: {**_INFERENCE_ONLY, "reset_after": tuple(layout.GRU_RESET_AFTER)},
    RNNCell: {"input_size": None, "hidden_size": None, "bias": None, "dtype": None,
              "nonlinearity": tuple(layout.RNN_ACTIVATIONS)},
    LSTMCell: {"input_size": None, "hidden_size": None, "bias": None, "dtype": None},
    GRUCell: {"input_size": None, "hidden_size": None, "bias": None, "dtype": None,
              "reset_after": tuple(layout.GRU_RESET_AFTER)},
    Recurrent: {"cell": None, "return_sequences": None, "stateful": None, "bptt_truncate": None},
    Bidirectional: {"layer": None},
}
PLAIN = (Embedding, OneHot, Dense, Activation, Dropout)
KIND = {RNN: "RNN", LSTM: "LSTM", GRU: "GRU", RNNCell: "RNN", LSTMCell: "LSTM", GRUCell: "GRU"}
SUPPORTED = ("Embedding, OneHot, Dense, Activation, Dropout, RNN, LSTM, GRU, Recurrent(RNNCell, LSTMCell or GRUCell) "
             "and Bidirectional of those")


@dataclass
class Stack:
    kind: str
    hidden_size: int
    nonlinearity: str
    reset_after: bool
    layers: list  # per operator, per direction: (weight_ih, weight_hh, bias_ih or None, bias_hh or None)
    hint: str


@dataclass
class Plan:
    forward: Stack
    backward: Stack
    return_sequences: bool


def recurrent_plan(index, layer):
    """None for a plain layer ONNX expresses, a Plan for a recurrent one; ValueError naming the layer otherwise."""
    def refuse(why):
        return ValueError(f"layer {index} ({type(layer).__name__}) cannot be exported to ONNX: {why}")

    kind = type(layer)
    if index == 0 and kind not in (Embedding, OneHot, Dense) and not layer.takes_lengths:
        raise refuse("the first layer must fix the input (Embedding, OneHot, Dense or a recurrent layer)")
    if kind in PLAIN:  # Embedding(mask_zero=True) too: the writer makes its mask lengths around each layer
        return None
    if kind not in OPTIONS:
        raise refuse(f"ONNX export writes {SUPPORTED}; {kind.__name__} is none of them")
    cell = getattr(getattr(layer, "forward_layer", layer), "cell", None)
    if cell is not None and type(cell) not in (RNNCell, LSTMCell, GRUCell):
        raise refuse(f"its cell {type(cell).__name__} is not RNNCell, LSTMCell or GRUCell: ONNX has operators for "
                     f"those three cells only")
    _check_options(kind, layer.config(), refuse)
    hint = f"l{index}"
    if kind in (RNN, LSTM, GRU):
        return Plan(_fast_stack(layer, hint), None, layer.return_sequences)
    if kind is Recurrent:
        return Plan(_cell_stack(layer, ("",), refuse, hint), None, layer.return_sequences)
    inner = layer.forward_layer  # Bidirectional
    if type(inner) is Recurrent:
        _check_options(Recurrent, inner.config(), refuse)
        return Plan(_cell_stack(layer, ("", "_reverse"), refuse, hint, cell=inner.cell), None,
                    layer.return_sequences)
    if type(inner) not in (RNN, LSTM, GRU):
        raise refuse(f"it wraps a {type(inner).__name__}; ONNX export writes Bidirectional of RNN, LSTM, GRU or "
                     f"Recurrent(RNNCell, LSTMCell or GRUCell)")
    _check_options(type(inner), inner.config(), refuse)
    if inner.num_layers == 1 and not inner.bidirectional:  # one operator, both directions
        stack = _fast_stack(inner, hint)
        stack.layers = [[_weights(layer.params, "_l0" + s) for s in ("", "_reverse")]]
        return Plan(stack, None, layer.return_sequences)
    return Plan(_fast_stack(layer.forward_layer, hint + "f"), _fast_stack(layer.backward_layer, hint + "b"),
                layer.return_sequences)


def _check_options(kind, config, refuse):
    known = OPTIONS[kind]
    for key, value in config.items():
        if key not in known:
            raise refuse(f"its option {key}={value!r} has no ONNX form in numrnn.onnx yet")
        allowed = known[key]
        if allowed is not None and value not in allowed:
            raise refuse(f"{key}={value!r} has no exact ONNX form (ONNX export writes {key} in {list(allowed)})")


def _weights(params, suffix):
    return (params[f"weight_ih{suffix}"], params[f"weight_hh{suffix}"], params.get(f"bias_ih{suffix}"),
            params.get(f"bias_hh{suffix}"))


def _fast_stack(layer, hint):
    directions = ("", "_reverse")[: layer.num_directions]
    layers = [[_weights(layer.params, f"_l{k}{s}") for s in directions] for k in range(layer.num_layers)]
    return Stack(KIND[type(layer)], layer.hidden_size, getattr(layer, "nonlinearity", "tanh"),
                 getattr(layer, "reset_after", True), layers, hint)


def _cell_stack(layer, suffixes, refuse, hint, cell=None):
    cell = layer.cell if cell is None else cell
    _check_options(type(cell), cell.config(), refuse)
    return Stack(KIND[type(cell)], cell.hidden_size, getattr(cell, "nonlinearity", "tanh"),
                 getattr(cell, "reset_after", True), [[_weights(layer.params, s) for s in suffixes]], hint)
