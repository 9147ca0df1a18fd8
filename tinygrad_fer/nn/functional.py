"""torch.nn.functional's names: the ops (activations and their in-place spellings, convolution, pooling, the losses
with their own backward rules, batch norm) re-exported from ops/, and what is composed from them here: relu's
inplace form, hardtanh (and hardtanh_), relu6, silu, logsigmoid, the regression and hinge losses, one_hot and
dropout."""
import warnings

import numpy as np

from ..ops.conv import conv2d, conv_transpose2d, unfold, fold  # noqa: F401
from ..ops.conv1d import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d,  # noqa: F401
                          conv_transpose1d, max_pool1d)
from ..ops.conv3d import (adaptive_avg_pool3d, adaptive_max_pool3d, avg_pool3d, conv3d,  # noqa: F401
                          conv_transpose3d, max_pool3d)
from ..ops.unpool_lp import (lp_pool1d, lp_pool2d, lp_pool3d, max_unpool1d, max_unpool2d,  # noqa: F401
                             max_unpool3d)
from ..ops.activation import (celu, gelu, glu, hardshrink, hardsigmoid, hardswish, mish, normalize,  # noqa: F401
                             prelu, selu, softmin, softshrink, softsign, tanhshrink, threshold)
from ..ops.elementwise import clamp as _clamp, elu, leaky_relu, sigmoid, softplus, tanh  # noqa: F401
from ..ops.elementwise import relu as _relu, where as _where
from ..ops.unary import _maybe_inplace
from ..ops.activation_inplace import (_tensor, celu_, elu_, leaky_relu_, relu_, rrelu_, selu_,  # noqa: F401
                                      threshold_)
from ..ops.loss import (_check_target_dtype, _reduce, _reduction, _size, binary_cross_entropy,  # noqa: F401
                        binary_cross_entropy_with_logits, cross_entropy, nll_loss)
from ..ops.matmul import linear  # noqa: F401
from ..ops.loss import mse as _mse
from ..ops.distances import pdist  # noqa: F401
from ..ops.norm_layers import group_norm, instance_norm, layer_norm, local_response_norm, rms_norm  # noqa: F401
from ..ops.bilinear import bilinear  # noqa: F401
from ..ops.ctc import ctc_loss  # noqa: F401
from ..ops.embedding import embedding, embedding_bag  # noqa: F401
from ..ops.dropout_extra import (alpha_dropout, dropout1d, dropout3d, feature_alpha_dropout,  # noqa: F401
                                 gumbel_softmax, rrelu)
from ..ops.loss_extra import (cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, huber_loss,  # noqa
                              kl_div, margin_ranking_loss, multilabel_soft_margin_loss, pairwise_distance,
                              poisson_nll_loss, smooth_l1_loss, soft_margin_loss, triplet_margin_loss,
                              cosine_similarity, multilabel_margin_loss, triplet_margin_with_distance_loss)
from ..ops.movement import flatten, unflatten  # noqa: F401
from ..ops.pad_modes import pad  # noqa: F401
from ..ops.interpolate import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..ops.grid_sample import affine_grid, grid_sample  # noqa: F401
from ..ops.attention import multi_head_attention_forward, scaled_dot_product_attention  # noqa: F401
from ..ops.normalization import batch_norm  # noqa: F401
from ..ops.pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from ..ops.reduce import log_softmax as _log_softmax, softmax as _softmax
from ..tensor import Tensor


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- activations ---------------------------------------------------------------------------------
def relu(input, inplace=False):
    if isinstance(input, Tensor) and input.dtype.name == "bool":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _maybe_inplace(_relu, input, inplace)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if isinstance(input, Tensor) and not input.is_floating_point():
        return _hardtanh_integer(input, min_val, max_val, inplace)

    def op(x):
        # no gradient at or beyond the ends (nor at NaN), as PyTorch's; clamp's gradient passes at the ends
        return _where((x > min_val) & (x < max_val), x, _clamp(x, min_val, max_val).detach())
    return _maybe_inplace(op, input, inplace)


def _hardtanh_integer(input, min_val, max_val, inplace):
    # PyTorch's kernel truncates the limits to integers and clamps: the result keeps the input's integer dtype
    if input.dtype.name == "bool":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    lo, hi = int(min_val), int(max_val)
    if input.dtype.name == "uint8" and (lo < 0 or hi < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return input.clamp_(lo, hi) if inplace else input.clamp(lo, hi)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    _tensor(input, "hardtanh_")
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _log_softmax(input, dim, dtype)


def silu(input, inplace=False):
    return _maybe_inplace(lambda x: x * sigmoid(x), input, inplace)


def logsigmoid(input):
    return -softplus(-input)


# ---- regression ----------------------------------------------------------------------------------
def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size(target)}) that is different to the input size "
                      f"({_size(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    if weight is None:
        return _mse(input, target, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    d = input - target
    loss = d * d * weight
    # PyTorch's weighted mean divides by the weights' sum, not by the number of elements
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    loss = (input - target).abs()
    return _reduce(loss if weight is None else loss * weight, reduction)


# ---- multiclass hinge ----------------------------------------------------------------------------
def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over i != y of w[y] * max(0, margin - x[y] + x[i]) ** p, divided by the number of classes."""
    reduction = _reduction(reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.ndim != 1:
        raise ValueError("weight must be one-dimensional")
    _check_target_dtype(target)
    unbatched = input.ndim <= 1
    x = input.reshape(1, -1) if unbatched else input
    if x.ndim != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    t = target.reshape(-1)
    n, c = x.shape
    if t.shape[0] != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(target.shape)}")
    ta = t._array.astype(np.int64)
    if bool(((ta < 0) | (ta >= c)).any()):
        raise RuntimeError("target out of range")
    xp = x._be.xp
    xy = x[xp.arange(n), ta].reshape(n, 1)
    z = _relu(margin - xy + x)
    if p == 2:
        z = z * z
    other = xp.ones((n, c), dtype=x._array.dtype)
    other[xp.arange(n), ta] = 0
    if weight is not None:
        other = other * weight._array.astype(x._array.dtype)[ta][:, None]
    loss = (z * Tensor(other)).sum(1) / c
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# ---- one_hot, dropout ----------------------------------------------------------------------------
def one_hot(tensor, num_classes=-1):
    a = tensor._array
    if a.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = tensor._be.xp
    if a.size and bool((a < 0).any()):
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
        if not a.size:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
    elif a.size and int(a.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return Tensor((a[..., None] == xp.arange(num_classes)).astype(np.int64))


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input, shape, p):
    be = input._be
    dt = input._array.dtype
    keep = be.rng.random(shape, dtype=dt if dt in (np.float32, np.float64) else np.float64) >= p
    return Tensor((keep / (1 - p)).astype(dt, copy=False) if p < 1 else be.xp.zeros(shape, dtype=dt))


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    if not training or p == 0:
        return input
    return _maybe_inplace(lambda x: x * _dropout_mask(x, tuple(x.shape), p), input, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels: (N, C, H, W) or unbatched (C, H, W)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"dropout2d: expected a 3-D or 4-D input, got {input.ndim}-D {list(input.shape)}")
    if not training or p == 0:
        return input
    shape = tuple(input.shape[:-2]) + (1, 1)
    return _maybe_inplace(lambda x: x * _dropout_mask(x, shape, p), input, inplace)


__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
           "conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d",
           "adaptive_max_pool3d",
           "conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "dropout2d",
           "elu", "flatten", "fold", "l1_loss", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool2d",
           "mse_loss", "multi_margin_loss", "nll_loss", "one_hot", "pad", "relu", "hardtanh", "relu6", "sigmoid",
           "silu", "softmax", "softplus", "tanh", "unflatten", "unfold",
           "celu", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish", "mish", "normalize", "prelu", "selu",
           "softmin", "softshrink", "softsign", "tanhshrink", "threshold"]
__all__ += ["group_norm", "instance_norm", "layer_norm", "local_response_norm", "embedding", "alpha_dropout",
            "dropout1d", "dropout3d", "feature_alpha_dropout"]
__all__ += ["cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "huber_loss", "kl_div",
            "margin_ranking_loss", "multilabel_soft_margin_loss", "pairwise_distance", "poisson_nll_loss",
            "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss"]
__all__ += ["interpolate", "upsample", "pixel_shuffle", "pixel_unshuffle"]
__all__ += ["cosine_similarity", "multilabel_margin_loss"]
__all__ += ["embedding_bag"]
__all__ += ["channel_shuffle"]
__all__ += ["pdist"]
__all__ += ["affine_grid", "grid_sample"]
__all__ += ["multi_head_attention_forward", "scaled_dot_product_attention"]
__all__ += ["upsample_nearest", "upsample_bilinear"]
__all__ += ["rms_norm", "bilinear"]
__all__ += ["triplet_margin_with_distance_loss"]
__all__ += ["rrelu", "gumbel_softmax"]
__all__ += ["ctc_loss"]
__all__ += ["relu_", "elu_", "celu_", "selu_", "leaky_relu_", "rrelu_", "threshold_", "hardtanh_"]
