"""numrnn: recurrent neural networks from scratch on NumPy, every gradient written by hand."""
from .gradcheck import gradcheck
from .layers import RNN, Activation, Dense, Layer
from .random import seed

__version__ = "0.1.0"
