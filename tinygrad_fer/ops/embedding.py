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


__all__ = ["embedding"]
