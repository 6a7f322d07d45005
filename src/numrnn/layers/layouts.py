"""How the fast recurrent layers (numrnn.RNN, LSTM, GRU) lay out their buffers, and the work around their time loops
that does not depend on the cell: input projections, derived weight copies, weight gradients.

With G the number of gate blocks of the cell (RNN 1, GRU 3, LSTM 4), two shapes of computation:

Time-major (the RNN): rows are batch entries, every buffer (T, B, features).

    projected = x W_ih^T + b_ih + b_hh   one matrix product over all time steps at once     (T, B, G*H)
    hidden    = cell recurrence           the only loop over time: projected[t] + h_{t-1} W_hh^T ...
    grad_W_ih = grad_projected^T x        one matrix product each, after the backward loop
    grad_W_hh = grad_recurrent^T h_prev
    grad_x    = grad_projected W_ih

Unit-major (LSTM, GRU): inside the time loops a step's gates are a (G*H, B) column block, so each gate is a
contiguous block of rows, and a step is one product of a stacked weight [W_hh | b | W_ih] by the stacked
inputs [h_{t-1}; 1; x_t] (K, B) (see _stack_inputs). The gate gradients are kept (G*H, T, B), so that

    grad_W_ih = grad_projected x         (G*H, T*B) by (T*B, in): one matrix product each, no copy
    grad_W_hh = grad_recurrent h_prev
    grad_x    = grad_projected^T W_ih

Buffers are reused from call to call (a fresh large allocation per step costs page faults on every call).

Derived weight copies (the LSTM's and GRU's stacked weights, the transposed W's): built on every call in training,
where every step changes the weights; inside inference() built once, and kept for the next inference() with a copy
of the weights they came from, when those take at most KEEP_DERIVED bytes. The next inference() uses them only if
every one of those weights is bit for bit what it was (an exact comparison: an optimizer's step, load_state_dict
and a user's own edit in place, a permutation of rows included, all rebuild them), so a stale copy is never used.
"""
import contextlib

import numpy as np

from ..sequences import gather_steps, reverse_within
from .base import Layer, Workspace

#: derived weight copies from at most this many bytes of weights are kept from one inference() to the next (see the
#: module docstring). Checking the weights costs about half a rebuild (an LSTM of 128 units: 27 against 50 us); a
#: small model's predict pays it on every call, a large one's (L, XL) hardly notices the rebuild.
KEEP_DERIVED = 4 * 1024 * 1024
#: copy_transposed copies in bands of this many source rows (see there)
TRANSPOSE_BAND = 16


def copy_transposed(out, source):
    """out[...] = source with its last two axes swapped (W^T, or (T, B, H) as (T, H, B)), into out.

    A plain strided copy walks source's rows once per element of out's rows; when those rows lie a multiple of
    1 KiB apart (H = 256, 512, 1024 in float32) they fall into the same few cache sets and each is fetched again and
    again. In bands of 16 source rows, every row of out receives a whole 64-byte cache line per band: several times
    faster for large W^T and gradient copies. Other strides (H = 384), and small arrays, copy faster whole.
    benchmarks/bench_transpose.py measures both ways."""
    swapped = source.swapaxes(-1, -2)
    if source.size < 1 << 16 or source.strides[-2] % 1024:
        np.copyto(out, swapped)
        return out
    for start in range(0, source.shape[-2], TRANSPOSE_BAND):
        np.copyto(out[..., start:start + TRANSPOSE_BAND], swapped[..., start:start + TRANSPOSE_BAND])
    return out


class FastLayouts(Layer):
    """The buffers and products of StackedRecurrent's kernels; see the module docstring."""

    #: the cell's loops keep each step's gates as (G*H, B) and states as (H, B) (see _project); False: (B, G*H)
    unit_major = False

    def __init__(self, dtype):
        super().__init__(dtype)
        self._workspace = Workspace()
        self._weights_frozen = False
        self._inference = False
        self._derived_ready = set()
        self._derived_sources = {}  # key -> (the derived array, copies of the weights it was built from)

    @contextlib.contextmanager
    def frozen_weights(self):
        """Promise that no weight changes inside the block, so the weight copies a cell derives (the LSTM's and GRU's
        stacked [W_hh | b | W_ih] with the sigmoid rows halved, the RNN's W^T) are built once instead of on every
        forward: what makes sampling one step at a time fast. inference() enters it; training must not. Copies of
        small weights are kept for the next block while those weights stay bit for bit the same (module docstring)."""
        previous = self._weights_frozen
        self._weights_frozen = True
        self._derived_ready.clear()
        try:
            yield self
        finally:
            self._weights_frozen = previous
            self._derived_ready.clear()

    @contextlib.contextmanager
    def inference(self):
        """Forward only inside the block (predict, evaluation, sampling): no backward follows, so forward keeps only
        what the next step needs (an LSTM's gates and cell state for one step, not for every step) and the weights
        are frozen (see frozen_weights). backward after such a forward raises."""
        previous = self._inference
        self._inference = True
        try:
            with self.frozen_weights():
                yield self
        finally:
            self._inference = previous

    def _derived_weight(self, key, shape, build, sources=()):
        """A workspace array filled by build(out) from the parameter arrays `sources`: rebuilt on every call outside
        frozen_weights(); inside, once, or not at all when the copy kept from an earlier block was built from weights
        bit for bit equal to `sources` (see the module docstring)."""
        array = self._workspace.get(key, shape, self.dtype)
        if not self._weights_frozen:
            self._derived_sources.pop(key, None)
            build(array)
            return array
        if key in self._derived_ready:
            return array
        kept = self._derived_sources.pop(key, None)
        if kept is None or kept[0] is not array or not _same_bits(sources, kept[1]):
            build(array)
            kept = (array, [source.copy() for source in sources])
        if sources and sum(source.nbytes for source in sources) <= KEEP_DERIVED:
            self._derived_sources[key] = kept
        self._derived_ready.add(key)
        return array

    def _projection_bias(self, k, s):
        """The bias added with the input projection: b_ih + b_hh, as both enter the same pre-activation."""
        return self.params[f"bias_ih_l{k}{s}"] + self.params[f"bias_hh_l{k}{s}"]

    def _transposed_weight(self, kind, k, s):
        """A contiguous copy of W_{kind}^T: OpenBLAS multiplies small batches by it 2-3x faster than by the
        transposed view. Built on every forward, once inside frozen_weights()."""
        weight = self.params[f"weight_{kind}_l{k}{s}"]
        return self._derived_weight(f"weight_{kind}_t_{k}{s}", weight.shape[::-1],
                                    lambda out: copy_transposed(out, weight), (weight,))

    def _project(self, k, s, inputs):
        """x W_ih^T + bias for every time step in one matrix product, into a reused buffer.

        Unit-major cells get the stacked step inputs instead (see _stack_inputs)."""
        if self.unit_major:
            return self._stack_inputs(k, s, inputs)
        steps, batch, features = inputs.shape
        weight_t = self._transposed_weight("ih", k, s)
        gate_size = weight_t.shape[1]
        projected = self._workspace.get(f"projected_{k}{s}", (steps, batch, gate_size), self.dtype)
        np.matmul(inputs.reshape(steps * batch, features), weight_t, out=projected.reshape(steps * batch, gate_size))
        if self.bias:
            projected += self._projection_bias(k, s)
        return projected

    def _stack_inputs(self, k, s, inputs):
        """The unit-major cells' step inputs: column blocks [h_{t-1}; 1; x_t] (T + 1, H + 1 + in, B), all filled but
        the h rows, which the time loop writes (without bias, no row of ones).

        A unit-major cell keeps each step's gates as (G*H, B) and multiplies a stacked weight [W_hh | b | W_ih] by
        these blocks (or row slices of both): one product gives the pre-activations of a step, bias included,
        written where the step's element-wise work reads them. OpenBLAS multiplies W (G*H, K) by (K, B) 15-30%
        faster than (B, K) by W^T on these shapes; and projecting all steps ahead, then adding each step's slice
        back from memory, was 10-20% slower in the LSTM's forward (at M and L of the benchmark)."""
        steps, batch, features = inputs.shape
        size, ones = self.hidden_size, int(self.bias)
        stacked = self._workspace.get(f"stacked_{k}{s}", (steps + 1, size + ones + features, batch), self.dtype)
        np.copyto(stacked[:steps, size + ones:], inputs.transpose(0, 2, 1))
        if self.bias:
            stacked[:, size].fill(1)
        return stacked

    def _unit_major_grad_outputs(self, grad_outputs):
        """grad_outputs (T, B, H) as the unit-major loops read them, (T, H, B), in a reused buffer."""
        steps, batch, size = grad_outputs.shape
        grad_hidden = self._workspace.get("grad_hidden", (steps, size, batch), self.dtype)
        copy_transposed(grad_hidden, grad_outputs)
        return grad_hidden

    def _record_step_gradients(self, direction, grad_projected, lengths, unorder=None):
        """||dL/d(pre-activations at step t)|| of the first layer, over batch and units, per step in original time
        (directions added in squares): shows gradients vanish or explode as they travel back through time.
        unorder: unpacks the steps of a layer run on packed sequences (numrnn.sequences.packed_steps)."""
        layout = "gtb,gtb->tb" if self.unit_major else "tbg,tbg->tb"
        squares = np.einsum(layout, grad_projected, grad_projected, dtype=np.float64)
        if direction == 1:
            squares = reverse_within(squares, lengths)
        if unorder is not None:
            squares = gather_steps(squares, unorder)
        if direction == 1:
            self.step_gradient_norms = np.sqrt(self.step_gradient_norms ** 2 + squares.sum(axis=1))
        else:
            self.step_gradient_norms = np.sqrt(squares.sum(axis=1))

    def _weight_gradients(self, k, s, inputs, grad_projected, grad_recurrent, hidden_prev, need_input_grad):
        """The four parameter gradients as one matrix product (or sum) each, over all time steps at once.

        hidden_prev: h_{t-1} (T, B, H), what W_hh multiplies; or a tuple of one such array per gate block where the
        blocks multiply different vectors (the GRU with reset_after=False: r * h_{t-1} for n).

        Both layouts are read as (G*H, T*B) matrices without a copy: a unit-major cell's (G*H, T, B) gradients
        reshaped, a time-major cell's (T, B, G*H) ones reshaped to (T*B, G*H) and transposed."""
        if self.unit_major:
            gate_size, steps, batch = grad_projected.shape
            grad_projected_2d = grad_projected.reshape(gate_size, steps * batch)
            grad_recurrent_2d = grad_recurrent.reshape(gate_size, steps * batch)
        else:
            steps, batch, gate_size = grad_projected.shape
            grad_projected_2d = grad_projected.reshape(steps * batch, gate_size).T
            grad_recurrent_2d = grad_recurrent.reshape(steps * batch, gate_size).T
        rows, size = steps * batch, self.hidden_size
        np.matmul(grad_projected_2d, inputs.reshape(rows, inputs.shape[-1]), out=self.grads[f"weight_ih_l{k}{s}"])
        grad_weight_hh = self.grads[f"weight_hh_l{k}{s}"]
        if isinstance(hidden_prev, tuple):  # one (T, B, H) per gate block: the blocks multiply different vectors
            for block, vectors in enumerate(hidden_prev):
                gate_rows = slice(block * size, (block + 1) * size)
                np.matmul(grad_recurrent_2d[gate_rows], vectors.reshape(rows, size), out=grad_weight_hh[gate_rows])
        else:
            np.matmul(grad_recurrent_2d, hidden_prev.reshape(rows, size), out=grad_weight_hh)
        if self.bias:
            np.sum(grad_projected_2d, axis=1, out=self.grads[f"bias_ih_l{k}{s}"])
            if grad_recurrent is grad_projected:  # RNN, LSTM: both biases enter the same pre-activation
                self.grads[f"bias_hh_l{k}{s}"][...] = self.grads[f"bias_ih_l{k}{s}"]
            else:
                np.sum(grad_recurrent_2d, axis=1, out=self.grads[f"bias_hh_l{k}{s}"])
        if not need_input_grad:
            return None
        grad_inputs = grad_projected_2d.T @ self.params[f"weight_ih_l{k}{s}"]
        return grad_inputs.reshape(steps, batch, inputs.shape[-1])


def _same_bits(arrays, copies):
    """True if every array holds exactly the bits of its copy (same shape and dtype; NaN equals itself, 0 and -0
    differ): the exact test a kept derived copy must pass."""
    if len(arrays) != len(copies):
        return False
    for array, copy in zip(arrays, copies):
        if array.shape != copy.shape or array.dtype != copy.dtype:
            return False
        unsigned = np.dtype(f"u{array.dtype.itemsize}")
        if not np.array_equal(array.view(unsigned), copy.view(unsigned)):
            return False
    return True
