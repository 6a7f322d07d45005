"""numrnn's layers. Each registers itself in LAYERS, which the file format reads class names through."""
from .activation import Activation
from .base import LAYERS, Layer
from .dense import Dense
from .embedding import Embedding, OneHot
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN

__all__ = ["LAYERS", "Activation", "Dense", "Embedding", "GRU", "LSTM", "Layer", "OneHot", "RNN"]
