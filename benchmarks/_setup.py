"""What every benchmark script does before NumPy is imported; import it first.

- BLAS threads: `--threads N` from the command line (default 2) goes into OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
  MKL_NUM_THREADS, which the BLAS libraries read once, when they load (here and, through the environment, in any
  worker process a script starts).
- numrnn: this checkout's `src/` goes first on sys.path and PYTHONPATH, so the working tree is what is measured,
  not whatever numrnn happens to be installed.
"""
import os
import sys

THREADS = "2"
for _index, _arg in enumerate(sys.argv):
    if _arg == "--threads" and _index + 1 < len(sys.argv):
        THREADS = sys.argv[_index + 1]
    elif _arg.startswith("--threads="):
        THREADS = _arg.split("=", 1)[1]
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = THREADS

REPO_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if os.path.isdir(os.path.join(REPO_SRC, "numrnn")):
    sys.path.insert(0, REPO_SRC)
    os.environ["PYTHONPATH"] = REPO_SRC + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH")
                                           else "")
