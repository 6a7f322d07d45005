"""numrnn.functional: each activation against its textbook formula, each derivative against central differences,
softmax and log-softmax exact for extreme logits."""
import numpy as np
import pytest

from numrnn import functional as F

TEXTBOOK = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0),
            "linear": lambda z: z}


@pytest.mark.parametrize("name", F.ACTIVATIONS)
def test_activation_matches_its_formula_in_and_out_of_place(name, rng):
    z = rng.standard_normal((4, 5)) * 3
    expected = TEXTBOOK[name](z)
    np.testing.assert_allclose(F.activate(name, z), expected, rtol=1e-14, atol=1e-15)
    inplace = z.copy()
    assert F.activate(name, inplace, out=inplace) is inplace
    np.testing.assert_allclose(inplace, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", F.ACTIVATIONS)
def test_derivative_from_the_output_matches_central_differences(name, rng):
    z = rng.standard_normal(50) * 2
    z = z[np.abs(z) > 1e-3]  # relu has no derivative at 0
    eps = 1e-6
    numeric = (TEXTBOOK[name](z + eps) - TEXTBOOK[name](z - eps)) / (2 * eps)
    np.testing.assert_allclose(F.derivative(name, F.activate(name, z)), numeric, rtol=1e-7, atol=1e-9)


def test_sigmoid_does_not_overflow_and_is_exact_to_an_absolute_1e_16():
    z = np.array([-1e4, -50.0, -5.0, 0.0, 50.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = F.sigmoid(z)
    np.testing.assert_allclose(y, [0.0, 1.9287498479639178e-22, 0.0066928509242848554, 0.5, 1.0, 1.0], rtol=0,
                               atol=1e-16)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation must be one of"):
        F.activate("swish", np.zeros(2))
    with pytest.raises(ValueError, match="activation must be one of"):
        F.derivative("swish", np.zeros(2))


def test_softmax_and_log_softmax_for_extreme_logits():
    z = np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        probs, logs = F.softmax(z), F.log_softmax(z)
    np.testing.assert_allclose(probs, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-15)
    np.testing.assert_allclose(logs, [[0, -1e4, -2e4], [-np.log(3)] * 3], rtol=1e-14)


def test_softmax_backward_matches_central_differences(rng):
    z, grad_y = rng.standard_normal(6), rng.standard_normal(6)
    eps, numeric = 1e-6, np.zeros(6)
    for i in range(6):
        step = np.zeros(6)
        step[i] = eps
        numeric[i] = (grad_y @ F.softmax(z + step) - grad_y @ F.softmax(z - step)) / (2 * eps)
    np.testing.assert_allclose(F.softmax_backward(F.softmax(z), grad_y), numeric, rtol=1e-7, atol=1e-10)
