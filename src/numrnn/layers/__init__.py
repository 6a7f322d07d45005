from .activation import Activation
from .base import Layer
from .dense import Dense
from .rnn import RNN

__all__ = ["Activation", "Dense", "Layer", "RNN"]
