"""torch.nn.functional's names: activations and conv/pool re-exported from ops, and the losses, dropout and
batch-norm. NLL (the hot path of every classifier step), batch-norm and the two binary cross-entropies are raw
Functions with hand-written backward rules; the rest is composed from existing ops."""
import warnings

import numpy as np

from .. import dtypes, grad_mode
from ..autograd import Function
from ..ops import elementwise as _ew, reduce as _red
from ..ops.matmul import linear  # noqa: F401
from ..ops.movement import pad, flatten, unflatten  # noqa: F401
from ..ops.elementwise import softplus, sigmoid, tanh  # noqa: F401
from ..tensor import Tensor

try:
    from ..ops.conv import conv2d, conv_transpose2d, unfold, fold  # noqa: F401
except ImportError:  # the conv ops land separately; resolve them at call time until then
    def _late(mod, name):
        def f(*args, **kwargs):
            import importlib
            return getattr(importlib.import_module(f"tinygrad_fer.ops.{mod}"), name)(*args, **kwargs)
        f.__name__ = name
        return f
    conv2d, conv_transpose2d, unfold, fold = (_late("conv", n) for n in
                                              ("conv2d", "conv_transpose2d", "unfold", "fold"))
try:
    from ..ops.pool import (max_pool2d, avg_pool2d, adaptive_avg_pool2d,  # noqa: F401
                            adaptive_max_pool2d)
except ImportError:
    max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d = (
        _late("pool", n) for n in ("max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"))


# ---- activations ---------------------------------------------------------------------------------
def _maybe_inplace(op, input, inplace):
    # inplace=True writes the result into input, as PyTorch does (views of input see it, and autograd rebases it)
    return input._inplace(op) if inplace else op(input)


def relu(input, inplace=False):
    return _maybe_inplace(_ew.relu, input, inplace)


def relu6(input, inplace=False):
    return _maybe_inplace(lambda x: _ew.clamp(x, 0.0, 6.0), input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(lambda x: _ew.leaky_relu(x, negative_slope), input, inplace)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(lambda x: _ew.elu(x, alpha), input, inplace)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _red.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _red.log_softmax(input, dim, dtype)


def silu(input, inplace=False):
    return _maybe_inplace(lambda x: x * _ew.sigmoid(x), input, inplace)


def logsigmoid(input):
    return -softplus(-input)


# ---- helpers -------------------------------------------------------------------------------------
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:  # PyTorch's deprecated pair wins when given
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        return "none" if not reduce else ("mean" if size_average else "sum")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_target_dtype(target):
    if not isinstance(target, Tensor):
        raise TypeError(f"target must be a Tensor, not {type(target).__name__}")
    if target._array.dtype not in (np.int64, np.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {target.dtype.name.capitalize()}")


# ---- negative log-likelihood ---------------------------------------------------------------------
class NLLLoss(Function):
    """x: (N, C, *) log-probabilities, t: (N, *) class indices; one gather forward, one scatter backward."""
    raw = True

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        xp = ctx.be.xp
        valid = t != ignore_index
        ts = xp.where(valid, t, 0).astype(np.int64, copy=False)[:, None]
        if x.ndim == 2:  # plain fancy indexing: a few times cheaper than take_along_axis on small batches
            ctx.rows = xp.arange(x.shape[0])
            picked = x[ctx.rows, ts[:, 0]]
        else:
            picked = xp.take_along_axis(x, ts, axis=1)[:, 0]
        w = valid.astype(x.dtype) if weight is None else weight.astype(x.dtype, copy=False)[ts[:, 0]] * valid
        losses = -picked * w
        ctx.shape, ctx.ts, ctx.w, ctx.reduction = x.shape, ts, w, reduction
        if reduction == "none":
            return losses
        if reduction == "sum":
            return xp.asarray(losses.sum(dtype=x.dtype))
        ctx.total = w.sum(dtype=x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return xp.asarray(losses.sum(dtype=x.dtype) / ctx.total)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        coeff = -ctx.w * g
        if ctx.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                coeff = coeff / ctx.total
        gx = xp.zeros(ctx.shape, dtype=coeff.dtype)
        if len(ctx.shape) == 2:
            gx[ctx.rows, ctx.ts[:, 0]] = coeff
        else:
            xp.put_along_axis(gx, ctx.ts, coeff[:, None], axis=1)
        return gx, None, None, None, None


def _class_checks(input, target, weight, ignore_index):
    """Shape, dtype and range checks shared by nll_loss and cross_entropy (class-index targets)."""
    _check_target_dtype(target)
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    c = input.shape[1] if input.ndim > 1 else input.shape[0]
    if input.ndim == 1:
        if target.ndim != 0:
            raise ValueError(f"Expected input batch_size (1) to match target batch_size ({target.shape[0]}).")
    elif target.ndim == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 1}).")
    elif tuple(target.shape[1:]) != tuple(input.shape[2:]):
        want = [input.shape[0]] + list(input.shape[2:])
        raise RuntimeError(f"Expected target size {want}, got {list(target.shape)}")
    if weight is not None and (weight.ndim != 1 or weight.shape[0] != c):
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                           f"weight tensor of shape: {list(weight.shape)}")
    t = target._array
    if t.size and (int(t.min()) < 0 or int(t.max()) >= c):  # min/max first: the common case costs two reductions
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    return c


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    _class_checks(input, target, weight, ignore_index)
    if input.ndim == 1:  # one unbatched sample
        out = NLLLoss.apply(input.reshape(1, -1), target.reshape(1), weight, ignore_index, reduction)
        return out.reshape(()) if reduction == "none" else out
    return NLLLoss.apply(input, target, weight, ignore_index, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    reduction = _reduction(reduction, size_average, reduce)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if not isinstance(input, Tensor) or not input.dtype.is_floating_point:
        raise RuntimeError("cross_entropy: input must be a floating-point Tensor")
    cdim = 1 if input.ndim > 1 else 0
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, cdim)
    c = _class_checks(input, target, weight, ignore_index)
    logp = log_softmax(input, cdim)
    if input.ndim == 1:
        nll = NLLLoss.apply(logp.reshape(1, -1), target.reshape(1), weight, ignore_index, reduction)
        nll = nll.reshape(()) if reduction == "none" else nll
    else:
        nll = NLLLoss.apply(logp, target, weight, ignore_index, reduction)
    if label_smoothing <= 0:
        return nll
    wb = None if weight is None else weight.reshape([c] + [1] * (input.ndim - cdim - 1))
    smooth = -(logp if wb is None else logp * wb).sum(cdim)
    valid = target._array != ignore_index
    smooth = _ew.where(Tensor(valid), smooth, Tensor(input._be.xp.zeros((), dtype=input._array.dtype)))
    if reduction == "mean":
        if weight is None:
            denom = float(valid.sum())
        else:
            denom = float(weight._array[target._array[valid].astype(np.int64)].sum())
        ret = smooth.sum() / denom if denom else smooth.sum() * float("nan")
    else:
        ret = _reduce(smooth, reduction)
    return nll * (1 - label_smoothing) + ret * (label_smoothing / c)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, cdim):
    c = input.shape[cdim]
    logp = log_softmax(input, cdim)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / c
    if weight is not None:
        if weight.ndim != 1 or weight.shape[0] != c:
            raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but got "
                               f"weight tensor of shape: {list(weight.shape)}")
        logp = logp * weight.reshape([c] + [1] * (input.ndim - cdim - 1))
    per = -(logp * target).sum(cdim)
    if reduction == "mean":
        return per.sum() / max(input.numel() // c, 1) if input.numel() else per.sum() * float("nan")
    return _reduce(per, reduction)


# ---- regression ----------------------------------------------------------------------------------
def _warn_size(input, target):
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({_size(target)}) that is different to the input size "
                      f"({_size(input)}). This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)


def _size(t):
    return repr(t.shape)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    d = input - target
    loss = d * d
    return _reduce(loss if weight is None else loss * weight, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    _warn_size(input, target)
    loss = (input - target).abs()
    return _reduce(loss if weight is None else loss * weight, reduction)


# ---- binary cross-entropy ------------------------------------------------------------------------
class BinaryCrossEntropy(Function):
    """Elementwise loss; logs clamped at -100 and the gradient's denominator at 1e-12, as PyTorch does."""
    raw = True

    @staticmethod
    def forward(ctx, x, t, w):
        xp = ctx.be.xp
        with np.errstate(divide="ignore"):
            lx, l1x = xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)
        loss = -(t * lx + (1 - t) * l1x)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        ctx.lx, ctx.l1x = lx, l1x
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        x, t, w = ctx.saved_tensors
        gw = g if w is None else g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = gw * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if ctx.needs_input_grad[1]:
            gt = gw * (ctx.l1x - ctx.lx)
        return gx, gt, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({_size(target)}) that is different to the input size "
                         f"({_size(input)}) is deprecated. Please ensure they have the same size.")
    a = input._array
    if bool(((a < 0) | (a > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if weight is not None:
        _broadcastable(weight, input)
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def _broadcastable(w, input):
    try:
        if np.broadcast_shapes(tuple(w.shape), tuple(input.shape)) != tuple(input.shape):
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The size of weight {list(w.shape)} can't be broadcast to the input's shape "
                           f"{list(input.shape)}") from None


class BCEWithLogits(Function):
    """(1 - t) x + (1 + (pw - 1) t) softplus(-x), with softplus(-x) = max(-x, 0) + log1p(exp(-|x|)): no overflow."""
    raw = True

    @staticmethod
    def forward(ctx, x, t, w, pw):
        xp = ctx.be.xp
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        lw = None if pw is None else 1 + (pw - 1) * t
        loss = (1 - t) * x + (sp if lw is None else lw * sp)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw)
        ctx.sp, ctx.lw = sp, lw
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        gw = g if w is None else g * w
        sig = _ew._sigmoid_fwd(ctx.be.xp, x)
        n = ctx.needs_input_grad
        gx = gt = gpw = None
        if n[0]:
            gx = gw * (sig - t if pw is None else ctx.lw * (sig - 1) + (1 - t))
        if n[1]:
            gt = gw * (-x if pw is None else -x + (pw - 1) * ctx.sp)
        if pw is not None and n[3]:
            gpw = gw * t * ctx.sp
        return gx, gt, None, gpw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size ({_size(input)})")
    for extra in (weight, pos_weight):
        if extra is not None:
            _broadcastable(extra, input)
    return _reduce(BCEWithLogits.apply(input, target, weight, pos_weight), reduction)


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
    z = _ew.relu(margin - xy + x)
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


# ---- batch norm ----------------------------------------------------------------------------------
class BatchNorm(Function):
    """Normalise over every axis but 1. Training: batch statistics (biased variance), and the running stats are
    updated in place with the unbiased one. Eval: the running statistics."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, rmean, rvar, training, momentum, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        if training:
            n = x.size // x.shape[1]
            mean = x.mean(axis=axes)
            xc = x - mean.reshape(bshape)
            var = (xc * xc).mean(axis=axes)
            if rmean is not None:
                rmean *= 1 - momentum
                rmean += momentum * mean.astype(rmean.dtype, copy=False)
            if rvar is not None:
                rvar *= 1 - momentum
                rvar += (momentum * n / max(n - 1, 1)) * var.astype(rvar.dtype, copy=False)
        else:
            xc = x - rmean.astype(x.dtype, copy=False).reshape(bshape)
            var = rvar.astype(x.dtype, copy=False)
        invstd = (1 / ctx.be.xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = xc * invstd.reshape(bshape)
        out = xhat
        if weight is not None:
            out = xhat * weight.reshape(bshape)
        if bias is not None:
            out = out + bias.reshape(bshape)
        ctx.save_for_backward(xhat, invstd, weight)
        ctx.axes, ctx.bshape, ctx.training = axes, bshape, training
        return out

    @staticmethod
    def backward(ctx, g):
        xhat, invstd, w = ctx.saved_tensors
        axes, bshape = ctx.axes, ctx.bshape
        n = ctx.needs_input_grad
        gb = g.sum(axis=axes)
        gw = (g * xhat).sum(axis=axes)
        gx = None
        if n[0]:
            scale = invstd if w is None else w * invstd
            if ctx.training:
                m = g.size // g.shape[1]
                gx = scale.reshape(bshape) * (g - (gb / m).reshape(bshape) - xhat * (gw / m).reshape(bshape))
            else:
                gx = g * scale.reshape(bshape)
        return gx, gw if n[1] else None, gb if n[2] else None, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least a 2-D input (N, C, ...), got {list(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements not {t.numel()}")
    if training:
        if input.numel() // c <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.shape!r}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, training,
                          0.0 if momentum is None else momentum, eps)
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._version[0] += 1
    return out


__all__ = [n for n in dir() if not n.startswith("_") and n not in ("np", "warnings", "Function", "Tensor",
                                                                    "dtypes", "grad_mode")]
