"""Indexing: x[ints, slices with steps, None, Ellipsis, integer and boolean arrays] with a scatter-add backward."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _mark_view


def to_index(idx, shape):
    """A PyTorch index as one the backend array understands; tensors become arrays, floats are refused."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    for i in idx:
        if isinstance(i, Tensor):
            a = i._array
            if a.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {i.dtype}")
            out.append(a)
        elif isinstance(i, (list, np.ndarray)):
            a = np.asarray(i)
            if a.dtype.kind not in "biu" and a.size:
                raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors, got {a.dtype}")
            out.append(a.astype(np.int64) if a.dtype.kind == "u" or a.size == 0 else a)
        elif isinstance(i, (float, np.floating)):
            raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
                             f"valid indices (got {type(i).__name__})")
        elif isinstance(i, slice) and i.step is not None and i.step <= 0:
            raise ValueError("step must be greater than zero")
        else:
            out.append(i)
    return tuple(out)


def _is_basic(idx):
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in idx)


class GetItem(Function):
    raw = True

    @staticmethod
    def forward(ctx, x, idx):
        ctx.shape, ctx.idx, ctx.dtype = x.shape, idx, x.dtype
        return x[idx]

    @staticmethod
    def backward(ctx, g):
        be = ctx.be
        gx = be.xp.zeros(ctx.shape, dtype=g.dtype)
        if _is_basic(ctx.idx):
            gx[ctx.idx] = g  # basic indexing never repeats an element
        else:
            be.add_at(gx, ctx.idx, g)
        return gx, None


def getitem(self, idx):
    idx = to_index(idx, self._array.shape)
    if _is_basic(idx) and not any(i is Ellipsis for i in idx):
        idx += (Ellipsis,)  # so NumPy returns a 0-d view, not a scalar copy, when every dimension is indexed
    try:
        out = GetItem.apply(self, idx)
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(self.shape)})") from None
    return _mark_view(out, self) if _is_basic(idx) else out


def index_select(input, dim, index):
    from ..tensor import _dim
    d = _dim(dim, input.ndim)
    return getitem(input, (slice(None),) * d + (index,))


def masked_fill(input, mask, value):
    from .elementwise import where
    return where(mask, value if isinstance(value, Tensor) else Tensor(input._be.xp.asarray(value,
                                                                                          input._array.dtype)),
                 input)


def gather(input, dim, index):
    from ..tensor import _dim
    d = _dim(dim, input.ndim)
    xp = input._be.xp
    grids = list(xp.indices(index.shape, sparse=True))
    grids[d] = index._array
    return getitem(input, tuple(Tensor(g) if not isinstance(g, Tensor) else g for g in grids))


class IndexMethods:
    """Tensor's indexing methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    __getitem__ = getitem
    index_select, masked_fill, gather = index_select, masked_fill, gather

# the public ops, which the package namespace re-exports
__all__ = ["index_select", "masked_fill", "gather"]
