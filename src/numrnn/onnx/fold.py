"""Constant folding for the reader: the few ONNX operators that torch's exporters apply to weights and shapes
(reordering gate blocks, building the shape of a Reshape), computed with NumPy when every input is known.

Every result is checked against a size limit before it is allocated (values.fold_size_limit): a graph cannot make
the reader build a tensor much larger than the file itself.
"""
import numpy as np


def fold(op, arrays, attrs, limit):
    """The outputs of `op` on constant inputs (None for an absent optional input), or None if not folded here."""
    rule = RULES.get(op)
    if rule is None:
        return None
    result = rule(arrays, attrs, limit)
    return None if result is None else [np.asarray(result)]


def _axes(values, rank):
    return sorted(int(a) % rank for a in np.atleast_1d(values))


def _bounded(shape, limit):
    if int(np.prod(shape, dtype=np.float64)) > limit:
        raise ValueError(f"a constant of shape {tuple(int(s) for s in shape)} is larger than this file can hold "
                         f"({limit} elements at most)")
    return shape


def _reshape(arrays, attrs, limit):
    data, shape = arrays[0], [int(s) for s in arrays[1]]
    if not attrs.get("allowzero", 0):
        shape = [data.shape[i] if s == 0 and i < data.ndim else s for i, s in enumerate(shape)]
    return data.reshape(shape)


def _squeeze(arrays, attrs, limit):
    axes = arrays[1] if len(arrays) > 1 and arrays[1] is not None else attrs.get("axes")
    return np.squeeze(arrays[0]) if axes is None else np.squeeze(arrays[0], axis=tuple(_axes(axes, arrays[0].ndim)))


def _unsqueeze(arrays, attrs, limit):
    axes = arrays[1] if len(arrays) > 1 and arrays[1] is not None else attrs.get("axes")
    out = arrays[0]
    for axis in _axes(axes, out.ndim + len(np.atleast_1d(axes))):
        out = np.expand_dims(out, axis)
    return out


def _slice(arrays, attrs, limit):
    data, starts, ends = arrays[0], arrays[1], arrays[2]
    axes = arrays[3] if len(arrays) > 3 and arrays[3] is not None else range(len(starts))
    steps = arrays[4] if len(arrays) > 4 and arrays[4] is not None else [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if int(step) == 0:
            raise ValueError("Slice with a step of 0")
        index[int(axis) % data.ndim] = slice(int(start), int(end), int(step))  # Python clamps as ONNX does
    return data[tuple(index)]


def _gather(arrays, attrs, limit):
    data, indices = arrays
    axis = int(attrs.get("axis", 0)) % data.ndim
    _bounded(data.shape[:axis] + np.shape(indices) + data.shape[axis + 1:], limit)
    return np.take(data, indices.astype(np.int64), axis=axis)


def _elementwise(function):
    def rule(arrays, attrs, limit):
        _bounded(np.broadcast_shapes(*(a.shape for a in arrays)), limit)
        return function(*arrays)
    return rule


def _constant_of_shape(arrays, attrs, limit):
    value = attrs.get("value")
    value = np.zeros(1, np.float32) if value is None else value
    return np.full(_bounded([int(s) for s in arrays[0]], limit), value.reshape(-1)[0], dtype=value.dtype)


def _expand(arrays, attrs, limit):
    shape = np.broadcast_shapes(arrays[0].shape, tuple(int(s) for s in arrays[1]))
    return np.broadcast_to(arrays[0], _bounded(shape, limit)).copy()


def _cast(arrays, attrs, limit):
    import onnx
    return arrays[0].astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))


def _shape(arrays, attrs, limit):
    shape = arrays[0].shape
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return np.array(shape[start:end], dtype=np.int64)


RULES = {
    "Identity": lambda arrays, attrs, limit: arrays[0],
    "Cast": _cast,
    "Reshape": _reshape,
    "Transpose": lambda arrays, attrs, limit: np.transpose(arrays[0], attrs.get("perm")),
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Concat": lambda arrays, attrs, limit: np.concatenate(arrays, axis=attrs["axis"]),
    "Slice": _slice,
    "Gather": _gather,
    "Shape": _shape,
    "Add": _elementwise(np.add),
    "Sub": _elementwise(np.subtract),
    "Mul": _elementwise(np.multiply),
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
}
