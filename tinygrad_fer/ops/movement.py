"""Ops that move data without arithmetic: reshape/view, permute, expand, squeeze, cat/stack/split, pad."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim, _mark_view


def _sizes(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


class Reshape(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


def _infer(shape, numel, src):
    shape = list(shape)
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"invalid shape dimension {s}")
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


def reshape(input, *shape):
    shape = _infer(_sizes(shape), input._array.size, input.shape)
    if shape == input._array.shape:
        return input
    return _mark_view(Reshape.apply(input, shape), input)


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list, np.integer)):
        return input.type(shape[0])
    shape = _infer(_sizes(shape), input._array.size, input.shape)
    try:
        np.reshape(input._array, shape, copy=False) if input._be.name == "cpu" else None
    except ValueError:
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride (shape "
                           f"{list(input.shape)}, strides {list(input.stride())}); use .reshape(...) instead."
                           ) from None
    return reshape(input, shape)


def flatten(input, start_dim=0, end_dim=-1):
    if input.ndim == 0:
        return reshape(input, 1)
    s, e = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input.shape
    n = 1
    for d in shp[s:e + 1]:
        n *= d
    return reshape(input, tuple(shp[:s]) + (n,) + tuple(shp[e + 1:]))


def unflatten(input, dim, sizes):
    d = _dim(dim, input.ndim)
    return reshape(input, tuple(input.shape[:d]) + tuple(sizes) + tuple(input.shape[d + 1:]))


class Permute(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, order):
        ctx.inverse = tuple(np.argsort(order))
        return x.transpose(order)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse), None


def permute(input, *dims):
    dims = _sizes(dims)
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {n} is not equal to "
                           f"len(dims) = {len(dims)}")
    order = tuple(_dim(d, n) for d in dims)
    if len(set(order)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    if order == tuple(range(n)):
        return input
    return _mark_view(Permute.apply(input, order), input)


def transpose(input, dim0, dim1):
    n = input.ndim
    if n == 0:
        return input
    order = list(range(n))
    a, b = _dim(dim0, n), _dim(dim1, n)
    order[a], order[b] = order[b], order[a]
    return permute(input, *order)


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def squeeze(input, dim=None):
    shp = input.shape
    if dim is None:
        return reshape(input, tuple(s for s in shp if s != 1))
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = {_dim(d, input.ndim) for d in dims} if input.ndim else set()
    return reshape(input, tuple(s for i, s in enumerate(shp) if not (i in axes and s == 1)))


def unsqueeze(input, dim):
    d = _dim(dim, input.ndim + 1)
    shp = list(input.shape)
    shp.insert(d, 1)
    return reshape(input, tuple(shp))


class Expand(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, shape):
        b = ctx.be.xp.broadcast_to(x, shape)
        if type(b) is np.ndarray:  # writeable, as PyTorch's expand: fill_ through it is allowed
            b = np.lib.stride_tricks.as_strided(x, shape, b.strides)
        return b

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine sums over the broadcast axes


def expand(input, *sizes):
    sizes = _sizes(sizes)
    n = len(sizes)
    if n < input.ndim:
        raise RuntimeError(f"expand(torch.FloatTensor{{{list(input.shape)}}}, size={list(sizes)}): the number of "
                           f"sizes provided ({n}) must be greater or equal to the number of dimensions in the tensor "
                           f"({input.ndim})")
    src = (1,) * (n - input.ndim) + tuple(input.shape)
    shape = tuple(s if t == -1 else t for s, t in zip(src, sizes))
    for s, t in zip(src, shape):
        if s != t and s != 1:
            raise RuntimeError(f"The expanded size of the tensor ({t}) must match the existing size ({s}) at "
                               f"non-singleton dimension: target sizes {list(sizes)}, tensor sizes "
                               f"{list(input.shape)}")
    if shape == input._array.shape:
        return input
    return _mark_view(Expand.apply(input, shape), input)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


class Contiguous(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x):
        return ctx.be.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(input, memory_format=None):
    return input if input._array.flags.c_contiguous else Contiguous.apply(input)


def clone(input, memory_format=None):
    return Contiguous.apply(input) if not input._array.flags.c_contiguous else Clone.apply(input)


class Clone(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class Cat(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([x.shape[dim] for x in xs])[:-1]
        return ctx.be.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(ctx.be.xp.split(g, ctx.bounds, axis=ctx.dim))


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element in argument 0, but got {type(t).__name__}")
    ref = tensors[0]
    d = _dim(dim, ref.ndim)
    from .. import dtypes
    dt = dtypes.result_type(*tensors)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref.shape)) if j != d):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                               f"{list(ref.shape)} but got size {list(t.shape)} for tensor number {i} in the list.")
    tensors = [t if t.dtype is dt else t.type(dt) for t in tensors]
    if len(tensors) == 1:
        return tensors[0]
    return Cat.apply(*tensors, dim=d)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                               f"entry 0 and {list(t.shape)} at entry {i}")
    d = _dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(tensor, split_size_or_sections, dim=0):
    d = _dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        s = split_size_or_sections
        if s <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                               f"dimension {d}), but got split_sizes={sizes}")
    out, start = [], 0
    name = "Split" if isinstance(split_size_or_sections, int) else "SplitWithSizes"
    for i, s in enumerate(sizes):
        idx = (slice(None),) * d + (slice(start, start + s),)
        out.append(_multi_view(tensor[idx], f"Output {i} of {name}"))
        start += s
    return tuple(out)


def _multi_view(t, which):
    # PyTorch refuses in-place changes (with grad) to the outputs of ops that return several views
    if t._view is not None:
        t._view = t._view[:2] + (which,)
    return t


def chunk(input, chunks, dim=0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    n = input.shape[_dim(dim, input.ndim)]
    size = -(-n // chunks) if n else 1
    return split(input, size, dim)


def unbind(input, dim=0):
    d = _dim(dim, input.ndim)
    return tuple(_multi_view(input[(slice(None),) * d + (i,)], f"Output {i} of Unbind")
                 for i in range(input.shape[d]))


class Pad(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return ctx.be.xp.pad(x, widths, constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.crop], None, None


def pad(input, pad, mode="constant", value=None):
    if mode != "constant":
        raise NotImplementedError(f"pad mode '{mode}' is not supported; only 'constant'")
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the number of dimensions of the "
                           f"input: got {len(pad)} for a {input.ndim}-D input")
    widths = [[0, 0] for _ in range(input.ndim)]
    for i in range(len(pad) // 2):  # PyTorch lists the last dimension first
        widths[input.ndim - 1 - i] = [int(pad[2 * i]), int(pad[2 * i + 1])]
    neg = any(w < 0 for p in widths for w in p)
    x = input
    if neg:  # negative padding crops
        crop = tuple(slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n) for (lo, hi), n in zip(widths, x.shape))
        x = x[crop]
        widths = [[max(lo, 0), max(hi, 0)] for lo, hi in widths]
    return Pad.apply(x, tuple(map(tuple, widths)), 0 if value is None else value)


class Flip(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.be.xp.flip(x, axes).copy()  # a copy, as in PyTorch: in-place ops on it must not reach x

    @staticmethod
    def backward(ctx, g):
        return ctx.be.xp.flip(g, ctx.axes), None


def flip(input, dims):
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return Flip.apply(input, tuple(_dim(d, input.ndim) for d in dims))


def repeat(input, *sizes):
    sizes = _sizes(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           "tensor")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    # each axis: insert a new axis of size r before it, expand, merge
    shp = []
    for r, s in zip(sizes, x.shape):
        shp += [1, s]
    y = x.reshape(shp).expand(*[v for r, s in zip(sizes, x.shape) for v in (r, s)])
    return y.reshape(*[r * s for r, s in zip(sizes, x.shape)])


class MovementMethods:
    """Tensor's reshaping, transposing, joining and splitting methods (tinygrad_fer/_tensor_api.py makes Tensor
    inherit them)."""
    __slots__ = ()
    reshape, view, flatten, unflatten = reshape, view, flatten, unflatten
    permute, transpose, t = permute, transpose, t
    swapaxes = swapdims = transpose
    squeeze, unsqueeze, expand, expand_as, broadcast_to = squeeze, unsqueeze, expand, expand_as, broadcast_to
    contiguous, clone = contiguous, clone
    split, chunk, unbind, flip, repeat = split, chunk, unbind, flip, repeat

    def view_as(self, other):
        return view(self, other.shape)

    def reshape_as(self, other):
        return reshape(self, other.shape)

# the public ops, which the package namespace re-exports
__all__ = ["reshape", "flatten", "permute", "transpose", "squeeze", "unsqueeze", "cat", "stack", "split", "chunk",
           "unbind", "flip", "t", "clone", "broadcast_to"]
