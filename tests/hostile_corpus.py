"""A corpus of corrupt and hostile model files, built from one good model: what numrnn's readers must refuse
clearly (a ValueError naming the file, `numrnn: error:` and exit 2 on the command line), without a traceback, a hang
or an allocation larger than the file. `build(folder)` writes them and returns {name: path}.

Kinds: not a regular file (FIFO, folder), random bytes, truncations, bit flips (these may also load, as another
valid model), zip bombs, pickles, other programs' archives, metadata that is not numrnn's or lies (types, sizes,
nesting, vocabulary, optimizer state), arrays that lie (shapes, dtypes, values, headers).
"""
import io
import json
import os
import zipfile

import numpy as np

import numrnn
from numrnn.io import format as file_format

META = file_format.META_KEY


def good_model():
    numrnn.seed(0)
    model = numrnn.Sequential([numrnn.Embedding(5, 4), numrnn.LSTM(4, 6), numrnn.Dense(6, 5)],
                              loss="cross_entropy", optimizer=numrnn.Adam(lr=0.01))
    ids = np.random.default_rng(0).integers(0, 5, (4, 7))
    model.train_on_batch(ids, ids)
    model.vocab = list("abcde")
    return model


def _npz(path, arrays, meta=None):
    if meta is not None:
        arrays = dict(arrays, **{META: np.array(json.dumps(meta) if not isinstance(meta, str) else meta)})
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)


def _variant(folder, name, meta, arrays, change):
    """A copy of the good file with `change(meta, arrays)` applied (it edits them in place)."""
    meta, arrays = json.loads(json.dumps(meta)), {k: v.copy() for k, v in arrays.items()}
    change(meta, arrays)
    path = os.path.join(folder, name + ".npz")
    _npz(path, arrays, meta)
    return path


def build(folder):
    os.makedirs(folder, exist_ok=True)
    files = {}
    good = os.path.join(folder, "good.npz")
    good_model().save(good)
    meta, arrays = file_format.read_archive(good)
    raw = open(good, "rb").read()
    rng = np.random.default_rng(7)

    # not a regular file
    fifo = os.path.join(folder, "fifo.npz")
    os.mkfifo(fifo)
    files["fifo"] = fifo
    os.makedirs(os.path.join(folder, "a_folder.npz"))
    files["folder"] = os.path.join(folder, "a_folder.npz")
    # bytes that are no archive
    for size in (0, 1, 7, 100, 4096, 70000):
        path = os.path.join(folder, f"random_{size}.npz")
        open(path, "wb").write(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        files[f"random_{size}"] = path
    open(os.path.join(folder, "text.npz"), "w").write("hello, not a model\n" * 50)
    files["text"] = os.path.join(folder, "text.npz")
    # truncations and bit flips of the good file
    for fraction in np.linspace(0.02, 0.98, 16):
        cut = int(fraction * len(raw))
        path = os.path.join(folder, f"truncated_{cut}.npz")
        open(path, "wb").write(raw[:cut])
        files[f"truncated_{cut}"] = path
    for index in range(24):
        data = bytearray(raw)
        position = int(rng.integers(0, len(data)))
        data[position] ^= 1 << int(rng.integers(0, 8))
        path = os.path.join(folder, f"bitflip_{index}.npz")
        open(path, "wb").write(bytes(data))
        files[f"bitflip_{index}"] = path
    # zip bombs and other archives
    bomb = os.path.join(folder, "zip_bomb.npz")
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                      "shape": (25_000_000,)})
        with archive.open("params/0.weight.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(100):
                member.write(zeros)
        archive.writestr(META + ".npy", _npy_bytes(np.array(json.dumps(meta))))
    files["zip_bomb"] = bomb
    for name, arrays_ in (("pickled_object_array", {"params/x": np.array([{"a": 1}], dtype=object)}),
                          ("other_program", {"weights": np.ones(3)})):
        path = os.path.join(folder, name + ".npz")
        np.savez(path, **arrays_) if name != "pickled_object_array" else _savez_objects(path, arrays_, meta)
        files[name] = path
    pickle_path = os.path.join(folder, "pickle.npz")
    open(pickle_path, "wb").write(b"\x80\x04\x95" + bytes(40))
    files["pickle"] = pickle_path
    np.save(os.path.join(folder, "single.npy"), np.ones(4))
    os.replace(os.path.join(folder, "single.npy"), os.path.join(folder, "single.npz"))
    files["single_npy"] = os.path.join(folder, "single.npz")
    # metadata that is not numrnn's or lies
    for name, text in (("meta_not_json", "{not json"), ("meta_nan", '{"format": "numrnn", "version": 1, "x": NaN}'),
                       ("meta_deep", "[" * 100_000 + "]" * 100_000), ("meta_list", "[1, 2]")):
        path = os.path.join(folder, name + ".npz")
        _npz(path, arrays, text)
        files[name] = path
    _npz(os.path.join(folder, "meta_int.npz"), {**arrays, META: np.array(5)})
    files["meta_int"] = os.path.join(folder, "meta_int.npz")
    layer = lambda index: meta["model"]["layers"][index]  # noqa: E731
    changes = {
        "format_other": lambda m, a: m.update(format="keras"),
        "version_2": lambda m, a: m.update(version=2),
        "model_null": lambda m, a: m.update(model=None),
        "layers_string": lambda m, a: m["model"].update(layers="x"),
        "layers_empty": lambda m, a: m["model"].update(layers=[]),
        "layers_huge_list": lambda m, a: m["model"].update(layers=[layer(0)] * 5000),
        "layer_no_config": lambda m, a: m["model"]["layers"][1].pop("config"),
        "layer_config_list": lambda m, a: m["model"]["layers"][1].update(config=[1]),
        "layer_unknown_class": lambda m, a: m["model"]["layers"][1].update({"class": "Transformer"}),
        "layer_class_int": lambda m, a: m["model"]["layers"][1].update({"class": 3}),
        "hidden_20000": lambda m, a: m["model"]["layers"][1]["config"].update(hidden_size=20000),
        "hidden_negative": lambda m, a: m["model"]["layers"][1]["config"].update(hidden_size=-3),
        "hidden_string": lambda m, a: m["model"]["layers"][1]["config"].update(hidden_size="six"),
        "hidden_float": lambda m, a: m["model"]["layers"][1]["config"].update(hidden_size=6.5),
        "hidden_bool": lambda m, a: m["model"]["layers"][1]["config"].update(hidden_size=True),
        "num_layers_1e7": lambda m, a: m["model"]["layers"][1]["config"].update(num_layers=10 ** 7),
        "num_layers_1e30": lambda m, a: m["model"]["layers"][1]["config"].update(num_layers=10 ** 30),
        "embedding_1e9": lambda m, a: m["model"]["layers"][0]["config"].update(num_embeddings=10 ** 9),
        "dense_1e6_by_1e6": lambda m, a: m["model"]["layers"][2]["config"].update(in_features=10 ** 6,
                                                                                    out_features=10 ** 6),
        "unknown_config_key": lambda m, a: m["model"]["layers"][2]["config"].update(activation="relu"),
        "dtype_float16": lambda m, a: m["model"]["layers"][2]["config"].update(dtype="float16"),
        "dropout_2": lambda m, a: m["model"]["layers"][1]["config"].update(dropout=2.0),
        "layers_do_not_chain": lambda m, a: m["model"]["layers"][2]["config"].update(in_features=5),
        "loss_unknown": lambda m, a: m["model"].update(loss={"name": "hinge"}),
        "loss_string": lambda m, a: m["model"].update(loss="cross_entropy!"),
        "loss_bad_reduction": lambda m, a: m["model"].update(loss={"name": "mse", "reduction": "max"}),
        "optimizer_unknown": lambda m, a: m["model"].update(optimizer={"name": "lion"}),
        "optimizer_negative_lr": lambda m, a: m["model"]["optimizer"].update(lr=-1),
        "optimizer_bad_betas": lambda m, a: m["model"]["optimizer"].update(betas="x"),
        "optimizer_extra_key": lambda m, a: m["model"]["optimizer"].update(amsgrad=True),
        "clip_norm_string": lambda m, a: m["model"].update(clip_norm="5"),
        "clip_norm_negative": lambda m, a: m["model"].update(clip_norm=-5),
        "model_unknown_key": lambda m, a: m["model"].update(compile=True),
        "meta_unknown_key": lambda m, a: m.update(payload="x"),
        "extra_string": lambda m, a: m.update(extra="x"),
        "extra_list": lambda m, a: m.update(extra=[1]),
        "optimizer_step_negative": lambda m, a: m.update(optimizer_step=-1),
        "optimizer_step_string": lambda m, a: m.update(optimizer_step="7"),
        "vocab_string": lambda m, a: m["model"].update(vocab="abcde"),
        "vocab_duplicates": lambda m, a: m["model"].update(vocab=list("abcda")),
        "vocab_multichar": lambda m, a: m["model"].update(vocab=["ab", "c", "d", "e", "f"]),
        "vocab_numbers": lambda m, a: m["model"].update(vocab=[1, 2, 3, 4, 5]),
        "vocab_empty": lambda m, a: m["model"].update(vocab=[]),
        "training_missing_array": lambda m, a: m.update(training={"order": {"__array__": "training/nothing"}}),
    }
    # arrays that lie
    first = "params/1.weight_ih_l0"
    changes.update({
        "param_missing": lambda m, a: a.pop(first),
        "param_unknown": lambda m, a: a.update({"params/9.weight": np.ones(3, np.float32)}),
        "param_wrong_shape": lambda m, a: a.update({first: a[first].reshape(-1)}),
        "param_transposed": lambda m, a: a.update({first: np.ascontiguousarray(a[first].T)}),
        "param_nan": lambda m, a: a[first].__setitem__((0, 0), np.nan),
        "param_inf": lambda m, a: a[first].__setitem__((0, 0), np.inf),
        "param_1e300": lambda m, a: a.update({first: a[first].astype(np.float64) * 1e300}),
        "param_strings": lambda m, a: a.update({first: a[first].astype(str)}),
        "param_bool": lambda m, a: a.update({first: a[first] > 0}),
        "param_complex": lambda m, a: a.update({first: a[first].astype(np.complex64)}),
        "param_int8": lambda m, a: a.update({first: a[first].astype(np.int8)}),
        "param_datetime": lambda m, a: a.update({first: np.zeros(a[first].shape, "datetime64[s]")}),
        "param_structured": lambda m, a: a.update({first: np.zeros(a[first].shape, "i4,f4")}),
        "param_scalar": lambda m, a: a.update({first: np.float32(1.0)}),
        "all_params_missing": lambda m, a: [a.pop(k) for k in list(a) if k.startswith("params/")],
        "optimizer_state_wrong_shape": lambda m, a: a.update({f"optimizer/1.weight_ih_l0/exp_avg": np.ones(3)}),
        "optimizer_state_nan": lambda m, a: a[f"optimizer/1.weight_ih_l0/exp_avg"].__setitem__((0, 0), np.nan),
        "optimizer_state_strings": lambda m, a: a.update({f"optimizer/1.weight_ih_l0/exp_avg":
                                                          a[f"optimizer/1.weight_ih_l0/exp_avg"].astype(str)}),
        "optimizer_state_unknown_slot": lambda m, a: a.update({f"optimizer/1.weight_ih_l0/velocity": np.ones(3)}),
        "optimizer_state_unknown_param": lambda m, a: a.update({"optimizer/7.weight/exp_avg": np.ones(3)}),
        "optimizer_step_slot_negative": lambda m, a: a.update({"optimizer/1.weight_ih_l0/step": np.array(-4)}),
        "optimizer_step_slot_float": lambda m, a: a.update({"optimizer/1.weight_ih_l0/step": np.array(1.5)}),
        "optimizer_step_slot_array": lambda m, a: a.update({"optimizer/1.weight_ih_l0/step": np.ones(3, int)}),
        "optimizer_state_1e300": lambda m, a: a.update({f"optimizer/1.weight_ih_l0/exp_avg_sq":
                                                        a[f"optimizer/1.weight_ih_l0/exp_avg_sq"].astype(float)
                                                        + 1e300}),
    })
    for name, change in changes.items():
        files[name] = _variant(folder, name, meta, arrays, change)
    # headers that lie about sizes
    files["header_huge_shape"] = _lying_header(folder, "header_huge_shape", meta, arrays, (10 ** 12,))
    files["header_shape_overflow"] = _lying_header(folder, "header_shape_overflow", meta, arrays, (2 ** 40, 2 ** 40))
    files["header_fortran"] = _lying_header(folder, "header_fortran", meta, arrays, None, fortran=True)
    files["duplicate_member"] = _duplicate_member(folder, meta, arrays)
    return files


def _npy_bytes(array):
    stream = io.BytesIO()
    np.save(stream, array, allow_pickle=True)
    return stream.getvalue()


def _savez_objects(path, arrays, meta):
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in arrays.items():
            archive.writestr(name + ".npy", _npy_bytes(value))
        archive.writestr(META + ".npy", _npy_bytes(np.array(json.dumps(meta))))


def _lying_header(folder, name, meta, arrays, shape, fortran=False):
    """The good file with one member whose .npy header declares `shape` over the member's real data."""
    path = os.path.join(folder, name + ".npz")
    target = "params/2.weight"
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            if key == target:
                header = io.BytesIO()
                declared = value.shape if shape is None else shape
                np.lib.format.write_array_header_1_0(header, {"descr": value.dtype.str, "fortran_order": fortran,
                                                              "shape": declared})
                archive.writestr(key + ".npy", header.getvalue() + value.tobytes())
            else:
                archive.writestr(key + ".npy", _npy_bytes(value))
        archive.writestr(META + ".npy", _npy_bytes(np.array(json.dumps(meta))))
    return path


def _duplicate_member(folder, meta, arrays):
    path = os.path.join(folder, "duplicate_member.npz")
    with zipfile.ZipFile(path, "w") as archive:
        for key, value in arrays.items():
            archive.writestr(key + ".npy", _npy_bytes(value))
        archive.writestr("params/2.weight.npy", _npy_bytes(np.zeros((5, 6), np.float32)))
        archive.writestr(META + ".npy", _npy_bytes(np.array(json.dumps(meta))))
    return path
