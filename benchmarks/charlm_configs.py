#!/usr/bin/env python
"""Character-model configurations under one time budget, one after another, and a table of what each reached.

Run by hand on an otherwise idle machine (this is not a test; each run takes --budget seconds plus its evaluation):

    python benchmarks/charlm_configs.py --budget 600                      # every configuration below, in order
    python benchmarks/charlm_configs.py --budget 600 --only gru512,default
    python benchmarks/charlm_configs.py --budget 20 --out /tmp/configs    # a quick check that everything runs
    python benchmarks/charlm_configs.py --list                            # the configurations and their options

Each configuration is `numrnn train text --time-budget BUDGET` (Tiny Shakespeare unless --data) in its own process,
from this checkout's src/, into OUT/NAME. The figure is the kept model's loss on the whole last 10% of the text as
one stream reads it (history.json's "final", what `numrnn evaluate` prints). The table gives it with the characters
per second of training, the smoothed training loss at the end (below the validation loss: the model overfits), the
machine's load average before and after the run, and then each run's validation curve. --markdown FILE writes the
tables, --json FILE the records.
"""
import argparse
import json
import os
import subprocess
import sys
import time

from _setup import REPO_SRC  # noqa: F401  (this checkout's src/ first on the path, for the runs too)
from _machine import busiest, loadavg  # noqa: E402

#: torch's best 600-second RNN on this machine (1.454 nats/char in torch): the base of the one-layer GRU runs
GRU512 = {"cell": "gru", "layers": 1, "hidden": 512, "dropout": 0.0, "output_dropout": 0.2, "lr": 2e-3,
          "lr_schedule": "cosine", "min_lr_fraction": 0.1, "clip": 1.0, "steps": 100}
#: the defaults before these runs
LSTM2X256 = {"cell": "lstm", "layers": 2, "hidden": 256, "dropout": 0.2, "output_dropout": 0.0, "lr": 3e-3,
             "lr_schedule": "linear", "min_lr_fraction": 0.1, "clip": 5.0, "steps": 50}

#: name -> (options of `numrnn train text`, why it is tried). Options not given are charlm.DEFAULTS.
CONFIGS = {
    "default": ({}, "numrnn train text's defaults (charlm.DEFAULTS): since these runs, gru2x384-drop's options"),
    "lstm2x256": (LSTM2X256, "the defaults before these runs: LSTM 2x256, dropout 0.2 between the layers, Adam 3e-3 "
                             "linear to 3e-4, clip 5, 64 streams x 50"),
    "lstm-outdrop": ({**LSTM2X256, "output_dropout": 0.2, "lr_schedule": "cosine"},
                     "lstm2x256 with dropout on the output too and a cosine decay: it overfits (train 1.21 "
                     "against 1.475)"),
    "gru512-torch": (GRU512, "torch's best 600-second RNN (1.454): GRU 1x512, dropout 0.2 on its output, Adam 2e-3 "
                             "cosine to 2e-4, clip 1, 64 x 100; numrnn's GRU trains faster, so it sees more "
                             "characters"),
    "gru512-drop3": ({**GRU512, "output_dropout": 0.3},
                     "the same with more dropout: more characters in the budget, more overfitting"),
    "gru512-drop4": ({**GRU512, "output_dropout": 0.4}, "more dropout still: 0.3 ended 0.003 below 0.2"),
    "gru512-offset": ({**GRU512, "reading": "offset"},
                      "gru512-torch with each pass read from a random offset: the same (state, chunk) pairs are not "
                      "met pass after pass (torch's run drew random windows)"),
    "gru512-drop3-offset": ({**GRU512, "output_dropout": 0.3, "reading": "offset"},
                            "both regularisers: more dropout and a random offset per pass"),
    "gru512-windows": ({**GRU512, "reading": "windows"},
                       "gru512-torch reading random windows from a zero state, as torch's 600-second run did"),
    "gru512-drop3-windows": ({**GRU512, "output_dropout": 0.3, "reading": "windows"},
                             "random windows and more dropout"),
    "gru2x384-drop": ({**GRU512, "layers": 2, "hidden": 384, "dropout": 0.2},
                      "two layers instead of one wide one, both dropouts: a deeper model may generalise better at "
                      "the same training loss"),
    "gru512-lr3": ({**GRU512, "output_dropout": 0.25, "lr": 3e-3, "min_lr_fraction": 0.05, "steps": 50},
                   "GRU 1x512, shorter chunks (twice the steps) at a higher rate"),
    "lstm512-outdrop": ({**GRU512, "cell": "lstm", "output_dropout": 0.25},
                        "an LSTM of torch's best shape, to tell the cell from the shape"),
}

def command_line(name, options, args):
    argv = [sys.executable, "-m", "numrnn", "train", "text", "--out", os.path.join(args.out, name),
            "--time-budget", f"{args.budget:g}", "--overwrite"]
    if args.data:
        argv += ["--data", args.data]
    options = {"val_every": max(10.0, args.budget / 8), **options}  # about eight validations in 600 s
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    return argv


def run(name, options, args):
    argv = command_line(name, options, args)
    os.makedirs(os.path.join(args.out, name), exist_ok=True)
    log_path = os.path.join(args.out, f"{name}.log")
    print(f"== {name}: {' '.join(argv[1:])}", flush=True)
    before, top, began = loadavg(), busiest(), time.perf_counter()
    with open(log_path, "w") as log:
        status = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT).returncode
    record = {"name": name, "options": options, "argv": argv[1:], "status": status, "load_before": before,
              "load_after": loadavg(), "busiest_before": top, "wall_seconds": round(time.perf_counter() - began, 1),
              "log": log_path}
    if status == 0:
        add_history(record, os.path.join(args.out, name, "history.json"))
    print(f"   {summary(record)}", flush=True)
    return record


def add_history(record, history_path):
    """The final figure and the validation curve of a finished run, from its history.json."""
    if not os.path.exists(history_path):
        return record
    with open(history_path) as stream:
        history = json.load(stream)
    final = history.get("final") or {}
    curve = history.get("validation", [])
    record.update(final=final, curve=[{key: r.get(key) for key in ("seconds", "val_loss", "train_loss", "lr",
                                                                   "characters")} for r in curve],
                  train_loss=curve[-1]["train_loss"] if curve else None, parameters=history.get("parameters"))
    return record


def collected(folders):
    """Records of runs already made (FOLDER/NAME/history.json for each configuration NAME, and the load averages
    from FOLDER/out.log, the output of the run that made them), for one table of runs made in several sittings."""
    records = []
    for folder in folders:
        loads = {}
        try:
            with open(os.path.join(folder, "out.log")) as stream:
                lines = stream.read().splitlines()
        except OSError:
            lines = []
        for line, following in zip(lines, lines[1:] + [""]):
            if line.startswith("== ") and ", load " in following:
                before, after = following.split(", load ", 1)[1].split(" -> ")
                loads[line[3:].split(":", 1)[0]] = (before, after)
        for name in CONFIGS:
            history_path = os.path.join(folder, name, "history.json")
            if os.path.exists(history_path):
                before, after = loads.get(name, ("?", "?"))
                record = {"name": name, "options": CONFIGS[name][0], "status": 0, "load_before": before,
                          "load_after": after, "log": os.path.join(folder, f"{name}.log")}
                if add_history(record, history_path).get("final"):
                    records.append(record)
    return records


def summary(record):
    final = record.get("final")
    if not final:
        return f"failed (exit {record['status']}, see {record['log']})"
    return (f"{final['val_loss']:.4f} nats/char, {final['chars_per_second']:,.0f} chars/s, train "
            f"{record['train_loss']:.3f}, load {record['load_before']} -> {record['load_after']}")


def describe(options):
    from numrnn.apps.charlm import DEFAULTS
    config = {**DEFAULTS, **options}
    return (f"{config['cell'].upper()} {config['layers']}x{config['hidden']} | {config['dropout']:g} / "
            f"{config['output_dropout']:g} | {config['lr']:g} {config['lr_schedule']} to "
            f"{config['lr'] * config['min_lr_fraction']:g} | {config['clip']:g} | {config['batch']}x{config['steps']}"
            + ("" if config["reading"] == "streams" else f", {config['reading']}"))


def tables(records, budget):
    lines = [f"Each run: `numrnn train text --time-budget {budget:g}` plus the options; final = the kept model on "
             f"the whole last 10% as one stream.", "",
             "| config | model | dropout between / on output | Adam lr, schedule | clip | streams x steps | "
             "final nats/char | bits/char | chars/s | characters | train loss at the end | load before -> after |",
             "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---|"]
    for record in records:
        final = record.get("final")
        model = describe(record["options"])
        if not final:
            lines.append(f"| {record['name']} | {model} | failed (exit {record['status']}) |||||||")
            continue
        lines.append(f"| {record['name']} | {model} | **{final['val_loss']:.4f}** | {final['bits_per_char']:.4f} | "
                     f"{final['chars_per_second']:,.0f} | {final['characters'] / 1e6:.1f}M | "
                     f"{record['train_loss']:.3f} | {record['load_before']} -> {record['load_after']} |")
    for record in records:
        if not record.get("curve"):
            continue
        curve = record["curve"]
        lines += ["", f"Validation curve, {record['name']}:", "",
                  "| seconds | " + " | ".join(f"{r['seconds']:.0f}" for r in curve) + " |",
                  "|---|" + "---|" * len(curve),
                  "| val loss | " + " | ".join(f"{r['val_loss']:.3f}" for r in curve) + " |",
                  "| train loss | " + " | ".join("-" if r["train_loss"] is None else f"{r['train_loss']:.3f}"
                                                for r in curve) + " |"]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=600.0, help="seconds of training per run (default 600)")
    parser.add_argument("--only", help="comma-separated names (default: all, in the order of --list)")
    parser.add_argument("--out", default="runs/configs", help="folder of the runs (default runs/configs)")
    parser.add_argument("--data", help="a text file (default: Tiny Shakespeare, shipped)")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables to FILE")
    parser.add_argument("--json", metavar="FILE", help="also write the records to FILE")
    parser.add_argument("--list", action="store_true", help="print the configurations and exit")
    parser.add_argument("--collect", metavar="FOLDER", nargs="+",
                        help="run nothing: the tables of the finished runs in these --out folders")
    args = parser.parse_args()
    if args.collect:
        report(collected(args.collect), args)
        return
    names = list(CONFIGS) if not args.only else [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONFIGS]
    if unknown:
        parser.error(f"unknown configurations {unknown}; choose from {list(CONFIGS)}")
    if args.list:
        for name in names:
            options, why = CONFIGS[name]
            print(f"{name}: {describe(options)}\n    {why}\n    {' '.join(command_line(name, options, args)[1:])}")
        return
    print(f"# {len(names)} runs of {args.budget:g} s into {args.out}; load average {loadavg()}; busiest now:")
    for line in busiest():
        print(f"#   {line}")
    print()
    report([run(name, CONFIGS[name][0], args) for name in names], args)


def report(records, args):
    """Print the tables of these records, and write them to --markdown and the records to --json if asked."""
    text = tables(records, args.budget)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as stream:
            stream.write(text + "\n")
    if args.json:
        with open(args.json, "w") as stream:
            json.dump(records, stream, indent=1)


if __name__ == "__main__":
    main()
