"""The unary factory `_unary` (one Function subclass per op from a forward and a backward row) and its rows for
unary math (neg, exp, log, sqrt, sin, cos, abs, log1p, log2, expm1, rsqrt) and the piecewise-constant rounding ops
(sign, floor, ceil, round); `_maybe_inplace` for ops with an `inplace` flag."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .operands import _to_float


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
