"""What a numrnn file must be, checked before anything is built, and putting a file's weights into a model that
already exists (restore_checkpoint: a resumed fit). Nothing here needs a model class: numrnn.load (load.py) builds
the model, above Sequential; numrnn.callbacks restores into the model being trained, below it.

Nothing in the file is trusted: the metadata's structure and types are checked first; every weight must be a finite
float that fits the model's dtype; the optimizer's state must have its parameters' shapes; a vocabulary must be
distinct single characters. Every refusal is a ValueError naming the file and the reason.
"""
import numbers

import numpy as np

from .format import join_arrays, read_archive

META_KEYS = {"format", "version", "model", "extra", "optimizer_step", "training"}
MODEL_KEYS = {"layers", "loss", "optimizer", "clip_norm", "clip_value", "metrics", "vocab"}
MAX_LAYERS = 1000


def restore_checkpoint(model, path):
    """Put the weights and optimizer state of the checkpoint at `path` into `model` (whose architecture must be
    the file's) and return the checkpoint's training state (numrnn.training reads it)."""
    meta, arrays = read_archive(path)
    check_meta(meta, path)
    if "training" not in meta:
        raise ValueError(f"{path} is a model file, not a checkpoint: it holds no training state")
    saved, current = meta["model"]["layers"], model.config()["layers"]
    if saved != current:
        raise ValueError(f"{path} was written for another architecture: {_first_difference(saved, current)}")
    params = {key[len("params/"):]: value for key, value in arrays.items() if key.startswith("params/")}
    load_weights(model, params, arrays, meta, path)
    return join_arrays(meta["training"], arrays, path)


def load_weights(model, params, arrays, meta, path):
    for name, value in params.items():
        if value.dtype not in (np.float32, np.float64):
            raise ValueError(f"{path} is corrupted: parameter {name!r} must be float32 or float64, got {value.dtype}")
    try:
        model.load_state_dict(params)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} is corrupted: {error}") from None
    if model.optimizer is None:
        return
    state = {}
    for key, value in arrays.items():
        if key.startswith("optimizer/"):
            name, _, slot = key[len("optimizer/"):].rpartition("/")
            if name not in model.params or slot not in model.optimizer.slots:
                raise ValueError(f"{path} is corrupted: optimizer state {key!r} names no parameter or slot of "
                                 f"{type(model.optimizer).__name__}")
            _check_optimizer_array(key, value, slot, model.params[name], path)
            state.setdefault(name, {})[slot] = value
    step = meta.get("optimizer_step", 0)
    try:
        model.optimizer.load_state_dict({"step": step, "state": state})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} is corrupted: its optimizer state is invalid: {error}") from None


def _check_optimizer_array(key, value, slot, param, path):
    if slot == "step":
        if value.shape != () or not np.issubdtype(value.dtype, np.integer) or int(value) < 0:
            raise ValueError(f"{path} is corrupted: optimizer state {key!r} must be a non-negative integer")
        return
    if value.shape != param.shape or not np.issubdtype(value.dtype, np.floating):
        raise ValueError(f"{path} is corrupted: optimizer state {key!r} must be a float array of its parameter's "
                         f"shape {param.shape}, got {value.dtype} {value.shape}")
    with np.errstate(over="ignore"):
        if not np.isfinite(value.astype(param.dtype)).all():
            raise ValueError(f"{path} is corrupted: optimizer state {key!r} must be finite in "
                             f"{np.dtype(param.dtype).name}")


def check_meta(meta, path):
    """The model config of a metadata dict whose structure and types are what numrnn writes."""
    unknown = set(meta) - META_KEYS
    if unknown:
        raise ValueError(f"{path} is not a usable numrnn model: unknown metadata entries {sorted(unknown)}")
    config = meta.get("model")
    if not isinstance(config, dict) or set(config) - MODEL_KEYS or "layers" not in config:
        raise ValueError(f"{path} is not a usable numrnn model: 'model' must be a dict with 'layers' and at most "
                         f"{sorted(MODEL_KEYS)}, got {_shown(config)}")
    layers = config["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise ValueError(f"{path} is not a usable numrnn model: 'layers' must be a list of 1 to {MAX_LAYERS} "
                         f"layers, got {_shown(layers)}")
    for index, entry in enumerate(layers):
        if not isinstance(entry, dict) or set(entry) != {"class", "config"} or not isinstance(entry["class"], str) \
                or not isinstance(entry["config"], dict):
            raise ValueError(f"{path} is not a usable numrnn model: layer {index} must be {{'class': name, "
                             f"'config': {{...}}}}, got {_shown(entry)}")
    for key in ("loss", "optimizer"):
        if config.get(key) is not None and not isinstance(config[key], dict):
            raise ValueError(f"{path} is not a usable numrnn model: '{key}' must be a dict or null, got "
                             f"{_shown(config[key])}")
    for key in ("clip_norm", "clip_value"):
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise ValueError(f"{path} is not a usable numrnn model: '{key}' must be a number or null, got "
                             f"{_shown(value)}")
    if not isinstance(meta.get("extra", {}), dict):
        raise ValueError(f"{path} is not a usable numrnn model: 'extra' must be a dict, got "
                         f"{_shown(meta.get('extra'))}")
    step = meta.get("optimizer_step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"{path} is not a usable numrnn model: 'optimizer_step' must be a non-negative integer")
    return config


def check_vocab(vocab, path):
    if vocab is None:
        return None
    if not isinstance(vocab, list) or not vocab or not all(isinstance(c, str) and len(c) == 1 for c in vocab) \
            or len(set(vocab)) != len(vocab):
        raise ValueError(f"{path} is not a usable numrnn model: its vocabulary must be a list of distinct single "
                         f"characters")
    return vocab


def _shown(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _first_difference(saved, current, where="layers"):
    """Where two configs first differ, e.g. "layers[0].config.hidden_size: the file has 16, the model 32"."""
    if isinstance(saved, dict) and isinstance(current, dict):
        for key in sorted(set(saved) | set(current), key=str):
            if saved.get(key) != current.get(key):
                return _first_difference(saved.get(key), current.get(key), f"{where}.{key}")
    if isinstance(saved, list) and isinstance(current, list) and len(saved) == len(current):
        for index, (a, b) in enumerate(zip(saved, current)):
            if a != b:
                return _first_difference(a, b, f"{where}[{index}]")
    return f"{where}: the file has {_shown(saved)}, the model {_shown(current)}"
