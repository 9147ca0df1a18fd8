"""More elementwise math (issue 17): logarithms and exponentials in other bases, hyperbolic and inverse trigonometric
functions, the error function, two-operand float functions (atan2, hypot, copysign, logaddexp, xlogy, lerp) and
predicates/cleanups of non-finite values. Each follows PyTorch's dtypes: integer and bool inputs become the default
float dtype where PyTorch's kernel accepts them and raise where it does not. ops/elementwise.py re-exports these
and its ElementwiseMethods inherits MathMethods."""
import math

import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .inplace import _inplace_of
from .operands import _binary_operands
from .unary import _rounding, _sign, _unary

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _not_implemented(kernel, dt):
    return NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{dtypes.scalar_type_name(dt)}'")


def _float_kernel(kernel, fwd):
    """A forward that PyTorch computes for floating inputs only."""
    def f(xp, x):
        if x.dtype.kind != "f":
            raise _not_implemented(kernel, x.dtype)
        return fwd(xp, x)
    return f


def _quiet(fwd):
    # out-of-domain inputs give nan/inf as in PyTorch, without NumPy's warnings
    def f(xp, *a):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fwd(xp, *a)
    return f


def _zero_grad(xp, g, x, o):
    return xp.zeros_like(g)


# ---- the error function: a backend kernel (NumPy has none; math.erf per element, compiled on the CPU) ------------


def _erfinv(xp, x):
    if xp is not np:
        from cupyx.scipy import special
        return special.erfinv(x)
    x64 = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Giles' single-precision approximation as a start, then Newton steps on math.erf to double precision
        w = -np.log((1.0 - x64) * (1.0 + x64))
        small = w < 5.0
        ws, wl = w - 2.5, np.sqrt(w) - 3.0
        ps = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                         -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], ws)
        pl = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                         -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], wl)
        y = np.where(small, ps, pl) * x64
        finite = np.abs(x64) < 1
        erf = np.frompyfunc(math.erf, 1, 1)
        for _ in range(3):
            yf = np.where(finite, y, 0.0)
            step = (np.asarray(erf(yf), dtype=np.float64) - x64) / (2.0 / math.sqrt(math.pi) * np.exp(-yf * yf))
            y = np.where(finite, yf - step, y)
        y = np.where(np.abs(x64) == 1, np.copysign(np.inf, x64), np.where(np.abs(x64) > 1, np.nan, y))
    return np.asarray(y, dtype=x.dtype)


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# ---- unary ---------------------------------------------------------------------------------------


def _sinc(xp, x):
    px = math.pi * x
    safe = xp.where(x == 0, 1, px)
    return xp.where(x == 0, 1, xp.sin(safe) / safe).astype(x.dtype, copy=False)


def _sinc_bwd(xp, g, x, o):
    px = math.pi * x
    safe = xp.where(x == 0, 1, x)
    return g * xp.where(x == 0, 0, (px * xp.cos(px) - xp.sin(px)) / (math.pi * safe * safe))


def _trunc_fwd(xp, x):
    if x.dtype == np.bool_:
        raise _not_implemented("trunc", x.dtype)
    return _rounding("trunc")(xp, x)


log10 = _unary("log10", _quiet(lambda xp, x: xp.log10(x)), lambda xp, g, x, o: g / (x * _LN10), saves="x")
exp2 = _unary("exp2", _quiet(lambda xp, x: xp.exp2(x)), lambda xp, g, x, o: g * o * _LN2)
sinh = _unary("sinh", _quiet(lambda xp, x: xp.sinh(x)), lambda xp, g, x, o: g * xp.cosh(x), saves="x")
cosh = _unary("cosh", _quiet(lambda xp, x: xp.cosh(x)), lambda xp, g, x, o: g * xp.sinh(x), saves="x")
asin = _unary("asin", _quiet(lambda xp, x: xp.arcsin(x)), lambda xp, g, x, o: g / xp.sqrt(1 - x * x), saves="x")
acos = _unary("acos", _quiet(lambda xp, x: xp.arccos(x)), lambda xp, g, x, o: -g / xp.sqrt(1 - x * x), saves="x")
atan = _unary("atan", lambda xp, x: xp.arctan(x), lambda xp, g, x, o: g / (1 + x * x), saves="x")
asinh = _unary("asinh", lambda xp, x: xp.arcsinh(x), lambda xp, g, x, o: g / xp.sqrt(x * x + 1), saves="x")
acosh = _unary("acosh", _quiet(lambda xp, x: xp.arccosh(x)), lambda xp, g, x, o: g / xp.sqrt(x * x - 1), saves="x")
atanh = _unary("atanh", _quiet(lambda xp, x: xp.arctanh(x)), lambda xp, g, x, o: g / (1 - x * x), saves="x")
sinc = _unary("sinc", _quiet(_sinc), _sinc_bwd, saves="x")
deg2rad = _unary("deg2rad", lambda xp, x: x * (math.pi / 180), lambda xp, g, x, o: g * (math.pi / 180), saves=None)
rad2deg = _unary("rad2deg", lambda xp, x: x * (180 / math.pi), lambda xp, g, x, o: g * (180 / math.pi), saves=None)
erf = _unary("erf", lambda be, x: be.erf(x), lambda be, g, x, o: g * _TWO_OVER_SQRT_PI * be.xp.exp(-x * x),
             saves="x", kernel=True)
erfc = _unary("erfc", lambda be, x: be.erf(x, True),
              lambda be, g, x, o: -g * _TWO_OVER_SQRT_PI * be.xp.exp(-x * x), saves="x", kernel=True)
erfinv = _unary("erfinv", _erfinv, lambda xp, g, x, o: g * (math.sqrt(math.pi) / 2) * xp.exp(o * o))
frac = _unary("frac", _float_kernel("frac", lambda xp, x: x - xp.trunc(x)), lambda xp, g, x, o: g,
              float_only=False, saves=None)
# piecewise constant: zero gradient, as PyTorch's TruncBackward0 / SgnBackward0 for real inputs
trunc = _unary("trunc", _trunc_fwd, _zero_grad, float_only=False, saves=None)
sgn = _unary("sgn", _sign, _zero_grad, float_only=False, saves=None)


def fix(input):
    return trunc(input)


def _infinity_test(sign):
    def op(input):
        if not isinstance(input, Tensor):
            raise TypeError(f"{op.__name__}(): argument 'input' must be Tensor, not {type(input).__name__}")
        x = input._array
        xp = input._be.xp
        return Tensor(x == sign * np.inf if x.dtype.kind == "f" else xp.zeros(x.shape, dtype=np.bool_))
    op.__name__ = op.__qualname__ = "isposinf" if sign > 0 else "isneginf"
    return op


isposinf, isneginf = _infinity_test(1), _infinity_test(-1)


class NanToNum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        if x.dtype.kind != "f":
            return x.copy()
        xp = ctx.be.xp
        ctx.save_for_backward(x)
        info = np.finfo(x.dtype)
        out = xp.where(xp.isnan(x), nan, x)
        out = xp.where(x == np.inf, info.max if posinf is None else posinf, out)
        return xp.where(x == -np.inf, info.min if neginf is None else neginf, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ctx.be.xp.where(ctx.be.xp.isfinite(x), g, 0), None, None, None


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if not isinstance(input, Tensor):
        raise TypeError(f"nan_to_num(): argument 'input' must be Tensor, not {type(input).__name__}")
    return NanToNum.apply(input, nan, posinf, neginf)


# ---- binary --------------------------------------------------------------------------------------
# Each row: forward(xp, a, b) and backward(xp, g, a, b, out) -> (grad a, grad b); `tensors_only`: PyTorch takes no
# Python number for either operand; `ints`: integer/bool operands become the default float dtype (else they raise).


def _float_binary(name, fwd, bwd, tensors_only=True, ints=True):
    class Binary(Function):
        raw = True
        double = "lift"

        @staticmethod
        def forward(ctx, a, b):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                out = fwd(ctx.be.xp, a, b)
            ctx.save_for_backward(a, b, out)
            return out

        @staticmethod
        def backward(ctx, g):
            a, b, out = ctx.saved_tensors
            n = ctx.needs_input_grad
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                ga, gb = bwd(ctx.be.xp, g, a, b, out, n)
            return (ga if n[0] else None), (gb if n[1] else None)

    Binary.__name__ = Binary.__qualname__ = "".join(w.capitalize() for w in name.split("_"))

    def op(input, other):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
        if tensors_only and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
        a, b = _binary_operands(input, other)
        t = a if isinstance(a, Tensor) else b
        if t._array.dtype.kind != "f":
            if not ints:
                raise _not_implemented(name, t._array.dtype)
            dt = dtypes.get_default_dtype()
            a, b = (x.type(dt) if isinstance(x, Tensor) else x for x in (a, b))
        return Binary.apply(a, b)
    op.__name__ = op.__qualname__ = name
    op.function = Binary
    return op


def _atan2_bwd(xp, g, a, b, out, n):
    d = a * a + b * b
    return g * b / d, -g * a / d


def _hypot_bwd(xp, g, a, b, out, n):
    return g * a / out, g * b / out


def _copysign_bwd(xp, g, a, b, out, n):
    # PyTorch: the ratio result / self, zero where self is zero; the sign source gets no gradient
    ratio = xp.where(a == 0, 0, out / xp.where(a == 0, 1, a))
    return g * ratio, xp.zeros_like(g) if hasattr(b, "shape") else None


def _logaddexp_bwd(base):
    def bwd(xp, g, a, b, out, n):
        return g / (1 + base(xp, b - a)), g / (1 + base(xp, a - b))
    return bwd


def _xlogy_fwd(xp, a, b):
    out = xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log(b))
    return out.astype(xp.result_type(a, b), copy=False)


def _xlogy_bwd(xp, g, a, b, out, n):
    ga = gb = None
    if n[0]:
        ga = xp.where((a == 0) & (b <= 0), 0, _xlogy_fwd(xp, g, b))
    if n[1]:
        gb = g * a / b
    return ga, gb


def _copysign_fwd(xp, a, b):
    return xp.copysign(a, b).astype(xp.result_type(a, b), copy=False)


atan2 = _float_binary("atan2", lambda xp, a, b: xp.arctan2(a, b), _atan2_bwd)
hypot = _float_binary("hypot", lambda xp, a, b: xp.hypot(a, b), _hypot_bwd, ints=False)
copysign = _float_binary("copysign", _copysign_fwd, _copysign_bwd, tensors_only=False)
logaddexp = _float_binary("logaddexp", lambda xp, a, b: xp.logaddexp(a, b),
                          _logaddexp_bwd(lambda xp, d: xp.exp(d)), ints=False)
logaddexp2 = _float_binary("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b),
                           _logaddexp_bwd(lambda xp, d: xp.exp2(d)), ints=False)
_xlogy = _float_binary("xlogy", _xlogy_fwd, _xlogy_bwd, tensors_only=False)


def xlogy(input, other):
    if not isinstance(input, Tensor) and isinstance(other, Tensor):  # a number first: PyTorch takes that too
        t = other if other.is_floating_point() else other.type(dtypes.get_default_dtype())
        return _xlogy(Tensor(t._be.xp.full((), input, dtype=t._array.dtype)), t)
    return _xlogy(input, other)


class Lerp(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        xp = ctx.be.xp
        diff = end - start
        # PyTorch's two-sided formula: exact at weight 0 and weight 1
        out = xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))
        return out.astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        n = ctx.needs_input_grad
        return ((g * (1 - weight) if n[0] else None), (g * weight if n[1] else None),
                (g * (end - start) if n[2] else None))


def lerp(input, end, weight):
    for what, t in (("input", input), ("end", end)):
        if not isinstance(t, Tensor):
            raise TypeError(f"lerp(): argument '{what}' must be Tensor, not {type(t).__name__}")
    dt = input._array.dtype
    if dt.kind != "f":
        raise NotImplementedError(f"\"lerp_kernel_{'tensor' if isinstance(weight, Tensor) else 'scalar'}\" not "
                                  f"implemented for '{dtypes.scalar_type_name(dt)}'")
    for what, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._array.dtype != dt:
            c = dict(float16="c10::Half", float32="float", float64="double", bfloat16="c10::BFloat16")
            raise RuntimeError(f"expected dtype {c.get(input.dtype.name, input.dtype.name)} for `{what}` but got "
                               f"dtype {c.get(t.dtype.name, t.dtype.name)}")
    if not isinstance(weight, Tensor):
        weight = Tensor(input._be.xp.asarray(weight, dtype=dt))
    np.broadcast_shapes(input._array.shape, end._array.shape, weight._array.shape)
    return Lerp.apply(input, end, weight)


class MathMethods:
    """The Tensor methods of this module's ops (ElementwiseMethods inherits them)."""
    __slots__ = ()
    log10, log10_, exp2, exp2_ = log10, _inplace_of("log10"), exp2, _inplace_of("exp2")
    trunc, trunc_, fix, frac, frac_ = trunc, _inplace_of("trunc"), fix, frac, _inplace_of("frac")
    sinh, sinh_, cosh, cosh_ = sinh, _inplace_of("sinh"), cosh, _inplace_of("cosh")
    asin, asin_, acos, acos_, atan, atan_ = asin, _inplace_of("asin"), acos, _inplace_of("acos"), atan, \
        _inplace_of("atan")
    arcsin, arccos, arctan = asin, acos, atan
    asinh, asinh_, acosh, acosh_, atanh, atanh_ = asinh, _inplace_of("asinh"), acosh, _inplace_of("acosh"), atanh, \
        _inplace_of("atanh")
    arcsinh, arccosh, arctanh = asinh, acosh, atanh
    atan2, atan2_, arctan2 = atan2, _inplace_of("atan2"), atan2
    hypot, hypot_, copysign, copysign_ = hypot, _inplace_of("hypot"), copysign, _inplace_of("copysign")
    logaddexp, logaddexp2, xlogy, xlogy_ = logaddexp, logaddexp2, xlogy, _inplace_of("xlogy")
    lerp, lerp_ = lerp, _inplace_of("lerp")
    erf, erf_, erfc, erfc_, erfinv, erfinv_ = erf, _inplace_of("erf"), erfc, _inplace_of("erfc"), erfinv, \
        _inplace_of("erfinv")
    sinc, sinc_, deg2rad, deg2rad_, rad2deg, rad2deg_ = sinc, _inplace_of("sinc"), deg2rad, _inplace_of("deg2rad"), \
        rad2deg, _inplace_of("rad2deg")
    sgn, sgn_, isposinf, isneginf = sgn, _inplace_of("sgn"), isposinf, isneginf
    nan_to_num, nan_to_num_ = nan_to_num, _inplace_of("nan_to_num")


arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2 = asin, acos, atan, asinh, acosh, atanh, atan2
__all__ = ["log10", "exp2", "trunc", "fix", "frac", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "hypot", "copysign",
           "logaddexp", "logaddexp2", "xlogy", "lerp", "erf", "erfc", "erfinv", "sinc", "deg2rad", "rad2deg", "sgn",
           "isposinf", "isneginf", "nan_to_num"]
