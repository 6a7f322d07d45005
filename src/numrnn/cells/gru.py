"""The GRU cell, torch.nn.GRUCell's parameters and math: one time step, forward and backward side by side."""
import numpy as np

from ..functional import derivative, sigmoid
from .base import Cell


class GRUCell(Cell):
    """GRUCell(input_size, hidden_size, *, bias=True, dtype="float32").

    Parameters as torch.nn.GRUCell's: the gate blocks r, z, n (torch's order) stacked in the rows of weight_ih
    (3H, input_size), weight_hh (3H, H), bias_ih and bias_hh (3H,) (no biases with bias=False), called W_ih, W_hh,
    b_ih, b_hh below. state = (hidden,); the output is new_hidden, the same array as new_state[0]. p is the input's
    part of the pre-activations, q the recurrent part; s is the sigmoid, s' and tanh' are written with their
    outputs (numrnn.functional.derivative). grad_h is the whole gradient of new_hidden.

    Forward                                        Backward
      p_r, p_z, p_n = split(x @ W_ih.T + b_ih, 3)      grad_h = grad_output + grad_new_hidden
      q_r, q_z, q_n = split(hidden @ W_hh.T + b_hh, 3) grad_a_n = grad_h * (1 - z) * tanh'(n)
      r = s(p_r + q_r)                                 grad_a_r = grad_a_n * q_n * s'(r)
      z = s(p_z + q_z)                                 grad_a_z = grad_h * (hidden - n) * s'(z)
      n = tanh(p_n + r * q_n)                          grad_p = [grad_a_r, grad_a_z, grad_a_n]
      new_hidden = (1 - z) * n + z * hidden            grad_q = [grad_a_r, grad_a_z, grad_a_n * r]
                                                       grad_x = grad_p @ W_ih
                                                       grad_hidden = grad_q @ W_hh + grad_h * z
                                                       add_gate_grads(x, hidden, grad_p, grad_q)

    The update gate z mixes old and new: where z is near 1 the unit keeps its state, and the gradient passes back
    through grad_h * z, with no weight matrix, as the LSTM's cell state does. The reset gate r scales q_n, the
    recurrent part of n, after the product by W_hn (torch's and cuDNN's form). The other form, reset before the
    product, n = tanh(p_n + (r * hidden) @ W_hn.T + b_hn) (Cho et al. 2014), changes only the lines of q_n, n
    and their gradients (grad_a_r, grad_q, grad_hidden).
    """

    def __init__(self, input_size, hidden_size, *, bias=True, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.bias = bool(bias)
        self.add_gate_params(3, self.bias)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias,
                "dtype": np.dtype(self.dtype).name}

    def forward(self, x, state):
        (hidden,) = state
        W_ih, W_hh, b_ih, b_hh = self.gate_params()
        p_r, p_z, p_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
        q_r, q_z, q_n = np.split(hidden @ W_hh.T + b_hh, 3, axis=1)  # apart from p: r scales q_n alone
        r = sigmoid(p_r + q_r)
        z = sigmoid(p_z + q_z)
        n = np.tanh(p_n + r * q_n)
        new_hidden = (1 - z) * n + z * hidden
        return new_hidden, (new_hidden,), (x, hidden, r, z, n, q_n)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, r, z, n, q_n = cache
        (grad_new_hidden,) = grad_new_state
        W_ih, W_hh, _, _ = self.gate_params()
        grad_h = grad_output + grad_new_hidden  # new_hidden is the output and the next step's state
        grad_a_n = grad_h * (1 - z) * derivative("tanh", n)
        grad_a_r = grad_a_n * q_n * derivative("sigmoid", r)
        grad_a_z = grad_h * (hidden - n) * derivative("sigmoid", z)
        grad_p = np.concatenate([grad_a_r, grad_a_z, grad_a_n], axis=1)  # torch's order, as W_ih's rows
        grad_q = np.concatenate([grad_a_r, grad_a_z, grad_a_n * r], axis=1)  # q_n reaches n scaled by r
        grad_x = grad_p @ W_ih
        grad_hidden = grad_q @ W_hh + grad_h * z  # through the recurrent product and straight through z * hidden
        self.add_gate_grads(x, hidden, grad_p, grad_q)
        return grad_x, (grad_hidden,)
