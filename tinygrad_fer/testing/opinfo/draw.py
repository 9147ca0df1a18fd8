"""How a sample generator makes its random choices: `Sample(args, kwargs)`, the `Draw` interface (ints, shapes,
arrays, labels) and its two sources, Hypothesis (`HypothesisDraw`, property tests) and a seeded NumPy generator
(`RngDraw`, numeric gradient checks), so one generator serves both; plus the float dtypes entries default to."""
from typing import NamedTuple

import numpy as np

F32, F64 = np.float32, np.float64
FLOATS = (F32, F64)


class Sample(NamedTuple):
    args: tuple
    kwargs: dict = {}


class Draw:
    """Random choices for sample generators; subclasses say where the randomness comes from."""

    def int(self, lo, hi):
        raise NotImplementedError

    def seed(self):
        return self.int(0, 2 ** 31 - 1)

    def bool(self):
        return self.int(0, 1) == 1

    def choice(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4):
        return tuple(self.int(min_side, max_side) for _ in range(self.int(min_dims, max_dims)))

    def array(self, shape, dtype=F64, lo=-3.0, hi=3.0, nice=None):
        """Uniform values; `nice` (drawn when None) rounds them to one decimal, so repeats and ties occur."""
        rng = np.random.default_rng(self.seed())
        a = rng.uniform(lo, hi, shape)
        if (self.bool() if nice is None else nice) and self.nice:
            a = np.clip(np.round(a, 1), lo, hi)
        return np.asarray(a).astype(dtype)

    def away_from_zero(self, shape, dtype=F64, lo=0.2, hi=3.0):
        sign = np.where(np.random.default_rng(self.seed()).random(shape) < 0.5, -1.0, 1.0)
        return np.asarray(self.array(shape, F64, lo, hi) * sign).astype(dtype)

    def labels(self, shape, classes):
        return np.random.default_rng(self.seed()).integers(0, classes, shape)

    nice = True


class RngDraw(Draw):
    """Seeded NumPy choices; no rounded values, so numeric gradients stay away from kinks and ties."""
    nice = False

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))


class HypothesisDraw(Draw):
    def __init__(self, data):
        from hypothesis import strategies as st
        self._data, self._st = data, st

    def int(self, lo, hi):
        return self._data.draw(self._st.integers(lo, hi))
