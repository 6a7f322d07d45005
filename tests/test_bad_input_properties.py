"""Property: whatever junk reaches numrnn's public API, a refusal is a ValueError or TypeError raised by numrnn
itself (its last traceback frame is in numrnn, not in NumPy) whose message names the argument. Junk: None, strings,
dicts, ragged lists, arrays of every dtype (complex, strings, objects, dates, durations, float16, bools) and rank,
empty arrays, NaN, inf and huge values, wrong sizes. A junk value that happens to be valid may simply work."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numrnn

PACKAGE = os.path.dirname(numrnn.__file__)
DTYPES = ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128", "U3", "O",
          "datetime64[s]", "timedelta64[s]"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COUNTS = {"calls": 0, "refused": 0}


@st.composite
def arrays(draw, shapes=None):
    shape = draw(shapes) if shapes is not None else tuple(draw(st.lists(st.integers(0, 4), max_size=4)))
    dtype = draw(st.sampled_from(DTYPES))
    values = draw(st.sampled_from(["normal", "ids", "nan", "inf", "huge", "negative"]))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    base = {"normal": rng.standard_normal(shape), "ids": rng.integers(0, 3, shape).astype(float),
            "nan": np.full(shape, np.nan), "inf": np.full(shape, -np.inf), "huge": np.full(shape, 1e300),
            "negative": -rng.integers(1, 5, shape).astype(float)}[values]
    if dtype in ("U3", "O"):
        return base.astype(str).astype(dtype)
    if dtype.startswith(("datetime", "timedelta")):
        return np.zeros(shape, dtype=dtype)
    with np.errstate(all="ignore"):
        return base.astype(dtype)


junk = st.one_of(st.none(), st.text(max_size=3), st.just({"a": 1}), st.just([[1, 2], [3]]), st.just([1.0, "x"]),
                 st.floats(allow_nan=True), st.integers(-5, 10 ** 20), arrays(),
                 arrays(st.sampled_from([(4, 5, 3), (4, 5), (4,), (4, 5, 1), (4, 5, 4)])))


def check_refusal(call, *names):
    """Run call(); if it raises, the error must be numrnn's ValueError/TypeError naming one of `names`."""
    COUNTS["calls"] += 1
    try:
        call()
    except (ValueError, TypeError) as error:
        COUNTS["refused"] += 1
        frame = error.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        where = frame.tb_frame.f_code.co_filename
        assert where.startswith(PACKAGE), f"{type(error).__name__} raised outside numrnn, in {where}: {error}"
        assert any(name in str(error) for name in names), f"{error!r} does not name {names}"
    except FloatingPointError:
        pass  # junk values (1e300) may diverge: the guard's own message
    except Exception as error:  # noqa: BLE001 (the property: nothing else escapes)
        pytest.fail(f"{type(error).__name__} escaped: {error}")


def classifier():
    numrnn.seed(0)
    return numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 3)], loss="cross_entropy",
                             optimizer=numrnn.Adam(lr=0.01))


X = np.eye(3)[np.random.default_rng(0).integers(0, 3, (4, 5))]
Y = np.random.default_rng(1).integers(0, 3, (4, 5))


@SETTINGS
@given(value=junk)
def test_fit_refuses_junk_naming_it(value):
    check_refusal(lambda: classifier().fit(value, Y, epochs=1), "X", "y")  # y: does not fit what X gives
    check_refusal(lambda: classifier().fit(X, value, epochs=1), "y")
    check_refusal(lambda: classifier().fit(X, Y, epochs=1, lengths=value), "lengths")
    if not (isinstance(value, int) and value > 2):  # a valid count of epochs trains, for as long as it says
        check_refusal(lambda: classifier().fit(X, Y, epochs=value), "epochs")
        check_refusal(lambda: classifier().fit(X, Y, batch_size=value), "batch_size")


@SETTINGS
@given(value=junk)
def test_predict_evaluate_and_train_on_batch_refuse_junk_naming_it(value):
    check_refusal(lambda: classifier().predict(value), "X")
    check_refusal(lambda: classifier().evaluate(X, value), "y")
    check_refusal(lambda: classifier().evaluate(value, Y), "X", "y")  # y: does not fit what X gives
    check_refusal(lambda: classifier().train_on_batch(value, Y), "X", "y")
    check_refusal(lambda: classifier().train_on_batch(X, Y, lengths=value), "lengths")
    check_refusal(lambda: classifier().predict(X, batch_size=value), "batch_size")


LAYERS = {
    "RNN": lambda: numrnn.RNN(3, 4), "LSTM": lambda: numrnn.LSTM(3, 4, bidirectional=True),
    "GRU": lambda: numrnn.GRU(3, 4, return_sequences=False),
    "Recurrent": lambda: numrnn.Recurrent(numrnn.cells.LSTMCell(3, 4)),
    "Bidirectional": lambda: numrnn.Bidirectional(numrnn.Recurrent(numrnn.cells.GRUCell(3, 4))),
    "Dense": lambda: numrnn.Dense(3, 4), "Activation": lambda: numrnn.Activation("tanh"),
    "Dropout": lambda: numrnn.Dropout(0.5), "Embedding": lambda: numrnn.Embedding(3, 4),
    "OneHot": lambda: numrnn.OneHot(3),
}
INPUTS = {"Embedding": Y % 3, "OneHot": Y % 3}


@SETTINGS
@given(name=st.sampled_from(sorted(LAYERS)), value=junk)
def test_every_layer_refuses_junk_input_and_gradients(name, value):
    check_refusal(lambda: LAYERS[name]().forward(value), "x", "ids")
    layer = LAYERS[name]()
    layer.forward(INPUTS.get(name, X))
    check_refusal(lambda: layer.backward(value), "grad_out")
    if hasattr(layer, "takes_lengths") and layer.takes_lengths:
        check_refusal(lambda: LAYERS[name]().forward(X, lengths=value), "lengths")
        check_refusal(lambda: LAYERS[name]().forward(X, h0=value), "h0")


@SETTINGS
@given(loss=st.sampled_from(["mse", "cross_entropy", "bce"]), value=junk)
def test_every_loss_refuses_junk(loss, value):
    output = np.random.default_rng(0).standard_normal((4, 5, 3))
    target = {"mse": output, "cross_entropy": Y, "bce": (output > 0).astype(float)}[loss]
    check_refusal(lambda: numrnn.get_loss(loss).forward(value, target), "output", "y")  # y: does not fit it
    check_refusal(lambda: numrnn.get_loss(loss).forward(output, value), "y")
    check_refusal(lambda: numrnn.get_loss(loss).forward(output, target, mask=value), "mask")


def test_the_properties_refused_many_inputs():
    """Run last: the properties above saw refusals (a property that never refuses tests nothing)."""
    if COUNTS["calls"]:
        assert COUNTS["refused"] > COUNTS["calls"] // 4, COUNTS
