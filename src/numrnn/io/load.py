"""numrnn.load: read a model file (numrnn.io.format) and build the model through the layer registry."""
from ..model import Sequential
from .format import read_meta, read_npz


def load(path):
    """Load a model written by Sequential.save: the architecture, weights, loss, optimizer state, vocab, extra."""
    arrays = read_npz(path)
    meta = read_meta(arrays, path)
    config = meta["model"]
    try:
        model = Sequential.from_config(config)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
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
