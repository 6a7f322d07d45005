#!/usr/bin/env python
"""The character model's real work, numrnn against the identical torch model: training (characters per second),
scoring the validation split as one stream, and sampling at batch 1.

Run by hand (this is not a test):

    python benchmarks/bench_charlm.py                                    # both models, every workload
    python benchmarks/bench_charlm.py --models default --work evaluate,sample --model runs/text/model.npz
    python benchmarks/bench_charlm.py --rounds 4 --train-steps 20 --json charlm.json

Models (numrnn.apps.charlm.build_model and the same layers in torch, weights copied from numrnn's):
  default    numrnn train text's model (charlm.DEFAULTS)
  gru512     Embedding(65, 64) -> GRU(64, 512) -> Dropout(0.2) -> Linear(512, 65); Adam 2e-3, clip 1, 64 x 100
             (torch's best 600-second RNN on this machine)
  lstm2x256  Embedding(65, 64) -> LSTM(64, 256, 2 layers, dropout 0.2) -> Linear(256, 65); Adam 3e-3, clip 5,
             64 streams x 50 characters (the defaults before the 600-second runs of the README)
A model the same as the default is left out of the default --models.
Workloads:
  train     one step of truncated BPTT on the next chunk of the streams of Tiny Shakespeare's first 90%, the state
            carried: numrnn's own trainer step (charlm's Trainer.train_step: two worker threads, each on half the
            streams, then clipping and Adam), against torch's zero_grad, forward, cross-entropy, backward,
            clip_grad_norm_, Adam.step, on torch.set_num_threads(2). Characters per second = batch x steps / step.
  evaluate  the loss on the whole last 10% as one stream reads it: numrnn's evaluate_ids (segments side by side,
            checked, two threads: what `numrnn evaluate` runs) against torch's one-stream forward (chunks of
            4,096 characters, the state carried, no_grad); numrnn's one-stream loop (streams=1) is run once as
            the reference, and the table gives both figures' difference from it.
  sample    numrnn.apps.charlm.generate against the same loop in torch (one character per forward, softmax at
            temperature 0.8, a draw), after the prime "ROMEO:"; characters per second. Torch runs it twice: with
            the model's own nn.LSTM / nn.GRU on a sequence of one character, and with the same weights in its
            cells (nn.LSTMCell / nn.GRUCell), the faster way to write it in torch.

Each framework runs in its own process per model (BLAS threads fixed before NumPy loads: --threads, default 2);
the parent alternates them for --rounds rounds (numrnn first, then torch first, ...), each round running the same
work in each, so that load from other processes falls on both alike; the tables give medians over all rounds and
the ratio numrnn / torch of the rates (above 1: numrnn faster). --model FILE: a trained numrnn character model
(its vocabulary and weights) for evaluate and sample; training always starts from fresh weights.
"""
import argparse
import json
import os
import sys
import time

from _setup import THREADS as _THREADS  # first: fixes BLAS threads and puts src/ on the path before NumPy loads

import numpy as np  # noqa: E402

from numrnn.apps.charlm import DEFAULTS  # noqa: E402
from _machine import WorkerProcess, busiest, loadavg  # noqa: E402

#: what a model of the benchmark is: charlm's options (the rest are charlm.DEFAULTS)
KEYS = ("cell", "layers", "hidden", "dropout", "output_dropout", "lr", "clip", "batch", "steps")
MODELS = {
    "default": {key: DEFAULTS[key] for key in KEYS},
    "gru512": {"cell": "gru", "layers": 1, "hidden": 512, "dropout": 0.0, "output_dropout": 0.2, "lr": 2e-3,
               "clip": 1.0, "batch": 64, "steps": 100},
    "lstm2x256": {"cell": "lstm", "layers": 2, "hidden": 256, "dropout": 0.2, "output_dropout": 0.0, "lr": 3e-3,
                  "clip": 5.0, "batch": 64, "steps": 50},
}
#: --models by default: numrnn train text's model and the others that differ from it
DEFAULT_MODELS = [name for name, config in MODELS.items() if name == "default" or config != MODELS["default"]]
WORK = ("train", "evaluate", "sample")
EMBEDDING = 64
PRIME = "ROMEO:"
TEMPERATURE = 0.8


def corpus_ids(vocab=None):
    from numrnn.apps import charlm
    text = charlm.read_text(charlm.default_corpus())
    vocab = vocab or charlm.build_vocab(text)
    train, val = charlm.split_ids(charlm.encode(text, vocab))
    return vocab, train, val


# ======================================================================================================================
# workers: one framework, one model, in its own process
# ======================================================================================================================

class NumrnnWorker:
    def __init__(self, spec):
        import numrnn
        from numrnn.apps import charlm
        self.numrnn, self.charlm, self.spec = numrnn, charlm, spec
        config = MODELS[spec["model"]]
        numrnn.seed(0)
        self.vocab, train, self.val = corpus_ids()
        self.train_model = self.build(config)
        if spec.get("file"):
            self.model = numrnn.load(spec["file"])
            self.vocab, _, self.val = corpus_ids(self.model.vocab)
        else:
            self.model = self.train_model.clone()
            self.model.vocab = list(self.vocab)
        self.trainer = None
        if "train" in spec["work"]:
            self.trainer = self.make_trainer(config, train)

    def build(self, config):
        model = self.charlm.build_model(len(self.vocab), cell=config["cell"], embedding_size=EMBEDDING,
                                        hidden=config["hidden"], layers=config["layers"], dropout=config["dropout"],
                                        output_dropout=config["output_dropout"], lr=config["lr"], clip=config["clip"])
        model.vocab = list(self.vocab)
        return model

    def make_trainer(self, config, train):
        from numrnn.apps.charlm.trainer import Trainer
        from numrnn.apps.charlm.workers import Workers
        model = self.train_model
        for layer in model.layers:
            if hasattr(layer, "stateful"):
                layer.stateful = True
        options = {**self.charlm.DEFAULTS, **{k: v for k, v in config.items() if k in self.charlm.DEFAULTS},
                   "lr_schedule": "constant"}
        inputs, targets = self.charlm.make_streams(train, config["batch"])
        inputs, targets, _ = model.check_data(inputs, targets)
        self.workers = Workers(model, inputs, targets, options["threads"], seed=0)
        trainer = Trainer(model, options, self.workers, self.val, None, {"validation": []}, None)
        trainer.start = time.perf_counter()
        return trainer

    def train(self, steps):
        from numrnn import threads
        times = []
        with threads.for_model(self.train_model, self.spec_batch, workers=self.workers.count):
            for _ in range(steps):
                began = time.perf_counter()
                self.trainer.train_step()
                times.append(time.perf_counter() - began)
        return {"times": times, "loss": self.trainer.train_loss}

    @property
    def spec_batch(self):
        return MODELS[self.spec["model"]]["batch"]

    def evaluate(self, reference=False):
        began = time.perf_counter()
        how = {}
        if reference:
            loss = self.charlm.evaluate_ids(self.model, self.val, streams=1, report=how)
        else:
            loss = self.charlm.evaluate_ids(self.model, self.val, threads=2, report=how)
        return {"seconds": time.perf_counter() - began, "loss": loss, "characters": int(self.val.size - 1),
                "how": how}

    def sample(self, length, seed):
        began = time.perf_counter()
        text = self.charlm.generate(self.model, length, temperature=TEMPERATURE, prime=PRIME, seed=seed)
        return {"seconds": time.perf_counter() - began, "characters": len(text)}

    def weights(self):
        return {"vocab": self.model.vocab, "config": self.model.config()}


class TorchWorker:
    """The same models in torch: Embedding -> LSTM/GRU -> Dropout -> Linear, numrnn's weights copied by name."""

    def __init__(self, spec):
        import numrnn
        import torch
        from numrnn.apps import charlm
        torch.set_num_threads(int(_THREADS))
        torch.manual_seed(0)
        self.torch, self.charlm, self.spec = torch, charlm, spec
        config = self.config = MODELS[spec["model"]]
        numrnn.seed(0)
        vocab, train, self.val = corpus_ids()
        source = charlm.build_model(len(vocab), cell=config["cell"], embedding_size=EMBEDDING,
                                    hidden=config["hidden"], layers=config["layers"], dropout=config["dropout"],
                                    output_dropout=config["output_dropout"])
        self.train_net = self.net(len(vocab), config, source)
        if spec.get("file"):
            source = numrnn.load(spec["file"])
            vocab, _, self.val = corpus_ids(source.vocab)
        self.vocab = list(vocab)
        self.eval_net = self.net(len(vocab), config, source)
        self.eval_net.eval()
        if "train" in spec["work"]:
            inputs, targets = charlm.make_streams(train, config["batch"])
            self.inputs, self.targets = torch.from_numpy(inputs), torch.from_numpy(targets)
            self.optimizer = torch.optim.Adam(self.train_net.parameters(), lr=config["lr"])
            self.position, self.hidden = 0, None

    def net(self, vocab_size, config, source):
        from torch import nn
        torch = self.torch
        recurrent_type = {"lstm": nn.LSTM, "gru": nn.GRU}[config["cell"]]
        kinds = [type(layer).__name__ for layer in source.layers]
        net = nn.ModuleDict({
            "embedding": nn.Embedding(vocab_size, EMBEDDING),
            "rnn": recurrent_type(EMBEDDING, config["hidden"], num_layers=config["layers"],
                                  dropout=config["dropout"] if config["layers"] > 1 else 0.0, batch_first=True),
            "dropout": nn.Dropout(config["output_dropout"]),
            "linear": nn.Linear(config["hidden"], vocab_size)})
        state = source.state_dict()
        names = {"0.weight": "embedding.weight", f"{len(kinds) - 1}.weight": "linear.weight",
                 f"{len(kinds) - 1}.bias": "linear.bias"}
        mapped = {names.get(name, "rnn." + name.split(".", 1)[1]): torch.from_numpy(np.array(value))
                  for name, value in state.items()}
        net.load_state_dict(mapped)
        return net

    def forward(self, net, x, hidden):
        out, hidden = net["rnn"](net["embedding"](x), hidden)
        return net["linear"](net["dropout"](out)), hidden

    def train(self, steps):
        torch, F, config = self.torch, self.torch.nn.functional, self.config
        net, times = self.train_net, []
        net.train()
        for _ in range(steps):
            began = time.perf_counter()
            if self.position + config["steps"] > self.inputs.shape[1]:
                self.position, self.hidden = 0, None  # a new pass from zeros, as numrnn's trainer
            window = slice(self.position, self.position + config["steps"])
            x, y = self.inputs[:, window], self.targets[:, window]
            self.optimizer.zero_grad(set_to_none=True)
            logits, hidden = self.forward(net, x, self.hidden)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), config["clip"])
            self.optimizer.step()
            # the state carried to the next chunk, cut from the graph (truncated BPTT)
            self.hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
            self.position += config["steps"]
            value = loss.item()
            times.append(time.perf_counter() - began)
        return {"times": times, "loss": value}

    def evaluate(self, reference=False):
        torch = self.torch
        ids = torch.from_numpy(self.val)
        began = time.perf_counter()
        total, hidden = 0.0, None
        with torch.no_grad():
            for start in range(0, ids.numel() - 1, 4096):
                x = ids[start:min(start + 4096, ids.numel() - 1)][None, :]
                y = ids[start + 1:start + 1 + x.shape[1]]
                logits, hidden = self.forward(self.eval_net, x, hidden)
                total += float(torch.nn.functional.cross_entropy(logits[0].double(), y, reduction="sum"))
        count = ids.numel() - 1
        return {"seconds": time.perf_counter() - began, "loss": total / count, "characters": int(count)}

    def sample(self, length, seed):
        """The model's own modules, one character per forward (nn.LSTM / nn.GRU on a sequence of 1)."""
        torch = self.torch
        generator = torch.Generator().manual_seed(seed)
        prime = torch.from_numpy(self.charlm.encode(PRIME, self.vocab))[None, :]
        began = time.perf_counter()
        drawn = []
        with torch.no_grad():
            logits, hidden = self.forward(self.eval_net, prime, None)
            for _ in range(length):
                probs = torch.softmax(logits[0, -1].double() / TEMPERATURE, dim=-1)
                next_id = int(torch.multinomial(probs, 1, generator=generator))
                drawn.append(next_id)
                logits, hidden = self.forward(self.eval_net, torch.tensor([[next_id]]), hidden)
        return {"seconds": time.perf_counter() - began, "characters": len(drawn)}

    def sample_cells(self, length, seed):
        """The same weights in torch's cells (nn.LSTMCell / nn.GRUCell per layer), the way torch users write a fast
        sampling loop: nn.LSTM's call costs more than its work at one character."""
        torch, nn, config = self.torch, self.torch.nn, self.config
        net = self.eval_net
        if not hasattr(self, "cells"):
            kind = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}[config["cell"]]
            self.cells = []
            for layer in range(config["layers"]):
                cell = kind(EMBEDDING if layer == 0 else config["hidden"], config["hidden"])
                cell.load_state_dict({name: getattr(net["rnn"], f"{name}_l{layer}")
                                      for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
                self.cells.append(cell.eval())
        generator = torch.Generator().manual_seed(seed)
        prime = self.charlm.encode(PRIME, self.vocab)
        began = time.perf_counter()
        drawn, states = [], [None] * len(self.cells)

        def step(index):
            x = net["embedding"](torch.tensor([index]))
            for layer, cell in enumerate(self.cells):
                states[layer] = cell(x, states[layer])
                x = states[layer][0] if isinstance(states[layer], tuple) else states[layer]
            return net["linear"](x)

        with torch.no_grad():
            for index in prime:
                logits = step(int(index))
            for _ in range(length):
                probs = torch.softmax(logits[0].double() / TEMPERATURE, dim=-1)
                next_id = int(torch.multinomial(probs, 1, generator=generator))
                drawn.append(next_id)
                logits = step(next_id)
        return {"seconds": time.perf_counter() - began, "characters": len(drawn)}


def worker_main(spec):
    """Serve commands (JSON lines on stdin) for one framework and one model; answer JSON lines on stdout."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    try:
        worker = (NumrnnWorker if spec["framework"] == "numrnn" else TorchWorker)(spec)
        # warm-up: a few steps, a short sample (first calls allocate and build)
        if "train" in spec["work"]:
            worker.train(3)
        if "sample" in spec["work"]:
            worker.sample(20, 0)
        out.write(json.dumps({"ok": True, "pid": os.getpid()}) + "\n")
    except Exception as error:  # reported to the parent, which skips this model
        out.write(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}) + "\n")
        return
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        answer = getattr(worker, command["cmd"])(*command.get("args", []))
        out.write(json.dumps(answer) + "\n")


# ======================================================================================================================
# the parent: alternate the two workers, report
# ======================================================================================================================

class Worker(WorkerProcess):
    def __init__(self, spec):
        super().__init__(__file__, spec, _THREADS)
        self.ready = self.receive()

    def ask(self, cmd, *args):
        self.send(cmd=cmd, args=list(args))
        return self.receive()


def run_model(name, args, log):
    config = MODELS[name]
    spec = {"model": name, "work": args.work, "file": args.files.get(name)}
    workers = {}
    try:
        for framework in ("numrnn", "torch"):
            workers[framework] = Worker({**spec, "framework": framework})
            if not workers[framework].ready["ok"]:
                log(f"{name}: {framework} failed to start: {workers[framework].ready['error']}")
                return None
        result = {"model": name, **config}
        chars_per_step = config["batch"] * config["steps"]
        for work in args.work:
            samples = {"numrnn": [], "torch": []}
            extra = {}
            if work == "evaluate":
                extra["reference"] = workers["numrnn"].ask("evaluate", True)
                log(f"{name}: numrnn one stream (the reference): {extra['reference']['loss']:.8f} nats/char in "
                    f"{extra['reference']['seconds']:.1f} s")
            for index in range(args.rounds):
                order = ("numrnn", "torch") if index % 2 == 0 else ("torch", "numrnn")
                for framework in order:
                    if work == "train":
                        answer = workers[framework].ask("train", args.train_steps)
                        samples[framework] += [chars_per_step / t for t in answer["times"]]
                        extra[f"{framework}_loss"] = answer["loss"]
                    elif work == "evaluate":
                        answer = workers[framework].ask("evaluate")
                        samples[framework].append(answer["characters"] / answer["seconds"])
                        extra[f"{framework}_loss"] = answer["loss"]
                        extra[f"{framework}_how"] = answer.get("how")
                    else:
                        answer = workers[framework].ask("sample", args.sample_length, index)
                        samples[framework].append(answer["characters"] / answer["seconds"])
                        if framework == "torch":
                            answer = workers[framework].ask("sample_cells", args.sample_length, index)
                            samples.setdefault("torch_cells", []).append(answer["characters"] / answer["seconds"])
                    time.sleep(0.05)
            rates = {framework: float(np.median(values)) for framework, values in samples.items()}
            result[work] = {"numrnn": rates["numrnn"], "torch": rates["torch"], "ratio": rates["numrnn"] / rates["torch"],
                            "samples": samples, **extra}
            if "torch_cells" in rates:
                result[work].update(torch_cells=rates["torch_cells"],
                                    ratio_cells=rates["numrnn"] / rates["torch_cells"])
            log(f"{name} {work}: numrnn {rates['numrnn']:,.0f} chars/s, torch {rates['torch']:,.0f} "
                f"({rates['numrnn'] / rates['torch']:.2f}x)")
        return result
    finally:
        for worker in workers.values():
            worker.close()


def tables(results):
    lines = ["| model | work | numrnn chars/s | torch chars/s | numrnn / torch (rate) | note |",
             "|---|---|---:|---:|---:|---|"]
    for result in results:
        for work in WORK:
            entry = result.get(work)
            if not entry:
                continue
            note = ""
            if work == "train":
                note = f"{result['batch']} streams x {result['steps']}"
            elif work == "evaluate":
                reference = entry["reference"]["loss"]
                how = entry.get("numrnn_how") or {}
                note = (f"one stream {reference:.6f} nats ({entry['reference']['seconds']:.1f} s); numrnn "
                        f"{entry['numrnn_loss'] - reference:+.1e} ({how.get('segments')} segments, "
                        f"{how.get('reread_characters', 0):,} characters reread), torch "
                        f"{entry['torch_loss'] - reference:+.1e}")
            if work == "sample":
                note = f"torch: the model's own nn.{result['cell'].upper()}, one character per call"
            lines.append(f"| {result['model']} | {work} | {entry['numrnn']:,.0f} | {entry['torch']:,.0f} | "
                         f"**{entry['ratio']:.2f}** | {note} |")
            if "torch_cells" in entry:
                lines.append(f"| {result['model']} | sample | {entry['numrnn']:,.0f} | {entry['torch_cells']:,.0f} | "
                             f"**{entry['ratio_cells']:.2f}** | torch: the same weights in nn.{result['cell'].upper()}"
                             f"Cell, one per layer |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS),
                        help="comma-separated from " + ",".join(MODELS) + " (default: " + ",".join(DEFAULT_MODELS)
                             + "; default is numrnn train text's model)")
    parser.add_argument("--work", default=",".join(WORK), help="comma-separated from " + ",".join(WORK))
    parser.add_argument("--model", metavar="[NAME=]FILE", action="append", default=[],
                        help="a trained numrnn character model for evaluate and sample, for the model NAME of "
                             "--models (its architecture), or for every one without NAME=; may be repeated")
    parser.add_argument("--rounds", type=int, default=4, help="alternations of the two frameworks (default 4)")
    parser.add_argument("--train-steps", type=int, default=10, help="training steps per framework and round")
    parser.add_argument("--sample-length", type=int, default=1000, help="characters per sample run")
    parser.add_argument("--threads", default="2", help="threads for both (BLAS env vars, torch.set_num_threads)")
    parser.add_argument("--json", metavar="FILE", help="save the results as JSON")
    parser.add_argument("--_worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._worker:
        worker_main(json.loads(args._worker))
        return
    args.work = [w.strip() for w in args.work.split(",") if w.strip()]
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    args.files = {}
    for item in args.model:
        name, _, path = item.partition("=") if item.split("=", 1)[0] in MODELS else ("", "", item)
        for target in ([name] if name else names):
            args.files[target] = path
    bad = [n for n in names if n not in MODELS] + [w for w in args.work if w not in WORK]
    if bad:
        parser.error(f"unknown {bad}; models {list(MODELS)}, work {list(WORK)}")

    def log(message):
        print(message, file=sys.stderr, flush=True)

    import numrnn
    import torch
    started, load_start, top = time.perf_counter(), loadavg(), busiest()
    print(f"# numrnn {numrnn.__version__} (numpy {np.__version__}) vs torch {torch.__version__}, {_THREADS} threads "
          f"each, {os.cpu_count()} CPUs; load average at the start {load_start}; busiest processes:")
    for line in top:
        print(f"#   {line}")
    results = [r for r in (run_model(name, args, log) for name in names) if r is not None]
    load_end = loadavg()
    print(f"# load average at the end {load_end}; {time.perf_counter() - started:.0f} s")
    print()
    print(tables(results))
    if args.json:
        with open(args.json, "w") as stream:
            json.dump({"args": {k: v for k, v in vars(args).items() if not k.startswith("_")},
                       "load": [load_start, load_end], "busiest": top, "results": results}, stream, indent=1)


if __name__ == "__main__":
    main()
