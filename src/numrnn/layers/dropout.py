"""Dropout: in training, each element is zeroed with probability p and the others scaled by 1 / (1 - p) (inverted
dropout, torch.nn.Dropout's math); in evaluation it passes its input through.

    forward (training):  m = [u >= p] / (1 - p),  u ~ U(0, 1) per element, drawn anew every forward
                         y = x * m
    backward:            grad_x = grad_y * m
"""
import numpy as np

from .._validate import as_float_array, as_gradient, check_probability
from ..random import dropout_mask
from .base import LAYERS, Layer


@LAYERS.register
class Dropout(Layer):
    """numrnn.Dropout(p, *, dtype="float32"); any input shape (sequences are time-major inside a model)."""

    def __init__(self, p, *, dtype="float32"):
        super().__init__(dtype)
        self.p = check_probability("p", p)
        #: where masks are drawn from: a numpy Generator of this layer's own, or None for numrnn's generator
        self.generator = None
        self._mask = None
        self._shape = None

    def forward(self, x):
        x = as_float_array("x", x, self.dtype, finite=False)
        self._shape = x.shape
        if not self.training or self.p == 0:
            self._mask = None
            return x
        self._mask = dropout_mask(x.shape, self.p, self.dtype, self.generator)
        return x * self._mask

    def backward(self, grad_out, need_input_grad=True):
        if self._shape is None:
            raise RuntimeError("Dropout.backward called before forward")
        grad_out = as_gradient("grad_out", grad_out, self._shape, self.dtype)
        if not need_input_grad:
            return None
        return grad_out if self._mask is None else grad_out * self._mask

    def config(self):
        return {"p": self.p, "dtype": np.dtype(self.dtype).name}

    def output_shape(self, input_shape):
        return tuple(input_shape)
