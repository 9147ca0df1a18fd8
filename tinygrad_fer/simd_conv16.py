"""16-wide direct convolution kernels (simd.py's f32x16), for CPUs with AVX-512 (32 vector registers, and on Zen 5
full-width FMA units: twice the 8-wide kernels' speed per core, bench/README.md); any stride.

The same sums in the same order as the 8-wide kernels (so the same results, to the bit; tested), blocked for 32
registers: the forward pass holds 3 output rows x 16 columns x 8 channels (24 accumulators); rows of at most 8
outputs would leave half of each vector empty, so there a vector holds 2 rows x 8 columns. The weight gradient holds
16 or 32 output channels x 9 taps, or for at most 8 output channels (a vector of channels would be mostly empty)
vectors of 16 output pixels, 2 channels x 9 taps (a different summation order). A strided convolution reads the
phase-split grid (simd_grid.py).
"""
import numpy as np

from ._jit import inline, kernel, prange
from .simd import vfma, vget, vload16, vsplat16, vstore, vstore_n, vzero16
from .simd_grid import _NB, _on_grid, _on_grid_flat, _tap_offset, _u, packed_weights, weight_grad_by_channels

_R = 3          # output rows per forward task
_MR = 8         # output channels per forward task
_MR_NARROW = 6  # output channels per task of the narrow-row kernel (4 vectors of 2 rows each: 24 accumulators)
_TAPS = 9       # taps per weight-gradient task


@kernel
def _conv16_nb(xf, wq, bq, out, size, row, sh, sw, dh, dw):
    # xf: (N, C, size) padded planes (_on_grid, sw phases of `row` floats a row), flat, with 3 strides of rows of
    # slack at the end (the last task's rows past OH read there); wq (G, C, KH, KW, 8): the weights of output
    # channels 8g..8g+7, zero past M. Tap j of 16 neighbouring outputs: phase (j dw) % sw, from (j dw) // sw on.
    g_, c_, kh, kw = wq.shape[0], wq.shape[1], wq.shape[2], wq.shape[3]
    n_, m_, oh_, ow_ = out.shape
    tiles, ys = (ow_ + 15) // 16, (oh_ + _R - 1) // _R
    wf, of = wq.reshape(wq.size), out.reshape(out.size)
    rs = sw * row       # one padded row
    taps = np.empty(kw, np.int64)
    for j in range(kw):
        taps[j] = ((j * dw) % sw) * row + (j * dw) // sw
    for t in prange(n_ * ys * tiles):
        n, y, q0 = t // (ys * tiles), ((t // tiles) % ys) * _R, (t % tiles) * 16
        for g in range(g_):
            m0 = g * _MR
            a00 = a01 = a02 = vsplat16(bq[m0])
            a10 = a11 = a12 = vsplat16(bq[m0 + 1])
            a20 = a21 = a22 = vsplat16(bq[m0 + 2])
            a30 = a31 = a32 = vsplat16(bq[m0 + 3])
            a40 = a41 = a42 = vsplat16(bq[m0 + 4])
            a50 = a51 = a52 = vsplat16(bq[m0 + 5])
            a60 = a61 = a62 = vsplat16(bq[m0 + 6])
            a70 = a71 = a72 = vsplat16(bq[m0 + 7])
            for c in range(c_):
                for i in range(kh):
                    b = (n * c_ + c) * size + (y * sh + i * dh) * rs + q0
                    wb = ((g * c_ + c) * kh + i) * kw * _MR
                    for j in range(kw):
                        x0 = vload16(xf, _u(b + taps[j]))
                        x1 = vload16(xf, _u(b + taps[j] + sh * rs))
                        x2 = vload16(xf, _u(b + taps[j] + 2 * sh * rs))
                        k = wb + j * _MR
                        w = vsplat16(wf[_u(k)])
                        a00, a01, a02 = vfma(w, x0, a00), vfma(w, x1, a01), vfma(w, x2, a02)
                        w = vsplat16(wf[_u(k + 1)])
                        a10, a11, a12 = vfma(w, x0, a10), vfma(w, x1, a11), vfma(w, x2, a12)
                        w = vsplat16(wf[_u(k + 2)])
                        a20, a21, a22 = vfma(w, x0, a20), vfma(w, x1, a21), vfma(w, x2, a22)
                        w = vsplat16(wf[_u(k + 3)])
                        a30, a31, a32 = vfma(w, x0, a30), vfma(w, x1, a31), vfma(w, x2, a32)
                        w = vsplat16(wf[_u(k + 4)])
                        a40, a41, a42 = vfma(w, x0, a40), vfma(w, x1, a41), vfma(w, x2, a42)
                        w = vsplat16(wf[_u(k + 5)])
                        a50, a51, a52 = vfma(w, x0, a50), vfma(w, x1, a51), vfma(w, x2, a52)
                        w = vsplat16(wf[_u(k + 6)])
                        a60, a61, a62 = vfma(w, x0, a60), vfma(w, x1, a61), vfma(w, x2, a62)
                        w = vsplat16(wf[_u(k + 7)])
                        a70, a71, a72 = vfma(w, x0, a70), vfma(w, x1, a71), vfma(w, x2, a72)
            nw = min(16, ow_ - q0)
            for r, rows in enumerate(((a00, a01, a02), (a10, a11, a12), (a20, a21, a22), (a30, a31, a32),
                                      (a40, a41, a42), (a50, a51, a52), (a60, a61, a62), (a70, a71, a72))):
                if m0 + r < m_:
                    for s, v in enumerate(rows):
                        if y + s < oh_:
                            o = ((n * m_ + m0 + r) * oh_ + y + s) * ow_ + q0
                            if nw == 16:
                                vstore(of, _u(o), v)
                            else:
                                vstore_n(of, _u(o), v, nw)


def _conv2d_rows(x, w, b, win):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = win.out_size(h, wd)
    row = max(-(-ow // 16) * 16 + win.dw * (kw - 1) // win.sw, -(-(wd + 2 * win.pw) // win.sw))
    wq, bq = packed_weights(w, b, _MR)
    out = np.empty((n, m, oh, ow), np.float32)
    xf, size = _on_grid_flat(x, win.ph, win.pw, row, _R * win.sh * win.sw * row + 16, win.sw)
    _conv16_nb(xf, wq, bq, out, size, row, win.sh, win.sw, win.dh, win.dw)
    return out


@kernel
def _row_pairs_nb(x, e, ph, pw, sh, sw, dh, dw):
    # e (N, C, KHB, KW, R, 8): e[n, c, i, j, r, k] = x padded at row r * sh + i * dh, column k * sw + j * dw (zero
    # outside x): for each tap the 8 columns a narrow output row reads, rows 8 floats apart, so two output rows are
    # one 16-float load. With sh == 1 one block (KHB 1) serves every window row (r is then the padded row).
    n_, c_, h_, w_ = x.shape
    khb, kw, rows = e.shape[2], e.shape[3], e.shape[4]
    xf, ef = x.reshape(x.size), e.reshape(e.size)
    for t in prange(n_ * c_):
        for i in range(khb):
            for j in range(kw):
                for r in range(rows):
                    o, y = (((t * khb + i) * kw + j) * rows + r) * 8, r * sh + i * dh - ph
                    for k in range(8):
                        col = k * sw + j * dw - pw
                        inside = y >= 0 and y < h_ and col >= 0 and col < w_
                        ef[_u(o + k)] = xf[_u((t * h_ + y) * w_ + col)] if inside else np.float32(0)


@kernel
def _conv16_narrow_nb(ef, wq, bq, out, khb, ef_rows, dh):
    # For rows of at most 8 outputs: each vector holds 2 output rows x 8 columns (ef from _row_pairs_nb, with 8 rows
    # of slack after it); a task holds 8 output rows (4 vectors) x 6 channels. wq (G, C, KH, KW, 6), zero past M.
    # Window row i is block i of ef at the output's rows (khb == KH), or block 0 at rows i * dh on (khb == 1).
    g_, c_, kh, kw = wq.shape[0], wq.shape[1], wq.shape[2], wq.shape[3]
    n_, m_, oh_, ow_ = out.shape
    ys = (oh_ + 7) // 8
    wf, of = wq.reshape(wq.size), out.reshape(out.size)
    for t in prange(n_ * ys):
        n, y = t // ys, (t % ys) * 8
        for g in range(g_):
            m0 = g * _MR_NARROW
            a00 = a01 = a02 = a03 = vsplat16(bq[m0])
            a10 = a11 = a12 = a13 = vsplat16(bq[m0 + 1])
            a20 = a21 = a22 = a23 = vsplat16(bq[m0 + 2])
            a30 = a31 = a32 = a33 = vsplat16(bq[m0 + 3])
            a40 = a41 = a42 = a43 = vsplat16(bq[m0 + 4])
            a50 = a51 = a52 = a53 = vsplat16(bq[m0 + 5])
            for c in range(c_):
                for i in range(kh):
                    for j in range(kw):
                        b = ((((n * c_ + c) * khb + (i if khb > 1 else 0)) * kw + j) * ef_rows + y +
                             (0 if khb > 1 else i * dh)) * 8
                        x0, x1 = vload16(ef, _u(b)), vload16(ef, _u(b + 16))
                        x2, x3 = vload16(ef, _u(b + 32)), vload16(ef, _u(b + 48))
                        k = (((g * c_ + c) * kh + i) * kw + j) * _MR_NARROW
                        w = vsplat16(wf[_u(k)])
                        a00, a01, a02, a03 = vfma(w, x0, a00), vfma(w, x1, a01), vfma(w, x2, a02), vfma(w, x3, a03)
                        w = vsplat16(wf[_u(k + 1)])
                        a10, a11, a12, a13 = vfma(w, x0, a10), vfma(w, x1, a11), vfma(w, x2, a12), vfma(w, x3, a13)
                        w = vsplat16(wf[_u(k + 2)])
                        a20, a21, a22, a23 = vfma(w, x0, a20), vfma(w, x1, a21), vfma(w, x2, a22), vfma(w, x3, a23)
                        w = vsplat16(wf[_u(k + 3)])
                        a30, a31, a32, a33 = vfma(w, x0, a30), vfma(w, x1, a31), vfma(w, x2, a32), vfma(w, x3, a33)
                        w = vsplat16(wf[_u(k + 4)])
                        a40, a41, a42, a43 = vfma(w, x0, a40), vfma(w, x1, a41), vfma(w, x2, a42), vfma(w, x3, a43)
                        w = vsplat16(wf[_u(k + 5)])
                        a50, a51, a52, a53 = vfma(w, x0, a50), vfma(w, x1, a51), vfma(w, x2, a52), vfma(w, x3, a53)
            for r, rows in enumerate(((a00, a01, a02, a03), (a10, a11, a12, a13), (a20, a21, a22, a23),
                                      (a30, a31, a32, a33), (a40, a41, a42, a43), (a50, a51, a52, a53))):
                if m0 + r < m_:
                    for s, v in enumerate(rows):
                        y0 = y + 2 * s
                        o = ((n * m_ + m0 + r) * oh_ + y0) * ow_
                        if ow_ == 8 and y0 + 1 < oh_:
                            vstore(of, _u(o), v)
                        else:
                            for p in range(ow_):
                                if y0 < oh_:
                                    of[_u(o + p)] = vget(v, p)
                                if y0 + 1 < oh_:
                                    of[_u(o + ow_ + p)] = vget(v, p + 8)


def _conv2d_narrow(x, w, b, win):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = win.out_size(h, wd)
    wq, bq = packed_weights(w, b, _MR_NARROW)
    # stride 1: the padded rows, shared by the window's rows; else each window row's own strided rows
    khb, rows = (1, h + 2 * win.ph) if win.sh == 1 else (kh, -(-oh // 8) * 8)
    size = n * c * khb * kw * rows * 8
    ef = np.empty(size + 8 * 8 + 16, np.float32)
    ef[size:] = 0
    _row_pairs_nb(np.ascontiguousarray(x), ef[:size].reshape(n, c, khb, kw, rows, 8), win.ph, win.pw, win.sh, win.sw,
                  win.dh, win.dw)
    out = np.empty((n, m, oh, ow), np.float32)
    _conv16_narrow_nb(ef, wq, bq, out, khb, rows, win.dh)
    return out


@inline
def _weight_grad_task(t, mg, c_, tap_groups, kh, kw, row, dh, dw, sw):
    # a wide weight-gradient task: its image block, channel group, input channel, tap group and its 9 taps' offsets
    blk, r = t // (mg * c_ * tap_groups), t % (mg * c_ * tap_groups)
    p, c, q = r // (c_ * tap_groups), (r // tap_groups) % c_, r % tap_groups
    t0 = q * _TAPS
    return (blk, p, c, q, _tap_offset(t0, kh, kw, row, dh, dw, sw), _tap_offset(t0 + 1, kh, kw, row, dh, dw, sw),
            _tap_offset(t0 + 2, kh, kw, row, dh, dw, sw), _tap_offset(t0 + 3, kh, kw, row, dh, dw, sw),
            _tap_offset(t0 + 4, kh, kw, row, dh, dw, sw), _tap_offset(t0 + 5, kh, kw, row, dh, dw, sw),
            _tap_offset(t0 + 6, kh, kw, row, dh, dw, sw), _tap_offset(t0 + 7, kh, kw, row, dh, dw, sw),
            _tap_offset(t0 + 8, kh, kw, row, dh, dw, sw))


@kernel
def _weight_grad16_nb(xq, gt, row, kh, kw, sh, sw, dh, dw, part):
    # as _weight_grad_nb, 16 output channels (one vector) x 9 taps a task: part (blocks, MQ/16, C, tap groups, 9, 16)
    n_, c_, size = xq.shape
    oh_, ow_, mq = gt.shape[1], gt.shape[2], gt.shape[3]
    blocks, mg, tap_groups = part.shape[0], part.shape[1], part.shape[3]
    xf, gf, pf = xq.reshape(xq.size), gt.reshape(gt.size), part.reshape(part.size)
    for t in prange(blocks * mg * c_ * tap_groups):
        blk, p, c, q, o0, o1, o2, o3, o4, o5, o6, o7, o8 = _weight_grad_task(t, mg, c_, tap_groups, kh, kw, row, dh,
                                                                             dw, sw)
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = vzero16()
        for n in range(blk * _NB, min(n_, blk * _NB + _NB)):
            for y in range(oh_):
                gb = ((n * oh_ + y) * ow_) * mq + p * 16
                xb = (n * c_ + c) * size + y * sh * sw * row
                for x in range(ow_):
                    gv = vload16(gf, _u(gb + x * mq))
                    a0 = vfma(vsplat16(xf[_u(xb + x + o0)]), gv, a0)
                    a1 = vfma(vsplat16(xf[_u(xb + x + o1)]), gv, a1)
                    a2 = vfma(vsplat16(xf[_u(xb + x + o2)]), gv, a2)
                    a3 = vfma(vsplat16(xf[_u(xb + x + o3)]), gv, a3)
                    a4 = vfma(vsplat16(xf[_u(xb + x + o4)]), gv, a4)
                    a5 = vfma(vsplat16(xf[_u(xb + x + o5)]), gv, a5)
                    a6 = vfma(vsplat16(xf[_u(xb + x + o6)]), gv, a6)
                    a7 = vfma(vsplat16(xf[_u(xb + x + o7)]), gv, a7)
                    a8 = vfma(vsplat16(xf[_u(xb + x + o8)]), gv, a8)
        o = (((blk * mg + p) * c_ + c) * tap_groups + q) * _TAPS * 16
        for s, v in enumerate((a0, a1, a2, a3, a4, a5, a6, a7, a8)):
            vstore(pf, _u(o + s * 16), v)


@kernel
def _weight_grad32_nb(xq, gt, row, kh, kw, sh, sw, dh, dw, part):
    # _weight_grad16_nb with 32 output channels (two vectors) a task, for M > 16: each broadcast input pixel feeds
    # two FMAs, so the loop waits on the FMA units rather than on loads. part (blocks, MQ/32, C, tap groups, 9, 32)
    n_, c_, size = xq.shape
    oh_, ow_, mq = gt.shape[1], gt.shape[2], gt.shape[3]
    blocks, mg, tap_groups = part.shape[0], part.shape[1], part.shape[3]
    xf, gf, pf = xq.reshape(xq.size), gt.reshape(gt.size), part.reshape(part.size)
    for t in prange(blocks * mg * c_ * tap_groups):
        blk, p, c, q, o0, o1, o2, o3, o4, o5, o6, o7, o8 = _weight_grad_task(t, mg, c_, tap_groups, kh, kw, row, dh,
                                                                             dw, sw)
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = vzero16()
        b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = b8 = vzero16()
        for n in range(blk * _NB, min(n_, blk * _NB + _NB)):
            for y in range(oh_):
                gb = ((n * oh_ + y) * ow_) * mq + p * 32
                xb = (n * c_ + c) * size + y * sh * sw * row
                for x in range(ow_):
                    g0, g1 = vload16(gf, _u(gb + x * mq)), vload16(gf, _u(gb + x * mq + 16))
                    v = vsplat16(xf[_u(xb + x + o0)])
                    a0, b0 = vfma(v, g0, a0), vfma(v, g1, b0)
                    v = vsplat16(xf[_u(xb + x + o1)])
                    a1, b1 = vfma(v, g0, a1), vfma(v, g1, b1)
                    v = vsplat16(xf[_u(xb + x + o2)])
                    a2, b2 = vfma(v, g0, a2), vfma(v, g1, b2)
                    v = vsplat16(xf[_u(xb + x + o3)])
                    a3, b3 = vfma(v, g0, a3), vfma(v, g1, b3)
                    v = vsplat16(xf[_u(xb + x + o4)])
                    a4, b4 = vfma(v, g0, a4), vfma(v, g1, b4)
                    v = vsplat16(xf[_u(xb + x + o5)])
                    a5, b5 = vfma(v, g0, a5), vfma(v, g1, b5)
                    v = vsplat16(xf[_u(xb + x + o6)])
                    a6, b6 = vfma(v, g0, a6), vfma(v, g1, b6)
                    v = vsplat16(xf[_u(xb + x + o7)])
                    a7, b7 = vfma(v, g0, a7), vfma(v, g1, b7)
                    v = vsplat16(xf[_u(xb + x + o8)])
                    a8, b8 = vfma(v, g0, a8), vfma(v, g1, b8)
        o = (((blk * mg + p) * c_ + c) * tap_groups + q) * _TAPS * 32
        for s, (v0, v1) in enumerate(((a0, b0), (a1, b1), (a2, b2), (a3, b3), (a4, b4), (a5, b5), (a6, b6),
                                      (a7, b7), (a8, b8))):
            vstore(pf, _u(o + s * 32), v0)
            vstore(pf, _u(o + s * 32 + 16), v1)


@kernel
def _weight_grad_pixels_nb(xq, gp, row, kh, kw, sh, sw, dh, dw, part):
    # For few output channels (M <= 8), where a vector of channels would be mostly empty: vectors of 16 outputs of
    # a row instead, a task 2 output channels x 9 taps (18 accumulators) over one block of _NB images, each sum
    # folded to a scalar at the end. xq (N, C, size) the phase grid (_on_grid); gp (N, MQ, OH, OWQ) the output
    # gradient, zero past M and past OW (so the lanes past a row's end add nothing: the caller checks x is finite,
    # or 0 * inf there would be NaN); part (blocks, MQ, C, tap groups * 9).
    n_, c_, size = xq.shape
    mq, oh_, owq = gp.shape[1], gp.shape[2], gp.shape[3]
    blocks, tap_groups = part.shape[0], part.shape[3] // _TAPS
    mg = mq // 2
    xf, gf, pf = xq.reshape(xq.size), gp.reshape(gp.size), part.reshape(part.size)
    for t in prange(blocks * mg * c_ * tap_groups):
        blk, p, c, q, o0, o1, o2, o3, o4, o5, o6, o7, o8 = _weight_grad_task(t, mg, c_, tap_groups, kh, kw, row, dh,
                                                                             dw, sw)
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = vzero16()
        b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = b8 = vzero16()
        for n in range(blk * _NB, min(n_, blk * _NB + _NB)):
            for y in range(oh_):
                gb = ((n * mq + 2 * p) * oh_ + y) * owq
                xb = (n * c_ + c) * size + y * sh * sw * row
                for x0 in range(0, owq, 16):
                    g0, g1 = vload16(gf, _u(gb + x0)), vload16(gf, _u(gb + oh_ * owq + x0))
                    v = vload16(xf, _u(xb + x0 + o0))
                    a0, b0 = vfma(v, g0, a0), vfma(v, g1, b0)
                    v = vload16(xf, _u(xb + x0 + o1))
                    a1, b1 = vfma(v, g0, a1), vfma(v, g1, b1)
                    v = vload16(xf, _u(xb + x0 + o2))
                    a2, b2 = vfma(v, g0, a2), vfma(v, g1, b2)
                    v = vload16(xf, _u(xb + x0 + o3))
                    a3, b3 = vfma(v, g0, a3), vfma(v, g1, b3)
                    v = vload16(xf, _u(xb + x0 + o4))
                    a4, b4 = vfma(v, g0, a4), vfma(v, g1, b4)
                    v = vload16(xf, _u(xb + x0 + o5))
                    a5, b5 = vfma(v, g0, a5), vfma(v, g1, b5)
                    v = vload16(xf, _u(xb + x0 + o6))
                    a6, b6 = vfma(v, g0, a6), vfma(v, g1, b6)
                    v = vload16(xf, _u(xb + x0 + o7))
                    a7, b7 = vfma(v, g0, a7), vfma(v, g1, b7)
                    v = vload16(xf, _u(xb + x0 + o8))
                    a8, b8 = vfma(v, g0, a8), vfma(v, g1, b8)
        base = ((blk * mq + 2 * p) * c_ + c) * tap_groups * _TAPS + q * _TAPS
        other = c_ * tap_groups * _TAPS       # the next output channel's
        for s, (v0, v1) in enumerate(((a0, b0), (a1, b1), (a2, b2), (a3, b3), (a4, b4), (a5, b5), (a6, b6),
                                      (a7, b7), (a8, b8))):
            s0 = s1 = np.float32(0)
            for lane in range(16):
                s0 += vget(v0, lane)
                s1 += vget(v1, lane)
            pf[_u(base + s)] = s0
            pf[_u(base + other + s)] = s1


def _weight_grad_few_channels(x, grad, win):
    kh, kw, sh, sw, ph, pw, dh, dw = win
    n, c = x.shape[:2]
    m, oh, ow = grad.shape[1:]
    owq, mq, tap_groups = -(-ow // 16) * 16, -(-m // 2) * 2, -(-(kh * kw) // _TAPS)
    row = max(owq + (kw - 1) * dw // sw, -(-(x.shape[3] + 2 * pw) // sw))   # the last vector's taps stay inside
    gp = np.zeros((n, mq, oh, owq), np.float32)
    gp[:, :m, :, :ow] = grad
    part = np.empty((-(-n // _NB), mq, c, tap_groups * _TAPS), np.float32)
    _weight_grad_pixels_nb(_on_grid(x, ph, pw, row, sw), gp, row, kh, kw, sh, sw, dh, dw, part)
    gw = part.sum(axis=0, dtype=np.float32)
    return np.ascontiguousarray(gw[:m, :, :kh * kw]).reshape(m, c, kh, kw)


def conv2d(x, w, b, win):
    """The convolution of x (N, C, H, W) with w (M, C, KH, KW) plus b (M,) or None: (N, M, OH, OW)."""
    if win.out_size(x.shape[2], x.shape[3])[1] <= 8:
        return _conv2d_narrow(x, w, b, win)
    return _conv2d_rows(x, w, b, win)


def weight_grad(x, grad, win):
    """The weight gradient (M, C, KH, KW) of conv2d(x, w, b, win) for its output gradient grad."""
    kh, kw, sh, sw, _, _, dh, dw = win
    m = grad.shape[1]
    if m <= 8 and bool(np.isfinite(x).all()):
        return _weight_grad_few_channels(x, grad, win)
    fn = _weight_grad16_nb if m <= 16 else _weight_grad32_nb
    return weight_grad_by_channels(x, grad, win, _TAPS, 16 if m <= 16 else 32, lambda xq, gt, row, part: fn(
        xq, gt, row, kh, kw, sh, sw, dh, dw, part))
