"""Dense: an affine map on the last axis, torch.nn.Linear's math and names.

    forward:   y = x W^T + b                  x (..., in_features), W `weight` (out, in), b `bias` (out,)
    backward:  grad_W = grad_y^T x,  grad_b = sum grad_y,  grad_x = grad_y W   (leading axes flattened)
"""
import numpy as np

from .._validate import as_float_array, as_gradient, check_positive_int
from ..random import uniform
from .base import LAYERS, Layer


@LAYERS.register
class Dense(Layer):
    def __init__(self, in_features, out_features, *, bias=True, dtype="float32"):
        super().__init__(dtype)
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.bias = bool(bias)
        bound = 1.0 / np.sqrt(self.in_features)  # torch's default for Linear
        self.add_param("weight", uniform(bound, (self.out_features, self.in_features)))
        if self.bias:
            self.add_param("bias", uniform(bound, self.out_features))
        self._input = None

    def forward(self, x):
        x = as_float_array("x", x, self.dtype, last_dim=self.in_features, finite=False)
        self._input = x
        flat = x.reshape(-1, self.in_features)
        out = flat @ self.params["weight"].T
        if self.bias:
            out += self.params["bias"]
        return out.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, grad_out, need_input_grad=True):
        if self._input is None:
            raise RuntimeError("Dense.backward called before forward")
        grad_out = as_gradient("grad_out", grad_out, self._input.shape[:-1] + (self.out_features,), self.dtype)
        grad_flat = grad_out.reshape(-1, self.out_features)
        input_flat = self._input.reshape(-1, self.in_features)
        np.matmul(grad_flat.T, input_flat, out=self.grads["weight"])
        if self.bias:
            np.sum(grad_flat, axis=0, out=self.grads["bias"])
        if not need_input_grad:
            return None
        return (grad_flat @ self.params["weight"]).reshape(self._input.shape)

    def config(self):
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias,
                "dtype": np.dtype(self.dtype).name}

    def input_spec(self):
        return None, self.in_features

    def check_input(self, name, data, finite=True):
        """A model's input: (batch, ..., in_features), at least 2 dimensions."""
        return as_float_array(name, data, self.dtype, last_dim=self.in_features, min_ndim=2, finite=finite)

    def output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out_features,)
