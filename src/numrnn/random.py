"""The one random generator behind numrnn: weights, dropout and shuffling all draw from it.

`numrnn.seed(s)` resets it, so the same seed gives the same weights and the same training.
"""
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
