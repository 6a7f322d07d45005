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


def recurrent(kind, options, return_sequences, dtype="float32"):
    """options: SimpleRNN's activation; "nobias"; "reset_before" (a GRU with reset_after=False)."""
    extra = {"activation": options} if kind == "SimpleRNN" else {}
    if "reset_before" in options:
        extra["reset_after"] = False
    return getattr(keras.layers, kind)(UNITS, return_sequences=return_sequences, use_bias="nobias" not in options,
                                       dtype=dtype, **extra)


CASES = [(kind, options, bidirectional, return_sequences)
         for kind, options in (("SimpleRNN", "tanh"), ("SimpleRNN", "relu"), ("LSTM", ""), ("LSTM", "nobias"),
                               ("GRU", ""), ("GRU", "nobias"), ("GRU", "reset_before"),
                               ("GRU", "reset_before nobias"))
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
    if kind == "GRU":
        assert converted.layers[0].reset_after is ("reset_before" not in options)
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


# -- masks: Embedding(mask_zero=True) -----------------------------------------------------------------------------
VOCABULARY, BATCH = 6, 6
MASKED = [(kind, options, bidirectional, return_sequences)
          for kind, options in (("SimpleRNN", "tanh"), ("LSTM", ""), ("GRU", ""), ("GRU", "reset_before"))
          for bidirectional, return_sequences in itertools.product((False, True), (False, True))]


def masked_model(kind, options, bidirectional, return_sequences, seed):
    """ids -> Embedding(mask_zero=True) -> the recurrent layer -> Dense, random weights."""
    layer = recurrent(kind, options, return_sequences)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(VOCABULARY, FEATURES, mask_zero=True), layer,
                              keras.layers.Dense(2)])
    randomise(model, seed)
    return model


def padded_ids(seed, padding):
    """A batch of sequences of ids 1.. of lengths 0 to STEPS (one full, one empty) as Keras pads them."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, STEPS + 1, BATCH)
    lengths[:2] = STEPS, 0
    sequences = [list(rng.integers(1, VOCABULARY, n)) for n in lengths]
    return keras.utils.pad_sequences(sequences, maxlen=STEPS, padding=padding).astype(np.int64)


@pytest.mark.parametrize("kind, options, bidirectional, return_sequences", MASKED)
def test_front_padded_masked_models_give_keras_outputs_at_every_step(kind, options, bidirectional,
                                                                      return_sequences):
    """pad_sequences' default (padding="pre"): real steps, final states, empty sequences and the padded steps
    themselves agree (before its first real step Keras's previous output is its zero initial one)."""
    seed = MASKED.index((kind, options, bidirectional, return_sequences))
    model = masked_model(kind, options, bidirectional, return_sequences, seed)
    converted = from_keras(model)
    assert converted.layers[0].mask_zero
    ids = padded_ids(seed, "pre")
    assert relative_difference(converted.predict(ids), keras_output(model, ids)) < 1e-5


@pytest.mark.parametrize("kind, options, bidirectional, return_sequences", MASKED)
def test_masks_with_gaps_and_trailing_padding_agree_except_where_keras_repeats_an_output(kind, options,
                                                                                         bidirectional,
                                                                                         return_sequences):
    """padding="post" and a gap: every real step and every final state agree. At a masked step numrnn's layer
    outputs zeros; Keras's one-way layer with return_sequences=True repeats its previous output (its
    zero_output_for_mask=False), while Bidirectional zeroes it as numrnn does: there, and only there, they differ."""
    seed = 100 + MASKED.index((kind, options, bidirectional, return_sequences))
    model = masked_model(kind, options, bidirectional, return_sequences, seed)
    converted = from_keras(model)
    ids = padded_ids(seed, "post")
    ids[0, 2] = ids[2, 0] = 0  # a gap in the full sequence, front padding in another
    actual, expected = converted.predict(ids), keras_output(model, ids)
    if not return_sequences or bidirectional:
        assert relative_difference(actual, expected) < 1e-5
        return
    real = ids != 0
    assert relative_difference(actual[real], expected[real]) < 1e-5
    bias = model.layers[-1].get_weights()[1]
    np.testing.assert_allclose(actual[~real], np.broadcast_to(bias, actual[~real].shape), rtol=0, atol=1e-6)
    for b, t in zip(*np.nonzero(~real)):  # Keras: the previous step's output, or Dense(0) before any real step
        assert relative_difference(expected[b, t], expected[b, t - 1] if t else bias) < 1e-5


def test_a_keras_layer_that_zeroes_masked_outputs_agrees_at_every_step():
    layer = keras.layers.LSTM(UNITS, return_sequences=True, zero_output_for_mask=True)
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(VOCABULARY, FEATURES, mask_zero=True), layer])
    randomise(model, seed=4)
    ids = padded_ids(4, "post")
    ids[0, 2] = 0
    assert relative_difference(from_keras(model).predict(ids), keras_output(model, ids)) < 1e-5


def test_masked_stacks_agree_with_keras_at_real_steps_and_final_states():
    """The mask reaches every recurrent layer in both: a stack over gaps and trailing padding ends in the same final
    states."""
    model = keras.Sequential([keras.Input((None,), dtype="int32"),
                              keras.layers.Embedding(VOCABULARY, FEATURES, mask_zero=True),
                              keras.layers.LSTM(UNITS, return_sequences=True),
                              keras.layers.Bidirectional(keras.layers.GRU(3, reset_after=False,
                                                                          return_sequences=True)),
                              keras.layers.SimpleRNN(UNITS), keras.layers.Dense(2, activation="softmax")])
    randomise(model, seed=5)
    converted = from_keras(model)
    for padding in ("pre", "post"):
        ids = padded_ids(6, padding)
        ids[0, 3] = 0
        assert relative_difference(converted.predict(ids), keras_output(model, ids)) < 1e-5


def test_stacked_keras_layers_feed_numrnn_layers_in_order():
    model = keras.Sequential([keras.Input((None, FEATURES)), keras.layers.SimpleRNN(UNITS, return_sequences=True),
                              keras.layers.GRU(2, return_sequences=True), keras.layers.Activation("tanh")])
    randomise(model, seed=11)
    converted = from_keras(model)
    assert isinstance(converted.layers[0], numrnn.RNN) and isinstance(converted.layers[1], numrnn.GRU)
    x = np.random.default_rng(4).standard_normal((2, STEPS, FEATURES)).astype(np.float32)
    assert relative_difference(converted.predict(x), keras_output(model, x)) < 1e-5
