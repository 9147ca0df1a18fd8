"""The elementwise family's public face: its ops, which live by kind in operands.py (promotion and broadcasting),
arithmetic.py, division.py, unary.py (the unary factory, unary math, rounding), activation_core.py, clamp.py,
cast.py, compare.py and elementwise_math.py, re-exported here for the package namespace (`__all__`), and
ElementwiseMethods, the Tensor methods and operators they give (tinygrad_fer/_tensor_api.py makes Tensor inherit
them)."""
from .activation_core import elu, leaky_relu, relu, sigmoid, softplus, tanh
from .arithmetic import _add_no_alpha, add, div, maximum, minimum, mul, pow, reciprocal, rsub, square, sub, where
from .cast import type_
from .clamp import clamp
from .compare import (allclose, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le, logical_and, logical_not,
                      logical_or, logical_xor, lt, ne)
from .division import floor_divide, fmod, remainder
from .elementwise_math import MathMethods, __all__ as _math_all
from .elementwise_math import *  # noqa: F401,F403
from .inplace import _inplace_of
from .unary import abs, ceil, cos, exp, expm1, floor, log, log1p, log2, neg, round, rsqrt, sign, sin, sqrt


class ElementwiseMethods(MathMethods):
    """Tensor's arithmetic, comparison, logic and unary-math methods and operators (tinygrad_fer/_tensor_api.py makes
    Tensor inherit them)."""
    __slots__ = ()
    __add__ = add = add
    __sub__ = sub = sub
    __rsub__ = rsub
    __mul__ = mul = mul
    __truediv__ = div = divide = div
    __floordiv__ = floor_divide = floor_divide
    __mod__ = remainder = remainder
    fmod = fmod
    __pow__ = pow = pow
    __neg__ = neg = neg
    __abs__ = abs = abs
    __eq__, __ne__, __lt__, __le__, __gt__, __ge__ = eq, ne, lt, le, gt, ge
    eq, ne, lt, le, gt, ge = eq, ne, lt, le, gt, ge
    logical_and, logical_or, logical_not, logical_xor = logical_and, logical_or, logical_not, logical_xor
    isclose = isclose
    maximum, minimum = maximum, minimum
    exp, log, sqrt, rsqrt, sin, cos, log1p, expm1 = exp, log, sqrt, rsqrt, sin, cos, log1p, expm1
    log2, log2_ = log2, _inplace_of("log2")
    reciprocal, square = reciprocal, square
    relu, sigmoid, tanh, leaky_relu, elu, softplus = relu, sigmoid, tanh, leaky_relu, elu, softplus
    clamp = clip = clamp
    sign, floor, ceil, round = sign, floor, ceil, round
    isnan, isinf, isfinite = isnan, isinf, isfinite
    allclose, equal = allclose, equal
    type = type_

    def __radd__(self, other):
        return _add_no_alpha(other, self)

    def __rmul__(self, other):
        return mul(other, self)

    def __rtruediv__(self, other):
        return div(other, self)

    def __rfloordiv__(self, other):
        return floor_divide(other, self)

    def __rmod__(self, other):
        return remainder(other, self)

    def __rpow__(self, other):
        return pow(other, self)

    def where(self, condition, other):
        return where(condition, self, other)

    # in place through Tensor._inplace, which checks that the result fits self's dtype as PyTorch does
    def remainder_(self, other):
        return self._inplace(remainder, other)

    def fmod_(self, other):
        return self._inplace(fmod, other)

    def floor_divide_(self, other):
        return self._inplace(floor_divide, other)

    __imod__, __ifloordiv__ = remainder_, floor_divide_

# the public ops, which the package namespace re-exports
__all__ = ["add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "abs", "clamp",
           "maximum", "minimum", "where", "relu", "sigmoid", "tanh", "log1p", "expm1", "sign", "isnan", "isinf",
           "isfinite", "floor", "ceil", "round", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
           "logical_not", "logical_xor", "allclose", "isclose", "equal", "reciprocal", "square", "remainder", "fmod",
           "floor_divide", "log2"]
__all__ += _math_all
