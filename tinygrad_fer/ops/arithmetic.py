"""Binary arithmetic with PyTorch's broadcasting and type promotion: add, sub, mul, div (true and rounded), pow,
maximum/minimum (ties share the gradient), where, and square/reciprocal composed from them. The engine sums
gradients over broadcast axes, so the backward rules here ignore broadcasting."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .division import DivRounded, _check_divisor, _floor_div, _trunc_div
from .operands import _as_tensor, _binary_operands, _broadcast_shape, _int_scalar_fits


class Add(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        n = ctx.needs_input_grad  # save only what a gradient reads, as PyTorch (an in-place change elsewhere is fine)
        ctx.save_for_backward(a if n[1] else None, b if n[0] else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        return (g * b if n[0] else None), (g * a if n[1] else None)


class Div(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        n = ctx.needs_input_grad
        gb = None
        if n[1]:
            gb = -g * a / (b * b)
        return (g / b if n[0] else None), gb


class Pow(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        out = a ** b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = ctx.be.xp
        n = ctx.needs_input_grad
        ga = gb = None
        if n[0]:
            if not hasattr(b, "shape"):  # a Python exponent: keep the tensor's dtype
                ga = g * (b * a ** (b - 1)) if b != 0 else xp.zeros_like(g)
            else:  # b * a**(b-1), written so that b == 0 gives 0 even where a == 0
                ga = g * xp.where(b == 0, 0, b * a ** xp.where(b == 0, 1, b - 1))
        if n[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                ln = xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
            gb = g * ln
        return ga, gb


class Maximum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.be.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split_ties(ctx, g, a > b, a == b)


class Minimum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.be.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return _split_ties(ctx, g, a < b, a == b)


def _split_ties(ctx, g, wins, ties):
    # PyTorch halves the gradient between equal operands
    xp = ctx.be.xp
    half = xp.where(ties, g * 0.5, 0)
    ga = xp.where(wins, g, half) if ctx.needs_input_grad[0] else None
    gb = xp.where(wins | ties, half, g) if ctx.needs_input_grad[1] else None
    return ga, gb


class Where(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)
        return ctx.be.xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        (cond,) = ctx.saved_tensors
        xp = ctx.be.xp
        n = ctx.needs_input_grad
        return None, (xp.where(cond, g, 0) if n[1] else None), (xp.where(cond, 0, g) if n[2] else None)


def _binary(fn):
    def op(a, b):
        a, b = _binary_operands(a, b)
        return fn.apply(a, b)
    op.__name__ = fn.__name__.lower()
    return op


# a + b and a - b without the alpha that add and sub below take
_add_no_alpha = _binary(Add)
_sub_no_alpha = _binary(Sub)
mul = _binary(Mul)
maximum = _binary(Maximum)
minimum = _binary(Minimum)


def pow(input, exponent):
    if type(exponent) is int and exponent < 0 and isinstance(input, Tensor) and input._array.dtype.kind in "biu":
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    _int_scalar_fits(input, exponent)
    a, b = _binary_operands(input, exponent)
    return Pow.apply(a, b)


def add(input, other, alpha=1):
    return _add_no_alpha(input, other if alpha == 1 else mul(other, alpha))


def sub(input, other, alpha=1):
    _no_bool_sub(input, other)
    return _sub_no_alpha(input, other if alpha == 1 else mul(other, alpha))


def _no_bool_sub(a, b):
    for x in (a, b):
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, Tensor) and x._array.dtype == np.bool_):
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                               "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def rsub(input, other):
    _no_bool_sub(input, other)
    return _sub_no_alpha(other, input)


def div(input, other, rounding_mode=None):
    a, b = _binary_operands(input, other)
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"'{rounding_mode}'")
        _check_divisor(a, b, "div_" + rounding_mode)
        return DivRounded.apply(a, b, _floor_div if rounding_mode == "floor" else _trunc_div)
    if (a if isinstance(a, Tensor) else b)._array.dtype.kind != "f":
        a, b = a.type(dtypes.get_default_dtype()), b.type(dtypes.get_default_dtype())
    return Div.apply(a, b)


def where(condition, input, other):
    if not isinstance(condition, Tensor) or condition._array.dtype != np.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{getattr(condition, 'dtype', type(condition).__name__)}")
    _int_scalar_fits(input, other)
    _int_scalar_fits(other, input)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _as_tensor(input, dtypes.result_type(input, other), condition._be)
    a, b = _binary_operands(input, other)
    if not isinstance(a, Tensor):
        a = _as_tensor(a, b.dtype, b._be)
    if not isinstance(b, Tensor):
        b = _as_tensor(b, a.dtype, a._be)
    _broadcast_shape(condition._array.shape, np.broadcast_shapes(a._array.shape, b._array.shape))
    return Where.apply(condition, a, b)


def square(input):
    return mul(input, input)


def reciprocal(input):
    return div(1.0, input)
