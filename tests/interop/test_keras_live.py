"""numrnn.keras against live Keras 3 (backend torch unless KERAS_BACKEND says otherwise): Keras models of random
weights, converted by from_keras, give Keras's outputs on random inputs (1e-5 relative). Skipped where keras cannot
be imported.

float64 layers convert to float64 numrnn layers, but Keras 3 itself computes their products in float32 outside
TensorFlow (keras.backend.result_type maps float64 to float32, as JAX does by default), so live Keras is a float32
reference either way; the float64 exactness of the conversions (1e-12) is tested against Keras's equations written
out by hand in tests/test_keras.py."""
import itertools
import os

import numpy as np
import pytest

import numrnn

from ._models import relative_difference

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
from numrnn.keras import from_keras  # noqa: E402

# Keras's torch backend turns tensors into arrays through np.array(tensor), which NumPy 2 warns about
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
FEATURES, UNITS, STEPS = 3, 4, 6


def randomise(model, seed):
    """Every weight drawn afresh (Keras starts biases at zero, which would hide a bias mistake)."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype(w.dtype) for w in model.get_weights()])


def keras_output(model, x):
    return keras.ops.convert_to_numpy(model(x))


def recurrent(kind, options, return_sequences, dtype):
    extra = {"activation": options} if kind == "SimpleRNN" else {}
    return getattr(keras.layers, kind)(UNITS, return_sequences=return_sequences, use_bias="nobias" not in options,
                                       dtype=dtype, **extra)


CASES = [(kind, options, bidirectional, return_sequences)
         for kind, options in (("SimpleRNN", "tanh"), ("SimpleRNN", "relu"), ("LSTM", ""), ("LSTM", "nobias"),
                               ("GRU", ""), ("GRU", "nobias"))
         for bidirectional, return_sequences in itertools.product((False, True), (False, True))]


@pytest.mark.parametrize("kind, options, bidirectional, return_sequences", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_keras_recurrent_models_convert_to_the_same_outputs(kind, options, bidirectional, return_sequences, dtype):
    layer = recurrent(kind, options, return_sequences, dtype)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer, dtype=dtype)
    model = keras.Sequential([keras.Input((None, FEATURES), dtype=dtype), layer, keras.layers.Dense(2, dtype=dtype)])
    randomise(model, seed=len(CASES) * bidirectional + CASES.index((kind, options, bidirectional,
                                                                     return_sequences)))
    converted = from_keras(model)
    x = np.random.default_rng(1).standard_normal((3, STEPS, FEATURES)).astype(dtype)
    assert converted.dtype == np.dtype(dtype)
    assert relative_difference(converted.predict(x), keras_output(model, x)) < 1e-5


def test_a_keras_text_model_converts_layer_by_layer():
    model = keras.Sequential([keras.Input((None,), dtype="int32"), keras.layers.Embedding(7, 4),
                              keras.layers.Bidirectional(keras.layers.GRU(5, return_sequences=True)),
                              keras.layers.Dropout(0.3), keras.layers.LSTM(3),
                              keras.layers.Dense(2, activation="softmax")])
    randomise(model, seed=7)
    converted = from_keras(model)
    assert [type(layer).__name__ for layer in converted.layers] == ["Embedding", "GRU", "Dropout", "LSTM", "Dense",
                                                                    "Activation"]
    assert converted.layers[1].bidirectional and "weight_ih_l0_reverse" in converted.layers[1].params
    ids = np.random.default_rng(2).integers(0, 7, (4, STEPS))
    assert relative_difference(converted.predict(ids), keras_output(model, ids)) < 1e-5


def test_a_functional_chain_converts_and_a_single_layer_too():
    inputs = keras.Input((None, FEATURES))
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.LSTM(UNITS, return_sequences=True)(inputs)))
    randomise(model, seed=3)
    x = np.random.default_rng(3).standard_normal((2, STEPS, FEATURES)).astype(np.float32)
    assert relative_difference(from_keras(model).predict(x), keras_output(model, x)) < 1e-5
    layer = model.layers[1]
    single = from_keras(layer)
    assert [type(layer).__name__ for layer in single.layers] == ["LSTM"]
    assert relative_difference(single.predict(x), keras_output(layer, x)) < 1e-5


@pytest.mark.parametrize("layer, message", [
    (lambda: keras.layers.GRU(UNITS, reset_after=False), "reset_after=False"),
    (lambda: keras.layers.SimpleRNN(UNITS, activation="elu"), "activation 'elu'"),
    (lambda: keras.layers.LSTM(UNITS, recurrent_activation="hard_sigmoid"), "hard_sigmoid"),
    (lambda: keras.layers.Bidirectional(keras.layers.LSTM(UNITS), merge_mode="sum"), "merge_mode='concat'"),
    (lambda: keras.layers.LSTM(UNITS, go_backwards=True), "go_backwards"),
    (lambda: keras.layers.Conv1D(2, 3), "numrnn reads"),
])
def test_what_numrnn_cannot_express_is_refused_naming_the_keras_layer(layer, message):
    model = keras.Sequential([keras.Input((None, FEATURES)), layer()])
    with pytest.raises(ValueError, match=rf"Keras layer 0 \(\w+ '[^']+'\).*{message}"):
        from_keras(model)


def test_masking_embedding_is_refused():
    model = keras.Sequential([keras.Input((None,)), keras.layers.Embedding(5, 2, mask_zero=True)])
    with pytest.raises(ValueError, match="mask_zero"):
        from_keras(model)


def test_stacked_keras_layers_feed_numrnn_layers_in_order():
    model = keras.Sequential([keras.Input((None, FEATURES)), keras.layers.SimpleRNN(UNITS, return_sequences=True),
                              keras.layers.GRU(2, return_sequences=True), keras.layers.Activation("tanh")])
    randomise(model, seed=11)
    converted = from_keras(model)
    assert isinstance(converted.layers[0], numrnn.RNN) and isinstance(converted.layers[1], numrnn.GRU)
    x = np.random.default_rng(4).standard_normal((2, STEPS, FEATURES)).astype(np.float32)
    assert relative_difference(converted.predict(x), keras_output(model, x)) < 1e-5
