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
    double = "lift"

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

    @staticmethod
    def backward_graph(ctx, g):
        return scatter_into(g, ctx.shape, ctx.idx), None


class ScatterInto(Function):
    """Zeros of `shape` with v added at idx (repeated positions add up): GetItem's gradient as an op of its own, so a
    gradient can be differentiated again; its own gradient is GetItem."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, v, shape, idx):
        ctx.idx = idx
        out = ctx.be.xp.zeros(shape, dtype=v.dtype)
        ctx.be.add_at(out, idx, v)
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.idx], None, None


def scatter_into(v, shape, idx):
    return ScatterInto.apply(v, tuple(shape), idx)


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


def _long_index(name, index):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype.name != "int64":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    return index


def take(input, index):
    _long_index("take", index)
    return getitem(input.reshape(-1), (index,))


def take_along_dim(input, indices, dim=None):
    _long_index("take_along_dim", indices)
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    from ..tensor import _dim
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    d = _dim(dim, input.ndim)
    try:  # every dimension but dim broadcasts
        shape = list(np.broadcast_shapes(*(tuple(t.shape[:d]) + (1,) + tuple(t.shape[d + 1:])
                                           for t in (input, indices))))
    except ValueError:
        raise RuntimeError(f"shape mismatch: input {list(input.shape)} and indices {list(indices.shape)} cannot be "
                           f"broadcast") from None
    shape_in, shape_idx = list(shape), list(shape)
    shape_in[d], shape_idx[d] = input.shape[d], indices.shape[d]
    return gather(input.expand(*shape_in), d, indices.expand(*shape_idx))


def masked_select(input, mask):
    if mask.dtype.name != "bool":
        raise RuntimeError(f"masked_select: expected BoolTensor for mask, got {mask.dtype}")
    from .shape import broadcast_tensors
    x, m = broadcast_tensors(input, mask)
    return getitem(x, (m,))


def _grids(xp, index, dim):
    g = list(xp.indices(index.shape, sparse=True))
    g[dim] = index
    return tuple(g)


class _Scatter(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, src, index, dim, value, reduce):
        xp = ctx.be.xp
        ctx.dim, ctx.index, ctx.reduce = dim, index, reduce
        ctx.src_shape = None if src is None else src.shape
        grids = _grids(xp, index, dim)
        vals = value if src is None else src[tuple(slice(0, n) for n in index.shape)]
        out = x.copy()
        if reduce == "add":
            ctx.be.add_at(out, grids, xp.broadcast_to(xp.asarray(vals, out.dtype), index.shape))
        elif reduce == "multiply":
            xp.multiply.at(out, grids, xp.broadcast_to(xp.asarray(vals, out.dtype), index.shape))
        else:
            out[grids] = vals
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce == "multiply" or (ctx.reduce == "add" and ctx.src_shape is None):
            raise RuntimeError("derivative for aten::scatter is not implemented")
        xp = ctx.be.xp
        grids = _grids(xp, ctx.index, ctx.dim)
        gx = g
        if ctx.reduce is None:
            gx = g.copy()
            gx[grids] = 0
        gsrc = None
        if ctx.src_shape is not None:
            gsrc = xp.zeros(ctx.src_shape, g.dtype)
            gsrc[tuple(slice(0, n) for n in ctx.index.shape)] = g[grids]
        return gx, gsrc, None, None, None, None


def _scatter_args(name, input, dim, index, src):
    from ..tensor import _dim
    _long_index(name, index)
    d = _dim(dim, input.ndim)
    if index.ndim != input.ndim and index.numel():
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if isinstance(src, Tensor):
        if src.dtype is not input.dtype:
            raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
        if index.ndim != src.ndim and index.numel():
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if any(i > s for i, s in zip(index.shape, src.shape)):
            raise RuntimeError(f"Expected index {list(index.shape)} to be smaller than src {list(src.shape)}")
    if any(i > s for j, (i, s) in enumerate(zip(index.shape, input.shape)) if j != d):
        raise RuntimeError(f"Expected index {list(index.shape)} to be smaller than self {list(input.shape)} apart "
                           f"from dimension {d}")
    return d


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    d = _scatter_args("scatter", input, dim, index, src)
    if isinstance(src, Tensor):
        return _Scatter.apply(input, src, index._array, d, None, reduce)
    return _Scatter.apply(input, None, index._array, d, src, reduce)


def scatter_add(input, dim, index, src):
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    d = _scatter_args("scatter_add", input, dim, index, src)
    return _Scatter.apply(input, src, index._array, d, None, "add")


class _IndexAdd(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, src, index, dim, alpha):
        ctx.dim, ctx.index, ctx.alpha = dim, index, alpha
        out = x.copy()
        ctx.be.add_at(out, (slice(None),) * dim + (index,), src * alpha if alpha != 1 else src)
        return out

    @staticmethod
    def backward(ctx, g):
        gs = g[(slice(None),) * ctx.dim + (ctx.index,)]
        return g, gs * ctx.alpha if ctx.alpha != 1 else gs, None, None, None


def _index_vector(name, index):
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.ndim > 1 or index.dtype.name not in ("int64", "int32"):
        raise RuntimeError(f"{name}(): Index is supposed to be a vector of dtype int64 or int32")
    return index._array.reshape(-1)


def index_add(input, dim, index, source, *, alpha=1):
    from ..tensor import _dim
    idx = _index_vector("index_add", index)
    d = _dim(dim, input.ndim)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({input.dtype.name}) and source ({source.dtype.name}) must have the "
                           f"same scalar type")
    want = tuple(input.shape[:d]) + (idx.shape[0],) + tuple(input.shape[d + 1:]) if input.ndim else (idx.shape[0],)
    if tuple(source.shape) != want and not (input.ndim == 0 and source.numel() == idx.shape[0]):
        raise RuntimeError(f"index_add_(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {list(input.shape)} at dimension {d} and source slice shape: "
                           f"{list(source.shape)} at dimension 0.")
    if input.ndim == 0:
        return _IndexAdd.apply(input.reshape(1), source.reshape(-1), idx, 0, alpha).reshape(())
    return _IndexAdd.apply(input, source, idx, d, alpha)


class _IndexFill(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, value, index, dim):
        ctx.where = (slice(None),) * dim + (index,)
        out = x.copy()
        out[ctx.where] = value
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g.copy()
        gx[ctx.where] = 0
        mask = ctx.be.xp.zeros(g.shape, bool)
        mask[ctx.where] = True
        return gx, g[mask].sum(), None, None


def index_fill(input, dim, index, value):
    from ..tensor import _dim
    idx = _index_vector("index_fill", index)
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                           f"{value.ndim} dimension(s).")
    d = _dim(dim, input.ndim)
    x = input.reshape(1) if input.ndim == 0 else input
    value = value.type(input.dtype) if isinstance(value, Tensor) else Tensor(input._be.xp.asarray(value,
                                                                                                   x._array.dtype))
    out = _IndexFill.apply(x, value, idx, d)
    return out.reshape(()) if input.ndim == 0 else out


class IndexMethods:
    """Tensor's indexing methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    __getitem__ = getitem
    index_select, masked_fill, gather = index_select, masked_fill, gather
    take, take_along_dim, masked_select = take, take_along_dim, masked_select
    scatter, scatter_add, index_add, index_fill = scatter, scatter_add, index_add, index_fill

# the public ops, which the package namespace re-exports
__all__ = ["index_select", "masked_fill", "gather", "take", "take_along_dim", "masked_select", "scatter", "scatter_add",
           "index_add", "index_fill"]
