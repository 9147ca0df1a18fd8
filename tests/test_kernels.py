"""Every kernel a backend overrides, checked against backend_base.Backend's default (the reference kernel of
kernels_ref, run on NumPy) on Hypothesis inputs: strided, transposed and flipped layouts, empty batches,
NaN / ±inf / -0.0, exact ties.

The overrides are found, not listed (`overrides`): a backend method that replaces one of Backend's is tested here as
soon as it exists, and `test_every_override_has_samples` fails until SAMPLES has a generator for it. Backends: the
CPU one; the CUDA one with its CUDA C compiled for the CPU (tests/cuda_emulation.py); the CUDA one on a GPU where
CuPy sees one. Then the few things a comparison with the default cannot show.
"""
import inspect
import os
import re
import subprocess
import sys
from typing import Callable, NamedTuple

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import tinygrad_fer
from tinygrad_fer import kernels_ref
from tinygrad_fer.backend_base import Backend
from tinygrad_fer.backend_cpu import CPUBackend, backend_cpu
from tinygrad_fer.backend_cuda import CUDABackend, backend_cuda
from tinygrad_fer.window import Window2d

from strategies import SPECIALS, scatter_specials


def overrides(cls):
    """The names of Backend's methods with a default (its kernels, asarray, add_at, ...) that cls redefines."""
    below = cls.__mro__[:cls.__mro__.index(Backend)]
    return sorted(name for name, f in vars(Backend).items()
                  if inspect.isfunction(f) and not getattr(f, "__isabstractmethod__", False)
                  and any(name in vars(c) for c in below))


# overrides that choose rather than compute: nothing to compare with the default; each has its own test
CHOICES = {"direct_conv": "test_direct_conv_takes_only_its_cases"}


class Sample(NamedTuple):
    make: Callable          # make(be) -> the kernel's arguments, arrays on be: the same values at every call
    exact: bool = False     # bit for bit, signs of zeros too; else close (sums in another order)
    terms: int = 1          # the longest sum behind one output element: scales the tolerance
    signed_zeros: bool = False
    contiguous: bool = True     # outputs are new C-contiguous arrays (the window kernels' layouts are part of them)


# ---- drawing arrays -------------------------------------------------------------------------------------------
LAYOUTS = ("contiguous", "transposed", "strided", "flipped")
MOSTLY_CONTIGUOUS = st.sampled_from(("contiguous",) * 3 + LAYOUTS[1:])   # for kernels with a contiguous fast path


def _base_shape(shape, layout):
    if layout == "strided":         # every other element of a bigger array
        return tuple(2 * s for s in shape)
    if layout == "transposed" and len(shape) >= 2:
        return shape[:-2] + shape[-2:][::-1]
    return shape


def _view(a, layout):
    if layout == "strided":
        return a[(slice(None, None, 2),) * a.ndim]
    if layout == "transposed" and a.ndim >= 2:
        return a.swapaxes(-1, -2)
    if layout in ("transposed", "flipped") and a.ndim >= 1:
        return a[..., ::-1]
    return a


def _array(draw, shape, dtype, special=None, ties=False, layouts=st.sampled_from(LAYOUTS)):
    """A drawn array: make(be) gives it on backend be, in a drawn layout, the same values at every call."""
    layout, seed = draw(layouts), draw(st.integers(0, 2 ** 31))
    shape, dtype = tuple(shape), np.dtype(dtype)

    def make(be):
        a = np.random.default_rng(seed).standard_normal(_base_shape(shape, layout))
        if ties:            # exact ties and ReLU-like zeros
            a = np.maximum(np.round(a * 2), 0)
        elif dtype.kind in "iu":
            a = np.round(a * 10)
        a = a.astype(dtype)
        if dtype.kind == "f":
            scatter_specials(a, special, seed + 1)
        return _view(be.asarray(a), layout)
    return make


FLOATS = st.sampled_from([np.float32, np.float64])


def _window(draw, pool=False, dilation=True):
    """An input shape and a window with at least one output."""
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    if pool:    # PyTorch's pooling rule: padding at most half the kernel
        ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    else:
        ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 12))
    # empty batches, and batches past 8: the CPU's col2im gives each thread blocks of 8 images
    n, c = draw(st.one_of(st.just(0), st.integers(1, 3), st.integers(8, 20))), draw(st.integers(1, 4))
    return (n, c, h, w), Window2d(kh, kw, sh, sw, ph, pw, dh, dw)


# ---- one sample generator per kernel ---------------------------------------------------------------------------
def _im2col(draw):
    shape, win = _window(draw)
    x = _array(draw, shape, draw(FLOATS), draw(SPECIALS))
    return Sample(lambda be: (x(be), win), exact=True)


def _col2im(draw):
    (n, c, h, w), win = _window(draw)
    cols = _array(draw, (c, win.kh, win.kw, n) + win.out_size(h, w), draw(FLOATS), draw(SPECIALS))
    return Sample(lambda be: (cols(be), (n, c, h, w), win), terms=win.kh * win.kw)


def _direct_window(draw):
    """What the direct convolution is built for (stride 1, windows of 3x3 and more) and its tiling depends on
    (widths past one and two 16-output tiles, heights not a multiple of 3, output channels not a multiple of 6, 8
    or 16, batches past 4-image blocks, strides, which 16-wide kernels take), and beyond it (small windows, more
    padding), where a backend falls back or must still agree."""
    kh, kw = draw(st.sampled_from([(3, 3), (5, 5), (3, 5), (4, 3), (7, 2), (1, 9), (1, 1), (2, 2)]))
    sh, sw = draw(st.sampled_from([(1, 1), (1, 1), (1, 1), (2, 1), (1, 2), (2, 2), (3, 2)]))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, dh * (kh - 1) + 1)), draw(st.integers(0, dw * (kw - 1) + 1))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 20))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 40))
    n, c, m = draw(st.integers(0, 10)), draw(st.integers(1, 5)), draw(st.integers(1, 20))
    return (n, c, h, w), (m, c, kh, kw), Window2d(kh, kw, sh, sw, ph, pw, dh, dw)


DIRECT_DTYPES = st.sampled_from([np.float32, np.float32, np.float32, np.float64])


def _conv2d(draw):
    xs, ws, win = _direct_window(draw)
    dtype, special, bias = draw(DIRECT_DTYPES), draw(SPECIALS), draw(st.booleans())
    x, w, b = (_array(draw, s, dtype, special) for s in (xs, ws, ws[:1]))
    return Sample(lambda be: (x(be), w(be), b(be) if bias else None, win), terms=ws[1] * win.kh * win.kw)


def _conv2d_weight_grad(draw):
    xs, ws, win = _direct_window(draw)
    dtype, special = draw(DIRECT_DTYPES), draw(SPECIALS)
    oh, ow = win.out_size(*xs[2:])
    x, g = _array(draw, xs, dtype, special), _array(draw, (xs[0], ws[0], oh, ow), dtype, special)
    return Sample(lambda be: (x(be), g(be), win), terms=max(1, xs[0] * oh * ow))


def _max_pool2d(draw):
    shape, win = _window(draw, pool=True)
    x = _array(draw, shape, draw(FLOATS), draw(SPECIALS), ties=draw(st.booleans()))
    ceil_mode = draw(st.booleans())
    return Sample(lambda be: (x(be), win, ceil_mode), exact=True)


def _max_pool2d_backward(draw):
    shape, win = _window(draw, pool=True)
    dtype, ceil_mode = draw(FLOATS), draw(st.booleans())
    _, idx = kernels_ref.max_pool2d(_array(draw, shape, dtype, draw(SPECIALS), ties=draw(st.booleans()))(backend_cpu),
                                    win, ceil_mode)
    g = _array(draw, idx.shape, dtype, draw(SPECIALS))
    return Sample(lambda be: (g(be), be.asarray(idx), shape), terms=win.kh * win.kw)


def _avg_args(draw):
    shape, win = _window(draw, pool=True, dilation=False)
    return shape, win, (draw(st.booleans()), draw(st.booleans()), draw(st.sampled_from([None, 1, 3])))


def _avg_pool2d(draw):
    shape, win, rest = _avg_args(draw)
    x = _array(draw, shape, draw(FLOATS), draw(SPECIALS))
    return Sample(lambda be: (x(be), win) + rest, terms=win.kh * win.kw, signed_zeros=True)


def _avg_pool2d_backward(draw):
    (n, c, h, w), win, rest = _avg_args(draw)
    g = _array(draw, (n, c) + win.out_size(h, w, rest[0]), draw(FLOATS), draw(SPECIALS))
    return Sample(lambda be: (g(be), (n, c, h, w), win) + rest, terms=win.kh * win.kw)


# past the CPU's one-thread limit for elementwise kernels too (backend_cpu._PARALLEL_MIN)
ELEMENTWISE_SHAPES = st.one_of(st.tuples(st.integers(0, 60), st.integers(0, 60)), st.just((64, 600)))


def _relu(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64, np.int32]))
    x = _array(draw, draw(ELEMENTWISE_SHAPES), dtype, draw(SPECIALS))
    return Sample(lambda be: (x(be),), exact=True, contiguous=False)


def _erf(draw):
    x, complement = _array(draw, draw(ELEMENTWISE_SHAPES), draw(FLOATS), draw(SPECIALS)), draw(st.booleans())
    return Sample(lambda be: (x(be), complement), terms=4, contiguous=False, signed_zeros=True)


def _sigmoid(draw):
    x = _array(draw, draw(ELEMENTWISE_SHAPES), draw(FLOATS), draw(SPECIALS))
    return Sample(lambda be: (x(be),), terms=4, contiguous=False, signed_zeros=True)   # exp's last bit may differ


def _sigmoid_backward(draw):
    shape, dtype = draw(ELEMENTWISE_SHAPES), draw(FLOATS)
    out = kernels_ref.sigmoid(_array(draw, shape, dtype, draw(SPECIALS))(backend_cpu))
    g = _array(draw, shape, dtype, draw(SPECIALS))
    return Sample(lambda be: (g(be), be.asarray(out)), exact=True, contiguous=False)


def _relu_backward(draw):
    shape, dtype = draw(ELEMENTWISE_SHAPES), draw(FLOATS)
    out = kernels_ref.relu(_array(draw, shape, draw(FLOATS) if draw(st.booleans()) else dtype,
                                  draw(SPECIALS))(backend_cpu))
    g = _array(draw, shape, dtype, draw(SPECIALS))
    return Sample(lambda be: (g(be), be.asarray(out)), exact=True, contiguous=False)


def _sgd_momentum_(draw):
    n, dtype = draw(st.one_of(st.integers(0, 3000), st.just(40000))), draw(FLOATS)
    w, buf = (_array(draw, (n,), dtype, layouts=MOSTLY_CONTIGUOUS) for _ in range(2))
    g = _array(draw, (n,), dtype)
    args = (draw(st.floats(1e-4, 1.0)), draw(st.floats(0.01, 0.99)), draw(st.sampled_from([0.0, 0.3])),
            draw(st.sampled_from([0.0, 1e-4, 0.1])), draw(st.booleans()), draw(st.booleans()))
    # bit for bit: the op-by-op default is checked against PyTorch's SGD (tests/test_optim.py)
    return Sample(lambda be: (w(be), g(be), buf(be)) + args, exact=True)


def _adam_(draw):
    n, dtype = draw(st.one_of(st.integers(0, 3000), st.just(40000))), draw(FLOATS)
    w, m = (_array(draw, (n,), dtype, layouts=MOSTLY_CONTIGUOUS) for _ in range(2))
    v, vmax = (_array(draw, (n,), dtype, layouts=MOSTLY_CONTIGUOUS) for _ in range(2))
    d = _array(draw, (n,), dtype)
    amsgrad = draw(st.booleans())
    args = (draw(st.floats(1e-4, 1.0)), draw(st.sampled_from([0.0, 0.5, 0.9, 0.99])),
            draw(st.sampled_from([0.0, 0.5, 0.999])), draw(st.sampled_from([1e-8, 1e-3])),
            float(draw(st.integers(1, 50))))
    # bit for bit: the op-by-op default is checked against PyTorch's Adam (tests/test_optim.py)
    def make(be):   # second moments are never negative: squares of v's and vmax's draws (their layouts kept)
        sq, smax = v(be), vmax(be)
        sq *= sq
        smax *= smax
        return (w(be), d(be), m(be), sq, smax if amsgrad else None) + args
    return Sample(make, exact=True)


def _bn_arrays(draw):
    n, c, sp, dtype = draw(st.integers(1, 5)), draw(st.integers(1, 6)), draw(st.integers(1, 40)), draw(FLOATS)
    return n, c, sp, dtype, draw(st.integers(0, 2 ** 31))


def _batch_norm_stats(draw):
    n, c, sp, dtype, seed = _bn_arrays(draw)
    x = np.random.default_rng(seed).uniform(-3, 5, (n, c, sp)).astype(dtype)
    return Sample(lambda be: (be.asarray(x),), terms=n * sp)


def _batch_norm_apply(draw):
    n, c, sp, dtype, seed = _bn_arrays(draw)
    rng = np.random.default_rng(seed)
    x, mean, invstd, w, b = (rng.standard_normal(s).astype(dtype) for s in ((n, c, sp), c, c, c, c))
    return Sample(lambda be: tuple(be.asarray(a) for a in (x, mean, np.abs(invstd), w, b)), terms=4)


def _batch_norm_backward(draw):
    n, c, sp, dtype, seed = _bn_arrays(draw)
    rng = np.random.default_rng(seed)
    g, x, mean, invstd, w = (rng.standard_normal(s).astype(dtype) for s in ((n, c, sp), (n, c, sp), c, c, c))
    flags = (draw(st.booleans()), draw(st.booleans()))
    return Sample(lambda be: tuple(be.asarray(a) for a in (g, x, mean, np.abs(invstd), w)) + flags, terms=n * sp)


def _add_at(draw):
    n, k, dtype, two_d = draw(st.integers(1, 20)), draw(st.integers(0, 50)), draw(FLOATS), draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 31))

    def make(be):
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, k)     # repeated indices: each adds; host index arrays, as from x[[0, 2]]
        a = np.zeros((n, 3) if two_d else n, dtype)
        return be.asarray(a), (idx, rng.integers(0, 3, k)) if two_d else idx, be.asarray(rng.standard_normal(k)
                                                                                           .astype(dtype))
    return Sample(make, terms=k)


SAMPLES = {"im2col": _im2col, "col2im": _col2im, "conv2d": _conv2d, "conv2d_weight_grad": _conv2d_weight_grad,
           "max_pool2d": _max_pool2d, "max_pool2d_backward": _max_pool2d_backward, "avg_pool2d": _avg_pool2d,
           "avg_pool2d_backward": _avg_pool2d_backward, "relu": _relu, "relu_backward": _relu_backward,
           "sigmoid": _sigmoid, "sigmoid_backward": _sigmoid_backward, "erf": _erf,
           "sgd_momentum_": _sgd_momentum_, "adam_": _adam_, "add_at": _add_at, "batch_norm_stats": _batch_norm_stats,
           "batch_norm_apply": _batch_norm_apply, "batch_norm_backward": _batch_norm_backward}


# ---- the comparison --------------------------------------------------------------------------------------------
def _is_array(a):
    return hasattr(a, "shape") and not np.isscalar(a)


def _results(be, fn, args, contiguous):
    """fn's outputs and then its array arguments after the call (in-place kernels write them; others must not), all
    as host arrays."""
    out = fn(*args)
    outs = out if isinstance(out, tuple) else () if out is None else (out,)
    outs = tuple(o for o in outs if o is not None)   # a gradient not asked for (both sides must agree: lengths)
    assert not contiguous or all(o.flags.c_contiguous for o in outs)
    return [a if isinstance(a, np.ndarray) else be.to_numpy(a) for a in outs + tuple(filter(_is_array, args))]


def _check_override(be, name, draw):
    sample = SAMPLES[name](draw)
    got = _results(be, getattr(be, name), sample.make(be), sample.contiguous)
    want = _results(backend_cpu, getattr(Backend, name).__get__(backend_cpu), sample.make(backend_cpu),
                    sample.contiguous)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
        if sample.exact or g.dtype.kind != "f":
            np.testing.assert_array_equal(g, w)
        else:
            tol = 1e-5 if g.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol * np.sqrt(sample.terms), equal_nan=True)
        if (sample.exact or sample.signed_zeros) and g.dtype.kind == "f":
            zero = (g == 0) & (w == 0)
            np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]))


def _cases(cls, skip=None):
    return [pytest.param(name, marks=[pytest.mark.skip(reason=skip(name))] if skip and skip(name) else [])
            for name in overrides(cls) if name not in CHOICES]


CUDA_REASON = None if backend_cuda.available() else backend_cuda._probe()[1]


@pytest.mark.parametrize("name", _cases(CPUBackend))
@given(data=st.data())
def test_cpu_override_matches_default(name, data):
    _check_override(backend_cpu, name, data.draw)


@pytest.mark.parametrize("name", _cases(CUDABackend, lambda name: "cupyx.scatter_add: GPU only"
                                        if name == "add_at" else None))
@given(data=st.data())
def test_emulated_cuda_override_matches_default(emulated_cuda, name, data):
    _check_override(emulated_cuda, name, data.draw)


@pytest.mark.skipif(CUDA_REASON is not None, reason=f"no CUDA: {CUDA_REASON}")
@pytest.mark.parametrize("name", _cases(CUDABackend))
@given(data=st.data())
def test_gpu_override_matches_default(name, data):
    _check_override(backend_cuda, name, data.draw)


def _missing_samples(cls):
    return sorted(set(overrides(cls)) - set(SAMPLES) - set(CHOICES))


@pytest.mark.parametrize("cls", [CPUBackend, CUDABackend])
def test_every_override_has_samples(cls):
    assert _missing_samples(cls) == [], f"{cls.__name__} overrides these with no sample generator in SAMPLES"


def test_overrides_are_found():
    """What each backend accelerates, as the enumeration sees it; CUDA inherits the rest (no forwarding wrappers)."""
    assert overrides(CPUBackend) == ["adam_", "avg_pool2d", "avg_pool2d_backward", "batch_norm_apply", "batch_norm_backward",
                                     "batch_norm_stats", "col2im", "conv2d", "conv2d_weight_grad", "direct_conv",
                                     "erf", "im2col", "max_pool2d", "max_pool2d_backward", "relu",
                                     "relu_backward", "sgd_momentum_", "sigmoid", "sigmoid_backward"]
    assert overrides(CUDABackend) == ["add_at", "col2im", "im2col", "max_pool2d", "max_pool2d_backward"]

    class Faster(CPUBackend):
        def seed(self, n):
            super().seed(n)
    assert "seed" in overrides(Faster) and _missing_samples(Faster) == ["seed"]


# ---- what a comparison with the default cannot show -----------------------------------------------------------
def _default_and_cpu(name):
    """Backend's default of kernel `name` and the CPU's override, both bound to the CPU backend."""
    return getattr(Backend, name).__get__(backend_cpu), getattr(backend_cpu, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(p=st.data(), seed=st.integers(0, 2 ** 31))
def test_col2im_is_the_adjoint_of_im2col(dtype, p, seed):
    """<im2col(x), g> == <x, col2im(g)>, for the default and the CPU's kernels."""
    shape, win = _window(p.draw)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    for im2col, col2im in zip(_default_and_cpu("im2col"), _default_and_cpu("col2im")):
        cols = im2col(x, win)
        g = rng.standard_normal(cols.shape).astype(dtype)
        np.testing.assert_allclose((cols.astype(np.float64) * g).sum(), (x * col2im(g, shape, win)).astype(np.float64)
                                   .sum(), rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_nan_and_inf(dtype):
    x = np.array([[[[1, np.nan, 3, np.nan], [np.nan, -np.inf, 5, 6], [-np.inf, -np.inf, 2, 2],
                    [-np.inf, -np.inf, 2, 2]]]], dtype)
    for win, want in [(Window2d(2, 2, 2, 2), [[np.nan, np.nan], [-np.inf, 2]]),
                      (Window2d(2, 2, 2, 2, 1, 1), [[1, np.nan, np.nan], [np.nan, 5, 6], [-np.inf, 2, 2]])]:
        for max_pool2d in _default_and_cpu("max_pool2d"):
            np.testing.assert_array_equal(max_pool2d(x, win, False)[0][0, 0], np.array(want, dtype))


def test_float32_sigmoid_within_an_ulp_or_two_everywhere():
    """The vector kernel's exp (simd.py) over the whole float32 range, odd lengths (the tail) and the specials:
    relative error against float64 below 3e-7 wherever the result is a normal float, 0 and 1 at the far ends."""
    x = np.concatenate([np.linspace(-120, 120, 1_000_003), np.geomspace(1e-38, 1, 10_001), -np.geomspace(1e-38, 1, 9),
                        [0, -0.0, 88.7, -88.7, 89, -89, -87.3, 1e30, -1e30]]).astype(np.float32)
    got = backend_cpu.sigmoid(x)
    want = 1 / (1 + np.exp(-x.astype(np.float64)))
    normal = want > 1.2e-38
    assert np.abs(got[normal] - want[normal]).max(initial=0) <= 3e-7 * want[normal].max()
    assert (np.abs(got[normal] - want[normal]) / want[normal]).max() < 3e-7
    assert (got[~normal] < 1.2e-38).all() and got[x > 17].min() == 1 and got[x < -104].max() == 0
    special = backend_cpu.sigmoid(np.array([np.nan, np.inf, -np.inf, 0, 1e-30, 5], np.float32))
    np.testing.assert_array_equal(special[:4], [np.nan, 1, 0, 0.5])
    assert special[4] == 0.5 and special[5] == np.float32(1 / (1 + np.exp(-5.0)))


@given(data=st.data())
def test_simd_convolution_widths_agree_to_the_bit(data):
    """The 16-wide kernels (AVX-512 CPUs) and the 8-wide ones (elsewhere) sum in the same order: the same bits, both
    forward and weight gradient, whichever this machine runs (except the weight gradient of at most 8 output
    channels, which the wide path sums over vectors of pixels: compared with the reference kernels elsewhere)."""
    from tinygrad_fer import simd_kernels
    xs, ws, win = _direct_window(data.draw)
    assume(win.sh == win.sw == 1)
    special = data.draw(SPECIALS)
    x, w, b = (_array(data.draw, s, np.float32, special)(backend_cpu) for s in (xs, ws, ws[:1]))
    g = _array(data.draw, (xs[0], ws[0]) + win.out_size(*xs[2:]), np.float32, special)(backend_cpu)
    wide = simd_kernels.WIDE
    try:
        got = []
        for simd_kernels.WIDE in (False, True):
            got.append((simd_kernels.conv2d(x, w, b, win), simd_kernels.conv2d_weight_grad(x, g, win)))
    finally:
        simd_kernels.WIDE = wide
    np.testing.assert_array_equal(got[0][0], got[1][0])
    if ws[0] > 8 or not np.isfinite(x).all():
        np.testing.assert_array_equal(got[0][1], got[1][1])


def test_default_max_pool_backward_takes_an_empty_batch():
    # the default's reshape(n * c, -1) had no size to infer from with n == 0 (CUDA runs it for non-float dtypes)
    x = np.zeros((0, 2, 5, 5), np.int64)
    out, idx = backend_cpu.max_pool2d(x.astype(np.float64), Window2d(2, 2, 2, 2), False)
    gx = Backend.max_pool2d_backward(backend_cpu, out.astype(np.int64), idx, x.shape)
    assert gx.shape == x.shape and gx.dtype == np.int64


def test_direct_conv_takes_only_its_cases():
    x, w = np.zeros((1, 2, 6, 6), np.float32), np.zeros((3, 2, 3, 3), np.float32)
    assert backend_cpu.direct_conv(x, w, (1, 1), (1, 1), (1, 1), 1)
    assert not backend_cpu.direct_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), (1, 1), 1)
    from tinygrad_fer import simd_kernels    # strided: where the kernels are 16 wide (AVX-512)
    assert backend_cpu.direct_conv(x, w, (2, 1), (1, 1), (1, 1), 1) == simd_kernels.WIDE
    assert not backend_cpu.direct_conv(x, w[:, :1], (1, 1), (1, 1), (1, 1), 2)
    assert not backend_cpu.direct_conv(x, w[:, :, :1, :1], (1, 1), (0, 0), (1, 1), 1)
    assert not backend_cpu.direct_conv(x, w, (1, 1), (3, 1), (1, 1), 1)   # the input gradient's padding would be < 0
    for bad in (np.nan, np.inf, -np.inf):     # the input gradient would multiply them by its zero padding
        wb = w.copy()
        wb[1, 0, 2, 1] = bad
        assert not backend_cpu.direct_conv(x, wb, (1, 1), (1, 1), (1, 1), 1)
    assert not Backend.direct_conv(backend_cpu, x, w, (1, 1), (1, 1), (1, 1), 1)     # the default: im2col + GEMM


def test_window_geometry():
    # ceil_mode: the last window must start inside the input or the left padding (PyTorch's rule)
    assert Window2d(2, 2, 2, 2).out_size(5, 4, ceil_mode=True) == (3, 2)
    assert Window2d(2, 3, 2, 2, 1, 0).out_size(6, 5, ceil_mode=True) == (4, 2)
    assert Window2d(3, 3, 2, 2).out_size(5, 5) == (2, 2)
    assert Window2d(3, 2, 1, 3, 1, 0, 2, 1).out_size(7, 8) == (5, 3)     # dilation 2: a 5-row window
    win = Window2d.of((3, 5), (1, 1), (1, 0), (2, 1))
    assert win == Window2d(3, 5, 1, 1, 1, 0, 2, 1) and win.span(5, 4) == (9, 8)
    assert win.transposed() == Window2d(3, 5, 1, 1, 3, 4, 2, 1)


@pytest.mark.parametrize("user", [None, "8"])
def test_import_sets_blas_and_openmp_waiting_unless_the_user_did(user):
    """The thread settings the kernels' speed depends on (_process_tuning.py) are set by a bare
    `import tinygrad_fer`, before NumPy loads OpenBLAS, and never override a user's own value."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY",
                                                              "GOMP_SPINCOUNT")}
    if user:
        env["OPENBLAS_THREAD_TIMEOUT"] = env["GOMP_SPINCOUNT"] = user
    # a meta-path finder reports the setting at the moment numpy is first imported (when OpenBLAS reads it)
    code = ("import os, sys\n"
            "class Spy:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'numpy':\n"
            "            print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'), os.environ.get('OMP_WAIT_POLICY'),\n"
            "                  os.environ.get('GOMP_SPINCOUNT'))\n"
            "sys.meta_path.insert(0, Spy())\n"
            "import tinygrad_fer\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [user or "4", "PASSIVE", user or "2000"]


@pytest.mark.parametrize("user", [None, "8"])
def test_numpy_imported_first_gets_the_blas_setting_too(user):
    """numpy first, its OpenBLAS already running threads: importing tinygrad_fer makes OpenBLAS re-read its
    environment (and restart its pool), unless the user set the timeout; the BLAS still computes afterwards."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if user:
        env["OPENBLAS_THREAD_TIMEOUT"] = user
    code = ("import ctypes, os, numpy as np\n"
            "a = np.ones((300, 300)); a @ a\n"
            "paths = {l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l and '.so' in l}\n"
            "libs = [ctypes.CDLL(p, mode=os.RTLD_NOLOAD) for p in paths]\n"
            "libs = [l for l in libs if hasattr(l, 'openblas_thread_timeout')]\n"
            "print(libs[0].openblas_thread_timeout() if libs else 'none')\n"
            "import tinygrad_fer\n"
            "print(libs[0].openblas_thread_timeout() if libs else 'none', float((a @ a)[0, 0]))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    before, after, product = out.split()
    if before == "none":
        pytest.skip("numpy's BLAS here is not an OpenBLAS that exports its thread settings")
    assert (before, after, product) == (user or "0", user or "4", "300.0")


def test_process_settings_are_made_in_one_module():
    """Only _process_tuning.py changes the process's environment or its allocator."""
    root = os.path.dirname(tinygrad_fer.__file__)
    found = []
    for folder, _, files in os.walk(root):
        for f in files:
            if f.endswith(".py"):
                text = open(os.path.join(folder, f)).read()
                if "os.environ.setdefault(" in text or re.search(r"os\.environ\[[^]]*\]\s*=[^=]", text) \
                        or "mallopt" in text:
                    found.append(os.path.relpath(os.path.join(folder, f), root))
    assert found == ["_process_tuning.py"]
