"""Process-wide settings the CPU kernels' speed depends on, made when tinygrad_fer is imported (its first import).

Everything the package changes outside itself is here; a user's own setting always wins. bench/README.md has the
measurements.

- OPENBLAS_THREAD_TIMEOUT=4: OpenBLAS keeps its worker threads spinning for ~2^28 cycles after every GEMM, and the
  Numba kernel that follows a convolution's GEMM lost up to half its cores to them (max-pool 2x slower inside a step
  than alone; a FER step at batch 128 8-20% slower). 2^4 cycles puts them to sleep at once. OpenBLAS reads it when
  NumPy loads it; when numpy was imported first (as nearly every script does), the already loaded OpenBLAS re-reads
  its environment and its thread pool is shut down, to start again with the new timeout at the next GEMM
  (a FER step at batch 128 ran 3,100-3,200 img/s numpy-first before, 5,300-5,600 after: bench/README.md).
- OMP_WAIT_POLICY=PASSIVE: Numba's OpenMP workers would spin after each kernel and starve OpenBLAS's threads on the
  same cores (a training step measured 134 ms spinning, ~75 ms passive). Read when an OpenMP runtime starts its pool.
- GOMP_SPINCOUNT=2000: fully passive workers sleep at once, and waking them made every small parallel kernel cost
  12-70 us instead of 3-4 us; 2000 spins (some 10-20 us) catch the next kernel of a step without holding the cores
  long enough to starve a GEMM (libgomp, which Numba's OpenMP layer uses on Linux; the count wins over the policy).
- glibc's mallopt: large arrays come from the heap and freed ones stay there. A training step allocates and frees
  the same large temporaries (im2col columns, gradients) every time; by default glibc maps each one fresh and returns
  it on free, so every step paid page faults on all of them (about a quarter of a CIFAR-net step at batch 50).
  TINYGRAD_FER_MALLOC=0 leaves the allocator alone.
"""
import ctypes
import os
import sys

_USER_TIMEOUT = "OPENBLAS_THREAD_TIMEOUT" in os.environ
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "2000")


def _restart_loaded_openblas():
    """numpy came first: its OpenBLAS read the timeout at load. Make it re-read the environment and stop its
    threads (they start again, with the new timeout, at the next multi-threaded call). OpenBLAS only, found by its
    exported openblas_read_env and blas_thread_shutdown_; anything else is left alone."""
    if _USER_TIMEOUT or "numpy" not in sys.modules or not sys.platform.startswith("linux"):
        return
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
        for path in paths:
            lib = ctypes.CDLL(path, mode=os.RTLD_NOLOAD)
            if hasattr(lib, "openblas_read_env") and hasattr(lib, "blas_thread_shutdown_"):
                lib.openblas_read_env()
                lib.blas_thread_shutdown_()
    except (OSError, AttributeError):
        pass    # not a library we know how to restart: its settings stand


def _reuse_freed_memory():
    if os.environ.get("TINYGRAD_FER_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 0)         # M_MMAP_MAX: no mmap for large blocks
        libc.mallopt(-1, 1 << 30)   # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap for reuse
    except (OSError, AttributeError):
        pass    # not glibc: its allocator's defaults stand


_reuse_freed_memory()
_restart_loaded_openblas()
