#!/usr/bin/env python
"""Where numrnn's training step spends its time: cProfile over N train_on_batch calls, grouped into phases.

    python benchmarks/profile_train_step.py --config XL --steps 10
    python benchmarks/profile_train_step.py --config S --steps 200 --top 30

Same model and data as bench_train_step.py (one-hot 65 -> recurrent -> Dense -> cross-entropy -> Adam), float32,
BLAS threads fixed by --threads (default 2). Prints the phases (cumulative ms per step and % of the step), the top
functions by own time, and a micro-benchmark of the recurrent loops' pieces (BLAS vs element-wise vs overhead).
"""
import argparse
import _setup  # noqa: F401  (first: fixes BLAS threads and puts src/ on the path before NumPy loads)

import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from _machine import median_ms  # noqa: E402
from bench_train_step import CLASSES, CONFIGS, LR, get_cell_classes, make_data  # noqa: E402

# (label, function name, file suffix): cumulative time of each, per step
PHASES = [
    ("train_on_batch (whole step)", "train_on_batch", "model.py"),
    ("  validation: check_data", "check_data", "model.py"),
    ("  compute_gradients", "compute_gradients", "model.py"),
    ("    model.forward", "forward", "model.py"),
    ("      recurrent forward", "forward", "stacked.py"),
    ("        input projection (_project)", "_project", "layouts.py"),
    ("        forward loop (_cell_forward)", "_cell_forward", ""),
    ("      Dense.forward", "forward", "dense.py"),
    ("    loss.forward", "forward", "losses.py"),
    ("    loss.backward", "backward", "losses.py"),
    ("    model.backward", "backward", "model.py"),
    ("      Dense.backward", "backward", "dense.py"),
    ("      recurrent backward", "backward", "stacked.py"),
    ("        backward loop (_cell_backward)", "_cell_backward", ""),
    ("        weight gradients (_weight_gradients)", "_weight_gradients", "layouts.py"),
    ("  loss.accuracy", "accuracy", "losses.py"),
    ("  apply_gradients", "apply_gradients", "model.py"),
    ("    grad norm and finite checks", "grad_norm", "clipping.py"),
    ("    divergence guard copies (keep)", "keep", "optimizers.py"),
    ("    Adam.step", "step", "optimizers.py"),
    ("      Adam._update (all params)", "_update", "optimizers.py"),
]


def build(cell, batch, steps, hidden, seed=0):
    import numrnn
    layer, _ = get_cell_classes(cell)
    numrnn.seed(seed)
    model = numrnn.Sequential([layer(CLASSES, hidden), numrnn.Dense(hidden, CLASSES)], loss="cross_entropy",
                              optimizer=numrnn.Adam(lr=LR))
    X, y = make_data(batch, steps, seed)
    return model, X, y


def phase_table(stats, steps):
    rows = []
    total = None
    for label, function, suffix in PHASES:
        cumulative, calls = 0.0, 0
        for (filename, _, name), (_, ncalls, _, ct, _) in stats.stats.items():
            if name == function and filename.endswith(suffix) and ("numrnn" in filename):
                cumulative += ct
                calls += ncalls
        if calls == 0:
            continue
        per_step = 1e3 * cumulative / steps
        if total is None:
            total = per_step
        rows.append(f"| {label} | {per_step:.2f} | {100 * per_step / total:.1f}% | {calls / steps:g} |")
    return "| phase | ms/step (cumulative) | % of step | calls/step |\n|---|---:|---:|---:|\n" + "\n".join(rows)


def micro(cell, batch, steps, hidden, repeats):
    """Time the recurrent loops' pieces on their own (RNN cell): BLAS per step, element-wise per step, one big GEMM."""
    rng = np.random.default_rng(0)
    f32 = np.float32
    W = (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(f32)
    h = rng.standard_normal((steps + 1, batch, hidden)).astype(f32)
    p = rng.standard_normal((steps, batch, hidden)).astype(f32)
    g = np.empty((batch, hidden), f32)
    W_t = np.ascontiguousarray(W.T)

    def best(function):
        return median_ms(function, repeats)

    def loop_matmul():
        for t in range(steps):
            np.matmul(h[t], W.T, out=g)

    def loop_matmul_contiguous():
        for t in range(steps):
            np.matmul(h[t], W_t, out=g)

    def loop_elementwise():
        for t in range(steps):
            np.add(h[t + 1], p[t], out=g)
            np.tanh(g, out=g)

    def loop_full():
        for t in range(steps):
            out = h[t + 1]
            np.matmul(h[t], W.T, out=out)
            out += p[t]
            np.tanh(out, out=out)

    big_in = h[:-1].reshape(steps * batch, hidden)
    big_out = np.empty((hidden, hidden), f32)

    def weight_grad():
        np.matmul(p.reshape(steps * batch, hidden).T, big_in, out=big_out)

    results = {
        f"forward loop as numrnn writes it ({steps} x matmul+add+tanh)": best(loop_full),
        f"  {steps} x matmul (B,H)@W_hh.T (transposed view, as numrnn) alone": best(loop_matmul),
        f"  {steps} x matmul (B,H)@(H,H) with a contiguous copy of W_hh.T": best(loop_matmul_contiguous),
        f"  {steps} x add+tanh alone": best(loop_elementwise),
        "one weight-gradient GEMM (H, T*B)@(T*B, H)": best(weight_grad),
    }
    flops = 2.0 * batch * hidden * hidden * steps
    lines = ["| piece | ms | GFLOP/s |", "|---|---:|---:|"]
    for name, ms in results.items():
        rate = f"{flops / (ms / 1e3) / 1e9:.1f}" if "matmul" in name or "GEMM" in name or "loop as" in name else ""
        lines.append(f"| {name} | {ms:.2f} | {rate} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="S", choices=list(CONFIGS))
    parser.add_argument("--cell", default="rnn", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--steps", type=int, default=None, help="profiled steps (default: S 200, M 50, L/XL 10)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--threads", default="2")
    parser.add_argument("--no-micro", action="store_true")
    args = parser.parse_args()
    batch, steps, hidden = CONFIGS[args.config]
    count = args.steps or {"S": 200, "M": 50}.get(args.config, 10)
    model, X, y = build(args.cell, batch, steps, hidden)
    for _ in range(3):
        model.train_on_batch(X, y)
    start = time.perf_counter()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        model.train_on_batch(X, y)
    profiler.disable()
    wall = time.perf_counter() - start
    # the same steps without the profiler, for its overhead
    start = time.perf_counter()
    for _ in range(count):
        model.train_on_batch(X, y)
    plain = time.perf_counter() - start
    print(f"# {args.cell.upper()} {args.config}: batch {batch}, steps {steps}, hidden {hidden}; {count} steps; "
          f"{args.threads} BLAS threads; load average {open('/proc/loadavg').read().split()[:3]}")
    print(f"# {1e3 * wall / count:.2f} ms/step under cProfile, {1e3 * plain / count:.2f} ms/step without\n")
    stats = pstats.Stats(profiler)
    print(phase_table(stats, count))
    print()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(args.top)
    text = buffer.getvalue()
    print(text[text.find("   ncalls"):].rstrip())
    if not args.no_micro and args.cell == "rnn":
        print()
        print(micro(args.cell, batch, steps, hidden, repeats=max(5, count)))


if __name__ == "__main__":
    main()
