"""numrnn.onnx: numrnn models to and from ONNX files, through ONNX's own RNN, LSTM and GRU operators.

    numrnn.onnx.export(model, "model.onnx")             x (and lengths) -> model.predict(x, lengths=lengths)
    model = numrnn.onnx.load("model.onnx")              what numrnn exports, and torch.onnx.export's files of
                                                        nn.Embedding, nn.RNN/LSTM/GRU(batch_first=True), nn.Linear

writer.py builds the graph (support.py: what ONNX can express). reader.py reads a file, interpret.py and
recurrent_rules.py walk its graph (abstract values in values.py, constants folded in fold.py) into the specs of
specs.py, and reader.py builds the layers. layout.py holds the one conversion of weights and gate orders both
directions use. The onnx package is imported inside these functions, on use, so `import numrnn` never loads it
(pip install "numrnn[onnx]").
"""
from .reader import load
from .writer import export

__all__ = ["export", "load"]
