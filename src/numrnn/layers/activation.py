"""Element-wise activations, and softmax over the last axis, as a layer.

    tanh:     y = tanh(x)                 dy/dx = 1 - y^2
    sigmoid:  y = 1 / (1 + exp(-x))       dy/dx = y (1 - y)
    relu:     y = max(x, 0)               dy/dx = [y > 0]
    linear:   y = x                       dy/dx = 1
    softmax:  y_i = exp(x_i) / sum_j exp(x_j)   grad_x = y * (grad_y - sum(grad_y * y))

Every derivative is written in terms of the output y, so backward needs only what forward returned; the functions
are numrnn.functional's, which the recurrent layers and cells use too.
"""
import numpy as np

from .._validate import as_float_array, as_gradient, check_choice
from ..functional import ACTIVATIONS, activate, derivative, softmax, softmax_backward
from .base import LAYERS, Layer


@LAYERS.register
class Activation(Layer):
    """Activation(name) for name in tanh, sigmoid, relu, linear, softmax; no parameters."""

    NAMES = ACTIVATIONS + ("softmax",)

    def __init__(self, name, *, dtype="float32"):
        super().__init__(dtype)
        self.name = check_choice("name", name, self.NAMES)
        self._output = None

    def forward(self, x):
        x = as_float_array("x", x, self.dtype, finite=False)
        if self.name == "softmax":
            self._output = softmax(x)
        else:
            self._output = activate(self.name, x)
        return self._output

    def backward(self, grad_out, need_input_grad=True):
        if self._output is None:
            raise RuntimeError("Activation.backward called before forward")
        grad_out = as_gradient("grad_out", grad_out, self._output.shape, self.dtype)
        if not need_input_grad:
            return None
        y = self._output
        if self.name == "softmax":
            return softmax_backward(y, grad_out)
        return grad_out * derivative(self.name, y)

    def config(self):
        return {"name": self.name, "dtype": np.dtype(self.dtype).name}

    def output_shape(self, input_shape):
        return tuple(input_shape)
