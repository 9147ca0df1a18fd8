"""ctc_loss: the connectionist temporal classification loss, -log of the total probability of every alignment of
a target (labels with blanks between and around, repeats merged) to the input steps. The forward (alpha) and
backward (beta) recursions run in log space over the whole batch at once. The gradient is PyTorch's:
exp(log_probs) - (posterior of each class at each step), which is the gradient with respect to the logits when
log_probs is their log_softmax (as CTC expects); like PyTorch's, it is differentiable once."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .loss import _reduction

_NEG = -np.inf


def _host(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)


def _lse(*xs):
    m = np.maximum.reduce(xs)
    safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(m), safe + np.log(sum(np.exp(x - safe) for x in xs)), m)


def _extended(targets, tl, blank):
    """Labels with blanks interleaved (N, 2 S + 1), which positions may skip back two, and which are valid."""
    n, s = targets.shape
    ext = np.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    skip = np.zeros_like(ext, dtype=bool)
    skip[:, 3::2] = targets[:, 1:] != targets[:, :-1]
    valid = np.arange(2 * s + 1)[None, :] < (2 * tl + 1)[:, None]
    return ext, skip, valid


class CTC(Function):
    raw = True

    @staticmethod
    def forward(ctx, log_probs, targets, il, tl, blank, zero_infinity):
        lp = _host(log_probs).astype(np.float64)
        T, N, _ = lp.shape
        ext, skip, valid = _extended(targets, tl, blank)
        S2 = ext.shape[1]
        rows = np.arange(N)[:, None]
        emit = lambda t: np.where(valid, lp[t][rows, ext], _NEG)  # noqa: E731  (N, S2) at step t
        alpha = np.full((T, N, S2), _NEG)
        a0 = np.full((N, S2), _NEG)
        a0[:, 0] = lp[0, np.arange(N), blank]
        if S2 > 1:
            a0[:, 1] = np.where(tl > 0, lp[0, np.arange(N), ext[:, 1]], _NEG)
        alpha[0] = np.where(valid & (il > 0)[:, None], a0, _NEG)
        for t in range(1, T):
            prev = alpha[t - 1]
            one = np.concatenate([np.full((N, 1), _NEG), prev[:, :-1]], 1)
            two = np.where(skip, np.concatenate([np.full((N, 2), _NEG), prev[:, :-2]], 1), _NEG)
            alpha[t] = np.where((t < il)[:, None], _lse(prev, one, two) + emit(t), _NEG)
        last = alpha[np.maximum(il - 1, 0), np.arange(N)]
        end = last[np.arange(N), 2 * tl]
        end1 = np.where(tl > 0, last[np.arange(N), np.maximum(2 * tl - 1, 0)], _NEG)
        nll = -_lse(end, end1)
        inf = ~np.isfinite(nll)
        if zero_infinity:
            nll = np.where(inf, 0.0, nll)
        ctx.lp, ctx.alpha, ctx.nll, ctx.inf = lp, alpha, nll, inf
        ctx.ext, ctx.skip, ctx.valid, ctx.il, ctx.tl = ext, skip, valid, il, tl
        ctx.zero_infinity, ctx.dtype = zero_infinity, log_probs.dtype
        return ctx.be.xp.asarray(nll.astype(log_probs.dtype))

    @staticmethod
    def backward(ctx, g):
        lp, alpha, nll, ext, skip, valid = ctx.lp, ctx.alpha, ctx.nll, ctx.ext, ctx.skip, ctx.valid
        il, tl = ctx.il, ctx.tl
        T, N, C = lp.shape
        S2 = ext.shape[1]
        rows = np.arange(N)[:, None]
        beta = np.full((T, N, S2), _NEG)
        nxt = np.full((N, S2), _NEG)
        for t in range(T - 1, -1, -1):
            emit = np.where(valid, lp[t][rows, ext], _NEG)
            start = np.full((N, S2), _NEG)
            start[np.arange(N), 2 * tl] = 0.0
            has1 = tl > 0
            start[np.arange(N)[has1], (2 * tl - 1)[has1]] = 0.0
            one = np.concatenate([nxt[:, 1:], np.full((N, 1), _NEG)], 1)
            skip_next = np.concatenate([skip[:, 2:], np.zeros((N, 2), dtype=bool)], 1)
            two = np.where(skip_next, np.concatenate([nxt[:, 2:], np.full((N, 2), _NEG)], 1), _NEG)
            rec = _lse(nxt, one, two)
            cur = np.where((t == il - 1)[:, None], start, np.where((t < il - 1)[:, None], rec, _NEG))
            beta[t] = np.where(valid, cur + emit, _NEG)
            nxt = beta[t]
        ab = alpha + beta                                            # (T, N, S2), each step's emission twice
        res = np.full((T, N, C), _NEG)
        for s in range(S2):                                          # log-sum per class over the positions
            idx = ext[:, s]
            res[:, np.arange(N), idx] = _lse(res[:, np.arange(N), idx], ab[:, :, s])
        with np.errstate(over="ignore", invalid="ignore"):
            grad = np.exp(lp) - np.exp(res + nll[None, :, None] - lp)
        grad = np.where((np.arange(T)[:, None] < il[None, :])[:, :, None], grad, 0.0)
        if ctx.zero_infinity:
            grad = np.where(ctx.inf[None, :, None], 0.0, grad)
        grad = grad * _host(g).astype(np.float64)[None, :, None]
        return ctx.be.xp.asarray(grad.astype(ctx.dtype)), None, None, None, None, None


def _lengths(v, name):
    if isinstance(v, Tensor):
        v = _host(v._array)
    return np.asarray(v, dtype=np.int64).reshape(-1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    if not isinstance(log_probs, Tensor):
        raise TypeError(f"ctc_loss(): argument 'log_probs' must be Tensor, not {type(log_probs).__name__}")
    reduction = _reduction(reduction)
    unbatched = log_probs.ndim == 2
    x = log_probs.unsqueeze(1) if unbatched else log_probs
    if x.ndim != 3:
        raise RuntimeError(f"ctc_loss: expected log_probs to be 2-D or 3-D, got {log_probs.ndim}-D")
    T, N, C = x.shape
    if x._array.dtype not in (np.float32, np.float64):
        kind = {"int64": "Long", "int32": "Int", "bool": "Bool", "float16": "Half"}.get(x.dtype.name, x.dtype.name)
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{kind}\'')
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    il, tl = _lengths(input_lengths, "input_lengths"), _lengths(target_lengths, "target_lengths")
    if il.size != N:
        raise RuntimeError(f"input_lengths must be of size batch_size, but got {il.size} and {N}")
    if tl.size != N:
        raise RuntimeError(f"target_lengths must be of size batch_size, but got {tl.size} and {N}")
    if il.size and il.max() > T:
        raise RuntimeError(f"Expected input_lengths to have value at most {T}, but got value {int(il.max())} (while "
                           f"checking arguments for ctc_loss_allocate_outputs)")
    t = _host(targets._array if isinstance(targets, Tensor) else np.asarray(targets)).astype(np.int64)
    if unbatched:
        t = t.reshape(1, -1)
    if t.ndim == 1:          # concatenated targets: cut by target_lengths and pad
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]])
        width = int(tl.max()) if tl.size else 0
        padded = np.zeros((N, width), dtype=np.int64)
        for i, (a, n) in enumerate(zip(starts, tl)):
            padded[i, :n] = t[a:a + n]
        t = padded
    elif tl.size and tl.max() > t.shape[1]:
        raise RuntimeError(f"Expected tensor to have size at least {int(tl.max())} at dimension 1, but got size "
                           f"{t.shape[1]} for argument #2 'targets' (while checking arguments for "
                           f"ctc_loss_allocate_outputs)")
    nll = CTC.apply(x, t, il, tl, int(blank), bool(zero_infinity))
    if reduction == "mean":
        return (nll / Tensor(x._be.xp.asarray(np.maximum(tl, 1).astype(x._array.dtype)))).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.reshape(()) if unbatched else nll


__all__ = ["ctc_loss"]
