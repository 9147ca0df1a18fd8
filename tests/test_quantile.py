"""quantile / nanquantile beyond the registry's samples: NaN slices (their gradient goes to the NaN read, as in
PyTorch), output shapes with a q tensor and keepdim, and errors."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import compare, raises_like

NAN = np.nan


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nan_slices_like_torch(name, interpolation):
    x = np.array([[NAN, 1.0, 2.5, -0.5], [2.0, 0.0, NAN, 1.0], [3.0, 0.5, 2.0, 1.0]])
    q = np.array([0.1, 0.5, 1.0])
    compare(lambda a, b: getattr(tg, name)(a, b, dim=1, interpolation=interpolation),
            lambda a, b: getattr(torch, name)(a, b, dim=1, interpolation=interpolation), [x, q],
            requires_grad=[True, False])
    # a slice of NaNs only: NaN quantiles (which NaN its gradient reaches is the sort's order of ties)
    y = np.array([[NAN, NAN], [1.0, NAN]])
    got = getattr(tg, name)(tg.tensor(y), 0.5, dim=1, interpolation=interpolation).numpy()
    want = getattr(torch, name)(torch.tensor(y), 0.5, dim=1, interpolation=interpolation).numpy()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (None, True), (1, True), (-1, False), (0, True)])
@pytest.mark.parametrize("q", [0.3, np.array([0.2, 0.7])])
def test_shapes_like_torch(dim, keepdim, q):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    compare(lambda a, *b: tg.quantile(a, b[0] if b else q, dim=dim, keepdim=keepdim),
            lambda a, *b: torch.quantile(a, b[0] if b else q, dim=dim, keepdim=keepdim),
            [x] + ([q] if isinstance(q, np.ndarray) else []), requires_grad=[True, False])


@pytest.mark.parametrize("case", ["range", "dtype", "q2d", "qdtype", "mode", "empty"])
def test_errors_like_torch(case):
    x = np.array([1.0, 2.0, 3.0])
    calls = {"range": lambda lib, a: lib.quantile(a, 1.5), "dtype": lambda lib, a: lib.quantile(a.long(), 0.5),
             "q2d": lambda lib, a: lib.quantile(a, lib.tensor([[0.5]], dtype=a.dtype)),
             "qdtype": lambda lib, a: lib.quantile(a, lib.tensor([0.5], dtype=lib.float32)),
             "mode": lambda lib, a: lib.quantile(a, 0.5, interpolation="foo"),
             "empty": lambda lib, a: lib.quantile(a[:0], 0.5)}
    raises_like(lambda a: calls[case](tg, a), lambda a: calls[case](torch, a), x)
