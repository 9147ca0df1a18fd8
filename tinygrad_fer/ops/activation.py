"""The activations beyond relu/sigmoid/tanh/elu/leaky_relu/softplus (nn.functional's names): the ones with a kink
or a special function get their own forward and backward rules (gelu, celu, hardswish, hardsigmoid, softshrink,
hardshrink), so the gradient at the kinks is PyTorch's; the rest are compositions of existing ops, exact and with
the composed gradient. Like PyTorch's kernels they refuse integer and bool input where PyTorch does."""
import math

import numpy as np

from .. import backend, dtypes
from ..tensor import Tensor
from .activation_core import _elu, sigmoid, softplus, tanh
from .arithmetic import where
from .reduce import softmax as _softmax
from .unary import _maybe_inplace, _unary



def _check(input, fn, kernel):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_dtype_name(input)}'")


def _dtype_name(t):
    return dtypes.scalar_type_name(t._array.dtype)


# ---- gelu ----------------------------------------------------------------------------------------
_SQRT1_2, _INV_SQRT_2PI = 1 / math.sqrt(2), 1 / math.sqrt(2 * math.pi)
_BETA, _KAPPA = math.sqrt(2 / math.pi), 0.044715
def _erfc(xp, x):
    if hasattr(xp, "erfc"):   # recorded tensors (a rule run under create_graph)
        return xp.erfc(x)
    x = xp.asarray(x)   # arithmetic on a 0-d array gives a NumPy scalar
    return backend.of(x).erf(x, True)


def _gelu_fwd(xp, x, approximate):
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_BETA * (x + _KAPPA * x * x * x)))
    return x * _cdf(xp, x)


def _cdf(xp, x):
    # the normal CDF through erfc, without the cancellation of 1 + erf(x) for negative x
    return 0.5 * _erfc(xp, -x * _SQRT1_2)


def _gelu_bwd(xp, g, x, out, approximate):
    if approximate == "tanh":
        t = xp.tanh(_BETA * (x + _KAPPA * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _BETA * (1 + 3 * _KAPPA * x * x))
    return g * (_cdf(xp, x) + x * xp.exp(-0.5 * x * x) * _INV_SQRT_2PI)


_gelu = _unary("gelu", _gelu_fwd, _gelu_bwd, saves="x", n_params=1)


def gelu(input, approximate="none"):
    _check(input, "gelu", "GeluKernelImpl")
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _gelu(input, approximate)


# ---- elu family ----------------------------------------------------------------------------------
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(input, inplace=False):
    _check(input, "selu", "elu_cpu")
    return _maybe_inplace(lambda x: _elu(x, _SELU_ALPHA) * _SELU_SCALE, input, inplace)


def _celu_fwd(xp, x, alpha):
    # expm1 of the clipped input, so large positive x (the other branch) never overflows into the gradient
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0) / alpha)).astype(x.dtype, copy=False)


_celu = _unary("celu", _celu_fwd, lambda xp, g, x, o, alpha: xp.where(x > 0, g, g * (o / alpha + 1)),
               saves="both", n_params=1)


def celu(input, alpha=1.0, inplace=False):
    _check(input, "celu", "elu_cpu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _maybe_inplace(_celu, input, inplace, alpha)


def mish(input, inplace=False):
    _check(input, "mish", "mish_cpu")
    return _maybe_inplace(lambda x: x * tanh(softplus(x)), input, inplace)


# ---- hard (piecewise linear) activations: PyTorch's gradient at the kinks ----------------------
def _hardswish_bwd(xp, g, x, o):
    return xp.where(x <= -3, 0, xp.where(x < 3, g * (x / 3 + 0.5), g)).astype(g.dtype, copy=False)


_hardswish = _unary("hardswish", lambda xp, x: x * xp.clip(x + 3, 0, 6) / 6, _hardswish_bwd, saves="x")
_hardsigmoid = _unary("hardsigmoid", lambda xp, x: xp.clip(x + 3, 0, 6) / 6,
                      lambda xp, g, x, o: xp.where((x > -3) & (x < 3), g / 6, 0).astype(g.dtype, copy=False),
                      saves="x")


def hardswish(input, inplace=False):
    _check(input, "hardswish", "hardswish_cpu")
    return _maybe_inplace(_hardswish, input, inplace)


def hardsigmoid(input, inplace=False):
    _check(input, "hardsigmoid", "hardsigmoid_cpu")
    return _maybe_inplace(_hardsigmoid, input, inplace)


def _inside(x, lambd):
    return (x >= -lambd) & (x <= lambd)


def _softshrink_fwd(xp, x, lambd):
    return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)).astype(x.dtype, copy=False)


def _shrink_bwd(xp, g, x, o, lambd):
    return xp.where(_inside(x, lambd), 0, g).astype(g.dtype, copy=False)


_softshrink = _unary("softshrink", _softshrink_fwd, _shrink_bwd, saves="x", n_params=1)
_hardshrink = _unary("hardshrink", lambda xp, x, lambd: xp.where(_inside(x, lambd), 0, x).astype(x.dtype, copy=False),
                     _shrink_bwd, saves="x", n_params=1)


def softshrink(input, lambd=0.5):
    _check(input, "softshrink", "softshrink_check")
    if not lambd >= 0:
        raise RuntimeError(f"lambda must be in range [0, {float(np.finfo(input._array.dtype).max):g}] for input dtype "
                           f"{input.dtype.name}, but found {lambd}")
    return _softshrink(input, lambd)


def hardshrink(input, lambd=0.5):
    _check(input, "hardshrink", "hardshrink_cpu")
    return _hardshrink(input, lambd)


def threshold(input, threshold, value, inplace=False):
    """y = x where x > threshold, else value; an integer tensor compares with both numbers cast to its dtype, as
    PyTorch's kernel does."""
    if not isinstance(input, Tensor):
        raise TypeError(f"threshold(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"threshold_cpu\" not implemented for 'Bool'")
    if not input.is_floating_point():
        threshold, value = int(threshold), int(value)
    return _maybe_inplace(lambda x: where(x > threshold, x, value), input, inplace)


# ---- compositions --------------------------------------------------------------------------------
def softsign(input):
    if isinstance(input, Tensor) and input.dtype.name == "bool":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dtype is None and isinstance(input, Tensor) and not input.is_floating_point() and input.dtype.name != "bool":
        raise NotImplementedError(f"\"softmax_kernel_impl\" not implemented for '{_dtype_name(input)}'")
    return _softmax(-input, dim, dtype)


def glu(input, dim=-1):
    _check(input, "glu", "glu_cpu")
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, {input.ndim - 1}], "
                         f"but got {dim})")
    d = dim % input.ndim
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    a, b = input.chunk(2, d)
    return a * sigmoid(b)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), one weight for all channels or one per channel (dimension 1)."""
    _check(input, "prelu", "prelu_cpu")
    n, channels = weight.numel(), input.shape[1] if input.ndim >= 2 else 1
    if input.ndim == 0 and n != 1:
        raise RuntimeError("Not allow zero-dim input tensor.")
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    w = weight.reshape(()) if n == 1 else weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    return where(input > 0, input, w * input)


def _vector_norm(x, p, dim):
    a = x.abs()
    if p == math.inf:
        return a.amax(dim, keepdim=True)
    if p == -math.inf:
        return a.amin(dim, keepdim=True)
    if p == 0:
        return (x != 0).type(x.dtype).sum(dim, keepdim=True)
    # zeros (an element, or a whole slice's sum) are raised to powers as ones and then masked: their gradient is 0
    # as in PyTorch's norm, instead of 0 * inf from a power below 1
    pos = a > 0
    s = where(pos, where(pos, a, 1.0) ** p, 0.0).sum(dim, keepdim=True)
    nz = s > 0
    return where(nz, where(nz, s, 1.0) ** (1.0 / p), 0.0)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    if not input.is_floating_point():
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype_name(input)}")
    result = input / _vector_norm(input, p, dim).clamp(min=eps)
    if out is None:
        return result
    return out.copy_(result)


__all__ = ["gelu", "selu", "celu", "mish", "hardswish", "hardsigmoid", "softsign", "softmin", "glu", "prelu",
           "threshold", "tanhshrink", "softshrink", "hardshrink", "normalize"]
