"""Bitwise ops over integer and bool dtypes and layouts, tril/triu_indices, as_strided's errors: against PyTorch."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
from outcomes import same_outcome

INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_]


def _both(fn, *arrays):
    """fn(lib, *tensors) in both libraries: the same values and dtype, or the same exception type."""
    return same_outcome(lambda L: fn(L, *(L.tensor(a) for a in arrays)), message=False)


@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from(INTS), seed=st.integers(0, 2 ** 31), transpose=st.booleans(),
       op=st.sampled_from(["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
                           "__and__", "__or__", "__xor__", "__lshift__", "__rshift__"]))
def test_binary_bitwise_like_torch(dtype, seed, transpose, op):
    rng = np.random.default_rng(seed)
    a = rng.integers(-100, 100, (3, 4)).astype(dtype)
    b = rng.integers(-2, 70, (3, 4)).astype(dtype) if "shift" in op else rng.integers(-100, 100, (3, 4)).astype(dtype)
    if transpose:
        a, b = a.T.copy().T, b.T.copy().T     # Fortran-ordered: strided memory
    fn = (lambda L, x, y: getattr(L, op)(x, y)) if not op.startswith("__") else (lambda L, x, y: getattr(x, op)(y))
    _both(fn, a, b)


@pytest.mark.parametrize("dtype", INTS + [np.float32])
def test_bitwise_not_and_isclose_dtypes(dtype):
    a = np.array([[0, 1, -3], [7, 100, -128]]).astype(dtype)
    _both(lambda L, x: L.bitwise_not(x), a)
    _both(lambda L, x: ~x, a)
    _both(lambda L, x: L.isclose(x, x), a)


def test_isclose_special_values_and_errors():
    x = np.array([1.0, np.nan, np.inf, -np.inf, 1e-9, 2.0])
    y = np.array([1.0 + 1e-9, np.nan, np.inf, np.inf, 0.0, 2.1])
    for kw in (dict(), dict(equal_nan=True), dict(rtol=0.1), dict(atol=1e-8)):
        _both(lambda L, a, b: L.isclose(a, b, **kw), x, y)
    _both(lambda L, a, b: L.isclose(a, b), np.array([1.0]), np.array([1]))      # dtypes differ: both raise
    _both(lambda L, a, b: L.isclose(a, b, rtol=-1), x, y)


@pytest.mark.parametrize("fn", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("shape", [(3, 4, 0), (3, 4, 1), (4, 3, -2), (0, 3, 0), (5, 5, 10), (2, 2, -5)])
def test_tri_indices_like_torch(fn, shape):
    got, want = getattr(tg, fn)(*shape), getattr(torch, fn)(*shape)
    assert got.dtype == tg.int64 and got.tolist() == want.tolist()
    assert getattr(tg, fn)(3, 3, dtype=tg.int32).dtype == tg.int32


def test_as_strided_refuses_what_it_cannot_express():
    x = tg.arange(6.0)
    with pytest.raises(RuntimeError, match="out of bounds for storage"):
        tg.as_strided(x, (2, 3), (3, 1), 1)
    with pytest.raises(RuntimeError, match=r"contiguous\(\)"):
        tg.as_strided(x.reshape(2, 3).T, (2,), (1,))
    assert tg.as_strided(x.reshape(2, 3).T.contiguous(), (2,), (1,)).tolist() == [0.0, 3.0]
