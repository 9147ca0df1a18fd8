"""8-wide direct convolution kernels (simd.py's f32x8), for CPUs without AVX-512; stride 1 (simd_kernels.py
dispatches).

The forward pass reads 16 outputs' inputs of a row as two 8-float loads and holds 6 output channels: 12
accumulators, 2 inputs and a weight fill 15 of 16 registers. The weight gradient broadcasts each pixel's input
against 16 channels of the output gradient, laid channels-last, 5 taps a task.
"""
import numpy as np

from ._jit import kernel, prange
from .simd import vfma, vget, vload, vsplat, vstore, vzero
from .simd_grid import _NB, _on_grid, _tap_offset, _u, packed_weights, weight_grad_by_channels

_TILE = 16       # outputs of a row per forward task: two vectors
_MR = 6          # output channels per forward task


def _grid(h, w, win):
    """(oh, ow, row): the output size and the forward pass's padded row, wide enough for its last tile's windows."""
    oh, ow = win.out_size(h, w)
    return oh, ow, max(-(-ow // _TILE) * _TILE + win.dw * (win.kw - 1), w + 2 * win.pw)


@kernel
def _conv_nb(xq, wq, bq, out, row, dh, dw):
    # xq (N, C, size) padded planes; wq (G, C, KH, KW, 6): the weights of output channels 6g..6g+5, zero past M
    n_, c_, size = xq.shape
    g_, kh, kw = wq.shape[0], wq.shape[2], wq.shape[3]
    m_, oh_, ow_ = out.shape[1], out.shape[2], out.shape[3]
    tiles = (ow_ + _TILE - 1) // _TILE
    xf, wf, of = xq.reshape(xq.size), wq.reshape(wq.size), out.reshape(out.size)
    for t in prange(n_ * oh_ * tiles):
        n, y, q0 = t // (oh_ * tiles), (t // tiles) % oh_, (t % tiles) * _TILE
        for g in range(g_):
            m0 = g * _MR
            a00 = a01 = vsplat(bq[m0])
            a10 = a11 = vsplat(bq[m0 + 1])
            a20 = a21 = vsplat(bq[m0 + 2])
            a30 = a31 = vsplat(bq[m0 + 3])
            a40 = a41 = vsplat(bq[m0 + 4])
            a50 = a51 = vsplat(bq[m0 + 5])
            for c in range(c_):
                for i in range(kh):
                    b = (n * c_ + c) * size + (y + i * dh) * row + q0
                    wb = ((g * c_ + c) * kh + i) * kw * _MR
                    for j in range(kw):
                        x0, x1 = vload(xf, _u(b + j * dw)), vload(xf, _u(b + j * dw + 8))
                        w = vsplat(wf[_u(wb + j * _MR)])
                        a00, a01 = vfma(w, x0, a00), vfma(w, x1, a01)
                        w = vsplat(wf[_u(wb + j * _MR + 1)])
                        a10, a11 = vfma(w, x0, a10), vfma(w, x1, a11)
                        w = vsplat(wf[_u(wb + j * _MR + 2)])
                        a20, a21 = vfma(w, x0, a20), vfma(w, x1, a21)
                        w = vsplat(wf[_u(wb + j * _MR + 3)])
                        a30, a31 = vfma(w, x0, a30), vfma(w, x1, a31)
                        w = vsplat(wf[_u(wb + j * _MR + 4)])
                        a40, a41 = vfma(w, x0, a40), vfma(w, x1, a41)
                        w = vsplat(wf[_u(wb + j * _MR + 5)])
                        a50, a51 = vfma(w, x0, a50), vfma(w, x1, a51)
            nw = min(_TILE, ow_ - q0)
            for r, (v0, v1) in enumerate(((a00, a01), (a10, a11), (a20, a21), (a30, a31), (a40, a41), (a50, a51))):
                if m0 + r < m_:
                    o = ((n * m_ + m0 + r) * oh_ + y) * ow_ + q0
                    if nw == _TILE:
                        vstore(of, _u(o), v0)
                        vstore(of, _u(o + 8), v1)
                    else:
                        for p in range(nw):
                            of[_u(o + p)] = vget(v0, p) if p < 8 else vget(v1, p - 8)


def conv2d(x, w, b, win):
    """The stride-1 convolution of x (N, C, H, W) with w (M, C, KH, KW) plus b (M,) or None: (N, M, OH, OW)."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow, row = _grid(h, wd, win)
    wq, bq = packed_weights(w, b, _MR)
    out = np.empty((n, m, oh, ow), np.float32)
    _conv_nb(_on_grid(x, win.ph, win.pw, row), wq, bq, out, row, win.dh, win.dw)
    return out


@kernel
def _weight_grad_nb(xq, gt, row, kh, kw, dh, dw, part):
    # xq (N, C, size) padded planes; gt (N, OH, OW, MQ) the output gradient channels-last, MQ a multiple of 16 (zero
    # past M); part (blocks, MQ/16, C, tap groups, 5, 16): a task sums 16 output channels (two vectors) x 5 taps (of the
    # KH*KW in row-major order) over one block of _NB images, each pixel's input broadcast against its 16 gradients.
    # Per-block sums keep the tasks independent and the result deterministic.
    n_, c_, size = xq.shape
    oh_, ow_, mq = gt.shape[1], gt.shape[2], gt.shape[3]
    blocks, mg, tap_groups = part.shape[0], part.shape[1], part.shape[3]
    xf, gf, pf = xq.reshape(xq.size), gt.reshape(gt.size), part.reshape(part.size)
    for t in prange(blocks * mg * c_ * tap_groups):
        blk, r = t // (mg * c_ * tap_groups), t % (mg * c_ * tap_groups)
        p, c, q = r // (c_ * tap_groups), (r // tap_groups) % c_, r % tap_groups
        o0, o1, o2 = _tap_offset(q * 5, kh, kw, row, dh, dw), _tap_offset(q * 5 + 1, kh, kw, row, dh, dw), \
            _tap_offset(q * 5 + 2, kh, kw, row, dh, dw)
        o3, o4 = _tap_offset(q * 5 + 3, kh, kw, row, dh, dw), _tap_offset(q * 5 + 4, kh, kw, row, dh, dw)
        a00 = a01 = a02 = a03 = a04 = a10 = a11 = a12 = a13 = a14 = vzero()
        for n in range(blk * _NB, min(n_, blk * _NB + _NB)):
            for y in range(oh_):
                gb = ((n * oh_ + y) * ow_) * mq + p * 16
                xb = (n * c_ + c) * size + y * row
                for x in range(ow_):
                    g0, g1 = vload(gf, _u(gb + x * mq)), vload(gf, _u(gb + x * mq + 8))
                    v = vsplat(xf[_u(xb + x + o0)])
                    a00, a10 = vfma(v, g0, a00), vfma(v, g1, a10)
                    v = vsplat(xf[_u(xb + x + o1)])
                    a01, a11 = vfma(v, g0, a01), vfma(v, g1, a11)
                    v = vsplat(xf[_u(xb + x + o2)])
                    a02, a12 = vfma(v, g0, a02), vfma(v, g1, a12)
                    v = vsplat(xf[_u(xb + x + o3)])
                    a03, a13 = vfma(v, g0, a03), vfma(v, g1, a13)
                    v = vsplat(xf[_u(xb + x + o4)])
                    a04, a14 = vfma(v, g0, a04), vfma(v, g1, a14)
        o = (((blk * mg + p) * c_ + c) * tap_groups + q) * 80
        for s, (v0, v1) in enumerate(((a00, a10), (a01, a11), (a02, a12), (a03, a13), (a04, a14))):
            vstore(pf, _u(o + s * 16), v0)
            vstore(pf, _u(o + s * 16 + 8), v1)


def weight_grad(x, grad, win):
    """The weight gradient (M, C, KH, KW) of the stride-1 conv2d(x, w, b, win) for its output gradient grad."""
    kh, kw, _, _, _, _, dh, dw = win
    return weight_grad_by_channels(x, grad, win, 5, 16, lambda xq, gt, row, part: _weight_grad_nb(
        xq, gt, row, kh, kw, dh, dw, part))
