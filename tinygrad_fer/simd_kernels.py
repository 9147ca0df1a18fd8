"""CPU kernels written with 8-wide float32 vectors (simd.py): backend_cpu's float32 direct convolution and max-pool.
Importing this module loads Numba (simd.py defines a Numba type), so backend_cpu imports it on first use.

Direct 2-D convolution (float32, stride 1, one group; backend_cpu.direct_conv says when ops use it). Every output
tile is summed in vector registers straight from the padded input, so no im2col columns are made and nothing is
packed: faster than im2col + SGEMM on the CIFAR net's layers (bench/README.md), whose packing of the big column
matrix costs as much as its arithmetic when one side of the product has only 16-32 rows. The input gradient is the
same kernel run on the padded output gradient with the flipped, transposed weights (ops/conv.py); the weight
gradient has its own kernel. Layout: each image plane is padded into a flat run of floats holding an (hq, row)-grid,
zero outside the image, so a tap is one constant offset from a pixel. The forward pass reads 16 outputs' inputs of a
row as two 8-float loads; the weight gradient broadcasts each pixel's input against 16 channels of the output
gradient, laid channels-last.

The logistic function (float32): 8 lanes at a time through simd.py's vector exp (a scalar expf per element ran
7x slower than PyTorch's on LeNet's activations: bench/README.md).

Max-pool forward (float32): 8 outputs of a row at a time, each tap one strided gather; faster than backend_cpu's
scalar kernel on the CIFAR net's pools (bench/README.md).
"""
import numpy as np

from ._jit import inline, kernel, prange
from .simd import vadd, vfma, vgather, vget, vload, vload16, vmaxarg, vramp, vsigmoid, vsplat, vsplat16, vstore, \
    vstore_n, vzero, vzero16
from .window import window_taps

_u = np.uint64   # unsigned indices: no negative-index wrap-around test in the loops (see backend_cpu)
_TILE = 16       # outputs of a row per forward task: two vectors
_MR = 6          # output channels per forward task: 6 x 2 accumulators + 2 inputs + 1 weight fill 15 of 16 registers
_NB = 4          # images per weight-gradient block: its gradient and input planes stay in L2


def _grid(h, w, win):
    """(oh, ow, row): the output size and the forward pass's padded row, wide enough for its last tile's windows."""
    oh, ow = win.out_size(h, w)
    return oh, ow, max(-(-ow // _TILE) * _TILE + win.dw * (win.kw - 1), w + 2 * win.pw)


@kernel
def _pad_nb(a, out, ph, pw, lo, hi):
    # out (N, C, HQ, SW, ROWP): out[n, c, y, r, k] = a[n, c, y - ph, k * SW + r - pw], zero outside a: each padded
    # row dealt into SW phases (one for stride 1), so a strided window's taps of neighbouring outputs are neighbours;
    # lo[r]:hi[r] are phase r's columns inside a. One pass, parallel over planes: NumPy's zeros-then-copy takes two
    # passes on one thread (bench/README.md).
    n_, c_, h_, w_ = a.shape
    hq, sw, rowp = out.shape[2], out.shape[3], out.shape[4]
    af, of = a.reshape(a.size), out.reshape(out.size)
    for p in prange(n_ * c_):
        for y in range(hq):
            iy = y - ph
            for r in range(sw):
                o = ((p * hq + y) * sw + r) * rowp
                if iy < 0 or iy >= h_:
                    for k in range(rowp):
                        of[_u(o + k)] = 0
                    continue
                for k in range(lo[r]):
                    of[_u(o + k)] = 0
                src = (p * h_ + iy) * w_ + r - pw
                if sw == 1:
                    for k in range(lo[0], hi[0]):
                        of[_u(o + k)] = af[_u(src + k)]
                else:
                    for k in range(lo[r], hi[r]):
                        of[_u(o + k)] = af[_u(src + k * sw)]
                for k in range(hi[r], rowp):
                    of[_u(o + k)] = 0


def _on_grid(a, ph, pw, row, sw=1):
    """a (N, C, H, W) padded by ph rows above and below and pw columns on the left, into zeroed (N, C, size) planes:
    H + 2 ph rows, each dealt into sw phases of `row` floats (columns r, r + sw, ... of the padded row in phase r;
    row * sw >= W + 2 pw)."""
    flat, size = _on_grid_flat(a, ph, pw, row, 0, sw)
    return flat.reshape(a.shape[0], a.shape[1], size)


def _on_grid_flat(a, ph, pw, row, slack, sw=1):
    """_on_grid's planes as one flat array with `slack` zeros after them, and the size of a plane."""
    n, c, h, w = a.shape
    size = (h + 2 * ph) * sw * row
    flat = np.empty(n * c * size + slack, np.float32)
    flat[n * c * size:] = 0
    phase = np.arange(sw)
    lo = np.minimum(row, np.maximum(0, -((phase - pw) // sw)))              # ceil((pw - r) / sw), clipped
    hi = np.maximum(lo, np.minimum(row, -((phase - pw - w) // sw)))         # ceil((pw + w - r) / sw), clipped
    _pad_nb(np.ascontiguousarray(a), flat[:n * c * size].reshape(n, c, h + 2 * ph, sw, row), ph, pw, lo, hi)
    return flat, size


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
    """The convolution of x (N, C, H, W) with w (M, C, KH, KW) plus b (M,) or None: (N, M, OH, OW) (any stride where
    the kernels are 16 wide, stride 1 otherwise)."""
    if WIDE:
        return _conv2d_narrow(x, w, b, win) if win.out_size(x.shape[2], x.shape[3])[1] <= 8 else \
            _conv2d_wide(x, w, b, win)
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow, row = _grid(h, wd, win)
    g = -(-m // _MR)
    wq = np.zeros((g * _MR, c, kh, kw), np.float32)
    wq[:m] = w
    wq = np.ascontiguousarray(wq.reshape(g, _MR, c, kh, kw).transpose(0, 2, 3, 4, 1))
    bq = np.zeros(g * _MR, np.float32)
    if b is not None:
        bq[:m] = b
    out = np.empty((n, m, oh, ow), np.float32)
    _conv_nb(_on_grid(x, win.ph, win.pw, row), wq, bq, out, row, win.dh, win.dw)
    return out


@inline
def _tap_offset(tap, kh, kw, row, dh, dw, sw=1):
    # a tap's offset on the grid (_on_grid: rows of sw phases of `row` floats); taps past KH*KW read tap 0 and
    # their sums are dropped
    if tap >= kh * kw:
        return 0
    q = (tap % kw) * dw
    return (tap // kw) * dh * sw * row + (q % sw) * row + q // sw


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


@kernel
def _channels_last_nb(g, gt):
    # g (N, M, OH, OW) -> gt (N, OH, OW, MQ), zero past M: a row of every channel at a time, in cache (NumPy's own
    # transpose is several times slower on the first layer's gradient: bench/README.md)
    n_, m_, oh_, ow_ = g.shape
    mq = gt.shape[3]
    for t in prange(n_ * oh_):
        n, y = t // oh_, t % oh_
        for x in range(ow_):
            for m in range(m_, mq):
                gt[n, y, x, m] = 0
        for m in range(m_):
            for x in range(ow_):
                gt[n, y, x, m] = g[n, m, y, x]


def conv2d_weight_grad(x, grad, win):
    """The weight gradient (M, C, KH, KW) of conv2d(x, w, b, win) for its output gradient grad (any stride where
    the kernels are 16 wide, stride 1 otherwise)."""
    kh, kw, sh, sw, ph, pw, dh, dw = win
    n, c, h, wd = x.shape
    m, oh, ow = grad.shape[1:]
    if WIDE and m <= 8 and bool(np.isfinite(x).all()):
        return _weight_grad_few_channels(x, grad, win)
    # every tap of every output stays inside the padded image: no slack needed
    row = max(ow + (kw - 1) * dw // sw, -(-(wd + 2 * pw) // sw))
    if WIDE:    # taps summed 9 at a time, output channels 16 or 32 (one or two vectors) at a time
        taps, lanes = _TAPS16, 16 if m <= 16 else 32
        fn = _weight_grad16_nb if m <= 16 else _weight_grad32_nb
    else:
        taps, lanes = 5, 16
    mq, tap_groups = -(-m // lanes) * lanes, -(-(kh * kw) // taps)
    gt = np.empty((n, oh, ow, mq), np.float32)
    _channels_last_nb(np.ascontiguousarray(grad), gt)
    part = np.empty((-(-n // _NB), mq // lanes, c, tap_groups, taps, lanes), np.float32)
    xq = _on_grid(x, ph, pw, row, sw)
    if WIDE:
        fn(xq, gt, row, kh, kw, sh, sw, dh, dw, part)
    else:
        _weight_grad_nb(xq, gt, row, kh, kw, dh, dw, part)
    gw = part.sum(axis=0, dtype=np.float32).transpose(0, 4, 1, 2, 3).reshape(mq, c, tap_groups * taps)
    return np.ascontiguousarray(gw[:m, :, :kh * kw]).reshape(m, c, kh, kw)


# ---- 16-wide versions, for CPUs with AVX-512 (32 vector registers, and on Zen 5 full-width FMA units) ----------
# The same sums in the same order as the 8-wide kernels above (so the same results, to the bit), blocked for 32
# registers: the forward pass holds 3 output rows x 16 columns x 8 channels (24 accumulators), the weight gradient 16
# output channels x 9 taps. Twice the 8-wide kernels' speed per core on Zen 5 (bench/README.md).
_R = 3          # output rows per forward task
_MR16 = 8       # output channels per forward task
_TAPS16 = 9     # taps per weight-gradient task


def _wide():
    """Whether this CPU runs 16-float vectors natively (AVX-512): elsewhere LLVM splits them and the 24-accumulator
    blocks spill, so the 8-wide kernels stay faster there."""
    from llvmlite import binding
    return bool(binding.get_host_cpu_features().get("avx512f", False))


WIDE = _wide()


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
            m0 = g * _MR16
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
                    wb = ((g * c_ + c) * kh + i) * kw * _MR16
                    for j in range(kw):
                        x0 = vload16(xf, _u(b + taps[j]))
                        x1 = vload16(xf, _u(b + taps[j] + sh * rs))
                        x2 = vload16(xf, _u(b + taps[j] + 2 * sh * rs))
                        k = wb + j * _MR16
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


def _conv2d_wide(x, w, b, win):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    oh, ow = win.out_size(h, wd)
    row = max(-(-ow // 16) * 16 + win.dw * (kw - 1) // win.sw, -(-(wd + 2 * win.pw) // win.sw))
    g = -(-m // _MR16)
    wq = np.zeros((g * _MR16, c, kh, kw), np.float32)
    wq[:m] = w
    wq = np.ascontiguousarray(wq.reshape(g, _MR16, c, kh, kw).transpose(0, 2, 3, 4, 1))
    bq = np.zeros(g * _MR16, np.float32)
    if b is not None:
        bq[:m] = b
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
            m0 = g * _MR
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
                        k = (((g * c_ + c) * kh + i) * kw + j) * _MR
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
    g = -(-m // _MR)
    wq = np.zeros((g * _MR, c, kh, kw), np.float32)
    wq[:m] = w
    wq = np.ascontiguousarray(wq.reshape(g, _MR, c, kh, kw).transpose(0, 2, 3, 4, 1))
    bq = np.zeros(g * _MR, np.float32)
    if b is not None:
        bq[:m] = b
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
    t0 = q * _TAPS16
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
        o = (((blk * mg + p) * c_ + c) * tap_groups + q) * _TAPS16 * 16
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
        o = (((blk * mg + p) * c_ + c) * tap_groups + q) * _TAPS16 * 32
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
    blocks, tap_groups = part.shape[0], part.shape[3] // _TAPS16
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
        base = ((blk * mq + 2 * p) * c_ + c) * tap_groups * _TAPS16 + q * _TAPS16
        other = c_ * tap_groups * _TAPS16       # the next output channel's
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
    owq, mq, tap_groups = -(-ow // 16) * 16, -(-m // 2) * 2, -(-(kh * kw) // _TAPS16)
    row = max(owq + (kw - 1) * dw // sw, -(-(x.shape[3] + 2 * pw) // sw))   # the last vector's taps stay inside
    gp = np.zeros((n, mq, oh, owq), np.float32)
    gp[:, :m, :, :ow] = grad
    part = np.empty((-(-n // _NB), mq, c, tap_groups * _TAPS16), np.float32)
    _weight_grad_pixels_nb(_on_grid(x, ph, pw, row, sw), gp, row, kh, kw, sh, sw, dh, dw, part)
    gw = part.sum(axis=0, dtype=np.float32)
    return np.ascontiguousarray(gw[:m, :, :kh * kw]).reshape(m, c, kh, kw)


@kernel
def _max_pool_nb(xq, out, idx, h_, w_, kh, kw, sh, sw, ph, pw, dh, dw, first):
    # xq (planes, H, WQ): the input, its columns padded with -inf (pw on the left, what the last window needs on the
    # right); first (OW rounded up to 8): each output's first in-bounds column, where PyTorch's index starts
    p_, wq = xq.shape[0], xq.shape[2]
    oh_, ow_ = out.shape[1], out.shape[2]
    xf, of, jf = xq.reshape(xq.size), out.reshape(out.size), idx.reshape(idx.size)
    for t in prange(p_ * oh_):
        p, oh = t // oh_, t % oh_
        y0 = oh * sh - ph
        i0, i1 = window_taps(y0, dh, kh, h_)      # rows outside the input are skipped, not padded
        row0 = np.float32((y0 + i0 * dh) * w_)
        for ow0 in range(0, ow_, 8):
            cnt = min(8, ow_ - ow0)
            # indices ride along as float32 (exact below 2**24, which the caller checks)
            best, arg = vsplat(np.float32(-np.inf)), vadd(vsplat(row0), vload(first, _u(ow0)))
            for i in range(i0, i1):
                y = y0 + i * dh
                b = (p * h_ + y) * wq + ow0 * sw
                for j in range(kw):
                    best, arg = vmaxarg(best, arg, vgather(xf, b + j * dw, sw, cnt),
                                        vramp(np.float32(y * w_ + ow0 * sw - pw + j * dw), np.float32(sw)))
            o = (p * oh_ + oh) * ow_ + ow0
            for k in range(cnt):
                of[_u(o + k)] = vget(best, k)
                jf[_u(o + k)] = np.int64(vget(arg, k))


def max_pool2d(x, win, ceil_mode):
    """backend_cpu.max_pool2d for float32 planes of fewer than 2**24 pixels: (out, idx) with the same tie rules."""
    n, c, h, w = x.shape
    kh, kw, sh, sw, ph, pw, dh, dw = win
    oh, ow = win.out_size(h, w, ceil_mode)
    right = max(0, win.span(oh, ow)[1] - pw - w)
    if pw == 0 and right == 0:
        xq = np.ascontiguousarray(x).reshape(n * c, h, w)
    else:
        xq = np.full((n * c, h, pw + w + right), -np.inf, np.float32)
        xq[:, :, pw:pw + w] = x.reshape(n * c, h, w)
    x0 = np.arange(ow) * sw - pw
    first = np.zeros(-(-ow // 8) * 8, np.float32)
    first[:ow] = x0 + np.where(x0 >= 0, 0, (dw - 1 - x0) // dw) * dw     # also an all-padding window's index
    out = np.empty((n, c, oh, ow), np.float32)
    idx = np.empty((n, c, oh, ow), np.int64)
    _max_pool_nb(xq, out.reshape(n * c, oh, ow), idx.reshape(n * c, oh, ow), h, w, kh, kw, sh, sw, ph, pw, dh, dw,
                 first)
    return out, idx


@kernel
def _sigmoid_nb(x, out):
    xf, of = x.reshape(x.size), out.reshape(out.size)
    whole = xf.size // 8
    for b in prange(whole):
        vstore(of, _u(b * 8), vsigmoid(vload(xf, _u(b * 8))))
    if whole * 8 < xf.size:     # the last few through an 8-float scratch vector
        tail = np.zeros(8, np.float32)
        for i in range(whole * 8, xf.size):
            tail[i - whole * 8] = xf[i]
        v = vsigmoid(vload(tail, _u(0)))
        for i in range(whole * 8, xf.size):
            of[i] = vget(v, i - whole * 8)


def sigmoid(x, out):
    """out = 1 / (1 + e^-x) of a contiguous float32 array x into out."""
    _sigmoid_nb(x, out)
