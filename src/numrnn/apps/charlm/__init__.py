"""Character-level language models: read a text, learn to predict its next character, write like it.

    corpus.py     the text, its vocabulary, ids, the 90/10 split, the parallel streams and their chunks
    model.py      build_model: Embedding/OneHot -> LSTM/GRU/RNN -> Dense, cross-entropy, Adam
    workers.py    the gradient of a batch computed in shares on threads, by the model and its clones
    train.py      train: truncated BPTT over consecutive chunks, the schedule, validation, the best model kept
    evaluate.py   evaluate_ids: nats per character, read as one stream (exact) or in parallel slices (estimate)
    sample.py     generate: text drawn from the model, one character at a time

    from numrnn.apps import charlm
    model, history = charlm.train(charlm.read_text(charlm.default_corpus()), out="runs/text", time_budget=600)
    print(charlm.generate(model, 200, temperature=0.8, prime="KING:", seed=0))
"""
from .corpus import (READINGS, VALIDATION_FRACTION, build_vocab, decode, default_corpus, encode, iterate_chunks,
                     make_streams, pass_offset, random_windows, read_text, split_ids)
from .evaluate import LN2, evaluate_ids
from .model import CELLS, INPUTS, build_model, text_vocab
from .sample import check_temperature, generate
from .train import DEFAULTS, train

__all__ = ["DEFAULTS", "CELLS", "INPUTS", "READINGS", "LN2", "VALIDATION_FRACTION", "default_corpus", "read_text",
           "build_vocab", "encode", "decode", "split_ids", "make_streams", "pass_offset", "random_windows",
           "iterate_chunks", "build_model", "text_vocab", "evaluate_ids", "train", "generate", "check_temperature"]
