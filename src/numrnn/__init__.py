"""numrnn: recurrent neural networks from scratch on NumPy, every gradient written by hand.

    import numrnn
    model = numrnn.Sequential([numrnn.RNN(3, 32), numrnn.Dense(32, 3)], loss="cross_entropy", optimizer="adam")
    model.fit(X, y, epochs=10, batch_size=32)
"""
from . import callbacks, cells, data, schedules  # noqa: F401  (numrnn.cells.LSTMCell, numrnn.data.mod3, ...)
from .clipping import clip_grad_norm, clip_grad_value
from .gradient_check import gradcheck
from .io.load import load
from .layers import (GRU, LSTM, RNN, Activation, Bidirectional, Dense, Dropout, Embedding, Layer, OneHot,
                     Recurrent)
from .losses import BinaryCrossEntropy, CrossEntropy, MeanSquaredError, get_loss
from .model import Sequential
from .optimizers import SGD, Adagrad, Adam, RMSprop, Rprop, get_optimizer
from .random import seed
from .training import History

__version__ = "0.1.0"

#: interop modules, loaded on first use (numrnn.onnx.export(...)): importing numrnn loads neither onnx nor torch
_INTEROP = ("onnx", "torch", "keras")


def __getattr__(name):
    if name in _INTEROP:
        import importlib
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'numrnn' has no attribute {name!r}")


__all__ = [
    "RNN", "LSTM", "GRU", "Recurrent", "Bidirectional", "Dense", "Dropout", "Activation", "Embedding", "OneHot",
    "Layer", "Sequential", "History", "load", "seed", "gradcheck",
    "MeanSquaredError", "CrossEntropy", "BinaryCrossEntropy", "get_loss",
    "SGD", "Adam", "RMSprop", "Adagrad", "Rprop", "get_optimizer", "clip_grad_norm", "clip_grad_value",
]
