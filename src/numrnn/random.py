"""The one random generator behind numrnn: weights, dropout and shuffling all draw from it.

`numrnn.seed(s)` resets it, so the same seed gives the same weights and the same training.
"""
import contextlib
import math
import threading

import numpy as np

_generator = np.random.default_rng()


def seed(value):
    """Reset numrnn's generator; every later initialisation, dropout mask and shuffle follows from `value`."""
    global _generator
    _generator = np.random.default_rng(value)


def get_rng():
    return _generator


def dropout_mask(shape, rate, dtype, generator=None):
    """Inverted dropout's multiplier: 1 / (1 - rate) where an element is kept (probability 1 - rate), else 0, so
    the expected output equals the input and evaluation needs no scaling. Drawn from `generator`, or from numrnn's
    generator if None; the fast recurrent layers and the Dropout layer draw the same way, so the same generator
    state gives the same mask."""
    keep = (generator or get_rng()).random(shape) >= rate
    return keep.astype(dtype) / dtype(1.0 - rate)


def get_state():
    """The state of numrnn's generator (a JSON-able dict), for a checkpoint."""
    return _generator.bit_generator.state


def set_state(state):
    """Put back a state from get_state(): the draws continue exactly where they were."""
    _generator.bit_generator.state = state


# -- initial weights, drawn within a budget ----------------------------------------------------------------------

_budget = threading.local()


@contextlib.contextmanager
def parameter_budget(elements):
    """Inside, initial weights drawn through uniform/normal may total at most `elements` numbers: numrnn.load
    builds a model from a file's sizes inside the budget of the arrays the file holds, so no size written in a file
    can make numrnn allocate more than the file itself holds."""
    previous = getattr(_budget, "left", None)
    _budget.left = int(elements)
    try:
        yield
    finally:
        _budget.left = previous


def _reserve(shape):
    left = getattr(_budget, "left", None)
    if left is None:
        return
    count = math.prod((shape,) if isinstance(shape, int) else shape)
    if count > left:
        raise ValueError(f"the architecture needs more parameters than the file holds (a tensor of shape {shape} "
                         f"with {left:,} numbers left)")
    _budget.left = left - count


def uniform(bound, shape):
    """Initial weights ~ U(-bound, bound) of `shape`, drawn from numrnn's generator (torch's default initialisation
    uses bound = 1 / sqrt(fan))."""
    _reserve(shape)
    return get_rng().uniform(-bound, bound, shape)


def normal(shape):
    """Initial weights ~ N(0, 1) of `shape`, drawn from numrnn's generator (torch's Embedding)."""
    _reserve(shape)
    return get_rng().standard_normal(shape)
