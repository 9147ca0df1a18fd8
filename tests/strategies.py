"""Hypothesis strategies shared by the op tests: the public ones (tinygrad_fer.testing.strategies) and those that
draw NumPy arrays for the PyTorch comparisons."""
import functools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_fer.testing import strategies as public

DTYPES = [np.float64, np.float32]

# sides up to 5, not 6: the op tests draw several arrays of such shapes per example
shapes = functools.partial(public.shapes, max_side=5)


@st.composite
def arrays(draw, shape=None, dtype=np.float64, lo=-10.0, hi=10.0, unique=False):
    shape = draw(shapes()) if shape is None else shape
    n = int(np.prod(shape))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(lo, hi, n)
    if draw(st.booleans()):
        a = np.round(a, 1)  # exact repeats and ties
    if unique:
        a = np.sort(rng.choice(np.linspace(lo, hi, max(4 * n, 16)), n, replace=False))
        rng.shuffle(a)
    return a.reshape(shape).astype(dtype)


@st.composite
def broadcast_pair(draw, max_dims=4):
    shp = draw(shapes(max_dims=max_dims))
    bs = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, base_shape=shp, max_side=4))
    return bs.input_shapes


# NaN, the infinities and -0.0, scattered into a kernel's inputs: a window (or a product) holding one must give what
# PyTorch gives, and one that doesn't hold it must not see it; "mixed" puts all four in one array
SPECIALS = st.sampled_from([None, np.nan, np.inf, -np.inf, -0.0, "mixed"])


def scatter_specials(a, special, seed, frac=0.15):
    """Float array a (any layout, written in place, and returned) with `special` (a SPECIALS draw) at a random
    fraction of its elements."""
    if special is None or a.size == 0:
        return a
    rng = np.random.default_rng(seed)
    where = rng.random(a.shape) < frac
    values = [np.nan, np.inf, -np.inf, -0.0] if special == "mixed" else [special]
    a[where] = rng.choice(np.array(values, a.dtype), int(where.sum()))
    return a
