"""Shaping ops built on the movement primitives: triangles, roll, movedim, narrow/select, tile, repeat_interleave,
rot90, the h/v/d/column stacks and splits, atleast_nd. Views where PyTorch returns views (they come from
getitem/permute/reshape, which mark them)."""
import warnings

import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim, _mark_view
from .index import getitem, scatter_into
from .inplace import _inplace_of
from .movement import cat, expand, flip, permute, repeat, reshape, transpose, unsqueeze


def _check_tensor(name, x, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


class _Triangle(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, upper, k):
        ctx.upper, ctx.k = upper, k
        xp = ctx.be.xp
        return xp.triu(x, k) if upper else xp.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        return (xp.triu(g, ctx.k) if ctx.upper else xp.tril(g, ctx.k)), None, None


def _triangle(name, upper):
    def op(input, diagonal=0):
        _check_tensor(name, input)
        if input.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        return _Triangle.apply(input, upper, int(diagonal))
    op.__name__ = op.__qualname__ = name
    return op


tril, triu = _triangle("tril", False), _triangle("triu", True)


class _Roll(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.be.xp.roll(x, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return ctx.be.xp.roll(g, back, ctx.dims), None, None


def roll(input, shifts, dims=None):
    _check_tensor("roll", input)
    shifts = tuple(int(s) for s in shifts) if isinstance(shifts, (tuple, list)) else (int(shifts),)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return _Roll.apply(input, shifts[0], None)  # NumPy, as PyTorch, rolls the flattened tensor
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    return _Roll.apply(input, shifts, tuple(_dim(d, input.ndim) for d in dims))


def movedim(input, source, destination):
    _check_tensor("movedim", input)
    src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
    dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should contain "
                           f"the same number of dims as destination ({list(dst)} dims)")
    n = input.ndim
    src, dst = [_dim(d, n) for d in src], [_dim(d, n) for d in dst]
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(source)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(destination)})")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(n) if i not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order) if n else input


def narrow(input, dim, start, length):
    _check_tensor("narrow", input)
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    size = input.shape[d]
    start = int(start.item() if isinstance(start, Tensor) else start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start %= size if start < 0 else size + 1
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return getitem(input, (slice(None),) * d + (slice(start, start + length),))


def select(input, dim, index):
    _check_tensor("select", input)
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, input.ndim)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    return getitem(input, (slice(None),) * d + (int(index) % size,))


def tile(input, dims):
    _check_tensor("tile", input)
    dims = tuple(int(d) for d in dims) if isinstance(dims, (tuple, list)) else (int(dims),)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    _check_tensor("repeat_interleave", input)
    if repeats is None:  # repeat_interleave(counts): each index i, counts[i] times
        if input.ndim != 1 or input.dtype.is_floating_point:
            raise RuntimeError("repeats must be 1-d tensor of integers")
        from ..tensor import tensor
        return tensor(np.repeat(np.arange(input.shape[0]), input.numpy()))
    x = input if dim is not None else reshape(input, -1)
    d = _dim(dim, x.ndim) if dim is not None else 0
    if isinstance(repeats, Tensor) and repeats.numel() != 1:
        if repeats.ndim != 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        if repeats.shape[0] != x.shape[d]:
            raise RuntimeError("repeats must have the same size as input along dim, but got repeats.size(0) = "
                               f"{repeats.shape[0]} and input.size({d}) = {x.shape[d]}")
        counts = repeats.numpy()
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        idx = np.repeat(np.arange(x.shape[d]), counts)
        return getitem(x, (slice(None),) * d + (idx,))
    r = int(repeats.item() if isinstance(repeats, Tensor) else repeats)
    if r < 0:
        raise RuntimeError("repeats can not be negative")
    shp = list(x.shape)
    y = expand(unsqueeze(x, d + 1), shp[:d + 1] + [r] + shp[d + 1:])
    return reshape(y, shp[:d] + [shp[d] * r] + shp[d + 1:])


def rot90(input, k=1, dims=(0, 1)):
    _check_tensor("rot90", input)
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return transpose(flip(input, (a,)), a, b)
    return input.clone()


def _tensors(name, args):
    ts = list(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else list(args)
    for t in ts:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element, but got {type(t).__name__}")
    return ts


def _atleast(n):
    def op(*tensors):
        single = len(tensors) == 1 and isinstance(tensors[0], Tensor)
        out = []
        for t in _tensors(f"atleast_{n}d", tensors):
            if t.ndim == 0:
                t = reshape(t, (1,) * n)
            elif t.ndim == 1 and n >= 2:
                t = reshape(t, (1, t.shape[0]) + ((1,) if n == 3 else ()))
            elif t.ndim == 2 and n == 3:
                t = unsqueeze(t, 2)
            out.append(t)
        return out[0] if single else tuple(out)
    op.__name__ = op.__qualname__ = f"atleast_{n}d"
    return op


atleast_1d, atleast_2d, atleast_3d = _atleast(1), _atleast(2), _atleast(3)


def _each(f, ts):
    return [f(t) for t in ts]


def _nonempty(name, ts):
    if not ts:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return ts


def hstack(tensors):
    ts = _nonempty("hstack", _each(atleast_1d, (_tensors("hstack", (tensors,)))))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    return cat(_nonempty("vstack", _each(atleast_2d, (_tensors("vstack", (tensors,))))), 0)


def dstack(tensors):
    return cat(_nonempty("dstack", _each(atleast_3d, (_tensors("dstack", (tensors,))))), 2)


def column_stack(tensors):
    ts = _tensors("column_stack", (tensors,))
    _nonempty("column_stack", ts)
    return cat([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts], 1)


def tensor_split(input, indices_or_sections, dim=0):
    _check_tensor("tensor_split", input)
    if input.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.dtype.is_floating_point or ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have integer dtype and be 0-D "
                               "or 1-D")
        ios = int(ios.item()) if ios.ndim == 0 else [int(i) for i in ios.numpy()]
    if isinstance(ios, (int, np.integer)):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, int(ios))
        bounds = [i * q + min(i, r) for i in range(int(ios) + 1)]
    else:
        bounds = [0] + [int(i) for i in ios] + [n]
    out = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # Python slice bounds: negative ones count from the end
        out.append(getitem(input, (slice(None),) * d + (slice(lo, hi),)))
    return tuple(out)


def _split_like(name, dim, min_dims):
    def op(input, indices_or_sections):
        _check_tensor(name, input)
        if input.ndim < min_dims:
            raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                               f"with {input.ndim} dimensions!")
        d = dim if input.ndim > 1 or name != "hsplit" else 0
        if isinstance(indices_or_sections, (int, np.integer)):
            s = int(indices_or_sections)
            if s == 0 or input.shape[d] % s:
                raise RuntimeError(f"torch.{name} attempted to split along dimension {d}, but the size of the "
                                   f"dimension {input.shape[d]} is not divisible by the split_size {s}!")
        return tensor_split(input, indices_or_sections, d)
    op.__name__ = op.__qualname__ = name
    return op


hsplit, vsplit, dsplit = _split_like("hsplit", 1, 1), _split_like("vsplit", 0, 2), _split_like("dsplit", 2, 3)


def _diag_view(xp, a, offset, d1, d2):
    """A writable view of a's diagonal (as np.diagonal's, whose result NumPy makes read-only)."""
    if type(a) is not np.ndarray:
        return xp.diagonal(a, offset, d1, d2)
    cut = [slice(None)] * a.ndim
    cut[d2 if offset >= 0 else d1] = slice(abs(offset), None)
    sub = a[tuple(cut)]
    v = np.diagonal(sub, 0, d1, d2)
    return np.lib.stride_tricks.as_strided(sub, v.shape, v.strides)


class _Diagonal(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.shape, ctx.args = x.shape, (offset, d1, d2)
        return _diag_view(ctx.be.xp, x, offset, d1, d2)

    @staticmethod
    def backward(ctx, g):
        gx = ctx.be.xp.zeros(ctx.shape, g.dtype)
        _diag_view(ctx.be.xp, gx, *ctx.args)[...] = g
        return gx, None, None, None

    @staticmethod
    def backward_graph(ctx, g):
        return scatter_into(g, ctx.shape, _diagonal_positions(ctx.shape, *ctx.args)), None, None, None


def _diagonal_positions(shape, offset, d1, d2):
    """The index (a tuple of position arrays) of the diagonal's elements in an array of `shape`."""
    flat = np.arange(int(np.prod(shape))).reshape(shape)
    return np.unravel_index(_diag_view(np, flat, offset, d1, d2), shape)


def _two_dims(name, n, dim1, dim2):
    a, b = _dim(dim1, n), _dim(dim2, n)
    if a == b:
        raise RuntimeError(f"{name}(): dim1 and dim2 cannot be equal, but got dim1={dim1} and dim2={dim2}"
                           if name == "diag_embed" else f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return a, b


def diagonal(input, offset=0, dim1=0, dim2=1):
    _check_tensor("diagonal", input)
    if input.ndim < 2:
        raise RuntimeError(f"diagonal(): input must be at least 2-dimensional, but got {input.ndim}D")
    a, b = _two_dims("diagonal", input.ndim, dim1, dim2)
    return _mark_view(_Diagonal.apply(input, int(offset), a, b), input)


class _DiagEmbed(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (offset, d1, d2)
        n = x.shape[-1] + abs(offset)
        shape = list(x.shape[:-1])
        for d in sorted((d1, d2)):
            shape.insert(d, n)
        out = ctx.be.xp.zeros(shape, x.dtype)
        _diag_view(ctx.be.xp, out, offset, d1, d2)[...] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return _diag_view(ctx.be.xp, g, *ctx.args).copy(), None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    _check_tensor("diag_embed", input)
    a, b = _two_dims("diag_embed", input.ndim + 1, dim1, dim2)
    return _DiagEmbed.apply(input, int(offset), a, b)


def diag(input, diagonal=0):
    _check_tensor("diag", input)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim != 2:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return globals()["diagonal"](input, diagonal).clone()


def diagflat(input, offset=0):
    """The flattened input on the offset-th diagonal of a square matrix."""
    _check_tensor("diagflat", input)
    return diag(input.reshape(-1), offset)


def broadcast_tensors(*tensors):
    ts = _tensors("broadcast_tensors", tensors)
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in ts))
    except ValueError:
        raise RuntimeError(f"shape mismatch: objects cannot be broadcast to a single shape: "
                           f"{', '.join(str(list(t.shape)) for t in ts)}") from None
    return tuple(expand(t, shape) for t in ts)


def meshgrid(*tensors, indexing=None):
    ts = _tensors("meshgrid", tensors)
    if not ts:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in ts:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
        if t.dtype is not ts[0].dtype:
            raise RuntimeError("torch.meshgrid: Expected all tensors in the tensor list to have the same dtype")
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        pos[0], pos[1] = 1, 0
    shape = [0] * len(ts)
    for t, p in zip(ts, pos):
        shape[p] = t.numel()
    out = []
    for t, p in zip(ts, pos):
        view = [1] * len(ts)
        view[p] = shape[p]
        out.append(expand(reshape(t, view), shape))
    return tuple(out)


class ShapeMethods:
    """Tensor's shaping methods of this module (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    tril, triu, tril_, triu_ = tril, triu, _inplace_of("tril"), _inplace_of("triu")
    diagflat = diagflat
    roll, movedim, moveaxis, narrow, select, tile = roll, movedim, movedim, narrow, select, tile
    repeat_interleave, rot90 = repeat_interleave, rot90
    tensor_split, hsplit, vsplit, dsplit = tensor_split, hsplit, vsplit, dsplit
    diagonal, diag, diag_embed = diagonal, diag, diag_embed
    # ops/index.py's scatters, in place: declared here because ops/inplace.py imports ops/index.py
    scatter_, scatter_add_ = _inplace_of("scatter"), _inplace_of("scatter_add")
    index_add_, index_fill_ = _inplace_of("index_add"), _inplace_of("index_fill")


moveaxis = movedim

# the public ops, which the package namespace re-exports
__all__ = ["tril", "triu", "roll", "movedim", "moveaxis", "narrow", "select", "tile", "repeat_interleave", "rot90",
           "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "dstack", "column_stack", "tensor_split",
           "hsplit", "vsplit", "dsplit", "diagonal", "diag", "diag_embed", "broadcast_tensors", "meshgrid", "diagflat"]
