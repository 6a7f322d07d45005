"""Gradient clipping: norm clipping rescales all arrays together, value clipping bounds each element."""
import math

import numpy as np
import pytest

from numrnn.clipping import clip_grad_norm, clip_grad_value


def _grads(dtype=np.float64):
    return {"a": np.array([3.0, 0.0], dtype=dtype), "b": np.array([[0.0, 4.0]], dtype=dtype)}  # global norm 5


def test_clip_grad_norm_returns_the_norm_before_clipping():
    assert clip_grad_norm(_grads(), 1.0) == 5.0


def test_clip_grad_norm_scales_every_array_to_max_norm():
    grads = _grads()
    clip_grad_norm(grads, 1.0)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(grads["a"], [3.0 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(grads["b"], [[0.0, 4.0 * scale]], rtol=1e-15)
    new_norm = math.sqrt(np.sum(grads["a"] ** 2) + np.sum(grads["b"] ** 2))
    assert new_norm == pytest.approx(1.0, abs=1e-6) and new_norm <= 1.0


def test_clip_grad_norm_changes_nothing_at_or_below_max_norm():
    grads = _grads()
    arrays = dict(grads)
    assert clip_grad_norm(grads, 5.0) == 5.0
    np.testing.assert_array_equal(grads["a"], [3.0, 0.0])
    np.testing.assert_array_equal(grads["b"], [[0.0, 4.0]])
    assert all(grads[name] is arrays[name] for name in grads)


def test_clip_grad_norm_works_in_place_and_keeps_float32():
    grads = _grads(np.float32)
    a = grads["a"]
    clip_grad_norm(grads, 1.0)
    assert grads["a"] is a and a.dtype == np.float32 and grads["b"].dtype == np.float32
    np.testing.assert_allclose(a, [0.6, 0.0], rtol=1e-6)


def test_clip_grad_norm_survives_float32_squares_that_overflow():
    grads = {"a": np.array([3e20, 4e20], dtype=np.float32)}  # squares exceed float32's 3.4e38
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5e20, rel=1e-6)
    np.testing.assert_allclose(grads["a"], [0.6, 0.8], rtol=1e-6)


def test_clip_grad_norm_leaves_non_finite_gradients_alone_and_reports_them():
    grads = {"a": np.array([np.inf, 1.0])}
    assert clip_grad_norm(grads, 1.0) == math.inf
    np.testing.assert_array_equal(grads["a"], [np.inf, 1.0])


def test_clip_grad_value_bounds_each_element_in_place():
    grads = {"a": np.array([-20.0, 5.0, 15.0]), "b": np.array([[10.0, -10.0]])}
    a = grads["a"]
    clip_grad_value(grads, 10)
    assert grads["a"] is a
    np.testing.assert_array_equal(a, [-10.0, 5.0, 10.0])
    np.testing.assert_array_equal(grads["b"], [[10.0, -10.0]])


def test_clip_grad_value_keeps_float32():
    grads = {"a": np.array([-20.0, 5.0], dtype=np.float32)}
    clip_grad_value(grads, 1.5)
    assert grads["a"].dtype == np.float32
    np.testing.assert_array_equal(grads["a"], [-1.5, 1.5])


@pytest.mark.parametrize("function, name", [(clip_grad_norm, "max_norm"), (clip_grad_value, "clip_value")])
@pytest.mark.parametrize("value", [0, -1.0, math.inf])
def test_non_positive_or_infinite_limit_is_rejected(function, name, value):
    with pytest.raises(ValueError, match=rf"{name} must be a positive finite number"):
        function(_grads(), value)


@pytest.mark.parametrize("function", [clip_grad_norm, clip_grad_value])
def test_grads_that_are_not_a_dict_of_float_arrays_are_rejected(function):
    with pytest.raises(TypeError, match=r"grads must be a dict of arrays, got list"):
        function([np.zeros(2)], 1.0)
    with pytest.raises(TypeError, match=r"grads\['a'\] must be a float NumPy array .*got dtype int64"):
        function({"a": np.zeros(2, dtype=np.int64)}, 1.0)
    with pytest.raises(TypeError, match=r"grads\['a'\] must be a float NumPy array .*got list"):
        function({"a": [1.0, 2.0]}, 1.0)


@pytest.mark.parametrize("max_norm", [0.5, 100.0], ids=["clipped", "unclipped"])
def test_clip_grad_norm_matches_torch(max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = {"weight": rng.standard_normal((4, 3)), "bias": rng.standard_normal(4), "h0": rng.standard_normal(2)}
    tensors = []
    for value in grads.values():
        tensor = torch.zeros(value.shape, dtype=torch.float64, requires_grad=True)
        tensor.grad = torch.tensor(value)
        tensors.append(tensor)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm).item()
    assert clip_grad_norm(grads, max_norm) == pytest.approx(expected, rel=1e-12)
    for value, tensor in zip(grads.values(), tensors):
        np.testing.assert_allclose(value, tensor.grad.numpy(), rtol=1e-12, atol=1e-15)
