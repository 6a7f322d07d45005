"""The Elman cell, torch.nn.RNNCell's parameters and math: one time step, forward and backward side by side."""
import numpy as np

from .._validate import check_choice
from ..functional import ACTIVATIONS, activate, derivative
from .base import Cell


class RNNCell(Cell):
    """RNNCell(input_size, hidden_size, *, nonlinearity="tanh", bias=True, dtype="float32").

    Parameters as torch.nn.RNNCell's: weight_ih (H, input_size), weight_hh (H, H), bias_ih, bias_hh (H,) (no
    biases with bias=False), called W_ih, W_hh, b_ih, b_hh below. state = (hidden,); the output is new_hidden, the
    same array as new_state[0]. act is the nonlinearity (tanh, sigmoid, relu or linear), and act' is written with
    act's output (numrnn.functional.derivative).

    Forward                                            Backward
      z = x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh     grad_z = (grad_output + grad_new_hidden) * act'(new_hidden)
      new_hidden = act(z)                                grad_x = grad_z @ W_ih
                                                         grad_hidden = grad_z @ W_hh
                                                         add_gate_grads(x, hidden, grad_z, grad_z):
                                                           grads["weight_ih"] += grad_z.T @ x
                                                           grads["weight_hh"] += grad_z.T @ hidden
                                                           grads["bias_ih"] += grad_z.sum(0), and bias_hh alike
    """

    def __init__(self, input_size, hidden_size, *, nonlinearity="tanh", bias=True, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ACTIVATIONS)
        self.bias = bool(bias)
        self.add_gate_params(1, self.bias)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "nonlinearity": self.nonlinearity,
                "bias": self.bias, "dtype": np.dtype(self.dtype).name}

    def forward(self, x, state):
        (hidden,) = state
        W_ih, W_hh, b_ih, b_hh = self.gate_params()
        z = x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh
        new_hidden = activate(self.nonlinearity, z, out=z)  # in place: z is a new array, not needed again
        return new_hidden, (new_hidden,), (x, hidden, new_hidden)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, new_hidden = cache
        (grad_new_hidden,) = grad_new_state
        W_ih, W_hh, _, _ = self.gate_params()
        # new_hidden is both the output and the next step's state: the gradients of the two add up
        grad_z = (grad_output + grad_new_hidden) * derivative(self.nonlinearity, new_hidden)
        grad_x = grad_z @ W_ih
        grad_hidden = grad_z @ W_hh
        self.add_gate_grads(x, hidden, grad_z, grad_z)
        return grad_x, (grad_hidden,)
