"""The character model: it reads character ids and predicts the next character at every step.

    Embedding(V, E) -> LSTM / GRU / RNN(E, H, num_layers) [-> Dropout(p)] -> Dense(H, V), cross-entropy, Adam
    OneHot(V)       -> LSTM / GRU / RNN(V, H, num_layers) [-> Dropout(p)] -> Dense(H, V)          (input="onehot")

Two dropouts, both only in training: `dropout` between stacked recurrent layers (torch.nn.LSTM's), and
`output_dropout` on the last recurrent layer's output, before the dense layer (what torch's char-rnn examples and
Zaremba et al. apply: the only dropout a one-layer model can have).

The vocabulary (the characters in id order) is kept in model.vocab and saved with the model.
"""
from ...layers import LAYERS, Dense, Dropout, Embedding, OneHot
from ...model import Sequential
from ...optimizers import Adam

__all__ = ["CELLS", "INPUTS", "build_model", "text_vocab"]

#: the recurrent layers a character model may use, by the name `--cell` takes
CELLS = ("lstm", "gru", "rnn")
#: how the ids reach the recurrent layer: a learned embedding or one-hot vectors
INPUTS = ("embedding", "onehot")


def build_model(vocab_size, cell="lstm", input="embedding", embedding_size=64, hidden=256, layers=2, dropout=0.0,
                lr=3e-3, clip=5.0, dtype="float32", output_dropout=0.0):
    """Embedding(V, E) or OneHot(V) -> cell(., hidden, layers) [-> Dropout(output_dropout)] -> Dense(hidden, V),
    cross-entropy, Adam. dropout: between the stacked recurrent layers; output_dropout: on the last one's output."""
    if input not in INPUTS:
        raise ValueError(f"input must be 'embedding' or 'onehot', got {input!r}")
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")
    recurrent = LAYERS.get(cell.upper())
    if input == "embedding":
        first, features = Embedding(vocab_size, embedding_size, dtype=dtype), embedding_size
    else:
        first, features = OneHot(vocab_size, dtype=dtype), vocab_size
    stack = [first, recurrent(features, hidden, num_layers=layers, dropout=dropout, dtype=dtype)]
    if output_dropout:
        stack.append(Dropout(output_dropout, dtype=dtype))
    stack.append(Dense(hidden, vocab_size, dtype=dtype))
    return Sequential(stack, loss="cross_entropy", optimizer=Adam(lr=lr), clip_norm=clip or None)


def text_vocab(model, source=None):
    """The model's vocabulary as a list, after checking that the model reads character ids; ValueError (naming
    `source`, the model's file) if not."""
    name = source or "the model"
    vocab = getattr(model, "vocab", None)
    if not vocab:
        raise ValueError(f"{name} has no vocabulary: it was not trained by `numrnn train text`")
    first = model.layers[0]
    if not isinstance(first, (Embedding, OneHot)):
        raise ValueError(f"{name} does not read character ids (its first layer is {type(first).__name__})")
    ids = getattr(first, "num_embeddings", None) or getattr(first, "num_classes", None)
    outputs = getattr(model.layers[-1], "out_features", None)
    if len(vocab) != ids or len(vocab) != outputs:
        raise ValueError(f"{name} has a vocabulary of {len(vocab)} characters, but reads {ids} ids and predicts "
                         f"{outputs} classes")
    return list(vocab)
