"""A user's own script against the command line on a busy machine: numrnn's BLAS thread policy (numrnn.threads)
applies to every entry point, so `python examples/sine.py` should take about the time of
`numrnn train sine --no-plots`, however many other processes are running.

    python benchmarks/bench_threads.py [--busy 2] [--rounds 5]

Starts `--busy` processes that spin a core each, then runs the two commands alternately `--rounds` times and prints
each time, the medians, their ratio (script / command line) and the load average.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command, cwd, env):
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=2, help="processes spinning a core each (default 2)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    times = {"script": [], "command line": []}
    try:
        with tempfile.TemporaryDirectory() as folder:
            time.sleep(1)
            for index in range(args.rounds):
                script = [sys.executable, os.path.join(ROOT, "examples", "sine.py")]
                command = [sys.executable, "-m", "numrnn", "train", "sine", "--no-plots", "--quiet", "--out",
                           os.path.join(folder, f"run{index}")]
                order = [("script", script), ("command line", command)]
                for name, run in order if index % 2 == 0 else order[::-1]:
                    times[name].append(timed(run, folder, env))
                    print(f"round {index + 1}: {name:12s} {times[name][-1]:6.2f} s", flush=True)
            load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else ["?"] * 3
    finally:
        for spinner in spinners:
            spinner.kill()
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"medians: script {medians['script']:.2f} s, command line {medians['command line']:.2f} s, ratio "
          f"{medians['script'] / medians['command line']:.2f}; {args.busy} busy processes, load average "
          f"{' '.join(load)}")


if __name__ == "__main__":
    main()
