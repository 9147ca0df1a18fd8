"""clamp (clip) with number bounds or tensor bounds, each with PyTorch's gradient at and beyond the bounds."""
from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .operands import _as_tensor, _broadcast_shape


def _clamp_values(xp, x, lo, hi):
    out = x
    if lo is not None:
        out = xp.maximum(out, lo)
    if hi is not None:
        out = xp.minimum(out, hi)
    return out if out is not x else x.copy()


class Clamp(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.be.xp
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return _clamp_values(xp, x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = True
        if ctx.lo is not None:
            keep = x >= ctx.lo
        if ctx.hi is not None:
            keep = keep & (x <= ctx.hi)
        return ctx.be.xp.where(keep, g, 0), None, None


class ClampTensor(Function):
    """clamp with tensor bounds. PyTorch's gradients: the input where it lies within both bounds (ties included),
    min where the input is below it (and min < max), max where the input is above it or max < min."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.be.xp
        ctx.save_for_backward(x, lo, hi)
        return _clamp_values(xp, x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.saved_tensors
        xp, n = ctx.be.xp, ctx.needs_input_grad
        keep = True
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = keep & (x <= hi)
        gx = xp.where(keep, g, 0) if n[0] else None
        glo = ghi = None
        if n[1]:
            glo = xp.where((x < lo) & (lo < hi) if hi is not None else x < lo, g, 0)
        if n[2]:
            ghi = xp.where((x > hi) | (hi < lo) if lo is not None else x > hi, g, 0)
        return gx, glo, ghi


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if not all(isinstance(v, Tensor) for v in (min, max) if v is not None):
            raise TypeError(f"clamp() received an invalid combination of arguments - got (Tensor, "
                            f"{type(min).__name__}, {type(max).__name__}), but expected one of: (Tensor input, Tensor "
                            "min = None, Tensor max = None), (Tensor input, Number min = None, Number max = None)")
        bounds = [v for v in (min, max) if v is not None]
        dt = dtypes.result_type(input, *bounds)
        x, lo, hi = (None if v is None else _as_tensor(v, dt, input._be) for v in (input, min, max))
        for v in bounds:
            _broadcast_shape(input._array.shape, v.shape if isinstance(v, Tensor) else ())
        return ClampTensor.apply(x, lo, hi)
    dt = dtypes.result_type(input, *(v for v in (min, max) if v is not None))
    x = input if input.dtype is dt else input.type(dt)
    return Clamp.apply(x, min, max)
