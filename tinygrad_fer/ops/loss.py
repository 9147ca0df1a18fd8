"""Loss ops with their own backward rules: negative log-likelihood (the hot path of every classifier step) with
cross-entropy over it, and the two binary cross-entropies. nn.functional re-exports them and composes the others."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor
from .activation_core import _sigmoid_fwd
from .arithmetic import where
from .reduce import log_softmax

# ---- reduction, targets -------------------------------------------------------------------------
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


def _size(t):
    return repr(t.shape)


# ---- negative log-likelihood ---------------------------------------------------------------------
class NLLLoss(Function):
    """x: (N, C, *) log-probabilities, t: (N, *) class indices; one gather forward, one scatter backward."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, t, weight, ignore_index, reduction):
        xp = ctx.be.xp
        valid = t != ignore_index
        ts = xp.where(valid, t, 0).astype(np.int64, copy=False)[:, None]
        if x.ndim == 2:  # plain fancy indexing: cheaper than take_along_axis on small batches (bench/README.md)
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
    smooth = where(Tensor(valid), smooth, Tensor(input._be.xp.zeros((), dtype=input._array.dtype)))
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


# ---- binary cross-entropy ------------------------------------------------------------------------
def _float_input(input, kernel):
    """PyTorch's kernels exist for floating inputs only (the error an integer input met in .mean() before the
    reduction moved inside the node)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(input._array.dtype)}'")


def _reduce_inside(ctx, loss, reduction):
    """The reduction inside the loss's own node, as PyTorch's BinaryCrossEntropyBackward0 & co."""
    ctx.reduction, ctx.loss_shape = reduction, loss.shape
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore"):  # an empty input's mean is NaN, as PyTorch's
        return loss.sum() / loss.size


def _spread(ctx, g):
    """The gradient of _reduce_inside's result, back on every element."""
    if ctx.reduction == "none":
        return g
    g = ctx.be.xp.broadcast_to(g, ctx.loss_shape)
    return g / max(int(np.prod(ctx.loss_shape)), 1) if ctx.reduction == "mean" else g


class BinaryCrossEntropy(Function):
    """Elementwise loss; logs clamped at -100 and the gradient's denominator at 1e-12, as PyTorch does."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        xp = ctx.be.xp
        with np.errstate(divide="ignore"):
            lx, l1x = xp.maximum(xp.log(x), -100), xp.maximum(xp.log1p(-x), -100)
        loss = -(t * lx + (1 - t) * l1x)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        return _reduce_inside(ctx, loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        x, t, w = ctx.saved_tensors
        g = _spread(ctx, g)
        gw = g if w is None else g * w
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = gw * (x - t) / xp.maximum((1 - x) * x, 1e-12)
        if ctx.needs_input_grad[1]:   # the clamped logs again (rarely wanted: a target that needs a gradient)
            with np.errstate(divide="ignore"):
                gt = gw * (xp.maximum(xp.log1p(-x), -100) - xp.maximum(xp.log(x), -100))
        return gx, gt, None, None


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
    _float_input(input, "binary_cross_entropy")
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


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
    double = "lift"

    @staticmethod
    def forward(ctx, x, t, w, pw, reduction):
        xp = ctx.be.xp
        sp = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        lw = None if pw is None else 1 + (pw - 1) * t
        loss = (1 - t) * x + (sp if lw is None else lw * sp)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w, pw)
        return _reduce_inside(ctx, loss.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, t, w, pw = ctx.saved_tensors
        xp = ctx.be.xp
        g = _spread(ctx, g)
        gw = g if w is None else g * w
        sig = _sigmoid_fwd(xp, x)
        n = ctx.needs_input_grad
        gx = gt = gpw = None
        # softplus(-x) and the positive weight's factor again from x and t, so they carry their history under
        # create_graph (cheap next to the loss)
        sp = None if pw is None else xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        if n[0]:
            gx = gw * (sig - t if pw is None else (1 + (pw - 1) * t) * (sig - 1) + (1 - t))
        if n[1]:
            gt = gw * (-x if pw is None else -x + (pw - 1) * sp)
        if pw is not None and n[3]:
            gpw = gw * t * sp
        return gx, gt, None, gpw, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    reduction = _reduction(reduction, size_average, reduce)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({_size(target)}) must be the same as input size ({_size(input)})")
    for extra in (weight, pos_weight):
        if extra is not None:
            _broadcastable(extra, input)
    _float_input(input, "log_sigmoid_cpu")
    return BCEWithLogits.apply(input, target, weight, pos_weight, reduction)


# ---- mean squared error ---------------------------------------------------------------------------
class MseLoss(Function):
    """(x - t)^2 reduced, one graph node as PyTorch's MseLossBackward0 (what the blitz tutorial walks back from)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, t, reduction):
        d = x - t
        loss = d * d
        ctx.save_for_backward(x, t)
        ctx.reduction = reduction
        if reduction == "mean":
            loss = loss.sum() / loss.size
        elif reduction == "sum":
            loss = loss.sum()
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        d = x - t  # again from x and t, so that it carries their history under create_graph
        gd = g * (2.0 / d.size if ctx.reduction == "mean" else 2.0) * d
        n = ctx.needs_input_grad
        return gd if n[0] else None, -gd if n[1] else None, None


def mse(input, target, reduction):
    """F.mse_loss without a weight: broadcast first, as PyTorch (its warning is the caller's)."""
    from .shape import broadcast_tensors
    from ..dtypes import result_type
    if tuple(input.shape) != tuple(target.shape):
        input, target = broadcast_tensors(input, target)
    dt = result_type(input, target)
    if not dt.is_floating_point or input.numel() == 0:  # PyTorch's error for integers, NaN mean when empty
        d = input - target
        return _reduce(d * d, reduction)
    return MseLoss.apply(input if input.dtype == dt else input.to(dt), target if target.dtype == dt else target.to(dt),
                         reduction)
