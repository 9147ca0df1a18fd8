"""Reference kernels (im2col / col2im, direct convolution, pooling, ReLU, the SGD step), written only against an
array module `xp`.

They are the oracle the Numba kernels are tested against, and the CUDA backend binds them to CuPy:
each kernel takes the contract's positional arguments (see backend_cpu's kernels section) plus the
keyword-only `xp` and `add_at` (default NumPy), so `functools.partial(im2col, xp=cupy, add_at=...)`
gives the backend function. Windows come from strided views over a padded copy; nothing loops over
batch or pixels in Python (only over the kernel's KH*KW taps).

Column layout: (C, KH, KW, N, OH, OW), i.e. a (C*KH*KW, N*OH*OW) matrix whose rows split by group
into contiguous blocks, so one GEMM per group reads it without a transpose.
"""
import numpy as np


def _np_add_at(a, idx, v):
    np.add.at(a, idx, v)


def conv_out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pool_out_size(size, k, s, p, d, ceil_mode):
    # PyTorch's rule: with ceil_mode the last window must start inside the input or the left padding
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _windows(xpad, kh, kw, sh, sw, dh, dw, oh, ow, xp):
    """Strided view (N, C, OH, OW, KH, KW) of the windows of a padded (N, C, Hp, Wp) array."""
    sn, sc, sy, sx = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, (xpad.shape[0], xpad.shape[1], oh, ow, kh, kw), (sn, sc, sy * sh, sx * sw, sy * dh, sx * dw))


def _pad(x, ph, pw, need_h, need_w, value, xp):
    """Pad (N, C, H, W) by ph/pw on top/left and enough on bottom/right to hold need_h x need_w."""
    n, c, h, w = x.shape
    out = xp.full((n, c, max(need_h, h + ph), max(need_w, w + pw)), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, *, xp=np, add_at=_np_add_at):
    n, c, h, w = x.shape
    oh, ow = conv_out_size(h, kh, sh, ph, dh), conv_out_size(w, kw, sw, pw, dw)
    xpad = _pad(x, ph, pw, h + 2 * ph, w + 2 * pw, 0, xp)
    win = _windows(xpad, kh, kw, sh, sw, dh, dw, oh, ow, xp)          # (N, C, OH, OW, KH, KW)
    return xp.ascontiguousarray(win.transpose(1, 4, 5, 0, 2, 3))      # (C, KH, KW, N, OH, OW)


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw, dh, dw, *, xp=np, add_at=_np_add_at):
    n, c, h, w = x_shape
    oh, ow = cols.shape[4], cols.shape[5]
    out = xp.zeros((n, c, h + 2 * ph + sh, w + 2 * pw + sw), dtype=cols.dtype)
    # one tap's positions never collide with each other, so a plain slice-add per tap is exact
    for i in range(kh):
        for j in range(kw):
            out[:, :, i * dh:i * dh + sh * oh:sh, j * dw:j * dw + sw * ow:sw] += cols[:, i, j].transpose(1, 0, 2, 3)
    return xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])


def conv2d(x, w, b, ph, pw, dh, dw, *, xp=np, add_at=_np_add_at):
    """Stride-1 convolution through im2col: the reference for a backend's direct convolution (simd_kernels.py)."""
    kh, kw = w.shape[2], w.shape[3]
    cols = im2col(x, kh, kw, 1, 1, ph, pw, dh, dw, xp=xp)
    out = xp.tensordot(w, cols, axes=3).transpose(1, 0, 2, 3)              # (N, M, OH, OW)
    return xp.ascontiguousarray(out if b is None else out + b[:, None, None])


def conv2d_weight_grad(x, grad, kh, kw, ph, pw, dh, dw, *, xp=np, add_at=_np_add_at):
    """The weight gradient (M, C, KH, KW) of a stride-1 conv2d for the output gradient grad (N, M, OH, OW)."""
    cols = im2col(x, kh, kw, 1, 1, ph, pw, dh, dw, xp=xp)                  # (C, KH, KW, N, OH, OW)
    return xp.ascontiguousarray(xp.tensordot(grad.transpose(1, 0, 2, 3), cols, axes=([1, 2, 3], [3, 4, 5])))


def relu(x, *, xp=np, add_at=_np_add_at):
    """PyTorch's: -0.0 and NaN pass through."""
    return xp.maximum(x, 0) if x.dtype.kind != "f" else xp.where(x < 0, x.dtype.type(0), x)


def relu_backward(grad, out, *, xp=np, add_at=_np_add_at):
    """PyTorch's threshold rule: the gradient passes unless out <= 0 (so a NaN output passes it)."""
    return xp.where(out <= 0, grad.dtype.type(0), grad)


def sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, *, xp=np, add_at=_np_add_at):
    """One SGD step on w given its momentum buffer, both in place; PyTorch's update and rounding, op for op."""
    d = -g if maximize else g
    if weight_decay != 0:
        d = w * weight_decay + d
    buf *= momentum
    buf += d if dampening == 0 else d * (1 - dampening)
    w -= (d + buf * momentum if nesterov else buf) * lr


def _tap_positions(o, k, s, p, d, xp):
    """Input coordinate of every (output, tap) pair: (O, K) int64."""
    return (xp.arange(o)[:, None] * s - p + xp.arange(k)[None, :] * d).astype(xp.int64)


def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode, *, xp=np, add_at=_np_add_at):
    n, c, h, w = x.shape
    oh, ow = pool_out_size(h, kh, sh, ph, dh, ceil_mode), pool_out_size(w, kw, sw, pw, dw, ceil_mode)
    xpad = _pad(x, ph, pw, (oh - 1) * sh + (kh - 1) * dh + 1, (ow - 1) * sw + (kw - 1) * dw + 1, -xp.inf, xp)
    win = _windows(xpad, kh, kw, sh, sw, dh, dw, oh, ow, xp).reshape(n, c, oh, ow, kh * kw)
    # PyTorch scans the window row-major keeping the first strict maximum, except that every NaN wins:
    # so the first maximum when no NaN, the last NaN otherwise
    nan = xp.isnan(win)
    first_max = xp.argmax(win, axis=-1)
    last_nan = kh * kw - 1 - xp.argmax(nan[..., ::-1], axis=-1)
    tap = xp.where(nan.any(-1), last_nan, first_max)
    out = xp.take_along_axis(win, tap[..., None], -1)[..., 0]
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
    idx, g = idx.reshape(n * c, -1), grad_out.reshape(n * c, -1)
    keep = idx < h * w                        # an all-padding window points outside the plane
    planes = xp.broadcast_to(xp.arange(n * c)[:, None], idx.shape)
    add_at(gx, (planes[keep], idx[keep]), g[keep])
    return gx.reshape(n, c, h, w)


def _avg_divisor(h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override, dtype, xp):
    if divisor_override is not None:
        return xp.full((oh, ow), divisor_override, dtype=dtype)

    def extent(size, o, k, s, p):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, size + p)          # a ceil_mode window may run past the padding too
        if count_include_pad:
            return end - start
        return xp.minimum(end, size) - xp.maximum(start, 0)
    return (extent(h, oh, kh, sh, ph)[:, None] * extent(w, ow, kw, sw, pw)[None, :]).astype(dtype)


def avg_pool2d(x, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad, divisor_override=None, *,
               xp=np, add_at=_np_add_at):
    n, c, h, w = x.shape
    oh, ow = pool_out_size(h, kh, sh, ph, 1, ceil_mode), pool_out_size(w, kw, sw, pw, 1, ceil_mode)
    xpad = _pad(x, ph, pw, (oh - 1) * sh + kh, (ow - 1) * sw + kw, 0, xp)
    s = _windows(xpad, kh, kw, sh, sw, 1, 1, oh, ow, xp).sum(axis=(-2, -1))
    return xp.ascontiguousarray(s / _avg_divisor(h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad,
                                                  divisor_override, x.dtype, xp))


def avg_pool2d_backward(grad_out, x_shape, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad,
                        divisor_override=None, *, xp=np, add_at=_np_add_at):
    n, c, h, w = x_shape
    oh, ow = grad_out.shape[2], grad_out.shape[3]
    g = grad_out / _avg_divisor(h, w, oh, ow, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override,
                                grad_out.dtype, xp)
    out = xp.zeros((n, c, max(h + ph, (oh - 1) * sh + kh) + ph, max(w + pw, (ow - 1) * sw + kw) + pw),
                   dtype=grad_out.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i:i + sh * oh:sh, j:j + sw * ow:sw] += g
    return xp.ascontiguousarray(out[:, :, ph:ph + h, pw:pw + w])
