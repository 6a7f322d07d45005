"""The numrnn file format: round trips, resumable optimizer state, atomic writes, and refusal of foreign files."""
import json
import os
import zipfile

import numpy as np
import pytest

import numrnn
from numrnn.io import format as io


def trained_model(rng):
    ids = rng.integers(0, 3, (32, 6))
    X, y = np.eye(3)[ids], (ids + 1) % 3
    model = numrnn.Sequential([numrnn.RNN(3, 8, num_layers=2, nonlinearity="relu"), numrnn.Dense(8, 3)],
                              loss="cross_entropy", optimizer=numrnn.Adam(lr=0.01), clip_norm=5.0)
    model.fit(X, y, epochs=2, batch_size=8, seed=0)
    return model, X, y


def test_round_trip_keeps_architecture_weights_and_predictions(tmp_path, rng):
    model, X, _ = trained_model(rng)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = numrnn.load(path)
    assert repr(loaded) == repr(model)
    assert loaded.clip_norm == 5.0 and loaded.loss.name == model.loss.name
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_the_grus_reset_gate_form_round_trips_and_older_files_mean_reset_after(tmp_path, rng):
    layers = [numrnn.GRU(3, 4, reset_after=False), numrnn.Recurrent(numrnn.cells.GRUCell(4, 4, reset_after=False))]
    model = numrnn.Sequential(layers + [numrnn.Dense(4, 3)], loss="cross_entropy")
    model.save(tmp_path / "m.npz")
    loaded = numrnn.load(tmp_path / "m.npz")
    assert loaded.layers[0].reset_after is False and loaded.layers[1].cell.reset_after is False
    X = rng.standard_normal((2, 5, 3))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    older = {key: value for key, value in numrnn.GRU(3, 4).config().items() if key != "reset_after"}
    assert numrnn.GRU.from_config(older).reset_after is True


def test_training_resumes_exactly_after_load(tmp_path, rng):
    model, X, y = trained_model(rng)
    model.save(tmp_path / "m.npz")
    resumed = numrnn.load(tmp_path / "m.npz")
    model.fit(X, y, epochs=1, batch_size=8, seed=1)
    resumed.fit(X, y, epochs=1, batch_size=8, seed=1)
    for name, value in model.params.items():
        np.testing.assert_array_equal(resumed.params[name], value)


def test_extra_metadata_and_vocab_round_trip(tmp_path, rng):
    model, _, _ = trained_model(rng)
    model.vocab = ["a", "b", "\n"]
    model.save(tmp_path / "m.npz", extra={"mean": 1.5, "column": "price"})
    loaded = numrnn.load(tmp_path / "m.npz")
    assert loaded.vocab == ["a", "b", "\n"]
    assert loaded.extra == {"mean": 1.5, "column": "price"}


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, rng, monkeypatch):
    model, X, _ = trained_model(rng)
    path = tmp_path / "model.npz"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("simulated crash mid-write")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_files_are_loaded_without_pickle(tmp_path, rng):
    model, _, _ = trained_model(rng)
    model.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        for name in archive.namelist():
            with archive.open(name) as member:
                header = member.read(128)
            assert b"'descr': '|O'" not in header, name


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        numrnn.load(tmp_path / "absent.npz")


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello, this is not a model")
    with pytest.raises(ValueError, match="is not a numrnn model"):
        numrnn.load(path)


def test_truncated_file_is_refused(tmp_path, rng):
    model, _, _ = trained_model(rng)
    model.save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a numrnn model|truncated or corrupted"):
        numrnn.load(tmp_path / "cut.npz")


def test_pickled_objects_are_refused(tmp_path):
    meta = np.array(json.dumps({"format": "numrnn", "version": 1, "model": {"layers": []}}))
    np.savez(tmp_path / "evil.npz", __numrnn__=meta, payload=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(ValueError, match="pickled objects"):
        numrnn.load(tmp_path / "evil.npz")


def test_another_programs_npz_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match=r"an .npz archive but not a numrnn model.*weights"):
        numrnn.load(tmp_path / "other.npz")


def test_single_npy_is_refused(tmp_path):
    np.save(tmp_path / "array.npy", np.ones(3))
    with pytest.raises(ValueError, match="single .npy array"):
        numrnn.load(tmp_path / "array.npy")


def test_wrong_format_marker_or_bad_json_is_refused(tmp_path):
    np.savez(tmp_path / "a.npz", __numrnn__=np.array(json.dumps({"format": "other"})))
    with pytest.raises(ValueError, match="does not say format 'numrnn'"):
        numrnn.load(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", __numrnn__=np.array("{not json"))
    with pytest.raises(ValueError, match="not valid JSON"):
        numrnn.load(tmp_path / "b.npz")


def test_weights_that_do_not_fit_the_architecture_are_refused(tmp_path, rng):
    model, _, _ = trained_model(rng)
    model.save(tmp_path / "m.npz")
    meta, arrays = io.read_archive(tmp_path / "m.npz")
    arrays[io.META_KEY] = np.array(json.dumps(meta))
    arrays["params/1.weight"] = np.zeros((8, 3), dtype=np.float32)  # as many numbers, another shape
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"corrupted: .*'1.weight' must have shape \(3, 8\)"):
        numrnn.load(tmp_path / "bad.npz")
