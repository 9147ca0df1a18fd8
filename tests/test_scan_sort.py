"""Edge cases of the scans, order statistics and NaN-aware reductions that the registry's random samples rarely
reach: zeros, ties, NaNs, zero variance, and the errors PyTorch raises."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import compare


def _check(fn, *arrays, **kw):
    compare(lambda *a: fn(tg, *a), lambda *a: fn(torch, *a), list(arrays), **kw)


def test_cumprod_gradient_with_zeros_is_exact():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.0, 2.0, -1.0, 4.0]])
    _check(lambda lib, a: lib.cumprod(a, 1), x)
    assert tg.autograd.gradcheck(lambda a: tg.cumprod(a, 1), [tg.tensor(x, requires_grad=True)])


def test_cummax_cummin_ties_take_the_last_index_and_nan_sticks():
    x = np.array([1.0, 3.0, 3.0, 2.0, np.nan, 5.0, np.nan, 0.0])
    for name in ("cummax", "cummin"):
        _check(lambda lib, a: getattr(lib, name)(a, 0), x)


def test_std_gradient_is_zero_where_the_variance_is_zero():
    x = np.full((2, 3), 1.5)
    _check(lambda lib, a: lib.std(a, 1, correction=0), x)
    _check(lambda lib, a: lib.std_mean(a, 1, correction=0), x)


def test_nan_reductions():
    x = np.array([[np.nan, np.nan, np.nan], [1.0, np.nan, 2.0], [3.0, 0.5, -1.0]])
    _check(lambda lib, a: lib.nanmean(a, 1), x)
    _check(lambda lib, a: lib.nansum(a), x)
    _check(lambda lib, a: lib.nanmedian(a, 1), x[1:])
    _check(lambda lib, a: lib.nanmedian(a), x)
    _check(lambda lib, a: lib.median(a, 1), x[1:])
    _check(lambda lib, a: lib.median(a), x)


def test_sort_nan_is_largest_and_descending_keeps_ties_in_order():
    x = np.array([2.0, np.nan, 1.0, 2.0, -1.0, 1.0])
    for desc in (False, True):
        _check(lambda lib, a: lib.sort(a, descending=desc, stable=True), x)


def test_median_of_all_elements_shares_the_gradient_among_ties():
    _check(lambda lib, a: lib.median(a), np.array([[1.0, 2.0, 2.0], [2.0, 5.0, 0.0]]))


def test_scalar_inputs():
    x = np.array(1.25)
    for fn in (lambda lib, a: lib.cumsum(a, 0), lambda lib, a: lib.cummax(a, -1), lambda lib, a: lib.sort(a),
               lambda lib, a: lib.topk(a, 1), lambda lib, a: lib.kthvalue(a, 1), lambda lib, a: lib.median(a, 0),
               lambda lib, a: lib.logcumsumexp(a, 0), lambda lib, a: lib.aminmax(a)):
        _check(fn, x)


@pytest.mark.parametrize("call", [lambda lib, t: lib.topk(t, 4), lambda lib, t: lib.kthvalue(t, 0),
                                  lambda lib, t: lib.diff(t[0]), lambda lib, t: lib.trace(t[0]),
                                  lambda lib, t: lib.logcumsumexp(t.long(), 0), lambda lib, t: lib.norm(t.long())])
def test_errors_like_torch(call):
    with pytest.raises(RuntimeError):
        call(torch, torch.ones(3))
    with pytest.raises(RuntimeError):
        call(tg, tg.ones(3))


def test_diff_with_n_zero_ignores_prepend():
    _check(lambda lib, a, b: lib.diff(a, 0, 0, b), np.ones((2, 3)), np.ones((1, 3)))


def test_var_mean_std_mean_legacy_unbiased_positional():
    x = np.random.default_rng(0).standard_normal((2, 3))
    for name in ("var_mean", "std_mean"):
        for unbiased in (False, True):
            _check(lambda lib, a: getattr(lib, name)(a, unbiased), x)
