"""The LSTM cell, torch.nn.LSTMCell's parameters and math: one time step, forward and backward side by side."""
import numpy as np

from ..functional import derivative, sigmoid
from .base import Cell


class LSTMCell(Cell):
    """LSTMCell(input_size, hidden_size, *, bias=True, dtype="float32").

    Parameters as torch.nn.LSTMCell's: the gate blocks i, f, g, o (torch's order) stacked in the rows of
    weight_ih (4H, input_size), weight_hh (4H, H), bias_ih and bias_hh (4H,) (no biases with bias=False), called
    W_ih, W_hh, b_ih, b_hh below. state = (hidden, cell); the output is new_hidden, the same array as
    new_state[0]. s is the sigmoid; s' and tanh' are written with their outputs (numrnn.functional.derivative).
    grad_h and grad_c are the whole gradients of new_hidden and new_cell.

    Forward                                        Backward
      a_i, a_f, a_g, a_o = split(x @ W_ih.T + b_ih     grad_h = grad_output + grad_new_hidden
                     + hidden @ W_hh.T + b_hh, 4)     grad_c = grad_new_cell + grad_h * o * tanh'(tanh_c)
      i, f, g, o = s(a_i), s(a_f), tanh(a_g), s(a_o)   grad_a_i = grad_c * g * s'(i)
      new_cell = f * cell + i * g                      grad_a_f = grad_c * cell * s'(f)
      tanh_c = tanh(new_cell)                          grad_a_g = grad_c * i * tanh'(g)
      new_hidden = o * tanh_c                          grad_a_o = grad_h * tanh_c * s'(o)
                                                       grad_gates = [grad_a_i, grad_a_f, grad_a_g, grad_a_o]
                                                       grad_x = grad_gates @ W_ih
                                                       grad_hidden = grad_gates @ W_hh
                                                       grad_cell = grad_c * f
                                                       add_gate_grads(x, hidden, grad_gates, grad_gates)

    The highway: grad_cell = grad_c * f passes no weight matrix and no squashing derivative, so where the forget
    gate stays near 1 the cell state's gradient survives many steps (docs/bptt.md).
    """

    def __init__(self, input_size, hidden_size, *, bias=True, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.bias = bool(bias)
        self.state_size = (self.hidden_size, self.hidden_size)  # (hidden, cell)
        self.add_gate_params(4, self.bias)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias,
                "dtype": np.dtype(self.dtype).name}

    def forward(self, x, state):
        hidden, cell = state
        W_ih, W_hh, b_ih, b_hh = self.gate_params()
        a_i, a_f, a_g, a_o = np.split(x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh, 4, axis=1)
        i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
        new_cell = f * cell + i * g
        tanh_c = np.tanh(new_cell)
        new_hidden = o * tanh_c
        return new_hidden, (new_hidden, new_cell), (x, hidden, cell, i, f, g, o, tanh_c)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, cell, i, f, g, o, tanh_c = cache
        grad_new_hidden, grad_new_cell = grad_new_state
        W_ih, W_hh, _, _ = self.gate_params()
        grad_h = grad_output + grad_new_hidden  # new_hidden is the output and the next step's state
        grad_c = grad_new_cell + grad_h * o * derivative("tanh", tanh_c)  # the next step's and via new_hidden
        grad_a_i = grad_c * g * derivative("sigmoid", i)
        grad_a_f = grad_c * cell * derivative("sigmoid", f)
        grad_a_g = grad_c * i * derivative("tanh", g)
        grad_a_o = grad_h * tanh_c * derivative("sigmoid", o)
        grad_gates = np.concatenate([grad_a_i, grad_a_f, grad_a_g, grad_a_o], axis=1)  # torch's order, as W's rows
        grad_x = grad_gates @ W_ih
        grad_hidden = grad_gates @ W_hh
        grad_cell = grad_c * f
        self.add_gate_grads(x, hidden, grad_gates, grad_gates)
        return grad_x, (grad_hidden, grad_cell)
