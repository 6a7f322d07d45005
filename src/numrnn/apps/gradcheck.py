"""The gradient check of a small recurrent layer, as `numrnn gradcheck` runs it: full BPTT and truncated.

    check_gradients(cell="lstm", layers=2)     {tensor: relative error}, hand-written backward against central
                                               differences (numrnn.gradient_check) on a float64 layer
    check_gradients(bptt_truncate=3)           against a brute-force truncated gradient instead (RNN only)
"""
import numpy as np

from ..gradient_check import gradcheck, truncated_gradcheck
from ..layers import LAYERS, RNN
from ..random import seed as seed_numrnn

__all__ = ["check_gradients", "available_cells"]

#: the recurrent layers a check can build, by the name the command line takes
CELLS = ("rnn", "lstm", "gru")


def available_cells():
    """The recurrent layers registered in this build, lower-case ("rnn", "lstm", "gru")."""
    return [name for name in CELLS if name.upper() in LAYERS]


def check_gradients(cell="rnn", nonlinearity=None, layers=1, hidden=4, input_size=3, steps=6, batch=2,
                    bptt_truncate=None, bidirectional=False, bias=True, return_sequences=True, seed=0):
    """Relative errors {tensor: error} between the hand-written gradients of a small float64 layer and central
    differences; see numrnn.gradcheck.

    With bptt_truncate=k the layer's gradient is, by design, not the derivative of its output: each output's
    gradient stops k steps back. It is then compared with numrnn.gradient_check.truncated_gradcheck's brute-force
    truncated gradient, which needs a single-layer, one-direction RNN.
    """
    rng = np.random.default_rng(seed)
    seed_numrnn(seed)
    if cell == "rnn":
        layer = RNN(input_size, hidden, num_layers=layers, nonlinearity=nonlinearity or "tanh", bias=bias,
                    bidirectional=bidirectional, return_sequences=return_sequences, bptt_truncate=bptt_truncate,
                    dtype="float64")
    else:
        if cell not in available_cells():
            raise ValueError(f"cell must be one of {available_cells()}, got {cell!r}")
        if nonlinearity is not None or bptt_truncate is not None:
            raise ValueError(f"{cell.upper()} has no nonlinearity or truncation options; leave out --nonlinearity "
                             f"and --bptt-truncate")
        layer = LAYERS.get(cell.upper())(input_size, hidden, num_layers=layers, bias=bias,
                                         bidirectional=bidirectional, return_sequences=return_sequences,
                                         dtype="float64")
    x = rng.standard_normal((batch, steps, input_size))
    if bptt_truncate is None:
        return gradcheck(layer, x, seed=seed)
    if layers != 1 or bidirectional:
        raise ValueError("--bptt-truncate is checked on a single-layer, one-direction RNN only (--layers 1, no "
                         "--bidirectional): the brute-force reference truncates one recurrence")
    return truncated_gradcheck(layer, x, seed=seed)
