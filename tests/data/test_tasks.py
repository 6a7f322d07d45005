"""The built-in datasets: shapes, dtypes, seeds that reproduce, and targets that follow the task's rule.
(The CSV column reader and the windowing that forecasting uses: tests/apps/test_forecast_series.py.)"""
import numpy as np
import pytest

import numrnn
from numrnn import data


# -- count_ones -------------------------------------------------------------------------------------------------------

def test_count_ones_shapes_dtype_and_values():
    X, y = data.count_ones(20, steps=10, seed=0)
    assert X.shape == (20, 10, 1) and y.shape == (20, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    assert set(np.unique(X)) <= {0.0, 1.0}


def test_count_ones_target_is_the_number_of_ones():
    X, y = data.count_ones(50, steps=7, seed=3, dtype="float64")
    np.testing.assert_array_equal(y[:, 0], X[:, :, 0].sum(axis=1))
    assert X.dtype == np.float64


def test_count_ones_bits_are_fair_coins():
    X, _ = data.count_ones(2000, steps=10, seed=1)
    assert abs(X.mean() - 0.5) < 0.02  # 20000 bits: standard error 0.0035


# -- mod3 -------------------------------------------------------------------------------------------------------------

def test_mod3_is_one_hot_and_the_target_is_the_next_symbol():
    X, y = data.mod3(30, steps=12, seed=0)
    assert X.shape == (30, 12, 3) and y.shape == (30, 12)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(y, (X.argmax(axis=-1) + 1) % 3)


def test_mod3_uses_every_symbol():
    X, _ = data.mod3(100, steps=10, seed=0)
    assert set(X.argmax(axis=-1).ravel()) == {0, 1, 2}


# -- sine -------------------------------------------------------------------------------------------------------------

def test_sine_windows_are_consecutive_integer_radians():
    X, y = data.sine(100, start=0)
    assert X.shape == (100, 50, 1) and y.shape == (100, 1)
    np.testing.assert_allclose(X[3, :, 0], np.sin(np.arange(3, 53)), atol=1e-7)
    np.testing.assert_allclose(y[3, 0], np.sin(53.0), atol=1e-7)


def test_sine_start_moves_the_stretch_of_the_wave():
    X, y = data.sine(5, start=1000, dtype="float64")
    np.testing.assert_allclose(X[0, 0, 0], np.sin(1000.0), rtol=0, atol=1e-15)
    np.testing.assert_allclose(y[-1, 0], np.sin(1004.0 + 50), rtol=0, atol=1e-15)


def test_sine_window_length_can_change():
    X, y = data.sine_windows([0, 10], window=5)
    assert X.shape == (2, 5, 1)
    np.testing.assert_allclose(y[1, 0], np.sin(15.0), atol=1e-7)


@pytest.mark.parametrize("start", [-1, 1.5, True])
def test_sine_rejects_a_bad_start(start):
    with pytest.raises(ValueError, match="start"):
        data.sine(3, start=start)


# -- mult_series ------------------------------------------------------------------------------------------------------

def test_mult_series_shapes_and_one_hot_inputs():
    X, y = data.mult_series(40, seed=0)
    assert X.shape == (40, 10, 61) and y.shape == (40, 10)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X.sum(axis=-1), 1.0)


def test_mult_series_inputs_are_s_2s_to_10s():
    X, _ = data.mult_series(40, seed=0)
    values = X.argmax(axis=-1)
    starts = values[:, 0]
    assert set(starts) <= {2, 3, 4, 5, 6}
    np.testing.assert_array_equal(values, starts[:, None] * np.arange(1, 11))


def test_mult_series_target_is_the_next_element_then_the_end_marker():
    X, y = data.mult_series(40, seed=0)
    values = X.argmax(axis=-1)
    np.testing.assert_array_equal(y[:, :-1], values[:, 1:])
    np.testing.assert_array_equal(y[:, -1], data.END_MARKER)
    assert data.END_MARKER == 1 and not np.any(values == 1)  # 1 is never an element: the marker is unambiguous


def test_mult_series_has_exactly_five_distinct_sequences():
    X, _ = data.mult_series(3000, seed=0)
    assert len({tuple(row) for row in X.argmax(axis=-1)}) == 5


# -- seeds ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda s: data.count_ones(10, 5, seed=s), lambda s: data.mod3(10, 5, seed=s),
                                  lambda s: data.mult_series(10, seed=s)], ids=["count_ones", "mod3", "mult_series"])
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(make):
    first, again, other = make(7), make(7), make(8)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_no_seed_follows_numrnn_seed():
    numrnn.seed(5)
    first = data.mod3(10, 5)
    numrnn.seed(5)
    np.testing.assert_array_equal(first[0], data.mod3(10, 5)[0])


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_sizes_must_be_positive_integers(bad):
    with pytest.raises((ValueError, TypeError), match="n must be a positive integer"):
        data.count_ones(bad)


def test_a_seed_must_be_an_integer():
    with pytest.raises(TypeError, match="seed must be an integer"):
        data.mod3(5, seed="zero")
