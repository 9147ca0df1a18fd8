"""CPU backend: NumPy storage, hot kernels in Numba.

The backend contract (what every backend module provides; ops reach arrays only through it):

    name            'cpu' or 'cuda'
    xp              the array module (numpy here, cupy on the GPU): every op is written against it
    asarray(a, dt)  array on this backend from anything array-like (a copy only when needed)
    to_numpy(a)     host NumPy array (no copy on the CPU)
    rng             the backend's random generator (a numpy.random.Generator-like object)
    seed(n)         re-seed rng
    add_at(a, idx, v)  unbuffered scatter-add (np.add.at does not dispatch to CuPy)
    block_bytes     how many bytes of a convolution's columns ops make at a time (0: all at once)
    direct_conv(x, w, stride, padding, dilation, groups)  the backend's direct-convolution kernels for this case
                    (conv2d(x, w, b, ph, pw, dh, dw) and conv2d_weight_grad(x, grad, kh, kw, ph, pw, dh, dw), stride
                    1, one group, as in kernels_ref) or None: ops then use im2col + GEMM
    kernels         im2col / col2im / pooling / relu / the SGD step: see the kernels section below and kernels_ref.py

A new backend implements these names and nothing else; no op module changes for it.
"""
import ctypes
import os
import sys

import numpy as np

name = "cpu"
xp = np


def asarray(a, dtype=None):
    return np.asarray(a, dtype=dtype)


# a convolution's columns made and used ~3 MB at a time stay in cache (L2 0.5-1 MB per core, L3 tens of MB); blocks
# of 2-3 MB measured fastest on the CIFAR net's training step (see ops.conv._image_blocks)
block_bytes = 3 << 20


def direct_conv(x, w, stride, padding, dilation, groups):
    # float32 only (what nets train in; float64 keeps the GEMM path); the input gradient is a convolution of the
    # output gradient padded by dilation * (K - 1) - padding, so that must not be negative, and its weights must be
    # finite: that padding times an infinite or NaN weight would be NaN where col2im (and PyTorch) add nothing
    # (checking costs ~4 us on a 64x32x5x5 weight); windows under 3x3 would waste most of the weight gradient's
    # 5-tap groups (and 1x1 is a GEMM anyway)
    if x.dtype != np.float32 or w.dtype != np.float32 or tuple(stride) != (1, 1) or groups != 1 \
            or w.shape[2] * w.shape[3] < 9 \
            or any(p > d * (k - 1) for p, d, k in zip(padding, dilation, w.shape[2:])) \
            or not np.isfinite(w).all():
        return None
    from . import simd_kernels      # imports Numba: not with the package
    return simd_kernels


def to_numpy(a):
    return a


# Numba's OpenMP workers and OpenBLAS's threads take turns on the same cores; spinning OpenMP workers starve the
# BLAS threads between calls (a training step measured 134 ms spinning, ~75 ms passive). Set before any OpenMP
# runtime starts its pool; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

rng = np.random.default_rng()


def _reuse_freed_memory():
    """Serve large arrays from the heap and keep freed memory there (glibc's mallopt).

    A training step allocates and frees the same large temporaries (im2col columns, gradients) every time; by
    default glibc maps each one fresh and returns it on free, so every step pays page faults on all of them
    (about a quarter of a CIFAR-net step at batch 50). TINYGRAD_FER_MALLOC=0 leaves the allocator alone.
    """
    if os.environ.get("TINYGRAD_FER_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-4, 0)  # M_MMAP_MAX: no mmap for large blocks
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD: keep up to 1 GiB of freed heap for reuse
    except (OSError, AttributeError):
        pass  # not glibc: its allocator's defaults stand


_reuse_freed_memory()


def new_rng(seed=None):
    return np.random.default_rng(seed)


def seed(n):
    global rng
    rng = np.random.default_rng(n)


def data_ptr(a):
    return a.ctypes.data


def add_at(a, idx, v):
    np.add.at(a, idx, v)


# ---- kernels (im2col / col2im / pooling) -------------------------------------------------------
# Contract (same names and positional signatures in kernels_ref.py, the NumPy/CuPy oracle):
#   im2col(x, kh, kw, sh, sw, ph, pw, dh, dw) -> cols (C, KH, KW, N, OH, OW), contiguous: a
#       (C*KH*KW, N*OH*OW) matrix whose rows split by group into contiguous blocks, so forward is
#       one GEMM per group (W_g @ cols_g), the weight gradient one GEMM with cols_g.T (a BLAS
#       transpose flag, no copy) and only the small (M, N*OH*OW) output is ever transposed.
#       (Measured on conv2 of the CIFAR net: one (32x400)@(400x11250) SGEMM ran as fast as or faster than the
#       per-image batched product a (N, C*KH*KW, OH*OW) layout needs, and the weight gradient over that layout
#       would need an 18 MB transpose or a sum of N small GEMMs.)
#   col2im(cols, x_shape, kh, kw, sh, sw, ph, pw, dh, dw) -> (N, C, H, W): adjoint of im2col.
#   max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode) -> (out, idx); idx int64, flat into
#       H*W of its plane; PyTorch's choice: first maximum in row-major window order, the last NaN
#       if any, padding is -inf (a window of only -inf points at its first in-bounds pixel; one
#       made only of padding, possible with dilation, gives -inf and PyTorch's out-of-plane index).
#   max_pool2d_backward(grad_out, idx, x_shape) -> grad_x (also serves adaptive max-pool; indices
#       outside the plane are skipped).
#   relu(x) -> max(x, 0) with PyTorch's -0.0 and NaN; relu_backward(grad, out) -> grad where out > 0 or NaN, else 0.
#   sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize): an SGD step with a momentum
#       buffer, in place on w and buf (optim.SGD after its first step).
#   avg_pool2d(x, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad, divisor_override=None): each window's
#       sum starts at +0.0, as PyTorch's, so NaN and inf reach only their windows and an all -0.0 window gives +0.0
#   avg_pool2d_backward(grad_out, x_shape, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad,
#                       divisor_override=None) -> grad_x
# Inputs may have any strides; outputs are new contiguous arrays of the input's dtype. The Numba
# kernels parallelise over planes or column rows so each thread owns what it writes (no atomics,
# deterministic sums). Numba itself is imported on the first kernel call, not with the package.
from tinygrad_fer import kernels_ref  # noqa: E402
from tinygrad_fer.kernels_ref import conv_out_size, pool_out_size  # noqa: E402

prange = range      # rebound to numba.prange before the first compilation
_helpers = []       # names of the _inline functions, rebound to their compiled versions at the same moment


def _inline(fn):
    """A small function the kernels share, compiled into each of them (Numba inline='always') when the first kernel
    compiles; until then the name holds the plain Python function."""
    _helpers.append(fn.__name__)
    return fn


class _lazy_njit:
    """Compile the wrapped function with Numba on its first call (keeps `import tinygrad_fer` fast)."""

    def __init__(self, fn):
        self.fn, self.jitted = fn, None

    def __call__(self, *args):
        if self.jitted is None:
            import numba
            compile_helpers()
            self.jitted = numba.njit(cache=True, parallel=True, nogil=True)(self.fn)
        return self.jitted(*args)


def compile_helpers():
    """Rebind prange and the _inline helpers to their Numba versions, once (simd_kernels calls it too, to use them)."""
    g = globals()
    if g["prange"] is range:
        import numba
        g["prange"] = numba.prange
        for name in _helpers:
            g[name] = numba.njit(inline="always")(g[name])


# Index arithmetic in these kernels goes through _u (uint64): Numba adds a negative-index wrap-around test to every
# access with a signed index, which blocks LLVM's vectorisation; an unsigned index has none (all indices here are
# in bounds and non-negative). Measured 1.8x (im2col) and 2.2-2.7x (col2im) on the CIFAR net's shapes.
_u = np.uint64


@_inline
def _window_taps(start, d, k, size):
    """The taps [t0, t1) of a k-tap window with step d, its tap 0 at input coordinate start, that land inside
    [0, size). t0 may pass k (then t1 == t0): a max-pool window of only padding keeps PyTorch's index from it."""
    t0 = 0 if start >= 0 else (d - 1 - start) // d
    return t0, (max(t0, min(k, (size - 1 - start) // d + 1)) if size - 1 - start >= 0 else t0)


@_inline
def _tap_range(off, sw, w_, ow_):
    """The outputs [lo, hi) of a row of ow_ whose tap, at input column ow * sw + off, lands inside the w_ columns."""
    lo, hi = _window_taps(off, sw, ow_, w_)      # the outputs of one tap are the taps of a window, stepping sw
    return min(lo, ow_), min(hi, ow_)


@_inline
def _avg_window(o, s, k, p, size):
    """Output o's window along one axis: [lo, hi) including padding, and [a, b) clipped to the input."""
    lo = o * s - p
    hi = min(lo + k, size + p)
    return lo, hi, max(lo, 0), min(hi, size)


@_inline
def _avg_divisor(divisor, include_pad, y0, y1, ya, yb, x0, x1, xa, xb):
    if divisor != 0:
        return divisor
    if include_pad:
        return (y1 - y0) * (x1 - x0)
    return (yb - ya) * (xb - xa)


@_lazy_njit
def _im2col_nb(x, cols, kh, kw, sh, sw, ph, pw, dh, dw):
    n_, c_, h_, w_ = x.shape
    oh_, ow_ = cols.shape[4], cols.shape[5]
    # flat indices over contiguous arrays: 1.5-2x faster than 6-D indexing (measured on the CIFAR net's shapes)
    xf, cf = x.reshape(x.size), cols.reshape(cols.size)
    # one task per (column row, image): 75 or 400 rows alone split unevenly over the threads
    for t in prange(c_ * kh * kw * n_):
        r, n = t // n_, t % n_
        c, i, j = r // (kh * kw), (r // kw) % kh, r % kw
        off = j * dw - pw
        lo, hi = _tap_range(off, sw, w_, ow_)
        dst = t * oh_ * ow_
        src_n = (n * c_ + c) * h_ * w_ + off
        for oh in range(oh_):
            ih = oh * sh - ph + i * dh
            if ih < 0 or ih >= h_:
                for ow in range(ow_):
                    cf[_u(dst + ow)] = 0
            else:
                s = src_n + ih * w_
                for ow in range(lo):
                    cf[_u(dst + ow)] = 0
                if sw == 1:     # contiguous source: a vectorised copy
                    for ow in range(lo, hi):
                        cf[_u(dst + ow)] = xf[_u(s + ow)]
                else:
                    for ow in range(lo, hi):
                        cf[_u(dst + ow)] = xf[_u(s + ow * sw)]
                for ow in range(hi, ow_):
                    cf[_u(dst + ow)] = 0
            dst += ow_


@_lazy_njit
def _col2im_nb(cols, out, kh, kw, sh, sw, ph, pw, dh, dw):
    n_, c_, h_, w_ = out.shape
    oh_, ow_ = cols.shape[4], cols.shape[5]
    cf, of = cols.reshape(cols.size), out.reshape(out.size)
    # one task per (channel, block of images): its thread owns those output planes and adds every window over them
    # (a gather, no atomics), reading each cols[c, i, j] block front to back; per-plane tasks read 25 scattered
    # chunks instead (measured 1.0-1.3 vs 2.4-2.8 ms on the CIFAR net's second layer at batch 50)
    nb = 8
    nblk = (n_ + nb - 1) // nb
    for t in prange(c_ * nblk):
        c, b0 = t // nblk, (t % nblk) * nb
        b1 = min(n_, b0 + nb)
        for n in range(b0, b1):
            o0 = (n * c_ + c) * h_ * w_
            for q in range(h_ * w_):
                of[_u(o0 + q)] = 0
        for i in range(kh):
            for j in range(kw):
                off = j * dw - pw
                lo, hi = _tap_range(off, sw, w_, ow_)
                for n in range(b0, b1):
                    o0 = (n * c_ + c) * h_ * w_
                    src = (((c * kh + i) * kw + j) * n_ + n) * oh_ * ow_
                    for oh in range(oh_):
                        ih = oh * sh - ph + i * dh
                        if ih >= 0 and ih < h_:
                            d, s = o0 + ih * w_ + off, src + oh * ow_
                            if sw == 1:
                                for ow in range(lo, hi):
                                    of[_u(d + ow)] += cf[_u(s + ow)]
                            else:
                                for ow in range(lo, hi):
                                    of[_u(d + ow * sw)] += cf[_u(s + ow)]


@_lazy_njit
def _max_pool_nb(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    n_, c_, h_, w_ = x.shape
    oh_, ow_ = out.shape[2], out.shape[3]
    xf, of, jf = x.reshape(x.size), out.reshape(out.size), idx.reshape(idx.size)
    # in-bounds taps j0 <= j < j1 of each output column, computed once: an integer division per output cost
    # more than its max
    j0s, j1s = np.empty(ow_, np.int64), np.empty(ow_, np.int64)
    for ow in range(ow_):
        x0w = ow * sw - pw
        j0s[ow], j1s[ow] = _window_taps(x0w, dw, kw, w_)
    for p in prange(n_ * c_):
        x0 = p * h_ * w_
        # the NaN test lengthens the max's dependency chain 2-3x: pay it only on planes that hold a NaN (this
        # vectorised pre-scan costs a few percent of the max)
        nan = False
        for q in range(h_ * w_):
            v = xf[_u(x0 + q)]
            nan |= v != v
        for oh in range(oh_):
            y0 = oh * sh - ph
            i0, i1 = _window_taps(y0, dh, kh, h_)
            o = (p * oh_ + oh) * ow_
            for ow in range(ow_):
                x0w, j0, j1 = ow * sw - pw, j0s[ow], j1s[ow]
                a = (y0 + i0 * dh) * w_ + x0w + j0 * dw
                if i0 == i1 or j0 == j1:    # window all padding: -inf, and PyTorch's (out-of-plane) index
                    of[_u(o + ow)] = -np.inf
                    jf[_u(o + ow)] = a
                    continue
                # starting from the first in-bounds pixel is PyTorch's (-inf, first pixel) start
                best = xf[_u(x0 + a)]
                for i in range(i0, i1):
                    for j in range(j0, j1):
                        q = (y0 + i * dh) * w_ + x0w + j * dw
                        v = xf[_u(x0 + q)]
                        # strict max (the first maximum wins), every NaN wins; selects, not branches
                        c = (v > best) | (v != v) if nan else v > best
                        best = v if c else best
                        a = q if c else a
                of[_u(o + ow)] = best
                jf[_u(o + ow)] = a


@_lazy_njit
def _max_pool_bwd_nb(g, idx, gx):
    n_, c_ = g.shape[0], g.shape[1]
    for p in prange(n_ * c_):
        n, c = p // c_, p % c_
        for q in range(gx.shape[2]):
            gx[n, c, q] = 0
        for oh in range(g.shape[2]):
            for ow in range(g.shape[3]):
                q = idx[n, c, oh, ow]
                if q >= 0 and q < gx.shape[2]:     # an all-padding window points outside the plane
                    gx[n, c, q] += g[n, c, oh, ow]


@_lazy_njit
def _avg_pool_nb(x, out, kh, kw, sh, sw, ph, pw, include_pad, divisor, zero):
    # zero: +0.0 of x's dtype, PyTorch's start for every sum (an all -0.0 window averages to +0.0); a start taken from
    # the data (x[..., 0, 0] * 0) would be NaN for an infinite or NaN pixel and spread over the whole plane
    n_, c_, h_, w_ = x.shape
    oh_, ow_ = out.shape[2], out.shape[3]
    for p in prange(n_ * c_):
        n, c = p // c_, p % c_
        for oh in range(oh_):
            y0, y1, ya, yb = _avg_window(oh, sh, kh, ph, h_)
            for ow in range(ow_):
                x0, x1, xa, xb = _avg_window(ow, sw, kw, pw, w_)
                s = zero
                for y in range(ya, yb):
                    for xx in range(xa, xb):
                        s += x[n, c, y, xx]
                out[n, c, oh, ow] = s / _avg_divisor(divisor, include_pad, y0, y1, ya, yb, x0, x1, xa, xb)


@_lazy_njit
def _avg_pool_bwd_nb(g, gx, kh, kw, sh, sw, ph, pw, include_pad, divisor):
    n_, c_, h_, w_ = gx.shape
    oh_, ow_ = g.shape[2], g.shape[3]
    for p in prange(n_ * c_):
        n, c = p // c_, p % c_
        for y in range(h_):
            for xx in range(w_):
                gx[n, c, y, xx] = 0
        for oh in range(oh_):
            y0, y1, ya, yb = _avg_window(oh, sh, kh, ph, h_)
            for ow in range(ow_):
                x0, x1, xa, xb = _avg_window(ow, sw, kw, pw, w_)
                v = g[n, c, oh, ow] / _avg_divisor(divisor, include_pad, y0, y1, ya, yb, x0, x1, xa, xb)
                for y in range(ya, yb):
                    for xx in range(xa, xb):
                        gx[n, c, y, xx] += v


@_lazy_njit
def _relu_nb(x, out):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for i in prange(xf.size):
        v = xf[i]
        of[i] = 0 if v < 0 else v


@_lazy_njit
def _relu_backward_nb(g, out, gx):
    gf, of, xf = g.reshape(g.size), out.reshape(out.size), gx.reshape(gx.size)
    for i in prange(gf.size):
        xf[i] = 0 if of[i] <= 0 else gf[i]


@_lazy_njit
def _sgd_momentum_nb(w, g, buf, lr, momentum, damp1, wd, dampening, nesterov, maximize):
    # kernels_ref.sgd_momentum_'s arithmetic in one pass, each operation rounded as there (no fused multiply-adds)
    wf, gf, bf = w.reshape(w.size), g.reshape(g.size), buf.reshape(buf.size)
    for i in prange(wf.size):
        d = -gf[i] if maximize else gf[i]
        if wd != 0:
            d = wf[i] * wd + d
        b = bf[i] * momentum + (d * damp1 if dampening else d)
        bf[i] = b
        wf[i] -= (d + b * momentum if nesterov else b) * lr


# elements below which an elementwise kernel runs on the calling thread alone: waking the other OpenMP workers costs
# ~10-15 us a call with 2 threads (ReLU on 16 to 16,384 floats: 18 us parallel, 8 us on one thread)
_PARALLEL_MIN = 1 << 15
_FLOATS = (np.float32, np.float64)     # the dtypes the elementwise kernels are compiled for; others use kernels_ref


def _elementwise(kernel, size, *args):
    if size >= _PARALLEL_MIN:
        return kernel(*args)
    import numba        # loaded already: kernel compiles on its first call
    n = numba.get_num_threads()
    numba.set_num_threads(1)     # this thread's setting only
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(n)


def _c(a):
    # one compiled specialisation per dtype: strided inputs (rare, cheap to copy) are made contiguous
    return np.ascontiguousarray(a)


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    n, c, h, w = x.shape
    oh, ow = conv_out_size(h, kh, sh, ph, dh), conv_out_size(w, kw, sw, pw, dw)
    cols = np.empty((c, kh, kw, n, oh, ow), dtype=x.dtype)
    _im2col_nb(_c(x), cols, kh, kw, sh, sw, ph, pw, dh, dw)
    return cols


def col2im(cols, x_shape, kh, kw, sh, sw, ph, pw, dh, dw):
    out = np.empty(tuple(x_shape), dtype=cols.dtype)
    _col2im_nb(_c(cols), out, kh, kw, sh, sw, ph, pw, dh, dw)
    return out


def max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode):
    n, c, h, w = x.shape
    if x.dtype == np.float32 and h * w < 1 << 24:     # the vector kernel carries indices as float32
        from . import simd_kernels
        return simd_kernels.max_pool2d(x, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode)
    oh, ow = pool_out_size(h, kh, sh, ph, dh, ceil_mode), pool_out_size(w, kw, sw, pw, dw, ceil_mode)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    idx = np.empty((n, c, oh, ow), dtype=np.int64)
    _max_pool_nb(_c(x), out, idx, kh, kw, sh, sw, ph, pw, dh, dw)
    return out, idx


def max_pool2d_backward(grad_out, idx, x_shape):
    n, c, h, w = x_shape
    gx = np.empty((n, c, h * w), dtype=grad_out.dtype)
    _max_pool_bwd_nb(_c(grad_out), _c(idx), gx)
    return gx.reshape(n, c, h, w)


def relu(x):
    if x.dtype not in _FLOATS:
        return kernels_ref.relu(x)
    out = np.empty(x.shape, x.dtype)
    _elementwise(_relu_nb, x.size, _c(x), out)
    return out


def relu_backward(grad, out):
    if grad.dtype not in _FLOATS or grad.dtype != out.dtype:
        return kernels_ref.relu_backward(grad, out)
    gx = np.empty(grad.shape, grad.dtype)
    _elementwise(_relu_backward_nb, gx.size, _c(grad), _c(out), gx)
    return gx


def sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    t = w.dtype.type
    if w.dtype not in _FLOATS or not (w.flags.c_contiguous and buf.flags.c_contiguous) \
            or buf.dtype != w.dtype or g.dtype != w.dtype:
        return kernels_ref.sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize)
    # scalars in the arrays' dtype, as NumPy casts a Python float against a float32 array
    _elementwise(_sgd_momentum_nb, w.size, w, _c(g), buf, t(lr), t(momentum), t(1 - dampening), t(weight_decay),
                 dampening != 0, bool(nesterov), bool(maximize))


def avg_pool2d(x, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad, divisor_override=None):
    n, c, h, w = x.shape
    oh, ow = pool_out_size(h, kh, sh, ph, 1, ceil_mode), pool_out_size(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    _avg_pool_nb(_c(x), out, kh, kw, sh, sw, ph, pw, bool(count_include_pad), int(divisor_override or 0),
                 x.dtype.type(0))
    return out


def avg_pool2d_backward(grad_out, x_shape, kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad,
                        divisor_override=None):
    gx = np.empty(tuple(x_shape), dtype=grad_out.dtype)
    _avg_pool_bwd_nb(_c(grad_out), gx, kh, kw, sh, sw, ph, pw, bool(count_include_pad), int(divisor_override or 0))
    return gx
