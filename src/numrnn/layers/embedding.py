"""Embedding: a lookup table of vectors indexed by integer ids, torch.nn.Embedding's math and name.

    forward:   y[..., :] = W[ids[...], :]            ids (...) integers in [0, V), W `weight` (V, E)
    backward:  grad_W[v] = sum over positions p with ids[p] = v of grad_y[p]      (zero for ids never seen)

The ids carry no gradient (they are integers), so backward returns None. An id repeated in a batch adds up the
gradients of all its positions: the scatter-add is a one-hot matrix product (onehot(ids)^T grad_y, one BLAS call)
when the vocabulary is small, and a sort with np.add.reduceat otherwise; both give np.add.at's result.

Any layout of ids works, batch-first (batch, time) or time-major (time, batch): the output keeps the ids' axes and
adds one of size E, so a model feeding an Embedding into a recurrent layer converts to time-major once, on the ids.

OneHot(V), below, is the parameter-free alternative: ids -> one-hot rows, for models whose recurrent layer reads
one-hot vectors (char-rnn's input) but that should take the same integer ids.
"""
import numpy as np

from .._validate import as_gradient, as_index_array, check_positive_int
from ..random import normal
from .base import LAYERS, Layer

# one-hot scatter while the (positions, V) one-hot matrix stays below this many elements (32 MiB in float32)
_ONE_HOT_LIMIT = 1 << 23


def _check_id_batch(name, data, upper):
    """A model's input of ids: integers in [0, upper), (batch, time) or (batch,)."""
    array = as_index_array(name, data, upper=upper)
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must have 1 or 2 dimensions (batch, time) of integer ids, got {array.ndim} "
                         f"(shape {array.shape})")
    return array


@LAYERS.register
class Embedding(Layer):
    """numrnn.Embedding(num_embeddings, embedding_dim, *, mask_zero=False, dtype="float32"); weight ~ N(0, 1) as
    torch.

    Input: integer ids (batch, time) (or (batch,)); output (batch, time, embedding_dim). A torch.nn.Embedding
    state dict ({"weight": (V, E)}) loads unchanged.

    mask_zero=True, as Keras's: id 0 is padding. compute_mask(ids) gives ids != 0, and as the first layer of a
    numrnn.Sequential (produces_mask) this mask goes to every recurrent layer and the loss: a step of id 0 changes
    no state, takes no gradient and has no target, wherever it stands. Row 0 of the weight still exists (and gets
    no gradient from masked steps): keep id 0 for padding, as Keras asks (num_embeddings = vocabulary + 1).
    """

    #: a batch of sequences of ids is (batch, time): the model converts it to time-major once
    sequence_rank = 2

    def __init__(self, num_embeddings, embedding_dim, *, mask_zero=False, dtype="float32"):
        super().__init__(dtype)
        self.num_embeddings = check_positive_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_positive_int("embedding_dim", embedding_dim)
        self.mask_zero = bool(mask_zero)
        self.produces_mask = self.mask_zero
        self.add_param("weight", normal((self.num_embeddings, self.embedding_dim)))
        self._ids = None

    def compute_mask(self, ids):
        """(batch, time) booleans, True where a step is real: ids != 0 with mask_zero=True (None without it, or for
        ids without a time axis)."""
        ids = np.asarray(ids)
        if not self.mask_zero or ids.ndim != 2:
            return None
        return ids != 0

    def _check_ids(self, name, ids):
        return as_index_array(name, ids, upper=self.num_embeddings)

    def forward(self, ids):
        """ids (...) in [0, num_embeddings) -> (..., embedding_dim)."""
        ids = self._check_ids("ids", ids)
        self._ids = ids
        return np.take(self.params["weight"], ids, axis=0)

    def backward(self, grad_out, need_input_grad=True):
        """Sets grads["weight"] (repeated ids add up); returns None: integer ids have no gradient."""
        if self._ids is None:
            raise RuntimeError("Embedding.backward called before forward")
        grad_out = as_gradient("grad_out", grad_out, self._ids.shape + (self.embedding_dim,), self.dtype)
        ids = self._ids.reshape(-1)
        grad_rows = grad_out.reshape(-1, self.embedding_dim)
        grad_weight = self.grads["weight"]
        if ids.size * self.num_embeddings <= _ONE_HOT_LIMIT:
            one_hot = np.zeros((ids.size, self.num_embeddings), dtype=self.dtype)
            one_hot[np.arange(ids.size), ids] = 1
            np.matmul(one_hot.T, grad_rows, out=grad_weight)  # onehot(ids)^T grad_y: row v sums the rows of id v
        else:
            order = np.argsort(ids, kind="stable")
            sorted_ids = ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
            grad_weight.fill(0)
            grad_weight[sorted_ids[starts]] = np.add.reduceat(grad_rows[order], starts, axis=0)
        return None

    def config(self):
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero, "dtype": np.dtype(self.dtype).name}

    def input_spec(self):
        return 2, None

    def check_input(self, name, data, finite=True):
        """Integer ids (batch, time) or (batch,) in [0, num_embeddings), with a message that says what is wrong."""
        return _check_id_batch(name, data, self.num_embeddings)

    def output_shape(self, input_shape):
        return tuple(input_shape) + (self.embedding_dim,)


@LAYERS.register
class OneHot(Layer):
    """numrnn.OneHot(num_classes, dtype="float32"): integer ids (...) -> one-hot rows (..., num_classes).

        y[..., c] = 1 if ids[...] == c else 0

    No parameters and no gradient (the ids are integers): it lets a model whose recurrent layer reads one-hot
    vectors (char-rnn's input) take the same integer ids as an Embedding model, in fit, predict and sampling.
    """

    sequence_rank = 2

    def __init__(self, num_classes, *, dtype="float32"):
        super().__init__(dtype)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self._shape = None

    def forward(self, ids):
        ids = as_index_array("ids", ids, upper=self.num_classes)
        self._shape = ids.shape
        out = np.zeros(ids.shape + (self.num_classes,), dtype=self.dtype)
        np.put_along_axis(out, ids[..., None], 1, axis=-1)
        return out

    def backward(self, grad_out, need_input_grad=True):
        if self._shape is None:
            raise RuntimeError("OneHot.backward called before forward")
        return None

    def config(self):
        return {"num_classes": self.num_classes, "dtype": np.dtype(self.dtype).name}

    def input_spec(self):
        return 2, None

    def check_input(self, name, data, finite=True):
        return _check_id_batch(name, data, self.num_classes)

    def output_shape(self, input_shape):
        return tuple(input_shape) + (self.num_classes,)
