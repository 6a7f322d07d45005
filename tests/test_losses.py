"""Losses: exact values on hand-sized examples, gradients against central differences, stability, checks, torch."""
import json
import math

import numpy as np
import pytest

from numrnn.gradient_check import numerical_gradient, relative_error
from numrnn.losses import BinaryCrossEntropy, CrossEntropy, MeanSquaredError, get_loss

SHAPE = (3, 4, 5)  # batch, time, classes/features: positions are the (batch, time) pairs


def _rng(seed=0):
    return np.random.default_rng(seed)


def _mask(seed=1):
    mask = _rng(seed).random(SHAPE[:-1]) < 0.6
    mask[0, 0], mask[0, 1] = True, False  # at least one kept and one dropped position
    return mask


def _targets(kind, seed=2):
    rng = _rng(seed)
    if kind == "index":
        return rng.integers(0, SHAPE[-1], SHAPE[:-1])
    if kind == "onehot":
        return np.eye(SHAPE[-1])[rng.integers(0, SHAPE[-1], SHAPE[:-1])]
    if kind == "probabilities":
        rows = rng.random(SHAPE)
        return rows / rows.sum(axis=-1, keepdims=True)
    if kind == "binary":
        return (rng.random(SHAPE) < 0.5).astype(np.float64)
    if kind == "soft":
        return rng.random(SHAPE)
    return rng.standard_normal(SHAPE)  # regression


CASES = [(MeanSquaredError, "real"), (CrossEntropy, "index"), (CrossEntropy, "onehot"),
         (CrossEntropy, "probabilities"), (BinaryCrossEntropy, "binary"), (BinaryCrossEntropy, "soft")]


# -- gradients -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("loss_class, target_kind", CASES, ids=[f"{c.__name__}-{k}" for c, k in CASES])
def test_backward_matches_central_differences(loss_class, target_kind, masked, reduction):
    loss = loss_class(reduction=reduction)
    output = _rng(3).standard_normal(SHAPE) * 2
    target = _targets(target_kind)
    mask = _mask() if masked else None
    loss.forward(output, target, mask)
    analytic = loss.backward().copy()
    numeric = numerical_gradient(lambda: loss.forward(output, target, mask), output)
    assert relative_error(analytic, numeric) < 1e-6


@pytest.mark.parametrize("loss_class, target_kind", CASES, ids=[f"{c.__name__}-{k}" for c, k in CASES])
def test_gradient_is_zero_at_masked_out_positions(loss_class, target_kind):
    loss = loss_class()
    mask = _mask()
    loss.forward(_rng(3).standard_normal(SHAPE), _targets(target_kind), mask)
    grad = loss.backward()
    assert np.all(grad[~mask] == 0)
    assert np.any(grad[mask] != 0)


@pytest.mark.parametrize("loss_class, target_kind", CASES, ids=[f"{c.__name__}-{k}" for c, k in CASES])
def test_float32_output_gives_float32_gradient_and_prediction(loss_class, target_kind):
    loss = loss_class()
    output = _rng(3).standard_normal(SHAPE).astype(np.float32)
    value = loss.forward(output, _targets(target_kind))  # float64 targets must not upcast the gradient
    assert isinstance(value, float)
    assert loss.backward().dtype == np.float32
    assert loss.predict(output).dtype == np.float32


def test_backward_twice_returns_the_same_gradient():
    loss = CrossEntropy()
    loss.forward(_rng(3).standard_normal(SHAPE), _targets("index"))
    first = loss.backward().copy()
    np.testing.assert_array_equal(loss.backward(), first)


# -- exact values --------------------------------------------------------------------------------------------------

def test_mse_mean_and_sum_on_hand_example():
    output = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.0], [1.0, 1.0]])  # differences 1, 0, 2, 4: squares sum to 21 over 4 elements
    mean = MeanSquaredError()
    assert mean.forward(output, target) == pytest.approx(21 / 4, abs=1e-15)
    np.testing.assert_allclose(mean.backward(), [[0.5, 0.0], [1.0, 2.0]], atol=1e-15)  # 2 (o - y) / 4
    total = MeanSquaredError("sum")
    assert total.forward(output, target) == pytest.approx(21.0, abs=1e-15)
    np.testing.assert_allclose(total.backward(), [[2.0, 0.0], [4.0, 8.0]], atol=1e-15)


def test_mse_mean_with_mask_averages_over_kept_elements_only():
    output = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss = MeanSquaredError()
    assert loss.forward(output, target, np.array([True, False])) == pytest.approx(1 / 2, abs=1e-15)
    np.testing.assert_allclose(loss.backward(), [[1.0, 0.0], [0.0, 0.0]], atol=1e-15)


def test_cross_entropy_on_hand_example():
    # softmax([0, ln 3]) = [1/4, 3/4]: -log(3/4) for class 1, -log(1/4) for class 0
    output = np.array([[0.0, math.log(3)], [0.0, math.log(3)]])
    target = np.array([1, 0])
    mean = CrossEntropy()
    assert mean.forward(output, target) == pytest.approx((math.log(4 / 3) + math.log(4)) / 2, rel=1e-14)
    np.testing.assert_allclose(mean.backward(), [[1 / 8, -1 / 8], [-3 / 8, 3 / 8]], atol=1e-15)
    total = CrossEntropy("sum")
    assert total.forward(output, target) == pytest.approx(math.log(16 / 3), rel=1e-14)
    np.testing.assert_allclose(total.backward(), [[1 / 4, -1 / 4], [-3 / 4, 3 / 4]], atol=1e-15)


def test_cross_entropy_one_hot_rows_equal_class_indices():
    output = _rng(3).standard_normal(SHAPE)
    indices = _targets("index")
    by_index, by_row = CrossEntropy(), CrossEntropy()
    assert by_row.forward(output, np.eye(SHAPE[-1])[indices]) == pytest.approx(by_index.forward(output, indices),
                                                                                 rel=1e-14)
    np.testing.assert_allclose(by_row.backward(), by_index.backward(), atol=1e-16)


def test_cross_entropy_mean_with_mask_divides_by_kept_positions():
    output = np.array([[0.0, math.log(3)], [0.0, math.log(3)], [5.0, -5.0]])
    loss = CrossEntropy()
    value = loss.forward(output, np.array([1, 0, 1]), np.array([True, True, False]))
    assert value == pytest.approx((math.log(4 / 3) + math.log(4)) / 2, rel=1e-14)


def test_binary_cross_entropy_on_hand_example():
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4
    output = np.array([[0.0, math.log(3), math.log(3)]])
    target = np.array([[1.0, 0.0, 1.0]])
    expected = [math.log(2), math.log(4), math.log(4 / 3)]
    mean = BinaryCrossEntropy()
    assert mean.forward(output, target) == pytest.approx(sum(expected) / 3, rel=1e-14)
    np.testing.assert_allclose(mean.backward(), [[-1 / 6, 1 / 4, -1 / 12]], atol=1e-15)  # (sigmoid - y) / 3
    assert BinaryCrossEntropy("sum").forward(output, target) == pytest.approx(sum(expected), rel=1e-14)


# -- stability -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_is_exact_at_logits_of_1e4(dtype):
    output = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4]], dtype=dtype)
    loss = CrossEntropy("sum")
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact here
        value = loss.forward(output, np.array([1, 1, 0]))  # -log softmax: 2e4, 0, log 2
        grad = loss.backward()
    assert value == pytest.approx(2e4 + math.log(2), rel=1e-7)
    np.testing.assert_allclose(grad, [[1.0, -1.0], [0.0, 0.0], [-0.5, 0.5]], atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binary_cross_entropy_is_exact_at_logits_of_1e4(dtype):
    output = np.array([[1e4, -1e4, 1e4, -1e4]], dtype=dtype)
    loss = BinaryCrossEntropy("sum")
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact here
        value = loss.forward(output, np.array([[0.0, 1.0, 1.0, 0.0]]))  # 1e4, 1e4, 0, 0
        grad = loss.backward()
    assert value == pytest.approx(2e4, rel=1e-7)
    np.testing.assert_array_equal(grad, [[1.0, -1.0, 0.0, 0.0]])


def test_predictions_are_finite_at_logits_of_1e4():
    output = np.array([[1e4, -1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is exact here
        np.testing.assert_array_equal(CrossEntropy().predict(output), [[1.0, 0.0]])
        np.testing.assert_array_equal(BinaryCrossEntropy().predict(output), [[1.0, 0.0]])


# -- predict and accuracy ------------------------------------------------------------------------------------------

def test_cross_entropy_predict_is_softmax_over_last_axis():
    output = _rng(3).standard_normal(SHAPE)
    expected = np.exp(output) / np.exp(output).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(CrossEntropy().predict(output), expected, rtol=1e-14)


def test_binary_cross_entropy_predict_is_sigmoid():
    output = _rng(3).standard_normal(SHAPE)
    np.testing.assert_allclose(BinaryCrossEntropy().predict(output), 1 / (1 + np.exp(-output)), rtol=1e-14)


def test_mse_predict_returns_output_unchanged():
    output = _rng(3).standard_normal(SHAPE)
    assert MeanSquaredError().predict(output) is output


def test_is_classification_flags():
    assert CrossEntropy.is_classification and BinaryCrossEntropy.is_classification
    assert not MeanSquaredError.is_classification


def test_cross_entropy_accuracy_counts_argmax_matches_with_index_and_one_hot_targets():
    output = np.array([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0], [0.0, 3.0, 1.0], [1.0, 0.0, 0.0]])
    target = np.array([0, 2, 2, 1])  # right, right, wrong, wrong
    assert CrossEntropy().accuracy(output, target) == 0.5
    assert CrossEntropy().accuracy(output, np.eye(3)[target]) == 0.5
    assert CrossEntropy().accuracy(output, target, np.array([True, True, True, False])) == pytest.approx(2 / 3)


def test_binary_cross_entropy_accuracy_thresholds_every_element_at_one_half():
    output = np.array([[2.0, -1.0], [0.5, -3.0]])  # sigmoid > 0.5 where the logit is positive
    target = np.array([[1.0, 0.0], [0.0, 1.0]])  # right, right, wrong, wrong
    assert BinaryCrossEntropy().accuracy(output, target) == 0.5
    assert BinaryCrossEntropy().accuracy(output, target, np.array([True, False])) == 1.0


def test_mse_accuracy_is_none():
    assert MeanSquaredError().accuracy(np.zeros((2, 1)), np.zeros((2, 1))) is None


# -- targets at masked-out positions -------------------------------------------------------------------------------

def test_masked_out_positions_may_hold_any_target():
    output = _rng(3).standard_normal(SHAPE)
    mask = _mask()
    indices = _targets("index")
    padded = np.where(mask, indices, -100)  # torch's ignore_index at padding
    loss = CrossEntropy()
    assert loss.forward(output, padded, mask) == loss.forward(output, indices, mask)
    values = _targets("real")
    padded = np.where(mask[..., None], values, np.nan)
    assert MeanSquaredError().forward(output, padded, mask) == MeanSquaredError().forward(output, values, mask)


# -- argument checks -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss_class", [MeanSquaredError, CrossEntropy, BinaryCrossEntropy])
def test_unknown_reduction_is_rejected(loss_class):
    with pytest.raises(ValueError, match=r"reduction must be one of \['mean', 'sum'\], got 'avg'"):
        loss_class(reduction="avg")


@pytest.mark.parametrize("loss_class", [MeanSquaredError, BinaryCrossEntropy])
def test_target_of_wrong_shape_is_rejected(loss_class):
    with pytest.raises(ValueError, match=r"y must have shape \(3, 4, 5\) to match the output, got \(3, 4\)"):
        loss_class().forward(np.zeros(SHAPE), np.zeros(SHAPE[:-1]))


def test_cross_entropy_target_of_wrong_shape_names_both_accepted_shapes():
    with pytest.raises(ValueError, match=r"y must have shape \(3, 4\) \(class indices\) or \(3, 4, 5\).*got \(3, 5\)"):
        CrossEntropy().forward(np.zeros(SHAPE), np.zeros((3, 5), dtype=int))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("loss_class, target_kind", CASES, ids=[f"{c.__name__}-{k}" for c, k in CASES])
def test_non_finite_target_is_rejected(loss_class, target_kind, bad):
    target = _targets(target_kind).astype(np.float64)
    target[(1, 2) + (0,) * (target.ndim - 2)] = bad
    with pytest.raises((ValueError, TypeError), match=r"y must (be finite|hold integer class indices), found"):
        loss_class().forward(np.zeros(SHAPE), target)


@pytest.mark.parametrize("loss_class", [MeanSquaredError, CrossEntropy, BinaryCrossEntropy])
def test_non_numeric_target_is_rejected(loss_class):
    with pytest.raises(TypeError, match=r"y must hold"):
        loss_class().forward(np.zeros((2, 3)), np.array([["a", "b", "c"], ["d", "e", "f"]]))


@pytest.mark.parametrize("index", [5, -1])
def test_class_index_out_of_range_is_rejected(index):
    target = np.zeros(SHAPE[:-1], dtype=int)
    target[2, 3] = index
    with pytest.raises(ValueError, match=rf"y must hold class indices in \[0, 5\), found {index} at index \(2, 3\)"):
        CrossEntropy().forward(np.zeros(SHAPE), target)


def test_fractional_class_index_is_rejected():
    with pytest.raises(TypeError, match=r"y must hold integer class indices, found 1.5"):
        CrossEntropy().forward(np.zeros((2, 3)), np.array([0.0, 1.5]))


def test_float_class_indices_holding_whole_numbers_are_accepted():
    assert CrossEntropy().check_target(np.array([0.0, 2.0]), (2, 3)).dtype == np.int64


def test_cross_entropy_rows_not_summing_to_one_are_rejected():
    two_hot = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])  # the defect of seed 000's last target
    with pytest.raises(ValueError, match=r"y rows must be one-hot or probabilities summing to 1, row \(0,\) sums"):
        CrossEntropy().forward(np.zeros((2, 3)), two_hot)


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_binary_target_outside_unit_interval_is_rejected(value):
    with pytest.raises(ValueError, match=rf"y must hold values in \[0, 1\], found {value} at index \(1, 0\)"):
        BinaryCrossEntropy().forward(np.zeros((2, 2)), np.array([[0.0, 1.0], [value, 0.0]]))


def test_mask_of_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"mask must have shape \(3, 4\) .* got \(3, 5\)"):
        MeanSquaredError().forward(np.zeros(SHAPE), np.zeros(SHAPE), np.ones((3, 5), dtype=bool))


def test_non_boolean_mask_is_rejected():
    with pytest.raises(TypeError, match=r"mask must be a boolean array, got dtype int64"):
        MeanSquaredError().forward(np.zeros(SHAPE), np.zeros(SHAPE), np.ones(SHAPE[:-1], dtype=np.int64))


def test_mask_keeping_nothing_is_rejected():
    with pytest.raises(ValueError, match=r"mask must keep at least one position"):
        CrossEntropy().forward(np.zeros(SHAPE), _targets("index"), np.zeros(SHAPE[:-1], dtype=bool))


def test_integer_output_is_rejected():
    with pytest.raises(TypeError, match=r"output must be a float32 or float64 array, got dtype int64"):
        MeanSquaredError().forward(np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2)))


def test_backward_before_forward_is_rejected():
    with pytest.raises(RuntimeError, match=r"CrossEntropy.backward called before forward"):
        CrossEntropy().backward()


def test_bad_target_raises_before_the_cache_changes():
    loss = MeanSquaredError()
    loss.forward(np.ones((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ValueError):
        loss.forward(np.ones((2, 2)), np.full((2, 2), np.nan))
    np.testing.assert_array_equal(loss.backward(), np.full((2, 2), 0.5))  # 2 (1 - 0) / 4, the first forward


def test_check_target_keeps_the_dtype_of_float_targets_without_a_dtype():
    target = np.zeros((2, 3), dtype=np.float32)
    assert MeanSquaredError().check_target(target, (2, 3)).dtype == np.float32
    assert BinaryCrossEntropy().check_target(np.zeros((2, 3), dtype=bool), (2, 3)).dtype == np.float64


# -- registry and config -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("mse", MeanSquaredError), ("mean_squared_error", MeanSquaredError),
    ("cross_entropy", CrossEntropy), ("categorical_crossentropy", CrossEntropy), ("CE", CrossEntropy),
    ("binary_cross_entropy", BinaryCrossEntropy), ("bce", BinaryCrossEntropy),
    ("binary_crossentropy", BinaryCrossEntropy),
])
def test_get_loss_knows_every_name(name, expected):
    assert type(get_loss(name)) is expected


def test_get_loss_returns_an_instance_as_is():
    loss = CrossEntropy("sum")
    assert get_loss(loss) is loss


def test_get_loss_passes_keyword_arguments():
    assert get_loss("bce", reduction="sum").reduction == "sum"


def test_get_loss_rejects_unknown_names_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; known names: .*bce.*mse"):
        get_loss("hinge")


@pytest.mark.parametrize("loss", [MeanSquaredError("sum"), CrossEntropy(), BinaryCrossEntropy("sum")])
def test_config_survives_json_and_rebuilds_the_same_loss(loss):
    rebuilt = get_loss(json.loads(json.dumps(loss.config())))
    assert type(rebuilt) is type(loss) and rebuilt.reduction == loss.reduction
    assert rebuilt.config() == loss.config() == {"name": loss.name, "reduction": loss.reduction}


# -- parity with torch ---------------------------------------------------------------------------------------------

def _torch_value_and_grad(torch, function, output, *args, **kwargs):
    logits = torch.tensor(output, dtype=torch.float64, requires_grad=True)
    value = function(logits, *args, **kwargs)
    value.backward()
    return value.item(), logits.grad.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("target_kind", ["index", "probabilities"])
def test_cross_entropy_matches_torch(target_kind, reduction):
    torch = pytest.importorskip("torch")
    output = _rng(3).standard_normal(SHAPE) * 3
    target = _targets(target_kind)
    loss = CrossEntropy(reduction)
    value, grad = loss.forward(output, target), loss.backward()
    flat_target = torch.tensor(target.reshape(-1) if target_kind == "index" else target.reshape(-1, SHAPE[-1]))
    expected, expected_grad = _torch_value_and_grad(
        torch, lambda z: torch.nn.functional.cross_entropy(z.reshape(-1, SHAPE[-1]), flat_target,
                                                           reduction=reduction), output)
    assert value == pytest.approx(expected, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


def test_masked_cross_entropy_matches_torch_ignore_index():
    torch = pytest.importorskip("torch")
    output, mask = _rng(3).standard_normal(SHAPE), _mask()
    target = _targets("index")
    loss = CrossEntropy()
    value, grad = loss.forward(output, target, mask), loss.backward()
    ignored = torch.tensor(np.where(mask, target, -100).reshape(-1))
    expected, expected_grad = _torch_value_and_grad(
        torch, lambda z: torch.nn.functional.cross_entropy(z.reshape(-1, SHAPE[-1]), ignored, ignore_index=-100),
        output)
    assert value == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("loss_class, target_kind, torch_name", [
    (BinaryCrossEntropy, "soft", "binary_cross_entropy_with_logits"), (MeanSquaredError, "real", "mse_loss")])
def test_elementwise_losses_match_torch(loss_class, target_kind, torch_name, masked, reduction):
    torch = pytest.importorskip("torch")
    output, target = _rng(3).standard_normal(SHAPE) * 3, _targets(target_kind)
    mask = _mask() if masked else np.ones(SHAPE[:-1], dtype=bool)
    loss = loss_class(reduction)
    value, grad = loss.forward(output, target, mask), loss.backward()
    function = getattr(torch.nn.functional, torch_name)
    kept = torch.tensor(mask)
    expected, expected_grad = _torch_value_and_grad(
        torch, lambda z: function(z[kept], torch.tensor(target)[kept], reduction=reduction), output)
    assert value == pytest.approx(expected, rel=1e-10)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
