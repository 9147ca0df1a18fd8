"""Numba for the CPU kernels: each compiled on its first call, small helpers inlined into it, the result cached on disk.

    from ._jit import inline, kernel, prange

    @inline
    def clip(v, lo, hi):            # compiled into every kernel that calls it (Numba's inline='always')
        return min(max(v, lo), hi)

    @kernel
    def _clip_nb(x, out, lo, hi):   # numba.njit(parallel=True, nogil=True, cache=True) on its first call
        for i in prange(x.size):
            out[i] = clip(x[i], lo, hi)

Nothing here imports Numba, so `import tinygrad_fer` stays fast; Numba and LLVM load on the first kernel call. Until
then `prange` is `range` and helpers are plain Python functions; the first compilation rebinds both, in the kernel's
module and in every helper's, to their Numba versions (the helpers and the SIMD intrinsics of simd.py may live in
other modules than the kernels that use them).

Numba's disk cache keys a kernel on its own file's content only: a kernel that compiled in a helper or a simd.py
intrinsic from another file kept the old machine code after that file changed (a broken vector operation survived
its fix). Here a kernel's cache stamp also carries a hash of the files, in its folder or below, of every function its
module and its helpers' modules name (helpers, intrinsics, ...), so editing any of them makes Numba recompile it
(tests/test_jit.py edits a helper between two processes).
"""
import functools
import hashlib
import inspect
import os
import warnings

prange = range      # numba.prange once the first kernel compiles
_compiled = {}      # helper (Python function) -> its Numba version


def inline(fn):
    """Mark fn as a helper compiled into the kernels that call it; until then it stays a plain Python function."""
    fn.__jit_inline__ = True
    return fn


class kernel:
    """Compile the wrapped function with Numba on its first call (parallel, nogil, cached on disk)."""
    fastmath = False

    def __init__(self, fn):
        self.fn, self.jitted = fn, None
        functools.update_wrapper(self, fn)

    def __call__(self, *args):
        jitted = self.jitted
        if jitted is None:
            jitted = self.jitted = _compile(self.fn, self.fastmath)
        return jitted(*args)


class summing_kernel(kernel):
    """A kernel whose floating-point sums may be reassociated, so LLVM vectorises them (a sum's rounding then
    depends on the vector width, not on the thread count: still deterministic on one machine)."""
    fastmath = frozenset({"reassoc"})


def _compile(fn, fastmath=False):
    import numba
    _bind_numba(fn.__globals__, numba)
    fn.__jit_sources__ = _sources(fn)
    cache = _stamp_caches()
    return numba.njit(parallel=True, nogil=True, cache=cache, fastmath=set(fastmath) if fastmath else False)(fn)


def _bind_numba(g, numba):
    """Rebind prange and the inline helpers a module's globals name to their Numba versions (and in the helpers'
    own modules, for the helpers they call)."""
    if g.get("prange") is range:
        g["prange"] = numba.prange
    for name, v in list(g.items()):
        if inspect.isfunction(v) and getattr(v, "__jit_inline__", False):
            if v not in _compiled:
                _compiled[v] = numba.njit(inline="always")(v)
                _bind_numba(v.__globals__, numba)
            g[name] = _compiled[v]


def _sources(fn):
    """The files besides fn's own, in its folder or below, whose functions fn's module or a helper's module names:
    what Numba may compile into fn from our code (its own file is in Numba's stamp already; Numba's own version and
    Python's are in the cache's key and file names)."""
    files, todo, seen = set(), [fn.__globals__], set()
    while todo:
        g = todo.pop()
        if id(g) in seen:
            continue
        seen.add(id(g))
        for v in list(g.values()):
            f = inspect.unwrap(getattr(v, "py_func", v)) if callable(v) else None   # py_func: a compiled helper
            if inspect.isfunction(f):
                files.add(f.__code__.co_filename)
                if getattr(f, "__jit_inline__", False):
                    todo.append(f.__globals__)
    own = fn.__code__.co_filename
    folder = os.path.join(os.path.dirname(own), "")
    return tuple(sorted(f for f in files if f != own and f.startswith(folder) and os.path.isfile(f)))


@functools.lru_cache(maxsize=None)
def _file_hash(path, mtime_ns, size):      # mtime and size in the key: an edited file is hashed again
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _digest(paths):
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(p.encode() + b"\0" + _file_hash(p, st.st_mtime_ns, st.st_size).encode())
    return h.hexdigest()


def _stamp_caches():
    """Put our locators in front of Numba's, once: for the functions _compile marked (they carry __jit_sources__)
    they find the cache where Numba's own would and add the sources' digest to the stamp Numba checks; every other
    function falls through to Numba's locators. Returns whether caching is safe (False on a Numba without this
    hook: then every process compiles afresh rather than risk stale code)."""
    try:
        from numba.core import caching
        classes = caching.CacheImpl._locator_classes
        bases = (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator)
    except (ImportError, AttributeError):
        warnings.warn("tinygrad_fer: this Numba version has no cache-locator hook; CPU kernels compile in every "
                      "process (no disk cache)", RuntimeWarning, stacklevel=3)
        return False
    if not any(getattr(c, "_stamps_sources", False) for c in classes):
        classes[:0] = [_stamped(b) for b in bases]
    return True


def _stamped(base):
    class Locator(base):
        _stamps_sources = True

        @classmethod
        def from_function(cls, py_func, py_file):
            sources = getattr(py_func, "__jit_sources__", None)
            if sources is None:
                return None
            self = super().from_function(py_func, py_file)
            if self is not None:
                self._sources_digest = _digest(sources)
            return self

        def get_source_stamp(self):
            return super().get_source_stamp(), self._sources_digest

    Locator.__name__ = Locator.__qualname__ = "SourcesStamped" + base.__name__
    return Locator
