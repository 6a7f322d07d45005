"""The GRU cell, torch.nn.GRUCell's parameters and math: one time step, forward and backward side by side."""
import numpy as np

from ..functional import derivative, sigmoid
from .base import Cell


class GRUCell(Cell):
    """GRUCell(input_size, hidden_size, *, bias=True, reset_after=True, dtype="float32").

    Parameters as torch.nn.GRUCell's: the gate blocks r, z, n (torch's order) stacked in the rows of weight_ih
    (3H, input_size), weight_hh (3H, H), bias_ih and bias_hh (3H,) (no biases with bias=False), called W_ih, W_hh,
    b_ih, b_hh below; W_hrz, b_hrz are the r and z rows of W_hh and b_hh, W_hn, b_hn their n rows. state =
    (hidden,); the output is new_hidden, the same array as new_state[0]. p is the input's part of the
    pre-activations, q the recurrent part; s is the sigmoid, s' and tanh' are written with their outputs
    (numrnn.functional.derivative). grad_h is the whole gradient of new_hidden. Where a line has two forms, the left
    one is reset_after=True's, the right one (after "|") reset_after=False's.

    Forward                                           Backward
      p_r, p_z, p_n = split(x @ W_ih.T + b_ih, 3)     grad_h = grad_output + grad_new_hidden
      q_r, q_z = split(hidden @ W_hrz.T + b_hrz, 2)   grad_a_n = grad_h * (1 - z) * tanh'(n)
      r = s(p_r + q_r)                                grad_a_z = grad_h * (hidden - n) * s'(z)
      z = s(p_z + q_z)                                grad_q_n = grad_a_n * r  | grad_a_n
      hidden_n = hidden  | r * hidden                 grad_hidden_n = grad_q_n @ W_hn
      q_n = hidden_n @ W_hn.T + b_hn                  grad_a_r = grad_a_n * q_n * s'(r) | grad_hidden_n * hidden * s'(r)
      n = tanh(p_n + r * q_n)  | tanh(p_n + q_n)      grad_p = [grad_a_r, grad_a_z, grad_a_n]
      new_hidden = (1 - z) * n + z * hidden           grad_q = [grad_a_r, grad_a_z, grad_q_n]
                                                      grad_x = grad_p @ W_ih
                                                      grad_hidden = [grad_a_r, grad_a_z] @ W_hrz + grad_h * z
                                                                    + grad_hidden_n  | grad_hidden_n * r
                                                      add_gate_grads(x, (hidden, hidden, hidden_n), grad_p, grad_q)

    The update gate z mixes old and new: where z is near 1 the unit keeps its state, and the gradient passes back
    through grad_h * z, with no weight matrix, as the LSTM's cell state does.

    reset_after: where the reset gate r acts on the recurrent part of n. True (the default): after the product by
    W_hn, n = tanh(p_n + r * (hidden @ W_hn.T + b_hn)), the form of torch, cuDNN and Keras's default. False: before
    it, n = tanh(p_n + (r * hidden) @ W_hn.T + b_hn), the form of Cho et al. 2014, TF 1's GRUCell, Keras's
    reset_after=False and ONNX's linear_before_reset=0. Both forms have the same parameters; Keras's
    reset_after=False has one bias where this cell has two (b_ih and b_hh enter n alike): its bias is b_ih, and
    b_hh is zeros.
    """

    def __init__(self, input_size, hidden_size, *, bias=True, reset_after=True, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.bias = bool(bias)
        self.reset_after = bool(reset_after)
        self.add_gate_params(3, self.bias)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias,
                "reset_after": self.reset_after, "dtype": np.dtype(self.dtype).name}

    def _recurrent_params(self):
        """(W_hrz, W_hn, b_hrz, b_hn): the r, z rows of W_hh and b_hh apart from the n rows; an absent bias is 0.0."""
        split, weight, bias = 2 * self.hidden_size, self.params["weight_hh"], self.params.get("bias_hh")
        if bias is None:
            return weight[:split], weight[split:], 0.0, 0.0
        return weight[:split], weight[split:], bias[:split], bias[split:]

    def forward(self, x, state):
        (hidden,) = state
        W_ih, _, b_ih, _ = self.gate_params()
        W_hrz, W_hn, b_hrz, b_hn = self._recurrent_params()
        p_r, p_z, p_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
        q_r, q_z = np.split(hidden @ W_hrz.T + b_hrz, 2, axis=1)
        r = sigmoid(p_r + q_r)
        z = sigmoid(p_z + q_z)
        hidden_n = hidden if self.reset_after else r * hidden
        q_n = hidden_n @ W_hn.T + b_hn
        n = np.tanh(p_n + r * q_n) if self.reset_after else np.tanh(p_n + q_n)
        new_hidden = (1 - z) * n + z * hidden
        return new_hidden, (new_hidden,), (x, hidden, hidden_n, r, z, n, q_n)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, hidden_n, r, z, n, q_n = cache
        (grad_new_hidden,) = grad_new_state
        W_ih, _, _, _ = self.gate_params()
        W_hrz, W_hn, _, _ = self._recurrent_params()
        grad_h = grad_output + grad_new_hidden  # new_hidden is the output and the next step's state
        grad_a_n = grad_h * (1 - z) * derivative("tanh", n)
        grad_a_z = grad_h * (hidden - n) * derivative("sigmoid", z)
        grad_q_n = grad_a_n * r if self.reset_after else grad_a_n
        grad_hidden_n = grad_q_n @ W_hn
        if self.reset_after:
            grad_a_r = grad_a_n * q_n * derivative("sigmoid", r)
        else:
            grad_a_r = grad_hidden_n * hidden * derivative("sigmoid", r)
            grad_hidden_n = grad_hidden_n * r  # hidden reaches hidden_n scaled by r
        grad_p = np.concatenate([grad_a_r, grad_a_z, grad_a_n], axis=1)  # torch's order, as W_ih's rows
        grad_q = np.concatenate([grad_a_r, grad_a_z, grad_q_n], axis=1)
        grad_x = grad_p @ W_ih
        grad_hidden = grad_q[:, :2 * self.hidden_size] @ W_hrz + grad_hidden_n + grad_h * z  # z * hidden: straight
        self.add_gate_grads(x, (hidden, hidden, hidden_n), grad_p, grad_q)
        return grad_x, (grad_hidden,)
