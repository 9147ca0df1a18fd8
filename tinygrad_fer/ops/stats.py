"""Statistics built on the reductions: var_mean/std_mean, aminmax, the NaN-ignoring nansum/nanmean, count_nonzero,
trace, and the vector norms (norm, dist)."""
import builtins
from collections import namedtuple

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim
from .reduce import _axes, amax, amin, mean, std, sum, var

def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var_mean(input, unbiased), the legacy positional form
        dim, unbiased = None, dim
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


min_max = namedtuple("min_max", ["min", "max"])


def aminmax(input, *, dim=None, keepdim=False):
    if dim is None and input.ndim and keepdim:
        return min_max(amin(input, None, True), amax(input, None, True))
    if input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    axes = () if dim is None else _dim(dim, builtins.max(input.ndim, 1))
    if input.ndim == 0:
        return min_max(input.clone(), input.clone())
    return min_max(amin(input, axes, keepdim), amax(input, axes, keepdim))


class _NanToZero(Function):
    """NaN replaced by 0; the gradient is g * (x is not NaN), so an infinite g (nanmean of all NaN) gives NaN there
    as in PyTorch."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x):
        keep = ~ctx.be.xp.isnan(x)
        ctx.save_for_backward(keep)
        return ctx.be.xp.where(keep, x, 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (keep,) = ctx.saved_tensors
        return g * keep


def _nan_to_zero(input):
    return _NanToZero.apply(input) if input.dtype.is_floating_point else input


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return sum(_nan_to_zero(input), dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.type(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input.dtype.name.capitalize()}")
    count = sum(~input.isnan(), dim, keepdim).type(input.dtype)
    return nansum(input, dim, keepdim) / count


def count_nonzero(input, dim=None):
    xp = input._be.xp
    axes = _axes(dim, input.ndim)
    return Tensor(xp.asarray((input._array != 0).sum(axis=axes), dtype=np.int64))


class Trace(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.shape = x.shape
        return ctx.be.xp.asarray(ctx.be.xp.trace(x, dtype=np_dtype))

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        gx = xp.zeros(ctx.shape, dtype=g.dtype)
        k = builtins.min(ctx.shape)
        gx[xp.arange(k), xp.arange(k)] = g
        return gx, None


def trace(input):
    if input.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input.ndim))
    if input._array.dtype == np.bool_:
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input, np.int64 if input._array.dtype.kind in "biu" else None)


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) for a finite p other than 0; its gradient is 0 where the norm is 0 and, for p < 1, where an
    element is 0 (PyTorch's subgradients, where |x|^(p-1) would be infinite)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = ctx.be.xp
        a = xp.abs(x)
        with np.errstate(divide="ignore"):     # 0 ** p for p < 0 is inf: the norm is then 0
            out = xp.sqrt((a * a).sum(axis=axes, keepdims=True)) if p == 2 else \
                (a ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.p, ctx.keepdim, ctx.kept = p, keepdim, out.shape
        if not keepdim:
            out = out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, out)   # the output itself, so a gradient taken with create_graph sees its history
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, p = ctx.be.xp, ctx.p
        g, out = g.reshape(ctx.kept), out.reshape(ctx.kept)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = xp.where(out == 0, 0, g / out ** (p - 1))
            d = x if p == 2 else xp.sign(x) * xp.abs(x) ** (p - 1)
            if p < 1:
                d = xp.where(x == 0, 0, d)
        return (d * scale).astype(x.dtype, copy=False), None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.type(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{input.dtype.name.capitalize()}")
    if isinstance(p, str):
        if p != "fro":
            raise RuntimeError(f"norm(): p={p!r} is not supported")
        p = 2
    axes = _axes(dim, input.ndim)
    if p == 0:
        return sum((input != 0).type(input.dtype), axes, keepdim)
    if input.ndim == 0:
        return input.abs()
    if p == float("inf"):
        return amax(input.abs(), axes, keepdim)
    if p == -float("inf"):
        return amin(input.abs(), axes, keepdim)
    if p == 1:
        return sum(input.abs(), axes, keepdim)
    return VectorNorm.apply(input, float(p), axes, keepdim)


def dist(input, other, p=2):
    return norm(input - other, p)


class StatsMethods:
    """Tensor's statistics methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    aminmax, nansum, nanmean, count_nonzero = aminmax, nansum, nanmean, count_nonzero
    trace, norm, dist = trace, norm, dist


__all__ = ["var_mean", "std_mean", "aminmax", "nansum", "nanmean", "count_nonzero", "trace", "norm", "dist"]
