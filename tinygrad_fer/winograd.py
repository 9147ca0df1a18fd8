"""Winograd's minimal filtering F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray, 2015).

Each 2x2 block of outputs comes from a 4x4 input tile with 16 multiplications per input/output channel pair instead
of 36: the input tiles and the weights are transformed (V = B^T d B, U = G g G^T), the 16 transformed positions
become 16 independent matrix products V[k] @ U[k] over the channels (one batched GEMM), and each product tile is
transformed back (Y = A^T M A). The transforms run channels-last, so their innermost loop is a long contiguous run
over channels (CIFAR-sized planes give rows of only 4-16 tiles). The transforms only add and subtract (and halve,
for the weights): the result differs from the direct sums by a few float32 roundings. Non-finite values would mix
within a tile (inf - inf), so the backend takes this path only for finite operands.
"""
import numpy as np

from ._jit import kernel, prange

_u = np.uint64   # unsigned indices: no negative-index wrap-around test, which keeps LLVM from vectorising



def _g_rows(g0, g1, g2):
    """G applied to three rows (G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]])."""
    return g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2


def _gt_rows(d0, d1, d2, d3):
    """G^T applied to four rows."""
    return d0 + (d1 + d2) * 0.5, (d1 - d2) * 0.5, (d1 + d2) * 0.5 + d3


def _weight_tiles(w):
    """U = G g G^T of every 3x3 filter of w (M, C, 3, 3), laid (16, C, M) for the products: elementwise over the
    filters (an einsum over the small axes costs milliseconds at 128 x 128 channels)."""
    w = w.astype(np.float64)
    rows = _g_rows(w[:, :, 0, :], w[:, :, 1, :], w[:, :, 2, :])                   # 4 x (M, C, 3)
    u = np.stack([np.stack(_g_rows(r[..., 0], r[..., 1], r[..., 2])) for r in rows])   # (4, 4, M, C)
    return np.ascontiguousarray(u.astype(np.float32).transpose(0, 1, 3, 2)).reshape(16, w.shape[1], w.shape[0])


def _weight_gradient(du):
    """G^T dU G of every (4, 4) tile of du (4, 4, M, C): the filters' gradients, (M, C, 3, 3)."""
    du = du.astype(np.float64)
    rows = _gt_rows(du[0], du[1], du[2], du[3])                                   # 3 x (4, M, C)
    g = np.stack([np.stack(_gt_rows(r[0], r[1], r[2], r[3]), axis=-1) for r in rows], axis=-2)   # (M, C, 3, 3)
    return g.astype(np.float32)


@kernel
def _input_tiles_nb(xh, v, th_, tw_):
    # xh (N, 2*TH + 2, 2*TW + 2, C) padded input, channels last; v (16, N*TH*TW, C): B^T d B of each 4x4 tile d,
    # tiles 2 apart. B^T d combines rows [d0 - d2, d1 + d2, d2 - d1, d1 - d3]; (.) B the same over columns. The loop
    # over channels reads and writes contiguous runs; flat unsigned indices (_u) keep it free of Numba's
    # negative-index tests, without which LLVM does not vectorise it (18 ms -> 2.3 ms on a 64-channel layer).
    n_, hq, wq, c_ = xh.shape
    xf, vf = xh.reshape(xh.size), v.reshape(v.size)
    plane = v.shape[1] * c_
    row = wq * c_
    c1, c2, c3 = c_, 2 * c_, 3 * c_     # the next pixels of a row, channels last
    for t in prange(n_ * th_):
        n, th = t // th_, t % th_
        for tw in range(tw_):
            base = ((n * hq + 2 * th) * wq + 2 * tw) * c_
            o = ((n * th_ + th) * tw_ + tw) * c_
            for c in range(c_):
                i0 = base + c               # the tile's four rows at this channel
                i1, i2, i3 = i0 + row, i0 + 2 * row, i0 + 3 * row
                a0, a1 = xf[_u(i0)] - xf[_u(i2)], xf[_u(i0 + c1)] - xf[_u(i2 + c1)]
                a2, a3 = xf[_u(i0 + c2)] - xf[_u(i2 + c2)], xf[_u(i0 + c3)] - xf[_u(i2 + c3)]
                b0, b1 = xf[_u(i1)] + xf[_u(i2)], xf[_u(i1 + c1)] + xf[_u(i2 + c1)]
                b2, b3 = xf[_u(i1 + c2)] + xf[_u(i2 + c2)], xf[_u(i1 + c3)] + xf[_u(i2 + c3)]
                e0, e1 = xf[_u(i2)] - xf[_u(i1)], xf[_u(i2 + c1)] - xf[_u(i1 + c1)]
                e2, e3 = xf[_u(i2 + c2)] - xf[_u(i1 + c2)], xf[_u(i2 + c3)] - xf[_u(i1 + c3)]
                f0, f1 = xf[_u(i1)] - xf[_u(i3)], xf[_u(i1 + c1)] - xf[_u(i3 + c1)]
                f2, f3 = xf[_u(i1 + c2)] - xf[_u(i3 + c2)], xf[_u(i1 + c3)] - xf[_u(i3 + c3)]
                q = o + c
                vf[_u(q)], vf[_u(q + plane)], vf[_u(q + 2 * plane)], vf[_u(q + 3 * plane)] = \
                    a0 - a2, a1 + a2, a2 - a1, a1 - a3
                vf[_u(q + 4 * plane)], vf[_u(q + 5 * plane)], vf[_u(q + 6 * plane)], vf[_u(q + 7 * plane)] = \
                    b0 - b2, b1 + b2, b2 - b1, b1 - b3
                vf[_u(q + 8 * plane)], vf[_u(q + 9 * plane)], vf[_u(q + 10 * plane)], vf[_u(q + 11 * plane)] = \
                    e0 - e2, e1 + e2, e2 - e1, e1 - e3
                vf[_u(q + 12 * plane)], vf[_u(q + 13 * plane)], vf[_u(q + 14 * plane)], vf[_u(q + 15 * plane)] = \
                    f0 - f2, f1 + f2, f2 - f1, f1 - f3


@kernel
def _output_tiles_nb(mo, bias, out, th_, tw_):
    # mo (16, N*TH*TW, M) products; out (N, 2*TH, 2*TW, M) channels last = A^T m A of each tile plus the bias.
    # A^T m combines rows [m0 + m1 + m2, m1 - m2 - m3]; (.) A the same over columns. Flat, unsigned indices.
    n_, oh2, ow2, m_ = out.shape
    mf, of = mo.reshape(mo.size), out.reshape(out.size)
    plane = mo.shape[1] * m_
    row = ow2 * m_
    for t in prange(n_ * th_):
        n, th = t // th_, t % th_
        for tw in range(tw_):
            o = ((n * oh2 + 2 * th) * ow2 + 2 * tw) * m_
            base = ((n * th_ + th) * tw_ + tw) * m_
            for m in range(m_):
                i = base + m
                m0, m1, m2, m3 = mf[_u(i)], mf[_u(i + plane)], mf[_u(i + 2 * plane)], mf[_u(i + 3 * plane)]
                m4, m5, m6, m7 = mf[_u(i + 4 * plane)], mf[_u(i + 5 * plane)], mf[_u(i + 6 * plane)], \
                    mf[_u(i + 7 * plane)]
                m8, m9, m10, m11 = mf[_u(i + 8 * plane)], mf[_u(i + 9 * plane)], mf[_u(i + 10 * plane)], \
                    mf[_u(i + 11 * plane)]
                m12, m13, m14, m15 = mf[_u(i + 12 * plane)], mf[_u(i + 13 * plane)], mf[_u(i + 14 * plane)], \
                    mf[_u(i + 15 * plane)]
                s0, s1, s2, s3 = m0 + m4 + m8, m1 + m5 + m9, m2 + m6 + m10, m3 + m7 + m11
                q0, q1, q2, q3 = m4 - m8 - m12, m5 - m9 - m13, m6 - m10 - m14, m7 - m11 - m15
                bv = bias[m]
                k = o + m
                of[_u(k)], of[_u(k + m_)] = s0 + s1 + s2 + bv, s1 - s2 - s3 + bv
                of[_u(k + row)], of[_u(k + row + m_)] = q0 + q1 + q2 + bv, q1 - q2 - q3 + bv


@kernel
def _gradient_tiles_nb(gh, dm, th_, tw_):
    # gh (N, 2*TH, 2*TW, M) output gradient channels last, zero past the output; dm (16, N*TH*TW, M) = A dY A^T of
    # each 2x2 block dY: the gradient of the products (A dY combines rows [y0, y0 + y1, y0 - y1, -y1]; (.) A^T the
    # same over columns)
    n_, oh2, ow2, m_ = gh.shape
    gf, df = gh.reshape(gh.size), dm.reshape(dm.size)
    plane = dm.shape[1] * m_
    row = ow2 * m_
    for t in prange(n_ * th_):
        n, th = t // th_, t % th_
        for tw in range(tw_):
            i0 = ((n * oh2 + 2 * th) * ow2 + 2 * tw) * m_
            base = ((n * th_ + th) * tw_ + tw) * m_
            for m in range(m_):
                i = i0 + m
                y00, y01, y10, y11 = gf[_u(i)], gf[_u(i + m_)], gf[_u(i + row)], gf[_u(i + row + m_)]
                # rows of A dY: [y00, y01], [y00 + y10, y01 + y11], [y00 - y10, y01 - y11], [-y10, -y11]
                a0, a1, b0, b1 = y00, y01, y00 + y10, y01 + y11
                c0, c1, e0, e1 = y00 - y10, y01 - y11, -y10, -y11
                q = base + m
                df[_u(q)], df[_u(q + plane)], df[_u(q + 2 * plane)], df[_u(q + 3 * plane)] = a0, a0 + a1, a0 - a1, -a1
                df[_u(q + 4 * plane)], df[_u(q + 5 * plane)], df[_u(q + 6 * plane)], df[_u(q + 7 * plane)] = \
                    b0, b0 + b1, b0 - b1, -b1
                df[_u(q + 8 * plane)], df[_u(q + 9 * plane)], df[_u(q + 10 * plane)], df[_u(q + 11 * plane)] = \
                    c0, c0 + c1, c0 - c1, -c1
                df[_u(q + 12 * plane)], df[_u(q + 13 * plane)], df[_u(q + 14 * plane)], df[_u(q + 15 * plane)] = \
                    e0, e0 + e1, e0 - e1, -e1


def _pays(c, m):
    """Whether Winograd beats the direct kernels on c input and m output channels: with at least 64 channels each
    (with fewer, the 16 products are too thin for the GEMM to gain what the 4x larger transformed input costs in
    memory traffic), and only against the 8-wide kernels: the 16-wide ones (AVX-512 CPUs) are faster at every size
    (bench/README.md has the per-layer timings)."""
    from . import simd_kernels
    return min(c, m) >= 64 and not simd_kernels.WIDE


def applies(x, w, b, win):
    """Whether conv2d takes this path: a 3x3 window, stride 1, no dilation, padding at most 2, float32, finite
    operands, and where it pays (_pays)."""
    return x.dtype == np.float32 and w.dtype == np.float32 and (b is None or b.dtype == np.float32) \
        and (win.kh, win.kw, win.sh, win.sw, win.dh, win.dw) == (3, 3, 1, 1, 1, 1) and win.ph <= 2 \
        and win.pw <= 2 and x.shape[2] + 2 * win.ph >= 3 and x.shape[3] + 2 * win.pw >= 3 \
        and _pays(w.shape[1], w.shape[0]) \
        and bool(np.isfinite(w).all()) and bool(np.isfinite(x).all())


def _tiles(x, win):
    """The transformed input tiles V (16, N*TH*TW, C) and the tile grid (TH, TW), the output size (OH, OW)."""
    n, c, h, wd = x.shape
    oh, ow = h + 2 * win.ph - 2, wd + 2 * win.pw - 2
    th, tw = -(-oh // 2), -(-ow // 2)
    xh = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), np.float32)    # holds the padded input: 2 * th >= oh
    xh[:, win.ph:win.ph + h, win.pw:win.pw + wd, :] = x.transpose(0, 2, 3, 1)
    v = np.empty((16, n * th * tw, c), np.float32)
    _input_tiles_nb(xh, v, th, tw)
    return v, (th, tw), (oh, ow)


def applies_weight_grad(x, grad, win):
    """Whether conv2d_weight_grad takes this path: as applies(), with the output gradient for the weight."""
    return x.dtype == np.float32 and grad.dtype == np.float32 and win.kh == win.kw == 3 \
        and (win.sh, win.sw, win.dh, win.dw) == (1, 1, 1, 1) and win.ph <= 2 and win.pw <= 2 \
        and _pays(x.shape[1], grad.shape[1]) and bool(np.isfinite(x).all()) \
        and bool(np.isfinite(grad).all())


def conv2d_weight_grad(x, grad, win):
    """The weight gradient (M, C, 3, 3) of conv2d: G^T (sum over tiles of (A dY A^T) * V) G, the sum over tiles one
    batched GEMM per transformed position."""
    m = grad.shape[1]
    v, (th, tw), (oh, ow) = _tiles(x, win)
    gh = np.zeros((x.shape[0], 2 * th, 2 * tw, m), np.float32)
    gh[:, :oh, :ow, :] = grad.transpose(0, 2, 3, 1)
    dm = np.empty((16, v.shape[1], m), np.float32)
    _gradient_tiles_nb(gh, dm, th, tw)
    return _weight_gradient(np.matmul(dm.transpose(0, 2, 1), v).reshape(4, 4, m, x.shape[1]))


def conv2d(x, w, b, win):
    """The 3x3 stride-1 convolution of x (N, C, H, W) with w (M, C, 3, 3), padded by (win.ph, win.pw), plus b."""
    n, c = x.shape[:2]
    m = w.shape[0]
    v, (th, tw), (oh, ow) = _tiles(x, win)
    mo = np.matmul(v, _weight_tiles(w))
    out = np.empty((n, 2 * th, 2 * tw, m), np.float32)
    _output_tiles_nb(mo, np.zeros(m, np.float32) if b is None else np.ascontiguousarray(b), out, th, tw)
    return np.ascontiguousarray(out[:, :oh, :ow, :].transpose(0, 3, 1, 2))
