"""numrnn.torch: numrnn models as torch.nn modules and back, for torch's tooling (DistributedDataParallel, devices,
torch's optimizers) on numrnn's architectures.

    module = numrnn.torch.to_torch(model)        module(x, lengths=None, mask=None) == model.forward(x, lengths,
                                                 mask=mask), batch-first; Embedding(mask_zero=True) masks id 0
    model = numrnn.torch.from_torch(module)      numrnn again, weights copied exactly
    model = numrnn.torch.from_torch(state_dict, config=model.config())     e.g. a DDP checkpoint ("module." names)
    model = numrnn.torch.from_torch([m.embedding, m.lstm, m.linear])        torch's own layers, batch_first=True

Layouts: none to convert. numrnn keeps torch's names, shapes and gate orders (weight_ih_l0 (G*H, in), LSTM i, f, g,
o, GRU r, z, n), and the module's state_dict names are the numrnn model's ("1.weight_ih_l0"), so weights cross
as they are, in the model's dtype: a float64 round trip gives the same bits. numrnn's layers map to torch's own
RNN/LSTM/GRU where torch has them, else to a loop of torch's cell equations (numrnn._torch_modules says which):
a GRU with reset_after=False too, which torch's GRU cannot compute (it resets after the recurrent product only).
to_torch's module returns raw outputs (logits): train it with torch's loss on them; numrnn's loss comes back with
from_torch through the config. Training in torch runs full backpropagation through time (bptt_truncate and stateful
are numrnn's training options) and draws its own dropout masks.

This file is numrnn/torch.py: with absolute imports (Python 3's only kind) `import torch` inside it is the real
torch, imported in the functions below, on use. Only a script run from inside src/numrnn itself (its folder first
on sys.path) would see this file as `torch`, as it would keras.py; numrnn is always imported as a package.
"""
from collections.abc import Mapping

import numpy as np

from .model import Sequential
from .module import as_numpy

#: numrnn config keys to_torch knows, per layer class name: an option a later numrnn adds is refused until mapped
_KNOWN = {"RNN": {"input_size", "hidden_size", "num_layers", "bias", "bidirectional", "dropout", "return_sequences",
                  "stateful", "dtype", "nonlinearity", "bptt_truncate"},
          "LSTM": {"input_size", "hidden_size", "num_layers", "bias", "bidirectional", "dropout", "return_sequences",
                   "stateful", "dtype"},
          "RNNCell": {"input_size", "hidden_size", "nonlinearity", "bias", "dtype"},
          "LSTMCell": {"input_size", "hidden_size", "bias", "dtype"}}
_KNOWN["GRU"], _KNOWN["GRUCell"] = _KNOWN["LSTM"] | {"reset_after"}, _KNOWN["LSTMCell"] | {"reset_after"}


def to_torch(model):
    """A torch.nn.Module computing model.forward (batch-first, raw outputs), weights copied in the model's dtype."""
    import torch

    from . import _torch_modules as tm
    if not isinstance(model, Sequential) or not model.layers:
        raise TypeError(f"model must be a numrnn.Sequential with layers, got {type(model).__name__}")
    dtype = {"float32": torch.float32, "float64": torch.float64}[np.dtype(model.dtype).name]
    layers = [_module(index, layer, dtype, tm) for index, layer in enumerate(model.layers)]
    module = tm.Sequential(layers, model.config())
    # strict: every numrnn name has its torch parameter and no other exists, which proves the names are shared
    module.load_state_dict({name: torch.from_numpy(np.array(value)) for name, value in model.state_dict().items()})
    return module


def _module(index, layer, dtype, tm):
    from torch import nn

    from .cells import GRUCell, LSTMCell, RNNCell
    from .layers import GRU, LSTM, RNN, Activation, Bidirectional, Dense, Dropout, Embedding, OneHot, Recurrent

    def refuse(why):
        return ValueError(f"layer {index} ({type(layer).__name__}) cannot be converted to torch: {why}")

    kind = type(layer)
    if kind is Embedding:
        return tm.Embedding(layer.num_embeddings, layer.embedding_dim, mask_zero=layer.mask_zero, dtype=dtype)
    if kind is OneHot:
        return tm.OneHot(layer.num_classes, dtype)
    if kind is Dense:
        return nn.Linear(layer.in_features, layer.out_features, bias=layer.bias, dtype=dtype)
    if kind is Activation:
        return tm.Activation(layer.name)
    if kind is Dropout:
        return nn.Dropout(layer.p)
    outer, inner = (2, layer.forward_layer) if kind is Bidirectional else (1, layer)
    if type(inner) not in (RNN, LSTM, GRU, Recurrent):
        raise refuse(f"numrnn.torch converts Embedding, OneHot, Dense, Activation, Dropout, RNN, LSTM, GRU, "
                     f"Recurrent(RNNCell, LSTMCell or GRUCell) and Bidirectional of those, not "
                     f"{type(inner).__name__}")
    source = inner.cell if type(inner) is Recurrent else inner
    if type(source) not in (RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell):
        raise refuse(f"its cell {type(source).__name__} is a numrnn cell in NumPy; torch has RNNCell, LSTMCell and "
                     f"GRUCell only")
    unknown = set(source.config()) - _KNOWN[type(source).__name__]
    if unknown:
        raise refuse(f"its options {sorted(unknown)} have no torch form in numrnn.torch yet")
    kind_name = type(source).__name__.replace("Cell", "")
    nonlinearity = getattr(source, "nonlinearity", "tanh")
    reset_after = getattr(source, "reset_after", True)  # False: torch's GRU has no such form; the Loop has
    stacked = type(inner) is not Recurrent
    options = {"num_layers": inner.num_layers, "bidirectional": inner.bidirectional, "dropout": inner.dropout} \
        if stacked else {}
    if outer == 1 and stacked and nonlinearity in ("tanh", "relu") and reset_after:  # torch's own, packed
        own = {"RNN": tm.RNN, "LSTM": tm.LSTM, "GRU": tm.GRU}[kind_name]
        extra = {"nonlinearity": nonlinearity} if kind_name == "RNN" else {}
        return own(inner.input_size, inner.hidden_size, bias=inner.bias, return_sequences=inner.return_sequences,
                   dtype=dtype, **options, **extra)
    return tm.Loop(kind_name, source.input_size, source.hidden_size, outer=outer, stacked=stacked, bias=source.bias,
                   nonlinearity=nonlinearity, reset_after=reset_after, return_sequences=layer.return_sequences,
                   dtype=dtype, **options)


def from_torch(module, config=None):
    """A numrnn.Sequential from to_torch's module (or one wrapped in DistributedDataParallel or DataParallel), from a
    state dict with config (a numrnn config() dict, or a numrnn model whose architecture to use), or from a list of
    torch's own layers (nn.Embedding, nn.RNN/LSTM/GRU(batch_first=True), nn.Linear, nn.Dropout, nn.Tanh, ...)."""
    import torch
    from torch import nn

    from . import _torch_modules as tm
    if isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        module = module.module
    if isinstance(module, tm.Sequential):
        state, config = module.state_dict(), module.numrnn_config if config is None else config
    elif isinstance(module, Mapping):
        state = dict(module)
        if state and all(name.startswith("module.") for name in state):  # a DistributedDataParallel's state dict
            state = {name[len("module."):]: value for name, value in state.items()}
        if config is None:
            raise ValueError("a state dict needs config=: the numrnn model's config() (or the model itself)")
    elif isinstance(module, (list, tuple, nn.Sequential, nn.ModuleList)):
        return _from_torch_layers(list(module), torch)
    elif isinstance(module, nn.Module):
        return _from_torch_layers([module], torch)
    else:
        raise TypeError(f"from_torch takes a torch module, a state dict or a list of torch layers, got "
                        f"{type(module).__name__}")
    config = config.config() if isinstance(config, Sequential) else config
    model = Sequential.from_config(config)
    model.load_state_dict({name: as_numpy(value) for name, value in state.items()})
    return model


def _from_torch_layers(layers, torch):
    """torch's own layers -> numrnn's, in order (recurrent layers return every step, as torch's do)."""
    from torch import nn

    from . import layers as numrnn_layers
    dtypes = {p.dtype for layer in layers for p in layer.parameters()}
    dtype = "float64" if dtypes == {torch.float64} else "float32"
    built = []
    for index, layer in enumerate(layers):
        kind = type(layer)
        if kind in (nn.RNN, nn.LSTM, nn.GRU):
            if not layer.batch_first or getattr(layer, "proj_size", 0):
                raise ValueError(f"layer {index} ({kind.__name__}): numrnn takes batch_first=True and no proj_size")
            options = {"nonlinearity": layer.nonlinearity} if kind is nn.RNN else {}
            new = getattr(numrnn_layers, kind.__name__)(layer.input_size, layer.hidden_size,
                                                         num_layers=layer.num_layers, bias=layer.bias,
                                                         bidirectional=layer.bidirectional, dropout=layer.dropout,
                                                         dtype=dtype, **options)
        elif kind is nn.Embedding and layer.padding_idx is None and layer.max_norm is None:
            new = numrnn_layers.Embedding(layer.num_embeddings, layer.embedding_dim, dtype=dtype)
        elif kind is nn.Linear:
            new = numrnn_layers.Dense(layer.in_features, layer.out_features, bias=layer.bias is not None,
                                      dtype=dtype)
        elif kind is nn.Dropout:
            new = numrnn_layers.Dropout(layer.p, dtype=dtype)
        elif kind in (nn.Tanh, nn.Sigmoid, nn.ReLU, nn.Identity) or kind is nn.Softmax and layer.dim in (-1, None):
            name = {nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.ReLU: "relu", nn.Identity: "linear"}.get(kind, "softmax")
            new = numrnn_layers.Activation(name, dtype=dtype)
        else:
            raise ValueError(f"layer {index} ({kind.__name__}) has no numrnn counterpart (numrnn.torch reads "
                             f"nn.Embedding, nn.RNN/LSTM/GRU(batch_first=True), nn.Linear, nn.Dropout, nn.Tanh, "
                             f"nn.Sigmoid, nn.ReLU, nn.Identity, nn.Softmax(dim=-1))")
        new.load_state_dict({name: as_numpy(value) for name, value in layer.state_dict().items()})
        built.append(new)
    return Sequential(built)
