"""Channel dropout for 1-D and 3-D feature maps, alpha dropout (which keeps SELU's zero mean and unit variance),
randomized leaky ReLU and Gumbel-softmax sampling: an input times (or plus) random constants, so the gradient is
theirs."""
import math
import warnings

import numpy as np

from ..tensor import Tensor
from .arithmetic import where
from .reduce import softmax
from .unary import _maybe_inplace

# -SELU's scale * alpha: the value SELU tends to for very negative inputs, which alpha dropout drops to
_ALPHA = 1.7580993408473766


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep(input, shape, p):
    """1 where kept, 0 where dropped, in input's dtype (floating), drawn from the backend's seeded stream."""
    be, dt = input._be, input._array.dtype
    return (be.rng.random(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64) >= p).astype(dt)


def _feature_dropout(name, dims, input, p, training, inplace):
    _check_p(p)
    spatial = dims[0] - 1
    note = (f"Note that {name} exists to provide channel-wise dropout on inputs with {spatial} spatial "
            f"dimension{'s' if spatial > 1 else ''}, a channel dimension, and an optional batch dimension (i.e. "
            f"{dims[0]}D or {dims[1]}D inputs).")
    shape = tuple(input.shape[:input.ndim - spatial]) + (1,) * spatial
    if input.ndim not in dims:
        if name == "dropout1d":
            raise RuntimeError(f"{name}: Expected {dims[0]}D or {dims[1]}D input, but received a {input.ndim}D "
                               f"input. {note}")
        # PyTorch still accepts other ranks here, with a deprecation warning, as elementwise dropout
        warnings.warn(f"{name}: Received a {input.ndim}-D input to {name}, which is deprecated and will result "
                      f"in an error in a future release. To retain the behavior and silence this warning, please "
                      f"use dropout instead. {note}", stacklevel=3)
        shape = tuple(input.shape)
    if not training or p == 0 or input.numel() == 0:
        return input

    def op(x):
        keep = _keep(x, shape, p)
        return x * Tensor(keep / (1 - p) if p < 1 else keep)
    return _maybe_inplace(op, input, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or unbatched (C, L) input."""
    return _feature_dropout("dropout1d", (2, 3), input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    return _feature_dropout("dropout3d", (4, 5), input, p, training, inplace)


def _alpha(input, shape, p, training, inplace):
    _check_p(p)
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return _maybe_inplace(lambda x: x * 0.0, input, inplace)
    a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))

    def op(x):
        keep = _keep(x, shape(x), p)
        # kept: a * x + a * alpha * p; dropped: a * (alpha * p - alpha), i.e. SELU's floor, rescaled
        b = (keep - 1) * (_ALPHA * a) + _ALPHA * a * p
        return x * Tensor(keep * a) + Tensor(b.astype(keep.dtype, copy=False))
    return _maybe_inplace(op, input, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    return _alpha(input, lambda x: tuple(x.shape), p, training, inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (every axis after the first two shares its sample's and channel's draw)."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _alpha(input, lambda x: tuple(x.shape[:2]) + (1,) * (x.ndim - 2), p, training, inplace)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn uniformly from [lower, upper] per element in training, and is
    their mean otherwise."""
    if lower > upper:   # checked before the dtype, as PyTorch does
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not input.is_floating_point():
        kind = {"int64": "Long", "int32": "Int", "bool": "Bool"}.get(input.dtype.name, input.dtype.name)
        raise NotImplementedError(f'"leaky_relu_cpu" not implemented for \'{kind}\'')

    def op(x):
        if training:
            be, dt = x._be, x._array.dtype
            slope = be.rng.random(tuple(x.shape), dtype=dt if dt in (np.float32, np.float64) else np.float64)
            slope = Tensor((lower + (upper - lower) * slope).astype(dt, copy=False))
        else:
            slope = (lower + upper) / 2
        return where(x > 0, x, x * slope)   # zero takes the slope, as PyTorch's
    return _maybe_inplace(op, input, inplace)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """softmax((logits + Gumbel noise) / tau); hard=True returns the one-hot argmax with the soft sample's
    gradient (straight-through)."""
    be, dt = logits._be, logits._array.dtype
    u = be.rng.random(tuple(logits.shape), dtype=dt if dt in (np.float32, np.float64) else np.float64)
    xp = be.xp
    gumbels = Tensor((-xp.log(-xp.log1p(-u))).astype(dt, copy=False))   # -log(Exp(1)), Exp(1) = -log(1 - U)
    y = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    index = y.argmax(dim, keepdim=True)
    y_hard = y.new_zeros(tuple(y.shape)).scatter(dim, index, 1.0)
    return y_hard - y.detach() + y


__all__ = ["dropout1d", "dropout3d", "alpha_dropout", "feature_alpha_dropout", "rrelu", "gumbel_softmax"]
