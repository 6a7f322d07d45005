"""Losses: the scalar a model minimises, and its gradient with respect to the model's output.

An output has shape (..., D); a *position* is one index into its leading axes (a sample, or a sample and a time
step). The terms each loss adds up are

    MeanSquaredError    l = (o - y)^2                                one term per element
    CrossEntropy        l = -sum_c y_c log softmax(z)_c              one term per position, z logits, y one-hot
    BinaryCrossEntropy  l = max(z, 0) - z y + log1p(exp(-|z|))      one term per element, z logits

and the loss is L = sum(l) with reduction="sum" (the tutorials' summed losses) or L = sum(l) / N with "mean", N the
number of terms counted, as torch's reduction="mean" does. A boolean `mask` of shape output.shape[:-1] keeps only
the positions where it is True (padding in sequences of different lengths): the others add nothing to L, nothing
to N, and get a zero gradient; their targets are never looked at.

    forward(output, target, mask=None) -> L     caches what backward needs
    backward() -> dL/d output                   same shape and dtype as output
    predict(output)                             what a model's predict returns (probabilities for classifiers)
    check_target(target, output_shape)          y validated and converted, before any work
    accuracy(output, target, mask=None)         fraction of positions (elements for BCE) predicted right

The classifiers take logits and fuse the softmax or sigmoid into the loss: the fused gradients are the plain
softmax(z) - y and sigmoid(z) - y, and no probability is ever logged, so no clipping of p is needed.
"""
import numpy as np

from ._validate import as_real_array, check_choice
from .functional import sigmoid, softmax, softmax_and_log_softmax
from .registry import Registry

__all__ = ["Loss", "MeanSquaredError", "CrossEntropy", "BinaryCrossEntropy", "LOSSES", "get_loss"]

# A probability row may miss a sum of 1 by float32 rounding, never by a whole class (a two-hot or an all-zero row).
_ROW_SUM_TOLERANCE = 1e-4


class Loss:
    """The shared machinery: argument checks, the mask, the reduction. Subclasses supply the terms."""

    name = None
    is_classification = False
    #: True when every one of the D elements of a position is a term of its own (N counts D per position)
    terms_per_element = True

    def __init__(self, reduction="mean"):
        self.reduction = check_choice("reduction", reduction, {"mean", "sum"})
        self._cache = None

    def forward(self, output, target, mask=None, checked=False, weights=None):
        """L = sum(w l) / N ("mean") or sum(w l) ("sum") over the positions the mask keeps; returns a Python float.

        weights: None, or a weight w >= 0 per position (output.shape[:-1]: a sample's, a time step's, a class's),
        multiplying its terms and their gradient, as Keras's sample_weight does; N still counts kept positions.
        checked=True: `target` already came out of check_target for this output's shape and dtype (a model checks
        its data once, not on every step), so it is used as it is.
        """
        output = _check_output(output)
        mask = _check_mask(mask, output.shape)
        weights = _check_weights(weights, output.shape)
        if not checked:
            target = self.check_target(target, output.shape, mask=mask, dtype=output.dtype)
        count = self._count(output.shape, mask)
        scale = 1.0 / count if self.reduction == "mean" else 1.0
        total = self._forward(output, target, mask, scale, weights)
        return float(total) * scale

    def backward(self):
        """dL/d output for the last forward, in the output's shape and dtype, zero where the mask is False."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._backward()

    def predict(self, output):
        return output

    def accuracy(self, output, target, mask=None, checked=False):
        """Fraction of kept positions (of their elements, for BCE) predicted right; None for regression."""
        output = _check_output(output)
        mask = _check_mask(mask, output.shape)
        if not checked:
            target = self.check_target(target, output.shape, mask=mask, dtype=output.dtype)
        correct = self._correct(output, target)
        if mask is None:
            return float(np.count_nonzero(correct)) / correct.size
        kept = mask if correct.ndim == mask.ndim else np.broadcast_to(mask[..., None], correct.shape)
        total = np.count_nonzero(kept)
        if total == 0:
            raise ValueError("mask must keep at least one position, got none True")
        return float(np.count_nonzero(correct & kept)) / total

    def config(self):
        """A JSON-able dict that get_loss rebuilds this loss from."""
        return {"name": self.name, "reduction": self.reduction}

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"

    # -- what subclasses supply ----------------------------------------------------------------------------------
    def check_target(self, target, output_shape, mask=None, dtype=None):
        raise NotImplementedError

    def _forward(self, output, target, mask, scale, weights):
        """Cache what _backward needs and return sum(w l) over the kept positions (w = 1 if weights is None)."""
        raise NotImplementedError

    def _backward(self):
        raise NotImplementedError

    def _correct(self, output, target):
        raise NotImplementedError

    def _count(self, output_shape, mask):
        positions = int(np.prod(output_shape[:-1])) if mask is None else int(np.count_nonzero(mask))
        if positions == 0:
            raise ValueError("mask must keep at least one position, got none True")
        return positions * (output_shape[-1] if self.terms_per_element else 1)


class MeanSquaredError(Loss):
    """l = (o - y)^2 per element;  dL/do = 2 (o - y) / N  (N = kept positions * D for "mean", 1 for "sum")."""

    name = "mse"

    def check_target(self, target, output_shape, mask=None, dtype=None):
        """y: real numbers of the output's shape, finite where the mask keeps them; returned in `dtype`."""
        mask = _check_mask(mask, output_shape)
        array = _float_array("y", target, dtype)
        _check_shape(array, output_shape, "the output")
        _check_finite_where_kept(array, mask)
        return _zero_where_dropped(array, mask)

    def _forward(self, output, target, mask, scale, weights):
        diff = np.subtract(output, target)  # o - y, kept for backward
        if mask is not None:
            diff *= mask[..., None]  # dropped positions add nothing and get no gradient
        weighted = diff if weights is None else diff * weights[..., None]  # w (o - y): dL/do up to 2 / N
        self._cache = (weighted, scale)
        return np.dot(weighted.reshape(-1), diff.reshape(-1))

    def _backward(self):
        diff, scale = self._cache
        return diff * (2.0 * scale)

    def accuracy(self, output, target, mask=None):
        return None


class CrossEntropy(Loss):
    """Softmax cross-entropy from logits z (..., C), torch.nn.functional.cross_entropy's math.

        log softmax(z)_c = z_c - m - log sum_k exp(z_k - m),   m = max_k z_k
        l = -sum_c y_c log softmax(z)_c          (y one-hot: -log softmax(z)_y)
        dL/dz = (softmax(z) - y) / N             N = kept positions for "mean", 1 for "sum"

    Subtracting m makes the largest exponent exp(0) = 1, so nothing overflows and the log's argument lies in
    [1, C]: logits of +-1e4 give exact, finite losses and gradients. y is either integer class indices of shape
    output.shape[:-1] or rows of shape output.shape (one-hot or probabilities summing to 1).
    """

    name = "cross_entropy"
    is_classification = True
    terms_per_element = False

    def check_target(self, target, output_shape, mask=None, dtype=None):
        """Class indices in [0, C) of shape output_shape[:-1] (int64 back), or rows of output_shape (floats back).

        Rows must hold values in [0, 1] summing to 1: the gradient softmax(z) - y assumes sum_c y_c = 1.
        """
        mask = _check_mask(mask, output_shape)
        num_classes = output_shape[-1]
        array = _as_array("y", target)
        if array.shape == tuple(output_shape[:-1]):
            return _class_indices(array, num_classes, mask)
        if array.shape != tuple(output_shape):
            raise ValueError(f"y must have shape {tuple(output_shape[:-1])} (class indices) or {tuple(output_shape)} "
                             f"(one-hot or probability rows) to match the output, got {array.shape}")
        array = _float_array("y", array, dtype)
        _check_finite_where_kept(array, mask)
        array = _zero_where_dropped(array, mask)
        _check_unit_interval(array)
        row_sums = array.sum(axis=-1)
        bad = np.abs(row_sums - 1.0) > _ROW_SUM_TOLERANCE
        if mask is not None:
            bad &= mask
        if bad.any():
            index = _first_index(bad)
            raise ValueError(f"y rows must be one-hot or probabilities summing to 1, "
                             f"row {index} sums to {row_sums[index]}")
        return array

    def _forward(self, output, target, mask, scale, weights):
        probs, log_probs = softmax_and_log_softmax(output)
        if target.ndim == output.ndim:
            picked = np.einsum("...c,...c->...", target, log_probs)  # sum_c y_c log softmax(z)_c
        else:
            picked = np.take_along_axis(log_probs, target[..., None], axis=-1)[..., 0]
        if weights is not None:
            picked *= weights
        total = -np.sum(picked, where=mask) if mask is not None else -np.sum(picked)
        # log_probs is not needed after this: backward writes the gradient into its memory
        self._cache = (probs, target, mask, scale, log_probs, weights)
        return total

    def _backward(self):
        probs, target, mask, scale, grad, weights = self._cache
        if target.ndim == probs.ndim:
            np.subtract(probs, target, out=grad)
        else:
            np.copyto(grad, probs)
            index = target[..., None]
            np.put_along_axis(grad, index, np.take_along_axis(grad, index, axis=-1) - 1, axis=-1)
        return _finish_gradient(grad, mask, weights, scale)

    def predict(self, output):
        """softmax(z) over the last axis, in the output's dtype."""
        return softmax(_check_output(output))

    def _correct(self, output, target):
        truth = target if target.ndim < output.ndim else target.argmax(axis=-1)
        return output.argmax(axis=-1) == truth


class BinaryCrossEntropy(Loss):
    """Sigmoid binary cross-entropy from logits z, torch's binary_cross_entropy_with_logits math.

        l = -y log sigmoid(z) - (1 - y) log(1 - sigmoid(z)) = max(z, 0) - z y + log1p(exp(-|z|))
        dL/dz = (sigmoid(z) - y) / N             N = kept positions * D for "mean", 1 for "sum"

    The right-hand form never exponentiates a positive number, so any finite logit gives a finite loss.
    Every one of the D outputs is its own yes/no question; y is in [0, 1] with the output's shape.
    """

    name = "binary_cross_entropy"
    is_classification = True

    def check_target(self, target, output_shape, mask=None, dtype=None):
        """y: numbers in [0, 1] (bools accepted) of the output's shape; returned in `dtype`."""
        mask = _check_mask(mask, output_shape)
        array = _float_array("y", target, dtype)
        _check_shape(array, output_shape, "the output")
        _check_finite_where_kept(array, mask)
        array = _zero_where_dropped(array, mask)
        _check_unit_interval(array)
        return array

    def _forward(self, output, target, mask, scale, weights):
        exp_neg_abs = np.abs(output)
        np.negative(exp_neg_abs, out=exp_neg_abs)
        np.exp(exp_neg_abs, out=exp_neg_abs)  # exp(-|z|) in (0, 1]
        terms = np.maximum(output, 0)
        terms -= output * target
        terms += np.log1p(exp_neg_abs)
        if mask is not None:
            terms *= mask[..., None]
        if weights is not None:
            terms *= weights[..., None]
        total = terms.sum()
        # terms is not needed after this: backward writes the gradient into its memory
        self._cache = (sigmoid(output), target, mask, scale, terms, weights)
        return total

    def _backward(self):
        sigmoid, target, mask, scale, grad, weights = self._cache
        np.subtract(sigmoid, target, out=grad)
        return _finish_gradient(grad, mask, weights, scale)

    def predict(self, output):
        """sigmoid(z) element-wise, in the output's dtype."""
        return sigmoid(_check_output(output))

    def _correct(self, output, target):
        # sigmoid(z) > 0.5 exactly when z > 0; soft targets count as 1 above 0.5
        return (output > 0) == (target > 0.5)


#: every loss by name, with Keras's and torch's names as aliases (the file format and get_loss read it)
LOSSES = Registry("loss")
LOSSES.register(MeanSquaredError, aliases=("mean_squared_error", "MeanSquaredError", "MSELoss"))
LOSSES.register(CrossEntropy, aliases=("categorical_crossentropy", "sparse_categorical_crossentropy", "ce",
                                       "CrossEntropy", "CrossEntropyLoss"))
LOSSES.register(BinaryCrossEntropy, aliases=("bce", "binary_crossentropy", "BinaryCrossEntropy",
                                             "BCEWithLogitsLoss"))


def get_loss(loss, **kwargs):
    """A loss from an instance (returned as is), a class, a name ("mse", "cross_entropy", "bce", Keras's and
    torch's names, ...) or a config, the dict a loss's config() returns ({"name": ..., "reduction": ...});
    kwargs add to it."""
    return LOSSES.build(loss, Loss, **kwargs)


# -- argument checks -----------------------------------------------------------------------------------------------

def _as_array(name, data):
    """An array of any dtype (ragged lists refused); what it must hold is checked by the caller."""
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged lists
        raise TypeError(f"{name} must be an array of numbers, could not convert it: {error}") from None


def _check_output(output):
    output = _as_array("output", output)
    if output.dtype not in (np.float32, np.float64):
        raise TypeError(f"output must be a float32 or float64 array, got dtype {output.dtype}")
    if output.ndim == 0:
        raise ValueError("output must have shape (..., D), got a scalar")
    if output.size == 0:
        raise ValueError(f"output is empty (shape {output.shape})")
    return output


def _check_mask(mask, output_shape):
    """A boolean array of shape output_shape[:-1], or None when absent or all True (nothing to leave out)."""
    if mask is None:
        return None
    mask = _as_array("mask", mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
    expected = tuple(output_shape[:-1])
    if mask.shape != expected:
        raise ValueError(f"mask must have shape {expected} (the output's shape without its last axis), "
                         f"got {mask.shape}")
    return None if mask.all() else mask


def _finish_gradient(grad, mask, weights, scale):
    """The gradient of every term, in place: zero at dropped positions, times each position's weight, times 1/N."""
    if mask is not None:
        grad *= mask[..., None]
    if weights is not None:
        grad *= weights[..., None]
    if scale != 1.0:
        grad *= scale
    return grad


def _check_weights(weights, output_shape):
    """None, or one finite weight >= 0 per position (output_shape[:-1]), as an array."""
    if weights is None:
        return None
    array = as_real_array("weights", weights)
    expected = tuple(output_shape[:-1])
    if array.shape != expected:
        raise ValueError(f"weights must have one entry per position, shape {expected}, got {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any():
        raise ValueError("weights must be finite and non-negative")
    return array


def _float_array(name, data, dtype):
    """Real numbers (bools count) as float32/float64: `dtype` if given, else kept if already one, else float64."""
    array = as_real_array(name, data)
    if dtype is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    return array.astype(dtype, copy=False)


def _check_shape(array, output_shape, what):
    if array.shape != tuple(output_shape):
        raise ValueError(f"y must have shape {tuple(output_shape)} to match {what}, got {array.shape}")


def _kept(array, mask):
    """The mask broadcast to the array's shape (positions, or positions x D)."""
    return mask if array.ndim == mask.ndim else mask[..., None]


def _check_finite_where_kept(array, mask):
    bad = ~np.isfinite(array)
    if mask is not None:
        bad &= _kept(array, mask)
    if bad.any():
        index = _first_index(bad)
        raise ValueError(f"y must be finite, found {array[index]} at index {index}")


def _zero_where_dropped(array, mask):
    """A copy with the positions the mask leaves out set to 0 (padding may hold anything), or the array itself."""
    if mask is None:
        return array
    return np.where(_kept(array, mask), array, 0).astype(array.dtype, copy=False)


def _check_unit_interval(array):
    bad = (array < 0) | (array > 1)
    if bad.any():
        index = _first_index(bad)
        raise ValueError(f"y must hold values in [0, 1], found {array[index]} at index {index}")


def _class_indices(array, num_classes, mask):
    """Integer class indices in [0, num_classes) as int64; floats are accepted when they hold whole numbers."""
    if array.dtype.kind not in "iuf":
        raise TypeError(f"y must hold integer class indices, got an array of dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.integer):
        whole = np.isfinite(array) & (array == np.round(array))
        bad = ~whole if mask is None else ~whole & mask
        if bad.any():
            index = _first_index(bad)
            raise TypeError(f"y must hold integer class indices, found {array[index]} at index {index}")
    array = _zero_where_dropped(array, mask).astype(np.int64, copy=False)
    bad = (array < 0) | (array >= num_classes)
    if bad.any():
        index = _first_index(bad)
        raise ValueError(f"y must hold class indices in [0, {num_classes}), found {array[index]} at index {index}")
    return array


def _first_index(bad):
    return tuple(int(i) for i in np.argwhere(bad)[0])
