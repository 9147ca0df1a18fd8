"""Registry entries of the elementwise ops: unary math and activations with Tensor methods, binary arithmetic,
division and remainder, comparisons and logic, predicates, where and clamp, then the tensor-op breadth issue's
math (issue 17: other bases, hyperbolic and inverse trigonometric functions, erf, two-operand float functions,
non-finite cleanups) with their samples."""
import numpy as np

from .draw import Sample
from .entry import OpInfo
from .samples import _broadcast_pair, _where_sample, binary, unary


def _unaries():
    domains = dict(log=(0.1, 5.0), log2=(0.1, 5.0), sqrt=(0.1, 5.0), rsqrt=(0.1, 5.0), log1p=(-0.9, 5.0))
    for n in ("abs ceil cos exp expm1 floor log log1p log2 neg reciprocal round rsqrt sigmoid sign sin sqrt square "
              "tanh relu").split():
        lo, hi = domains.get(n, (-3.0, 3.0))
        yield OpInfo(n, unary(lo, hi, nonzero=n == "reciprocal"), method=True, inplace=n + "_",
                     aliases=dict(neg=("negative",)).get(n, ()), signed_zeros=n in ("neg", "abs", "relu"),
                     module=dict(relu="ReLU", sigmoid="Sigmoid", tanh="Tanh").get(n))


def _binaries():
    pos = lambda d, s, dt: d.array(s, dt, 0.2, 3.0)  # noqa: E731
    nonzero = lambda d, s, dt: d.away_from_zero(s, dt)  # noqa: E731
    yield OpInfo("add", binary(), method=True, inplace="add_")
    yield OpInfo("sub", binary(), method=True, inplace="sub_", aliases=("subtract",))
    yield OpInfo("mul", binary(), method=True, inplace="mul_", aliases=("multiply",))
    yield OpInfo("div", binary(rhs=nonzero), method=True, inplace="div_", aliases=("divide",))
    yield OpInfo("pow", binary(0.2, 3.0), method=True, inplace="pow_", scale=10)
    yield OpInfo("maximum", binary(scalar=False), method=True)
    yield OpInfo("minimum", binary(scalar=False), method=True)
    yield OpInfo("remainder", binary(rhs=nonzero), method=True, inplace="remainder_", gradcheck=False,
                 deviations=dict(gradcheck="piecewise: jumps where a/b crosses an integer"))
    yield OpInfo("fmod", binary(rhs=nonzero), method=True, inplace="fmod_", gradcheck=False,
                 deviations=dict(gradcheck="piecewise: jumps where a/b crosses an integer"))
    yield OpInfo("floor_divide", binary(rhs=pos), method=True, inplace="floor_divide_", grad=False)
    for n in "eq ne lt le gt ge".split():
        yield OpInfo(n, binary(), method=True, grad=False, inplace=n + "_",
                     aliases=dict(ne=("not_equal",), lt=("less",), le=("less_equal",), gt=("greater",),
                                  ge=("greater_equal",)).get(n, ()))
    for n in "logical_and logical_or logical_xor".split():
        yield OpInfo(n, binary(scalar=False), method=True, grad=False,
                     inplace=None if n == "logical_xor" else n + "_")
    yield OpInfo("logical_not", unary(), method=True, grad=False, inplace="logical_not_")
    for n in "isnan isinf isfinite".split():
        yield OpInfo(n, unary(), method=True, grad=False)
    yield OpInfo("where", _where_sample, gradcheck=True)
    yield OpInfo("clamp", lambda d, dt: Sample((d.array(d.shape(), dt),), dict(min=-1.0, max=d.choice((1.0, None)))),
                 method=True, inplace="clamp_", aliases=("clip",))


# ---- the tensor-op breadth issue's ops, one generator per family ----------------------------------------
def _nonfinite_sample(d, dt):
    """An array with some nan and infinite values (not in numeric gradient checks: RngDraw.nice is False)."""
    x = d.array(d.shape(), dt)
    if d.nice and x.size:
        flat = x.reshape(-1)
        for v in (np.nan, np.inf, -np.inf):
            if d.bool():
                flat[d.int(0, flat.size - 1)] = v
    kw = {k: float(d.int(-3, 3)) for k in ("nan", "posinf", "neginf") if d.bool()}
    return Sample((x,), kw)


def _lerp_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    w = d.array(d.choice((sa, sb, ())), dt, -0.5, 1.5) if d.bool() else float(d.choice((0.0, 0.25, 0.5, 0.75, 1.0)))
    return Sample((d.array(sa, dt), d.array(sb, dt), w))


def _clamp_tensor_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    full = np.broadcast_shapes(sa, sb)  # PyTorch's backward fails when the bounds broadcast the input bigger
    lo = d.array(d.choice((sa, sb)), dt, -2.0, 0.5)
    hi = d.choice((d.array(d.choice((sa, sb)), dt, -0.5, 2.0), None))
    return Sample((d.array(full, dt), lo, hi)) if d.bool() else Sample((d.array(full, dt), None, d.array(sb, dt)))


def _more_elementwise():
    domains = dict(log10=(0.1, 5.0), asin=(-0.9, 0.9), acos=(-0.9, 0.9), atanh=(-0.9, 0.9), acosh=(1.1, 5.0),
                   erfinv=(-0.9, 0.9))
    aliases = dict(asin=("arcsin",), acos=("arccos",), atan=("arctan",), asinh=("arcsinh",), acosh=("arccosh",),
                   atanh=("arctanh",), trunc=("fix",))
    for n in ("log10 exp2 trunc frac sinh cosh asin acos atan asinh acosh atanh erf erfc erfinv sinc deg2rad "
              "rad2deg sgn").split():
        # sgn: PyTorch's gradient is a ZeroTensor, which the comparison cannot read (ours: zeros, as sign's)
        yield OpInfo(n, unary(*domains.get(n, (-3.0, 3.0))), method=True, inplace=n + "_", aliases=aliases.get(n, ()),
                     grad=n != "sgn")
    pos = lambda d, s, dt: d.array(s, dt, 0.2, 3.0)  # noqa: E731
    yield OpInfo("atan2", binary(scalar=False), method=True, inplace="atan2_", aliases=("arctan2",))
    yield OpInfo("hypot", binary(scalar=False), method=True, inplace="hypot_")
    yield OpInfo("copysign", binary(), method=True, inplace="copysign_", gradcheck=False,
                 deviations=dict(gradcheck="jumps where the magnitude operand crosses zero"))
    yield OpInfo("logaddexp", binary(scalar=False), method=True)
    yield OpInfo("logaddexp2", binary(scalar=False), method=True)
    yield OpInfo("xlogy", binary(rhs=pos, scalar=False), method=True, inplace="xlogy_")
    yield OpInfo("lerp", _lerp_sample, method=True, inplace="lerp_")
    yield OpInfo("nan_to_num", _nonfinite_sample, method=True, inplace="nan_to_num_")
    for n in ("isposinf", "isneginf"):
        yield OpInfo(n, lambda d, dt: Sample(_nonfinite_sample(d, dt).args), method=True, grad=False)
    yield OpInfo("clip", _clamp_tensor_sample, method=True, inplace="clip_")
