"""Reductions (sum, max/min, mean, var/std, argmax) and the numerically stable softmax family."""
import builtins
import functools
from collections import namedtuple

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor, _dim

values_indices = namedtuple("values_indices", ["values", "indices"])


def _axes(dim, ndim):
    """dim (None, int, or tuple) as a sorted tuple of non-negative axes; None means all."""
    if dim is None or dim == () or dim == []:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dim = (dim,)
    axes = tuple(sorted(_dim(int(d), ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {axes[0]} appears multiple times in the list of dims")
    return axes


def _numpy_names(op):
    """op taking NumPy's spellings as PyTorch does: axis= for dim=, keepdims= for keepdim= (not both of a pair)."""
    name = op.__name__

    @functools.wraps(op)
    def aliased(*args, **kwargs):
        if kwargs:
            for np_name, name_ in (("axis", "dim"), ("keepdims", "keepdim")):
                if np_name in kwargs:
                    if name_ in kwargs:
                        raise TypeError(f"{name}() got an unexpected keyword argument '{np_name}'")
                    kwargs[name_] = kwargs.pop(np_name)
        return op(*args, **kwargs)
    return aliased


def _expand_back(ctx, g):
    """Gradient of a reduction, broadcast back over the reduced axes."""
    if not ctx.keepdim:
        g = g.reshape(ctx.kept_shape)
    return ctx.be.xp.broadcast_to(g, ctx.shape)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    raw = True
    double = "lift"

    def name(self):
        # PyTorch's overloads: sum() is SumBackward0, sum(dim) SumBackward1
        return "SumBackward0" if self.whole else "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype, whole):
        ctx.shape, ctx.keepdim, ctx.kept_shape = x.shape, keepdim, _kept_shape(x.shape, axes)
        ctx.whole = whole
        return x.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(ctx, g), None, None, None, None


@_numpy_names
def sum(input, dim=None, keepdim=False, dtype=None):
    axes = _axes(dim, input.ndim)
    if dtype is not None:
        input = input.type(dtype)
    # integer and bool sums are int64 in PyTorch
    acc = np.int64 if input._array.dtype.kind in "biu" else None
    return Sum.apply(input, axes, keepdim, acc, dim is None)


@_numpy_names
def mean(input, dim=None, keepdim=False, dtype=None):
    if dtype is not None:
        input = input.type(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {input.dtype.name.capitalize()}")
    axes = _axes(dim, input.ndim)
    n = 1
    for a in axes:
        n *= input._array.shape[a]
    return Mean.apply(input, axes, keepdim, n, dim is None) if n else sum(input, dim, keepdim) * float("nan")


class Mean(Function):
    """One graph node, as PyTorch's (a sum divided by the count would show DivBackward0)."""
    raw = True
    double = "lift"

    def name(self):
        # PyTorch's overloads: mean() is MeanBackward0, mean(dim) MeanBackward1
        return "MeanBackward0" if self.whole else "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, n, whole):
        ctx.shape, ctx.keepdim, ctx.kept_shape, ctx.n = x.shape, keepdim, _kept_shape(x.shape, axes), n
        ctx.whole = whole
        return x.sum(axis=axes, keepdims=keepdim) / n

    @staticmethod
    def backward(ctx, g):
        return _expand_back(ctx, g) / ctx.n, None, None, None, None


class MaxMin(Function):
    """max/min over all elements (gradient shared among ties, as PyTorch does) or over one dim (gradient to the
    index PyTorch returns: the first extremum)."""
    raw = True
    double = "lift"

    def name(self):
        # PyTorch's overloads: max() / min() are MaxBackward1 / MinBackward1, max(dim) / min(dim) ...Backward0
        return f"{'Max' if self.is_max else 'Min'}Backward{1 if self.dim is None else 0}"

    @staticmethod
    def forward(ctx, x, dim, keepdim, is_max):
        xp = ctx.be.xp
        ctx.shape, ctx.dim, ctx.keepdim, ctx.is_max = x.shape, dim, keepdim, is_max
        if x.size == 0:
            raise RuntimeError(f"{'max' if is_max else 'min'}(): Expected reduction dim to be specified for input."
                               "numel() == 0. Specify the reduction dim with the 'dim' argument.")
        if dim is None:
            out = x.max() if is_max else x.min()
            ctx.save_for_backward(x, out)
            return xp.asarray(out)
        idx = (xp.argmax if is_max else xp.argmin)(x, axis=dim, keepdims=True)
        nan = xp.isnan(x).any(axis=dim, keepdims=True) if x.dtype.kind == "f" else None
        if nan is not None and nan.any():  # NaN propagates and wins the index, as in PyTorch
            idx = xp.where(nan, xp.argmax(xp.isnan(x), axis=dim, keepdims=True), idx)
        out = xp.take_along_axis(x, idx, axis=dim)
        ctx.save_for_backward(idx)
        if not keepdim:
            out, idx = out.squeeze(dim), idx.squeeze(dim)
        return out, idx.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        if ctx.dim is None:
            x, out = ctx.saved_tensors
            mask = x == out
            return xp.where(mask, g / mask.sum(), 0).astype(x.dtype, copy=False), None, None, None
        (idx,) = ctx.saved_tensors
        gx = xp.zeros(ctx.shape, dtype=g.dtype)
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.dim)
        xp.put_along_axis(gx, idx, g, axis=ctx.dim)
        return gx, None, None, None


def _maxmin(is_max):
    def op(input, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            from .elementwise import maximum, minimum
            return (maximum if is_max else minimum)(input, dim)
        if dim is None:
            return MaxMin.apply(input, None, False, is_max)
        d = _dim(dim, input.ndim)
        if input.ndim == 0:
            return values_indices(input, Tensor(input._be.xp.zeros((), dtype=np.int64)))
        v, i = MaxMin.apply(input, d, keepdim, is_max)
        return values_indices(v, i)
    op.__name__ = op.__qualname__ = "max" if is_max else "min"
    return _numpy_names(op)


max = _maxmin(True)
min = _maxmin(False)


def _amaxmin(is_max):
    def op(input, dim=(), keepdim=False):
        axes = _axes(dim, input.ndim)
        x = input
        if not axes:
            return x
        # reduced axes moved last and flattened: one reduction that shares the gradient among ties
        from .movement import permute
        rest = [i for i in range(x.ndim) if i not in axes]
        y = permute(x, *rest, *axes).reshape(*[x.shape[i] for i in rest], -1)
        r = _SharedExtremum.apply(y, is_max)
        if keepdim:
            r = r.reshape(_kept_shape(x.shape, axes))
        return r
    op.__name__ = op.__qualname__ = "amax" if is_max else "amin"
    return _numpy_names(op)


class _SharedExtremum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, y, is_max):
        out = y.max(axis=-1, keepdims=True) if is_max else y.min(axis=-1, keepdims=True)
        ctx.save_for_backward(y, out)
        return out[..., 0]

    @staticmethod
    def backward(ctx, g):
        y, out = ctx.saved_tensors
        mask = y == out
        return ctx.be.xp.where(mask, (g[..., None] / mask.sum(-1, keepdims=True)), 0).astype(y.dtype), None


amax = _amaxmin(True)
amin = _amaxmin(False)


@_numpy_names
def argmax(input, dim=None, keepdim=False):
    xp = input._be.xp
    if dim is None:
        return Tensor(xp.asarray(xp.argmax(input._array), dtype=np.int64))
    return Tensor(xp.argmax(input._array, axis=_dim(dim, input.ndim), keepdims=keepdim).astype(np.int64))


@_numpy_names
def argmin(input, dim=None, keepdim=False):
    xp = input._be.xp
    if dim is None:
        return Tensor(xp.asarray(xp.argmin(input._array), dtype=np.int64))
    return Tensor(xp.argmin(input._array, axis=_dim(dim, input.ndim), keepdims=keepdim).astype(np.int64))


@_numpy_names
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):  # var(unbiased) legacy positional form
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _axes(dim, input.ndim)
    n = 1
    for a in axes:
        n *= input.shape[a]
    d = input - mean(input, axes, keepdim=True)
    return sum(d * d, axes, keepdim) / builtins.max(n - correction, 0)  # this module's max is the op


class _StdSqrt(Function):
    """sqrt of a variance, whose gradient is 0 where the variance is 0 (PyTorch's std_backward), not 0 * inf."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, v):
        out = ctx.be.xp.sqrt(v)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return ctx.be.xp.where(out == 0, 0, g / (2 * out)).astype(out.dtype, copy=False)


@_numpy_names
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _StdSqrt.apply(var(input, dim, unbiased, keepdim, correction=correction))


@_numpy_names
def logsumexp(input, dim, keepdim=False):
    axes = _axes(dim, input.ndim)
    x = input if input.dtype.is_floating_point else input.type(dtypes.get_default_dtype())
    m = x.detach()._array.max(axis=axes, keepdims=True)
    m = x._be.xp.where(x._be.xp.isfinite(m), m, 0)  # all -inf (or inf) rows: shift by 0
    mt = Tensor(m)
    out = (x - mt).exp().sum(axes, keepdim=True).log() + mt
    return out if keepdim else out.reshape(*[s for i, s in enumerate(x.shape) if i not in axes])


class Softmax(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dim, log):
        xp = ctx.be.xp
        z = x - x.max(axis=dim, keepdims=True)
        ctx.dim, ctx.log = dim, log
        if log:
            out = z - xp.log(xp.exp(z).sum(axis=dim, keepdims=True))
        else:
            e = xp.exp(z)
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        xp = ctx.be.xp
        if ctx.log:
            return g - xp.exp(out) * g.sum(axis=ctx.dim, keepdims=True), None, None
        return out * (g - (g * out).sum(axis=ctx.dim, keepdims=True)), None, None


def _softmax(log):
    def op(input, dim=None, dtype=None):
        if dim is None:
            dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit-dim choice
        if dtype is not None:
            input = input.type(dtype)
        x = input if input.dtype.is_floating_point else input.type(dtypes.get_default_dtype())
        if x.ndim == 0:
            return Softmax.apply(x.reshape(1), 0, log).reshape(())
        return Softmax.apply(x, _dim(dim, x.ndim), log)
    return op


softmax = _softmax(False)
log_softmax = _softmax(True)


class Prod(Function):
    """Product over one axis (None: all). Its gradient is the product of the *other* elements, taken as exclusive
    running products from both ends, so zeros need no division (one zero: only its slot gets a gradient)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, axis, keepdim, dtype):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return ctx.be.xp.asarray(x.prod(axis=axis, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp, axis = ctx.be.xp, ctx.axis
        flat = x.reshape(1, -1) if axis is None else xp.moveaxis(x, axis, -1)
        ones = xp.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], axis=-1), -1), axis=-1), -1)
        if axis is None:
            return (g.reshape(()) * (left * right).reshape(x.shape)).astype(x.dtype), None, None, None
        gk = g if ctx.keepdim else xp.expand_dims(g, axis)
        return (xp.moveaxis(left * right, -1, axis) * gk).astype(x.dtype), None, None, None


@_numpy_names
def prod(input, dim=None, keepdim=False, dtype=None):
    x = input
    np_dtype = None if dtype is None else dtypes.to_dtype(dtype).np
    if x._array.dtype.kind in "biu" and np_dtype is None:
        np_dtype = np.int64  # PyTorch: integer and bool products are int64
    axis = None if dim is None else _dim(dim, x.ndim)
    return Prod.apply(x, axis, keepdim if axis is not None else False, np_dtype)


@_numpy_names
def all(input, dim=None, keepdim=False):
    a = input._array.astype(bool)
    return Tensor(input._be.xp.asarray(a.all() if dim is None else a.all(axis=_dim(dim, input.ndim), keepdims=keepdim)))


@_numpy_names
def any(input, dim=None, keepdim=False):
    a = input._array.astype(bool)
    return Tensor(input._be.xp.asarray(a.any() if dim is None else a.any(axis=_dim(dim, input.ndim), keepdims=keepdim)))


class ReduceMethods:
    """Tensor's reduction and softmax methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    sum, mean, prod, all, any = sum, mean, prod, all, any
    max, min, amax, amin, argmax, argmin = max, min, amax, amin, argmax, argmin
    var, std, logsumexp, softmax, log_softmax = var, std, logsumexp, softmax, log_softmax

# the public ops, which the package namespace re-exports
__all__ = ["sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "softmax",
           "log_softmax", "prod", "all", "any"]
