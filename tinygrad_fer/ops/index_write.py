"""Ops that write values into chosen positions of a copy of the input: scatter_reduce (sum, prod, mean, amax,
amin, with or without the input's own values), index_put, index_copy, masked_scatter, put, and the slice / select
/ diagonal embeddings (slice_scatter, select_scatter, diagonal_scatter). Gradients are PyTorch's formulas."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim
from .index import _grids, _long_index, _scatter_args
from .inplace import _inplace_of

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _reduce_into(xp, be, x, grids, vals, reduce, include_self):
    """x's copy with vals reduced into the positions grids names (x's own values joining when include_self)."""
    out = x.copy()
    if not include_self:
        init = {"sum": 0, "mean": 0, "prod": 1}.get(reduce)
        if init is None:
            info = np.finfo(x.dtype) if x.dtype.kind == "f" else np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
            lo, hi = (-np.inf, np.inf) if x.dtype.kind == "f" else (info.min, info.max) if info else (False, True)
            init = lo if reduce == "amax" else hi
        out[grids] = init
    if reduce in ("sum", "mean"):
        be.add_at(out, grids, vals)
    elif reduce == "prod":
        xp.multiply.at(out, grids, vals)
    else:
        (xp.maximum if reduce == "amax" else xp.minimum).at(out, grids, vals)
    if reduce == "mean":
        count = xp.full(x.shape, 1 if include_self else 0, dtype=np.int64)
        be.add_at(count, grids, xp.ones(vals.shape, np.int64))
        count = xp.maximum(count, 1)
        out = out / count if x.dtype.kind == "f" else out // count
        out = out.astype(x.dtype, copy=False)
    return out


class ScatterReduce(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, src, index, dim, reduce, include_self):
        xp = ctx.be.xp
        grids = _grids(xp, index, dim)
        vals = src[tuple(slice(0, n) for n in index.shape)]
        out = _reduce_into(xp, ctx.be, x, grids, vals, reduce, include_self)
        ctx.args = (index, dim, reduce, include_self, src.shape)
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, g):
        index, dim, reduce, include_self, src_shape = ctx.args
        x, src, out = ctx.saved_tensors
        xp = ctx.be.xp
        grids = _grids(xp, index, dim)
        part = tuple(slice(0, n) for n in index.shape)
        s = src[part]
        if reduce == "sum":
            gx, gs = g, g[grids]
        elif reduce == "mean":
            n = xp.full(x.shape, 1.0 if include_self else 0.0, dtype=g.dtype)
            ctx.be.add_at(n, grids, xp.ones(index.shape, g.dtype))
            n = xp.where(n == 0, 1.0, n)
            gx, gs = g / n, g[grids] / n[grids]
        elif reduce == "prod":
            # products of the other factors, computed without dividing by a zero factor (PyTorch's way)
            mx = xp.where(x == 0, 1, x)
            gx = g * _reduce_into(xp, ctx.be, mx, grids, s, "prod", include_self) / mx
            zero = s == 0
            nz = xp.zeros(x.shape, g.dtype)
            ctx.be.add_at(nz, grids, zero.astype(g.dtype))
            single = zero & (nz[grids] == 1)
            ms = xp.where(single, 1, s)
            alt = (g * _reduce_into(xp, ctx.be, x, grids, ms, "prod", include_self))[grids]
            gs = xp.where(single, alt, (g * out)[grids] / xp.where(zero, 1, s))
        else:
            value = out[grids]
            self_hit = (x == out).astype(g.dtype)
            src_hit = (s == value).astype(g.dtype)
            n = self_hit.copy()
            ctx.be.add_at(n, grids, src_hit)
            dist = g / n
            gx, gs = self_hit * dist, src_hit * dist[grids]
        if not include_self:
            gx = gx.copy()
            gx[grids] = 0
        gsrc = xp.zeros(src_shape, g.dtype)
        gsrc[part] = gs
        return gx, gsrc, None, None, None, None


class ScatterReduceProd(ScatterReduce):
    """prod's rule reduces with multiply.at, which has no recorded form: its gradient is once differentiable."""
    double = None


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_reduce(): argument 'src' must be Tensor, not {type(src).__name__}")
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)   # PyTorch takes these spellings silently
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    d = _scatter_args("scatter_reduce", input, dim, index, src)
    if reduce == "mean" and input.dtype.name == "bool":
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented for 'Bool'")
    fn = ScatterReduceProd if reduce == "prod" else ScatterReduce
    res = fn.apply(input, src, index._array, d, reduce, bool(include_self))
    return res if out is None else out.copy_(res)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """scatter_reduce with whole slices: source's i-th slice along dim reduces into input's index[i]-th."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.name not in ("int64", "int32"):
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if not isinstance(source, Tensor) or source.dtype is not input.dtype:
        raise RuntimeError("index_reduce_(): self and source expected to have the same dtype, but got (self) "
                           f"{input.dtype.name.capitalize()} and (source) "
                           f"{getattr(getattr(source, 'dtype', None), 'name', type(source).__name__).capitalize()}")
    d = _dim(dim, max(input.ndim, 1))
    if source.ndim != input.ndim or any(a != b for i, (a, b) in enumerate(zip(source.shape, input.shape)) if i != d):
        raise RuntimeError("index_reduce_(): Source/destination tensor must have same slice shapes")
    if source.shape[d] != index.numel():
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                           f"({source.shape[d]})")
    shape = [1] * source.ndim
    shape[d] = -1
    idx = Tensor(source._be.xp.ascontiguousarray(source._be.xp.broadcast_to(
        index._array.astype(np.int64).reshape(shape), tuple(source.shape))))
    return scatter_reduce(input, d, idx, source, reduce, include_self=include_self)


class IndexPut(Function):
    """x[indices] = values (or += with accumulate, repeated positions adding up)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, values, idx, accumulate):
        out = x.copy()
        vals = ctx.be.xp.broadcast_to(values, out[idx].shape)
        if accumulate:
            ctx.be.add_at(out, idx, vals)
        else:
            out[idx] = vals
        ctx.idx, ctx.accumulate = idx, accumulate
        return out

    @staticmethod
    def backward(ctx, g):
        gx = g
        if not ctx.accumulate:
            gx = g.copy()
            gx[ctx.idx] = 0
        return gx, g[ctx.idx], None, None


def _index_tuple(name, indices, x):
    if not isinstance(indices, (tuple, list)):
        raise TypeError(f"{name}(): argument 'indices' must be tuple of Tensors, not {type(indices).__name__}")
    if len(indices) > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim} (got {len(indices)})")
    out = []
    for i in indices:
        if i is None:
            out.append(slice(None))
            continue
        if not isinstance(i, Tensor):
            raise TypeError(f"{name}(): expected Tensor indices, got {type(i).__name__}")
        if i.dtype.name not in ("int64", "int32", "bool", "uint8"):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        a = i._array
        out.append(a.astype(bool) if i.dtype.name == "uint8" else a)
    return tuple(out)


def index_put(input, indices, values, accumulate=False):
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' must be Tensor, not {type(values).__name__}")
    if values.dtype is not input.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{input.dtype.name.capitalize()} for the destination and "
                           f"{values.dtype.name.capitalize()} for the source.")
    idx = _index_tuple("index_put", indices, input)
    target = input._array[idx].shape
    try:
        np.broadcast_shapes(tuple(values.shape), target)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values.shape)} cannot be broadcast to "
                           f"indexing result of shape {list(target)}") from None
    return IndexPut.apply(input, values, idx, bool(accumulate))


def index_copy(input, dim, index, source):
    """input with the slices index names along dim replaced by source's."""
    if not isinstance(index, Tensor) or index.ndim > 1 or index.dtype.name != "int64":
        raise IndexError("index_copy_(): Expected a long tensor for index, but got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{input.dtype.name.capitalize()} and (source) {source.dtype.name.capitalize()}")
    d = _dim(dim, max(input.ndim, 1))
    if input.ndim and source.ndim and source.ndim != input.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their dimensionality must "
                         f"match. Source dimensionality ({source.ndim}), destination dimensionality ({input.ndim})")
    if input.ndim:
        for i in range(input.ndim):
            if i != d and source.shape[i] != input.shape[i]:
                raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice shapes. "
                                   f"Destination slice shape: {input.shape[i]} at dimension {i} and source slice "
                                   f"shape: {source.shape[i]} at dimension {i}.")
    if index.numel() != (source.shape[d] if source.ndim else 1):
        raise IndexError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to source.size(dim) "
                         f"({source.shape[d] if source.ndim else 1})")
    if input.ndim == 0:
        return index_put(input.reshape(1), (index.reshape(-1),), source.reshape(-1)).reshape(())
    return IndexPut.apply(input, source, (slice(None),) * d + (index._array.reshape(-1),), False)


class MaskedScatter(Function):
    """Positions where mask holds take source's elements in order (row-major); gradient: source's first
    count(mask) elements get g there, input keeps g elsewhere."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, mask, source):
        out = x.copy()
        n = int(mask.sum())
        out[mask] = source.reshape(-1)[:n]
        ctx.mask, ctx.n, ctx.src_shape = mask, n, source.shape
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        gx = g.copy()
        gx[ctx.mask] = 0
        gs = xp.zeros(int(np.prod(ctx.src_shape)), g.dtype)
        gs[:ctx.n] = g[ctx.mask]
        return gx, None, gs.reshape(ctx.src_shape)


def masked_scatter(input, mask, source):
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise RuntimeError(f"masked_scatter_: expected BoolTensor for mask, got "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{input.dtype.name.capitalize()} and {source.dtype.name.capitalize()}")
    from .shape import broadcast_tensors
    x, m = broadcast_tensors(input, mask)
    if int(m._array.sum()) > source.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many elements as ones in mask, got "
                           f"{source.numel()} < {int(m._array.sum())}")
    return MaskedScatter.apply(x, m, source)


class Put(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, source, index, accumulate):
        out = x.copy().reshape(-1)
        if accumulate:
            ctx.be.add_at(out, index, source.reshape(-1))
        else:
            out[index] = source.reshape(-1)
        ctx.index, ctx.accumulate, ctx.src_shape = index, accumulate, source.shape
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        flat = g.reshape(-1)
        gx = g
        if not ctx.accumulate:
            gx = flat.copy()
            gx[ctx.index] = 0
            gx = gx.reshape(g.shape)
        return gx, flat[ctx.index].reshape(ctx.src_shape), None, None


def put(input, index, source, accumulate=False):
    _long_index("put", index)
    if source.dtype is not input.dtype:
        raise RuntimeError(f"put(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input.dtype.name.capitalize()} and source.dtype = {source.dtype.name.capitalize()}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got source."
                           f"numel() = {source.numel()}, index.numel() = {index.numel()}")
    n = input.numel()
    idx = index._array.reshape(-1)
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    return Put.apply(input, source, idx % max(n, 1), bool(accumulate))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = _dim(dim, input.ndim)
    idx = (slice(None),) * d + (slice(start, end, step),)
    return index_put_basic(input, src, idx)


def select_scatter(input, src, dim, index):
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= index < n:
        raise IndexError(f"select_scatter(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return index_put_basic(input, src, (slice(None),) * d + (index % n,))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    d1, d2 = _dim(dim1, input.ndim), _dim(dim2, input.ndim)
    n1, n2 = input.shape[d1], input.shape[d2]
    k = max(0, min(n1 + min(offset, 0), n2 - max(offset, 0)))
    i = np.arange(k) - min(offset, 0)
    j = np.arange(k) + max(offset, 0)
    # the diagonal is the last axis of input.diagonal(): index the two dims with broadcast positions there
    rest = [a for a in range(input.ndim) if a not in (d1, d2)]
    xp = input._be.xp
    grids = list(xp.indices(tuple(input.shape[a] for a in rest), sparse=True)) if rest else []
    idx = [None] * input.ndim
    for a, gr in zip(rest, grids):
        idx[a] = gr[..., None]
    idx[d1], idx[d2] = xp.asarray(i), xp.asarray(j)
    return index_put_basic(input, src, tuple(idx))


def index_put_basic(input, src, idx):
    """input with input[idx] replaced by src, which must have that part's shape exactly."""
    if not isinstance(src, Tensor):
        raise TypeError(f"expected Tensor src, got {type(src).__name__}")
    want = input._array[idx].shape
    if tuple(src.shape) != want:
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(want)}")
    if src.dtype is not input.dtype:
        raise RuntimeError(f"expected src dtype {input.dtype.name} to match self dtype, got {src.dtype.name}")
    return IndexPut.apply(input, src, idx, False)


class IndexWriteMethods:
    """Tensor's methods of this module (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    scatter_reduce, index_put, index_copy, masked_scatter, put = (scatter_reduce, index_put, index_copy,
                                                                  masked_scatter, put)
    index_reduce, index_reduce_ = index_reduce, _inplace_of("index_reduce")
    slice_scatter, select_scatter, diagonal_scatter = slice_scatter, select_scatter, diagonal_scatter
    scatter_reduce_, index_put_, index_copy_ = (_inplace_of("scatter_reduce"), _inplace_of("index_put"),
                                                _inplace_of("index_copy"))
    masked_scatter_, put_ = _inplace_of("masked_scatter"), _inplace_of("put")


__all__ = ["scatter_reduce", "index_reduce", "index_put", "index_put_", "index_copy", "masked_scatter", "put",
           "slice_scatter", "select_scatter", "diagonal_scatter"]


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)
