"""Scans along one dim: cumulative sum, product, max/min and log-sum-exp, and the n-th forward difference."""
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import _dim
from .inplace import _inplace_of

values_indices = namedtuple("values_indices", ["values", "indices"])


def _scan_dtype(input, dtype):
    """PyTorch's accumulation dtype: the requested one, else int64 for integer and bool input."""
    if dtype is not None:
        return dtypes.to_dtype(dtype).np
    return np.int64 if input._array.dtype.kind in "biu" else None


def _rev_cumsum(xp, a, axis):
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class CumSum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dim, np_dtype):
        ctx.dim = dim
        return ctx.be.xp.cumsum(x, axis=dim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        return _rev_cumsum(ctx.be.xp, g, ctx.dim), None, None


class CumProd(Function):
    """Its gradient, d out[j] / d x[k] = prod(x[:k]) * prod(x[k+1:j+1]) for j >= k, is summed by a right-to-left
    recurrence S[k] = g[k] + x[k+1] * S[k+1] with no division, so zeros in the input are exact."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dim, np_dtype):
        ctx.dim = dim
        ctx.save_for_backward(x)
        return ctx.be.xp.cumprod(x, axis=dim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = ctx.be.xp
        xm, gm = xp.moveaxis(x, ctx.dim, 0), xp.moveaxis(g, ctx.dim, 0)
        n = xm.shape[0]
        if n == 0:
            return xp.zeros_like(x), None, None
        s = xp.empty_like(gm)
        s[n - 1] = gm[n - 1]
        for k in range(n - 2, -1, -1):
            s[k] = gm[k] + xm[k + 1] * s[k + 1]
        left = xp.cumprod(xp.concatenate([xp.ones_like(xm[:1]), xm[:-1]], axis=0), axis=0)
        return xp.moveaxis(left * s, 0, ctx.dim).astype(x.dtype, copy=False), None, None


def _scatter_along(xp, be, shape, dim, idx, g):
    """Zeros of `shape` with g added at idx along dim (repeated indices add up)."""
    gm, im = xp.moveaxis(g, dim, -1), xp.moveaxis(idx, dim, -1)
    n = shape[dim]
    rows = xp.arange(int(np.prod(im.shape[:-1], dtype=np.int64)), dtype=np.int64).reshape(im.shape[:-1] + (1,))
    flat = xp.zeros(int(np.prod(im.shape[:-1], dtype=np.int64)) * n, dtype=g.dtype)
    be.add_at(flat, (rows * n + im).reshape(-1), gm.reshape(-1))
    moved = tuple(s for i, s in enumerate(shape) if i != dim) + (n,)
    return xp.moveaxis(flat.reshape(moved), -1, dim)


def _accumulate(xp, name, a, axis):
    """xp.<name>.accumulate along axis; CuPy's ufuncs have no accumulate, so there it is one step per element."""
    if xp is np:
        return getattr(np, name).accumulate(a, axis=axis)
    f, out = getattr(xp, name), xp.moveaxis(a, axis, 0).copy()
    for i in range(1, out.shape[0]):
        out[i] = f(out[i - 1], out[i])
    return xp.moveaxis(out, 0, axis)


class CumExtremum(Function):
    """Running max/min with the index of its last occurrence (PyTorch updates on ties, and a NaN sticks)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dim, is_max):
        xp = ctx.be.xp
        vals = _accumulate(xp, "maximum" if is_max else "minimum", x, dim)
        hit = x == vals
        if x.dtype.kind == "f":
            hit |= xp.isnan(x)
        shape = [1] * x.ndim
        shape[dim] = x.shape[dim]
        pos = xp.arange(x.shape[dim], dtype=np.int64).reshape(shape)
        idx = _accumulate(xp, "maximum", xp.where(hit, pos, 0), dim)
        ctx.dim, ctx.shape = dim, x.shape
        ctx.save_for_backward(idx)
        return vals, idx

    @staticmethod
    def backward(ctx, g, *_):
        (idx,) = ctx.saved_tensors
        return _scatter_along(ctx.be.xp, ctx.be, ctx.shape, ctx.dim, idx, g), None, None


class LogCumSumExp(Function):
    raw = True   # once differentiable: the log-space sums in backward have no exact recorded form yet

    @staticmethod
    def forward(ctx, x, dim):
        out = _accumulate(ctx.be.xp, "logaddexp", x, dim)
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d out[j] / d x[k] = exp(x[k] - out[j]) for j >= k; the positive and negative parts of g are summed in log
        # space (reverse log-cum-sum-exp), so nothing overflows
        x, out = ctx.saved_tensors
        xp, dim = ctx.be.xp, ctx.dim
        with np.errstate(divide="ignore", invalid="ignore"):
            def part(gp):
                r = xp.flip(_accumulate(xp, "logaddexp", xp.flip(xp.log(gp) - out, dim), dim), dim)
                return xp.exp(r + x)
            gx = part(xp.where(g > 0, g, 0)) - part(xp.where(g < 0, -g, 0))
        return gx.astype(x.dtype, copy=False), None


def _scalar_safe(op):
    """PyTorch scans a 0-d tensor as one element (dim 0 or -1)."""
    def run(input, dim, *args):
        if input.ndim == 0:
            _dim(dim, 1)
            out = run(input.reshape(1), 0, *args)
            return type(out)(*(o.reshape(()) for o in out)) if isinstance(out, tuple) else out.reshape(())
        return op(input, _dim(dim, input.ndim), *args)
    return run


@_scalar_safe
def _cumsum(input, dim, dtype):
    return CumSum.apply(input, dim, _scan_dtype(input, dtype))


@_scalar_safe
def _cumprod(input, dim, dtype):
    np_dtype = _scan_dtype(input, dtype)
    if np_dtype is not None and np.dtype(np_dtype).kind == "f":
        input = input.type(dtypes.to_dtype(np_dtype))
    return CumProd.apply(input, dim, np_dtype)


def cumsum(input, dim, *, dtype=None):
    return _cumsum(input, dim, dtype)


def cumprod(input, dim, *, dtype=None):
    return _cumprod(input, dim, dtype)


def _cum_extremum(is_max):
    @_scalar_safe
    def run(input, dim):
        v, i = CumExtremum.apply(input, dim, is_max)
        return values_indices(v, i)

    def op(input, dim):
        return run(input, dim)
    op.__name__ = "cummax" if is_max else "cummin"
    return op


cummax = _cum_extremum(True)
cummin = _cum_extremum(False)


@_scalar_safe
def _logcumsumexp(input, dim):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"\"logcumsumexp_out_cpu\" not implemented for '{input.dtype.name.capitalize()}'")
    return LogCumSumExp.apply(input, dim)


def logcumsumexp(input, dim):
    return _logcumsumexp(input, dim)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    from .movement import cat
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, input.ndim)
    if n == 0:  # PyTorch returns the input itself, prepend and append unused
        return input
    parts = [t for t in (prepend, input, append) if t is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    head = (slice(None),) * d
    for _ in range(n):
        if x.shape[d] == 0:
            break
        a, b = x[head + (slice(1, None),)], x[head + (slice(None, -1),)]
        x = a != b if x.dtype == dtypes.bool_ else a - b
    return x


class ScanMethods:
    """Tensor's scan methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    cumsum, cumprod, cummax, cummin, logcumsumexp, diff = cumsum, cumprod, cummax, cummin, logcumsumexp, diff
    cumsum_, cumprod_ = _inplace_of("cumsum"), _inplace_of("cumprod")


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff"]
