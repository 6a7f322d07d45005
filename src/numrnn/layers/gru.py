"""The GRU layer: torch.nn.GRU's parameters, gate order and math, with BPTT written by hand.

The G = 3 gate blocks are stacked in torch's order r, z, n: the rows of weight_ih are [W_ir; W_iz; W_in], and
likewise for weight_hh, bias_ih and bias_hh. For each layer and direction, with p_t = W_ih x_t + b_ih the input
part, q_t = W_hh h_{t-1} + b_hh the recurrent part (both (3H, B) column blocks, as the loops keep them) and s(.)
the sigmoid:

Forward                                           Backward (dh_t = dL/dh_t from the layer above at step t)

  r = s(p_r + q_r)                                  dh   = dh_t + [dh * z + W_hh^T dq]_{t+1}  own + future
  z = s(p_z + q_z)                                  dp_n = dh * (1 - z) * (1 - n^2)          dq_n = dp_n * r
  n = tanh(p_n + r * q_n)                           dp_r = dq_r = dp_n * q_n * r (1 - r)
  h_t = (1 - z) * n + z * h_{t-1}                   dp_z = dq_z = dh * (h_{t-1} - n) * z (1 - z)
  h_{-1} = h0 (zeros by default)                    grad_W_ih = sum_t dp_t x_t^T,  grad_b_ih = sum_t dp_t,
                                                    grad_W_hh = sum_t dq_t h_{t-1}^T,  grad_b_hh = sum_t dq_t,
                                                    grad_x_t = W_ih^T dp_t

reset_after=False (Keras's reset_after=False, ONNX's linear_before_reset=0, TF 1's GRUCell; numrnn.cells.GRUCell
has both forms) applies r before the product, q_n = W_hn (r * h_{t-1}) + b_hn, n = tanh(p_n + q_n):

  dq_n = dp_n        d(r h) = W_hn^T dq_n        dp_r = dq_r = d(r h) * h_{t-1} * r (1 - r)
  dh_{t-1} gets W_hr^T dq_r + W_hz^T dq_z + d(r h) * r instead of W_hh^T dq,    grad_W_hn = sum_t dq_n (r h_{t-1})^T

It keeps each step's r * h_{t-1} (with a row of ones, so [W_hn | b_hn] multiplies it in one product), and backward
splits the product by W_hh^T in two, W_hn^T's first (dq_r needs it): the same work as reset_after=True, whose
loops are as they were.

Unlike the RNN and the LSTM, the gradients of the input and of the recurrent pre-activation differ (in the n
block, by the factor r), so backward returns two arrays. Only the recurrences loop over time; the parameter
gradients are one matrix product each over all steps (numrnn.layers.recurrent). Inside the loops:

- Three products per step, each a row block of one stacked weight times a row slice of the stacked step inputs
  [h_{t-1}; 1; x_t] (see _stacked_weight), write r and z's pre-activations, q_n (with b_hn, which r scales) and
  p_n where the element-wise work reads them: no projection ahead of the loop, no addition per step.
- Activation: s(v) = (1 + tanh(v / 2)) / 2, so with the r, z rows halved one tanh call and two scalar operations
  activate r and z together.
- Storage: the activated gates and q_n of every step, and h in the stacked blocks, are all backward reads.
  Backward computes each step's factors inside the loop, while the step's gates are in cache.
- A zero initial state skips the first step's recurrent columns, and backward skips the last product (it would
  give the gradient of h0, which is not returned).

Variable lengths: past a sequence's end h is frozen. No gradient reaches a padded step (dh is zero there and
after), so backward needs no mask.
"""
import numpy as np

from ..cells import GRUCell
from .base import LAYERS
from .stacked import StackedRecurrent


@LAYERS.register
class GRU(StackedRecurrent):
    """numrnn.GRU(input_size, hidden_size, *, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
    return_sequences=True, stateful=False, reset_after=True, dtype="float32"); a torch.nn.GRU(..., batch_first=True)
    state dict loads unchanged. reset_after=False: the reset gate before W_hn (see the module docstring). The reference it equals: numrnn.Recurrent(numrnn.cells.GRUCell) (see reference_layers()).

    forward(x, h0=None, lengths=None): h0 is (num_layers * D, batch, H); after forward `h_n` holds the final states.
    """

    gates = 3
    unit_major = True

    def __init__(self, input_size, hidden_size, *, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
                 return_sequences=True, stateful=False, reset_after=True, dtype="float32"):
        self.reset_after = bool(reset_after)
        super().__init__(input_size, hidden_size, num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                         dropout=dropout, return_sequences=return_sequences, stateful=stateful, dtype=dtype)

    def config(self):
        config = super().config()
        config.update(reset_after=self.reset_after)
        return config

    def _reference_cell(self, input_size):
        return GRUCell(input_size, self.hidden_size, bias=self.bias, reset_after=self.reset_after,
                       dtype=np.dtype(self.dtype).name)

    def _stacked_weight(self, k, s):
        """One (4H, H + 1 + in) matrix whose row blocks, multiplied by row slices of the stacked step inputs
        [h_{t-1}; 1; x_t], give each part of a step in one product:

            rows 0:2H   [W_hr; W_hz] | b_ir + b_hr; b_iz + b_hz | [W_ir; W_iz]    (all halved)  -> r, z pre-activations
            rows 2H:3H  W_hn | b_hn                (columns :H + 1, by [h; 1])                 -> q_n = W_hn h + b_hn
            rows 3H:4H  b_in | W_in                (columns H:, by [1; x])                     -> p_n = W_in x + b_in

        (without bias, the column of biases is absent). The unused corners are never read."""
        size, ones = self.hidden_size, int(self.bias)
        weight_ih, weight_hh = self.params[f"weight_ih_l{k}{s}"], self.params[f"weight_hh_l{k}{s}"]
        bias_ih, bias_hh = self.params.get(f"bias_ih_l{k}{s}"), self.params.get(f"bias_hh_l{k}{s}")
        x_columns = slice(size + ones, None)

        def build(out):
            np.multiply(weight_hh[:2 * size], 0.5, out=out[:2 * size, :size])
            np.multiply(weight_ih[:2 * size], 0.5, out=out[:2 * size, x_columns])
            out[2 * size:3 * size, :size] = weight_hh[2 * size:]
            out[3 * size:, x_columns] = weight_ih[2 * size:]
            if self.bias:
                np.add(bias_ih[:2 * size], bias_hh[:2 * size], out=out[:2 * size, size])
                out[:2 * size, size] *= 0.5
                out[2 * size:3 * size, size] = bias_hh[2 * size:]
                out[3 * size:, size] = bias_ih[2 * size:]

        sources = (weight_ih, weight_hh) + ((bias_ih, bias_hh) if self.bias else ())
        return self._derived_weight(f"weight_stacked_{k}{s}", (4 * size, size + ones + weight_ih.shape[1]), build,
                                    sources)

    def _cell_forward(self, k, s, stacked, state0, mask):
        steps = stacked.shape[0] - 1
        batch, size, workspace = stacked.shape[2], self.hidden_size, self._workspace
        ones, reset_after = int(self.bias), self.reset_after
        # s(v) = (1 + tanh(v / 2)) / 2: the r, z rows of the stacked weight are halved, so one tanh call and two
        # scalar operations activate r and z together
        weight = self._stacked_weight(k, s)
        weight_rz = weight[:2 * size]
        weight_qn = weight[2 * size:3 * size, :size + ones]  # [W_hn | b_hn], by [h; 1] (reset_after=False: [r h; 1])
        weight_pn = weight[3 * size:, size:]                 # [b_in | W_in], by [1; x]
        # inside inference() nothing is kept for backward: one step's gates and q_n are reused at every step
        keep = not self._inference
        gates = workspace.get(f"gates_{k}{s}", (steps if keep else 1, 3 * size, batch), self.dtype)  # r, z, n
        recurrent_n = workspace.get(f"recurrent_n_{k}{s}", (steps if keep else 1, size, batch), self.dtype)  # q_n
        reset_hidden = None
        if not reset_after:  # [r * h_{t-1}; 1] per step: what [W_hn | b_hn] multiplies, and W_hn's gradient reads
            reset_hidden = workspace.get(f"reset_hidden_{k}{s}", (steps if keep else 1, size + ones, batch),
                                         self.dtype)
            reset_hidden[:, size:].fill(1)
        hidden = stacked[:, :size]  # h_{t-1} at index t, h_t at t + 1
        if state0 is None:
            hidden[0].fill(0)
        else:
            hidden[0] = state0[0].T
        # (T, 1, B): past its end a sequence keeps its state
        frozen = None if mask is None else ~mask.transpose(0, 2, 1)
        for t in range(steps):
            slot = t if keep else 0
            gate, q_n, inputs = gates[slot], recurrent_n[slot], stacked[t]
            rz, r, z, n = gate[:2 * size], gate[:size], gate[size:2 * size], gate[2 * size:]
            if t or state0 is not None:
                np.matmul(weight_rz, inputs, out=rz)
                if reset_after:
                    np.matmul(weight_qn, inputs[:size + ones], out=q_n)
            else:  # a zero h_{-1} adds nothing
                np.matmul(weight_rz[:, size:], inputs[size:], out=rz)
                if reset_after and self.bias:
                    q_n[...] = weight_qn[:, size:]
                elif reset_after:
                    q_n.fill(0)
            np.matmul(weight_pn, inputs[size:], out=n)
            np.tanh(rz, out=rz)  # r and z in one call
            rz *= 0.5
            rz += 0.5
            h = hidden[t + 1]
            if reset_after:
                np.multiply(r, q_n, out=h)  # h as scratch for r * q_n
                n += h
            else:
                np.multiply(r, hidden[t], out=reset_hidden[slot, :size])
                np.matmul(weight_qn, reset_hidden[slot], out=q_n)
                n += q_n
            np.tanh(n, out=n)
            np.subtract(hidden[t], n, out=h)  # h_t = n + z (h_{t-1} - n)
            h *= z
            h += n
            if frozen is not None:
                np.copyto(h, hidden[t], where=frozen[t])
        # the layer's outputs and backward's h_{t-1} as (T, B, H) rows, one transposing copy for all steps
        hidden_rows = workspace.get(f"hidden_rows_{k}{s}", (steps + 1, batch, size), self.dtype)
        np.copyto(hidden_rows, hidden.transpose(0, 2, 1))
        hidden_prev = hidden_rows[:-1]
        if not reset_after and keep:  # W_hn multiplies r * h_{t-1}: its gradient reads those rows
            reset_rows = workspace.get(f"reset_rows_{k}{s}", (steps, batch, size), self.dtype)
            np.copyto(reset_rows, reset_hidden[:, :size].transpose(0, 2, 1))
            hidden_prev = (hidden_prev, hidden_prev, reset_rows)
        cache = (gates, recurrent_n, hidden, hidden_prev)
        return hidden_rows[1:], (hidden_rows[steps].copy(),), cache

    def _cell_backward(self, k, s, cache, grad_outputs):
        gates, recurrent_n, hidden, hidden_prev = cache
        steps, batch, size = grad_outputs.shape
        workspace, reset_after = self._workspace, self.reset_after
        weight_hh_t = self._transposed_weight("hh", k, s)  # contiguous: 6-12% faster than the transposed view
        weight_hrz_t, weight_hn_t = weight_hh_t[:, :2 * size], weight_hh_t[:, 2 * size:]
        grad_hidden = self._unit_major_grad_outputs(grad_outputs)
        # torch's gate order r, z, n, laid out (3H, T, B) so the weight gradients are plain matrix products
        grad_projected = workspace.get(f"grad_projected_{k}{s}", (3 * size, steps, batch), self.dtype)
        grad_recurrent = workspace.get(f"grad_recurrent_{k}{s}", (3 * size, steps, batch), self.dtype)
        dq = workspace.get("grad_step", (3 * size, batch), self.dtype)
        dp_n = workspace.get("grad_step_n", (size, batch), self.dtype)
        grad_h_future = workspace.get("grad_h", (size, batch), self.dtype, zero=True)  # dh_{t+1} z + W_hh^T dq_{t+1}
        grad_h = workspace.get("grad_total", (size, batch), self.dtype)
        product = workspace.get("product", (size, batch), self.dtype)
        grad_reset = None if reset_after else workspace.get("grad_reset", (size, batch), self.dtype)  # d(r h)
        dq_rz, dq_r, dq_z, dq_n = dq[:2 * size], dq[:size], dq[size:2 * size], dq[2 * size:]
        # everything per step, while the step's gates are in cache: a pass over all steps at once is slower
        for t in reversed(range(steps)):
            gate, q_n = gates[t], recurrent_n[t]
            r, z, n = gate[:size], gate[size:2 * size], gate[2 * size:]
            np.add(grad_hidden[t], grad_h_future, out=grad_h)   # dh
            np.subtract(1, z, out=product)
            product *= grad_h                                    # dh (1 - z)
            np.multiply(n, n, out=dp_n)
            np.subtract(1, dp_n, out=dp_n)
            dp_n *= product                                      # dp_n
            np.subtract(1, r, out=dq_r)
            dq_r *= r
            if reset_after:
                np.multiply(dp_n, r, out=dq_n)                   # dq_n
                dq_r *= q_n
                dq_r *= dp_n                                     # dq_r
            else:
                np.copyto(dq_n, dp_n)                            # dq_n = dp_n
                np.matmul(weight_hn_t, dp_n, out=grad_reset)     # d(r h_{t-1}) = W_hn^T dq_n
                dq_r *= hidden[t]
                dq_r *= grad_reset                               # dq_r
            np.subtract(hidden[t], n, out=dq_z)
            dq_z *= product
            dq_z *= z                                            # dq_z
            grad_recurrent[:, t] = dq
            grad_projected[:2 * size, t] = dq_rz                 # dp_r = dq_r, dp_z = dq_z
            grad_projected[2 * size:, t] = dp_n
            if t:  # at t = 0 this would be the gradient of h0, which nobody asks for
                if reset_after:
                    np.matmul(weight_hh_t, dq, out=grad_h_future)
                else:
                    np.matmul(weight_hrz_t, dq_rz, out=grad_h_future)
                    grad_reset *= r
                    grad_h_future += grad_reset
                np.multiply(grad_h, z, out=product)
                grad_h_future += product
        return grad_projected, grad_recurrent, hidden_prev
