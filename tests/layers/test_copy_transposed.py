"""copy_transposed, the transposing copy of W^T and of (T, B, H) gradients: equal to a plain copy on both of its paths
(whole, and in bands of source rows where rows lie a multiple of 1 KiB apart), for 2-D and 3-D arrays, views and
sizes that do not divide into bands."""
import numpy as np
import pytest

from numrnn.layers.layouts import TRANSPOSE_BAND, copy_transposed


@pytest.mark.parametrize("shape, dtype", [
    ((512, 128), np.float32),      # small: whole
    ((1030, 256), np.float32),     # rows 1 KiB apart, 1030 not a multiple of the band: banded
    ((4096, 1024), np.float32),    # W_hh^T of an LSTM of 1024 units: banded
    ((300, 384), np.float32),      # rows 1.5 KiB apart: whole
    ((7, 70, 512), np.float32),    # grad outputs (T, B, H): banded
    ((600, 128), np.float64),      # rows 1 KiB apart in float64: banded
])
def test_equals_a_plain_transposing_copy(shape, dtype):
    source = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out = np.full(shape[:-2] + shape[:-3:-1], np.nan, dtype)
    assert copy_transposed(out, source) is out
    np.testing.assert_array_equal(out, source.swapaxes(-1, -2))


def test_the_banded_path_is_taken_and_a_view_source_copies_right():
    # a (T, H, B) view of a wider buffer: rows 1 KiB apart, taken in bands
    wide = np.random.default_rng(1).standard_normal((5, 300, 256)).astype(np.float32)
    source = wide[:, :TRANSPOSE_BAND * 5 + 3]
    assert source.size >= 1 << 16 and source.strides[-2] % 1024 == 0
    out = np.empty((5, 256, source.shape[1]), np.float32)
    copy_transposed(out, source)
    np.testing.assert_array_equal(out, source.transpose(0, 2, 1))
