"""The padded-input layout the vector convolution kernels read (simd_conv8.py, simd_conv16.py), and what both widths
share around their kernels.

Each image plane is padded into a flat run of floats holding an (hq, row)-grid, zero outside the image, so a tap is
one constant offset from a pixel; for a strided convolution each padded row is dealt into `stride` phases of `row`
floats, so the taps of neighbouring outputs are neighbours again. The weight gradient reads the output gradient
channels-last (one vector of channels at a pixel), its per-block partial sums keeping tasks independent and the
result deterministic.
"""
import numpy as np

from ._jit import inline, kernel, prange

_u = np.uint64   # unsigned indices: no negative-index wrap-around test in the loops (see backend_cpu)
_NB = 4          # images per weight-gradient block: its gradient and input planes stay in L2


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


@inline
def _tap_offset(tap, kh, kw, row, dh, dw, sw=1):
    # a tap's offset on the grid (_on_grid: rows of sw phases of `row` floats); taps past KH*KW read tap 0 and
    # their sums are dropped
    if tap >= kh * kw:
        return 0
    q = (tap % kw) * dw
    return (tap // kw) * dh * sw * row + (q % sw) * row + q // sw


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


def packed_weights(w, b, mr):
    """w (M, C, KH, KW) laid (G, C, KH, KW, mr) for kernels that hold mr output channels a task (zero past M), and
    the bias (G * mr,) (zero for None)."""
    m, c, kh, kw = w.shape
    g = -(-m // mr)
    wq = np.zeros((g * mr, c, kh, kw), np.float32)
    wq[:m] = w
    bq = np.zeros(g * mr, np.float32)
    if b is not None:
        bq[:m] = b
    return np.ascontiguousarray(wq.reshape(g, mr, c, kh, kw).transpose(0, 2, 3, 4, 1)), bq


def weight_grad_by_channels(x, grad, win, taps, lanes, run):
    """The weight gradient (M, C, KH, KW) through a kernel that holds `lanes` output channels x `taps` taps a task:
    run(xq, gt, row, part) with the input on the grid, the output gradient channels-last (M rounded up to lanes) and
    part (blocks, M / lanes, C, tap groups, taps, lanes) to fill."""
    kh, kw, sh, sw, ph, pw, dh, dw = win
    n, c, h, wd = x.shape
    m, oh, ow = grad.shape[1:]
    # every tap of every output stays inside the padded image: no slack needed
    row = max(ow + (kw - 1) * dw // sw, -(-(wd + 2 * pw) // sw))
    mq, tap_groups = -(-m // lanes) * lanes, -(-(kh * kw) // taps)
    gt = np.empty((n, oh, ow, mq), np.float32)
    _channels_last_nb(np.ascontiguousarray(grad), gt)
    part = np.empty((-(-n // _NB), mq // lanes, c, tap_groups, taps, lanes), np.float32)
    run(_on_grid(x, ph, pw, row, sw), gt, row, part)
    gw = part.sum(axis=0, dtype=np.float32).transpose(0, 4, 1, 2, 3).reshape(mq, c, tap_groups * taps)
    return np.ascontiguousarray(gw[:m, :, :kh * kw]).reshape(m, c, kh, kw)
