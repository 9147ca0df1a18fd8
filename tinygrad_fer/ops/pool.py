"""2-D max / average pooling (backend kernels) and adaptive pooling (plain xp).

Max-pool keeps the arg-max of each window (flat index into its H*W plane, PyTorch's choice among ties), so the
backward pass sends each gradient to exactly the pixel PyTorch would: ReLU outputs are full of exact zeros.
Adaptive average pooling is a separable linear map, A_h @ x @ A_w^T with row-averaging matrices, while the data is
finite; with NaN or inf it sums each window instead (a matrix's 0 * inf would be NaN in every window). Adaptive max
pooling gathers its variable-size windows (padded by repeating their last pixel, which never changes the choice).
float16 runs in float32 (half.py).
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ..window import Window2d
from .conv import _pair
from .half import float32_inside
from .unbatched import accepts_unbatched


def _check_input(fn, x, msg=None):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.ndim not in (3, 4) or 0 in x.shape[-3:]:
        raise RuntimeError(msg or f"{fn}: non-empty 3D or 4D (batch mode) tensor expected for input, but got "
                                  f"input of size {list(x.shape)}")
    if x.dtype.name == "bool":
        raise RuntimeError(f"{fn}: not implemented for 'Bool'")


def _window_args(fn, x, kernel_size, stride, padding, dilation, ceil_mode):
    k = _pair(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) else _pair(stride, "stride", fn)
    p, d = _pair(padding, "padding", fn), _pair(dilation, "dilation", fn)
    if min(k) <= 0:
        raise RuntimeError(f"{fn}: kernel size should be greater than zero, but got kernel_size={list(k)}")
    if min(s) <= 0:
        raise RuntimeError(f"{fn}: stride should not be zero (stride={list(s)})")
    if min(d) <= 0:
        raise RuntimeError(f"{fn}: dilation should be greater than zero, but got dilation={list(d)}")
    if min(p) < 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[0] if p[0] == p[1] else list(p)}, "
                           f"kernel_size={k[0] if k[0] == k[1] else list(k)} and dilation={d[0] if d[0] == d[1] else list(d)}")
    win = Window2d.of(k, s, p, d)
    h, w = x.shape[-2:]
    oh, ow = win.out_size(h, w, ceil_mode)
    if oh < 1 or ow < 1:
        c = x.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). Output size is "
                           f"too small")
    return win


@accepts_unbatched(4)
class MaxPool2d(Function):
    raw = True
    double = "lift"

    @staticmethod
    @float32_inside
    def forward(ctx, x, win, ceil_mode):
        out, idx = ctx.be.max_pool2d(x, win, bool(ceil_mode))
        ctx.save_for_backward(idx)
        ctx.x_shape = x.shape
        return out, idx

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        return ctx.be.max_pool2d_backward(grad, idx, ctx.x_shape), None, None


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    _check_input("max_pool2d", input)
    win = _window_args("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    out, idx = MaxPool2d.apply(input, win, ceil_mode)
    return (out, idx) if return_indices else out


@accepts_unbatched(4)
class AvgPool2d(Function):
    raw = True
    double = "lift"

    @staticmethod
    @float32_inside
    def forward(ctx, x, win, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (win, bool(ceil_mode), bool(count_include_pad), divisor_override)
        ctx.x_shape = x.shape
        return ctx.be.avg_pool2d(x, *ctx.args)

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        return ctx.be.avg_pool2d_backward(grad, ctx.x_shape, *ctx.args), None, None, None, None


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    _check_input("avg_pool2d", input)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"avg_pool2d: not implemented for dtype {input.dtype.name} (floating-point tensors only)")
    win = _window_args("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None:
        if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
            raise TypeError(f"avg_pool2d(): divisor_override must be an int or None, not {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
    return AvgPool2d.apply(input, win, ceil_mode, count_include_pad, divisor_override)


def _adaptive_size(fn, x, output_size, n=2):
    """The output size of an n-d adaptive pool (an int, or n ints where None keeps the input's size)."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != n:
            raise RuntimeError(f"{fn}(): output_size must have {n} elements, but got {list(output_size)}")
        size = tuple(x.shape[-n + i] if v is None else v for i, v in enumerate(output_size))
    elif output_size is None:
        size = tuple(x.shape[-n:])
    else:
        size = (output_size,) * n
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in size):
        raise TypeError(f"{fn}(): output_size must be an int or a tuple of {n} ints (or None), got {output_size!r}")
    if min(size) < 0:
        raise RuntimeError(f"{fn}(): elements of output_size must be greater than or equal to 0 but received "
                           f"{list(size)}")
    return size


def _bounds(xp, size, out):
    """PyTorch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out))."""
    i = xp.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _avg_matrix(xp, size, out, dtype):
    start, end = _bounds(xp, size, out)
    j = xp.arange(size)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _range_sums(xp, a, lo, hi):
    """Sums of a over [lo[i], hi[i]) along its last axis, for each i (host int arrays): gathered and summed, never
    multiplied by a zero weight, so an inf or NaN reaches only the sums whose range holds it, as in PyTorch's loops.
    (several times slower than the matrices, so only for data that is not finite; bench/README.md)"""
    k = int((hi - lo).max()) if len(lo) else 0
    if k == 0:
        return xp.zeros(a.shape[:-1] + (len(lo),), dtype=a.dtype)
    pos = lo[:, None] + np.arange(k)
    inside = pos < hi[:, None]
    win = xp.take(a, xp.asarray(np.minimum(pos, hi[:, None] - 1)), axis=-1)       # (..., len(lo), k)
    if not inside.all():
        win = xp.where(xp.asarray(inside), win, a.dtype.type(0))
    return win.sum(axis=-1)


def _separable_sums(xp, a, rows, cols):
    """_range_sums along W with cols = (lo, hi), then along H with rows."""
    a = _range_sums(xp, a, *cols)
    return xp.ascontiguousarray(_range_sums(xp, a.swapaxes(-1, -2), *rows).swapaxes(-1, -2))


def _host_windows(h, w, size):
    """Adaptive windows as host arrays: rows and cols (lo, hi), and each output's window area."""
    rows, cols = _bounds(np, h, size[0]), _bounds(np, w, size[1])
    return rows, cols, (rows[1] - rows[0])[:, None] * (cols[1] - cols[0])[None, :]


def _over_pixel(lo, hi, size):
    """For each of `size` pixels, the range [first, last + 1) of the windows [lo[i], hi[i]) that hold it (lo and hi
    both non-decreasing, as adaptive windows are)."""
    j = np.arange(size)
    return np.searchsorted(hi, j, side="right"), np.searchsorted(lo, j, side="right")


class AdaptiveAvgPool2d(Function):
    raw = True
    double = "lift"

    @staticmethod
    @float32_inside
    def forward(ctx, x, size):
        xp = ctx.be.xp
        h, w = x.shape[-2:]
        ah, aw = _avg_matrix(xp, h, size[0], x.dtype), _avg_matrix(xp, w, size[1], x.dtype)
        ctx.save_for_backward(ah, aw)
        out = xp.ascontiguousarray(xp.matmul(xp.matmul(ah, x), aw.T))
        # any NaN or inf in x makes NaN or inf of some output (0 * inf is NaN): then, and only then, the exact sums
        if not xp.isfinite(out).all():
            rows, cols, area = _host_windows(h, w, size)
            out = _separable_sums(xp, x, rows, cols) / xp.asarray(area.astype(x.dtype))
        return out

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        ah, aw = ctx.saved_tensors
        xp = ctx.be.xp
        if xp.isfinite(grad).all():     # else an inf or NaN would reach every pixel through 0 * inf
            return xp.matmul(xp.matmul(ah.T, grad), aw), None
        h, w = ah.shape[1], aw.shape[1]
        rows, cols, area = _host_windows(h, w, (ah.shape[0], aw.shape[0]))
        g = grad / xp.asarray(area.astype(grad.dtype))
        return _separable_sums(xp, g, _over_pixel(*rows, h), _over_pixel(*cols, w)), None


def adaptive_avg_pool2d(input, output_size):
    fn = "adaptive_avg_pool2d"
    _check_input(fn, input, f"{fn}(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{fn}: not implemented for dtype {input.dtype.name} (floating-point tensors only)")
    return AdaptiveAvgPool2d.apply(input, _adaptive_size(fn, input, output_size))


@accepts_unbatched(4)
class AdaptiveMaxPool2d(Function):
    raw = True
    double = "lift"

    @staticmethod
    @float32_inside
    def forward(ctx, x, size):
        xp = ctx.be.xp
        n, c, h, w = x.shape
        (h0, h1), (w0, w1) = _bounds(xp, h, size[0]), _bounds(xp, w, size[1])
        kh, kw = int((h1 - h0).max()), int((w1 - w0).max())
        # window pixel coordinates, a short window repeating its last pixel (a later duplicate never wins a tie)
        rows = xp.minimum(h0[:, None] + xp.arange(kh)[None, :], h1[:, None] - 1)      # (OH, KH)
        cols = xp.minimum(w0[:, None] + xp.arange(kw)[None, :], w1[:, None] - 1)      # (OW, KW)
        win = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]                  # (N, C, OH, KH, OW, KW)
        win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, size[0], size[1], kh * kw)
        if x.dtype.kind == "f":   # PyTorch's scan: first strict maximum, but the last NaN if there is one
            nan = xp.isnan(win)
            tap = xp.where(nan.any(-1), kh * kw - 1 - xp.argmax(nan[..., ::-1], axis=-1), xp.argmax(win, axis=-1))
        else:
            tap = xp.argmax(win, axis=-1)
        out = xp.take_along_axis(win, tap[..., None], -1)[..., 0]
        idx = rows[xp.arange(size[0])[:, None], tap // kw] * w + cols[xp.arange(size[1]), tap % kw]
        ctx.save_for_backward(idx)
        ctx.x_shape = x.shape
        return xp.ascontiguousarray(out), idx.astype(xp.int64)

    @staticmethod
    @float32_inside
    def backward(ctx, grad):
        idx, = ctx.saved_tensors
        return ctx.be.max_pool2d_backward(grad, idx, ctx.x_shape), None


def adaptive_max_pool2d(input, output_size, return_indices=False):
    fn = "adaptive_max_pool2d"
    _check_input(fn, input, f"{fn}(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    size = _adaptive_size(fn, input, output_size)
    if min(size) <= 0:
        raise RuntimeError(f"{fn}(): output_size must be positive, but got {list(size)}")
    out, idx = AdaptiveMaxPool2d.apply(input, size)
    return (out, idx) if return_indices else out
