"""scatter_reduce, index_put, put, masked_scatter beyond the registry's samples: integer and bool reductions, a src
larger than index, zeros in prod's gradient, and errors as PyTorch's."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import compare, raises_like


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.bool_])
def test_integer_and_bool_reductions_like_torch(reduce, include_self, dt):
    x = np.array([-5, 7, 9, 0, 3]).astype(dt)
    src = np.array([2, 1, 4, -3, 6, 0]).astype(dt)
    idx = np.array([0, 0, 1, 1, 3, 0])
    args = (0, idx, src, reduce)
    try:
        want = torch.scatter_reduce(torch.tensor(x), args[0], torch.tensor(idx), torch.tensor(src), reduce,
                                    include_self=include_self)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            tg.scatter_reduce(tg.tensor(x), 0, tg.tensor(idx), tg.tensor(src), reduce, include_self=include_self)
        return
    got = tg.scatter_reduce(tg.tensor(x), 0, tg.tensor(idx), tg.tensor(src), reduce, include_self=include_self)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_max_and_min_spell_amax_and_amin():
    x, idx, src = np.zeros(3), np.array([0, 0, 1]), np.array([5.0, -2.0, -3.0])
    for r in ("max", "min"):
        want = torch.tensor(x).scatter_reduce(0, torch.tensor(idx), torch.tensor(src), r, include_self=False)
        got = tg.tensor(x).scatter_reduce(0, tg.tensor(idx), tg.tensor(src), r, include_self=False)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_src_larger_than_index_uses_its_leading_part():
    x, src = np.zeros((3, 4)), np.arange(20.0).reshape(4, 5)
    idx = np.array([[0, 1], [2, 0]])
    for reduce in ("sum", "amax"):
        want = torch.tensor(x).scatter_reduce(0, torch.tensor(idx), torch.tensor(src), reduce)
        got = tg.tensor(x).scatter_reduce(0, tg.tensor(idx), tg.tensor(src), reduce)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("include_self", [True, False])
def test_prod_gradient_with_zero_factors(include_self):
    x = np.array([2.0, 0.0, 3.0, 1.5])
    src = np.array([0.0, 4.0, 0.0, 0.0, 5.0, 2.0])       # one zero into slot 0, two into slot 2
    idx = np.array([0, 0, 2, 2, 1, 3])
    compare(lambda a, s: tg.scatter_reduce(a, 0, tg.tensor(idx), s, "prod", include_self=include_self),
            lambda a, s: torch.scatter_reduce(a, 0, torch.tensor(idx), s, "prod", include_self=include_self), [x, src])


def test_index_put_accumulates_repeated_positions():
    x, v = np.zeros((3, 2)), np.array([1.0, 2.0, 3.0])
    i, j = np.array([0, 0, 2]), np.array([1, 1, 0])
    compare(lambda a, b: tg.index_put(a, (tg.tensor(i), tg.tensor(j)), b, accumulate=True),
            lambda a, b: torch.index_put(a, (torch.tensor(i), torch.tensor(j)), b, accumulate=True), [x, v])
    t = tg.zeros(3, 2, dtype=tg.float64)
    assert t.index_put_((tg.tensor(i), tg.tensor(j)), tg.tensor(v), accumulate=True) is t
    assert t.numpy()[0, 1] == 3.0


@pytest.mark.parametrize("case", ["reduce", "scatter_dtype", "put_range", "put_count", "masked_few", "index_put_shape",
                                  "index_put_dtype", "index_copy_count",
                                  "index_copy_slice", "index_copy_ndim"])
def test_errors_like_torch(case):
    x, idx = np.zeros((3, 2)), np.array([[0, 1]])
    calls = {
        "reduce": (lambda lib, a, i: lib.scatter_reduce(a, 0, i, a, "add"), x, idx),
        "scatter_dtype": (lambda lib, a, i: lib.scatter_reduce(a, 0, i, a.float(), "sum"), x, idx),
        "put_range": (lambda lib, a, i: a.put(i * 10, lib.ones(2, dtype=a.dtype)), x, idx),
        "put_count": (lambda lib, a, i: a.put(i, lib.ones(3, dtype=a.dtype)), x, idx),
        "masked_few": (lambda lib, a, i: a.masked_scatter(a == 0, lib.ones(2, dtype=a.dtype)), x, idx),
        "index_put_shape": (lambda lib, a, i: a.index_put((i[0],), lib.ones(3, dtype=a.dtype)), x, idx),
        "index_put_dtype": (lambda lib, a, i: a.index_put((i[0],), lib.ones(2)), x, idx),
        "index_copy_count": (lambda lib, a, i: a.index_copy(0, i[0], lib.ones(3, 2, dtype=a.dtype)), x, idx),
        "index_copy_slice": (lambda lib, a, i: a.index_copy(0, i[0], lib.ones(2, 3, dtype=a.dtype)), x, idx),
        "index_copy_ndim": (lambda lib, a, i: a.index_copy(0, i[0], lib.ones(2, 2, 1, dtype=a.dtype)), x, idx),
    }
    fn, a, i = calls[case]
    raises_like(lambda *t: fn(tg, *t), lambda *t: fn(torch, *t), a, i)
