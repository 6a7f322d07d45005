"""Recurrent(cell): any cell (numrnn.cells) run over time. The loop over time, written once, for every cell.

Forward, for a batch of sequences x (batch-first at the boundary, time-major inside) and a mask m_t (B,) of the
steps that are real (True) rather than padding (given as mask=, (batch, time) booleans, padding anywhere, as Keras's
masks; or as lengths=, trailing padding; all True without either):

    state_{-1} = h0 (the cell's zeros by default; a stateful layer's carried state)
    output_t, new_state_t, cache_t = cell.forward(x_t, state_{t-1})
    state_t  = m_t ? new_state_t : state_{t-1}         past a sequence's end (or in a gap) the state is frozen
    y_t      = m_t ? output_t    : 0

Backward, with g_t = dL/dy_t from the layer above, and s_t = dL/dstate_t flowing back from the future:

    grad_x_t, grad_state = cell.backward(m_t g_t, m_t s_t, cache_t)     the cell adds its parameter gradients
    s_{t-1} = grad_state + (1 - m_t) s_t                                a frozen step passes s_t straight through

Truncated BPTT (bptt_truncate=k): the gradient of the output at step t reaches steps t, t-1, ..., t-k and stops.
Each output's gradient has its own horizon, so the loop carries k + 1 gradients of the state, ages[j] being the
part of s_t that comes from the output at step t + j, and calls the cell's backward once per age: ages[j] moves to
ages[j + 1] at step t - 1, and ages[k] is used up. The horizon counts real steps: a frozen step passes the
gradient on without ageing it. With return_sequences=False only each sequence's last real output is returned, and
its gradient enters at that step. A sequence with no real step keeps its initial state and outputs zeros.

At a masked step the output is zero, as past a sequence's length, rather than Keras's copy of the previous
output: a masked step then takes no gradient, lengths and masks agree, and the loss never reads it anyway.

The fast numrnn.RNN, LSTM and GRU compute what Recurrent(RNNCell / LSTMCell / GRUCell) computes (their
reference_layers() build it with the same weights, and a test proves outputs and gradients equal).
"""
import contextlib

import numpy as np

from .._validate import as_float_array, as_gradient, check_positive_int
from ..cells import CELLS, Cell
from ..sequences import real_steps
from .base import LAYERS, Layer


@LAYERS.register
class Recurrent(Layer):
    """numrnn.Recurrent(cell, *, return_sequences=True, stateful=False, bptt_truncate=None).

    forward(x, h0=None, lengths=None, mask=None): x (batch, time, cell.input_size) -> (batch, time,
    cell.output_size), or (batch, cell.output_size) with return_sequences=False; h0 a tuple of (batch, width)
    arrays, one per entry of cell.state_size (an array for a one-state cell); lengths (batch,) or mask (batch,
    time) booleans, True where a step is real (not both). After forward, `h_n` is the final state tuple. The layer's
    params and grads are the cell's own dicts, under the cell's names (weight_ih, weight_hh, ...).
    """

    takes_lengths = True
    takes_time_major = True
    sequence_rank = 3

    def __init__(self, cell, *, return_sequences=True, stateful=False, bptt_truncate=None):
        if not isinstance(cell, Cell):
            raise TypeError(f"cell must be a numrnn.cells.Cell, got {type(cell).__name__}")
        super().__init__(np.dtype(cell.dtype).name)
        self.cell = cell
        self.params, self.grads = cell.params, cell.grads  # the cell's own dicts: its names, updated in place
        self.return_sequences = bool(return_sequences)
        self.stateful = bool(stateful)
        self.bptt_truncate = check_positive_int("bptt_truncate", bptt_truncate, allow_none=True)
        self.h_n = None
        self._carried = None
        self._cache = None
        self._inference = False

    # -- architecture ----------------------------------------------------------------------------------------------
    def config(self):
        return {"cell": {"class": CELLS.name_of(type(self.cell)), "config": self.cell.config()},
                "return_sequences": self.return_sequences, "stateful": self.stateful,
                "bptt_truncate": self.bptt_truncate}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        entry = config.pop("cell")
        if not isinstance(entry, dict) or set(entry) != {"class", "config"}:
            raise ValueError(f"the cell must be described as {{'class': name, 'config': {{...}}}}, got {entry!r}")
        return cls(CELLS.get(entry["class"]).from_config(entry["config"]), **config)

    def input_spec(self):
        return 3, self.cell.input_size

    def output_shape(self, input_shape):
        if self.return_sequences:
            return tuple(input_shape[:-1]) + (self.cell.output_size,)
        return (input_shape[0], self.cell.output_size)

    @property
    def can_stream(self):
        return self.return_sequences

    def step_multiply_adds(self, batch):
        return batch * sum(p.size for p in self.cell.params.values() if p.ndim == 2)

    # -- state -----------------------------------------------------------------------------------------------------
    def _initial_state(self, h0, batch):
        if h0 is None:
            if self.stateful and self._carried is not None:
                if self._carried[0].shape[0] != batch:
                    raise ValueError(f"a stateful Recurrent carries the state of {self._carried[0].shape[0]} "
                                     f"sequences, got a batch of {batch}; call reset_states() first")
                return self._carried
            return self.cell.initial_state(batch)
        if not isinstance(h0, (tuple, list)):
            h0 = (h0,)
        if len(h0) != len(self.cell.state_size):
            raise ValueError(f"h0 must be a tuple of {len(self.cell.state_size)} arrays (the cell's state_size "
                             f"{self.cell.state_size}), got {len(h0)}")
        return tuple(as_float_array(f"h0[{i}]", value, self.dtype, ndim=2) for i, value in enumerate(h0))

    def reset_states(self):
        """Forget the carried state: the next forward of a stateful layer starts from the cell's zeros."""
        self._carried = None

    @property
    def carried_state(self):
        """The state a stateful layer carries into its next forward (a tuple, copied), or None."""
        return None if self._carried is None else tuple(s.copy() for s in self._carried)

    @carried_state.setter
    def carried_state(self, state):
        self._carried = None if state is None else tuple(np.array(s, dtype=self.dtype) for s in
                                                          (state if isinstance(state, (tuple, list)) else (state,)))

    @contextlib.contextmanager
    def inference(self):
        """Forward only inside the block: nothing is kept for backward."""
        previous, self._inference = self._inference, True
        try:
            yield self
        finally:
            self._inference = previous

    # -- forward ---------------------------------------------------------------------------------------------------
    def forward(self, x, h0=None, lengths=None, mask=None, time_major=False):
        x = as_float_array("x", x, self.dtype, ndim=3, finite=False)
        sequence = x if time_major else x.transpose(1, 0, 2)
        steps, batch = sequence.shape[:2]
        mask = real_steps(lengths, mask, batch, steps)  # (T, B) or None
        if mask is not None:  # padding may hold anything, NaN included: zeroed, it cannot reach a gradient
            sequence = np.where(mask[:, :, None], sequence, 0)
        state = self._initial_state(h0, batch)
        self.cell.check_step(sequence[0], state)
        outputs = np.zeros((steps, batch, self.cell.output_size), dtype=self.dtype)
        caches = []
        for t in range(steps):
            output, new_state, cache = self.cell.forward(sequence[t], state)
            if mask is not None:
                keep = mask[t][:, None]
                new_state = tuple(np.where(keep, new, old) for new, old in zip(new_state, state))
                output = np.where(keep, output, 0)
            outputs[t] = output
            state = new_state
            if not self._inference:
                caches.append(cache)
        self.h_n = tuple(np.array(s, copy=True) for s in state)
        if self.stateful:
            self._carried = tuple(np.array(s, copy=True) for s in state)
        # each sequence's last real step; a sequence with none gets a masked step, whose output is zero
        last = np.full(batch, steps - 1) if mask is None else steps - 1 - np.argmax(mask[::-1], axis=0)
        self._cache = "inference" if self._inference else (caches, mask, last, sequence.shape, time_major)
        if not self.return_sequences:
            return outputs[last, np.arange(batch)]
        return outputs if time_major else np.ascontiguousarray(outputs.transpose(1, 0, 2))

    # -- backward --------------------------------------------------------------------------------------------------
    def backward(self, grad_out, need_input_grad=True):
        if self._cache is None:
            raise RuntimeError("Recurrent.backward called before forward")
        if self._cache == "inference":
            raise RuntimeError("Recurrent.backward after a forward inside inference(), which keeps nothing for "
                               "backward; run forward outside it")
        caches, mask, last, (steps, batch, features), time_major = self._cache
        grad_outputs = self._grad_outputs(grad_out, last, steps, batch, time_major)
        self.cell.zero_grad()
        grad_x = np.zeros((steps, batch, features), dtype=self.dtype)
        zero_state = tuple(np.zeros((batch, width), dtype=self.dtype) for width in self.cell.state_size)
        if self.bptt_truncate is None:
            grad_state = zero_state  # s_t: everything the future sends back
            for t in reversed(range(steps)):
                through_cell, passed = self._step_backward(t, grad_outputs[t], grad_state, mask, caches, grad_x)
                grad_state = _add(through_cell, passed)
        else:
            horizon = self.bptt_truncate
            zero_output = np.zeros((batch, self.cell.output_size), dtype=self.dtype)
            ages = [zero_state] * (horizon + 1)  # ages[j]: the part of s_t from the output at step t + j
            for t in reversed(range(steps)):
                older = [zero_state] * (horizon + 1)
                for age in range(horizon + 1):  # age 0: the output at step t itself
                    grad_output = grad_outputs[t] if age == 0 else zero_output
                    through_cell, passed = self._step_backward(t, grad_output, ages[age], mask, caches, grad_x)
                    if age < horizon:  # one step further back; ages[horizon] is used up
                        older[age + 1] = _add(older[age + 1], through_cell)
                    older[age] = _add(older[age], passed)  # a frozen step does not count against the horizon
                ages = older
        if not need_input_grad:
            return None
        return grad_x if time_major else np.ascontiguousarray(grad_x.transpose(1, 0, 2))

    def _step_backward(self, t, grad_output, grad_state, mask, caches, grad_x):
        """One step back through the cell: adds dL/dx_t into grad_x[t] and the step's parameter gradients into the
        cell's grads; returns (the gradient of state_{t-1} through the cell, the part passed around it)."""
        if mask is None:
            grad_input, through_cell = self.cell.backward(grad_output, grad_state, caches[t])
            grad_x[t] += grad_input
            return through_cell, tuple(np.zeros_like(g) for g in grad_state)
        keep = mask[t][:, None].astype(self.dtype)
        grad_input, through_cell = self.cell.backward(grad_output * keep, tuple(g * keep for g in grad_state),
                                                      caches[t])
        grad_x[t] += grad_input
        return through_cell, tuple(g * (1 - keep) for g in grad_state)

    def _grad_outputs(self, grad_out, last, steps, batch, time_major):
        """dL/dy_t for every step, time-major: the given gradient, or with return_sequences=False zeros but at each
        sequence's last real step (last)."""
        size = self.cell.output_size
        if not self.return_sequences:
            grad_out = as_gradient("grad_out", grad_out, (batch, size), self.dtype)
            grad = np.zeros((steps, batch, size), dtype=self.dtype)
            grad[last, np.arange(batch)] = grad_out
            return grad
        expected = (steps, batch, size) if time_major else (batch, steps, size)
        grad_out = as_gradient("grad_out", grad_out, expected, self.dtype)
        return grad_out if time_major else grad_out.transpose(1, 0, 2)


def _add(total, more):
    return tuple(a + b for a, b in zip(total, more))
