#!/usr/bin/env python
"""The recurrent layers' transposing copies, a plain strided copy against numrnn.layers.layouts.copy_transposed.

    python benchmarks/bench_transpose.py

For each hidden size H of bench_train_step.py's configs (and 384, a stride that is not a multiple of 1 KiB): the
LSTM's W_hh^T (H, 4H) copy, rebuilt on every training step, and the gradient of the outputs (T, B, H) copied as
(T, H, B), on every backward. Medians of --repeats timings, one process, the machine's load average printed.
"""
import argparse
import _setup  # noqa: F401  (first: fixes BLAS threads and puts src/ on the path before NumPy loads)

import numpy as np  # noqa: E402

from _machine import loadavg, median_ms  # noqa: E402
from bench_train_step import CONFIGS  # noqa: E402
from numrnn.layers.layouts import copy_transposed  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--threads", default="2", help="BLAS threads (the copies themselves use one)")
    args = parser.parse_args()
    print(f"# load average {loadavg()}")
    print("| array | shape | plain copy ms | copy_transposed ms | plain / copy_transposed |")
    print("|---|---|---:|---:|---:|")
    shapes = [(name, batch, steps, hidden) for name, (batch, steps, hidden) in CONFIGS.items()]
    shapes.append(("H=384", 64, 100, 384))
    rng = np.random.default_rng(0)
    for name, batch, steps, hidden in shapes:
        for label, shape in ((f"{name} W_hh^T", (4 * hidden, hidden)), (f"{name} grad outputs", (steps, batch, hidden))):
            source = rng.standard_normal(shape).astype(np.float32)
            out = np.empty(shape[:-2] + shape[:-3:-1], np.float32)
            plain = median_ms(lambda: np.copyto(out, source.swapaxes(-1, -2)), args.repeats)
            banded = median_ms(lambda: copy_transposed(out, source), args.repeats)
            print(f"| {label} | {shape} | {plain:.3f} | {banded:.3f} | {plain / banded:.2f} |")
    print(f"# load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
