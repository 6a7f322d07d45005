"""How busy the machine is, for the record every benchmark prints beside its numbers (these machines are shared)."""
import json
import os
import statistics
import subprocess
import sys
import time


def median_ms(function, repeats):
    """The median of `repeats` timings of function(), in milliseconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return 1e3 * statistics.median(times)


def loadavg():
    """The 1, 5 and 15-minute load averages as one string ("?" where /proc has none)."""
    try:
        with open("/proc/loadavg") as stream:
            return " ".join(stream.read().split()[:3])
    except OSError:
        return "?"


def busiest():
    """The processes using the most CPU right now (ps), for the record of what else ran."""
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,args", "--sort=-pcpu"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [" ".join(line.split())[:100] for line in out.splitlines()[1:6]]


class WorkerProcess:
    """A benchmark's worker: `script --_worker SPEC --threads N` in its own process (its BLAS threads fixed before
    NumPy loads), spoken to in JSON lines over its stdin and stdout."""

    def __init__(self, script, spec, threads):
        self.process = subprocess.Popen([sys.executable, os.path.abspath(script), "--_worker", json.dumps(spec),
                                         "--threads", threads],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def receive(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            return {"ok": False, "error": f"worker exited with code {self.process.returncode} (see stderr)"}
        return json.loads(line)

    def send(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def close(self):
        if self.process.poll() is None:
            try:
                self.send(cmd="quit")
                self.process.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            self.process.wait(timeout=60)
