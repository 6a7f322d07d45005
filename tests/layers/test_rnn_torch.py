"""numrnn.RNN against torch.nn.RNN: a torch state dict loads unchanged and gives the same outputs and gradients."""
import numpy as np
import pytest

import numrnn

torch = pytest.importorskip("torch")


def torch_pair(nonlinearity, num_layers, bidirectional, bias, dtype):
    torch.manual_seed(0)
    reference = torch.nn.RNN(3, 5, num_layers=num_layers, nonlinearity=nonlinearity, bias=bias,
                             bidirectional=bidirectional, batch_first=True)
    reference = reference.double() if dtype == "float64" else reference.float()
    layer = numrnn.RNN(3, 5, num_layers=num_layers, nonlinearity=nonlinearity, bias=bias,
                       bidirectional=bidirectional, dtype=dtype)
    layer.load_state_dict({name: value.detach().numpy() for name, value in reference.state_dict().items()})
    return reference, layer


@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-4)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_outputs_and_gradients_match_torch(dtype, tolerance, nonlinearity, num_layers, bidirectional, bias):
    reference, layer = torch_pair(nonlinearity, num_layers, bidirectional, bias, dtype)
    rng = np.random.default_rng(1)
    dirs = 2 if bidirectional else 1
    x = rng.standard_normal((4, 6, 3)).astype(dtype)
    h0 = rng.standard_normal((num_layers * dirs, 4, 5)).astype(dtype)
    grad_out = rng.standard_normal((4, 6, 5 * dirs)).astype(dtype)

    x_torch = torch.tensor(x, requires_grad=True)
    out_torch, h_n_torch = reference(x_torch, torch.tensor(h0))
    out_torch.backward(torch.tensor(grad_out))

    out = layer.forward(x, h0=h0)
    grad_x = layer.backward(grad_out)

    def close(mine, theirs):
        theirs = theirs.detach().numpy()
        return np.linalg.norm(mine - theirs) <= tolerance * max(np.linalg.norm(theirs), 1.0)

    assert close(out, out_torch)
    assert close(layer.h_n, h_n_torch)
    assert close(grad_x, x_torch.grad)
    for name, parameter in reference.named_parameters():
        assert close(layer.grads[name], parameter.grad), name


def test_variable_lengths_match_packed_sequences():
    reference, layer = torch_pair("tanh", 2, True, True, "float64")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6, 3))
    lengths = np.array([4, 6, 2])
    grad_out = rng.standard_normal((3, 6, 10))
    grad_out[0, 4:] = 0
    grad_out[2, 2:] = 0

    x_torch = torch.tensor(x, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x_torch, torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out_packed, h_n_torch = reference(packed)
    out_torch, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=6)
    out_torch.backward(torch.tensor(grad_out))

    out = layer.forward(x, lengths=lengths)
    grad_x = layer.backward(grad_out)
    np.testing.assert_allclose(out, out_torch.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.h_n, h_n_torch.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad_x, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, parameter in reference.named_parameters():
        np.testing.assert_allclose(layer.grads[name], parameter.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
