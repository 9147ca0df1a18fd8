"""Reductions and the softmax family against PyTorch: dims (tuples, negative), keepdim, ties, gradients."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_fer as tg
from helpers import compare, gradcheck, raises_like
from strategies import DTYPES, arrays, shapes


@st.composite
def array_and_dims(draw, dtype=np.float64, min_dims=1):
    shp = draw(shapes(min_dims=min_dims))
    a = draw(arrays(shp, dtype))
    n = len(shp)
    dims = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=n,
                         unique_by=lambda d: d % n)) if n else []
    return a, tuple(dims), draw(st.booleans())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "amin", "logsumexp"])
@given(data=st.data())
def test_reduce_dims(op, dtype, data):
    a, dims, keep = data.draw(array_and_dims(dtype))
    if op in ("var", "std"):
        n = int(np.prod([a.shape[d] for d in dims]))
        if n < 2:
            return
        a = a + np.arange(a.size).reshape(a.shape) * 0.37  # std's gradient is undefined at zero spread
    f = lambda x: getattr(x, op)(dims, keepdim=keep)  # noqa: E731
    compare(f, f, [a])


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
@given(a=arrays())
def test_full_reduction(op, a):
    compare(lambda x: getattr(x, op)(), lambda x: getattr(x, op)(), [a])


@pytest.mark.parametrize("op", ["max", "min"])
@given(data=st.data())
def test_max_min_dim_with_ties(op, data):
    shp = data.draw(shapes(min_dims=1))
    a = np.round(data.draw(arrays(shp, np.float64, -2, 2)))  # many exact ties
    d = data.draw(st.integers(-len(shp), len(shp) - 1))
    keep = data.draw(st.booleans())
    compare(lambda x: getattr(x, op)(d, keepdim=keep), lambda x: getattr(x, op)(d, keepdim=keep), [a])


@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_correction(correction):
    a = np.random.default_rng(0).standard_normal((4, 5))
    compare(lambda x: x.var(1, correction=correction), lambda x: x.var(1, correction=correction), [a])
    compare(lambda x: x.std(0, unbiased=False), lambda x: x.std(0, unbiased=False), [a])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax(fn, dtype, data):
    shp = data.draw(shapes(min_dims=1))
    a = data.draw(arrays(shp, dtype, -50, 50))
    d = data.draw(st.integers(-len(shp), len(shp) - 1))
    compare(lambda x: getattr(x, fn)(d), lambda x: getattr(x, fn)(d), [a], scale=10)


def test_argmax_argmin():
    a = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 0.0]])
    for d in (None, 0, 1, -1):
        for keep in (False, True):
            if d is None and keep:
                continue
            for name in ("argmax", "argmin"):
                ours = getattr(tg.tensor(a), name)(d, keepdim=keep) if d is not None else getattr(tg.tensor(a), name)()
                theirs = getattr(torch.tensor(a), name)(d, keepdim=keep) if d is not None else \
                    getattr(torch.tensor(a), name)()
                assert ours.tolist() == theirs.tolist() and ours.dtype is tg.int64


def test_sum_dtypes():
    assert tg.tensor([1, 2]).sum().dtype is tg.int64
    assert tg.tensor([True, True]).sum().item() == 2
    with pytest.raises(RuntimeError):
        tg.tensor([1, 2]).mean()


@pytest.mark.parametrize("fn", [lambda x: x.sum((0, 2)), lambda x: x.mean(1, keepdim=True), lambda x: x.var(0),
                                lambda x: x.max(1).values, lambda x: x.amax((1, 2)), lambda x: x.log_softmax(1),
                                lambda x: x.softmax(0), lambda x: x.logsumexp(2), lambda x: x.std(), lambda x: x.max()])
def test_reduce_gradcheck(fn):
    a = np.random.default_rng(2).permutation(24).reshape(2, 3, 4) * 0.1
    gradcheck(fn, a)


def test_reduce_errors():
    raises_like(lambda x: x.sum(3), lambda x: x.sum(3), np.ones((2, 2)))
    raises_like(lambda x: x.max(), lambda x: x.max(), np.ones((0,)))


def test_prod_has_a_gradient_with_zeros_like_torch():
    # prod's result used to carry no gradient at all (silently dropped from the graph)
    import torch
    x = np.array([[1.0, 0.0, 2.0], [3.0, 4.0, 0.5], [0.0, 0.0, 2.0]])
    for dim in (None, 0, 1):
        got, want = [], []
        for L, out in ((tg, got), (torch, want)):
            t = L.tensor(x, requires_grad=True)
            r = L.prod(t) if dim is None else L.prod(t, dim)
            (r * L.tensor(np.arange(1.0, r.numel() + 1).reshape(tuple(r.shape)))).sum().backward()
            out += [r.detach().numpy(), t.grad.numpy()]
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b)
    assert tg.prod(tg.tensor([1, 2, 3], dtype=tg.int32)).dtype == tg.int64
