"""What the reader knows about each tensor of a graph without running it: the abstract values of interpret.py.

    Const(array)      a tensor known in full: an initializer, a Constant, or arithmetic on those (folded here)
    Zeros()           all zeros of a shape known only at run time (ConstantOfShape, Expand of 0): an initial state
    ShapeOf(dims)     a 1-D int64 tensor of sizes, or a scalar: Shape of the data and arithmetic on it; each
                      entry an int, "B" (the batch size), "T" (the number of steps) or None (not known)
    LengthsInput()    the graph's lengths input (any integer type)
    States(items)     final states of several layers stacked on their direction axis (torch's h_n)
    Data(axes, chain) the data: the tensor that flows from the graph's input to its output, its axes labelled
                      (label, size) with labels B, T, F (features), D (directions of an RNN output), H (hidden
                      units per direction); chain: the layer specs (interpret.py) that made it, from the input
    Unknown(why)      anything else; an error only if the output depends on it

Sizes B and T are never known; every other size comes from a tensor present in the file.
"""
from dataclasses import dataclass, field, replace

import numpy as np


@dataclass(frozen=True)
class Const:
    array: np.ndarray = field(compare=False)


@dataclass(frozen=True)
class Zeros:
    pass


@dataclass(frozen=True)
class ShapeOf:
    dims: tuple
    scalar: bool = False


@dataclass(frozen=True)
class LengthsInput:
    pass


@dataclass(frozen=True)
class Unknown:
    why: str


@dataclass(frozen=True)
class States:
    """Final states (D, B, H) of several operators concatenated on D, as torch's h_n stacks its layers: a Gather of
    one index picks one of them."""
    items: tuple


@dataclass(frozen=True)
class Data:
    axes: tuple                 # ((label, size), ...): size an int, None for B and T
    chain: tuple = ()           # the layer specs from the input to here
    ids: bool = False           # integer ids (before an Embedding or OneHot)
    open_dense: bool = False    # the output of a MatMul: an Add of a bias may follow

    @property
    def labels(self):
        return tuple(label for label, _ in self.axes)

    @property
    def clean(self):
        """(B, T, F) in some order, or (B, F): no direction axis left to merge."""
        return "D" not in self.labels and "H" not in self.labels

    def with_axes(self, axes, **changes):
        axes = tuple(axes)
        if "D" not in (label for label, _ in axes):  # H without D is the features
            axes = tuple(("F", size) if label == "H" else (label, size) for label, size in axes)
        return replace(self, axes=axes, open_dense=False, **changes)

    def then(self, spec, axes=None, **changes):
        """This data through one more layer spec."""
        return replace(self.with_axes(self.axes if axes is None else axes), chain=self.chain + (spec,), **changes)


def constant(value, what):
    """The array of a Const input; ValueError if the input is computed at run time."""
    if not isinstance(value, Const):
        raise ValueError(f"{what} must be a constant of the file")
    return value.array


def shape_of(data, start=0, end=None):
    dims = tuple(size if label not in ("B", "T") else label for label, size in data.axes)
    return ShapeOf(dims[start:end])


def reshape_axes(axes, target, allowzero=False):
    """The axes after Reshape(data, target), target a list of ints, "B", "T" or None; None if it is not a merge
    numrnn reads: each target entry is one source axis unchanged, or the directions and hidden units (D, H) of an
    RNN output made one feature axis, forward direction first."""
    entries = [axes[i] if (entry == 0 and not allowzero and i < len(axes)) else entry for i, entry in
               enumerate(target)]
    if sum(1 for e in entries if e == -1) > 1 or any(e is None for e in entries):
        return None
    if -1 in entries:
        cut = entries.index(-1)
        left = _match(list(axes), entries[:cut])
        right = _match(list(axes)[::-1], entries[cut + 1:][::-1])
        if left is None or right is None:
            return None
        (left_axes, used_left), (right_axes, used_right) = left, right
        if used_left + used_right >= len(axes):
            return None
        merged = _merge(list(axes)[used_left:len(axes) - used_right])
        return None if merged is None else tuple(left_axes) + (merged,) + tuple(right_axes[::-1])
    matched = _match(list(axes), entries)
    return None if matched is None or matched[1] != len(axes) else tuple(matched[0])


def _match(axes, entries):
    """Entries matched to axes from the front: ([output axes], number of source axes used) or None."""
    out, i = [], 0
    for entry in entries:
        if isinstance(entry, tuple):  # a 0 entry: the source axis copied
            if i >= len(axes) or axes[i] != entry:
                return None
            out.append(entry)
            i += 1
            continue
        if isinstance(entry, str):
            if i >= len(axes) or axes[i][0] != entry:
                return None
            out.append(axes[i])
            i += 1
            continue
        group, product = [], 1
        while i < len(axes) and isinstance(axes[i][1], int) and product < entry:
            product *= axes[i][1]
            group.append(axes[i])
            i += 1
        merged = _merge(group) if product == entry else None
        if merged is None:
            return None
        out.append(merged)
    return out, i


def _merge(group):
    if len(group) == 1:
        return group[0]
    if [label for label, _ in group] == ["D", "H"]:
        return ("F", group[0][1] * group[1][1])
    return None


def fold_size_limit(constants):
    """The most elements a folded constant may have: a folded shape or weight is never much larger than what the
    file holds, so a graph cannot make the reader allocate more than that."""
    return max(1 << 20, 4 * sum(int(c.size) for c in constants))


def as_shape(value):
    """A Const int vector or a ShapeOf as a list of entries, or None."""
    if isinstance(value, ShapeOf):
        return list(value.dims)
    if isinstance(value, Const) and value.array.dtype.kind in "iu" and value.array.ndim <= 1:
        return [int(v) for v in np.atleast_1d(value.array)]
    return None


def shape_arithmetic(op, a, b):
    """Add, Sub, Mul on shape entries: ints compute, anything else is not known."""
    if isinstance(a, int) and isinstance(b, int):
        return {"Add": a + b, "Sub": a - b, "Mul": a * b}[op]
    if op == "Mul" and (a == 1 or b == 1):
        return b if a == 1 else a
    return None
