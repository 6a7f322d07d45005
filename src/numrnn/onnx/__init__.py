"""numrnn.onnx: numrnn models to and from ONNX files, through ONNX's own RNN, LSTM and GRU operators.

    numrnn.onnx.export(model, "model.onnx")             x (and lengths) -> model.predict(x, lengths=lengths)

writer.py builds the graph; layout.py holds the conversion of weights and gate orders, support.py what ONNX can
express. The onnx package is imported inside these functions, on use, so `import numrnn` never loads it
(pip install "numrnn[onnx]").
"""
from .writer import export

__all__ = ["export"]
