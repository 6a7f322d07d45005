"""The fast recurrent layers' shared machinery (numrnn.RNN, LSTM, GRU): stacking, directions, variable lengths,
dropout, the public shapes, torch.nn.RNN's layout.

The math of one step is that of the reference cells (numrnn.cells: RNNCell, LSTMCell, GRUCell), and the loop over
time that of numrnn.Recurrent; a test proves each fast layer equals the reference layers on the same weights
(`reference_layers()`). What differs is the layout, chosen for speed. A fast layer is a stack of `num_layers`
layers, each run in one or two directions. For layer k and direction
suffix s ("" forward, "_reverse" backward in time) the parameters are, under torch's names,

    weight_ih_l{k}{s}  (G*H, in_k)     weight_hh_l{k}{s}  (G*H, H)     bias_ih_l{k}{s}, bias_hh_l{k}{s}  (G*H,)

with G the number of gate blocks of the cell (RNN 1, GRU 3, LSTM 4) and in_k the input size for k = 0, else
H * num_directions. How the kernels lay out their buffers (time-major for the RNN, unit-major for the LSTM and GRU)
is in layouts.py.

Buffers are reused from call to call; the public boundary is batch-first (B, T, features), converted once (pass
time_major=True to skip that, as numrnn.Sequential does), and the layers pass (T, B, features) between them.

Variable lengths: past a sequence's last valid step its state is frozen and its outputs are zero, so padding
changes nothing valid, whatever it holds (NaN and inf included: padded inputs are zeroed on the way in). The
reverse direction runs on each sequence reversed within its own length, so it starts at the last valid step.
Truncated gradients and the final-state gradient for return_sequences=False enter at each sequence's last valid
step, so no gradient ever reaches a padded step. An empty sequence (length 0) keeps its initial state and outputs
zeros (with return_sequences=False too).

Masks (mask=, (batch, time) booleans, padding anywhere): a masked step changes nothing (the state carries over,
the output is zero, no gradient enters), so the layer runs on the packed sequences, each one's real steps moved
to its front in order, as with lengths (numrnn.sequences.packed_steps), and moves the outputs back: the same
as reversing the whole time axis and the mask for the reverse direction, which is what Recurrent and Bidirectional
do (tests/layers/test_reference.py). A mask of trailing padding is lengths, and nothing moves.

A subclass supplies `gates`, `_cell_forward` and `_cell_backward` (see RNN for the contract).
"""

import numpy as np

from .._validate import as_float_array, as_gradient, check_finite, check_positive_int, check_probability
from ..random import dropout_mask as make_dropout_mask
from ..random import uniform
from ..sequences import gather_steps, packed_steps, reverse_within, unpacking
from ..threads import for_step
from .bidirectional import Bidirectional
from .dropout import Dropout
from .layouts import FastLayouts
from .recurrent import Recurrent


class StackedRecurrent(FastLayouts):
    gates = 1
    takes_lengths = True
    takes_time_major = True
    sequence_rank = 3
    #: names of the state tensors passed as h0 (LSTM: ("h0", "c0"))
    state_names = ("h0",)

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
        #: where dropout masks are drawn from: a numpy Generator of this layer's own, or None for numrnn's
        self.generator = None
        self.return_sequences = bool(return_sequences)
        self._cache = None
        self.h_n = None
        #: stateful=True: each forward without h0 starts from the previous forward's final state (cut from the
        #: graph: no gradient flows into an earlier batch), as Keras's stateful RNNs and char-rnn's training do.
        #: reset_states() starts again from zeros.
        self.stateful = bool(stateful)
        self._carried = None
        #: set True to keep, after each backward, the norm of the gradient that reaches each time step
        self.record_step_gradients = False
        self.step_gradient_norms = None
        self._init_params()

    # -- parameters ----------------------------------------------------------------------------------------------
    def _suffixes(self):
        return ("", "_reverse")[: self.num_directions]

    def _init_params(self):
        """torch's order and init: per layer, per direction, w_ih, w_hh, b_ih, b_hh ~ U(-1/sqrt(H), 1/sqrt(H))."""
        size, bound = self.hidden_size, 1.0 / np.sqrt(self.hidden_size)
        for k in range(self.num_layers):
            in_k = self.input_size if k == 0 else size * self.num_directions
            for s in self._suffixes():
                self.add_param(f"weight_ih_l{k}{s}", uniform(bound, (self.gates * size, in_k)))
                self.add_param(f"weight_hh_l{k}{s}", uniform(bound, (self.gates * size, size)))
                if self.bias:
                    self.add_param(f"bias_ih_l{k}{s}", uniform(bound, self.gates * size))
                    self.add_param(f"bias_hh_l{k}{s}", uniform(bound, self.gates * size))

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

    def reference_layers(self):
        """This layer's computation as reference layers, with copies of its weights: per stacked layer a
        numrnn.Recurrent of the reference cell (numrnn.cells), wrapped in numrnn.Bidirectional for two directions,
        and numrnn.Dropout between layers. The math this layer must equal, and does (tests/layers/test_reference.py)."""
        layers = []
        for k in range(self.num_layers):
            last = k == self.num_layers - 1
            features = self.input_size if k == 0 else self.hidden_size * self.num_directions

            def direction(suffix):
                cell = self._reference_cell(features)
                cell.load_state_dict({name: self.params[f"{name}_l{k}{suffix}"] for name in cell.params})
                return Recurrent(cell, return_sequences=self.return_sequences or not last, stateful=self.stateful,
                                 bptt_truncate=getattr(self, "bptt_truncate", None))

            layer = direction("")
            layers.append(Bidirectional(layer, backward_layer=direction("_reverse")) if self.bidirectional else layer)
            if self.dropout and not last:
                layers.append(Dropout(self.dropout, dtype=np.dtype(self.dtype).name))
        return layers

    def _reference_cell(self, input_size):
        """A reference cell (numrnn.cells) with this layer's options, for one layer and direction."""
        raise NotImplementedError

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
    def forward(self, x, h0=None, lengths=None, mask=None, time_major=False):
        """x (batch, time, input_size) -> (batch, time, D*H), or (batch, D*H) if return_sequences=False.

        h0: (num_layers * D, batch, H), torch's layout (LSTM: a tuple (h0, c0)); zeros if None.
        lengths: (batch,) valid steps per sequence, in [0, time]; padded outputs are zero and never change the state.
        mask: (batch, time) booleans, True where a step is real (whatever the layout of x); a masked step's output
            is zero and its state that of the step before. Not with lengths.
        time_major: x is (time, batch, input_size) and the output is time-major too; that output may be a view of
            the layer's reused buffers, valid until its next forward (copy it to keep it).
        """
        x = as_float_array("x", x, self.dtype, ndim=3, finite=False)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x.shape[-1] must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]} (x has shape {x.shape})")
        sequence = x if time_major else np.ascontiguousarray(x.transpose(1, 0, 2))
        steps, batch = sequence.shape[:2]
        lengths, order = packed_steps(lengths, mask, batch, steps)
        unorder = None
        if order is not None:  # each sequence's real steps first: trailing padding (numrnn.sequences)
            sequence, unorder = gather_steps(sequence, order), unpacking(order)
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
                dropout_mask = make_dropout_mask(layer_output.shape, self.dropout, self.dtype, self.generator)
                if order is not None:  # drawn where the steps stand in x
                    dropout_mask = gather_steps(dropout_mask, order)
                layer_output = layer_output * dropout_mask
            layer_caches.append((direction_caches, dropout_mask))
            layer_input = layer_output

        self._set_final_states(finals)
        if self.stateful:
            self._carried = finals
        self._cache = "inference" if self._inference else (layer_caches, lengths, order, unorder, steps, batch,
                                                            time_major, x.shape)
        if not self.return_sequences:
            last = finals[-self.num_directions:]
            output = np.concatenate([f[0] for f in last], axis=-1) if self.num_directions == 2 else last[0][0].copy()
            if lengths is not None:
                output[lengths == 0] = 0  # an empty sequence outputs zeros; its final state is its initial one
            return output
        if unorder is not None:
            layer_input = gather_steps(layer_input, unorder)
        if time_major:
            return layer_input
        return np.ascontiguousarray(layer_input.transpose(1, 0, 2))

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

    # -- backward ------------------------------------------------------------------------------------------------
    def backward(self, grad_out, need_input_grad=True):
        """grad_out shaped like the last forward's output -> gradient w.r.t. its x; sets `grads` (not accumulated)."""
        if self._cache is None:
            raise RuntimeError(f"{self.__class__.__name__}.backward called before forward")
        if self._cache == "inference":
            raise RuntimeError(f"{self.__class__.__name__}.backward after a forward inside inference(), which keeps "
                               f"nothing for backward; run forward outside it")
        layer_caches, lengths, order, unorder, steps, batch, time_major, x_shape = self._cache
        features = self.hidden_size * self.num_directions
        if self.return_sequences:
            expected = (steps, batch, features) if time_major else (batch, steps, features)
        else:
            expected = (batch, features)
        grad_out = as_gradient("grad_out", grad_out, expected, self.dtype)

        if self.return_sequences:
            grad = grad_out if time_major else grad_out.transpose(1, 0, 2)
            if order is not None:
                grad = gather_steps(grad, order)
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
                    self._record_step_gradients(d, grad_projected, lengths, unorder)
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
        if unorder is not None:
            grad = gather_steps(grad, unorder)
        return grad if time_major else np.ascontiguousarray(grad.transpose(1, 0, 2))

    def _final_state_gradient(self, grad_out, lengths, steps, batch):
        """return_sequences=False: the gradient of each direction's final state enters at its last valid step
        (in original time: the forward direction's last valid step, the reverse direction's first step)."""
        size = self.hidden_size
        grad = np.zeros((steps, batch, size * self.num_directions), dtype=self.dtype)
        rows = np.arange(batch) if lengths is None else np.flatnonzero(lengths)  # an empty sequence's output is 0
        last = np.full(batch, steps - 1) if lengths is None else lengths - 1
        grad[last[rows], rows, :size] = grad_out[rows, :size]
        if self.num_directions == 2:
            grad[0, rows, size:] = grad_out[rows, size:]
        return grad

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
