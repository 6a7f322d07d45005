"""`numrnn gradcheck`: an error per tensor, truncated BPTT against its brute-force reference, exit status 1 past the
tolerance."""
import pytest

from ._helpers import assert_usage_error, run


def test_gradcheck_prints_an_error_per_tensor(capsys):
    status, out, _ = run(capsys, "gradcheck", "--nonlinearity", "tanh", "--layers", "2", "--hidden", "3",
                         "--steps", "4")
    assert status == 0
    for name in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l1", "input"):
        assert name in out
    assert "all 9 tensors within 1e-06" in out


def test_gradcheck_with_truncation_compares_with_the_truncated_gradient(capsys):
    status, out, _ = run(capsys, "gradcheck", "--nonlinearity", "sigmoid", "--bptt-truncate", "2", "--steps", "6")
    assert status == 0 and "truncated at 2" in out and "FAIL" not in out


def test_gradcheck_exits_1_when_an_error_exceeds_the_tolerance(capsys):
    status, out, _ = run(capsys, "gradcheck", "--hidden", "2", "--steps", "3", "--tolerance", "1e-30")
    assert status == 1 and "FAIL" in out and "exceed the tolerance" in out


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gradcheck_of_the_other_cells(capsys, cell):
    from numrnn.apps.gradcheck import available_cells

    if cell not in available_cells():
        pytest.skip(f"numrnn has no {cell.upper()} in this build")
    status, out, _ = run(capsys, "gradcheck", "--cell", cell, "--hidden", "3", "--steps", "4")
    assert status == 0 and f"{cell.upper()}," in out and "FAIL" not in out
    assert_usage_error(run(capsys, "gradcheck", "--cell", cell, "--nonlinearity", "relu"), "no nonlinearity")


def test_gradcheck_truncation_needs_one_layer(capsys):
    assert_usage_error(run(capsys, "gradcheck", "--layers", "2", "--bptt-truncate", "2"), "single-layer")
