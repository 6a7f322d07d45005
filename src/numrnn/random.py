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
