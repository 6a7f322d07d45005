"""Dense and Activation: central-difference gradient checks and torch parity."""
import numpy as np
import pytest

import numrnn
from numrnn.gradient_check import gradcheck


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3)])
def test_dense_gradients_match_central_differences(bias, shape, rng):
    layer = numrnn.Dense(3, 4, bias=bias, dtype="float64")
    errors = gradcheck(layer, rng.standard_normal(shape))
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("name", numrnn.Activation.NAMES)
def test_activation_gradients_match_central_differences(name, rng):
    x = rng.standard_normal((3, 4, 5))
    if name == "relu":
        x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink, where the derivative is undefined
    errors = gradcheck(numrnn.Activation(name, dtype="float64"), x)
    assert errors["input"] < 1e-6, errors


def test_softmax_rows_sum_to_one_and_survive_large_logits():
    out = numrnn.Activation("softmax", dtype="float64").forward(np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]]))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-15)
    assert np.isfinite(out).all() and out[0, 0] == 1.0


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="name must be one of"):
        numrnn.Activation("swish")


def test_dense_wrong_feature_size_names_expected_and_actual(rng):
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must be equal to 3, got 4"):
        numrnn.Dense(3, 2).forward(rng.standard_normal((5, 4)))


def test_dense_matches_torch_linear(rng):
    torch = pytest.importorskip("torch")
    reference = torch.nn.Linear(3, 4).double()
    layer = numrnn.Dense(3, 4, dtype="float64")
    layer.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    x = rng.standard_normal((2, 5, 3))
    grad_out = rng.standard_normal((2, 5, 4))
    x_torch = torch.tensor(x, requires_grad=True)
    out_torch = reference(x_torch)
    out_torch.backward(torch.tensor(grad_out))
    np.testing.assert_allclose(layer.forward(x), out_torch.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.backward(grad_out), x_torch.grad.numpy(), rtol=1e-12, atol=1e-14)
    for name, parameter in reference.named_parameters():
        np.testing.assert_allclose(layer.grads[name], parameter.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name, function", [("tanh", "tanh"), ("sigmoid", "sigmoid"), ("relu", "relu"),
                                            ("softmax", "softmax")])
def test_activation_matches_torch(name, function, rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((3, 6))
    grad_out = rng.standard_normal((3, 6))
    x_torch = torch.tensor(x, requires_grad=True)
    apply = getattr(torch, function)
    out_torch = apply(x_torch, dim=-1) if name == "softmax" else apply(x_torch)
    out_torch.backward(torch.tensor(grad_out))
    layer = numrnn.Activation(name, dtype="float64")
    np.testing.assert_allclose(layer.forward(x), out_torch.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.backward(grad_out), x_torch.grad.numpy(), rtol=1e-12, atol=1e-15)
