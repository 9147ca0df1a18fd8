"""Elementwise ops: arithmetic with PyTorch's broadcasting and type promotion, unary math, activations,
comparisons, casts. The engine sums gradients over broadcast axes, so backward rules here ignore broadcasting."""
import numpy as np

from .. import backend, dtypes, kernels_ref
from ..autograd import Function
from ..tensor import Tensor
from .inplace import _inplace_of

# ---- operands ------------------------------------------------------------------------------------


def _as_tensor(x, dt, be):
    if isinstance(x, Tensor):
        return x if x._array.dtype == dt.np else x.type(dt)
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return Tensor(be.xp.asarray(dtypes.checked_scalar(x, dt, wrap=True), dtype=dt.np))
    raise TypeError(f"unsupported operand type: {type(x).__name__} (expected Tensor or a Python number)")


def _binary_operands(a, b):
    """Both operands as Tensors of the promoted dtype (a Python number beside a float tensor stays a number: NumPy
    then keeps the tensor's dtype, as PyTorch does, unless it is an int PyTorch cannot take at all); shapes checked
    so the error names both."""
    ta, tb = type(a), type(b)
    if ta is Tensor:
        if tb is Tensor:
            if a._array.dtype == b._array.dtype:
                if a._array.shape != b._array.shape:
                    _broadcast_shape(a._array.shape, b._array.shape)
                return a, b
        elif (tb is float or (tb is int and -2 ** 63 <= b < 2 ** 64)) and a._array.dtype.kind == "f":
            return a, b
    elif ta is float or (ta is int and -2 ** 63 <= a < 2 ** 64):
        if tb is Tensor and b._array.dtype.kind == "f":
            return a, b
    dt = dtypes.result_type(a, b)
    be = a._be if isinstance(a, Tensor) else b._be
    a, b = _as_tensor(a, dt, be), _as_tensor(b, dt, be)
    sa, sb = a._array.shape, b._array.shape
    if sa != sb:
        _broadcast_shape(sa, sb)
    return a, b


def _arr(x):
    return x._array if isinstance(x, Tensor) else x


def _xp(a, b):
    return (a if isinstance(a, Tensor) else b)._be.xp


def _broadcast_shape(sa, sb):
    try:
        return np.broadcast_shapes(sa, sb)
    except ValueError:
        n = max(len(sa), len(sb))
        pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
                raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                                   f"non-singleton dimension {i - n + len(sa) if len(sa) == n else i}: shapes "
                                   f"{list(sa)} and {list(sb)}") from None
        raise


# ---- binary --------------------------------------------------------------------------------------


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


def _int_scalar_fits(t, x):
    """pow's exponent, where's values: here PyTorch range-checks a Python int into an integer result dtype instead
    of wrapping it as arithmetic does."""
    if type(x) is int and isinstance(t, Tensor):
        dt = dtypes.result_type(t, x)
        if not dt.is_floating_point:
            dtypes.checked_scalar(x, dt)


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


# ---- rounded division, remainder, fmod -----------------------------------------------------------------------------
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


def _to_float(x):
    return x if x._array.dtype.kind == "f" else x.type(dtypes.get_default_dtype())


# ---- unary ---------------------------------------------------------------------------------------
# Each row: forward(xp, x, *params) and backward(xp, g, x, out, *params), where params are the op's own arguments
# (a slope, alpha, beta...) and xp is the backend itself instead for an op with its own backend kernels. _unary
# builds the Function subclass and the op that checks and casts the input.


def _unary(name, fwd, bwd, float_only=True, saves="out", kernel=False, n_params=0):
    """saves: what backward reads, "x", "out", "both" or None."""
    keep_x, keep_out = saves in ("x", "both"), saves in ("out", "both")

    class Unary(Function):
        raw = True
        double = "lift"

        @staticmethod
        def forward(ctx, x, *params):
            out = fwd(ctx.be if kernel else ctx.be.xp, x, *params)
            ctx.save_for_backward(x if keep_x else None, out if keep_out else None)
            if n_params:
                ctx.params = params
            return out

        @staticmethod
        def backward(ctx, g):
            x, out = ctx.saved_tensors
            if not n_params:
                return bwd(ctx.be if kernel else ctx.be.xp, g, x, out)
            return (bwd(ctx.be if kernel else ctx.be.xp, g, x, out, *ctx.params),) + (None,) * n_params

    Unary.__name__ = Unary.__qualname__ = "".join(w.capitalize() for w in name.split("_"))

    def op(input, *params):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return Unary.apply(_to_float(input) if float_only else input, *params)
    op.__name__ = op.__qualname__ = name
    op.function = Unary
    return op


def _maybe_inplace(op, input, inplace, *params):
    # inplace=True writes the result into input, as PyTorch does (views of input see it, and autograd rebases it)
    return input._inplace(op, *params) if inplace else op(input, *params)


def _neg_fwd(xp, x):
    if x.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return -x


def _sigmoid_fwd(xp, x):
    if hasattr(xp, "sigmoid"):   # recorded tensors (a rule run under create_graph)
        return xp.sigmoid(x)
    return kernels_ref.sigmoid(x, xp=xp)


def _softplus_fwd(xp, x, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)


def _softplus_bwd(xp, g, x, out, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, g, g * _sigmoid_fwd(xp, bx))


neg = _unary("neg", _neg_fwd, lambda xp, g, x, o: -g, float_only=False, saves=None)
exp = _unary("exp", lambda xp, x: xp.exp(x), lambda xp, g, x, o: g * o)
log = _unary("log", lambda xp, x: xp.log(x), lambda xp, g, x, o: g / x, saves="x")
sqrt = _unary("sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, x, o: g / (2 * o))
sin = _unary("sin", lambda xp, x: xp.sin(x), lambda xp, g, x, o: g * xp.cos(x), saves="x")
cos = _unary("cos", lambda xp, x: xp.cos(x), lambda xp, g, x, o: -g * xp.sin(x), saves="x")
abs = _unary("abs", lambda xp, x: xp.abs(x), lambda xp, g, x, o: g * xp.sign(x), float_only=False, saves="x")
log1p = _unary("log1p", lambda xp, x: xp.log1p(x), lambda xp, g, x, o: g / (1 + x), saves="x")
log2 = _unary("log2", lambda xp, x: xp.log2(x), lambda xp, g, x, o: g / (x * np.log(2)), saves="x")
expm1 = _unary("expm1", lambda xp, x: xp.expm1(x), lambda xp, g, x, o: g * (o + 1))
rsqrt = _unary("rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, x, o: -0.5 * g * o * o * o)
# activations. ReLU runs over every CNN's biggest activations: a backend kernel, one fused pass each way
# (bench/README.md)
relu = _unary("relu", lambda be, x: be.relu(x), lambda be, g, x, o: be.relu_backward(g, o), float_only=False,
              kernel=True)
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda xp, g, x, o: g * (1 - o * o))
sigmoid = _unary("sigmoid", lambda be, x: be.sigmoid(x), lambda be, g, x, o: be.sigmoid_backward(g, o), kernel=True)
_leaky_relu = _unary("leaky_relu", lambda xp, x, slope: xp.where(x > 0, x, x * slope),
                     lambda xp, g, x, o, slope: xp.where(x > 0, g, g * slope), saves="x", n_params=1)
_elu = _unary("elu", lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))),
              lambda xp, g, x, o, alpha: xp.where(x > 0, g, g * (o + alpha)), saves="both", n_params=1)
_softplus = _unary("softplus", _softplus_fwd, _softplus_bwd, saves="x", n_params=2)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(_leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_elu, input, inplace, alpha)


def softplus(input, beta=1.0, threshold=20.0):
    return _softplus(input, beta, threshold)


def square(input):
    return mul(input, input)


def reciprocal(input):
    return div(1.0, input)


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


# ---- casts and devices ---------------------------------------------------------------------------


class Cast(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.src = x.dtype
        return x.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


def type_(self, dtype=None):
    if dtype is None:
        return f"tinygrad_fer.{self.dtype.name}"
    dt = dtypes.to_dtype(dtype)
    if self._array.dtype == dt.np:
        return self
    if self.requires_grad and not dt.is_floating_point:
        return Tensor(self._array.astype(dt.np))  # integer results carry no gradient, as in PyTorch
    return Cast.apply(self, dt.np)


class ToDevice(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dst):
        ctx.src = ctx.be
        return dst.asarray(ctx.be.to_numpy(x)) if dst.name != "cpu" else ctx.be.to_numpy(x)

    @staticmethod
    def backward(ctx, g):
        src = ctx.src
        return (src.asarray(backend.of(g).to_numpy(g)) if src.name != "cpu" else backend.of(g).to_numpy(g)), None


def to_device(x, dev):
    dst = backend.get(dev)
    if dst is x._be:
        return x
    return ToDevice.apply(x, dst)


# ---- comparisons and logic (no gradient) ---------------------------------------------------------


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
# piecewise constant: the result stays in the graph with a zero gradient, as PyTorch's FloorBackward0 and the like
def _sign(xp, x):
    if x.dtype == np.bool_:
        return x.copy()
    s = xp.sign(x)
    return xp.where(xp.isnan(x), 0, s).astype(x.dtype) if x.dtype.kind == "f" else s  # PyTorch: sign(nan) = 0


def _rounding(ufunc):
    # integers are already whole: PyTorch returns them as they are (NumPy would make float64)
    return lambda xp, x: x.copy() if x.dtype.kind in "iub" else getattr(xp, ufunc)(x)


sign, floor, ceil, round = (_unary(n, f, lambda xp, g, x, o: xp.zeros_like(g), float_only=False, saves=None)
                            for n, f in (("sign", _sign), ("floor", _rounding("floor")), ("ceil", _rounding("ceil")),
                                         ("round", _rounding("rint"))))


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


from .elementwise_math import MathMethods, __all__ as _math_all  # noqa: E402 (it builds on the helpers above)
from .elementwise_math import *  # noqa: E402,F401,F403


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
