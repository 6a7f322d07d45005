"""numrnn's reference cells: one time step each, forward and backward side by side, to read beside the math.

RNNCell, LSTMCell and GRUCell have torch.nn.*Cell's parameters and math (a torch cell's state dict loads
unchanged); numrnn.Recurrent(cell) runs any cell over a sequence. Your own cell subclasses Cell, whose docstring
is the contract; registering it lets numrnn's files name it, and numrnn.gradcheck checks its backward:

    @numrnn.cells.register
    class LeakyCell(numrnn.cells.Cell):          # new_hidden = decay * hidden + x, for input_size == hidden_size
        def __init__(self, input_size, hidden_size, *, dtype="float32"):
            super().__init__(input_size, hidden_size, dtype=dtype)
            self.add_param("decay", np.full(hidden_size, 0.9))
        def forward(self, x, state):
            new_hidden = self.params["decay"] * state[0] + x
            return new_hidden, (new_hidden,), state[0]                      # cache: hidden
        def backward(self, grad_output, grad_new_state, hidden):
            grad_h = grad_output + grad_new_state[0]
            self.grads["decay"] += (grad_h * hidden).sum(axis=0)
            return grad_h, (grad_h * self.params["decay"],)
        def config(self):
            return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": np.dtype(self.dtype).name}

    numrnn.gradcheck(LeakyCell(4, 4, dtype="float64"), np.ones((2, 4)))   # {"decay": ..., "input": ..., "state0": ...}
"""
from ..registry import Registry
from .base import Cell
from .gru import GRUCell
from .lstm import LSTMCell
from .rnn import RNNCell

#: the cells numrnn can build from a name (its files, its command line)
CELLS = Registry("cell")
for _cell in (RNNCell, LSTMCell, GRUCell):
    CELLS.register(_cell)
del _cell

register = CELLS.register
get = CELLS.get

__all__ = ["CELLS", "Cell", "GRUCell", "LSTMCell", "RNNCell", "get", "register"]
