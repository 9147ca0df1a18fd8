"""Small helpers shared by the data package: seeds -> numpy Generators, arrays -> Tensors."""
import sys

import numpy as np

from .. import dtypes
from ..backend_cpu import backend_cpu

# dtypes the core stores as-is; anything else goes through the public constructor (which validates)
_TENSOR_DTYPES = {d.np for d in dtypes.ALL}


def as_generator(generator):
    """Normalise a generator argument once, at construction: None stays None (draw from the global RNG when
    used), an int seed becomes a numpy Generator (so successive epochs differ but replay from the seed), a numpy
    Generator or a tinygrad_fer.Generator is kept (the latter is read at use time: manual_seed replaces its rng)."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    if isinstance(getattr(generator, "rng", None), np.random.Generator):
        return generator
    raise TypeError(f"generator must be None, an int seed, a numpy.random.Generator or a tinygrad_fer.Generator, "
                    f"got {type(generator).__name__}")


def rng_or_global(source):
    """The numpy Generator behind source (from as_generator), or for None a fresh one seeded from the global
    RNG so manual_seed() makes it reproducible (PyTorch draws a seed from its default generator likewise)."""
    if source is None:
        return np.random.default_rng(int(backend_cpu.rng.integers(0, 2**63 - 1)))
    return source if isinstance(source, np.random.Generator) else source.rng


def xp_of(a):
    """The array module of a (cupy for cupy arrays, numpy otherwise) without importing cupy."""
    cp = sys.modules.get("cupy")
    return cp if cp is not None and isinstance(a, cp.ndarray) else np


def is_tensor(x):
    from ..tensor import Tensor
    return isinstance(x, Tensor)


def wrap(a):
    """A Tensor around backend array a (no copy when its dtype is one the core stores)."""
    from ..tensor import Tensor
    if isinstance(a, np.generic):
        a = np.asarray(a)
    xp = xp_of(a)
    if isinstance(a, xp.ndarray) and a.dtype in _TENSOR_DTYPES:
        return Tensor(a if a.flags.c_contiguous else xp.ascontiguousarray(a))
    import tinygrad_fer
    return tinygrad_fer.tensor(np.asarray(a))
