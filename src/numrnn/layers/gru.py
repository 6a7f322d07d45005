"""The GRU layer: torch.nn.GRU's parameters, gate order and math, with BPTT written by hand.

The G = 3 gate blocks are stacked in torch's order r, z, n: the rows of weight_ih are [W_ir; W_iz; W_in], and
likewise for weight_hh, bias_ih and bias_hh. For each layer and direction, with p_t = x_t W_ih^T + b_ih the
projected input, q_t = h_{t-1} W_hh^T + b_hh the recurrent pre-activation (both (B, 3H)) and s(.) the sigmoid:

Forward                                           Backward (dh_t = dL/dh_t from the layer above at step t)

  r = s(p_r + q_r)                                  dh   = dh_t + [dh * z + dq W_hh]_{t+1}   own + future
  z = s(p_z + q_z)                                  dp_n = dh * (1 - z) * (1 - n^2)          dq_n = dp_n * r
  n = tanh(p_n + r * q_n)                           dp_r = dq_r = dp_n * q_n * r (1 - r)
  h_t = (1 - z) * n + z * h_{t-1}                   dp_z = dq_z = dh * (h_{t-1} - n) * z (1 - z)
  h_{-1} = h0 (zeros by default)                    grad_W_ih = sum_t dp_t^T x_t,  grad_b_ih = sum_t dp_t,
                                                    grad_W_hh = sum_t dq_t^T h_{t-1},  grad_b_hh = sum_t dq_t,
                                                    grad_x_t = dp_t W_ih

Unlike the RNN and the LSTM, the gradients of the projected and of the recurrent pre-activation differ (in the n
block, by the factor r), so backward returns two arrays. The input projection and the four parameter gradients
are one matrix product each over all steps (numrnn.layers.recurrent); only the recurrences above loop over time,
each step doing one matrix product and a few in-place element-wise operations on reused buffers:

- Activation: s(v) = (1 + tanh(v / 2)) / 2, so with the r, z columns halved one tanh call activates r and z
  together ([r, z] = tanh([p_r + q_r, p_z + q_z] / 2) / 2 + 1/2). The halving is folded into contiguous copies of
  W_ih^T and W_hh^T (exact in floating point), and b_hr, b_hz join b_ih in the projection's single bias pass.
- Storage: the projection buffer (T, B, 3H) becomes r, z, n in place, step by step; with q_n and h (both
  (T, B, H)) it is all that backward reads.
- Backward computes each step's factors ((1 - z)(1 - n^2), q_n r (1 - r), ...) inside the loop, while the step's
  gates are in cache: one pass over all steps at once streams them from memory and is slower.
- A zero initial state skips the first step's recurrent product, and backward skips the last one (it would give
  the gradient of h0, which is not returned).

Variable lengths: past a sequence's end h is frozen. No gradient reaches a padded step (dh is zero there and
after), so backward needs no mask.
"""
import numpy as np

from .recurrent import Recurrent


class GRU(Recurrent):
    """numrnn.GRU(input_size, hidden_size, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
    return_sequences=True, dtype="float32"); a torch.nn.GRU(..., batch_first=True) state dict loads unchanged.

    forward(x, h0=None, lengths=None): h0 is (num_layers * D, batch, H); after forward `h_n` holds the final states.
    """

    gates = 3

    def _column_scale(self):
        """(3H,): 1/2 on the columns of r and z, 1 on those of n (see _cell_forward)."""
        half = np.ones(3 * self.hidden_size, dtype=self.dtype)
        half[:2 * self.hidden_size] = 0.5
        return half

    def _projection_bias(self, k, s):
        """b_ih + [b_hr, b_hz, 0]: b_hn is scaled by r, so it is added per step."""
        size = self.hidden_size
        bias = self.params[f"bias_ih_l{k}{s}"].copy()
        bias[:2 * size] += self.params[f"bias_hh_l{k}{s}"][:2 * size]
        return bias

    def _cell_forward(self, k, s, projected, state0, mask):
        steps, batch, gate_size = projected.shape
        size, workspace = self.hidden_size, self._workspace
        # s(v) = (1 + tanh(v / 2)) / 2: projected already holds the input part of the r, z pre-activations halved,
        # W_hh^T * half gives the recurrent part halved, and the n columns are left as they are
        weight_hh_t = self._transposed_weight("hh", k, s)
        bias_hn = self.params[f"bias_hh_l{k}{s}"][2 * size:] if self.bias else None
        gates = projected  # turned into r, z, n in place step by step; backward reads them
        # index t + 1 holds step t and index 0 the initial state, so the previous state is a contiguous view too
        hidden = workspace.get(f"hidden_{k}{s}", (steps + 1, batch, size), self.dtype)
        recurrent_n = workspace.get(f"recurrent_n_{k}{s}", (steps, batch, size), self.dtype)  # q_n, for backward
        recurrent = workspace.get("recurrent", (batch, gate_size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        if state0 is None:
            hidden[0].fill(0)
        else:
            hidden[0] = state0[0]
        frozen = None
        if mask is not None:  # past its end a sequence keeps its state; a full-shape mask keeps copyto contiguous
            frozen = workspace.get("frozen", (steps, batch, size), np.bool_)
            np.logical_not(mask, out=frozen)
        for t in range(steps):
            p = gates[t]
            rz, r, z, n = p[:, :2 * size], p[:, :size], p[:, size:2 * size], p[:, 2 * size:]
            if t or state0 is not None:
                np.matmul(hidden[t], weight_hh_t, out=recurrent)
                rz += recurrent[:, :2 * size]
            else:  # a zero h_{-1} adds nothing
                recurrent.fill(0)
            np.tanh(rz, out=rz)  # r and z in one call
            rz *= 0.5
            rz += 0.5
            q_n = recurrent_n[t]
            if bias_hn is None:
                q_n[...] = recurrent[:, 2 * size:]
            else:
                np.add(recurrent[:, 2 * size:], bias_hn, out=q_n)
            np.multiply(r, q_n, out=product)
            n += product
            np.tanh(n, out=n)
            h = hidden[t + 1]
            np.subtract(hidden[t], n, out=h)  # h_t = n + z (h_{t-1} - n)
            h *= z
            h += n
            if frozen is not None:
                np.copyto(h, hidden[t], where=frozen[t])
        cache = (gates, recurrent_n, hidden)
        return hidden[1:], (hidden[steps].copy(),), cache

    def _cell_backward(self, k, s, cache, grad_outputs):
        gates, recurrent_n, hidden = cache
        steps, batch, size = grad_outputs.shape
        workspace = self._workspace
        weight_hh = self.params[f"weight_hh_l{k}{s}"]
        grad_projected = workspace.get(f"grad_projected_{k}{s}", gates.shape, self.dtype)
        grad_recurrent = workspace.get(f"grad_recurrent_{k}{s}", gates.shape, self.dtype)
        grad_h_future = workspace.get("grad_h", (batch, size), self.dtype, zero=True)  # dh_{t+1} z + dq_{t+1} W_hh
        grad_h = workspace.get("grad_total", (batch, size), self.dtype)
        product = workspace.get("product", (batch, size), self.dtype)
        # everything per step, while the step's gates are in cache: a pass over all steps at once is slower
        for t in reversed(range(steps)):
            gate, dp, dq, q_n = gates[t], grad_projected[t], grad_recurrent[t], recurrent_n[t]
            r, z, n = gate[:, :size], gate[:, size:2 * size], gate[:, 2 * size:]
            dq_r, dq_z, dq_n, dp_n = dq[:, :size], dq[:, size:2 * size], dq[:, 2 * size:], dp[:, 2 * size:]
            np.add(grad_outputs[t], grad_h_future, out=grad_h)  # dh
            np.subtract(1, z, out=product)
            product *= grad_h                                    # dh (1 - z)
            np.multiply(n, n, out=dp_n)
            np.subtract(1, dp_n, out=dp_n)
            dp_n *= product                                      # dp_n
            np.multiply(dp_n, r, out=dq_n)                       # dq_n
            np.subtract(1, r, out=dq_r)
            dq_r *= r
            dq_r *= q_n
            dq_r *= dp_n                                         # dq_r
            np.subtract(hidden[t], n, out=dq_z)
            dq_z *= product
            dq_z *= z                                            # dq_z
            dp[:, :2 * size] = dq[:, :2 * size]                  # dp_r = dq_r, dp_z = dq_z
            if t:  # at t = 0 this would be the gradient of h0, which nobody asks for
                np.matmul(dq, weight_hh, out=grad_h_future)
                np.multiply(grad_h, z, out=product)
                grad_h_future += product
        return grad_projected, grad_recurrent, hidden[:-1]
