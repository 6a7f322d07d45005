"""Read the layers an ONNX graph computes by walking its nodes in order, without running it.

Each node's outputs get an abstract value (values.py) from its inputs'. The data starts at the graph's input; a
node that computes a layer on it adds a spec to the data's chain, and the layout nodes around the layers only
relabel its axes. Constants fold (fold.py), and sizes computed from Shape nodes are tracked as symbols, so the
reshapes torch's exporters build at run time read like constant ones. The chain of the graph's output is the model:

    Gather(weight, ids)            Embedding(weight)          OneHot(ids, depth, [0, 1])   OneHot(depth)
    MatMul(x, W) [+ b], Gemm       Dense(W as (out, in), b)   Tanh, Sigmoid, Relu, Softmax(last axis)  Activation
    RNN, LSTM, GRU                 Op: one stacked layer (weights in numrnn's order, layout.from_onnx)
    ReverseSequence, Slice(step -1 on time)   Reverse        Concat(forward, reversed backward)  Bidirectional
    Gather(x, -1) on the time axis: the last step, when the last recurrent layer runs one way and nothing after
    it mixes steps (its return_sequences becomes False)
"""
from dataclasses import replace

import numpy as np

from . import recurrent_rules as rr
from .specs import Activation, Dense, Embedding, OneHot
from .fold import fold
from .values import (Const, Data, LengthsInput, ShapeOf, States, Unknown, Zeros, as_shape, constant, reshape_axes,
                     shape_arithmetic)


SHAPE_OPS = ("Identity", "Cast", "Reshape", "Squeeze", "Unsqueeze", "Concat", "Slice", "Gather", "Add", "Sub", "Mul")
ZERO_LAYOUT = ("Identity", "Cast", "Reshape", "Squeeze", "Unsqueeze", "Slice", "Gather", "Transpose", "Expand")
ELEMENTWISE = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu"}
RECURRENT = ("RNN", "LSTM", "GRU")
#: every operator the reader reads
SUPPORTED = frozenset(("Constant", "Shape", "ConstantOfShape", "Expand", "Transpose", "MatMul", "Gemm", "Softmax",
                       "Dropout", "OneHot", "ReverseSequence") + SHAPE_OPS + tuple(ELEMENTWISE) + RECURRENT)


def walk(nodes, values, attributes, limit):
    """Give every node output an abstract value; values holds the graph's inputs and constants on entry."""
    for node in nodes:
        inputs = [values.get(name, Unknown(f"{name!r} is not defined")) if name else None for name in node.input]
        attrs = attributes(node)
        try:
            outputs = _node(node.op_type, inputs, attrs, limit)
        except ValueError as error:
            outputs = [Unknown(f"{node.op_type} node {node.name!r}: {error}")]
        for index, name in enumerate(node.output):
            if name:
                values[name] = outputs[index] if index < len(outputs) else Unknown(
                    f"output {index} of {node.op_type} node {node.name!r} is not read by numrnn")
    return values


def _node(op, inputs, attrs, limit):
    if op == "Constant":
        return [Const(attrs["value"])]
    unknown = next((v for v in inputs if isinstance(v, Unknown)), None)
    if unknown is not None:
        return [unknown]
    if all(v is None or isinstance(v, Const) for v in inputs):
        if op in ("ConstantOfShape", "Expand") and _fills_zero(op, inputs, attrs):
            return [Zeros()]  # an initial state: never allocated
        folded = fold(op, [None if v is None else v.array for v in inputs], attrs, limit)
        if folded is not None:
            return [Const(a) for a in folded]
    if any(isinstance(v, Zeros) for v in inputs) and op in ZERO_LAYOUT:
        return [Zeros()]  # a zero state reshaped, sliced or cast is still zeros
    if op in ("ConstantOfShape", "Expand") and _fills_zero(op, inputs, attrs):
        return [Zeros()]
    if op == "Shape" and isinstance(inputs[0], Data):
        dims = tuple(label if label in ("B", "T") else size for label, size in inputs[0].axes)
        return [ShapeOf(dims[attrs.get("start", 0):attrs.get("end", len(dims))])]
    if any(isinstance(v, ShapeOf) for v in inputs) and not any(isinstance(v, Data) for v in inputs):
        return [_shape_op(op, inputs, attrs)]
    if op == "Cast" and isinstance(inputs[0], LengthsInput):
        return [inputs[0]]
    if op == "Gather" and isinstance(inputs[0], States):
        return [rr.pick_state(inputs[0], constant(inputs[1], "the index"), attrs)]
    data = next((v for v in inputs if isinstance(v, Data)), None)
    if data is None:
        raise ValueError("does not act on the model's input or on constants numrnn folds")
    rule = RULES.get(op)
    if rule is None:
        raise ValueError("is not part of any layer numrnn reads")
    return rule(inputs, attrs, data)


def _fills_zero(op, inputs, attrs):
    if op == "ConstantOfShape":
        value = attrs.get("value")
        return value is None or not np.any(value)
    return isinstance(inputs[0], Zeros) or isinstance(inputs[0], Const) and not np.any(inputs[0].array)


def _shape_op(op, inputs, attrs):
    """Arithmetic on sizes: Gather, Slice, Concat, Unsqueeze, Squeeze, Reshape, Cast, Add/Sub/Mul of ShapeOf."""
    first = as_shape(inputs[0])
    if op in ("Identity", "Cast") or op in ("Reshape", "Squeeze", "Unsqueeze") and isinstance(inputs[0], ShapeOf):
        scalar = op == "Squeeze" or op == "Reshape" and as_shape(inputs[1]) == [] and len(first) == 1
        return ShapeOf(tuple(first), scalar and len(first) == 1)
    if op == "Gather" and isinstance(inputs[0], ShapeOf) and isinstance(inputs[1], Const):
        picked = [first[int(i)] for i in np.atleast_1d(inputs[1].array)]
        return ShapeOf(tuple(picked), inputs[1].array.ndim == 0)
    if op == "Slice" and isinstance(inputs[0], ShapeOf) and all(isinstance(v, Const) for v in inputs[1:] if v):
        start, end = int(inputs[1].array[0]), int(inputs[2].array[0])
        step = int(inputs[4].array[0]) if len(inputs) > 4 and inputs[4] is not None else 1
        return ShapeOf(tuple(first[start:end:step]))
    if op == "Concat":
        parts = [as_shape(v) for v in inputs]
        if any(p is None for p in parts):
            raise ValueError("concatenates sizes with something that is not a size")
        return ShapeOf(tuple(entry for part in parts for entry in part))
    if op in ("Add", "Sub", "Mul"):
        a, b = as_shape(inputs[0]), as_shape(inputs[1])
        if a is None or b is None or len(a) != len(b) and 1 not in (len(a), len(b)):
            raise ValueError("computes sizes numrnn cannot follow")
        a, b = (a * len(b), b) if len(a) == 1 else (a, b * len(a) if len(b) == 1 else b)
        scalar = all(isinstance(v, ShapeOf) and v.scalar or isinstance(v, Const) and v.array.ndim == 0
                     for v in inputs)
        return ShapeOf(tuple(shape_arithmetic(op, x, y) for x, y in zip(a, b)), scalar)
    raise ValueError("computes sizes numrnn cannot follow")


# -- rules for nodes on the data -----------------------------------------------------------------------------------
def _transpose(inputs, attrs, data):
    perm = attrs.get("perm") or list(range(len(data.axes)))[::-1]
    return [data.with_axes([data.axes[p] for p in perm])]


def _reshape(inputs, attrs, data):
    target = as_shape(inputs[1])
    axes = None if target is None else reshape_axes(data.axes, target, attrs.get("allowzero", 0))
    if axes is None:
        raise ValueError(f"reshapes axes {data.labels} to {target}, which is no layout change numrnn reads")
    return [data.with_axes(axes)]


def _squeeze(inputs, attrs, data):
    axes = constant(inputs[1], "the axes") if len(inputs) > 1 and inputs[1] is not None else attrs.get("axes")
    if axes is None:
        raise ValueError("squeezes without axes: which axes go would depend on the batch at run time")
    gone = set(int(a) % len(data.axes) for a in np.atleast_1d(axes))
    if any(data.axes[a] != ("D", 1) for a in gone):
        raise ValueError(f"squeezes axes {sorted(gone)} of {data.labels}; numrnn reads only a direction axis of 1")
    return [data.with_axes([axis for i, axis in enumerate(data.axes) if i not in gone])]


def _gather(inputs, attrs, data):
    if isinstance(inputs[0], Const) and data.ids:  # Embedding
        weight = inputs[0].array
        if weight.ndim != 2 or attrs.get("axis", 0) != 0 or weight.dtype.kind != "f":
            raise ValueError("gathers ids from something that is not a (vocabulary, features) float weight")
        return [data.then(Embedding(weight), data.axes + (("F", weight.shape[1]),), ids=False)]
    index = constant(inputs[1], "the index")
    axis = int(attrs.get("axis", 0)) % len(data.axes)
    label = data.axes[axis][0]
    if index.ndim != 0 or not (label == "D" and data.axes[axis][1] == 1 and int(index) in (0, -1)
                               or label == "T" and int(index) == -1):
        raise ValueError(f"gathers {index.tolist()} on axis {label} of {data.labels}; numrnn reads the last time "
                         f"step (-1) or the one direction of a final state")
    axes = data.axes[:axis] + data.axes[axis + 1:]
    if label == "D":
        return [data.with_axes(axes)]
    return [replace(data.with_axes(axes), chain=rr.last_step(data.chain))]


def _onehot(inputs, attrs, data):
    depth, values = constant(inputs[1], "the depth"), constant(inputs[2], "the values")
    if not data.ids or attrs.get("axis", -1) not in (-1, len(data.axes)) or values.tolist() != [0, 1]:
        raise ValueError("is not ids -> one-hot rows of 0 and 1 on a last axis")
    depth = int(np.reshape(depth, -1)[0])
    return [data.then(OneHot(depth), data.axes + (("F", depth),), ids=False)]


def _dense(inputs, attrs, data, weight, bias):
    if weight.ndim != 2 or not data.clean or data.ids or data.axes[-1][1] not in (None, weight.shape[0]):
        raise ValueError(f"multiplies {data.labels} by a weight of shape {weight.shape}: no Dense layer")
    return data.then(Dense(np.ascontiguousarray(weight.T), bias), data.axes[:-1] + (("F", weight.shape[1]),))


def _matmul(inputs, attrs, data):
    if inputs[0] is not data:
        raise ValueError("multiplies a constant by the data; a Dense layer is data @ weight")
    return [replace(_dense(inputs, attrs, data, constant(inputs[1], "the weight"), None), open_dense=True)]


def _add(inputs, attrs, data):
    other = inputs[1] if inputs[0] is data else inputs[0]
    dense = data.chain[-1] if data.chain else None
    bias = constant(other, "the bias")
    if not data.open_dense or bias.size != dense.weight.shape[0] or bias.ndim > 1 and set(bias.shape[:-1]) != {1}:
        raise ValueError("adds something other than the bias right after a MatMul")
    return [replace(data, chain=data.chain[:-1] + (replace(dense, bias=bias.reshape(-1)),), open_dense=False)]


def _gemm(inputs, attrs, data):
    weight = constant(inputs[1], "B") * attrs.get("alpha", 1.0)
    if inputs[0] is not data or attrs.get("transA", 0) or len(data.axes) != 2:
        raise ValueError("is not data @ weight + bias on a (batch, features) input")
    weight = weight.T if attrs.get("transB", 0) else weight
    bias = None if len(inputs) < 3 or inputs[2] is None else constant(inputs[2], "C") * attrs.get("beta", 1.0)
    out = replace(_dense(inputs, attrs, data, weight, None), open_dense=True)
    return [replace(out, open_dense=False)] if bias is None else _add([out, Const(bias)], {}, out)


def _elementwise(name):
    def rule(inputs, attrs, data):
        return [data.then(Activation(name))]
    return rule


def _softmax(inputs, attrs, data):
    if attrs.get("axis", -1) % len(data.axes) != len(data.axes) - 1 or not data.clean:
        raise ValueError("is a softmax over another axis than the features")
    return [data.then(Activation("softmax"))]


def _pass(inputs, attrs, data):
    if len(inputs) > 2 and inputs[2] is not None and (not isinstance(inputs[2], Const) or inputs[2].array.any()):
        raise ValueError("runs in training mode")
    return [data]


def _cast(inputs, attrs, data):
    import onnx
    kinds = (onnx.TensorProto.INT64, onnx.TensorProto.INT32) if data.ids else (onnx.TensorProto.FLOAT,
                                                                               onnx.TensorProto.DOUBLE)
    if attrs.get("to") not in kinds:
        raise ValueError("casts the data to another kind of number")
    return [data]


RULES = {"Transpose": _transpose, "Reshape": _reshape, "Squeeze": _squeeze, "Gather": _gather, "OneHot": _onehot,
         "MatMul": _matmul, "Add": _add, "Gemm": _gemm, "Softmax": _softmax, "Identity": _pass, "Dropout": _pass,
         "Cast": _cast, "ReverseSequence": rr.reverse_sequence, "Slice": rr.reverse_slice, "Concat": rr.concat,
         **{op: _elementwise(name) for op, name in ELEMENTWISE.items()},
         **{kind: rr.recurrent(kind) for kind in RECURRENT}}
