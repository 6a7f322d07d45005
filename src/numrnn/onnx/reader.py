"""numrnn.onnx.load: an ONNX file back into a numrnn.Sequential whose predict equals the graph's output.

It reads graphs built of ONNX's RNN, LSTM and GRU operators and the few around them: what numrnn.onnx.export
writes, and what torch.onnx.export writes for nn.Embedding, nn.RNN/LSTM/GRU(batch_first=True) and nn.Linear models
(both of its exporters; the dynamo one unrolls nn.RNN into MatMul and Tanh steps, which is refused). The mask
that export builds for an Embedding(mask_zero=True) (writer.Mask) is not read: such a file is refused, naming its
operators. The graph's
input is batch-first, x (batch, time) ids, (batch, time, features) or (batch, features), with an optional lengths
input (batch,) that feeds sequence_lens; its output is batch-first too.

Untrusted files: the protobuf is parsed by the onnx package (no external data loaded by it); every tensor is
checked against the bytes present before it becomes an array: raw_data or the typed field holds exactly
prod(dims) values, and external data lies in a file inside the model's folder, within that file's size. No size
read from the file allocates anything by itself: layers get their sizes from those tensors, and a folded constant
stays within a limit set by them (values.fold_size_limit).

interpret.py reads the layer specs; here they become layers: consecutive RNN/LSTM/GRU operators of one kind and
options are one stacked layer (num_layers), as torch's and numrnn's; a Concat of a forward stack and a reversed
backward one is a Bidirectional; a final Softmax or Sigmoid becomes the loss again when numrnn wrote the file.
"""
import json
import os

import numpy as np

from ..model import Sequential
from . import interpret, layout, specs
from .values import Data, LengthsInput, Unknown, fold_size_limit

#: the oldest opset read: Squeeze's axes, Softmax's axis and Slice's inputs have their present form since 13
MIN_OPSET = 13


def load(path):
    """The numrnn.Sequential an ONNX file computes; ValueError saying what numrnn cannot read."""
    import onnx
    path = os.fspath(path)
    proto = onnx.load(path, load_external_data=False)
    where = f"{path}"
    graph = proto.graph
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset < MIN_OPSET:
        raise ValueError(f"{where}: opset {opset} is older than {MIN_OPSET}, the oldest numrnn reads; re-export it")
    unsupported = sorted({(n.domain + "::" if n.domain not in ("", "ai.onnx") else "") + n.op_type
                          for n in graph.node if n.domain not in ("", "ai.onnx") or n.op_type not in
                          interpret.SUPPORTED})
    if unsupported or proto.functions:
        names = unsupported + [f"function {f.name}" for f in proto.functions]
        raise ValueError(f"{where}: the graph uses operators numrnn does not read: {', '.join(names)} (numrnn "
                         f"reads {', '.join(sorted(interpret.SUPPORTED))})")
    folder = os.path.dirname(os.path.abspath(path))
    constants = {t.name: read_tensor(t, folder, where) for t in graph.initializer}
    values = {name: interpret.Const(array) for name, array in constants.items()}
    inputs = [i for i in graph.input if i.name not in constants]
    x, lengths = _graph_inputs(inputs, where)
    elem = x.type.tensor_type.elem_type
    ids = elem in (onnx.TensorProto.INT64, onnx.TensorProto.INT32)
    rank = len(x.type.tensor_type.shape.dim)
    if not ids and elem not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE) or rank not in ((2,) if ids
                                                                                                else (2, 3)):
        raise ValueError(f"{where}: input {x.name!r} must be (batch, time) integer ids, (batch, time, features) or "
                         f"(batch, features) floats, got element type {elem} and rank {rank}")
    axes = (("B", None), ("T", None)) if ids else (("B", None), ("T", None), ("F", None))[:rank - 1] + (("F", None),)
    values[x.name] = Data(axes if ids else _with_features(axes, x), ids=ids)
    if lengths is not None:
        values[lengths.name] = LengthsInput()
    interpret.walk(graph.node, values, lambda node: _attributes(node, folder, where),
                   fold_size_limit(constants.values()))
    if len(graph.output) != 1:
        raise ValueError(f"{where}: the graph has {len(graph.output)} outputs; a numrnn model has one")
    out = values.get(graph.output[0].name, Unknown("the output is not computed by any node"))
    if isinstance(out, Unknown):
        raise ValueError(f"{where}: {out.why}")
    if not isinstance(out, Data) or not out.clean or out.labels[0] != "B" or out.ids:
        got = out.labels if isinstance(out, Data) else type(out).__name__
        raise ValueError(f"{where}: the output must be batch-first model output, got axes {got}")
    dtype = "float64" if graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE else "float32"
    meta = {p.key: p.value for p in proto.metadata_props}
    try:
        return build(out.chain, dtype, lengths is not None, _loss_config(meta.get("numrnn.loss")))
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _loss_config(text):
    """The loss config numrnn's export keeps in the metadata, or None (not numrnn's file, or not a config)."""
    try:
        config = json.loads(text) if text else None
    except ValueError:
        return None
    return config if isinstance(config, dict) and set(config) == {"name", "reduction"} and \
        config["name"] in layout.LOSS_PREDICT and config["reduction"] in ("mean", "sum") else None


def _with_features(axes, x):
    dim = x.type.tensor_type.shape.dim[-1]
    return axes[:-1] + (("F", dim.dim_value if dim.HasField("dim_value") else None),)


def _graph_inputs(inputs, where):
    if len(inputs) not in (1, 2):
        raise ValueError(f"{where}: the graph has {len(inputs)} inputs; numrnn reads x and optionally lengths")
    lengths = inputs[1] if len(inputs) == 2 else None
    if lengths is not None and len(lengths.type.tensor_type.shape.dim) != 1:
        raise ValueError(f"{where}: the second input {lengths.name!r} must be the lengths (batch,)")
    return inputs[0], lengths


def _attributes(node, folder, where):
    import onnx
    attrs = {}
    for attribute in node.attribute:
        if attribute.type == onnx.AttributeProto.TENSOR:
            attrs[attribute.name] = read_tensor(attribute.t, folder, where)
        elif attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            raise ValueError(f"{where}: node {node.name!r} holds a subgraph, which numrnn does not read")
        else:
            value = onnx.helper.get_attribute_value(attribute)
            if isinstance(value, bytes) or isinstance(value, list) and value and isinstance(value[0], bytes):
                value = value.decode() if isinstance(value, bytes) else [v.decode() for v in value]
            attrs[attribute.name] = value
    if node.op_type == "Constant":
        for key, kind in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                          ("value_ints", np.int64)):
            if key in attrs:
                attrs["value"] = np.array(attrs[key], dtype=kind)
        if "value" not in attrs:
            raise ValueError(f"{where}: Constant node {node.name!r} holds a kind of value numrnn does not read")
    return attrs


# -- tensors ----------------------------------------------------------------------------------------------------------
def read_tensor(tensor, folder, where):
    """A TensorProto as a NumPy array after checking that the bytes present hold exactly its dims."""
    import onnx
    fields = {onnx.TensorProto.FLOAT: ("float_data", np.dtype("<f4")), onnx.TensorProto.DOUBLE:
              ("double_data", np.dtype("<f8")), onnx.TensorProto.INT64: ("int64_data", np.dtype("<i8")),
              onnx.TensorProto.INT32: ("int32_data", np.dtype("<i4"))}
    if tensor.data_type not in fields:
        raise ValueError(f"{where}: tensor {tensor.name!r} has data type "
                         f"{onnx.TensorProto.DataType.Name(tensor.data_type)}; numrnn reads float, double, int32 "
                         f"and int64")
    field, dtype = fields[tensor.data_type]
    dims = [int(d) for d in tensor.dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{where}: tensor {tensor.name!r} has negative dims {dims}")
    count = int(np.prod(dims, dtype=object)) if dims else 1
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        data = _external_bytes(tensor, folder, count * dtype.itemsize, where)
        return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))
    present = len(tensor.raw_data) // dtype.itemsize if tensor.HasField("raw_data") else len(getattr(tensor, field))
    if tensor.HasField("raw_data") and len(tensor.raw_data) % dtype.itemsize or present != count:
        raise ValueError(f"{where}: tensor {tensor.name!r} claims dims {dims} ({count} values) but holds {present}")
    return onnx.numpy_helper.to_array(tensor).astype(dtype.newbyteorder("="), copy=False)


def _external_bytes(tensor, folder, expected, where):
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    target = os.path.realpath(os.path.join(folder, location))
    if not location or os.path.isabs(location) or os.path.commonpath([target, os.path.realpath(folder)]) != \
            os.path.realpath(folder) or not os.path.isfile(target):
        raise ValueError(f"{where}: tensor {tensor.name!r} keeps its data in {location!r}, which is not a file in "
                         f"the model's folder")
    offset, length = int(info.get("offset", 0)), int(info.get("length", expected))
    size = os.path.getsize(target)
    if length != expected or offset < 0 or offset + length > size:
        raise ValueError(f"{where}: tensor {tensor.name!r} needs {expected} bytes of {location!r} at offset "
                         f"{offset}, but the entry says {length} and the file has {size}")
    with open(target, "rb") as stream:
        stream.seek(offset)
        return stream.read(length)


# -- specs -> layers ----------------------------------------------------------------------------------------------
def build(chain, dtype, has_lengths, loss):
    """The Sequential of a chain of specs (interpret.py); loss: a loss config whose predict may end the chain."""
    from ..layers import Activation, Bidirectional, Dense, Embedding, OneHot
    predict = None if loss is None else layout.LOSS_PREDICT[loss["name"]]
    if predict is not None:  # the loss's predict ends the graph: the loss, not a layer
        if chain and chain[-1] == specs.Activation(predict.lower()):
            chain = chain[:-1]
        else:
            loss = None
    layers, i = [], 0
    while i < len(chain):
        spec = chain[i]
        if isinstance(spec, specs.Op):
            group = _stack(chain, i)
            layers.append(_recurrent(group, dtype, has_lengths))
            i += len(group)
            continue
        if isinstance(spec, specs.Embedding):
            layer = Embedding(*spec.weight.shape, dtype=dtype)
            layer.load_state_dict({"weight": spec.weight})
        elif isinstance(spec, specs.OneHot):
            nxt = chain[i + 1] if i + 1 < len(chain) else None
            if not isinstance(nxt, (specs.Op, specs.Dense, specs.Bidirectional)):
                raise ValueError("a OneHot must be followed by a layer with weights, whose size fixes its depth")
            layer = OneHot(spec.depth, dtype=dtype)
        elif isinstance(spec, specs.Dense):
            layer = Dense(spec.weight.shape[1], spec.weight.shape[0], bias=spec.bias is not None, dtype=dtype)
            layer.load_state_dict({"weight": spec.weight, **({} if spec.bias is None else {"bias": spec.bias})})
        elif isinstance(spec, specs.Activation):
            layer = Activation(spec.name, dtype=dtype)
        elif isinstance(spec, specs.Bidirectional):
            forward = _recurrent(list(spec.forward), dtype, has_lengths)
            backward = _recurrent(list(spec.backward), dtype, has_lengths)
            if forward.config() != backward.config():
                raise ValueError("the two directions of a Concat differ in their layers")
            layer = Bidirectional(forward, backward_layer=backward)
        else:
            raise ValueError(f"a {type(spec).__name__} that belongs to no layer")
        layers.append(layer)
        i += 1
    try:
        return Sequential(layers, loss=loss)
    except ValueError as error:
        raise ValueError(f"the graph's layers do not chain: {error}") from None


def _stack(chain, start):
    """The operators from chain[start] that are one stacked layer: one kind and options, each but the last
    returning every step."""
    first, group = chain[start], [chain[start]]
    for spec in chain[start + 1:]:
        same = isinstance(spec, specs.Op) and (spec.kind, spec.hidden_size, len(spec.directions),
                                                   spec.nonlinearity, spec.reset_after, spec.lengths,
                                                   spec.directions[0][2] is None) == \
            (first.kind, first.hidden_size, len(first.directions), first.nonlinearity, first.reset_after,
             first.lengths, first.directions[0][2] is None)
        if not same or not group[-1].return_sequences:
            break
        group.append(spec)
    return group


def _recurrent(group, dtype, has_lengths):
    """One numrnn.RNN/LSTM/GRU from the operators of one stacked layer."""
    from ..layers import GRU, LSTM, RNN
    first, last = group[0], group[-1]
    if len(_stack(group, 0)) != len(group):
        raise ValueError("the operators of one direction of a Bidirectional are no single stacked layer")
    if any(op.lengths != has_lengths for op in group):
        raise ValueError("the graph has a lengths input that not every RNN, LSTM or GRU operator takes; numrnn "
                         "gives the lengths to every recurrent layer")
    cls = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}[first.kind]
    options = {"nonlinearity": first.nonlinearity} if first.kind == "RNN" else \
        {"reset_after": first.reset_after} if first.kind == "GRU" else {}
    bias = first.directions[0][2] is not None
    layer = cls(first.directions[0][0].shape[1], first.hidden_size, num_layers=len(group), bias=bias,
                bidirectional=len(first.directions) == 2, return_sequences=last.return_sequences, dtype=dtype,
                **options)
    state = {}
    for k, op in enumerate(group):
        for suffix, weights in zip(("", "_reverse"), op.directions):
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
                if value is not None:
                    state[f"{name}_l{k}{suffix}"] = value
    layer.load_state_dict(state)
    return layer
