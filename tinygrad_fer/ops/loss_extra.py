"""The regression, divergence, margin and likelihood losses PyTorch composes from elementwise ops, composed here
from ours the same way (so their gradients, and gradients of gradients, come from those ops' rules): smooth L1,
Huber, KL divergence, soft margin, multi-label soft margin, cosine embedding, margin ranking, triplet margin (with
pairwise_distance), hinge embedding, Poisson and Gaussian negative log-likelihood."""
import math
import warnings

import numpy as np

from .. import grad_mode
from ..tensor import Tensor
from .elementwise import clamp, exp, log, log1p, minimum, softplus, where
from .elementwise_math import xlogy
from .loss import _reduce, _reduction, _size
from .stats import norm


def _tensors(name, **ts):
    for k, t in ts.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): argument '{k}' must be Tensor, not {type(t).__name__}")


def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size(target)}) that is different to the input size "
                      f"({_size(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _floating(name, *ts, error=NotImplementedError):
    """PyTorch's kernels for these losses exist for floating dtypes only."""
    for t in ts:
        if not t.is_floating_point():
            kind = t.dtype.name.capitalize() if t.dtype.name != "int64" else "Long"
            if error is NotImplementedError:
                raise NotImplementedError(f'"{name}" not implemented for \'{kind}\'')
            raise RuntimeError(f"result type Float can't be cast to the desired output type {kind}")


def _clamp_min0(x):
    # PyTorch's clamp_min(0): the gradient passes at exactly zero too (relu's does not); an integer x stays integer
    return clamp(x, min=0.0 if x.is_floating_point() else 0)


# ---- regression ----------------------------------------------------------------------------------
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    _tensors("smooth_l1_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size(input, target)
    d = input - target
    z = d.abs()
    if beta == 0.0:   # PyTorch's l1_loss path (which takes integers too)
        return _reduce(z, reduction)
    _floating("smooth_l1", input, target)
    # squared in d (not |d|) and up to |d| == beta included: PyTorch's backward takes the quadratic branch there,
    # which its double backward differentiates
    return _reduce(where(z <= beta, 0.5 * d * d / beta, z - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    _tensors("huber_loss", input=input, target=target)
    reduction = _reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size(input, target)
    _floating("huber", input, target)
    d = input - target
    z = d.abs()
    loss = where(z <= delta, 0.5 * d * d, delta * (z - 0.5 * delta))   # the branches as in smooth_l1_loss
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise ValueError("Weights and input must have the same size.")
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- divergence ----------------------------------------------------------------------------------
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target * (log target - input) pointwise (input holds log-probabilities); 'batchmean' divides the sum by
    the batch size, as the divergence's definition does; 'mean' divides by every element and warns as PyTorch."""
    _tensors("kl_div", input=input, target=target)
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    elif reduction != "batchmean":
        reduction = _reduction(reduction)
    loss = exp(target) * (target - input) if log_target else xlogy(target, target) - target * input
    if reduction == "batchmean":
        out = loss.sum()
        return out / input.shape[0] if input.ndim else out
    return _reduce(loss, reduction)


# ---- binary margins ------------------------------------------------------------------------------
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)) for labels y in {1, -1}; like PyTorch's, not differentiable in target."""
    _tensors("soft_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if target.requires_grad and grad_mode.is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument "
                           "'target'. This input cannot have requires_grad True.")
    _floating("soft_margin_loss", input, target, error=RuntimeError)
    return _reduce(log1p(exp(-input * target)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Per class a logistic loss on 0/1 targets, averaged over the classes (the last dim), optionally weighted."""
    _tensors("multilabel_soft_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    _floating("log_sigmoid", input)
    loss = target * softplus(-input) + (1 - target) * softplus(input)   # -(y log s(x) + (1 - y) log s(-x))
    if weight is not None:
        loss = loss * weight
    dim = input.ndim - 1
    loss = loss.sum(dim) / input.shape[dim]
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1 (both terms where y is neither)."""
    _tensors("hinge_embedding_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    # an integer input keeps its dtype, as in PyTorch's kernel (the margin is cast to it)
    zero = input.new_zeros(())
    m = margin if input.is_floating_point() else int(margin)
    loss = where(target != 1, _clamp_min0(m - input), zero) + where(target != -1, input, zero)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    _tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {_size(input1)}, input2: {_size(input2)}, target: {_size(target)} ")
    return _reduce(_clamp_min0(-target * (input1 - input2) + margin), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(x1, x2) where y == 1, max(0, cos - margin) where y == -1; cos over the feature dim, each squared
    norm guarded by 1e-12 as in PyTorch."""
    _tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    d = target.ndim
    if d not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if input1.ndim != d + 1 or input2.ndim != d + 1:
        raise RuntimeError(f"{d}D target tensor expects {d + 1}D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, _clamp_min0(cos - margin), 0.0)
    return _reduce(loss, reduction)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps over the last dim (eps keeps the norm away from its kink at zero)."""
    _tensors("pairwise_distance", x1=x1, x2=x2)
    d = max(x1.ndim, x2.ndim) - 1
    diff = x1 - x2 + eps
    if d < 0:
        return diff.abs() if p else (diff != 0).type(diff.dtype)
    return norm(diff, p, d, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Each input divided by its norm (at least eps) along dim, then the dot product: the stable form PyTorch
    uses. The eps floor is applied outside autograd, as PyTorch's in-place clamp under no_grad is."""
    _tensors("cosine_similarity", x1=x1, x2=x2)
    shape = tuple((x1 + x2).shape) if x1.shape != x2.shape else tuple(x1.shape)   # PyTorch's broadcast error
    x1, x2 = x1.expand(*shape), x2.expand(*shape)   # norms of the broadcast inputs, as PyTorch's
    norms = []
    for x in (x1, x2):
        n = norm(x, 2, dim, True)
        norms.append(n + (clamp(n, min=eps) - n).detach())
    return ((x1 / norms[0]) * (x2 / norms[1])).sum(dim)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """For each listed target class j (the list ends at the first -1) and each class i not listed:
    max(0, 1 - x[j] + x[i]), summed and divided by the number of classes."""
    _tensors("multilabel_margin_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    if target._array.dtype != np.int64:
        kind = {"float32": "Float", "float64": "Double", "int32": "Int"}.get(target.dtype.name, target.dtype.name)
        raise RuntimeError(f"expected scalar type Long but found {kind}")
    if input._array.dtype not in (np.float32, np.float64):
        kind = {"int64": "Long", "float16": "Half"}.get(input.dtype.name, input.dtype.name.capitalize())
        raise NotImplementedError(f'"multilabel_margin_loss_forward_out_frame" not implemented for \'{kind}\'')
    unbatched = input.ndim <= 1
    x = input.reshape(1, -1) if unbatched else input
    t = target._array.reshape(1, -1) if unbatched else target._array
    if x.ndim != 2:
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    if tuple(t.shape) != tuple(x.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    n, c = x.shape
    t = np.asarray(t.get() if hasattr(t, "get") else t)
    if t.size and bool(((t < -1) | (t >= c)).any()):
        raise RuntimeError("argument #2 'target' is out of range")
    listed = np.cumprod(t != -1, axis=1).astype(bool)           # entries before the first -1
    idx = np.where(listed, t, 0)
    is_target = np.zeros((n, c), dtype=bool)
    is_target[np.nonzero(listed)[0], t[listed]] = True
    xp = input._be.xp
    xy = x.gather(1, Tensor(xp.asarray(idx)))                     # (n, c): x at each listed target
    pair = (listed[:, :, None] & ~is_target[:, None, :]).astype(input._array.dtype)
    z = (1 - xy.unsqueeze(2) + x.unsqueeze(1)).relu()
    loss = (z * Tensor(xp.asarray(pair))).sum((1, 2)) / c
    return _reduce(loss.reshape(()) if unbatched else loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    _tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(reduction, size_average, reduce)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    a, pd, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == pd == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pd}D, and negative {n}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = minimum(d_neg, d_swap)
    return _reduce(_clamp_min0(margin + d_pos - d_neg), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction="mean"):
    """The triplet loss with any distance (pairwise_distance by default)."""
    _tensors("triplet_margin_with_distance_loss", anchor=anchor, positive=positive, negative=negative)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    reduction = _reduction(reduction)
    a, pd, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == pd == n:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {pd}D, and negative {n}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    d_pos, d_neg = dist(anchor, positive), dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce(_clamp_min0(margin + d_pos - d_neg), reduction)


# ---- likelihoods ---------------------------------------------------------------------------------
def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(x) - y x for log-rates x (or x - y log(x + eps) for rates); full adds Stirling's approximation of
    log(y!) where y > 1."""
    _tensors("poisson_nll_loss", input=input, target=target)
    reduction = _reduction(reduction, size_average, reduce)
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        stirling = target * log(target) - target + 0.5 * log(2 * math.pi * target)
        loss = loss + where(target <= 1, 0.0, stirling)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log var + (x - y)^2 / var), var clamped to eps from below without touching its gradient, as
    PyTorch's; var may have one dimension fewer (or one size-1 dimension) than input: one variance shared."""
    _tensors("gaussian_nll_loss", input=input, target=target)
    _floating("gaussian_nll_loss", input, target, *([var] if isinstance(var, Tensor) else []), error=RuntimeError)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.new_full(tuple(input.shape), float(var))
    elif bool((var._array < 0).any()):
        raise ValueError("var has negative entry/entries")
    vs, xs = tuple(var.shape), tuple(input.shape)
    if vs != xs:
        if xs[:-1] == vs:
            var = var.unsqueeze(-1)
        elif not (len(xs) == len(vs) and sum(b for a, b in zip(xs, vs) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    # the clamp is outside autograd: where var < eps the gradient still flows to var unchanged
    var = var + (clamp(var, min=eps) - var).detach()
    loss = 0.5 * (log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


__all__ = ["smooth_l1_loss", "huber_loss", "kl_div", "soft_margin_loss", "multilabel_soft_margin_loss",
           "hinge_embedding_loss", "margin_ranking_loss", "cosine_embedding_loss", "pairwise_distance",
           "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss", "cosine_similarity",
           "multilabel_margin_loss", "triplet_margin_with_distance_loss"]
