"""The numrnn file format: one .npz archive, read back without pickle.

    __numrnn__            a string array holding JSON: {"format": "numrnn", "version": 1, "model": config, "extra": ...}
    params/<name>         every parameter under torch's Sequential names ("params/0.weight_ih_l0")
    optimizer/<name>/<slot>  the optimizer's per-parameter state (Adam's moments, ...), so training can resume

Writing goes through numrnn.io.atomic, so a crash never leaves a half-written model. This module knows no model
class: Sequential.save hands it the model, and numrnn.load (load.py) builds the model from what it reads. Reading uses allow_pickle=False and refuses, with a ValueError that says why,
anything that is not an archive, a truncated or corrupted one, one holding pickled objects, or another program's.
"""
import json
import os
import zipfile
import zlib

import numpy as np

from .atomic import atomic_write

FORMAT = "numrnn"
VERSION = 1
META_KEY = "__numrnn__"


def write_model(path, model, extra=None):
    """Write a model (anything with config(), params and optimizer, as Sequential) to `path` atomically."""
    meta = {"format": FORMAT, "version": VERSION, "model": model.config(), "extra": extra or {}}
    arrays = {f"params/{name}": value for name, value in model.params.items()}
    if model.optimizer is not None:
        optimizer_state = model.optimizer.state_dict()
        meta["optimizer_step"] = int(optimizer_state.get("step", 0))
        for name, slots in optimizer_state.get("state", {}).items():
            for slot, value in slots.items():
                arrays[f"optimizer/{name}/{slot}"] = np.asarray(value)
    arrays[META_KEY] = np.array(json.dumps(meta))
    write_npz(path, arrays)


def write_npz(path, arrays):
    """np.savez of `arrays` to `path`, atomically."""
    with atomic_write(path, "wb") as stream:
        np.savez(stream, **arrays)


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
