"""numrnn.onnx.export: a Sequential as a standard ONNX graph, for onnxruntime or any other ONNX runtime.

The graph computes model.predict(x, lengths=lengths):

    x        (batch, time) int64 ids (Embedding, OneHot first), (batch, time, features) (a recurrent layer
             first) or (batch, features) (Dense first), in the model's dtype; batch and time are dynamic
    lengths  (batch,) int64, each sequence's valid steps in [0, time] (lengths_input=True and a recurrent layer)
    y        batch-first, through the loss's predict: Softmax for cross_entropy, Sigmoid for binary cross-entropy,
             the raw output for mse or no loss

Inside, as in numrnn, a batch of sequences runs time-major (T, B, F): one Transpose in and one out. Each layer:

    Embedding        Gather(weight, ids)                OneHot    OneHot(ids, depth, [0, 1])
    Dense            MatMul(x, weight^T) + bias         Dropout   nothing (identity at inference)
    Activation       Tanh, Sigmoid, Relu, Softmax(axis=-1); linear: nothing
    RNN, LSTM, GRU   one ONNX RNN / LSTM / GRU operator per stacked layer (direction "bidirectional" when it runs
                     both ways), its Y (T, D, B, H) made (T, B, D*H) for the next (layout.py has the weights)
    Recurrent(cell)  one operator; Bidirectional(layer): one "bidirectional" operator when the layer is one
                     operator one way, else the backward stack between two time reversals, concatenated

Embedding(mask_zero=True) first: ONNX's operators take lengths, not masks, so the graph computes the mask of the
real steps (ids != 0, and within `lengths` when it is an input) and, around each recurrent layer, moves every
sequence's real steps to its front in order (ScatterElements by a permutation made of two CumSums), runs the layer
with their count as sequence_lens and moves its outputs back (GatherElements by the same permutation: the steps
past a count are ONNX's zeros, which land on the masked steps). numrnn's fast layers compute masks so
(numrnn.sequences.packed_steps): a masked step changes nothing, wherever it stands, and the permutations only copy.

`lengths` feeds every operator's sequence_lens: past a sequence's end ONNX freezes its state and writes zeros, and
the reverse direction starts at each sequence's last valid step, exactly numrnn's rules (numrnn.sequences). An
empty sequence (length 0) gives zero outputs and a zero final state, as numrnn's does from the zero initial state
(onnxruntime writes zeros to Y_h for sequence_lens 0 whatever initial_h holds; these graphs have no initial_h).
What ONNX cannot say is refused before anything is written: a ValueError names the layer, its class and why.
"""
import json

import numpy as np

from ..io.atomic import atomic_write
from ..model import Sequential
from . import layout
from .support import recurrent_plan

#: the default opset: every operator used here has had its current form since 13, and runtimes of 2022 on run 17
DEFAULT_OPSET = 17
MIN_OPSET = 13


class Graph:
    """Nodes and initializers under unique names, as onnx.helper builds them."""

    def __init__(self, dtype):
        import onnx
        self.onnx, self.helper = onnx, onnx.helper
        self.dtype = dtype
        self.nodes, self.initializers, self._count = [], [], 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, array):
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def ints(self, values):
        return self.constant("ints", np.asarray(values, dtype=np.int64))

    def add(self, op, inputs, outputs=1, **attrs):
        """One node; returns its output name (a list of them for outputs > 1, "" for an output left out)."""
        names = [self.name(op.lower()) for _ in range(outputs)] if isinstance(outputs, int) else \
            [self.name(op.lower()) if keep else "" for keep in outputs]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, name=self.name(op), **attrs))
        return names[0] if len(names) == 1 else names


def export(model, path, *, lengths_input=True, opset=DEFAULT_OPSET, dtype=None):
    """Write `model` to `path` as ONNX (atomically, through numrnn.io.atomic). dtype: the graph's float type,
    the model's by default; "float32" lets a float64 model run where a runtime has only float kernels (onnxruntime
    has no double RNN, LSTM or GRU). Returns the onnx.ModelProto written."""
    import onnx
    proto = build(model, lengths_input=lengths_input, opset=opset, dtype=dtype)
    onnx.checker.check_model(proto, full_check=True)  # a mistake of ours is caught before any file exists
    data = proto.SerializeToString()
    with atomic_write(path, "wb") as stream:
        stream.write(data)
    return proto


def build(model, *, lengths_input=True, opset=DEFAULT_OPSET, dtype=None):
    """The onnx.ModelProto that export writes (nothing written)."""
    import onnx
    from .. import __version__
    if not isinstance(model, Sequential) or not model.layers:
        raise TypeError(f"model must be a numrnn.Sequential with layers, got {type(model).__name__}")
    newest = onnx.defs.onnx_opset_version()
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset must be an int in [{MIN_OPSET}, {newest}], got {opset!r}")
    if model.loss is not None and model.loss.name not in layout.LOSS_PREDICT:
        raise ValueError(f"the loss {model.loss.name!r} has a predict of its own, which numrnn.onnx cannot write; "
                         f"compile the model with one of {sorted(layout.LOSS_PREDICT)} or none to export it")
    dtype = np.dtype(model.dtype if dtype is None else dtype)
    if dtype.name not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype.name!r}")
    plans = [recurrent_plan(index, layer) for index, layer in enumerate(model.layers)]  # refuses before any work
    elem = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    g = Graph(dtype)
    first = model.layers[0]
    sequence = first.sequence_rank is not None
    rank = first.sequence_rank or 2
    if sequence and rank == 2:
        x_info = onnx.helper.make_tensor_value_info("x", onnx.TensorProto.INT64, ["batch", "time"])
    else:
        features = first.input_spec()[1]
        x_info = onnx.helper.make_tensor_value_info("x", elem, ["batch", "time", features][-rank:] if sequence
                                                    else ["batch", features])
    inputs = [x_info]
    lengths = None
    if lengths_input and sequence and any(plan is not None for plan in plans):
        inputs.append(onnx.helper.make_tensor_value_info("lengths", onnx.TensorProto.INT64, ["batch"]))
        lengths = Lengths(g, "lengths")
    out = g.add("Transpose", ["x"], perm=[1, 0] if rank == 2 else [1, 0, 2]) if sequence else "x"
    if getattr(first, "mask_zero", False) and any(plan is not None for plan in plans):
        lengths = Mask(g, out, lengths)
    for index, (layer, plan) in enumerate(zip(model.layers, plans)):
        out = emit_layer(g, layer, plan, out, lengths, f"l{index}")
    predict = None if model.loss is None else layout.LOSS_PREDICT.get(model.loss.name)
    if predict is not None:
        out = g.add(predict, [out], **({"axis": -1} if predict == "Softmax" else {}))
    shape = output_shape(model)
    if len(shape) == 3:
        out = g.add("Transpose", [out], perm=[1, 0, 2])
    g.nodes.append(onnx.helper.make_node("Identity", [out], ["y"], name="output"))
    y_info = onnx.helper.make_tensor_value_info("y", elem, ["batch", "time", shape[-1]][-len(shape):]
                                                if len(shape) == 3 else ["batch", shape[-1]])
    graph = onnx.helper.make_graph(g.nodes, "numrnn", inputs, [y_info], g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="numrnn", producer_version=__version__,
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    if model.loss is not None:  # lets numrnn.onnx.load give the loss back instead of a final Softmax layer
        onnx.helper.set_model_props(proto, {"numrnn.loss": json.dumps(model.loss.config())})
    return proto


def output_shape(model):
    """(batch, time, C) or (batch, C): the model's output for a batch of its input."""
    rank, features = model.layers[0].input_spec()
    shape = (None,) * ((rank or 2) - 1) + (features,)  # ids: (None, None), batch and time
    for layer in model.layers:
        shape = tuple(layer.output_shape(shape))
    return shape


class Lengths:
    """The lengths input as each consumer takes it: int32 for sequence_lens, int64 for ReverseSequence. pack and
    unpack (Mask's) are nothing here: the real steps are already at the front."""

    def __init__(self, g, name):
        self.g, self.int64 = g, name
        self._int32 = None

    @property
    def int32(self):
        if self._int32 is None:
            self._int32 = self.g.add("Cast", [self.int64], to=self.g.onnx.TensorProto.INT32)
        return self._int32

    def pack(self, x):
        return x

    def unpack(self, y):
        return y


class Mask(Lengths):
    """Embedding(mask_zero=True)'s mask in a graph of operators that take lengths (see the module docstring):

        real = ids != 0 [and t < lengths]      count = sum_t real       (the lengths the operators get)
        dest = cumsum(real) - 1 where real, else count + cumsum(not real) - 1     a permutation of 0..T-1 per sequence
        pack(x)[dest[t]] = x[t]                unpack(y)[t] = y[dest[t]]

    ids (T, B) int64 time-major; lengths: the lengths input (a Lengths) or None."""

    def __init__(self, g, ids, lengths):
        i64 = g.onnx.TensorProto.INT64
        zero, one = g.constant("zero", np.array(0, np.int64)), g.constant("one", np.array(1, np.int64))
        real = g.add("Not", [g.add("Equal", [ids, zero])])
        if lengths is not None:  # a step is real where both say so, as numrnn joins them
            filled = g.add("ConstantOfShape", [g.add("Shape", [ids])], value=g.onnx.numpy_helper.from_array(
                np.ones(1, np.int64)))
            step = g.add("Sub", [g.add("CumSum", [filled, zero]), one])  # t, in every column
            real = g.add("And", [real, g.add("Less", [step, g.add("Unsqueeze", [lengths.int64, g.ints([0])])])])
        ones = g.add("Cast", [real], to=i64)
        super().__init__(g, g.add("ReduceSum", [ones, g.ints([0])], keepdims=0))
        at_real = g.add("Sub", [g.add("CumSum", [ones, zero]), one])
        padded = g.add("Sub", [g.add("CumSum", [g.add("Sub", [one, ones]), zero]), one])
        dest = g.add("Where", [real, at_real, g.add("Add", [padded, self.int64])])
        self.dest = g.add("Unsqueeze", [dest, g.ints([2])])  # (T, B, 1), expanded to each tensor's features

    def _index(self, x):
        return self.g.add("Expand", [self.dest, self.g.add("Shape", [x])])

    def pack(self, x):
        return self.g.add("ScatterElements", [x, self._index(x), x], axis=0)

    def unpack(self, y):
        return self.g.add("GatherElements", [y, self._index(y)], axis=0)


def emit_layer(g, layer, plan, x, lengths, hint):
    """Nodes for one layer on a time-major (or, without a time axis, batch) tensor x; returns the output name."""
    from ..layers import Activation, Dense, Dropout, Embedding, OneHot
    kind = type(layer)
    if plan is not None:
        return emit_recurrent(g, plan, x, lengths)
    if kind is Embedding:
        return g.add("Gather", [g.constant(f"{hint}.weight", layer.params["weight"].astype(g.dtype)), x], axis=0)
    if kind is OneHot:
        depth = g.ints([layer.num_classes])
        return g.add("OneHot", [x, depth, g.constant("off_on", np.array([0, 1], dtype=g.dtype))], axis=-1)
    if kind is Dense:
        out = g.add("MatMul", [x, g.constant(f"{hint}.weight_t", layer.params["weight"].T.astype(g.dtype))])
        if layer.bias:
            out = g.add("Add", [out, g.constant(f"{hint}.bias", layer.params["bias"].astype(g.dtype))])
        return out
    if kind is Activation:
        if layer.name == "linear":
            return x
        attrs = {"axis": -1} if layer.name == "softmax" else {}
        return g.add(layout.ELEMENTWISE[layer.name], [x], **attrs)
    if kind is Dropout:
        return x
    raise AssertionError(f"support.recurrent_plan let {kind.__name__} through")  # checked before: never here


def emit_recurrent(g, plan, x, lengths):
    """A recurrent plan (support.py): stacks of operators, one per stacked layer, and for a Bidirectional whose
    layer is a stack of its own, the backward stack on the time-reversed input. Under a Mask, on the real steps
    packed to the front, and the outputs moved back."""
    if lengths is not None:
        x = lengths.pack(x)
    if plan.backward is None:
        out = emit_stack(g, plan.forward, x, lengths, plan.return_sequences)
    else:
        forward = emit_stack(g, plan.forward, x, lengths, plan.return_sequences)
        backward = emit_stack(g, plan.backward, reverse(g, x, lengths), lengths, plan.return_sequences)
        if plan.return_sequences:
            backward = reverse(g, backward, lengths)
        out = g.add("Concat", [forward, backward], axis=-1)
    return lengths.unpack(out) if lengths is not None and plan.return_sequences else out


def reverse(g, x, lengths):
    """Each sequence reversed in time within its length (numrnn.sequences.reverse_within); (T, B, F)."""
    if lengths is not None:
        return g.add("ReverseSequence", [x, lengths.int64], batch_axis=1, time_axis=0)
    return g.add("Slice", [x, g.ints([-1]), g.ints([np.iinfo(np.int64).min]), g.ints([0]), g.ints([-1])])


def emit_stack(g, stack, x, lengths, return_sequences):
    """One operator per stacked layer; returns (T, B, D*H) or, for return_sequences=False, the last layer's final
    states (B, D*H), forward direction first."""
    for k, directions in enumerate(stack.layers):
        last = k == len(stack.layers) - 1
        W, R, B = layout.to_onnx(stack.kind, directions, g.dtype)
        inputs = [x, g.constant(f"{stack.hint}.W{k}", W), g.constant(f"{stack.hint}.R{k}", R),
                  "" if B is None else g.constant(f"{stack.hint}.B{k}", B), "" if lengths is None else lengths.int32]
        count = len(directions)
        attrs = {"hidden_size": stack.hidden_size, "direction": "bidirectional" if count == 2 else "forward"}
        if stack.kind == "RNN":
            name, alpha, beta = layout.RNN_ACTIVATIONS[stack.nonlinearity]
            attrs["activations"] = [name] * count
            if alpha is not None:
                attrs["activation_alpha"], attrs["activation_beta"] = [alpha] * count, [beta] * count
        if stack.kind == "GRU":
            attrs["linear_before_reset"] = layout.GRU_RESET_AFTER[stack.reset_after]
        want_final = last and not return_sequences
        y, y_h = g.add(stack.kind, inputs, outputs=[not want_final, want_final], **attrs)[:2]
        if want_final:  # (D, B, H) -> (B, D*H)
            if count == 1:
                return g.add("Squeeze", [y_h, g.ints([0])])
            return g.add("Reshape", [g.add("Transpose", [y_h], perm=[1, 0, 2]), g.ints([0, -1])])
        if count == 1:  # (T, 1, B, H) -> (T, B, H)
            x = g.add("Squeeze", [y, g.ints([1])])
        else:  # (T, 2, B, H) -> (T, B, 2, H) -> (T, B, 2H): forward then backward, as numrnn concatenates
            x = g.add("Reshape", [g.add("Transpose", [y], perm=[0, 2, 1, 3]), g.ints([0, 0, -1])])
    return x
