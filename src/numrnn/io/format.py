"""The numrnn file format: one .npz archive (a zip of .npy arrays), read back without pickle, trusting nothing.

    __numrnn__               a string holding JSON: {"format": "numrnn", "version": 1, "model": config,
                             "extra": ..., "optimizer_step": n, "training": ...}
    params/<name>            every parameter under torch's Sequential names ("params/0.weight_ih_l0")
    optimizer/<name>/<slot>  the optimizer's per-parameter state (Adam's moments, ...), so training can resume
    training/<path>          the arrays of a checkpoint's training state (numrnn.training), referenced from the
                             JSON's "training" entry as {"__array__": "<path>"}

Writing goes through numrnn.io.atomic (a crash never leaves half a file) and refuses non-finite weights. Reading
checks, before it reads anything large: that the path is a regular file (a FIFO would block, a device never end),
that it is a zip archive, that no member would unpack to more than the archive can honestly hold (a zip bomb), and
that each member's .npy header (dtype, shape) agrees with the member's size, so no shape read from the file can
make numrnn allocate more than the file holds; object arrays (pickles) are refused unread; the JSON is bounded in
size and depth. Every refusal is a ValueError that names the file and the reason. This module knows no model
class: Sequential.save hands it the model, and numrnn.load (load.py) builds the model from what it reads.
"""
import json
import math
import os
import stat
import zipfile
import zlib

import numpy as np

from .atomic import atomic_write

FORMAT = "numrnn"
VERSION = 1
META_KEY = "__numrnn__"
#: the JSON metadata's size and nesting limits (a model's config is a few kB; a vocabulary a few hundred kB)
MAX_META_CHARACTERS = 16 * 1024 * 1024
MAX_JSON_DEPTH = 32
#: a member may unpack to at most this many times its compressed size, plus this many bytes (numrnn writes stored
#: members, ratio 1; savez_compressed weights compress to ~0.9)
MAX_EXPANSION, EXPANSION_SLACK = 20, 1 << 20


def write_model(path, model, extra=None, training=None):
    """Write a model (anything with config(), params and optimizer, as Sequential) to `path` atomically; with
    `training`, a checkpoint: that dict (JSON-able values and NumPy arrays, nested) is the state to resume from."""
    for name, value in model.params.items():
        if not np.isfinite(value).all():
            raise ValueError(f"refusing to write {path}: parameter {name!r} is not finite")
    meta = {"format": FORMAT, "version": VERSION, "model": model.config(), "extra": extra or {}}
    arrays = {f"params/{name}": value for name, value in model.params.items()}
    if model.optimizer is not None:
        optimizer_state = model.optimizer.state_dict()
        meta["optimizer_step"] = int(optimizer_state.get("step", 0))
        for name, slots in optimizer_state.get("state", {}).items():
            for slot, value in slots.items():
                arrays[f"optimizer/{name}/{slot}"] = np.asarray(value)
    if training is not None:
        meta["training"] = split_arrays(training, "training", arrays)
    arrays[META_KEY] = np.array(json.dumps(meta, allow_nan=False))
    write_npz(path, arrays)


def write_npz(path, arrays):
    """np.savez of `arrays` to `path`, atomically."""
    with atomic_write(path, "wb") as stream:
        np.savez(stream, **arrays)


def split_arrays(value, prefix, arrays):
    """`value` with every NumPy array moved into `arrays` under a path and replaced by {"__array__": path}, and
    every float JSON cannot hold (NaN, infinities: a validation loss that overflowed) as {"__float__": "nan"}."""
    if isinstance(value, np.ndarray):
        arrays[prefix] = value
        return {"__array__": prefix}
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return {"__float__": repr(float(value))}
    if isinstance(value, dict):
        return {str(key): split_arrays(item, f"{prefix}/{key}", arrays) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [split_arrays(item, f"{prefix}/{index}", arrays) for index, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    return value


def join_arrays(value, arrays, path):
    """The inverse of split_arrays: {"__array__": key} back to the array, which must be in `arrays`, and
    {"__float__": ...} back to the float."""
    if isinstance(value, dict):
        if set(value) == {"__float__"} and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        if set(value) == {"__array__"}:
            key = value["__array__"]
            if not isinstance(key, str) or key not in arrays:
                raise ValueError(f"{path} is corrupted: its training state names a missing array {key!r}")
            return arrays[key]
        return {key: join_arrays(item, arrays, path) for key, item in value.items()}
    if isinstance(value, list):
        return [join_arrays(item, arrays, path) for item in value]
    return value


def read_archive(path):
    """(meta, arrays) of a numrnn file: the JSON metadata, checked to be a numrnn file of this version, and every
    other array; or a ValueError that says why the file is not one (FileNotFoundError if there is none)."""
    path = os.fspath(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"no such model file: {path}") from None
    except OSError as error:
        raise ValueError(f"{path} cannot be read: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a FIFO, socket or device)"
        raise ValueError(f"{path} is not a numrnn model: it is {kind}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            _check_members(path, members, info.st_size)
            arrays = {member.filename[:-4]: _read_member(path, archive, member) for member in members}
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path} is not a numrnn model: {_what_it_is(path, error)}") from None
    except (OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"{path} is truncated or corrupted: {error}") from None
    if META_KEY not in arrays:
        shown = ", ".join(sorted(arrays)[:5]) + (", ..." if len(arrays) > 5 else "")
        raise ValueError(f"{path} is an .npz archive but not a numrnn model: it has no '{META_KEY}' entry (it "
                         f"holds {shown or 'nothing'})")
    return _read_meta(arrays.pop(META_KEY), path), arrays


def _what_it_is(path, error):
    """What a file that is no zip archive seems to be, from its first bytes (a regular file: reading them is safe)."""
    with open(path, "rb") as stream:
        start = stream.read(8)
    if start.startswith(b"\x93NUMPY"):
        return "it is a single .npy array, not an .npz archive"
    if start[:1] == b"\x80":
        return "it looks like a pickle, which numrnn never loads"
    if "not a zip file" in str(error).lower():
        return "not an .npz archive (not a zip file)"
    return f"a damaged archive ({error})"


def _check_members(path, members, file_size):
    names = set()
    for member in members:
        if not member.filename.endswith(".npy") or member.filename in names:
            raise ValueError(f"{path} is not a numrnn model: its member {member.filename!r} is not a distinct .npy "
                             f"array")
        names.add(member.filename)
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ValueError(f"{path} is not a numrnn model: member {member.filename!r} uses an unsupported "
                             f"compression")
    declared = sum(member.file_size for member in members)
    if declared > MAX_EXPANSION * file_size + EXPANSION_SLACK:
        raise ValueError(f"{path} is not a numrnn model: its members would unpack to {declared:,} bytes from "
                         f"{file_size:,} (a zip bomb?)")


def _read_member(path, archive, member):
    """One .npy member, its header checked against its size before its data is read."""
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            reader = np.lib.format.read_array_header_2_0 if version == (2, 0) else \
                np.lib.format.read_array_header_1_0
            shape, fortran_order, dtype = reader(stream, max_header_size=10000)
        except (ValueError, SyntaxError, TypeError) as error:
            raise ValueError(f"{path} is corrupted: entry {member.filename!r} is not a readable .npy array "
                             f"({error})") from None
        if dtype.hasobject:
            raise ValueError(f"{path} is not a usable numrnn model: entry {member.filename[:-4]!r} holds pickled "
                             f"objects, which numrnn never loads")
        count = math.prod(shape)
        data_size = member.file_size - stream.tell()
        if count * dtype.itemsize != data_size:
            raise ValueError(f"{path} is corrupted: entry {member.filename[:-4]!r} declares shape {shape} of "
                             f"{dtype} ({count * dtype.itemsize:,} bytes) but holds {data_size:,}")
        data = stream.read(data_size)
    if len(data) != data_size:
        raise ValueError(f"{path} is truncated: entry {member.filename[:-4]!r} ends early")
    array = np.frombuffer(data, dtype=dtype, count=count)
    return array.reshape(shape[::-1]).T.copy() if fortran_order else array.reshape(shape).copy()


def _read_meta(entry, path):
    if entry.dtype.kind != "U" or entry.ndim != 0:
        raise ValueError(f"{path} is corrupted: its '{META_KEY}' entry is not a JSON string")
    text = str(entry)
    if len(text) > MAX_META_CHARACTERS:
        raise ValueError(f"{path} is not a usable numrnn model: its metadata has {len(text):,} characters "
                         f"(at most {MAX_META_CHARACTERS:,})")
    _check_depth(text, path)
    try:
        meta = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as error:
        raise ValueError(f"{path} is corrupted: its '{META_KEY}' entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a numrnn model: its '{META_KEY}' entry does not say format 'numrnn'")
    if meta.get("version") != VERSION:
        raise ValueError(f"{path} was written by numrnn file format version {meta.get('version')!r}; this numrnn "
                         f"reads version {VERSION}")
    return meta


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _check_depth(text, path):
    """Refuse JSON nested deeper than MAX_JSON_DEPTH before parsing it (a deep nesting overflows the parser)."""
    depth, inside_string, escaped = 0, False, False
    for character in text:
        if inside_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                inside_string = False
        elif character == '"':
            inside_string = True
        elif character in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"{path} is not a usable numrnn model: its metadata is nested more than "
                                 f"{MAX_JSON_DEPTH} levels deep")
        elif character in "]}":
            depth -= 1
