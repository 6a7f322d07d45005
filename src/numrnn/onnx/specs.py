"""The layers the reader finds in a graph, before they are numrnn layers: what interpret.py puts in a chain and
reader.build turns into a Sequential. Weights are NumPy arrays already in numrnn's layout and gate order.

    Embedding(weight)   OneHot(depth)   Dense(weight (out, in), bias or None)   Activation(name)
    Op                  one ONNX RNN / LSTM / GRU operator: one stacked layer, its directions' weights
    Reverse(lengths)    a time reversal of the sequences (ReverseSequence, or a Slice with step -1)
    Bidirectional       a Concat of a forward stack and a reversed backward stack (their Ops)
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Embedding:
    weight: object


@dataclass(frozen=True)
class OneHot:
    depth: int


@dataclass(frozen=True)
class Dense:
    weight: object  # (out, in), numrnn's and torch's layout
    bias: object = None


@dataclass(frozen=True)
class Activation:
    name: str


@dataclass(frozen=True)
class Op:
    kind: str
    hidden_size: int
    directions: tuple  # per direction (weight_ih, weight_hh, bias_ih, bias_hh), numrnn's gate order
    nonlinearity: str
    reset_after: bool
    lengths: bool
    return_sequences: bool


@dataclass(frozen=True)
class Reverse:
    lengths: bool


@dataclass(frozen=True)
class Bidirectional:
    forward: tuple
    backward: tuple
    return_sequences: bool
