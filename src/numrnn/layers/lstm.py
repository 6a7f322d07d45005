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

The input projection and the four parameter gradients are one matrix product each over all steps
(numrnn.layers.recurrent); only the two recurrences above loop over time, each step doing one matrix product and a
few in-place element-wise operations on reused buffers:

- Activation: s(v) = (1 + tanh(v / 2)) / 2, so with the i, f, o columns of a_t halved a single tanh call over the
  whole (B, 4H) row activates all four gates: [i, f, g, o] = tanh(a * half) * half + shift, with half = (1/2, 1/2,
  1, 1/2) and shift = (1/2, 1/2, 0, 1/2) per block. The halving is folded into contiguous copies of W_ih^T and
  W_hh^T (exact in floating point), and b_hh joins b_ih in the projection's single bias pass.
- Storage: the projection buffer (T, B, 4H) becomes the activated gates in place, step by step; with h, c and
  tanh(c) (all (T, B, H)) it is all that backward reads.
- Backward computes each step's factors (g i (1 - i), c_{t-1} f (1 - f), ...) inside the loop, while the step's
  gates are in cache: one pass over all steps at once streams them from memory and is slower.
- A zero initial state skips the first step's recurrent product, and backward skips the last one (it would give
  the gradient of h0 and c0, which is not returned).

Variable lengths: past a sequence's end both h and c are frozen. No gradient reaches a padded step (dh and dc are
zero there and after), so backward needs no mask.
"""
import numpy as np

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

    def _column_scale(self):
        """(4H,): 1/2 on the columns of i, f and o, 1 on those of g (see _cell_forward)."""
        half = np.full(4 * self.hidden_size, 0.5, dtype=self.dtype)
        half[2 * self.hidden_size:3 * self.hidden_size] = 1
        return half

    def _cell_forward(self, k, s, projected, state0, mask):
        steps, batch, gate_size = projected.shape
        size, workspace = self.hidden_size, self._workspace
        # s(v) = (1 + tanh(v / 2)) / 2, so one tanh call over the whole row activates all four gates:
        # [i, f, g, o] = tanh(a * half) * half + shift, half = (1/2, 1/2, 1, 1/2), shift = (1/2, 1/2, 0, 1/2) per block.
        # projected already holds the input part of a * half; W_hh^T * half gives the recurrent part.
        weight_hh_t = self._transposed_weight("hh", k, s)
        half_rows = workspace.get("half", (batch, gate_size), self.dtype)
        half_rows[...] = self._column_scale()
        shift_rows = workspace.get("shift", (batch, gate_size), self.dtype)
        np.subtract(1, half_rows, out=shift_rows)
        shift_rows[:, 2 * size:3 * size] = 0
        gates = projected  # turned into i, f, g, o in place step by step; backward reads them
        # index t + 1 holds step t and index 0 the initial state, so the previous state is a contiguous view too
        hidden = workspace.get(f"hidden_{k}{s}", (steps + 1, batch, size), self.dtype)
        cells = workspace.get(f"cells_{k}{s}", (steps + 1, batch, size), self.dtype)
        tanh_cells = workspace.get(f"tanh_cells_{k}{s}", (steps, batch, size), self.dtype)
        recurrent = workspace.get("recurrent", (batch, gate_size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        if state0 is None:
            hidden[0].fill(0)
            cells[0].fill(0)
        else:
            hidden[0], cells[0] = state0
        frozen = None
        if mask is not None:  # past its end a sequence keeps its state; a full-shape mask keeps copyto contiguous
            frozen = workspace.get("frozen", (steps, batch, size), np.bool_)
            np.logical_not(mask, out=frozen)
        for t in range(steps):
            a = gates[t]
            if t or state0 is not None:  # a zero h_{-1} adds nothing
                np.matmul(hidden[t], weight_hh_t, out=recurrent)
                a += recurrent
            np.tanh(a, out=a)
            a *= half_rows
            a += shift_rows
            i, f, g, o = a[:, :size], a[:, size:2 * size], a[:, 2 * size:3 * size], a[:, 3 * size:]
            c, h = cells[t + 1], hidden[t + 1]
            np.multiply(f, cells[t], out=c)
            np.multiply(i, g, out=product)
            c += product
            np.tanh(c, out=tanh_cells[t])
            np.multiply(o, tanh_cells[t], out=h)
            if frozen is not None:
                np.copyto(h, hidden[t], where=frozen[t])
                np.copyto(c, cells[t], where=frozen[t])
        cache = (gates, hidden, cells, tanh_cells)
        return hidden[1:], (hidden[steps].copy(), cells[steps].copy()), cache

    def _cell_backward(self, k, s, cache, grad_outputs):
        gates, hidden, cells, tanh_cells = cache
        steps, batch, size = grad_outputs.shape
        workspace = self._workspace
        weight_hh = self.params[f"weight_hh_l{k}{s}"]
        grad_gates = workspace.get(f"grad_gates_{k}{s}", gates.shape, self.dtype)
        grad_h_future = workspace.get("grad_h", (batch, size), self.dtype, zero=True)  # da_{t+1} W_hh
        grad_c = workspace.get("grad_c", (batch, size), self.dtype, zero=True)         # dc_{t+1} f_{t+1}, then dc
        grad_h = workspace.get("grad_total", (batch, size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        # everything per step, while the step's gates are in cache: a pass over all steps at once is slower
        for t in reversed(range(steps)):
            gate, da, tanh_c = gates[t], grad_gates[t], tanh_cells[t]
            i, f, g, o = gate[:, :size], gate[:, size:2 * size], gate[:, 2 * size:3 * size], gate[:, 3 * size:]
            da_i, da_f, da_g, da_o = da[:, :size], da[:, size:2 * size], da[:, 2 * size:3 * size], da[:, 3 * size:]
            np.add(grad_outputs[t], grad_h_future, out=grad_h)  # dh
            np.multiply(hidden[t + 1], tanh_c, out=product)
            np.subtract(o, product, out=product)                 # o (1 - tanh(c)^2) = o - h tanh(c)
            product *= grad_h
            grad_c += product                                    # dc
            np.subtract(1, gate, out=da)
            da *= gate                                           # i (1 - i), f (1 - f), -, o (1 - o)
            da_i *= g
            da_i *= grad_c
            da_f *= cells[t]
            da_f *= grad_c
            np.multiply(g, g, out=da_g)
            np.subtract(1, da_g, out=da_g)
            da_g *= i
            da_g *= grad_c
            da_o *= tanh_c
            da_o *= grad_h
            if t:  # at t = 0 these would be the gradients of h0 and c0, which nobody asks for
                grad_c *= f
                np.matmul(da, weight_hh, out=grad_h_future)
        return grad_gates, grad_gates, hidden[:-1]
