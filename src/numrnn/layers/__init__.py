"""numrnn's layers. Each registers itself in LAYERS, which the file format reads class names through.

The fast recurrent layers RNN, LSTM and GRU (stacked, bidirectional, torch's layout) compute what Recurrent(cell)
computes with the reference cells of numrnn.cells; Recurrent runs any cell, a user's own too."""
from .activation import Activation
from .base import LAYERS, Layer
from .bidirectional import Bidirectional
from .dense import Dense
from .dropout import Dropout
from .embedding import Embedding, OneHot
from .gru import GRU
from .lstm import LSTM
from .recurrent import Recurrent
from .rnn import RNN

__all__ = ["LAYERS", "Activation", "Bidirectional", "Dense", "Dropout", "Embedding", "GRU", "LSTM", "Layer",
           "OneHot", "RNN", "Recurrent"]
