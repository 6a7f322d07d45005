"""The LSTM layer: torch.nn.LSTM's parameters, gate order and math, with BPTT written by hand.

The G = 4 gate blocks are stacked in torch's order i, f, g, o: the rows of weight_ih are [W_ii; W_if; W_ig; W_io],
and likewise for weight_hh, bias_ih and bias_hh. For each layer and direction, with a_t the pre-activations and
s(.) the logistic sigmoid (column vectors: a_t is (4H, B), h_t and c_t are (H, B), as the loops keep them):

Forward                                               Backward (dh_t = dL/dh_t from the layer above at step t)

  a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh           dh  = dh_t + W_hh^T da_{t+1}       own output + the future
  i = s(a_i)   f = s(a_f)   g = tanh(a_g)   o = s(a_o)  dc  = dc_{t+1} * f_{t+1} + dh * o * (1 - tanh(c_t)^2)
  c_t = f * c_{t-1} + i * g                             da_i = dc * g * i (1 - i)      da_f = dc * c_{t-1} * f (1 - f)
  h_t = o * tanh(c_t)                                   da_g = dc * i * (1 - g^2)      da_o = dh * tanh(c_t) * o (1 - o)
  h_{-1}, c_{-1} = h0, c0 (zeros by default)           grad_W_ih = sum_t da_t x_t^T,  grad_W_hh = sum_t da_t h_{t-1}^T,
                                                        grad_b_ih = grad_b_hh = sum_t da_t,  grad_x_t = W_ih^T da_t

Only the two recurrences loop over time; the parameter gradients are one matrix product each over all steps
(numrnn.layers.recurrent). Inside the loops:

- Gate order o, i, f, g (rows permuted once, in the derived weights): the sigmoid gates o, i, f are one block of
  3H rows and i, f, g, which dc scales, another, so each of those is one operation.
- Activation: s(v) = (1 + tanh(v / 2)) / 2, so with the o, i, f rows of the weights and bias halved (exact in
  floating point) one tanh call over the whole (4H, B) block, then * 1/2 and + 1/2 on its first 3H rows,
  activates all four gates.
- One product per step: [W_hh | b_ih + b_hh | W_ih] (scaled, permuted) times the stacked [h_{t-1}; 1; x_t].
- Storage: the activated gates, c and tanh(c) of every step, and h in the stacked blocks, are all backward reads.
  Backward computes each step's factors inside the loop, while the step's gates are in cache: one pass over all
  steps at once streams them from memory and is slower.
- A zero initial state skips the first step's recurrent columns, and backward skips the last product (it would
  give the gradient of h0 and c0, which is not returned).

Variable lengths: past a sequence's end both h and c are frozen. No gradient reaches a padded step (dh and dc are
zero there and after), so backward needs no mask.
"""
import numpy as np

from ..cells import LSTMCell
from .base import LAYERS
from .stacked import StackedRecurrent


@LAYERS.register
class LSTM(StackedRecurrent):
    """numrnn.LSTM(input_size, hidden_size, *, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
    return_sequences=True, stateful=False, dtype="float32"); a torch.nn.LSTM(..., batch_first=True) state dict
    loads unchanged. The reference it equals: numrnn.Recurrent(numrnn.cells.LSTMCell) (see reference_layers()).

    forward(x, h0=None, lengths=None): h0 is the tuple (h0, c0), each (num_layers * D, batch, H). After forward
    `h_n` and `c_n` hold the final states in the same layout.
    """

    gates = 4
    unit_major = True
    state_names = ("h0", "c0")
    #: the final cell states (num_layers * D, batch, H), set by forward
    c_n = None

    def _reference_cell(self, input_size):
        return LSTMCell(input_size, self.hidden_size, bias=self.bias, dtype=np.dtype(self.dtype).name)

    def _set_final_states(self, finals):
        self.h_n = np.stack([h for h, _ in finals])
        self.c_n = np.stack([c for _, c in finals])

    def _reorder(self, source, out, halve=False):
        """Copy source (4H, n), rows in torch's order i, f, g, o, into out in the order o, i, f, g, halving the
        sigmoid gates' rows if asked: three block copies, no index arrays."""
        size = self.hidden_size
        for target, origin, sigmoid in ((slice(0, size), slice(3 * size, 4 * size), True),
                                        (slice(size, 3 * size), slice(0, 2 * size), True),
                                        (slice(3 * size, 4 * size), slice(2 * size, 3 * size), False)):
            block, destination = source[origin], out[target]
            if halve and sigmoid:
                np.multiply(block, 0.5, out=destination)
            else:
                np.copyto(destination, block)

    def _stacked_weight(self, k, s):
        """[W_hh | b_ih + b_hh | W_ih] (4H, H + 1 + in), rows in the internal order o, i, f, g, those of the sigmoid
        gates halved: one product by the stacked step inputs [h_{t-1}; 1; x_t] gives a step's pre-activations."""
        size, ones = self.hidden_size, int(self.bias)
        weight_ih, weight_hh = self.params[f"weight_ih_l{k}{s}"], self.params[f"weight_hh_l{k}{s}"]

        def build(out):
            self._reorder(weight_hh, out[:, :size], halve=True)
            if self.bias:
                self._reorder(self._projection_bias(k, s)[:, None], out[:, size:size + 1], halve=True)
            self._reorder(weight_ih, out[:, size + ones:], halve=True)

        sources = (weight_ih, weight_hh) + ((self.params[f"bias_ih_l{k}{s}"], self.params[f"bias_hh_l{k}{s}"])
                                            if self.bias else ())
        return self._derived_weight(f"weight_stacked_{k}{s}", (4 * size, size + ones + weight_ih.shape[1]), build,
                                    sources)

    def _cell_forward(self, k, s, stacked, state0, mask):
        steps = stacked.shape[0] - 1
        batch, size, workspace = stacked.shape[2], self.hidden_size, self._workspace
        # s(v) = (1 + tanh(v / 2)) / 2, so one tanh call over the whole (4H, B) block activates all four gates;
        # the rows of o, i, f come first and arrive halved (the stacked weight is scaled), so two scalar operations
        # on the first 3H rows finish the sigmoids.
        weight = self._stacked_weight(k, s)
        # inside inference() nothing is kept for backward: one step's gates and tanh(c), and two cell states, are
        # reused at every step (the slots below), so they stay in cache
        keep = not self._inference
        gates = workspace.get(f"gates_{k}{s}", (steps if keep else 1, 4 * size, batch), self.dtype)  # o, i, f, g
        hidden = stacked[:, :size]  # h_{t-1} at index t, h_t at t + 1
        cells = workspace.get(f"cells_{k}{s}", (steps + 1 if keep else 2, size, batch), self.dtype)
        tanh_cells = workspace.get(f"tanh_cells_{k}{s}", (steps if keep else 1, size, batch), self.dtype)
        product = workspace.get("product", (size, batch), self.dtype)
        if state0 is None:
            hidden[0].fill(0)
            cells[0].fill(0)
        else:
            hidden[0], cells[0] = state0[0].T, state0[1].T
        # (T, 1, B): past its end a sequence keeps its state
        frozen = None if mask is None else ~mask.transpose(0, 2, 1)
        for t in range(steps):
            slot, c_prev, c = (t, cells[t], cells[t + 1]) if keep else (0, cells[t % 2], cells[(t + 1) % 2])
            a, tanh_c, h = gates[slot], tanh_cells[slot], hidden[t + 1]
            if t or state0 is not None:
                np.matmul(weight, stacked[t], out=a)
            else:  # a zero h_{-1} adds nothing
                np.matmul(weight[:, size:], stacked[t, size:], out=a)
            np.tanh(a, out=a)
            sigmoids = a[:3 * size]
            sigmoids *= 0.5
            sigmoids += 0.5
            o, i, f, g = a[:size], a[size:2 * size], a[2 * size:3 * size], a[3 * size:]
            np.multiply(f, c_prev, out=c)
            np.multiply(i, g, out=product)
            c += product
            np.tanh(c, out=tanh_c)
            np.multiply(o, tanh_c, out=h)
            if frozen is not None:
                np.copyto(h, hidden[t], where=frozen[t])
                np.copyto(c, c_prev, where=frozen[t])
        # the layer's outputs and backward's h_{t-1} as (T, B, H) rows, one transposing copy for all steps
        hidden_rows = workspace.get(f"hidden_rows_{k}{s}", (steps + 1, batch, size), self.dtype)
        np.copyto(hidden_rows, hidden.transpose(0, 2, 1))
        cache = (gates, hidden, cells, tanh_cells, hidden_rows)
        final_cell = cells[steps if keep else steps % 2]
        return hidden_rows[1:], (hidden_rows[steps].copy(), final_cell.T.copy()), cache

    def _cell_backward(self, k, s, cache, grad_outputs):
        gates, hidden, cells, tanh_cells, hidden_rows = cache
        steps, batch, size = grad_outputs.shape
        workspace = self._workspace
        weight_hh_t = self._transposed_weight("hh", k, s)  # contiguous: 3-10% faster than the transposed view
        grad_hidden = self._unit_major_grad_outputs(grad_outputs)
        # laid out (4H, T, B) in torch's order i, f, g, o, so the weight gradients are plain matrix products
        grad_gates = workspace.get(f"grad_gates_{k}{s}", (4 * size, steps, batch), self.dtype)
        da = workspace.get("grad_step", (4 * size, batch), self.dtype)
        grad_h_future = workspace.get("grad_h", (size, batch), self.dtype, zero=True)  # W_hh^T da_{t+1}
        grad_c = workspace.get("grad_c", (size, batch), self.dtype, zero=True)         # dc_{t+1} f_{t+1}, then dc
        grad_h = workspace.get("grad_total", (size, batch), self.dtype)
        product = workspace.get("product", (size, batch), self.dtype)
        da_sigmoids = da[:3 * size]
        da_o, da_i, da_f, da_g = da[:size], da[size:2 * size], da[2 * size:3 * size], da[3 * size:]
        da_ifg = da[size:].reshape(3, size, batch)  # the three blocks dc scales
        # everything per step, while the step's gates are in cache: a pass over all steps at once is slower
        for t in reversed(range(steps)):
            gate, tanh_c = gates[t], tanh_cells[t]
            o, i, f, g = gate[:size], gate[size:2 * size], gate[2 * size:3 * size], gate[3 * size:]
            np.add(grad_hidden[t], grad_h_future, out=grad_h)   # dh
            np.multiply(hidden[t + 1], tanh_c, out=product)
            np.subtract(o, product, out=product)                 # o (1 - tanh(c)^2) = o - h tanh(c)
            product *= grad_h
            grad_c += product                                    # dc
            np.subtract(1, gate[:3 * size], out=da_sigmoids)
            da_sigmoids *= gate[:3 * size]                       # o (1 - o), i (1 - i), f (1 - f)
            da_i *= g
            da_f *= cells[t]
            np.multiply(g, g, out=da_g)
            np.subtract(1, da_g, out=da_g)
            da_g *= i
            da_ifg *= grad_c                                     # da_i, da_f, da_g
            da_o *= tanh_c
            da_o *= grad_h                                       # da_o
            grad_gates[:3 * size, t] = da[size:]                 # torch's order i, f, g, o
            grad_gates[3 * size:, t] = da_o
            if t:  # at t = 0 these would be the gradients of h0 and c0, which nobody asks for
                grad_c *= f
                np.matmul(weight_hh_t, grad_gates[:, t], out=grad_h_future)  # torch's order, as W_hh^T's
        return grad_gates, grad_gates, hidden_rows[:-1]
