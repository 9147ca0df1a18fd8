"""Imported first by every CPU benchmark: one thread count for all libraries, set before any of them loads.

Both libraries share the cores in one process, and OpenMP workers that spin after their work (PyTorch's and
Numba's) starve the other library's threads; so both wait passively. PyTorch's own step was no slower with it
(measured: 2,155 vs 1,859 images/s on the FER net at batch 50).
"""
import os
import sys


def pin(n):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # what `import tinygrad_fer` sets when it comes before numpy (see its __init__); the benchmarks import numpy
    # first. It changes only NumPy's OpenBLAS (PyTorch brings its own BLAS).
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def pin_from_argv(default=2):
    """pin() to the count given as `--threads N` on the command line (read before argparse runs, because the
    libraries read it when they load); returns it."""
    n = default
    for i, a in enumerate(sys.argv):
        if a.startswith("--threads="):
            n = a.split("=", 1)[1]
        elif a == "--threads" and i + 1 < len(sys.argv):
            n = sys.argv[i + 1]
    try:
        n = int(n)
    except ValueError:
        n = default     # argparse rejects the value with its own message
    pin(n)
    return n
