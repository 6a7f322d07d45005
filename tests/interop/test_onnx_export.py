"""numrnn.onnx.export: the file is a valid ONNX model (onnx.checker) whose output, run by onnxruntime, is
model.predict's, on random models of every layer and option the export writes and random inputs, variable lengths
included (relative difference < 1e-5 in float32); what ONNX cannot express is refused, naming the layer."""
import os

import numpy as np
import pytest

import numrnn

from ._models import gru_forms, padded_ids, random_input, random_mask, random_model, relative_difference

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from numrnn.onnx import export  # noqa: E402  (after the skip: needs onnx)

MODELS = 60


def run(path, x, lengths=None):
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    feed = {"x": x}
    if "lengths" in [i.name for i in session.get_inputs()]:
        feed["lengths"] = np.full(x.shape[0], x.shape[1], np.int64) if lengths is None else lengths.astype(np.int64)
    return session.run(None, feed)[0]


@pytest.mark.parametrize("seed", range(MODELS))
def test_onnxruntime_gives_predict_on_random_models_and_lengths(tmp_path, seed):
    rng = np.random.default_rng(seed)
    model, vocabulary, features = random_model(rng)
    path = tmp_path / "model.onnx"
    export(model, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)
    for use_lengths in (False, True, True):  # one batch at full length, two with ragged lengths
        x, lengths = random_input(rng, model, vocabulary, features)
        lengths = lengths if use_lengths else None
        expected = model.predict(x, lengths=lengths)
        actual = run(path, x, lengths)
        assert actual.shape == expected.shape
        assert relative_difference(actual, expected) < 1e-5, (seed, model)


@pytest.mark.parametrize("seed", range(30))
def test_gru_with_the_reset_gate_before_the_product_runs_in_onnxruntime(tmp_path, seed):
    """GRU(reset_after=False), Recurrent(GRUCell(reset_after=False)) and Bidirectional of them: linear_before_reset=0
    (both forms drawn, so a model may stack one of each)."""
    rng = np.random.default_rng(5000 + seed)
    model, vocabulary, features = random_model(rng, kinds=("GRU",), reset_after=(False, True))
    path = tmp_path / "model.onnx"
    proto = export(model, path)
    flags = [attribute.i for node in proto.graph.node if node.op_type == "GRU" for attribute in node.attribute
             if attribute.name == "linear_before_reset"]
    assert sorted(set(flags)) == sorted({int(g.reset_after) for g in gru_forms(model)})
    for use_lengths in (False, True, True):
        x, lengths = random_input(rng, model, vocabulary, features)
        lengths = lengths if use_lengths else None
        assert relative_difference(run(path, x, lengths), model.predict(x, lengths=lengths)) < 1e-5, (seed, model)


@pytest.mark.parametrize("seed", range(30))
def test_empty_sequences_give_predict_in_onnxruntime(tmp_path, seed):
    """A length of 0: numrnn outputs zeros from the recurrent layers and keeps the initial state (zeros in predict);
    onnxruntime's RNN, LSTM and GRU write zeros to Y and Y_h for sequence_lens 0, and ReverseSequence leaves such a
    sequence as it is, so the graph's output is predict's (a whole batch of empty sequences too)."""
    rng = np.random.default_rng(7000 + seed)
    model, vocabulary, features = random_model(rng)
    path = tmp_path / "model.onnx"
    export(model, path)
    for everything_empty in (False, False, True):
        x, lengths = random_input(rng, model, vocabulary, features, empty=True)
        if everything_empty:
            lengths[:] = 0
        expected = model.predict(x, lengths=lengths)
        assert relative_difference(run(path, x, lengths), expected) < 1e-5, (seed, model)


@pytest.mark.parametrize("seed", range(30))
def test_an_embedding_with_mask_zero_is_served_with_its_mask(tmp_path, seed):
    """Embedding(mask_zero=True): ids 0 anywhere (front, gaps, trailing, whole sequences), joined with the lengths
    input; the graph packs each sequence's real steps to its front around every recurrent layer, so onnxruntime
    gives predict's output at every step, masked ones included (opsets 13, 17 and the newest)."""
    rng = np.random.default_rng(8000 + seed)
    model, vocabulary, features = random_model(rng, mask_zero=True)
    path = tmp_path / "model.onnx"
    export(model, path, opset=(13, 17, onnx.defs.onnx_opset_version())[seed % 3])
    for use_lengths in (False, True, True):
        x, lengths = random_input(rng, model, vocabulary, features, empty=True)
        ids = padded_ids(rng, random_mask(rng, *x.shape), vocabulary)
        lengths = lengths if use_lengths else None
        expected = model.predict(ids, lengths=lengths)
        assert relative_difference(run(path, ids, lengths), expected) < 1e-5, (seed, model)


def test_a_mask_without_recurrent_layers_adds_nothing(tmp_path):
    model = numrnn.Sequential([numrnn.Embedding(5, 3, mask_zero=True), numrnn.Dense(3, 2)])
    ops = {node.op_type for node in export(model, tmp_path / "m.onnx").graph.node}
    assert not ops & {"ScatterElements", "GatherElements", "CumSum"}
    ids = np.array([[0, 1, 2], [3, 0, 0]])
    assert relative_difference(run(tmp_path / "m.onnx", ids), model.predict(ids)) < 1e-5


def test_one_file_runs_any_batch_size_and_length(tmp_path):
    model = numrnn.Sequential([numrnn.Embedding(5, 3), numrnn.GRU(3, 4, bidirectional=True), numrnn.Dense(8, 2)],
                              loss="cross_entropy")
    export(model, tmp_path / "m.onnx")
    rng = np.random.default_rng(0)
    for batch, steps in ((1, 1), (3, 7), (8, 2)):
        x = rng.integers(0, 5, (batch, steps))
        assert relative_difference(run(tmp_path / "m.onnx", x), model.predict(x)) < 1e-5


def test_graph_uses_onnx_recurrent_operators_not_a_loop(tmp_path):
    model = numrnn.Sequential([numrnn.LSTM(2, 3, num_layers=2), numrnn.RNN(3, 3, nonlinearity="relu"),
                               numrnn.Dense(3, 1)], loss="mse")
    ops = [node.op_type for node in export(model, tmp_path / "m.onnx").graph.node]
    assert ops.count("LSTM") == 2 and ops.count("RNN") == 1
    assert not {"Loop", "Scan"} & set(ops)


def test_loss_predict_is_in_the_graph(tmp_path):
    x = np.random.default_rng(1).standard_normal((2, 4, 3)).astype(np.float32)
    for loss, last in (("cross_entropy", "Softmax"), ("binary_cross_entropy", "Sigmoid"), ("mse", "MatMul")):
        model = numrnn.Sequential([numrnn.RNN(3, 4), numrnn.Dense(4, 2, bias=False)], loss=loss)
        proto = export(model, tmp_path / "m.onnx")
        assert [n.op_type for n in proto.graph.node if n.op_type != "Transpose"][-2] == last
        assert relative_difference(run(tmp_path / "m.onnx", x), model.predict(x)) < 1e-5


def test_without_lengths_input_the_graph_takes_x_alone(tmp_path):
    model = numrnn.Sequential([numrnn.LSTM(2, 3), numrnn.Dense(3, 1)])
    proto = export(model, tmp_path / "m.onnx", lengths_input=False)
    assert [i.name for i in proto.graph.input] == ["x"]
    x = np.ones((2, 3, 2), np.float32)
    assert relative_difference(run(tmp_path / "m.onnx", x), model.predict(x)) < 1e-5


def test_dense_only_model_exports_without_time_axis(tmp_path):
    model = numrnn.Sequential([numrnn.Dense(3, 4), numrnn.Activation("relu"), numrnn.Dense(4, 2)],
                              loss="cross_entropy")
    proto = export(model, tmp_path / "m.onnx")
    assert [i.name for i in proto.graph.input] == ["x"]
    x = np.random.default_rng(2).standard_normal((5, 3)).astype(np.float32)
    assert relative_difference(run(tmp_path / "m.onnx", x), model.predict(x)) < 1e-5


FLOAT64_FORMS = {
    "fast": lambda kind, **o: getattr(numrnn, kind)(3, 4, num_layers=2, bidirectional=True, dtype="float64", **o),
    "cell": lambda kind, **o: numrnn.Recurrent(getattr(numrnn.cells, kind + "Cell")(3, 4, dtype="float64", **o)),
    "bidirectional cell": lambda kind, **o: numrnn.Bidirectional(
        numrnn.Recurrent(getattr(numrnn.cells, kind + "Cell")(3, 4, dtype="float64", **o))),
    "bidirectional stack": lambda kind, **o: numrnn.Bidirectional(getattr(numrnn, kind)(3, 4, num_layers=2,
                                                                                        dtype="float64", **o)),
}


@pytest.mark.parametrize("form", FLOAT64_FORMS)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU", "GRU reset before"])
def test_float64_graph_matches_onnx_reference_evaluator(tmp_path, kind, form):
    """onnxruntime has no double RNN, LSTM or GRU kernels, so float64 graphs run in onnx's reference evaluator. It
    ignores sequence_lens and fails on some forms (no bias, Relu, OneHot), so: full-length batches of these forms.
    "GRU reset before": reset_after=False (linear_before_reset=0)."""
    from onnx.reference import ReferenceEvaluator
    options = {"reset_after": False} if kind == "GRU reset before" else {}
    layer = FLOAT64_FORMS[form](kind.split()[0], **options)
    size = layer.output_shape((None, None, 3))[-1]
    model = numrnn.Sequential([numrnn.Embedding(6, 3, dtype="float64"), layer,
                               numrnn.Dense(size, 2, dtype="float64")], loss="cross_entropy")
    proto = export(model, tmp_path / "m.onnx", lengths_input=False)
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    x = np.random.default_rng(4).integers(0, 6, (3, 5))
    actual = ReferenceEvaluator(proto).run(None, {"x": x})[0]
    assert relative_difference(actual, model.predict(x)) < 1e-12


def test_float64_model_exported_as_float32_runs_in_onnxruntime(tmp_path):
    model = numrnn.Sequential([numrnn.GRU(2, 3, dtype="float64"), numrnn.Dense(3, 2, dtype="float64")],
                              loss="cross_entropy")
    export(model, tmp_path / "m.onnx", dtype="float32")
    x = np.random.default_rng(3).standard_normal((2, 5, 2))
    assert relative_difference(run(tmp_path / "m.onnx", x.astype(np.float32)), model.predict(x)) < 1e-5


def test_linear_rnn_is_exact_affine_activation(tmp_path):
    model = numrnn.Sequential([numrnn.RNN(2, 3, nonlinearity="linear"), numrnn.Dense(3, 1)])
    node = next(n for n in export(model, tmp_path / "m.onnx").graph.node if n.op_type == "RNN")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs["activations"] == [b"Affine"] and attrs["activation_alpha"] == [1.0]
    assert attrs["activation_beta"] == [0.0]


@numrnn.cells.register(name="OnnxTestDoublingCell")
class DoublingCell(numrnn.cells.Cell):
    """A user's own cell: new_hidden = 2 hidden + x. ONNX has no operator for it."""

    def forward(self, x, state):
        return 2 * state[0] + x, (2 * state[0] + x,), None

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": "float32"}


@pytest.mark.parametrize("layers, message", [
    (lambda: [numrnn.Recurrent(DoublingCell(2, 2))], r"layer 0 \(Recurrent\).*DoublingCell"),
    (lambda: [numrnn.LSTM(2, 2), numrnn.Bidirectional(numrnn.Recurrent(DoublingCell(2, 2)))],
     r"layer 1 \(Bidirectional\).*DoublingCell"),
    (lambda: [numrnn.Activation("tanh"), numrnn.Dense(2, 2)], r"layer 0 \(Activation\).*first layer"),
])
def test_what_onnx_cannot_say_is_refused_naming_layer_class_and_why(tmp_path, layers, message):
    model = numrnn.Sequential(layers())
    with pytest.raises(ValueError, match=message):
        export(model, tmp_path / "m.onnx")
    assert not os.listdir(tmp_path)  # refused before anything was written


def test_a_subclass_is_refused_as_it_may_compute_something_else(tmp_path):
    class MyLSTM(numrnn.LSTM):
        pass

    with pytest.raises(ValueError, match=r"layer 0 \(MyLSTM\)"):
        export(numrnn.Sequential([MyLSTM(2, 2)]), tmp_path / "m.onnx")


def test_refusal_leaves_an_existing_file_as_it_was(tmp_path):
    path = tmp_path / "m.onnx"
    export(numrnn.Sequential([numrnn.RNN(2, 2)]), path)
    before = path.read_bytes()
    with pytest.raises(ValueError):
        export(numrnn.Sequential([numrnn.Recurrent(DoublingCell(2, 2))]), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.onnx"]  # no temporary file left


def test_a_loss_with_a_predict_of_its_own_is_refused(tmp_path):
    class Scaled(numrnn.MeanSquaredError):
        name = "onnx_test_scaled"

        def predict(self, output):
            return 2 * output

    model = numrnn.Sequential([numrnn.RNN(2, 2)], loss=Scaled())
    with pytest.raises(ValueError, match="onnx_test_scaled"):
        export(model, tmp_path / "m.onnx")


def test_bad_arguments_are_refused():
    model = numrnn.Sequential([numrnn.RNN(2, 2)])
    with pytest.raises(ValueError, match="opset"):
        export(model, "unused.onnx", opset=9)
    with pytest.raises(ValueError, match="dtype"):
        export(model, "unused.onnx", dtype="int32")
    with pytest.raises(TypeError, match="Sequential"):
        export(numrnn.RNN(2, 2), "unused.onnx")
