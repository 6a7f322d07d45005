"""Element-wise activations, and softmax over the last axis, as a layer.

    tanh:     y = tanh(x)                 dy/dx = 1 - y^2
    sigmoid:  y = 1 / (1 + exp(-x))       dy/dx = y (1 - y)
    relu:     y = max(x, 0)               dy/dx = [y > 0]
    linear:   y = x                       dy/dx = 1
    softmax:  y_i = exp(x_i) / sum_j exp(x_j)   grad_x = y * (grad_y - sum(grad_y * y))

Every derivative is written in terms of the output y, so backward needs only what forward returned. The
recurrent cells use the same in-place functions for their hidden units.
"""
import numpy as np

from .._validate import as_float_array, check_choice
from .base import Layer


def tanh_(z):
    return np.tanh(z, out=z)


def sigmoid_(z):
    # sigmoid(z) = (1 + tanh(z / 2)) / 2: one transcendental call, no overflow for large |z|
    z *= 0.5
    np.tanh(z, out=z)
    z += 1.0
    z *= 0.5
    return z


def relu_(z):
    return np.maximum(z, 0, out=z)


def linear_(z):
    return z


def tanh_grad_(y, grad):
    """grad *= 1 - y^2, in place on grad."""
    grad -= grad * y * y
    return grad


def sigmoid_grad_(y, grad):
    grad *= y
    grad -= grad * y
    return grad


def relu_grad_(y, grad):
    grad *= y > 0
    return grad


def linear_grad_(y, grad):
    return grad


#: name -> (activation in place on the pre-activation, gradient in place given the output)
ELEMENTWISE = {
    "tanh": (tanh_, tanh_grad_),
    "sigmoid": (sigmoid_, sigmoid_grad_),
    "relu": (relu_, relu_grad_),
    "linear": (linear_, linear_grad_),
}


def softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


class Activation(Layer):
    """Activation(name) for name in tanh, sigmoid, relu, linear, softmax; no parameters."""

    NAMES = ("tanh", "sigmoid", "relu", "linear", "softmax")

    def __init__(self, name, dtype="float32"):
        super().__init__(dtype)
        self.name = check_choice("name", name, self.NAMES)
        self._output = None

    def forward(self, x):
        x = as_float_array("x", x, self.dtype, finite=False)
        if self.name == "softmax":
            self._output = softmax(x)
        else:
            self._output = ELEMENTWISE[self.name][0](x.copy())
        return self._output

    def backward(self, grad_out, need_input_grad=True):
        if self._output is None:
            raise RuntimeError("Activation.backward called before forward")
        grad_out = np.asarray(grad_out, dtype=self.dtype)
        if grad_out.shape != self._output.shape:
            raise ValueError(f"grad_out must have shape {self._output.shape}, got {grad_out.shape}")
        if not need_input_grad:
            return None
        y = self._output
        if self.name == "softmax":
            return y * (grad_out - np.sum(grad_out * y, axis=-1, keepdims=True))
        return ELEMENTWISE[self.name][1](y, grad_out.copy())

    def config(self):
        return {"name": self.name, "dtype": np.dtype(self.dtype).name}

    def output_shape(self, input_shape):
        return tuple(input_shape)
