"""The contract every recurrent cell keeps: one time step, batch-major, forward and backward written by hand."""
import numpy as np

from .._validate import check_positive_int
from ..module import Module
from ..random import uniform


class Cell(Module):
    """One time step of a recurrent network. numrnn.Recurrent(cell) runs it over a sequence: check_step once, then
    forward at every step and backward at every step in reverse; the cell itself knows nothing of time.

    To write your own, subclass Cell and define:

    __init__(self, input_size, hidden_size, *, ..., dtype="float32")
        Sizes positional, every other argument keyword-only. super().__init__(input_size, hidden_size, dtype=dtype)
        sets input_size, hidden_size, state_size = (hidden_size,) and output_size = hidden_size (set the last two
        after it if your cell differs). Declare each parameter with self.add_param(name, array): it then appears
        in params, in grads (zeros of its shape) and in state_dict.

    forward(x, state) -> (output, new_state, cache)
        x (batch, input_size); state a tuple with one array (batch, state_size[k]) per entry of state_size.
        output (batch, output_size); new_state a tuple like state; cache whatever backward needs. forward must
        not change x or state, and must return arrays of its own (the caller keeps them); one array may serve
        as both output and a state. The cache may hold x and state: the caller leaves them as they are.

    backward(grad_output, grad_new_state, cache) -> (grad_x, grad_state)
        grad_output = dL/d output (batch, output_size); grad_new_state a tuple of arrays shaped like new_state,
        dL/d new_state (zeros where nothing flows: always arrays). Returns dL/dx and the tuple dL/d state, and
        ADDS the step's parameter gradients into self.grads[name] (+=): a sequence's steps sum there, and the
        layer that loops over time calls zero_grad() before its backward loop. Must not change its arguments.

    config() -> dict
        The constructor's arguments, JSON-able (dtype as np.dtype(self.dtype).name), so that
        type(cell).from_config(cell.config()) builds the same cell and clone() copies one.

    Given here: initial_state(batch), check_step(x, state), and Module's params, grads, zero_grad, state_dict,
    load_state_dict, clone and repr. numrnn.gradcheck(cell, x) checks a backward against central differences.

    Cells in torch's layout, G gate blocks stacked in the rows of weight_ih (G*H, input_size), weight_hh
    (G*H, H), bias_ih and bias_hh (G*H,), share three helpers: add_gate_params, gate_params, add_gate_grads.
    """

    def __init__(self, input_size, hidden_size, *, dtype="float32"):
        super().__init__(dtype)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.state_size = (self.hidden_size,)
        self.output_size = self.hidden_size

    def forward(self, x, state):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x, state)")

    def backward(self, grad_output, grad_new_state, cache):
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad_output, grad_new_state, cache)")

    def initial_state(self, batch):
        """A tuple of zero arrays (batch, width), one per entry of state_size, in the cell's dtype."""
        batch = check_positive_int("batch", batch)
        return tuple(np.zeros((batch, width), dtype=self.dtype) for width in self.state_size)

    def check_step(self, x, state):
        """Raise ValueError or TypeError, naming the argument, unless forward can take (x, state). Called once per
        sequence, not per step, so forward itself checks nothing."""
        self._check_array("x", x)
        if x.ndim != 2:
            raise ValueError(f"x must have 2 dimensions (batch, input_size), got {x.ndim} (shape {x.shape})")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x.shape[-1] must be equal to input_size. Expected {self.input_size}, "
                             f"got {x.shape[-1]}")
        if not isinstance(state, tuple):
            raise TypeError(f"state must be a tuple of {len(self.state_size)} array(s), one per entry of "
                            f"state_size, got {type(state).__name__}")
        if len(state) != len(self.state_size):
            raise ValueError(f"len(state) must be equal to len(state_size). Expected {len(self.state_size)}, "
                             f"got {len(state)}")
        for k, (array, width) in enumerate(zip(state, self.state_size)):
            self._check_array(f"state[{k}]", array)
            if array.shape != (x.shape[0], width):
                raise ValueError(f"state[{k}].shape must be equal to (batch, state_size[{k}]). "
                                 f"Expected {(x.shape[0], width)}, got {array.shape}")

    def _check_array(self, name, array):
        if not isinstance(array, np.ndarray):
            raise TypeError(f"{name} must be a NumPy array, got {type(array).__name__}")
        if array.dtype != self.dtype:
            raise TypeError(f"{name}.dtype must be equal to the cell's dtype. Expected {np.dtype(self.dtype).name}, "
                            f"got {array.dtype}")

    # -- helpers for cells in torch's layout -------------------------------------------------------------------
    def add_gate_params(self, gates, bias):
        """Declare weight_ih (G*H, input_size), weight_hh (G*H, H) and, with bias, bias_ih and bias_hh (G*H,),
        each ~ U(-1/sqrt(H), 1/sqrt(H)) from numrnn's generator in this order: torch's initialisation, and the
        fast layers' draw order, so the same numrnn.seed gives a cell and a layer the same weights."""
        rows, bound = gates * self.hidden_size, 1.0 / np.sqrt(self.hidden_size)
        self.add_param("weight_ih", uniform(bound, (rows, self.input_size)))
        self.add_param("weight_hh", uniform(bound, (rows, self.hidden_size)))
        if bias:
            self.add_param("bias_ih", uniform(bound, rows))
            self.add_param("bias_hh", uniform(bound, rows))

    def gate_params(self):
        """(W_ih, W_hh, b_ih, b_hh): the parameters under short names; an absent bias is 0.0, which adds nothing."""
        params = self.params
        return params["weight_ih"], params["weight_hh"], params.get("bias_ih", 0.0), params.get("bias_hh", 0.0)

    def add_gate_grads(self, x, hidden, grad_ih, grad_hh):
        """Add into grads the parameter gradients of x @ W_ih.T + b_ih, given its gradient grad_ih (batch, G*H),
        and of hidden @ W_hh.T + b_hh, given grad_hh; a bias's gradient sums over the batch. hidden may be a tuple
        of G arrays, one per gate block, where the blocks of W_hh multiply different vectors (GRUCell with
        reset_after=False: r * hidden for n)."""
        self.grads["weight_ih"] += grad_ih.T @ x
        if isinstance(hidden, tuple):
            grad_blocks = np.split(self.grads["weight_hh"], len(hidden))  # views: += writes into grads
            for grad_block, grad, vector in zip(grad_blocks, np.split(grad_hh, len(hidden), axis=1), hidden):
                grad_block += grad.T @ vector
        else:
            self.grads["weight_hh"] += grad_hh.T @ hidden
        if "bias_ih" in self.grads:
            self.grads["bias_ih"] += grad_ih.sum(axis=0)
            self.grads["bias_hh"] += grad_hh.sum(axis=0)
