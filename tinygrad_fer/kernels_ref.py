"""Reference kernels (im2col / col2im, convolution, pooling, ReLU, the SGD step), written only against an array
module `xp` (NumPy or CuPy).

They are backend_base.Backend's default kernels (the base class calls them with its own xp) and so the oracle every
backend's faster override is tested against. Windows come from strided views over a padded copy; nothing loops over
batch or pixels in Python (only over the kernel's KH*KW taps). Geometry comes as a window.Window2d.

Column layout: (C, KH, KW, N, OH, OW), i.e. a (C*KH*KW, N*OH*OW) matrix whose rows split by group into contiguous
blocks, so one GEMM per group reads it without a transpose.
"""
import math

import numpy as np


def _np_add_at(a, idx, v):
    np.add.at(a, idx, v)


def _windows(xpad, win, oh, ow, xp):
    """Strided view (N, C, OH, OW, KH, KW) of the windows of a padded (N, C, Hp, Wp) array."""
    sn, sc, sy, sx = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, (xpad.shape[0], xpad.shape[1], oh, ow, win.kh, win.kw),
        (sn, sc, sy * win.sh, sx * win.sw, sy * win.dh, sx * win.dw))


def _pad(x, ph, pw, need_h, need_w, value, xp):
    """Pad (N, C, H, W) by ph/pw on top/left and enough on bottom/right to hold need_h x need_w."""
    n, c, h, w = x.shape
    out = xp.full((n, c, max(need_h, h + ph), max(need_w, w + pw)), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def im2col(x, win, *, xp=np):
    n, c, h, w = x.shape
    oh, ow = win.out_size(h, w)
    xpad = _pad(x, win.ph, win.pw, h + 2 * win.ph, w + 2 * win.pw, 0, xp)
    cols = _windows(xpad, win, oh, ow, xp)                            # (N, C, OH, OW, KH, KW)
    return xp.ascontiguousarray(cols.transpose(1, 4, 5, 0, 2, 3))     # (C, KH, KW, N, OH, OW)


def col2im(cols, x_shape, win, *, xp=np):
    n, c, h, w = x_shape
    kh, kw, sh, sw, ph, pw, dh, dw = win
    oh, ow = cols.shape[4], cols.shape[5]
    out = xp.zeros((n, c, h + 2 * ph + sh, w + 2 * pw + sw), dtype=cols.dtype)
    # one tap's positions never collide with each other, so a plain slice-add per tap is exact
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * oh:sh, j * dw:j * dw + sw * ow:sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])


def conv2d(x, w, b, win, *, xp=np):
    """One-group convolution (win's kernel size is w's) through im2col: the reference for a backend's direct
    convolution (simd_kernels.py)."""
    cols = im2col(x, win, xp=xp)
    out = xp.tensordot(w, cols, axes=3).transpose(1, 0, 2, 3)              # (N, M, OH, OW)
    return xp.ascontiguousarray(out if b is None else out + b[:, None, None])


def conv2d_weight_grad(x, grad, win, *, xp=np):
    """The weight gradient (M, C, KH, KW) of conv2d(x, w, b, win) for the output gradient grad (N, M, OH, OW)."""
    cols = im2col(x, win, xp=xp)                                           # (C, KH, KW, N, OH, OW)
    return xp.ascontiguousarray(xp.tensordot(grad.transpose(1, 0, 2, 3), cols, axes=([1, 2, 3], [3, 4, 5])))


def erf(x, complement=False, *, xp=np):
    """erf(x), or erfc(x) with complement: math's (exact to float64 rounding) per element, or cupyx's."""
    if xp is not np:
        from cupyx.scipy import special
        return special.erfc(x) if complement else special.erf(x)
    f = math.erfc if complement else math.erf
    return np.asarray(np.frompyfunc(f, 1, 1)(x), dtype=x.dtype) if x.size else x.copy()


def sigmoid(x, *, xp=np):
    """1 / (1 + e^-x), split by sign so exp never overflows."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(grad, out):
    return grad * out * (1 - out)


def relu(x, *, xp=np):
    """PyTorch's: -0.0 and NaN pass through."""
    return xp.maximum(x, 0) if x.dtype.kind != "f" else xp.where(x < 0, x.dtype.type(0), x)


def relu_backward(grad, out, *, xp=np):
    """PyTorch's threshold rule: the gradient passes unless out <= 0 (so a NaN output passes it)."""
    return xp.where(out <= 0, grad.dtype.type(0), grad)


def batch_norm_stats(x3, *, xp=np):
    """Per-channel mean and biased variance of x3 (N, C, S), accumulated in float64, returned in x3's dtype."""
    x64 = x3.astype(xp.float64)
    mean = x64.mean(axis=(0, 2))
    var = ((x64 - mean[:, None]) ** 2).mean(axis=(0, 2))
    return mean.astype(x3.dtype), var.astype(x3.dtype)


def batch_norm_apply(x3, mean, invstd, w, b, *, xp=np):
    """(x - mean) * invstd * w + b per channel of x3 (N, C, S), as one scale and shift."""
    scale = invstd * w
    return x3 * scale[:, None] + (b - mean * scale)[:, None]


def batch_norm_backward(g3, x3, mean, invstd, w, training, need_x, *, xp=np):
    """BatchNorm's gradients (gx, gw, gb) over (N, C, S): gb = sum g, gw = sum g * xhat, and with batch statistics
    gx = w invstd (g - gb/m - xhat gw/m) (else w invstd g). Sums in float64."""
    xhat = (x3 - mean[:, None]) * invstd[:, None]
    gb = g3.astype(xp.float64).sum(axis=(0, 2))
    gw = (g3.astype(xp.float64) * xhat).sum(axis=(0, 2))
    gx = None
    if need_x:
        scale = (invstd * w)[:, None]
        if training:
            m = g3.shape[0] * g3.shape[2]
            gx = scale * (g3 - (gb / m).astype(g3.dtype)[:, None] - xhat * (gw / m).astype(g3.dtype)[:, None])
        else:
            gx = g3 * scale
        gx = gx.astype(g3.dtype, copy=False)
    return gx, gw.astype(g3.dtype), gb.astype(g3.dtype)


def sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, *, xp=np):
    """One SGD step on w given its momentum buffer, both in place; PyTorch's update and rounding, op for op."""
    d = -g if maximize else g
    if weight_decay != 0:
        d = w * weight_decay + d
    buf *= momentum
    buf += d if dampening == 0 else d * (1 - dampening)
    w -= (d + buf * momentum if nesterov else buf) * lr


def lerp_(a, b, w, tmp, *, xp=np):
    """a <- a + w (b - a) in place, with ATen's two-branch formula (w < 0.5 or not) so the rounding is PyTorch's;
    tmp: a work array shaped like a."""
    xp.subtract(b, a, out=tmp)
    if w < 0.5:
        tmp *= w
        a += tmp
    else:
        tmp *= 1 - w
        xp.subtract(b, tmp, out=a)


def adam_moments_(m, v, d, beta1, beta2, tmp, *, xp=np):
    """m <- lerp(m, d, 1 - beta1), v <- beta2 v + (1 - beta2) d^2, in place, rounded as PyTorch's Adam family."""
    lerp_(m, d, 1 - beta1, tmp, xp=xp)
    v *= beta2
    xp.multiply(d, 1 - beta2, out=tmp)
    tmp *= d
    v += tmp


def adam_(w, d, m, v, vmax, lr, beta1, beta2, eps, step, *, xp=np):
    """One Adam step on w (in place) from its update gradient d (maximize and L2 decay already applied), the moments m
    and v and, with amsgrad, the running maximum vmax (None otherwise), all in place; PyTorch's update and rounding,
    op for op."""
    tmp = xp.empty_like(w)
    adam_moments_(m, v, d, beta1, beta2, tmp, xp=xp)
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)
        v = vmax
    xp.sqrt(v, out=tmp)
    tmp /= (1 - beta2 ** step) ** 0.5
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= -(lr / (1 - beta1 ** step))
    w += tmp


def _tap_positions(o, k, s, p, d, xp):
    """Input coordinate of every (output, tap) pair: (O, K) int64."""
    return (xp.arange(o)[:, None] * s - p + xp.arange(k)[None, :] * d).astype(xp.int64)


def max_pool2d(x, win, ceil_mode, *, xp=np):
    n, c, h, w = x.shape
    kh, kw, sh, sw, ph, pw, dh, dw = win
    oh, ow = win.out_size(h, w, ceil_mode)
    xpad = _pad(x, ph, pw, *win.span(oh, ow), -xp.inf, xp)
    taps = _windows(xpad, win, oh, ow, xp).reshape(n, c, oh, ow, kh * kw)
    # PyTorch scans the window row-major keeping the first strict maximum, except that every NaN wins:
    # so the first maximum when no NaN, the last NaN otherwise
    nan = xp.isnan(taps)
    first_max = xp.argmax(taps, axis=-1)
    last_nan = kh * kw - 1 - xp.argmax(nan[..., ::-1], axis=-1)
    tap = xp.where(nan.any(-1), last_nan, first_max)
    out = xp.take_along_axis(taps, tap[..., None], -1)[..., 0]
    ys, xs = _tap_positions(oh, kh, sh, ph, dh, xp), _tap_positions(ow, kw, sw, pw, dw, xp)
    # a window of only -inf keeps PyTorch's starting index: its first in-bounds tap
    # (a window of only padding gets the same start, past the plane's end, as PyTorch gives it)
    first_y = xp.argmax(ys >= 0, axis=1)
    first_x = xp.argmax(xs >= 0, axis=1)
    all_ninf = out == -xp.inf
    ti = xp.where(all_ninf, first_y[:, None], tap // kw)
    tj = xp.where(all_ninf, first_x[None, :], tap % kw)
    idx = ys[xp.arange(oh)[:, None], ti] * w + xs[xp.arange(ow), tj]
    return xp.ascontiguousarray(out), idx


def max_pool2d_backward(grad_out, idx, x_shape, *, xp=np, add_at=_np_add_at):
    n, c, h, w = x_shape
    gx = xp.zeros((n * c, h * w), dtype=grad_out.dtype)
    ohw = idx.shape[2] * idx.shape[3]            # not -1: an empty batch leaves it undefined
    idx, g = idx.reshape(n * c, ohw), grad_out.reshape(n * c, ohw)
    keep = idx < h * w                        # an all-padding window points outside the plane
    planes = xp.broadcast_to(xp.arange(n * c)[:, None], idx.shape)
    add_at(gx, (planes[keep], idx[keep]), g[keep])
    return gx.reshape(n, c, h, w)


def _avg_divisor(h, w, oh, ow, win, count_include_pad, divisor_override, dtype, xp):
    if divisor_override is not None:
        return xp.full((oh, ow), divisor_override, dtype=dtype)

    def extent(size, o, k, s, p):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, size + p)          # a ceil_mode window may run past the padding too
        if count_include_pad:
            return end - start
        return xp.minimum(end, size) - xp.maximum(start, 0)
    return (extent(h, oh, win.kh, win.sh, win.ph)[:, None] * extent(w, ow, win.kw, win.sw, win.pw)[None, :]) \
        .astype(dtype)


def avg_pool2d(x, win, ceil_mode, count_include_pad, divisor_override=None, *, xp=np):
    """win's dilation is 1 (PyTorch's avg_pool2d has none)."""
    n, c, h, w = x.shape
    oh, ow = win.out_size(h, w, ceil_mode)
    xpad = _pad(x, win.ph, win.pw, *win.span(oh, ow), 0, xp)
    s = _windows(xpad, win, oh, ow, xp).sum(axis=(-2, -1))
    return xp.ascontiguousarray(s / _avg_divisor(h, w, oh, ow, win, count_include_pad, divisor_override, x.dtype, xp))


def avg_pool2d_backward(grad_out, x_shape, win, ceil_mode, count_include_pad, divisor_override=None, *, xp=np):
    n, c, h, w = x_shape
    kh, kw, sh, sw, ph, pw = win[:6]
    oh, ow = grad_out.shape[2], grad_out.shape[3]
    g = grad_out / _avg_divisor(h, w, oh, ow, win, count_include_pad, divisor_override, grad_out.dtype, xp)
    span_h, span_w = win.span(oh, ow)
    out = xp.zeros((n, c, max(h + ph, span_h) + ph, max(w + pw, span_w) + pw), dtype=grad_out.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += g
    return xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])
