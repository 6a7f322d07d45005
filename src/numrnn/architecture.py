"""A model's architecture as a JSON-able config and back: what numrnn's file format stores, and how a model is
rebuilt from it or copied (Sequential.config, Sequential.from_config, Sequential.clone call these)."""
from .layers.base import LAYERS


def model_config(model):
    """The layers (by registered class name), loss, optimizer, clipping, metrics and vocabulary as a dict."""
    return {"layers": [{"class": LAYERS.name_of(type(layer)), "config": layer.config()} for layer in model.layers],
            "loss": None if model.loss is None else model.loss.config(),
            "optimizer": None if model.optimizer is None else model.optimizer.config(),
            "clip_norm": model.clip_norm, "clip_value": model.clip_value, "metrics": list(model.metrics),
            "vocab": model.vocab}


def model_from_config(model_class, config):
    """A new model (fresh weights, fresh optimizer) of what model_config described; layers are built through their
    registry, and a ValueError names the layer that cannot be."""
    built = []
    for index, entry in enumerate(config.get("layers", [])):
        try:
            layer_class = LAYERS.get(str(entry.get("class")))
        except ValueError as error:
            raise ValueError(f"layer {index}: {error}") from None
        try:
            built.append(layer_class.from_config(entry["config"]))
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"layer {index} ({entry.get('class')}) has an invalid config: {error}") from None
    model = model_class(built, loss=config.get("loss"), optimizer=config.get("optimizer"),
                        clip_norm=config.get("clip_norm"), clip_value=config.get("clip_value"),
                        metrics=config.get("metrics"))
    model.vocab = config.get("vocab")
    return model


def clone_model(model):
    """The same architecture, weights, loss, clipping, metrics, vocabulary and extra, and a fresh optimizer of the
    same configuration (no state, no carried states)."""
    copy = type(model)([layer.clone() for layer in model.layers],
                       loss=None if model.loss is None else model.loss.config(),
                       optimizer=None if model.optimizer is None else model.optimizer.config(),
                       clip_norm=model.clip_norm, clip_value=model.clip_value, metrics=list(model.metrics))
    copy.vocab = None if model.vocab is None else list(model.vocab)
    copy.extra = dict(model.extra)
    return copy
