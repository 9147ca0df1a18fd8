"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median and nanmedian. Every value output is a
gather from the input, so its gradient goes back to the gathered positions."""
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim
from .scan import _scatter_along

values_indices = namedtuple("values_indices", ["values", "indices"])


class TakeAlong(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, idx, dim):
        ctx.dim, ctx.shape = dim, x.shape
        ctx.save_for_backward(idx)
        return ctx.be.xp.take_along_axis(x, idx, axis=dim)

    @staticmethod
    def backward(ctx, g):
        (idx,) = ctx.saved_tensors
        return _scatter_along(ctx.be.xp, ctx.be, ctx.shape, ctx.dim, idx, g), None, None


def _order(xp, a, dim, descending):
    """Stable sorting indices along dim (NaN sorts as the largest value, as in PyTorch)."""
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable").astype(np.int64, copy=False)
    # stable ascending sort of the reversed axis, reversed back: descending, equal values kept in input order
    n = a.shape[dim]
    return (n - 1 - xp.flip(xp.argsort(xp.flip(a, dim), axis=dim, kind="stable"), dim)).astype(np.int64, copy=False)


def _as_1d(input, dim):
    """0-d tensors are ordered as one element; dim is checked against max(ndim, 1) like PyTorch."""
    d = _dim(dim, max(input.ndim, 1))
    return (input.reshape(1), 0, True) if input.ndim == 0 else (input, d, False)


def _gather(input, idx, dim, scalar):
    v, i = TakeAlong.apply(input, idx, dim), Tensor(idx)
    if scalar:
        v, i = v.reshape(()), i.reshape(())
    return values_indices(v, i)


def sort(input, dim=-1, descending=False, stable=False):
    x, d, scalar = _as_1d(input, dim)
    return _gather(x, _order(x._be.xp, x._array, d, descending), d, scalar)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def _no_bool(input, name):
    if input._array.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


def topk(input, k, dim=-1, largest=True, sorted=True):
    if input._array.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")
    x, d, scalar = _as_1d(input, dim)
    if not 0 <= k <= x.shape[d]:
        raise RuntimeError("selected index k out of range")
    idx = _order(x._be.xp, x._array, d, largest)
    return _gather(x, idx[(slice(None),) * d + (slice(0, k),)], d, scalar)


def _select(x, d, pos, keepdim, scalar):
    """The element at sorted position pos (an array broadcastable over the other dims) along d."""
    xp = x._be.xp
    order = _order(xp, x._array, d, False)
    idx = xp.take_along_axis(order, xp.expand_dims(pos, d) if not np.isscalar(pos) else
                             xp.full(order.shape[:d] + (1,) + order.shape[d + 1:], pos, dtype=np.int64), axis=d)
    v, i = TakeAlong.apply(x, idx, d), Tensor(idx)
    if not keepdim or scalar:
        v, i = v.squeeze(d), i.squeeze(d)
    return values_indices(v, i)


def kthvalue(input, k, dim=-1, keepdim=False):
    _no_bool(input, "kthvalue_cpu")
    x, d, scalar = _as_1d(input, dim)
    if not 1 <= k <= x.shape[d]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return _select(x, d, k - 1, keepdim, scalar)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along dim (the smallest of equally frequent ones) and the index of its last
    occurrence, as PyTorch's CPU kernel; the value's gradient goes to that element."""
    x, d, scalar = _as_1d(input, dim)
    xp = x._be.xp
    a = xp.moveaxis(x._array, d, -1)
    rows = a.reshape(-1, a.shape[-1])
    if rows.shape[-1] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    s = xp.sort(rows, axis=-1)
    n = s.shape[-1]
    # the length of the run of equal values ending at each sorted position; the first longest run wins
    start = xp.concatenate([xp.ones((s.shape[0], 1), bool), s[:, 1:] != s[:, :-1]], axis=1)
    first = xp.where(start, xp.arange(n), 0)
    first = xp.maximum.accumulate(first, axis=1)
    length = xp.arange(n) - first + 1
    best = xp.take_along_axis(s, xp.argmax(length == length.max(axis=1, keepdims=True), axis=1)[:, None], 1)
    last = n - 1 - xp.argmax((rows == best)[:, ::-1], axis=1)
    idx = last.reshape(a.shape[:-1])
    idx = xp.expand_dims(idx, d)
    v, i = TakeAlong.apply(x, idx, d), Tensor(idx)
    if not keepdim or scalar:
        v, i = v.squeeze(d), i.squeeze(d)
    return values_indices(v, i)


def _median_pos(xp, a, d, ignore_nan):
    """Sorted position of the lower median along d: NaN propagates (its first occurrence), unless ignore_nan."""
    if a.dtype.kind != "f":
        return (a.shape[d] - 1) // 2
    nans = xp.isnan(a).sum(axis=d)
    valid = a.shape[d] - nans
    if ignore_nan:
        return xp.maximum((valid - 1) // 2, 0).astype(np.int64)
    return xp.where(nans > 0, valid, (a.shape[d] - 1) // 2).astype(np.int64)


class _EvenMedian(Function):
    """The median of all elements; its gradient is shared among the elements equal to it (PyTorch's
    evenly_distribute_backward), the NaNs when it is NaN."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, ignore_nan):
        xp = ctx.be.xp
        flat = x.reshape(-1)
        s = xp.sort(flat)
        pos = int(_median_pos(xp, flat, 0, ignore_nan)) if flat.size else 0
        out = s[pos] if flat.size else xp.asarray(np.nan, dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp = ctx.be.xp
        mask = xp.isnan(x) if x.dtype.kind == "f" and xp.isnan(out) else x == out
        return xp.where(mask, g / xp.maximum(mask.sum(), 1), 0).astype(x.dtype), None


def _median(ignore_nan):
    def op(input, dim=None, keepdim=False):
        _no_bool(input, "median_cpu" if dim is None else "median_out")
        if dim is None:
            return _EvenMedian.apply(input, ignore_nan)
        x, d, scalar = _as_1d(input, dim)
        if x.shape[d] == 0:
            raise IndexError(f"{'nan' if ignore_nan else ''}median(): Expected reduction dim {d} to have non-zero "
                             "size.")
        return _select(x, d, _median_pos(x._be.xp, x._array, d, ignore_nan), keepdim, scalar)
    op.__name__ = "nanmedian" if ignore_nan else "median"
    return op


median = _median(False)
nanmedian = _median(True)


class SortMethods:
    """Tensor's sorting methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    sort, argsort, msort, topk, kthvalue, median, nanmedian = sort, argsort, msort, topk, kthvalue, median, nanmedian
    mode = mode


__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode"]
