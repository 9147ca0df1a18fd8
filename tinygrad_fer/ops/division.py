"""Rounded division, remainder, fmod and floor_divide, in PyTorch's conventions for signs, integer division by zero
and which of them have a derivative."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .operands import _binary_operands


# Quotients and remainders in PyTorch's conventions: floor division and `remainder` (Python's %) round toward -inf, so
# a remainder has the divisor's sign; trunc division and `fmod` (C's %) round toward zero, so it has the dividend's.
# Integer division by zero raises, as PyTorch's CPU kernels do (NumPy would give 0); floats give inf/nan.


def _is_int(a, b):
    return (a if hasattr(a, "dtype") else b).dtype.kind in "iu"


def _floor_div(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return xp.floor_divide(a, b)  # NumPy's float floor division is PyTorch's algorithm (fmod, then adjust)


def _trunc_div(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if _is_int(a, b):
            return (a - xp.fmod(a, b)) // b  # exact: a true division would round int64 through float64
        return xp.trunc(a / b)


def _remainder(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if _is_int(a, b):
            return xp.remainder(a, b)
        # PyTorch's formula (NumPy's remainder gives +0 where this gives -0)
        m = xp.fmod(a, b)
        return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


def _fmod(xp, a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return xp.fmod(a, b)


def _check_divisor(a, b, kernel):
    """After promotion: bool has no such kernel, and an integer divisor must not hold a zero that is used."""
    t = a if isinstance(a, Tensor) else b
    kind = t._array.dtype.kind
    if kind == "b":
        raise NotImplementedError(f"\"{kernel}_{t.device.type}\" not implemented for 'Bool'")
    if kind in "iu" and a._array.size and b._array.size and bool((b._array == 0).any()):
        raise RuntimeError("ZeroDivisionError")


class DivRounded(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b, fn):
        return fn(ctx.be.xp, a, b)

    @staticmethod
    def backward(ctx, g):
        # PyTorch defines the gradient of a rounded quotient as zero (grad * 0: nan where grad is)
        n = ctx.needs_input_grad
        return (g * 0 if n[0] else None), (g * 0 if n[1] else None), None


class NoDerivative(Function):
    """An op PyTorch gives no derivative (floor_divide; remainder of a number by a tensor): its result still joins
    the graph, and a backward pass through it raises as PyTorch's does."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b, fn, name):
        ctx.aten_name = name
        return fn(ctx.be.xp, a, b)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"derivative for aten::{ctx.aten_name} is not implemented")


def _rest_op(name, rest, quotient):
    """a - quotient(a, b) * b (remainder: floored quotient, fmod: truncated): d/da = 1, d/db = -quotient."""
    class Rest(Function):
        raw = True
        double = "lift"

        @staticmethod
        def forward(ctx, a, b):
            keep = ctx.needs_input_grad[1]
            ctx.save_for_backward(a if keep else None, b if keep else None)
            return rest(ctx.be.xp, a, b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            n = ctx.needs_input_grad
            return (g if n[0] else None), (-g * quotient(ctx.be.xp, a, b) if n[1] else None)

    Rest.__name__ = Rest.__qualname__ = name
    return Rest


Remainder = _rest_op("Remainder", _remainder, _floor_div)
Fmod = _rest_op("Fmod", _fmod, _trunc_div)


def _no_tensor(name, input, other, signatures):
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of: {signatures}")


def floor_divide(input, other):
    _no_tensor("floor_divide", input, other, "(Tensor input, Tensor other), (Tensor input, Number other)")
    a, b = _binary_operands(input, other)
    _check_divisor(a, b, "div_floor")
    return NoDerivative.apply(a, b, _floor_div, "floor_divide")


def remainder(input, other):
    _no_tensor("remainder", input, other, "(Tensor input, Tensor other), (Number self, Tensor other), "
                                          "(Tensor input, Number other)")
    a, b = _binary_operands(input, other)
    _check_divisor(a, b, "remainder")
    if not isinstance(input, Tensor):
        return NoDerivative.apply(a, b, _remainder, "remainder")
    return Remainder.apply(a, b)


def fmod(input, other):
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected one of: (Tensor input, Tensor other), "
                        "(Tensor input, Number other)")
    a, b = _binary_operands(input, other)
    _check_divisor(a, b, "fmod")
    return Fmod.apply(a, b)
