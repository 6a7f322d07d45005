"""numrnn.load: read a model file (numrnn.io.format) and build the model through the layer registry."""
from ..layers import LAYERS
from ..model import Sequential
from .format import read_meta, read_npz


def load(path):
    """Load a model written by Sequential.save: the architecture, weights, loss, optimizer state, vocab, extra."""
    arrays = read_npz(path)
    meta = read_meta(arrays, path)
    config = meta["model"]
    built = []
    for index, entry in enumerate(config.get("layers", [])):
        try:
            cls = LAYERS.get(str(entry.get("class")))
        except ValueError as error:
            raise ValueError(f"{path}: layer {index}: {error}") from None
        try:
            built.append(cls.from_config(entry["config"]))
        except (TypeError, ValueError, KeyError) as error:
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
