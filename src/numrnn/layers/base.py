"""The contract every numrnn layer keeps.

A layer owns its parameters and their gradients as dicts under PyTorch's names (`params`, `grads`, numrnn.module),
exposes `forward(x)` and `backward(grad_out) -> grad_in`, and never updates a weight itself: the optimizer sees
only the (params, grads) dicts, so gradients can be clipped, inspected or checked in between.
"""
import numpy as np

from .._validate import as_float_array
from ..module import Module
from ..registry import Registry

#: every layer class by name: what the file format writes and numrnn.load reads back (register your own)
LAYERS = Registry("layer")


class Layer(Module):
    """A layer: forward(x) and backward(grad_out) -> grad_in side by side, parameters and gradients as in Module."""

    #: True for layers whose forward takes `lengths` and `mask` (the recurrent layers)
    takes_lengths = False
    #: True for a layer that makes a mask of the real steps from its own input (Embedding(mask_zero=True): id 0 is
    #: padding): compute_mask(x) returns it, (batch, time) booleans. As the first layer of a Sequential, its mask
    #: (with any lengths or mask the model is given: a step is real where all say so) goes to every layer that takes
    #: lengths and to the loss, as Keras propagates masks.
    produces_mask = False
    #: True for layers whose forward takes `time_major` (layers with a time axis of their own)
    takes_time_major = False
    #: the rank of this layer's input when it is a batch of sequences (RNN 3, Embedding 2), None if it has none
    sequence_rank = None
    #: True if a long sequence may run through this layer in consecutive chunks, the state carried between them
    #: (not a bidirectional layer, nor one that returns only the last step)
    can_stream = True

    def __init__(self, dtype="float32"):
        super().__init__(dtype)
        self.training = True

    # -- the interface -------------------------------------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):
        raise NotImplementedError

    def output_shape(self, input_shape):
        """The output shape for an input shape whose batch (and time) entries may be None."""
        raise NotImplementedError

    def input_spec(self):
        """(rank, last axis size) this layer takes; None for either means any. Used to chain layers."""
        return None, None

    def compute_mask(self, x):
        """With produces_mask: the (batch, time) booleans of the real steps of input x (None: all are real)."""
        return None

    def check_input(self, name, data, finite=True):
        """Validate a model's input data for this (first) layer, before any work; NaN and inf too unless finite is
        False (the model then looks for them at real steps only)."""
        rank, features = self.input_spec()
        return as_float_array(name, data, self.dtype, ndim=rank, last_dim=features, finite=finite)

    def step_multiply_adds(self, batch):
        """Multiply-adds of one time step of this layer's recurrence for `batch` sequences (0: no recurrence);
        numrnn.threads decides the BLAS threads from it."""
        return 0

    def train(self, mode=True):
        self.training = bool(mode)
        return self

    def eval(self):
        return self.train(False)


class Workspace:
    """Arrays reused from one call to the next.

    Allocating a large array afresh on every training step costs page faults in the kernel; a layer asks its
    workspace for a buffer by name and gets the same memory back while the shape and dtype stay the same.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name, shape, dtype, zero=False):
        array = self._arrays.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = np.empty(shape, dtype=dtype)
            self._arrays[name] = array
        if zero:
            array.fill(0)
        return array

    def clear(self):
        self._arrays.clear()
