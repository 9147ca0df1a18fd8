"""_jit.py: the CPU kernels compile on their first call, their helpers are inlined, and their disk cache is stamped
with the files those helpers (and simd.py's intrinsics) come from, so an edit to any of them recompiles the kernels."""
import os
import subprocess
import sys

import numpy as np

import tinygrad_fer
from tinygrad_fer import _jit
from tinygrad_fer.backend_cpu import backend_cpu
from tinygrad_fer.window import Window2d

HELPER = """from tinygrad_fer._jit import inline


@inline
def bump(v):
    return v + {}
"""
KERNEL = """import numpy as np

from tinygrad_fer._jit import kernel, prange
from helper import bump


@kernel
def fill(a):
    for i in prange(a.size):
        a[i] = bump(a[i])


a = np.zeros(4)
fill(a)
stats = fill.jitted.stats
print(a[0], sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


def _run(folder):
    """(the kernel's result, cache hits, cache misses) in a fresh process."""
    out = subprocess.run([sys.executable, "kern.py"], cwd=folder, capture_output=True, text=True, check=True).stdout
    value, hits, misses = out.split()
    return float(value), int(hits), int(misses)


def test_an_edited_helper_file_recompiles_the_kernels_that_inline_it(tmp_path):
    (tmp_path / "helper.py").write_text(HELPER.format(1))
    (tmp_path / "kern.py").write_text(KERNEL)
    assert _run(tmp_path) == (1.0, 0, 1)        # compiled, and written to the cache
    assert _run(tmp_path) == (1.0, 1, 0)        # read from the cache
    # kern.py is untouched, so Numba's own stamp (its file's hash) still matches: without the helper's hash in the
    # stamp the cache would hand back the machine code of `v + 1`
    (tmp_path / "helper.py").write_text(HELPER.format(2))
    assert _run(tmp_path) == (2.0, 0, 1)
    assert _run(tmp_path) == (2.0, 1, 0)


def test_the_package_kernels_are_stamped_with_their_helpers_and_simd_py():
    from tinygrad_fer import backend_cpu as cpu_module, simd_kernels
    x = np.zeros((1, 1, 4, 4), np.float32)
    backend_cpu.max_pool2d(x, Window2d(2, 2, 2, 2), False)              # the vector kernel
    backend_cpu.max_pool2d(x.astype(np.float64), Window2d(2, 2, 2, 2), False)   # the scalar one
    root = os.path.dirname(tinygrad_fer.__file__)
    for k, needs in [(simd_kernels._max_pool_nb, {"simd.py", "window.py"}), (cpu_module._max_pool_nb, {"window.py"})]:
        assert needs <= {os.path.relpath(f, root) for f in k.fn.__jit_sources__}
        locator = k.jitted._cache._impl.locator         # Numba's: where the cache lives and what stamps it
        assert type(locator).__name__.startswith("SourcesStamped")
        own, helpers = locator.get_source_stamp()
        assert helpers == _jit._digest(k.fn.__jit_sources__)


def test_importing_the_package_leaves_numba_unloaded():
    code = "import sys, tinygrad_fer, tinygrad_fer.nn; assert 'numba' not in sys.modules, 'numba loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)
