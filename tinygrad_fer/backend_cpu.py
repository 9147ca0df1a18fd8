"""CPU backend: NumPy arrays, the hot kernels compiled by Numba.

CPUBackend overrides the kernels the CPU runs faster than the reference (backend_base.Backend's defaults: kernels_ref
on NumPy): im2col, col2im, the pools, ReLU and the SGD step as the scalar Numba kernels below, and the float32 direct
convolution and max-pool as 8-wide vector kernels (simd_kernels.py). Each override falls back to the reference for
what it was not compiled for (other dtypes, ...). The kernels parallelise over planes or column rows so that each
thread owns what it writes (no atomics, deterministic sums).

Numba loads on the first kernel call, not with the package (_jit.py compiles, inlines the helpers, and keys the disk
cache on the helpers' files too); the process-wide settings the kernels' speed depends on (OpenMP waiting, glibc's
allocator, OpenBLAS's threads) are made in _process_tuning.py.
"""
import math

import numpy as np

from ._jit import inline, kernel, prange, summing_kernel
from .backend_base import Backend
from .window import window_taps

# Index arithmetic in these kernels goes through _u (uint64): Numba adds a negative-index wrap-around test to every
# access with a signed index, which blocks LLVM's vectorisation; an unsigned index has none (all indices here are
# in bounds and non-negative). Measured 1.8x (im2col) and 2.2-2.7x (col2im) on the CIFAR net's shapes.
_u = np.uint64


@inline
def _tap_range(off, sw, w_, ow_):
    """The outputs [lo, hi) of a row of ow_ whose tap, at input column ow * sw + off, lands inside the w_ columns."""
    lo, hi = window_taps(off, sw, ow_, w_)      # the outputs of one tap are the taps of a window, stepping sw
    return min(lo, ow_), min(hi, ow_)


@inline
def _avg_window(o, s, k, p, size):
    """Output o's window along one axis: [lo, hi) including padding, and [a, b) clipped to the input."""
    lo = o * s - p
    hi = min(lo + k, size + p)
    return lo, hi, max(lo, 0), min(hi, size)


@inline
def _avg_divisor(divisor, include_pad, y0, y1, ya, yb, x0, x1, xa, xb):
    if divisor != 0:
        return divisor
    if include_pad:
        return (y1 - y0) * (x1 - x0)
    return (yb - ya) * (xb - xa)


@kernel
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


@kernel
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


@kernel
def _max_pool_nb(x, out, idx, kh, kw, sh, sw, ph, pw, dh, dw):
    n_, c_, h_, w_ = x.shape
    oh_, ow_ = out.shape[2], out.shape[3]
    xf, of, jf = x.reshape(x.size), out.reshape(out.size), idx.reshape(idx.size)
    # in-bounds taps j0 <= j < j1 of each output column, computed once: an integer division per output cost
    # more than its max
    j0s, j1s = np.empty(ow_, np.int64), np.empty(ow_, np.int64)
    for ow in range(ow_):
        x0w = ow * sw - pw
        j0s[ow], j1s[ow] = window_taps(x0w, dw, kw, w_)
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
            i0, i1 = window_taps(y0, dh, kh, h_)
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


@kernel
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


@kernel
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


@kernel
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


@kernel
def _avg_pool_inside_nb(x, out, kh, kw, sh, sw, div, zero):
    # every window inside the plane (no padding, floor mode): _avg_pool_nb's sums in the same order, a row of
    # outputs at a time, without the per-window bounds and divisor arithmetic
    n_, c_ = x.shape[0], x.shape[1]
    oh_, ow_ = out.shape[2], out.shape[3]
    for p in prange(n_ * c_):
        n, c = p // c_, p % c_
        for oh in range(oh_):
            o = out[n, c, oh]
            for ow in range(ow_):
                o[ow] = zero
            for i in range(kh):
                r = x[n, c, oh * sh + i]
                for ow in range(ow_):
                    s = o[ow]
                    for j in range(kw):
                        s += r[ow * sw + j]
                    o[ow] = s
            for ow in range(ow_):
                o[ow] = o[ow] / div


@kernel
def _avg_pool_inside_bwd_nb(g, gx, kh, kw, sh, sw, div):
    n_, c_ = gx.shape[0], gx.shape[1]
    oh_, ow_ = g.shape[2], g.shape[3]
    for p in prange(n_ * c_):
        n, c = p // c_, p % c_
        plane = gx[n, c]
        for y in range(plane.shape[0]):
            for xx in range(plane.shape[1]):
                plane[y, xx] = 0
        for oh in range(oh_):
            gr = g[n, c, oh]
            for i in range(kh):
                r = plane[oh * sh + i]
                for ow in range(ow_):
                    v = gr[ow] / div
                    for j in range(kw):
                        r[ow * sw + j] += v


@kernel
def _relu_nb(x, out):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for i in prange(xf.size):
        v = xf[i]
        of[i] = 0 if v < 0 else v


@kernel
def _erf_nb(x, out, complement):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for i in prange(xf.size):
        v = np.float64(xf[i])   # float64 libm: the result rounds once to float32
        of[i] = math.erfc(v) if complement else math.erf(v)


@kernel
def _sigmoid_nb(x, out):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    for i in prange(xf.size):
        v = xf[i]
        e = np.exp(-abs(v))
        r = 1 / (1 + e)
        of[i] = r if v >= 0 else e * r


@kernel
def _sigmoid_backward_nb(g, out, gx, one):
    # `one` in the arrays' dtype: a literal 1 would make (1 - out) float64, rounding otherwise than kernels_ref's
    gf, of, xf = g.reshape(g.size), out.reshape(out.size), gx.reshape(gx.size)
    for i in prange(gf.size):
        xf[i] = gf[i] * of[i] * (one - of[i])


@kernel
def _relu_backward_nb(g, out, gx):
    gf, of, xf = g.reshape(g.size), out.reshape(out.size), gx.reshape(gx.size)
    for i in prange(gf.size):
        xf[i] = 0 if of[i] <= 0 else gf[i]


@kernel
def _adam_nb(w, d, m, v, vmax, amsgrad, lerp_small, c_lerp, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size):
    # kernels_ref.adam_'s arithmetic in one pass, each operation rounded as there (no fused multiply-adds); the
    # scalars come in the arrays' dtype, as NumPy casts a Python float against them. Flat arrays, no reshape
    # views inside: Numba 0.68's parfors dropped every write of a loop whose kernel made a reshape view it did not
    # use (here vmax's, without amsgrad).
    for i in prange(w.size):
        di = d[i]
        t = (di - m[i]) * c_lerp
        mi = m[i] + t if lerp_small else di - t
        vi = v[i] * beta2 + di * one_minus_beta2 * di
        m[i] = mi
        v[i] = vi
        if amsgrad:     # NumPy's maximum: a NaN on either side wins
            a = vmax[i]
            vi = a if a != a or a >= vi else vi
            vmax[i] = vi
        w[i] = w[i] + mi / (np.sqrt(vi) / bc2_sqrt + eps) * neg_step_size


@kernel
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


@summing_kernel
def _bn_stats_nb(x, mean, var):
    # two passes per channel (mean, then squared deviations), float64 sums: one read of x each
    n_, c_, s_ = x.shape
    m = n_ * s_
    for c in prange(c_):
        acc = 0.0
        for n in range(n_):
            for i in range(s_):
                acc += x[n, c, i]
        mu = acc / m
        acc = 0.0
        for n in range(n_):
            for i in range(s_):
                d = x[n, c, i] - mu
                acc += d * d
        mean[c] = mu
        var[c] = acc / m


@kernel
def _bn_apply_nb(x, scale, shift, out):
    n_, c_, s_ = x.shape
    for c in prange(c_):
        a, b = scale[c], shift[c]
        for n in range(n_):
            for i in range(s_):
                out[n, c, i] = x[n, c, i] * a + b


@summing_kernel
def _bn_backward_nb(g, x, mean, invstd, w, training, need_x, gx, gw, gb):
    n_, c_, s_ = x.shape
    m = n_ * s_
    for c in prange(c_):
        mu, istd = mean[c], invstd[c]
        sg = 0.0
        sgx = 0.0
        for n in range(n_):
            for i in range(s_):
                v = g[n, c, i]
                sg += v
                sgx += v * ((x[n, c, i] - mu) * istd)
        gb[c] = sg
        gw[c] = sgx
        if need_x:
            sc = istd * w[c]
            a = sg / m if training else 0.0
            q = sgx / m if training else 0.0
            for n in range(n_):
                for i in range(s_):
                    gx[n, c, i] = sc * (g[n, c, i] - a - ((x[n, c, i] - mu) * istd) * q)


# elements below which an elementwise kernel runs on the calling thread alone: waking the other OpenMP workers costs
# ~10-15 us a call with 2 threads (ReLU on 16 to 16,384 floats: 18 us parallel, 8 us on one thread)
_PARALLEL_MIN = 1 << 15
_FLOATS = (np.float32, np.float64)     # the dtypes the elementwise kernels are compiled for; others use the reference


def _elementwise(fn, size, *args):
    if size >= _PARALLEL_MIN:
        return fn(*args)
    import numba        # loaded already: fn compiles on its first call
    n = numba.get_num_threads()
    numba.set_num_threads(1)     # this thread's setting only
    try:
        return fn(*args)
    finally:
        numba.set_num_threads(n)


def _c(a):
    # one compiled specialisation per dtype: strided inputs (rare, cheap to copy) are made contiguous
    return np.ascontiguousarray(a)


def _simd_stride(sh, sw):
    """Whether simd_kernels' direct convolution takes this stride: any where its kernels are 16 wide, else 1."""
    if sh == 1 and sw == 1:
        return True
    from . import simd_kernels      # imports Numba: not with the package
    return simd_kernels.WIDE


def _simd_conv(x, w, b, win):
    """Whether simd_kernels' direct convolution takes these operands (what it is compiled for: float32)."""
    return x.dtype == np.float32 and w.dtype == np.float32 and (b is None or b.dtype == np.float32) \
        and _simd_stride(win.sh, win.sw)


class CPUBackend(Backend):
    name = "cpu"
    xp = np
    # a convolution's columns made and used ~3 MB at a time stay in cache (L2 0.5-1 MB per core, L3 tens of MB);
    # blocks of 2-3 MB measured fastest on the CIFAR net's training step (see ops.conv._image_blocks)
    block_bytes = 3 << 20

    def __init__(self):
        self.rng = np.random.default_rng()

    def to_numpy(self, a):
        return a

    def use_reference_kernels(self):
        """From now on, in this process, run Backend's reference kernels (NumPy) in place of the compiled ones. For
        a process forked after its parent ran a parallel kernel (a DataLoader worker): Numba's OpenMP layer ends
        such a process when it starts a parallel region."""
        import inspect
        for name, f in vars(Backend).items():
            if inspect.isfunction(f) and name in vars(CPUBackend) and not getattr(f, "__isabstractmethod__", False):
                setattr(self, name, f.__get__(self))

    def data_ptr(self, a):
        return a.ctypes.data

    def device_index(self, a):
        return None

    def new_rng(self, seed=None):
        return np.random.default_rng(seed)

    def direct_conv(self, x, w, stride, padding, dilation, groups):
        # float32 only (what nets train in; float64 keeps the GEMM path); stride 1, or any where the kernels are 16
        # wide (ops.conv then takes the input gradient of a strided one through col2im); the input gradient is a
        # convolution of the output gradient padded by dilation * (K - 1) - padding, so that must not be negative,
        # and its weights must be finite: that padding times an infinite or NaN weight would be NaN where col2im (and
        # PyTorch) add nothing (checking costs ~4 us on a 64x32x5x5 weight); windows under 3x3 would waste most of
        # the weight gradient's tap groups (and 1x1 is a GEMM anyway)
        return x.dtype == np.float32 and w.dtype == np.float32 and groups == 1 and w.shape[2] * w.shape[3] >= 9 \
            and all(p <= d * (k - 1) for p, d, k in zip(padding, dilation, w.shape[2:])) \
            and _simd_stride(*stride) and bool(np.isfinite(w).all())

    def im2col(self, x, win):
        n, c, h, w = x.shape
        oh, ow = win.out_size(h, w)
        cols = np.empty((c, win.kh, win.kw, n, oh, ow), dtype=x.dtype)
        _im2col_nb(_c(x), cols, *win)
        return cols

    def col2im(self, cols, x_shape, win):
        out = np.empty(tuple(x_shape), dtype=cols.dtype)
        _col2im_nb(_c(cols), out, *win)
        return out

    def conv2d(self, x, w, b, win):
        from . import winograd
        if winograd.applies(x, w, b, win):
            return winograd.conv2d(x, w, b, win)
        if not _simd_conv(x, w, b, win):
            return super().conv2d(x, w, b, win)
        from . import simd_kernels      # imports Numba: not with the package
        return simd_kernels.conv2d(x, w, b, win)

    def conv2d_weight_grad(self, x, grad, win):
        from . import winograd
        if winograd.applies_weight_grad(x, grad, win):
            return winograd.conv2d_weight_grad(x, grad, win)
        if not _simd_conv(x, grad, None, win):
            return super().conv2d_weight_grad(x, grad, win)
        from . import simd_kernels
        return simd_kernels.conv2d_weight_grad(x, grad, win)

    def max_pool2d(self, x, win, ceil_mode):
        n, c, h, w = x.shape
        if x.dtype == np.float32 and h * w < 1 << 24:     # the vector kernel carries indices as float32
            from . import simd_kernels
            return simd_kernels.max_pool2d(x, win, ceil_mode)
        oh, ow = win.out_size(h, w, ceil_mode)
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        idx = np.empty((n, c, oh, ow), dtype=np.int64)
        _max_pool_nb(_c(x), out, idx, *win)
        return out, idx

    def max_pool2d_backward(self, grad_out, idx, x_shape):
        n, c, h, w = x_shape
        gx = np.empty((n, c, h * w), dtype=grad_out.dtype)
        _max_pool_bwd_nb(_c(grad_out), _c(idx), gx)
        return gx.reshape(n, c, h, w)

    def avg_pool2d(self, x, win, ceil_mode, count_include_pad, divisor_override=None):
        n, c, h, w = x.shape
        oh, ow = win.out_size(h, w, ceil_mode)
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        if win.ph == win.pw == 0 and not ceil_mode:
            _avg_pool_inside_nb(_c(x), out, *win[:4], int(divisor_override or win.kh * win.kw), x.dtype.type(0))
        else:
            _avg_pool_nb(_c(x), out, *win[:6], bool(count_include_pad), int(divisor_override or 0),
                         x.dtype.type(0))
        return out

    def avg_pool2d_backward(self, grad_out, x_shape, win, ceil_mode, count_include_pad, divisor_override=None):
        gx = np.empty(tuple(x_shape), dtype=grad_out.dtype)
        if win.ph == win.pw == 0 and not ceil_mode:
            _avg_pool_inside_bwd_nb(_c(grad_out), gx, *win[:4], int(divisor_override or win.kh * win.kw))
        else:
            _avg_pool_bwd_nb(_c(grad_out), gx, *win[:6], bool(count_include_pad), int(divisor_override or 0))
        return gx

    def relu(self, x):
        if x.dtype not in _FLOATS:
            return super().relu(x)
        out = np.empty(x.shape, x.dtype)
        _elementwise(_relu_nb, x.size, _c(x), out)
        return out

    def erf(self, x, complement=False):
        if x.dtype not in _FLOATS:
            return super().erf(x, complement)
        out = np.empty(x.shape, x.dtype)
        _elementwise(_erf_nb, x.size, _c(x), out, bool(complement))
        return out

    def sigmoid(self, x):
        if x.dtype not in _FLOATS:
            return super().sigmoid(x)
        out = np.empty(x.shape, x.dtype)
        if x.dtype == np.float32:
            from . import simd_kernels
            _elementwise(simd_kernels.sigmoid, x.size, _c(x), out)
        else:
            _elementwise(_sigmoid_nb, x.size, _c(x), out)
        return out

    def sigmoid_backward(self, grad, out):
        if grad.dtype not in _FLOATS or grad.dtype != out.dtype:
            return super().sigmoid_backward(grad, out)
        gx = np.empty(grad.shape, grad.dtype)
        _elementwise(_sigmoid_backward_nb, gx.size, _c(grad), _c(out), gx, grad.dtype.type(1))
        return gx

    def relu_backward(self, grad, out):
        if grad.dtype not in _FLOATS or grad.dtype != out.dtype:
            return super().relu_backward(grad, out)
        gx = np.empty(grad.shape, grad.dtype)
        _elementwise(_relu_backward_nb, gx.size, _c(grad), _c(out), gx)
        return gx

    def batch_norm_stats(self, x3):
        if x3.dtype not in _FLOATS:
            return super().batch_norm_stats(x3)
        mean, var = np.empty(x3.shape[1], x3.dtype), np.empty(x3.shape[1], x3.dtype)
        _elementwise(_bn_stats_nb, x3.size, _c(x3), mean, var)
        return mean, var

    def batch_norm_apply(self, x3, mean, invstd, w, b):
        if x3.dtype not in _FLOATS:
            return super().batch_norm_apply(x3, mean, invstd, w, b)
        scale = (invstd * w).astype(x3.dtype)
        out = np.empty(x3.shape, x3.dtype)
        _elementwise(_bn_apply_nb, x3.size, _c(x3), scale, (b - mean * scale).astype(x3.dtype), out)
        return out

    def batch_norm_backward(self, g3, x3, mean, invstd, w, training, need_x):
        if x3.dtype not in _FLOATS or g3.dtype != x3.dtype:
            return super().batch_norm_backward(g3, x3, mean, invstd, w, training, need_x)
        c, t = x3.shape[1], x3.dtype
        gx = np.empty(x3.shape, t) if need_x else np.empty((0, 0, 0), t)
        gw, gb = np.empty(c, t), np.empty(c, t)
        _elementwise(_bn_backward_nb, x3.size, _c(g3), _c(x3), _c(mean), _c(invstd), _c(w.astype(t, copy=False)),
                     bool(training), bool(need_x), gx, gw, gb)
        return (gx if need_x else None), gw, gb

    def adam_(self, w, d, m, v, vmax, lr, beta1, beta2, eps, step):
        t = w.dtype.type
        arrays = (w, m, v) + ((vmax,) if vmax is not None else ())
        if w.dtype not in _FLOATS or d.dtype != w.dtype or any(a.dtype != w.dtype or not a.flags.c_contiguous
                                                                   for a in arrays):
            return super().adam_(w, d, m, v, vmax, lr, beta1, beta2, eps, step)
        small = 1 - beta1 < 0.5
        flat = lambda a: a.reshape(-1)  # noqa: E731  (views: all are contiguous here)
        _elementwise(_adam_nb, w.size, flat(w), flat(_c(d)), flat(m), flat(v), flat(vmax if vmax is not None else m),
                     vmax is not None, small,
                     t(1 - beta1 if small else 1 - (1 - beta1)), t(beta2), t(1 - beta2),
                     t((1 - beta2 ** step) ** 0.5), t(eps), t(-(lr / (1 - beta1 ** step))))

    def sgd_momentum_(self, w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
        t = w.dtype.type
        if w.dtype not in _FLOATS or not (w.flags.c_contiguous and buf.flags.c_contiguous) \
                or buf.dtype != w.dtype or g.dtype != w.dtype:
            return super().sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize)
        # scalars in the arrays' dtype, as NumPy casts a Python float against a float32 array
        _elementwise(_sgd_momentum_nb, w.size, w, _c(g), buf, t(lr), t(momentum), t(1 - dampening), t(weight_decay),
                     dampening != 0, bool(nesterov), bool(maximize))


backend_cpu = CPUBackend()
