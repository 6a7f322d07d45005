"""The fast recurrent layers' shared machinery (numrnn.RNN, LSTM, GRU): stacking, directions, variable lengths,
dropout, the public shapes, torch.nn.RNN's layout.

The math of one step is that of the reference cells (numrnn.cells: RNNCell, LSTMCell, GRUCell), and the loop over
time that of numrnn.Recurrent; a test proves each fast layer equals the reference layers on the same weights
(`reference_layers()`). What differs is the layout, chosen for speed. A fast layer is a stack of `num_layers` layers, each run in one or two directions. For layer k and direction
suffix s ("" forward, "_reverse" backward in time) the parameters are, under torch's names,

    weight_ih_l{k}{s}  (G*H, in_k)     weight_hh_l{k}{s}  (G*H, H)     bias_ih_l{k}{s}, bias_hh_l{k}{s}  (G*H,)

with G the number of gate blocks of the cell (RNN 1, GRU 3, LSTM 4) and in_k the input size for k = 0, else
H * num_directions. Two shapes of computation:

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

Buffers are reused from call to call; the public boundary is batch-first (B, T, features), converted once (pass
time_major=True to skip that, as numrnn.Sequential does), and the layers pass (T, B, features) between them.

Variable lengths: past a sequence's last valid step its state is frozen and its outputs are zero, so padding
changes nothing valid, whatever it holds (NaN and inf included: padded inputs are zeroed on the way in). The reverse direction runs on each sequence reversed within its own length, so it starts
at the last valid step. Truncated gradients and the final-state gradient for return_sequences=False enter at
each sequence's last valid step, so no gradient ever reaches a padded step.

A subclass supplies `gates`, `_cell_forward` and `_cell_backward` (see RNN for the contract).
"""
import contextlib

import numpy as np

from .._validate import as_float_array, check_finite, check_positive_int, check_probability
from ..random import get_rng
from ..sequences import check_lengths, reverse_within
from ..threads import for_step
from .base import Layer, Workspace


class StackedRecurrent(Layer):
    gates = 1
    takes_lengths = True
    takes_time_major = True
    sequence_rank = 3
    #: names of the state tensors passed as h0 (LSTM: ("h0", "c0"))
    state_names = ("h0",)
    #: the cell's loops keep each step's gates as (G*H, B) and states as (H, B) (see _project); False: (B, G*H)
    unit_major = False

    def __init__(self, input_size, hidden_size, *, num_layers=1, bias=True, bidirectional=False, dropout=0.0,
                 return_sequences=True, stateful=False, dtype="float32"):
        super().__init__(dtype)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.num_layers = check_positive_int("num_layers", num_layers)
        self.bias = bool(bias)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if self.bidirectional else 1
        self.dropout = check_probability("dropout", dropout)
        self.return_sequences = bool(return_sequences)
        self._workspace = Workspace()
        self._cache = None
        self.h_n = None
        #: stateful=True: each forward without h0 starts from the previous forward's final state (cut from the
        #: graph: no gradient flows into an earlier batch), as Keras's stateful RNNs and char-rnn's training do.
        #: reset_states() starts again from zeros.
        self.stateful = bool(stateful)
        self._carried = None
        #: set True to keep, after each backward, the norm of the gradient that reaches each time step
        self.record_step_gradients = False
        self._weights_frozen = False
        self._inference = False
        self._derived_ready = set()
        self.step_gradient_norms = None
        self._init_params()

    # -- parameters ----------------------------------------------------------------------------------------------
    def _suffixes(self):
        return ("", "_reverse")[: self.num_directions]

    def _init_params(self):
        """torch's order and init: per layer, per direction, w_ih, w_hh, b_ih, b_hh ~ U(-1/sqrt(H), 1/sqrt(H))."""
        size, bound, rng = self.hidden_size, 1.0 / np.sqrt(self.hidden_size), get_rng()
        for k in range(self.num_layers):
            in_k = self.input_size if k == 0 else size * self.num_directions
            for s in self._suffixes():
                self.add_param(f"weight_ih_l{k}{s}", rng.uniform(-bound, bound, (self.gates * size, in_k)))
                self.add_param(f"weight_hh_l{k}{s}", rng.uniform(-bound, bound, (self.gates * size, size)))
                if self.bias:
                    self.add_param(f"bias_ih_l{k}{s}", rng.uniform(-bound, bound, self.gates * size))
                    self.add_param(f"bias_hh_l{k}{s}", rng.uniform(-bound, bound, self.gates * size))

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "bias": self.bias, "bidirectional": self.bidirectional, "dropout": self.dropout,
                "return_sequences": self.return_sequences, "stateful": self.stateful,
                "dtype": np.dtype(self.dtype).name}

    def input_spec(self):
        return 3, self.input_size

    def output_shape(self, input_shape):
        features = self.hidden_size * self.num_directions
        if self.return_sequences:
            return tuple(input_shape[:-1]) + (features,)
        return (input_shape[0], features)

    @property
    def can_stream(self):
        return self.return_sequences and not self.bidirectional

    def step_multiply_adds(self, batch):
        return batch * self.gates * self.hidden_size * self.hidden_size

    # -- argument checks -----------------------------------------------------------------------------------------
    def _check_state(self, name, value, batch):
        shape = (self.num_layers * self.num_directions, batch, self.hidden_size)
        state = as_float_array(name, value, self.dtype, ndim=3)
        if state.shape != shape:
            raise ValueError(f"{name} must have shape {shape} (num_layers * num_directions, batch, hidden_size), "
                             f"got {state.shape}")
        check_finite(name, state)
        return state

    def _initial_states(self, h0, batch):
        """h0 as given (None, an array, or a tuple for several state tensors) -> per-(layer, direction) tuples."""
        count = self.num_layers * self.num_directions
        if h0 is None:
            return [None] * count
        if len(self.state_names) > 1:
            if not isinstance(h0, (tuple, list)) or len(h0) != len(self.state_names):
                raise TypeError(f"h0 must be a tuple {self.state_names}, got {type(h0).__name__}")
            tensors = [self._check_state(n, v, batch) for n, v in zip(self.state_names, h0)]
        else:
            tensors = [self._check_state("h0", h0, batch)]
        return [tuple(t[i] for t in tensors) for i in range(count)]

    # -- forward -------------------------------------------------------------------------------------------------
    def forward(self, x, h0=None, lengths=None, time_major=False):
        """x (batch, time, input_size) -> (batch, time, D*H), or (batch, D*H) if return_sequences=False.

        h0: (num_layers * D, batch, H), torch's layout (LSTM: a tuple (h0, c0)); zeros if None.
        lengths: (batch,) valid steps per sequence; padded outputs are zero and never change the state.
        time_major: x is (time, batch, input_size) and the output is time-major too; that output may be a view of
            the layer's reused buffers, valid until its next forward (copy it to keep it).
        """
        x = as_float_array("x", x, self.dtype, ndim=3, finite=False)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x.shape[-1] must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]} (x has shape {x.shape})")
        sequence = x if time_major else np.ascontiguousarray(x.transpose(1, 0, 2))
        steps, batch = sequence.shape[:2]
        lengths = check_lengths(lengths, batch, steps)
        states0 = self._initial_states(h0, batch)
        if h0 is None and self.stateful and self._carried is not None:
            if self._carried[0][0].shape[0] != batch:
                raise ValueError(f"a stateful {type(self).__name__} carries the state of "
                                 f"{self._carried[0][0].shape[0]} sequences, got a batch of {batch}; call "
                                 f"reset_states() first")
            states0 = self._carried
        mask = None if lengths is None else (np.arange(steps)[:, None] < lengths[None, :])[:, :, None]

        layer_caches, finals = [], []
        if mask is None:
            layer_input = np.ascontiguousarray(sequence)
        else:  # padding may hold anything, NaN included: zeroed, it cannot reach a gradient (0 * NaN is NaN)
            layer_input = np.where(mask, sequence, 0)
        for k in range(self.num_layers):
            outputs, direction_caches = [], []
            for d, s in enumerate(self._suffixes()):
                inputs = layer_input if d == 0 else reverse_within(layer_input, lengths)
                projected = self._project(k, s, inputs)
                with for_step(batch, self.gates * self.hidden_size, self.hidden_size):
                    output, final, cell_cache = self._cell_forward(k, s, projected,
                                                                   states0[k * self.num_directions + d], mask)
                finals.append(final)
                if d == 1:
                    output = reverse_within(output, lengths)
                outputs.append(output)
                direction_caches.append((inputs, cell_cache))
            layer_output = outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=-1)
            if mask is not None:
                layer_output = layer_output * mask
            dropout_mask = None
            if self.training and self.dropout > 0 and k < self.num_layers - 1:
                keep = get_rng().random(layer_output.shape) >= self.dropout
                dropout_mask = keep.astype(self.dtype) / self.dtype(1.0 - self.dropout)
                layer_output = layer_output * dropout_mask
            layer_caches.append((direction_caches, dropout_mask))
            layer_input = layer_output

        self._set_final_states(finals)
        if self.stateful:
            self._carried = finals
        self._cache = "inference" if self._inference else (layer_caches, lengths, steps, batch, time_major, x.shape)
        if not self.return_sequences:
            last = finals[-self.num_directions:]
            return np.concatenate([f[0] for f in last], axis=-1) if self.num_directions == 2 else last[0][0].copy()
        if time_major:
            return layer_input
        return np.ascontiguousarray(layer_input.transpose(1, 0, 2))

    @contextlib.contextmanager
    def frozen_weights(self):
        """Promise that no weight changes inside the block, so the weight copies a cell derives (the LSTM's and GRU's
        stacked [W_hh | b | W_ih] with the sigmoid rows halved, the RNN's W^T) are built once instead of on every
        forward: what makes sampling one step at a time fast. inference() enters it; training must not."""
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

    def _derived_weight(self, key, shape, build):
        """A workspace array filled by build(out); rebuilt on every call unless inside frozen_weights()."""
        array = self._workspace.get(key, shape, self.dtype)
        if not (self._weights_frozen and key in self._derived_ready):
            build(array)
            if self._weights_frozen:
                self._derived_ready.add(key)
        return array

    def reset_states(self):
        """Forget the carried state: the next forward of a stateful layer starts from zeros."""
        self._carried = None

    @property
    def carried_state(self):
        """What a stateful layer carries into its next forward: the final states of the last forward, as h0 takes
        them ((num_layers * D, batch, H), LSTM a tuple (h, c)), copied; None after reset_states()."""
        if self._carried is None:
            return None
        tensors = tuple(np.stack([final[i] for final in self._carried]) for i in range(len(self.state_names)))
        return tensors if len(tensors) > 1 else tensors[0]

    @carried_state.setter
    def carried_state(self, state):
        """Set the state the next forward of a stateful layer starts from (checked as h0), or None for zeros."""
        if state is None:
            self._carried = None
            return
        first = state[0] if len(self.state_names) > 1 and isinstance(state, (tuple, list)) else state
        batch = np.shape(first)[1] if np.ndim(first) == 3 else -1
        self._carried = [tuple(np.array(t, copy=True) for t in per) for per in self._initial_states(state, batch)]

    def _set_final_states(self, finals):
        """h_n (and for LSTM c_n) in torch's layout (num_layers * D, batch, H)."""
        self.h_n = np.stack([f[0] for f in finals])

    def _projection_bias(self, k, s):
        """The bias added with the input projection: b_ih + b_hh, as both enter the same pre-activation."""
        return self.params[f"bias_ih_l{k}{s}"] + self.params[f"bias_hh_l{k}{s}"]

    def _transposed_weight(self, kind, k, s):
        """A contiguous copy of W_{kind}^T: OpenBLAS multiplies small batches by it 2-3x faster than by the
        transposed view. Built on every forward, once inside frozen_weights()."""
        weight = self.params[f"weight_{kind}_l{k}{s}"]
        return self._derived_weight(f"weight_{kind}_t_{k}{s}", weight.shape[::-1],
                                    lambda out: np.copyto(out, weight.T))

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

    # -- backward ------------------------------------------------------------------------------------------------
    def _unit_major_grad_outputs(self, grad_outputs):
        """grad_outputs (T, B, H) as the unit-major loops read them, (T, H, B), in a reused buffer."""
        steps, batch, size = grad_outputs.shape
        grad_hidden = self._workspace.get("grad_hidden", (steps, size, batch), self.dtype)
        np.copyto(grad_hidden, grad_outputs.transpose(0, 2, 1))
        return grad_hidden

    def backward(self, grad_out, need_input_grad=True):
        """grad_out shaped like the last forward's output -> gradient w.r.t. its x; sets `grads` (not accumulated)."""
        if self._cache is None:
            raise RuntimeError(f"{self.__class__.__name__}.backward called before forward")
        if self._cache == "inference":
            raise RuntimeError(f"{self.__class__.__name__}.backward after a forward inside inference(), which keeps "
                               f"nothing for backward; run forward outside it")
        layer_caches, lengths, steps, batch, time_major, x_shape = self._cache
        features = self.hidden_size * self.num_directions
        grad_out = np.asarray(grad_out)
        if self.return_sequences:
            expected = (steps, batch, features) if time_major else (batch, steps, features)
        else:
            expected = (batch, features)
        if grad_out.shape != expected:
            raise ValueError(f"grad_out must have the shape of the last output {expected}, got {grad_out.shape}")
        grad_out = grad_out.astype(self.dtype, copy=False)

        if self.return_sequences:
            grad = grad_out if time_major else grad_out.transpose(1, 0, 2)
            if lengths is not None:
                grad = grad * (np.arange(steps)[:, None] < lengths[None, :])[:, :, None]
        else:
            grad = self._final_state_gradient(grad_out, lengths, steps, batch)

        size = self.hidden_size
        for k in reversed(range(self.num_layers)):
            direction_caches, dropout_mask = layer_caches[k]
            if dropout_mask is not None:
                grad = grad * dropout_mask
            grad_input = None
            for d, s in enumerate(self._suffixes()):
                inputs, cell_cache = direction_caches[d]
                grad_direction = grad[..., d * size:(d + 1) * size]
                if d == 1:
                    grad_direction = reverse_within(grad_direction, lengths)
                grad_direction = np.ascontiguousarray(grad_direction)
                with for_step(batch, self.gates * self.hidden_size, self.hidden_size):
                    grad_projected, grad_recurrent, hidden_prev = self._cell_backward(k, s, cell_cache,
                                                                                      grad_direction)
                if self.record_step_gradients and k == 0:
                    self._record_step_gradients(d, grad_projected, lengths)
                needed = k > 0 or need_input_grad
                grad_inputs = self._weight_gradients(k, s, inputs, grad_projected, grad_recurrent, hidden_prev,
                                                     needed)
                if grad_inputs is not None:
                    if d == 1:
                        grad_inputs = reverse_within(grad_inputs, lengths)
                    grad_input = grad_inputs if grad_input is None else grad_input + grad_inputs
            grad = grad_input
        if not need_input_grad:
            return None
        return grad if time_major else np.ascontiguousarray(grad.transpose(1, 0, 2))

    def _record_step_gradients(self, direction, grad_projected, lengths):
        """||dL/d(pre-activations at step t)|| of the first layer, over batch and units, per step in original time
        (directions added in squares): shows gradients vanish or explode as they travel back through time."""
        layout = "gtb,gtb->tb" if self.unit_major else "tbg,tbg->tb"
        squares = np.einsum(layout, grad_projected, grad_projected, dtype=np.float64)
        if direction == 1:
            squares = reverse_within(squares, lengths)
            self.step_gradient_norms = np.sqrt(self.step_gradient_norms ** 2 + squares.sum(axis=1))
        else:
            self.step_gradient_norms = np.sqrt(squares.sum(axis=1))

    def _final_state_gradient(self, grad_out, lengths, steps, batch):
        """return_sequences=False: the gradient of each direction's final state enters at its last valid step
        (in original time: the forward direction's last valid step, the reverse direction's first step)."""
        size = self.hidden_size
        grad = np.zeros((steps, batch, size * self.num_directions), dtype=self.dtype)
        last = np.full(batch, steps - 1) if lengths is None else lengths - 1
        grad[last, np.arange(batch), :size] = grad_out[:, :size]
        if self.num_directions == 2:
            grad[0, :, size:] = grad_out[:, size:]
        return grad

    def _weight_gradients(self, k, s, inputs, grad_projected, grad_recurrent, hidden_prev, need_input_grad):
        """The four parameter gradients as one matrix product (or sum) each, over all time steps at once.

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
        rows = steps * batch
        np.matmul(grad_projected_2d, inputs.reshape(rows, inputs.shape[-1]), out=self.grads[f"weight_ih_l{k}{s}"])
        np.matmul(grad_recurrent_2d, hidden_prev.reshape(rows, self.hidden_size), out=self.grads[f"weight_hh_l{k}{s}"])
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

    # -- the cell: what a subclass supplies ------------------------------------------------------------------------
    def _cell_forward(self, k, s, projected, state0, mask):
        """projected (T, B, G*H) holds x W_ih^T + _projection_bias and may be overwritten (unit-major cells get the
        stacked step inputs of _stack_inputs and fill their h rows); state0 a tuple of (B, H) or None; mask
        (T, B, 1) bool or None. Returns (outputs (T, B, H), final state tuple of (B, H), cache)."""
        raise NotImplementedError

    def _cell_backward(self, k, s, cache, grad_outputs):
        """grad_outputs (T, B, H) contiguous, in processing order. Returns (grad_projected, the gradient of the
        recurrent pre-activation h_{t-1} W_hh^T + b_hh, h_prev (T, B, H)); the two gradients are (T, B, G*H), or
        for unit-major cells (G*H, T, B), rows in torch's gate order."""
        raise NotImplementedError
