"""The CUDA backend on a machine without a GPU: its CUDA C compiled as plain C (grid-stride loop -> plain loop,
atomicAdd -> +=) and launched through ctypes on NumPy arrays, inside a CUDABackend whose array module is NumPy.

Every index computation and tie rule of the CUDA kernels runs this way, so tests/test_kernels.py checks them against
the reference kernels wherever a C compiler exists.
"""
import ctypes
import shutil
import subprocess

import numpy as np

from tinygrad_fer.backend_cuda import _CTYPES, KERNEL_SRC, CUDABackend

CPU_PRELUDE = """
#define KERNEL void
#define GRID_LOOP(i, n) for (long long i = 0; i < (n); ++i)
#define atomicAdd(p, v) (*(p) += (v))
"""
_SCALARS = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


def compiler():
    return shutil.which("cc") or shutil.which("gcc")


def emulated_backend(folder):
    """A CUDABackend running the CUDA C on the CPU, the libraries built in folder (a pathlib.Path)."""
    libs = {}
    for ctype in _CTYPES.values():
        src, lib = folder / f"k_{ctype}.c", folder / f"k_{ctype}.so"
        src.write_text(CPU_PRELUDE + f"#define T {ctype}\n" + KERNEL_SRC)
        subprocess.run([compiler(), "-O1", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", str(src), "-o",
                        str(lib)], check=True)
        libs[ctype] = ctypes.CDLL(str(lib))

    def launch(kernel, dtype, total, *args):
        cargs = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray) else
                 _SCALARS[a.dtype](a) if isinstance(a, np.floating) else ctypes.c_longlong(int(a)) for a in args]
        getattr(libs[_CTYPES[np.dtype(dtype)]], kernel)(*cargs)
    return CUDABackend(xp=np, launch=launch)
