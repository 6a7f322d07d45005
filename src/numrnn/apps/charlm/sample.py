"""Text from a character model: each next character drawn from softmax(logits / temperature), fed back in.

    generate(model, 500, temperature=0.8, prime="ROMEO:", seed=1)

The model reads the prime, then one character per forward call, carrying its state (model.streaming(), from
zeros; the layers get back their state afterwards). Temperature 0 takes the most likely character.
"""
import math

import numpy as np

from ... import threads
from ..._validate import check_positive_int
from ...functional import softmax
from .corpus import encode
from .model import text_vocab

__all__ = ["generate", "check_temperature"]


def generate(model, length, temperature=1.0, prime=None, seed=None):
    """`length` characters continuing `prime`, drawn from softmax(logits / temperature); 0 takes the argmax.

    prime: the text the model reads first (default: a newline, or the first character of the vocabulary).
    seed: seeds the draws (the same seed gives the same text). Returns the generated characters only.
    """
    vocab = text_vocab(model)
    length = check_positive_int("length", length)
    temperature = check_temperature(temperature)
    if prime is None or prime == "":
        prime = "\n" if "\n" in vocab else vocab[0]
    try:
        prime_ids = encode(prime, vocab)
    except ValueError as error:
        raise ValueError(f"the prime text has characters outside the vocabulary: {error}") from None
    rng = np.random.default_rng(seed)
    generated = []
    model.eval()
    with threads.for_model(model, 1), model.streaming(), model.inference():
        logits = model.forward(prime_ids[None, :])[-1, 0]  # time-major (T, 1, V): the last step's logits
        for _ in range(length):
            next_id = _draw(logits, temperature, rng)
            generated.append(next_id)
            logits = model.forward(np.array([[next_id]]))[-1, 0]
    return "".join(vocab[i] for i in generated)


def _draw(logits, temperature, rng):
    """One id: the argmax at temperature 0, else the first whose cumulative probability passes a uniform draw."""
    logits = logits.astype(np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    cumulative = np.cumsum(softmax(logits / temperature))
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(logits) - 1))


def check_temperature(temperature):
    """The temperature as a float: a finite number >= 0 (TypeError or ValueError otherwise)."""
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0 is greedy), got {temperature}")
    return temperature
