"""Comparisons, logic and predicates, whose results carry no gradient: eq/ne/lt/le/gt/ge, logical_and/or/xor/not,
isnan/isinf/isfinite, isclose, and allclose/equal (Python bools)."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .operands import _arr, _binary_operands, _xp


def _compare(ufunc_name):
    def op(a, b):
        a2, b2 = _binary_operands(a, b)
        return Tensor(_xp(a2, b2).asarray(getattr(_xp(a2, b2), ufunc_name)(_arr(a2), _arr(b2))))
    op.__name__ = ufunc_name
    return op


eq, ne, lt, le, gt, ge = (_compare(n) for n in ("equal", "not_equal", "less", "less_equal", "greater",
                                                 "greater_equal"))


def _logical(name, int_ok):
    def op(a, b=None):
        xp = a._be.xp
        if b is None:
            return Tensor(getattr(xp, name)(a._array))
        a2, b2 = _binary_operands(a, b)
        if not int_ok and a._array.dtype.kind == "f":
            raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
        return Tensor(xp.asarray(getattr(xp, name)(_arr(a2), _arr(b2))))
    return op


logical_and, logical_or, logical_xor = (_logical(n, True) for n in ("logical_and", "logical_or", "logical_xor"))


def logical_not(a):
    return Tensor(a._be.xp.logical_not(a._array))


def _no_grad_unary(ufunc):
    """Ops whose result carries no gradient (PyTorch defines theirs as zero or undefined)."""
    def op(a):
        xp = a._be.xp
        return Tensor(xp.asarray(getattr(xp, ufunc)(a._array)))
    op.__name__ = ufunc
    return op


isnan, isinf, isfinite = (_no_grad_unary(n) for n in ("isnan", "isinf", "isfinite"))


def allclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(a._be.xp.allclose(a._array, b._array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol |other| elementwise (equal infinities are close; NaNs only with equal_nan)."""
    if input._array.dtype != other._array.dtype:
        raise RuntimeError(f"{dtypes.scalar_type_name(input._array.dtype)} did not match "
                           f"{dtypes.scalar_type_name(other._array.dtype)}")
    for v, what in ((rtol, "rtol"), (atol, "atol")):
        if v < 0:
            raise RuntimeError(f"{what} must be greater than or equal to zero, but got {v}")
    a, b = _binary_operands(input, other)
    xp = a._be.xp
    if a._array.dtype == np.bool_:
        return Tensor(xp.asarray(a._array == b._array))
    return Tensor(xp.asarray(xp.isclose(a._array, b._array, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def equal(a, b):
    return a.shape == b.shape and bool((a._array == b._array).all())
