"""CPU kernels written with float32 vectors (simd.py): backend_cpu's float32 direct convolution, max-pool and
sigmoid. Importing this module loads Numba (simd.py defines Numba types), so backend_cpu imports it on first use.

Direct 2-D convolution (float32, one group; backend_cpu.direct_conv says when ops use it): every output tile is
summed in vector registers straight from the padded input (simd_grid.py), so no im2col columns are made and nothing
is packed: faster than im2col + SGEMM on the CIFAR net's layers (bench/README.md), whose packing of the big column
matrix costs as much as its arithmetic when one side of the product has only 16-32 rows. 16 floats wide
(simd_conv16.py, any stride) where the CPU has AVX-512, else 8 (simd_conv8.py, stride 1). The input gradient of a
stride-1 convolution is the same kernel run on the padded output gradient with the flipped, transposed weights
(ops/conv.py); the weight gradient has kernels of its own.

The logistic function (float32): 8 lanes at a time through simd.py's vector exp (a scalar expf per element ran
7x slower than PyTorch's on LeNet's activations: bench/README.md).

Max-pool forward (float32): 8 outputs of a row at a time, each tap one strided gather; faster than backend_cpu's
scalar kernel on the CIFAR net's pools (bench/README.md).
"""
import numpy as np

from . import simd_conv8, simd_conv16
from ._jit import kernel, prange
from .simd import vadd, vgather, vget, vload, vmaxarg, vramp, vsigmoid, vsplat, vstore
from .simd_grid import _u
from .window import window_taps


def _wide():
    """Whether this CPU runs 16-float vectors natively (AVX-512): elsewhere LLVM splits them and the 24-accumulator
    blocks spill, so the 8-wide kernels stay faster there."""
    from llvmlite import binding
    return bool(binding.get_host_cpu_features().get("avx512f", False))


WIDE = _wide()      # tests set it to run the other width's kernels


def conv2d(x, w, b, win):
    """The convolution of x (N, C, H, W) with w (M, C, KH, KW) plus b (M,) or None: (N, M, OH, OW) (any stride where
    the kernels are 16 wide, stride 1 otherwise)."""
    return (simd_conv16 if WIDE else simd_conv8).conv2d(x, w, b, win)


def conv2d_weight_grad(x, grad, win):
    """The weight gradient (M, C, KH, KW) of conv2d(x, w, b, win) for its output gradient grad (any stride where
    the kernels are 16 wide, stride 1 otherwise)."""
    return (simd_conv16 if WIDE else simd_conv8).weight_grad(x, grad, win)


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
