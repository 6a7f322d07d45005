#!/usr/bin/env python
"""Time one training step (or one inference forward) of numrnn and PyTorch side by side, on the same shapes and data.

Run by hand (this is not a test):

    python benchmarks/bench_train_step.py                         # --cell rnn, configs S,M,L,XL, train mode
    python benchmarks/bench_train_step.py --cell lstm --configs S,M --mode infer --json out.json

Model: one-hot input of 65 classes -> recurrent layer (hidden H) -> Dense/Linear(H, 65) -> cross-entropy at every
step (mean over positions) -> Adam(lr=1e-3) step, float32, both frameworks.

How it measures (see benchmarks/README.md): each framework runs in its own worker subprocess (one per framework and
config), so NumPy's OpenBLAS threads and torch's OpenMP threads never compete inside one process, and each worker
starts with a clean peak-RSS counter. The parent alternates the two workers in rounds (numrnn then torch, then torch
then numrnn, ...) so that load from other processes on the machine hits both alike, and reports medians.
"""
import argparse
import json
import math
import os
import platform
import sys
import time

from _setup import THREADS as _THREADS  # noqa: E402  (fixes BLAS threads and puts src/ on the path before NumPy loads)

import numpy as np  # noqa: E402

from _machine import WorkerProcess, loadavg  # noqa: E402

CONFIGS = {  # name: (batch, time steps, hidden)
    "S": (32, 25, 128),
    "M": (64, 64, 256),
    "L": (64, 128, 512),
    "XL": (128, 64, 1024),
}
CLASSES = 65
LR = 1e-3
MIB = 1024.0 * 1024.0


# ======================================================================================================================
# helpers shared by parent and workers
# ======================================================================================================================

def make_data(batch, steps, seed):
    """Random 'text': class ids, X the one-hot of ids[:, :-1] (float32), y = ids[:, 1:] (int64)."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, CLASSES, size=(batch, steps + 1))
    X = np.eye(CLASSES, dtype=np.float32)[ids[:, :-1]]
    y = np.ascontiguousarray(ids[:, 1:], dtype=np.int64)
    return X, y


def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to /proc/self/clear_refs). Returns the method used."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return "VmHWM (reset via /proc/self/clear_refs)"
    except OSError:
        return "ru_maxrss (no reset possible: growth is an upper bound only if the peak so far was at the baseline)"


def current_rss_mib():
    kib = _status_kib("VmRSS")
    if kib is not None:
        return kib / 1024.0
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # best effort


def peak_rss_mib():
    kib = _status_kib("VmHWM")
    if kib is not None:
        return kib / 1024.0
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def system_busy_jiffies():
    """CPU time spent busy by the whole machine, all CPUs, in clock ticks (None where /proc/stat is missing)."""
    try:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    return sum(values) - values[3] - values[4]  # minus idle and iowait


def process_jiffies(pid):
    """utime + stime of a process (all its threads), in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def wait_for_idle(threshold, max_wait, window=0.5):
    """Wait until other processes use less than `threshold` CPUs (averaged over `window` s), at most `max_wait` s.
    Returns the load seen last, in CPUs (None without /proc)."""
    deadline = time.perf_counter() + max_wait
    while True:
        before = system_busy_jiffies()
        if before is None:
            return None
        time.sleep(window)
        load = (system_busy_jiffies() - before) / (_CLK_TCK * window)
        if load < threshold or time.perf_counter() >= deadline:
            return load


def openblas_threads():
    """Ask the OpenBLAS that NumPy loaded how many threads it uses (ctypes; threadpoolctl when installed)."""
    try:
        import threadpoolctl  # optional, never required
        info = threadpoolctl.threadpool_info()
        return ", ".join(f"{i.get('internal_api')} {i.get('version')} threads={i.get('num_threads')}" for i in info)
    except ImportError:
        pass
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return "unknown"
    for lib in libs:
        try:
            handle = ctypes.CDLL(lib)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                       "openblas_get_num_threads64_", "openblas_get_num_threads"):
            function = getattr(handle, symbol, None)
            if function is not None:
                return f"{function()} (OpenBLAS {os.path.basename(lib)})"
    return "unknown (no OpenBLAS found)"


def numpy_blas_info():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        text = f"{blas.get('name')} {blas.get('version')}"
        config = blas.get("openblas configuration")
        if config:
            text += f" [{' '.join(config.split())}]"
        return text
    except Exception:  # older NumPy: no mode="dicts"
        return "see numpy.show_config()"


def source_fingerprint(package_dir):
    """A short hash of the package's .py files and the newest modification time: which code was measured."""
    import hashlib
    digest, newest = hashlib.sha1(), 0.0
    for root, dirs, files in os.walk(package_dir):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, package_dir).encode())
                with open(path, "rb") as f:
                    digest.update(f.read())
                newest = max(newest, os.path.getmtime(path))
    return digest.hexdigest()[:12], time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(newest))


def get_cell_classes(cell):
    """(numrnn layer class or None, message) for 'rnn', 'lstm', 'gru'."""
    import numrnn
    name = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[cell]
    layer = getattr(numrnn, name, None)
    if layer is None:
        try:
            module = __import__(f"numrnn.layers.{cell}", fromlist=[name])
            layer = getattr(module, name)
        except (ImportError, AttributeError) as error:
            return None, f"numrnn.{name} not available ({type(error).__name__}: {error})"
    return layer, f"numrnn.{name} from {layer.__module__}"


# ======================================================================================================================
# the worker: one framework, one config, in its own process
# ======================================================================================================================

class NumrnnRunner:
    def __init__(self, cell, mode, batch, steps, hidden, seed):
        import numrnn
        layer, _ = get_cell_classes(cell)
        if layer is None:
            raise RuntimeError(f"numrnn has no {cell.upper()} layer")
        numrnn.seed(seed)
        self.mode = mode
        self.X, self.y = make_data(batch, steps, seed)
        self.batch = batch
        self.model = numrnn.Sequential([layer(CLASSES, hidden), numrnn.Dense(hidden, CLASSES)],
                                       loss="cross_entropy", optimizer=numrnn.Adam(lr=LR))
        # the validated data, for the variants that skip validation
        self.Xc, self.yc, _ = self.model.check_data(self.X, self.y)
        if cell == "lstm":
            self.floor = LSTMProducts(mode, batch, steps, hidden, seed)
            self.variants = self.variants + ("products",)

    def public(self):
        """What a user calls: train_on_batch (validates the data every call) or predict (validates X)."""
        if self.mode == "train":
            return self.model.train_on_batch(self.X, self.y)["loss"]
        return self.model.predict(self.X, batch_size=self.batch)

    def raw(self):
        """The same work without validation: train_on_batch(checked=True), or eval forward + softmax (time-major,
        no copy back)."""
        if self.mode == "train":
            return self.model.train_on_batch(self.Xc, self.yc, checked=True)["loss"]
        self.model.eval()
        return self.model.loss.predict(self.model.forward(self.Xc))

    def check(self):
        """Validation alone: what train_on_batch / predict do before any work."""
        if self.mode == "train":
            return self.model.check_data(self.X, self.y)
        return self.model.layers[0].check_input("X", self.X)

    def products(self):
        """The LSTM's matrix products alone (see LSTMProducts)."""
        return self.floor.run()

    variants = ("public", "raw", "check")


class LSTMProducts:
    """The matrix products a NumPy LSTM cannot avoid, alone: the floor under numrnn's time on this BLAS.

    Forward: one product per step of the stacked weight [W_hh | b | W_ih] (4H, H + 1 + in) by the step's inputs
    (H + 1 + in, B), as numrnn's loop does (projecting the inputs ahead instead does the same multiply-adds). Training
    adds backward's W_hh^T (H, 4H) by the step's gate gradients (4H, B), and the two weight-gradient products over
    all steps. Same shapes, float32, fresh buffers reused from call to call; no element-wise work, no Python
    beyond the loop. If these alone take about as long as torch's whole step, no NumPy LSTM can beat torch here."""

    def __init__(self, mode, batch, steps, hidden, seed):
        rng = np.random.default_rng(seed)
        rows = 4 * hidden

        def array(*shape):
            return rng.uniform(-0.1, 0.1, shape).astype(np.float32)

        self.train, self.steps, stacked = mode == "train", steps, hidden + 1 + CLASSES
        self.weight, self.inputs, self.gates = array(rows, stacked), array(steps, stacked, batch), array(rows, batch)
        if self.train:
            self.weight_hh_t, self.step_grad, self.grad_h = array(hidden, rows), array(rows, batch), array(hidden, batch)
            self.grad_gates = array(rows, steps * batch)
            self.x_rows, self.h_rows = array(steps * batch, CLASSES), array(steps * batch, hidden)
            self.grad_ih, self.grad_hh = array(rows, CLASSES), array(rows, hidden)

    def run(self):
        for t in range(self.steps):
            np.matmul(self.weight, self.inputs[t], out=self.gates)
        if self.train:
            for t in range(self.steps - 1):
                np.matmul(self.weight_hh_t, self.step_grad, out=self.grad_h)
            np.matmul(self.grad_gates, self.x_rows, out=self.grad_ih)
            np.matmul(self.grad_gates, self.h_rows, out=self.grad_hh)


class TorchRunner:
    def __init__(self, cell, mode, batch, steps, hidden, seed):
        import torch
        import torch.nn.functional as F
        from torch import nn
        torch.set_num_threads(int(_THREADS))
        torch.manual_seed(seed)
        self.torch, self.F, self.mode = torch, F, mode
        X, y = make_data(batch, steps, seed)
        self.x, self.y = torch.from_numpy(X), torch.from_numpy(y)
        recurrent = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = recurrent(CLASSES, hidden, batch_first=True)
        self.linear = nn.Linear(hidden, CLASSES)
        self.optimizer = torch.optim.Adam(list(self.rnn.parameters()) + list(self.linear.parameters()), lr=LR)

    def public(self):
        torch, F = self.torch, self.F
        if self.mode == "train":
            self.rnn.train()
            self.linear.train()
            self.optimizer.zero_grad(set_to_none=True)
            out, _ = self.rnn(self.x)
            logits = self.linear(out)
            loss = F.cross_entropy(logits.reshape(-1, CLASSES), self.y.reshape(-1))
            loss.backward()
            self.optimizer.step()
            return loss.item()
        self.rnn.eval()
        self.linear.eval()
        with torch.no_grad():
            out, _ = self.rnn(self.x)
            return F.softmax(self.linear(out), dim=-1)

    variants = ("public",)


def worker_main(spec):
    """Serve commands (JSON lines on stdin) for one framework and one config; answer JSON lines on stdout."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol

    def reply(**message):
        out.write(json.dumps(message) + "\n")

    if spec["framework"] == "info":
        import torch
        reply(torch_version=torch.__version__, torch_threads=torch.get_num_threads(),
              torch_parallel=" ".join(torch.__config__.parallel_info().split()),
              torch_blas="MKL" if torch.backends.mkl.is_available() else "no MKL",
              torch_mkldnn=torch.backends.mkldnn.is_available())
        return
    try:
        runner_class = NumrnnRunner if spec["framework"] == "numrnn" else TorchRunner
        import gc
        runner = runner_class(spec["cell"], spec["mode"], spec["batch"], spec["steps"], spec["hidden"], spec["seed"])
        # peak memory: reset the high-water mark just before the first steps (the warm-up steps), which allocate
        # everything a step needs (workspaces, optimizer state, autograd graph)
        gc.collect()
        method = reset_peak_rss()
        before = current_rss_mib()
        warmup_times = []
        for _ in range(spec["warmup"]):
            start = time.perf_counter()
            runner.public()
            warmup_times.append(time.perf_counter() - start)
        peak = peak_rss_mib()
        # two more steps of each variant, timed, to size the run (the best one: a load spike must not shrink it)
        estimate = {}
        for variant in runner.variants:
            times = warmup_times[1:] if variant == "public" else []
            for _ in range(2):
                start = time.perf_counter()
                getattr(runner, variant)()
                times.append(time.perf_counter() - start)
            estimate[variant] = min(times)
        extra = {}
        if spec["framework"] == "numrnn":
            extra = {"blas_threads": openblas_threads()}
        reply(ok=True, rss_before_mib=before, peak_mib=peak, growth_mib=peak - before, memory_method=method,
              estimate=estimate, pid=os.getpid(), **extra)
    except Exception as error:  # reported to the parent, which skips this config
        reply(ok=False, error=f"{type(error).__name__}: {error}")
        return
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "run":
            times = {variant: [] for variant in runner.variants}
            for _ in range(command["n"]):
                # numrnn's variants alternate step by step, so they see the same conditions too
                for variant in runner.variants:
                    function = getattr(runner, variant)
                    start = time.perf_counter()
                    function()
                    times[variant].append(time.perf_counter() - start)
            reply(times=times)


# ======================================================================================================================
# the parent: spawn workers, alternate them, report
# ======================================================================================================================

class Worker(WorkerProcess):
    def __init__(self, spec):
        super().__init__(__file__, spec, _THREADS)


def _quantiles(values):
    values = np.asarray(values, dtype=np.float64)
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median_s": float(median), "q1_s": float(q1), "q3_s": float(q3), "min_s": float(values.min()),
            "n": int(values.size), "spread_pct": float(100.0 * (q3 - q1) / median) if median else 0.0}


def run_config(name, args, log):
    batch, steps, hidden = CONFIGS[name]
    spec = {"cell": args.cell, "mode": args.mode, "batch": batch, "steps": steps, "hidden": hidden,
            "seed": args.seed, "warmup": args.warmup}
    workers = {}
    try:
        setup = {}
        for framework in ("numrnn", "torch"):  # one after the other, so each one's first steps run undisturbed
            workers[framework] = Worker({**spec, "framework": framework})
            setup[framework] = workers[framework].receive()
            if not setup[framework]["ok"]:
                log(f"  {name}: {framework} failed to set up: {setup[framework]['error']}; skipping")
                return None
        t_numrnn = sum(setup["numrnn"]["estimate"].values())
        t_torch = setup["torch"]["estimate"]["public"]
        if args.repeats:
            repeats = args.repeats
        else:
            repeats = int(min(args.max_repeats, max(args.min_repeats, round(args.target_s / (t_numrnn + t_torch)))))
        # about 10 rounds, each framework running several steps in a row per round
        per_round = max(1, math.ceil(repeats / args.rounds))
        rounds = math.ceil(repeats / per_round)
        log(f"  {name}: B={batch} T={steps} H={hidden}: {repeats} steps each in {rounds} rounds of {per_round} "
            f"(estimates: numrnn {1e3 * setup['numrnn']['estimate']['public']:.1f} ms, "
            f"torch {1e3 * t_torch:.1f} ms)")
        times = {"numrnn": {}, "torch": {}}
        round_ratios, foreign_loads, waited_loads = [], [], []
        for index in range(rounds):
            order = ("numrnn", "torch") if index % 2 == 0 else ("torch", "numrnn")
            medians = {}
            if args.idle_below > 0:
                waited_loads.append(wait_for_idle(args.idle_below, args.max_wait))
            for framework in order:
                pid = workers[framework].process.pid
                busy0, own0, start = system_busy_jiffies(), process_jiffies(pid), time.perf_counter()
                workers[framework].send(cmd="run", n=per_round)
                answer = workers[framework].receive()
                busy1, own1, elapsed = system_busy_jiffies(), process_jiffies(pid), time.perf_counter() - start
                if None not in (busy0, own0, busy1, own1):
                    # CPUs used by everything else on the machine while this framework ran
                    foreign_loads.append(max(0.0, (busy1 - busy0 - (own1 - own0)) / (_CLK_TCK * elapsed)))
                if "times" not in answer:
                    log(f"  {name}: {framework} worker failed: {answer.get('error')}; skipping")
                    return None
                for variant, values in answer["times"].items():
                    times[framework].setdefault(variant, []).extend(values)
                medians[framework] = float(np.median(answer["times"]["public"]))
                time.sleep(args.pause)  # let the finished worker's BLAS/OpenMP threads stop spinning
            round_ratios.append(medians["numrnn"] / medians["torch"])
    finally:
        for worker in workers.values():
            worker.close()
    stats = {framework: {variant: _quantiles(values) for variant, values in variants.items()}
             for framework, variants in times.items()}
    tokens = batch * steps
    n_ms = 1e3 * stats["numrnn"]["public"]["median_s"]
    t_ms = 1e3 * stats["torch"]["public"]["median_s"]
    raw_ms = 1e3 * stats["numrnn"]["raw"]["median_s"]
    check_ms = 1e3 * stats["numrnn"]["check"]["median_s"]
    products_ms = 1e3 * stats["numrnn"]["products"]["median_s"] if "products" in stats["numrnn"] else None
    return {
        "config": name, "batch": batch, "steps": steps, "hidden": hidden, "cell": args.cell, "mode": args.mode,
        "repeats": repeats, "rounds": rounds,
        "numrnn_ms": n_ms, "torch_ms": t_ms, "ratio": n_ms / t_ms,
        "ratio_rounds_median": float(np.median(round_ratios)),
        "ratio_rounds_min": float(np.min(round_ratios)), "ratio_rounds_max": float(np.max(round_ratios)),
        "numrnn_tok_s": tokens / (n_ms / 1e3), "torch_tok_s": tokens / (t_ms / 1e3),
        "numrnn_best_ms": 1e3 * stats["numrnn"]["public"]["min_s"], "torch_best_ms": 1e3 * stats["torch"]["public"]["min_s"],
        "numrnn_raw_ms": raw_ms, "numrnn_validation_ms": check_ms,
        "numrnn_validation_pct": 100.0 * check_ms / n_ms,
        "numrnn_peak_growth_mib": setup["numrnn"]["growth_mib"], "torch_peak_growth_mib": setup["torch"]["growth_mib"],
        "numrnn_peak_abs_mib": setup["numrnn"]["peak_mib"], "torch_peak_abs_mib": setup["torch"]["peak_mib"],
        "numrnn_rss_before_mib": setup["numrnn"]["rss_before_mib"],
        "torch_rss_before_mib": setup["torch"]["rss_before_mib"],
        "memory_method": setup["numrnn"]["memory_method"], "memory_steps": args.warmup,
        "numrnn_blas_threads": setup["numrnn"].get("blas_threads"),
        "foreign_load_cpus": float(np.mean(foreign_loads)) if foreign_loads else None,
        "foreign_load_cpus_max": float(np.max(foreign_loads)) if foreign_loads else None,
        "load_before_rounds_cpus": [x for x in waited_loads if x is not None],
        "products_ms": products_ms, "products_ratio": None if products_ms is None else products_ms / t_ms,
        "stats": stats,
    }


def markdown_tables(results, args):
    label = "ms/step" if args.mode == "train" else "ms/forward"
    lines = [f"| config | batch | steps | hidden | numrnn {label} | torch {label} | ratio | numrnn tok/s | "
             f"torch tok/s | numrnn peak MiB | torch peak MiB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['config']} | {r['batch']} | {r['steps']} | {r['hidden']} | {r['numrnn_ms']:.2f} | "
                     f"{r['torch_ms']:.2f} | {r['ratio']:.2f} | {r['numrnn_tok_s']:,.0f} | {r['torch_tok_s']:,.0f} | "
                     f"{r['numrnn_peak_growth_mib']:.1f} | {r['torch_peak_growth_mib']:.1f} |")
    main = "\n".join(lines)
    public = "train_on_batch" if args.mode == "train" else "predict"
    raw = "train_on_batch(checked=True)" if args.mode == "train" else "forward+softmax"
    check = "check_data" if args.mode == "train" else "check_input"
    lines = [f"| config | numrnn {raw} ms | validation ({check}) ms | validation % of {public} | "
             f"best numrnn / torch ms (ratio) | ratio per round (median, min-max) | spread numrnn / torch (IQR % of median) | steps each | "
             f"lower peak | numrnn abs peak MiB | torch abs peak MiB | other load, CPUs (mean/max) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in results:
        lower = "numrnn" if r["numrnn_peak_growth_mib"] < r["torch_peak_growth_mib"] else "torch"
        lines.append(f"| {r['config']} | {r['numrnn_raw_ms']:.2f} | {r['numrnn_validation_ms']:.3f} | "
                     f"{r['numrnn_validation_pct']:.1f}% | {r['numrnn_best_ms']:.2f} / {r['torch_best_ms']:.2f} "
                     f"({r['numrnn_best_ms'] / r['torch_best_ms']:.2f}) | {r['ratio_rounds_median']:.2f} "
                     f"({r['ratio_rounds_min']:.2f}-{r['ratio_rounds_max']:.2f}) | "
                     f"{r['stats']['numrnn']['public']['spread_pct']:.0f}% / "
                     f"{r['stats']['torch']['public']['spread_pct']:.0f}% | {r['repeats']} | {lower} | "
                     f"{r['numrnn_peak_abs_mib']:.0f} | {r['torch_peak_abs_mib']:.0f} | {_load(r)} |")
    floors = [r for r in results if r.get("products_ms") is not None]
    if floors:
        header = (f"| config | numrnn {public} ms | its matrix products alone ms (LSTMProducts) | "
                  f"products / numrnn | products / torch |")
        lines += ["", header, "|---|---:|---:|---:|---:|"]
        for r in floors:
            lines.append(f"| {r['config']} | {r['numrnn_ms']:.2f} | {r['products_ms']:.2f} | "
                         f"{r['products_ms'] / r['numrnn_ms']:.2f} | {r['products_ratio']:.2f} |")
    return main, "\n".join(lines)


def _load(result):
    if result.get("foreign_load_cpus") is None:
        return "?"
    return f"{result['foreign_load_cpus']:.1f} / {result['foreign_load_cpus_max']:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cell", choices=("rnn", "lstm", "gru"), default="rnn")
    parser.add_argument("--configs", default="S,M,L,XL", help="comma-separated from " + ",".join(CONFIGS))
    parser.add_argument("--mode", choices=("train", "infer"), default="train")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed steps per framework and config (default: sized so a config takes ~--target-s)")
    parser.add_argument("--target-s", type=float, default=15.0, help="time budget per config when --repeats is unset")
    parser.add_argument("--min-repeats", type=int, default=7)
    parser.add_argument("--max-repeats", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="how many times to alternate the frameworks")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (also the peak-memory steps)")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between switching frameworks")
    parser.add_argument("--idle-below", type=float, default=0.5,
                        help="before each round wait until other processes use fewer CPUs than this (0: never wait)")
    parser.add_argument("--max-wait", type=float, default=10.0, help="longest wait for an idle machine per round (s)")
    parser.add_argument("--threads", default="2", help="threads for both (BLAS env vars, torch.set_num_threads)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="FILE", help="save the results (and environment) as JSON")
    parser.add_argument("--_worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        worker_main(json.loads(args._worker))
        return

    names = [c.strip().upper() for c in args.configs.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; choose from {list(CONFIGS)}")

    def log(message):
        print(message, file=sys.stderr, flush=True)

    layer, message = get_cell_classes(args.cell)
    if layer is None:
        print(f"skipping --cell {args.cell}: {message}")
        return
    info_worker = Worker({"framework": "info"})
    info = info_worker.receive()
    info_worker.close()
    import numrnn
    env = {
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "numpy": np.__version__, "numpy_blas": numpy_blas_info(), "numrnn": getattr(numrnn, "__version__", "?"),
        "numrnn_path": os.path.dirname(numrnn.__file__), "numrnn_layer": message,
        "numrnn_source": dict(zip(("sha1", "newest_mtime"), source_fingerprint(os.path.dirname(numrnn.__file__)))),
        "threads": _THREADS, "loadavg_start": loadavg(), **info,
    }
    header = [
        f"# numrnn vs torch: {args.cell.upper()} {args.mode}, float32, {_THREADS} threads each",
        f"# python {env['python']} on {env['platform']}, {env['cpus']} CPUs, load average {env['loadavg_start']}",
        f"# numpy {env['numpy']}, BLAS {env['numpy_blas']}",
        f"# numrnn {env['numrnn']} ({env['numrnn_path']}, source sha1 {env['numrnn_source']['sha1']}, newest file "
        f"{env['numrnn_source']['newest_mtime']}), {message}",
        f"# torch {env['torch_version']}, {env['torch_blas']}, mkldnn={env['torch_mkldnn']}, "
        f"intra-op threads {env['torch_threads']} (set_num_threads({_THREADS}) in the worker)",
    ]
    print("\n".join(header), flush=True)
    results = []
    started = time.perf_counter()
    for name in names:
        result = run_config(name, args, log)
        if result is not None:
            results.append(result)
            env.setdefault("numrnn_blas_threads", result["numrnn_blas_threads"])
    env["loadavg_end"] = loadavg()
    if not results:
        print("no results")
        return
    main_table, detail_table = markdown_tables(results, args)
    what = ("one training step (forward, cross-entropy, backward, Adam)" if args.mode == "train"
            else "one inference forward (eval / no_grad, softmax included)")
    public = "train_on_batch" if args.mode == "train" else "predict"
    print(f"# OpenBLAS threads in the numrnn worker: {env.get('numrnn_blas_threads')}; "
          f"load average at the end {env['loadavg_end']}; total {time.perf_counter() - started:.0f} s")
    print()
    print(f"{what}; median over the timed steps; numrnn = public {public}; ratio = numrnn/torch "
          f"(< 1.0: numrnn faster); peak MiB = peak RSS growth over the RSS just before the first "
          f"{args.warmup} steps, each framework in a fresh process.")
    print()
    print(main_table)
    print()
    print(detail_table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items() if not k.startswith("_")}, "env": env,
                       "results": results}, f, indent=2)
        print(f"\nsaved {args.json}")



if __name__ == "__main__":
    main()
