from .activation import Activation
from .base import Layer
from .dense import Dense
from .embedding import Embedding, OneHot
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN

__all__ = ["Activation", "Dense", "Embedding", "GRU", "LSTM", "Layer", "OneHot", "RNN"]
