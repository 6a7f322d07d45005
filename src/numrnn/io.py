"""The numrnn file format: one .npz archive, read back without pickle.

    __numrnn__            a string array holding JSON: {"format": "numrnn", "version": 1, "model": config, "extra": ...}
    params/<name>         every parameter under torch's Sequential names ("params/0.weight_ih_l0")
    optimizer/<name>/<slot>  the optimizer's per-parameter state (Adam's moments, ...), so training can resume

Writing goes to a temporary file in the same folder that is renamed over the target when complete, so a crash
never leaves a half-written model. Reading uses allow_pickle=False and refuses, with a ValueError that says why,
anything that is not an archive, a truncated or corrupted one, one holding pickled objects, or another program's.
"""
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT = "numrnn"
VERSION = 1
META_KEY = "__numrnn__"


def save_model(model, path, extra=None):
    """Write `model` (weights, architecture, loss, optimizer and its state, vocab) to `path` atomically."""
    meta = {"format": FORMAT, "version": VERSION, "model": model.config(), "extra": extra or {}}
    arrays = {META_KEY: np.array(json.dumps(meta))}
    for name, value in model.params.items():
        arrays[f"params/{name}"] = value
    if model.optimizer is not None:
        optimizer_state = model.optimizer.state_dict()
        meta["optimizer_step"] = int(optimizer_state.get("step", 0))
        for name, slots in optimizer_state.get("state", {}).items():
            for slot, value in slots.items():
                arrays[f"optimizer/{name}/{slot}"] = np.asarray(value)
        arrays[META_KEY] = np.array(json.dumps(meta))
    write_npz_atomic(path, arrays)


def write_npz_atomic(path, arrays):
    """np.savez into a temporary file beside `path`, then rename it over `path`."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".numrnn-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp creates the file private (0600); give it the permissions any new file would get
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_npz(path):
    """Every array of a numrnn archive, or a ValueError that says why the file is not one."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path}")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "pickle" in str(error):
            raise ValueError(f"{path} is not a numrnn model: it holds pickled objects, which numrnn never loads") \
                from None
        raise ValueError(f"{path} is not a numrnn model: not an .npz archive ({error})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a numrnn model: not a readable .npz archive ({error})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} is not a numrnn model: it is a single .npy array, not an .npz archive")
    with archive:
        if META_KEY not in archive.files:
            shown = ", ".join(archive.files[:5]) + (", ..." if len(archive.files) > 5 else "")
            raise ValueError(f"{path} is an .npz archive but not a numrnn model: it has no '{META_KEY}' entry "
                             f"(it holds {shown or 'nothing'})")
        arrays = {}
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except ValueError as error:
                if "pickle" in str(error):
                    raise ValueError(f"{path} is not a usable numrnn model: entry '{key}' holds pickled objects, "
                                     f"which numrnn never loads") from None
                raise ValueError(f"{path} is corrupted: entry '{key}' cannot be read ({error})") from None
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as error:
                raise ValueError(f"{path} is truncated or corrupted: entry '{key}' cannot be read ({error})") \
                    from None
    return arrays


def read_meta(arrays, path="model"):
    try:
        meta = json.loads(str(arrays[META_KEY]))
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{path} is corrupted: its '{META_KEY}' entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a numrnn model: its '{META_KEY}' entry does not say format 'numrnn'")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path} was written by numrnn file format version {meta.get('version')}; this numrnn "
                         f"reads version {VERSION}")
    return meta


def load(path):
    """Load a model written by Sequential.save: the architecture, weights, loss, optimizer state and vocab."""
    from . import layers as layer_module
    from .layers.base import Layer
    from .model import Sequential

    arrays = read_npz(path)
    meta = read_meta(arrays, path)
    config = meta["model"]
    built = []
    for index, entry in enumerate(config.get("layers", [])):
        cls = getattr(layer_module, str(entry.get("class")), None)
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            raise ValueError(f"{path}: layer {index} has unknown class {entry.get('class')!r}")
        try:
            built.append(cls(**entry["config"]))
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: layer {index} ({entry.get('class')}) has an invalid config: {error}") from None
    model = Sequential(built, loss=config.get("loss"), optimizer=config.get("optimizer"),
                       clip_norm=config.get("clip_norm"), clip_value=config.get("clip_value"))
    model.vocab = config.get("vocab")
    params = {key[len("params/"):]: value for key, value in arrays.items() if key.startswith("params/")}
    try:
        model.load_state_dict(params)
    except ValueError as error:
        raise ValueError(f"{path} is corrupted: {error}") from None
    if model.optimizer is not None:
        state = {}
        for key, value in arrays.items():
            if key.startswith("optimizer/"):
                name, slot = key[len("optimizer/"):].rsplit("/", 1)
                state.setdefault(name, {})[slot] = value
        if state or meta.get("optimizer_step"):
            model.optimizer.load_state_dict({"step": meta.get("optimizer_step", 0), "state": state})
    model.extra = meta.get("extra", {})
    return model
