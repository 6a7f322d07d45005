"""The Elman RNN layer: torch.nn.RNN's parameters and math, with exact or truncated BPTT written by hand.

Forward, for each layer and direction (z: pre-activation, h: hidden state, act: the nonlinearity):

    z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    h_t = act(z_t)                                   h_{-1} = h0 (zeros by default)

Backward, with g_t = dL/dh_t coming from the layer above at step t:

    grad_h_t = g_t + grad_z_{t+1} W_hh                  the step's own output, plus what flows back from the future
    grad_z_t = grad_h_t * act'(h_t)                    act' written in terms of the output h_t
    grad_W_ih = sum_t grad_z_t^T x_t,  grad_W_hh = sum_t grad_z_t^T h_{t-1},  grad_b_ih = grad_b_hh = sum_t grad_z_t
    grad_x_t = grad_z_t W_ih

Truncated BPTT (bptt_truncate=k), as in the tutorials: the gradient of the output at step t flows back through at
most k earlier steps, i.e. it reaches z_t, z_{t-1}, ..., z_{t-k} and stops there (h_{t-k-1} gets none of it).
Since each output's gradient has its own horizon, the backward loop carries k+1 separate gradients, one per output
step still in reach: origins[j] is the part of dL/dh_t that comes from the output at step t+j.

    deltas[j]  = origins[j] * act'(h_t)             j = 0..k
    grad_z_t   = sum_j deltas[j]
    origins[j+1] (for step t-1) = deltas[j] W_hh    j = 0..k-1; deltas[k] has used up its k steps
"""
import numpy as np

from .._validate import check_choice, check_positive_int
from ..functional import ACTIVATIONS, activate, derivative
from ..cells import RNNCell
from .base import LAYERS
from .stacked import StackedRecurrent


@LAYERS.register
class RNN(StackedRecurrent):
    """Elman RNN: numrnn.RNN(input_size, hidden_size, *, num_layers=1, nonlinearity="tanh", bias=True,
    bidirectional=False, dropout=0.0, return_sequences=True, stateful=False, bptt_truncate=None, dtype="float32").
    The reference it equals: numrnn.Recurrent(numrnn.cells.RNNCell) (see reference_layers()).

    nonlinearity: "tanh", "relu" (as torch), "sigmoid" or "linear" (as the tutorials).
    bptt_truncate: None for full BPTT, or k >= 1: each output's gradient flows back at most k steps.
    A torch.nn.RNN(..., batch_first=True) state dict loads unchanged.
    """

    gates = 1

    def _reference_cell(self, input_size):
        return RNNCell(input_size, self.hidden_size, nonlinearity=self.nonlinearity, bias=self.bias,
                       dtype=np.dtype(self.dtype).name)

    def __init__(self, input_size, hidden_size, *, num_layers=1, nonlinearity="tanh", bias=True, bidirectional=False,
                 dropout=0.0, return_sequences=True, stateful=False, bptt_truncate=None, dtype="float32"):
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ACTIVATIONS)
        self.bptt_truncate = check_positive_int("bptt_truncate", bptt_truncate, allow_none=True)
        super().__init__(input_size, hidden_size, num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                         dropout=dropout, return_sequences=return_sequences, stateful=stateful, dtype=dtype)

    def config(self):
        config = super().config()
        config.update(nonlinearity=self.nonlinearity, bptt_truncate=self.bptt_truncate)
        return config

    def _cell_forward(self, k, s, projected, state0, mask):
        steps, batch, size = projected.shape
        weight_hh_t = self._transposed_weight("hh", k, s)
        # hidden[0] is h_{-1}; hidden[t + 1] is h_t, so h_prev and the outputs are both contiguous views
        hidden = self._workspace.get(f"hidden_{k}{s}", (steps + 1, batch, size), self.dtype)
        if state0 is None:
            hidden[0].fill(0)
        else:
            hidden[0] = state0[0]
        for t in range(steps):
            h = hidden[t + 1]
            np.matmul(hidden[t], weight_hh_t, out=h)
            h += projected[t]
            activate(self.nonlinearity, h, out=h)
            if mask is not None:
                np.copyto(h, hidden[t], where=~mask[t])  # past its end a sequence keeps its state
        return hidden[1:], (hidden[steps].copy(),), hidden

    def _cell_backward(self, k, s, hidden, grad_outputs):
        steps, batch, size = grad_outputs.shape
        weight_hh = self.params[f"weight_hh_l{k}{s}"]
        workspace = self._workspace
        # grad_z starts as act'(z) for every step and is turned into the gradient in place, step by step
        grad_z = derivative(self.nonlinearity, hidden[1:], workspace.get(f"grad_z_{k}{s}", (steps, batch, size),
                                                                       self.dtype))
        if self.bptt_truncate is None:
            grad_h = workspace.get("grad_h", (batch, size), self.dtype, zero=True)
            grad_total = workspace.get("grad_total", (batch, size), self.dtype)
            for t in reversed(range(steps)):
                np.add(grad_outputs[t], grad_h, out=grad_total)
                grad_z[t] *= grad_total
                np.matmul(grad_z[t], weight_hh, out=grad_h)
        else:
            horizon = self.bptt_truncate
            origins = workspace.get("origins", (horizon + 1, batch, size), self.dtype, zero=True)
            deltas = workspace.get("deltas", (horizon + 1, batch, size), self.dtype)
            for t in reversed(range(steps)):
                origins[0] = grad_outputs[t]
                np.multiply(origins, grad_z[t], out=deltas)
                np.sum(deltas, axis=0, out=grad_z[t])
                np.matmul(deltas[:-1].reshape(horizon * batch, size), weight_hh,
                          out=origins[1:].reshape(horizon * batch, size))
        return grad_z, grad_z, hidden[:-1]
