"""The LSTM layer: torch.nn.LSTM's parameters, gate order and math, with BPTT written by hand.

The G = 4 gate blocks are stacked in torch's order i, f, g, o: the rows of weight_ih are [W_ii; W_if; W_ig; W_io],
and likewise for weight_hh, bias_ih and bias_hh. For each layer and direction, with a_t the pre-activations
(B, 4H) and s(.) the logistic sigmoid:

Forward                                               Backward (dh_t = dL/dh_t from the layer above at step t)

  a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh       dh  = dh_t + da_{t+1} W_hh         own output + the future
  i = s(a_i)   f = s(a_f)   g = tanh(a_g)   o = s(a_o)  dc  = dc_{t+1} * f_{t+1} + dh * o * (1 - tanh(c_t)^2)
  c_t = f * c_{t-1} + i * g                             da_i = dc * g * i (1 - i)      da_f = dc * c_{t-1} * f (1 - f)
  h_t = o * tanh(c_t)                                   da_g = dc * i * (1 - g^2)      da_o = dh * tanh(c_t) * o (1 - o)
  h_{-1}, c_{-1} = h0, c0 (zeros by default)           grad_W_ih = sum_t da_t^T x_t,  grad_W_hh = sum_t da_t^T h_{t-1},
                                                        grad_b_ih = grad_b_hh = sum_t da_t,  grad_x_t = da_t W_ih

The input projection x W_ih^T + b_ih and the four parameter gradients are one matrix product each over all steps
(numrnn.layers.recurrent); only the two recurrences above loop over time. The factor that multiplies dc or dh in
each da (g i (1 - i), c_{t-1} f (1 - f), ...) depends on the forward pass alone, so backward computes it for every
step at once before the loop, and the loop multiplies it in place by dc or dh.

Variable lengths: past a sequence's end both h and c are frozen. No gradient reaches a padded step (dh and dc are
zero there and after), so backward needs no mask.
"""
import numpy as np

from .activation import sigmoid_, tanh_
from .recurrent import Recurrent


class LSTM(Recurrent):
    """numrnn.LSTM(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
    return_sequences=True, dtype="float32"); a torch.nn.LSTM(..., batch_first=True) state dict loads unchanged.

    forward(x, h0=None, lengths=None): h0 is the tuple (h0, c0), each (num_layers * D, batch, H). After forward
    `h_n` and `c_n` hold the final states in the same layout.
    """

    gates = 4
    state_names = ("h0", "c0")
    #: the final cell states (num_layers * D, batch, H), set by forward
    c_n = None

    def _set_final_states(self, finals):
        self.h_n = np.stack([h for h, _ in finals])
        self.c_n = np.stack([c for _, c in finals])

    def _cell_forward(self, k, s, projected, state0, mask):
        steps, batch, _ = projected.shape
        size, workspace = self.hidden_size, self._workspace
        weight_hh_t = self.params[f"weight_hh_l{k}{s}"].T
        if self.bias:
            projected += self.params[f"bias_hh_l{k}{s}"]
        gates = projected  # a_t, turned into i, f, g, o in place step by step; backward reads them
        # index t + 1 holds step t and index 0 the initial state, so the previous state is a contiguous view too
        hidden = workspace.get(f"hidden_{k}{s}", (steps + 1, batch, size), self.dtype)
        cells = workspace.get(f"cells_{k}{s}", (steps + 1, batch, size), self.dtype)
        tanh_cells = workspace.get(f"tanh_cells_{k}{s}", (steps, batch, size), self.dtype)
        recurrent = workspace.get("recurrent", (batch, 4 * size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        if state0 is None:
            hidden[0].fill(0)
            cells[0].fill(0)
        else:
            hidden[0], cells[0] = state0
        frozen = None if mask is None else ~mask
        for t in range(steps):
            a = gates[t]
            np.matmul(hidden[t], weight_hh_t, out=recurrent)
            a += recurrent
            sigmoid_(a[:, :2 * size])  # i and f in one call
            tanh_(a[:, 2 * size:3 * size])
            sigmoid_(a[:, 3 * size:])
            i, f, g, o = a[:, :size], a[:, size:2 * size], a[:, 2 * size:3 * size], a[:, 3 * size:]
            c, h = cells[t + 1], hidden[t + 1]
            np.multiply(f, cells[t], out=c)
            np.multiply(i, g, out=product)
            c += product
            np.tanh(c, out=tanh_cells[t])
            np.multiply(o, tanh_cells[t], out=h)
            if frozen is not None:  # past its end a sequence keeps its state
                np.copyto(h, hidden[t], where=frozen[t])
                np.copyto(c, cells[t], where=frozen[t])
        cache = (gates, hidden, cells, tanh_cells)
        return hidden[1:], (hidden[steps].copy(), cells[steps].copy()), cache

    def _cell_backward(self, k, s, cache, grad_outputs):
        gates, hidden, cells, tanh_cells = cache
        steps, batch, size = grad_outputs.shape
        workspace = self._workspace
        weight_hh = self.params[f"weight_hh_l{k}{s}"]
        i, f, g, o = (gates[..., n * size:(n + 1) * size] for n in range(4))

        # da starts as the forward-only factor of each block, for every step at once
        grad_gates = workspace.get(f"grad_gates_{k}{s}", gates.shape, self.dtype)
        factor_if, factor_g, factor_o = (grad_gates[..., :2 * size], grad_gates[..., 2 * size:3 * size],
                                         grad_gates[..., 3 * size:])
        np.subtract(1, gates[..., :2 * size], out=factor_if)
        factor_if *= gates[..., :2 * size]           # i (1 - i), f (1 - f)
        factor_if[..., :size] *= g                   # g i (1 - i)
        factor_if[..., size:] *= cells[:-1]          # c_{t-1} f (1 - f)
        np.multiply(g, g, out=factor_g)
        np.subtract(1, factor_g, out=factor_g)
        factor_g *= i                                # i (1 - g^2)
        np.subtract(1, o, out=factor_o)
        factor_o *= o
        factor_o *= tanh_cells                       # tanh(c_t) o (1 - o)
        # dh -> dc through h_t = o tanh(c_t): o (1 - tanh(c_t)^2)
        through = workspace.get(f"through_{k}{s}", grad_outputs.shape, self.dtype)
        np.multiply(tanh_cells, tanh_cells, out=through)
        np.subtract(1, through, out=through)
        through *= o

        grad_h_future = workspace.get("grad_h", (batch, size), self.dtype, zero=True)  # da_{t+1} W_hh
        grad_c = workspace.get("grad_c", (batch, size), self.dtype, zero=True)         # dc_{t+1} f_{t+1}, then dc
        grad_h = workspace.get("grad_total", (batch, size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        for t in reversed(range(steps)):
            np.add(grad_outputs[t], grad_h_future, out=grad_h)
            np.multiply(grad_h, through[t], out=product)
            grad_c += product
            da = grad_gates[t]
            da.reshape(batch, 4, size)[:, :3] *= grad_c[:, None, :]  # da_i, da_f, da_g
            da[:, 3 * size:] *= grad_h                               # da_o
            grad_c *= f[t]
            np.matmul(da, weight_hh, out=grad_h_future)
        return grad_gates, grad_gates, hidden[:-1]
