"""numrnn.load: read a model file (numrnn.io.format), check it (numrnn.io.schema), then build the model through the
layer registry (Sequential.from_config), inside a parameter budget of the numbers the file holds
(numrnn.random.parameter_budget), so that no size in the metadata can make numrnn allocate more than the file
itself holds."""
from ..model import Sequential
from ..random import parameter_budget
from .format import read_archive
from .schema import check_meta, check_vocab, load_weights


def load(path):
    """Load a model written by Sequential.save: the architecture, weights, loss, optimizer state, vocab, extra."""
    meta, arrays = read_archive(path)
    return build_model(meta, arrays, path)


def build_model(meta, arrays, path):
    """The Sequential a file describes, from its checked metadata and arrays."""
    config = check_meta(meta, path)
    params = {key[len("params/"):]: value for key, value in arrays.items() if key.startswith("params/")}
    with parameter_budget(sum(value.size for value in params.values())):
        try:
            model = Sequential.from_config(config)
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{path}: the model's config is invalid: {error}") from None
    model.vocab = check_vocab(config.get("vocab"), path)
    load_weights(model, params, arrays, meta, path)
    model.extra = meta.get("extra", {})
    return model
