"""A mask shared by the mask tests."""
import numpy as np


def gappy_mask(steps=6):
    """(5, steps) booleans: front padding, a gap, trailing padding, an empty sequence, every other step."""
    mask = np.ones((5, steps), dtype=bool)
    mask[0, :2] = False
    mask[1, 2:4] = False
    mask[2, 4:] = False
    mask[3, :] = False
    mask[4, 1::2] = False
    return mask
