#!/usr/bin/env python
"""Characters per second drawn by numrnn.apps.charlm.generate (one forward call per character, the way sampling runs).

Run by hand (this is not a test):

    python benchmarks/bench_sample.py                                 # a fresh 1-layer 512-unit LSTM
    python benchmarks/bench_sample.py --model runs/text/model.npz     # a trained model
    python benchmarks/bench_sample.py --cell gru --hidden 256 --layers 2

The fresh model reads Tiny Shakespeare's vocabulary (65 characters) through an Embedding(65, 64); its weights are
random, which changes nothing in the time a step takes. Prints the median, fastest and slowest of --runs runs of
--length characters each, at temperature 0.8.
"""
import argparse
import time

from _setup import THREADS as _THREADS  # first: fixes BLAS threads and puts src/ on the path before NumPy loads

import numpy as np  # noqa: E402

import numrnn  # noqa: E402
from numrnn.apps import charlm  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a saved model (.npz) with a vocabulary; default: a fresh one")
    parser.add_argument("--cell", default="lstm", choices=("lstm", "gru", "rnn"))
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--length", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", default=_THREADS, help="BLAS threads (default 2)")
    args = parser.parse_args()

    if args.model:
        model, name = numrnn.load(args.model), args.model
    else:
        numrnn.seed(0)
        vocab = charlm.build_vocab(charlm.read_text(charlm.default_corpus()))
        model = charlm.build_model(len(vocab), cell=args.cell, hidden=args.hidden, layers=args.layers)
        model.vocab = vocab
        name = f"fresh {args.cell.upper()}, {args.layers} x {args.hidden}, vocabulary {len(vocab)}"
    charlm.generate(model, 50, temperature=0.8, prime="ROMEO:", seed=0)  # warm up
    rates = []
    for run in range(args.runs):
        start = time.perf_counter()
        charlm.generate(model, args.length, temperature=0.8, prime="ROMEO:", seed=run)
        rates.append(args.length / (time.perf_counter() - start))
    print(f"| model | chars/s (median of {args.runs} x {args.length}) | fastest | slowest | BLAS threads |")
    print("|---|---:|---:|---:|---:|")
    print(f"| {name} | {np.median(rates):,.0f} | {max(rates):,.0f} | {min(rates):,.0f} | {args.threads} |")


if __name__ == "__main__":
    main()
