"""3-D convolution and pooling, composed of differentiable ops: every window's values gathered by index (an N-d
im2col as one GetItem), then a batched matmul, a max or a sum. Gradients (and second derivatives) are those of the
gather, the matmul and the reduction; no kernel of their own, so slower than the 2-D path, and memory grows with the
window volume. The transposed convolution is the adjoint of conv3d in its input: the gradient of a convolution of
zeros, taken with create_graph so it stays differentiable in x and the weight."""
import numpy as np

from .. import grad_mode
from ..tensor import Tensor, zeros
from ..window import out_size
from .conv import _check_float, _pair
from .movement import pad as _pad
from .pool import _adaptive_size as _adaptive_size_nd, _avg_matrix, _bounds

_N = 3


def _check(fn, input, weight=None, bias=None, groups=1):
    for t, what in ((input, "input"), (weight, "weight")):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{what}' must be Tensor, not {type(t).__name__}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fn}: not implemented for dtype {input.dtype.name} (floating-point tensors only)")
    if input.ndim not in (4, 5):
        raise RuntimeError(f"Expected 4D (unbatched) or 5D (batched) input to {fn}, but got input of size: "
                           f"{list(input.shape)}")
    if weight is not None:
        if weight.ndim != 5:
            raise RuntimeError(f"{fn}: expected a 5-D weight, but got weight of size {list(weight.shape)}")
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise RuntimeError(f"non-positive groups is not supported (groups={groups})")
        _check_float(fn, input, weight, bias)
    return input.unsqueeze(0) if input.ndim == 4 else input, input.ndim == 4


def _positions(shape, k, s, p, d, ceil_mode):
    """Output sizes and, per axis, each (output, tap) pair's input coordinate (may fall outside [0, size))."""
    outs = [out_size(n, k_, s_, p_, d_, ceil_mode) for n, k_, s_, p_, d_ in zip(shape, k, s, p, d)]
    if min(outs) < 1:
        raise RuntimeError(f"Given input size: {tuple(shape)}. Calculated output size: {tuple(outs)}. Output size is "
                           f"too small")
    coords = [np.arange(o)[:, None] * s_ - p_ + np.arange(k_)[None, :] * d_ for o, k_, s_, p_, d_ in
              zip(outs, k, s, p, d)]
    return outs, coords


def _windows(x, k, s, p, d, fill, ceil_mode=False):
    """(N, C, *O, K): each output position's window values (K = prod(k), taps row-major), `fill` outside x."""
    outs, coords = _positions(x.shape[2:], k, s, p, d, ceil_mode)
    return _gather(x, outs, coords, fill), outs, coords


def _gather(x, outs, coords, fill):
    """The values at coords (per axis, (output, tap) input coordinates) as (N, C, *O, K); `fill` outside x."""
    shape = x.shape[2:]
    lo = [max(0, -int(c.min())) for c in coords]
    hi = [max(0, int(c.max()) - n + 1) for c, n in zip(coords, shape)]
    if any(lo) or any(hi):
        x = _pad(x, [v for i in reversed(range(_N)) for v in (lo[i], hi[i])], value=fill)
    index = []
    for i, c in enumerate(coords):   # broadcast to (*O, *k): output axes first, then the taps
        shape_i = [1] * (2 * _N)
        shape_i[i], shape_i[_N + i] = c.shape
        index.append(x._be.xp.asarray((c + lo[i]).reshape(shape_i)))
    cols = x[(slice(None), slice(None)) + tuple(index)]
    return cols.reshape(tuple(x.shape[:2]) + tuple(outs) + (-1,))


def _triple(v, name, fn):
    return _pair(v, name, fn, n=_N)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    fn = "conv3d"
    x, unbatched = _check(fn, input, weight, bias, groups)
    s, d = _triple(stride, "stride", fn), _triple(dilation, "dilation", fn)
    m, cg = weight.shape[:2]
    k = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if padding == "same":
            if s != (1, 1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            tot = [d_ * (k_ - 1) for d_, k_ in zip(d, k)]
            x = _pad(x, [v for i in reversed(range(_N)) for v in (tot[i] // 2, tot[i] - tot[i] // 2)])
        p = (0, 0, 0)
    else:
        p = _triple(padding, "padding", fn)
    n, c = x.shape[:2]
    if c != cg * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead")
    if m % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size {list(weight.shape)} instead")
    cols, outs, _ = _windows(x, k, s, p, d, 0.0)
    taps, length = cg * int(np.prod(k)), int(np.prod(outs))
    cols = cols.reshape(n, groups, cg, length, -1).permute(0, 1, 3, 2, 4).reshape(n, groups, length, taps)
    w = weight.reshape(groups, m // groups, taps).transpose(1, 2)
    out = cols.matmul(w).permute(0, 1, 3, 2).reshape((n, m) + tuple(outs))
    if bias is not None:
        out = out + bias.reshape(1, m, 1, 1, 1)
    return out.squeeze(0) if unbatched else out


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    fn = "conv_transpose3d"
    x, unbatched = _check(fn, input, weight, bias, groups)
    s, p = _triple(stride, "stride", fn), _triple(padding, "padding", fn)
    d, op = _triple(dilation, "dilation", fn), _triple(output_padding, "output_padding", fn)
    cin, cog = weight.shape[:2]
    if x.shape[1] != cin:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
                           f"{list(input.shape)} to have {cin} channels, but got {x.shape[1]} channels instead")
    for i in range(_N):
        if op[i] < 0 or (op[i] >= s[i] and op[i] >= d[i]):
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               f"output_padding={list(op)}, stride={list(s)}, dilation={list(d)}")
    size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (weight.shape[2 + i] - 1) + op[i] + 1
                 for i in range(_N))
    if min(size) <= 0:
        raise RuntimeError(f"Given input size {list(x.shape[2:])}, the calculated output size {list(size)} is too "
                           f"small")
    from ..autograd import grad
    with grad_mode.enable_grad():
        z = zeros((x.shape[0], cog * groups) + size, dtype=x.dtype, device=x.device, requires_grad=True)
        y = conv3d(z, weight, None, s, p, d, groups)
        out, = grad(y, z, x, create_graph=True)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1, 1)
    if not grad_mode.is_grad_enabled():
        out = out.detach()
    return out.squeeze(0) if unbatched else out


def _pool_args(fn, kernel_size, stride, padding, dilation):
    k = _triple(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _triple(stride, "stride", fn)
    p, d = _triple(padding, "padding", fn), _triple(dilation, "dilation", fn)
    if any(p_ > k_ // 2 for p_, k_ in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={list(p)}, "
                           f"kernel_size={list(k)} and dilation={list(d)}")
    return k, s, p, d


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    fn = "max_pool3d"
    x, unbatched = _check(fn, input)
    k, s, p, d = _pool_args(fn, kernel_size, stride, padding, dilation)
    cols, outs, coords = _windows(x, k, s, p, d, -float("inf"), ceil_mode)
    return _max_of(cols, outs, coords, x.shape[2:], unbatched, return_indices)


def _max_of(cols, outs, coords, shape, unbatched, return_indices):
    """The windows' maxima (the first of equal ones), and with return_indices their flat positions in the plane."""
    values, taps = cols.max(-1)
    out = values.squeeze(0) if unbatched else values
    if not return_indices:
        return out
    flat = np.zeros(tuple(outs) + tuple(c.shape[1] for c in coords), np.int64)
    for i, c in enumerate(coords):
        shape_i = [1] * (2 * _N)
        shape_i[i], shape_i[_N + i] = c.shape
        flat = flat + c.reshape(shape_i) * int(np.prod(shape[i + 1:]))
    flat = flat.reshape(tuple(outs) + (-1,))
    idx = Tensor(np.take_along_axis(np.broadcast_to(flat, tuple(values.shape) + (flat.shape[-1],)),
                                    taps.numpy()[..., None], -1)[..., 0])
    return out, (idx.squeeze(0) if unbatched else idx)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    fn = "avg_pool3d"
    x, unbatched = _check(fn, input)
    k, s, p, _ = _pool_args(fn, kernel_size, stride, padding, 1)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    cols, outs, coords = _windows(x, k, s, p, (1, 1, 1), 0.0, ceil_mode)
    if divisor_override:
        divisor = float(divisor_override)
    else:
        # taps counted: inside the input, or (count_include_pad) inside the padded input
        counts = np.ones(tuple(outs), np.float64)
        for i, (c, n) in enumerate(zip(coords, x.shape[2:])):
            lo, hi = (-p[i], n + p[i]) if count_include_pad else (0, n)
            inside = ((c >= lo) & (c < hi)).sum(axis=1).astype(np.float64)
            counts = counts * inside.reshape([-1 if j == i else 1 for j in range(_N)])
        divisor = Tensor(x._be.xp.asarray(counts.astype(x._array.dtype)))
    out = cols.sum(-1) / divisor
    return out.squeeze(0) if unbatched else out


def _adaptive_size(fn, x, output_size):
    size = _adaptive_size_nd(fn, x, output_size, _N)
    if min(size) < 1:    # every 3-D window here holds at least one pixel
        raise RuntimeError(f"{fn}(): output_size must be 3 positive sizes, got {output_size}")
    return size


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """PyTorch's adaptive windows [floor(i n / o), ceil((i + 1) n / o)) per axis; a short window repeats its last
    pixel (which never changes the first maximum)."""
    fn = "adaptive_max_pool3d"
    x, unbatched = _check(fn, input)
    size = _adaptive_size(fn, x, output_size)
    coords = []
    for n, o in zip(x.shape[2:], size):
        start, end = _bounds(np, n, o)
        k = int((end - start).max())
        coords.append(np.minimum(start[:, None] + np.arange(k)[None, :], end[:, None] - 1))
    return _max_of(_gather(x, size, coords, 0.0), size, coords, x.shape[2:], unbatched, return_indices)


def adaptive_avg_pool3d(input, output_size):
    fn = "adaptive_avg_pool3d"
    x, unbatched = _check(fn, input)
    size = _adaptive_size(fn, x, output_size)
    out = x
    for i, o in enumerate(size):   # separable: average along each axis in turn
        a = Tensor(x._be.xp.asarray(_avg_matrix(np, x.shape[2 + i], o, x._array.dtype)))
        out = out.movedim(2 + i, -1).matmul(a.T).movedim(-1, 2 + i)
    return out.squeeze(0) if unbatched else out


__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d"]
