"""embedding: rows of a weight matrix picked by integer indices, composed from indexing (whose gradient
scatters back into the picked rows). padding_idx rows get no gradient, max_norm renormalises the looked-up rows of
the weight in place first, scale_grad_by_freq divides each row's gradient by its count in the batch."""
import numpy as np

from .. import grad_mode
from ..autograd import Function
from ..tensor import Tensor
from .elementwise import where


def _padding_index(padding_idx, num):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx += num
    return padding_idx


def embedding_renorm_(weight, input, max_norm, norm_type):
    """Rows of weight that input names and whose norm_type-norm exceeds max_norm are scaled down to max_norm
    (in place, outside autograd), with PyTorch's 1e-7 guard against division by a zero norm."""
    xp = weight._be.xp
    rows = xp.unique(input._array.reshape(-1))
    w = weight._array
    sel = w[rows]
    norm = (xp.abs(sel) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0).astype(w.dtype, copy=False)
    w[rows] = sel * scale[:, None]
    weight._version[0] += 1
    return weight


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"embedding(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if input._array.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input.dtype} instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if sparse:
        raise NotImplementedError("embedding(sparse=True): sparse gradients are not implemented in tinygrad_fer; "
                                  "use sparse=False (dense gradients)")
    num = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num)
    idx = input._array
    if idx.size and bool(((idx < 0) | (idx >= num)).any()):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        embedding_renorm_(weight, input, max_norm, norm_type)
    idx = idx.astype(np.int64, copy=False)
    if scale_grad_by_freq and weight.requires_grad:
        xp = weight._be.xp
        counts = xp.bincount(idx.reshape(-1), minlength=num)
        keep = (idx != padding_idx) if padding_idx is not None else xp.ones(idx.shape, dtype=bool)
        scale = keep / xp.maximum(counts[idx], 1)
        dt = weight._array.dtype
        return _ScaledLookup.apply(weight, Tensor(idx), Tensor(scale[..., None].astype(dt)),
                                   Tensor(keep[..., None].astype(dt)))
    out = weight[Tensor(idx)]
    if padding_idx is not None and weight.requires_grad:
        out = where(Tensor((idx != padding_idx)[..., None]), out, out.detach())
    return out


class _ScaledLookup(Function):
    """weight[idx] whose gradient rows are scaled (1/count, 0 for padding). A Tensor-level rule, so that it can be
    differentiated again (create_graph); there, as in PyTorch, the gradient's derivative with respect to the upstream
    gradient keeps the padding mask but not the 1/count scaling (PyTorch's embedding double backward)."""

    @staticmethod
    def forward(ctx, weight, idx, scale, keep):
        ctx.save_for_backward(idx, scale, keep)
        ctx.rows = weight.shape[0]
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        idx, scale, keep = ctx.saved_tensors
        scaled = g * scale
        if grad_mode.is_grad_enabled():    # create_graph: the value g * scale, the derivative keep's
            scaled = g * keep + (scaled - g * keep).detach()
        flat = scaled.reshape(-1, g.shape[-1])
        return g.new_zeros((ctx.rows, g.shape[-1])).index_add(0, idx.reshape(-1), flat), None, None, None


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embedding rows: the rows of a 2-D input, or the runs of a 1-D input that
    offsets start. padding_idx entries are left out of their bag (and of its count); an empty bag gives zeros."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"embedding_bag(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if weight.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight.ndim}")
    if not weight.is_floating_point():
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have one of the following scalar types: "
                           f"Half, BFloat16, Float, Double; but got {weight.dtype} instead (while checking arguments "
                           f"for embedding_bag)")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(f"if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        b, m = input.shape
        starts = np.arange(0, b * m, m, dtype=np.int64) if m else np.zeros(b, dtype=np.int64)
        include_last_offset = False
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        starts = np.asarray(offsets._array.get() if hasattr(offsets._array, "get") else offsets._array,
                            dtype=np.int64)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                      f"supported for mode='sum' (got mode='{mode}'). Please open a feature request "
                                      f"on GitHub.")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not None, "
                             f"then it must have the same shape as the input ({list(input.shape)})")
    if sparse:
        raise NotImplementedError("embedding_bag(sparse=True): sparse gradients are not implemented in "
                                  "tinygrad_fer; use sparse=False (dense gradients)")
    flat = input.reshape(-1)
    n = flat.shape[0]
    if starts.size and starts[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(starts[0])}")
    if starts.size and starts[-1] > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                           f"{int(starts[-1])}")
    if starts.size and bool((np.diff(starts) < 0).any()):
        raise RuntimeError("offsets must be non-decreasing")
    # with include_last_offset the last offset only marks the end: PyTorch's last bag runs to the input's end
    bounds = np.append(starts[:-1] if include_last_offset else starts, n)
    bags = len(bounds) - 1
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    idx = np.asarray(flat._array.get() if hasattr(flat._array, "get") else flat._array)
    keep = np.ones(n, dtype=bool) if padding_idx is None else idx != padding_idx
    bag = np.repeat(np.arange(bags), np.diff(bounds))
    sel = np.nonzero(keep)[0]
    xp = weight._be.xp
    d = weight.shape[1]
    if sel.size == 0:   # zeros, still connected to the inputs PyTorch gives (zero) gradients
        out = weight.new_zeros((bags, d)) + weight.sum() * 0
        return out if per_sample_weights is None else out + per_sample_weights.sum() * 0
    rows = embedding(Tensor(xp.asarray(idx[sel])), weight, None, max_norm, norm_type, scale_grad_by_freq)
    bag_of = Tensor(xp.asarray(bag[sel]))
    if mode == "max":
        # entries are in bag order, so each non-empty bag is one contiguous segment of rows
        v = rows._array
        v = np.asarray(v.get() if hasattr(v, "get") else v)
        b_sel = bag[sel]
        seg = np.nonzero(np.r_[True, b_sel[1:] != b_sel[:-1]])[0]
        top = np.maximum.reduceat(v, seg, axis=0)
        seg_of = np.cumsum(np.r_[True, b_sel[1:] != b_sel[:-1]]) - 1
        pos = np.where(v == top[seg_of], np.arange(sel.size)[:, None], sel.size)   # the first maximum wins
        best = np.full((bags, d), -1, dtype=np.int64)
        best[b_sel[seg]] = np.minimum(np.minimum.reduceat(pos, seg, axis=0), sel.size - 1)   # (a NaN column)
        filled = Tensor(xp.asarray((best >= 0).astype(weight._array.dtype)))
        return rows.gather(0, Tensor(xp.asarray(np.maximum(best, 0)))) * filled
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[Tensor(xp.asarray(sel))].unsqueeze(1)
    out = rows.new_zeros((bags, d)).index_add(0, bag_of, rows)
    if mode == "mean":
        counts = np.bincount(bag[sel], minlength=bags)
        out = out / Tensor(xp.asarray(np.maximum(counts, 1)[:, None].astype(weight._array.dtype)))
    return out


__all__ = ["embedding", "embedding_bag"]
