"""The reader's rules for the nodes around RNN, LSTM and GRU operators (interpret.py has the others): the operator
itself, its final states (torch's h_n, stacked over layers), the last time step, and the time reversals and Concat
that make a Bidirectional of a stack. Each rule takes the node's abstract inputs (values.py), its attributes and the
data, and returns its outputs' abstract values, or raises ValueError saying why numrnn cannot read the node.
"""
from dataclasses import replace

import numpy as np

from . import layout, specs
from .values import Const, Data, LengthsInput, States, Zeros, constant


def last_step(chain):
    """Taking the last time step after the last recurrent layer = that layer with return_sequences=False, when it
    runs one way, all sequences are full length and every layer after it works on each step alone."""
    for i in range(len(chain) - 1, -1, -1):
        spec = chain[i]
        if isinstance(spec, (specs.Dense, specs.Activation)):
            continue
        if isinstance(spec, specs.Op) and spec.return_sequences and len(spec.directions) == 1 and not spec.lengths:
            return chain[:i] + (replace(spec, return_sequences=False),) + chain[i + 1:]
        break
    raise ValueError("takes the last time step, which numrnn reads only after a one-way recurrent layer without "
                     "lengths, followed by nothing but Dense layers and activations")


def _reverse(inputs, attrs, data, lengths):
    if data.labels[:2] != ("T", "B"):
        raise ValueError("reverses something other than time-major sequences")
    return [data.then(specs.Reverse(lengths))]


def reverse_sequence(inputs, attrs, data):
    if not isinstance(inputs[1], LengthsInput) or (attrs.get("batch_axis", 1), attrs.get("time_axis", 0)) != (1, 0):
        raise ValueError("reverses by something other than the lengths input")
    return _reverse(inputs, attrs, data, True)


def reverse_slice(inputs, attrs, data):
    starts, ends = constant(inputs[1], "starts"), constant(inputs[2], "ends")
    axes = constant(inputs[3], "axes") if len(inputs) > 3 and inputs[3] is not None else [0]
    steps = constant(inputs[4], "steps") if len(inputs) > 4 and inputs[4] is not None else [1]
    if [int(a) for a in np.atleast_1d(axes)] != [0] or [int(s) for s in np.atleast_1d(steps)] != [-1] or \
            int(starts[0]) != -1 or int(ends[0]) > -(1 << 31):
        raise ValueError("slices the data other than reversing it in time")
    return _reverse(inputs, attrs, data, False)


def pick_state(states, index, attrs):
    """h_n[i]: the final state of one layer, when that layer runs one way."""
    rows = [(item, d) for item in states.items for d in range(item.axes[0][1])]
    if index.ndim != 0 or attrs.get("axis", 0) != 0 or not -len(rows) <= int(index) < len(rows):
        raise ValueError("picks from stacked final states other than one layer's")
    item, _ = rows[int(index)]
    if item.axes[0][1] != 1:
        raise ValueError("picks one direction of a bidirectional layer's final state, which numrnn has not alone")
    return item.with_axes(item.axes[1:])


def concat(inputs, attrs, data):
    axis = attrs.get("axis") % len(data.axes)
    if data.labels[axis] == "D" and all(isinstance(v, (Data, States)) for v in inputs):
        items = tuple(i for v in inputs for i in (v.items if isinstance(v, States) else (v,)))
        if all(i.labels == ("D", "B", "H") for i in items):
            return [States(items)]
    if len(inputs) != 2 or not all(isinstance(v, Data) for v in inputs) or \
            attrs.get("axis") % len(data.axes) != len(data.axes) - 1:
        raise ValueError("concatenates; numrnn reads only a forward and a reversed backward stack")
    forward, backward = inputs
    common = 0
    while common < min(len(forward.chain), len(backward.chain)) and forward.chain[common] is backward.chain[common]:
        common += 1
    ops, rest = forward.chain[common:], backward.chain[common:]
    returns = bool(ops) and ops[-1].return_sequences if ops and isinstance(ops[-1], specs.Op) else None
    backward_ops = rest[1:-1] if returns else rest[1:]
    shape_ok = all(isinstance(s, specs.Op) and len(s.directions) == len(ops[0].directions) for s in ops + backward_ops)
    if returns is None or not shape_ok or not rest or not isinstance(rest[0], specs.Reverse) or \
            returns and not isinstance(rest[-1], specs.Reverse) or len(backward_ops) != len(ops):
        raise ValueError("concatenates two branches that are not a forward stack and a reversed backward one")
    size = forward.axes[-1][1] + backward.axes[-1][1]
    return [Data(forward.axes[:-1] + (("F", size),), forward.chain[:common] + (specs.Bidirectional(ops, backward_ops,
                                                                                           returns),))]


def recurrent(kind):
    def rule(inputs, attrs, data):
        if inputs[0] is not data or data.labels != ("T", "B", "F"):
            raise ValueError(f"runs on axes {data.labels}; numrnn reads (time, batch, features) from a batch-first "
                             f"input")
        hidden = int(attrs["hidden_size"])
        W, R = constant(inputs[1], "W"), constant(inputs[2], "R")
        B = _optional(inputs, 3, "B", Const)
        lengths = _optional(inputs, 4, "sequence_lens", LengthsInput)
        for position, name in ((5, "initial_h"), (6, "initial_c"), (7, "P")):
            value = _optional(inputs, position, name, (Zeros, Const))
            if value is not None and not (isinstance(value, Zeros) or not value.array.any()):
                raise ValueError(f"has a non-zero {name}; numrnn's layers start from zeros and have no peepholes")
        direction = attrs.get("direction", "forward")
        directions = layout.from_onnx(kind, W, R, None if B is None else B.array, hidden)
        if direction not in ("forward", "bidirectional") or len(directions) != (2 if direction != "forward" else 1):
            raise ValueError(f"runs direction {direction!r}; numrnn reads forward and bidirectional")
        if data.axes[2][1] not in (None, W.shape[2]) or attrs.get("layout", 0) or attrs.get("clip") is not None or \
                attrs.get("input_forget", 0):
            raise ValueError("has an input size, layout, clip or input_forget numrnn's layers do not have")
        nonlinearity, reset_after = _activations(kind, attrs, len(directions))
        op = specs.Op(kind, hidden, tuple(directions), nonlinearity, reset_after, lengths is not None, True)
        d = ("D", len(directions))
        return [data.then(op, (data.axes[0], d, data.axes[1], ("H", hidden))),
                data.then(replace(op, return_sequences=False), (d, data.axes[1], ("H", hidden)))]
    return rule


def _optional(inputs, position, name, kinds):
    value = inputs[position] if len(inputs) > position else None
    if value is not None and not isinstance(value, kinds):
        raise ValueError(f"takes a {name} numrnn cannot read")
    return value


def _activations(kind, attrs, count):
    names = list(attrs.get("activations", []))
    if kind == "RNN":
        names = names or ["Tanh"] * count
        alpha, beta = attrs.get("activation_alpha", [None] * count), attrs.get("activation_beta", [None] * count)
        found = {layout.nonlinearity_of(n, a, b) for n, a, b in zip(names, alpha, beta)}
        if len(names) != count or len(found) != 1 or None in found:
            raise ValueError(f"has activations {names}; numrnn's RNN has one of tanh, relu, sigmoid, linear")
        return found.pop(), True
    if names and [n.lower() for n in names] != [n.lower() for n in layout.DEFAULT_ACTIVATIONS[kind]] * count:
        raise ValueError(f"has activations {names}; numrnn's {kind} has ONNX's defaults")
    if kind != "GRU":
        return "tanh", True
    flag = attrs.get("linear_before_reset", 0)  # ONNX's default: 0, the reset gate before the recurrent product
    reset_after = {v: k for k, v in layout.GRU_RESET_AFTER.items()}.get(flag)
    if reset_after is None:
        raise ValueError(f"has linear_before_reset={flag!r}; ONNX defines 0 and 1")
    return "tanh", reset_after
