"""The Numba kernels of backend_cpu against the plain-xp reference kernels (kernels_ref)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tinygrad_fer import backend_cpu as nb, kernels_ref as ref
from tinygrad_fer.kernels_ref import conv_out_size, pool_out_size
from strategies import SPECIALS, scatter_specials

DTYPES = [np.float32, np.float64]


def _close(a, b, dtype):
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_allclose(a, b, equal_nan=True, **tol)


def _same_zeros(a, b):
    """Where both are zero, the same sign (assert_allclose takes -0.0 == 0.0)."""
    zero = (a == 0) & (b == 0)
    np.testing.assert_array_equal(np.signbit(a[zero]), np.signbit(b[zero]))


def _input(seed, shape, dtype, layout, ties, special=None):
    rng = np.random.default_rng(seed)
    if layout == "contiguous":
        base = rng.standard_normal(shape)
    elif layout == "transposed":              # same shape, H and W strides swapped
        base = rng.standard_normal(shape[:2] + shape[2:][::-1]).swapaxes(2, 3)
    else:                                     # every other element of a bigger array
        base = rng.standard_normal(tuple(2 * s for s in shape))[::2, ::2, ::2, ::2]
    if ties:                                  # exact ties and ReLU-like zeros
        base = np.maximum(np.round(base * 2), 0)
    x = base.astype(dtype)
    return scatter_specials(x, special, seed + 2)


@st.composite
def window_params(draw, dilation=True, pool=False):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    if pool:   # PyTorch's pooling rule: padding at most half the kernel
        ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    else:
        ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 12))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 12))
    # batches past 8 too: col2im gives each thread blocks of 8 images
    n, c = draw(st.one_of(st.integers(1, 3), st.integers(8, 20))), draw(st.integers(1, 4))
    return (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw)


LAYOUTS = st.sampled_from(["contiguous", "transposed", "strided"])


@pytest.mark.parametrize("dtype", DTYPES)
@given(p=window_params(), layout=LAYOUTS, seed=st.integers(0, 2 ** 31), special=SPECIALS)
def test_im2col_col2im(dtype, p, layout, seed, special):
    shape, k = p
    x = _input(seed, shape, dtype, layout, False, special)
    cols = nb.im2col(x, *k)
    oh, ow = conv_out_size(shape[2], k[0], k[2], k[4], k[6]), conv_out_size(shape[3], k[1], k[3], k[5], k[7])
    assert cols.shape == (shape[1], k[0], k[1], shape[0], oh, ow) and cols.flags.c_contiguous
    np.testing.assert_array_equal(cols, ref.im2col(x, *k))
    _same_zeros(cols, ref.im2col(x, *k))
    g = scatter_specials(np.random.default_rng(seed + 1).standard_normal(cols.shape).astype(dtype), special, seed)
    _close(nb.col2im(g, shape, *k), ref.col2im(g, shape, *k), dtype)
    if special is not None:
        return
    # adjointness: <im2col(x), g> == <x, col2im(g)>
    np.testing.assert_allclose((cols.astype(np.float64) * g).sum(), (x * nb.col2im(g, shape, *k)).astype(np.float64)
                               .sum(), rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-4)


@pytest.mark.parametrize("dtype", DTYPES)
@given(p=window_params(pool=True), layout=LAYOUTS, seed=st.integers(0, 2 ** 31), ties=st.booleans(),
       ceil_mode=st.booleans(), special=SPECIALS)
def test_max_pool(dtype, p, layout, seed, ties, ceil_mode, special):
    shape, k = p
    # NaN wins (the last one), -inf loses to everything, -0.0 ties with 0.0 (the first wins)
    x = _input(seed, shape, dtype, layout, ties, special)
    out, idx = nb.max_pool2d(x, *k, ceil_mode)
    out_r, idx_r = ref.max_pool2d(x, *k, ceil_mode)
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(out, out_r)
    _same_zeros(out, out_r)
    np.testing.assert_array_equal(idx, idx_r)
    g = scatter_specials(np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype), special, seed)
    _close(nb.max_pool2d_backward(g, idx, shape), ref.max_pool2d_backward(g, idx, shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_nan_and_inf(dtype):
    x = np.array([[[[1, np.nan, 3, np.nan], [np.nan, -np.inf, 5, 6], [-np.inf, -np.inf, 2, 2],
                    [-np.inf, -np.inf, 2, 2]]]], dtype)
    for k in [(2, 2, 2, 2, 0, 0, 1, 1), (3, 3, 1, 1, 1, 1, 1, 1), (2, 2, 2, 2, 1, 1, 1, 1)]:
        out, idx = nb.max_pool2d(x, *k, False)
        out_r, idx_r = ref.max_pool2d(x, *k, False)
        np.testing.assert_array_equal(out, out_r)
        np.testing.assert_array_equal(idx, idx_r)


@pytest.mark.parametrize("dtype", DTYPES)
@given(p=window_params(dilation=False, pool=True), layout=LAYOUTS, seed=st.integers(0, 2 ** 31),
       ceil_mode=st.booleans(), include_pad=st.booleans(), divisor=st.sampled_from([None, 1, 3]), special=SPECIALS)
def test_avg_pool(dtype, p, layout, seed, ceil_mode, include_pad, divisor, special):
    shape, k = p
    k = k[:6]
    x = _input(seed, shape, dtype, layout, False, special)
    out = nb.avg_pool2d(x, *k, ceil_mode, include_pad, divisor)
    out_r = ref.avg_pool2d(x, *k, ceil_mode, include_pad, divisor)
    _close(out, out_r, dtype)
    _same_zeros(out, out_r)
    g = scatter_specials(np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype), special, seed)
    _close(nb.avg_pool2d_backward(g, shape, *k, ceil_mode, include_pad, divisor),
           ref.avg_pool2d_backward(g, shape, *k, ceil_mode, include_pad, divisor), dtype)


@pytest.mark.parametrize("dtype", DTYPES + [np.int32])
@given(n=st.integers(0, 3000), layout=LAYOUTS, seed=st.integers(0, 2 ** 31))
def test_relu(dtype, n, layout, seed):
    """PyTorch's rules: -0.0 and NaN pass forward; the gradient passes unless the output is <= 0 (NaN passes it)."""
    x = _input(seed, (1, 1, 1, n), np.float64, layout, False)
    if dtype != np.int32:
        x.ravel()[::7] = np.nan
        x.ravel()[1::7] = -0.0
        x.ravel()[2::11] = np.inf
    else:
        x = np.round(x * 10)
    x = x.astype(dtype)
    out = nb.relu(x)
    assert out.dtype == dtype and out.shape == x.shape
    np.testing.assert_array_equal(out, ref.relu(x))
    assert np.array_equal(np.signbit(out), np.signbit(ref.relu(x)))
    if dtype != np.int32:
        g = np.random.default_rng(seed).standard_normal(x.shape).astype(dtype)
        g.ravel()[3::13] = np.nan
        np.testing.assert_array_equal(nb.relu_backward(g, out), ref.relu_backward(g, out))


@pytest.mark.parametrize("dtype", DTYPES)
@given(n=st.integers(0, 3000), lr=st.floats(1e-4, 1.0), momentum=st.floats(0.01, 0.99),
       dampening=st.sampled_from([0.0, 0.3]), weight_decay=st.sampled_from([0.0, 1e-4, 0.1]), nesterov=st.booleans(),
       maximize=st.booleans(), layout=LAYOUTS, seed=st.integers(0, 2 ** 31))
def test_sgd_momentum(dtype, n, lr, momentum, dampening, weight_decay, nesterov, maximize, layout, seed):
    """The fused step equals kernels_ref's op-by-op one bit for bit (that one is checked against PyTorch's SGD)."""
    rng = np.random.default_rng(seed)
    w, buf = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    g = _input(seed, (1, 1, 1, n), dtype, layout, False).reshape(n)
    args = (lr, momentum, dampening, weight_decay, nesterov, maximize)
    w_r, buf_r = w.copy(), buf.copy()
    nb.sgd_momentum_(w, g, buf, *args)
    ref.sgd_momentum_(w_r, g, buf_r, *args)
    np.testing.assert_array_equal(w, w_r)
    np.testing.assert_array_equal(buf, buf_r)


@st.composite
def direct_conv_params(draw):
    """What backend_cpu.direct_conv takes: stride 1, windows of 3x3 and more, padding up to dilation * (K - 1); and
    what its tiling depends on: widths past one and two 16-output tiles, output channels not a multiple of the
    forward's 6 or the weight gradient's 16 (and past 16), batches past the weight gradient's 4-image blocks."""
    kh, kw = draw(st.sampled_from([(3, 3), (5, 5), (3, 5), (4, 3), (7, 2), (1, 9)]))
    dh, dw = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, dh * (kh - 1))), draw(st.integers(0, dw * (kw - 1)))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 20))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 40))
    n, c, m = draw(st.integers(1, 10)), draw(st.integers(1, 5)), draw(st.integers(1, 20))
    return (n, c, h, w), (m, c, kh, kw), (ph, pw, dh, dw)


@given(p=direct_conv_params(), layout=LAYOUTS, bias=st.booleans(), seed=st.integers(0, 2 ** 31), special=SPECIALS)
def test_direct_conv(p, layout, bias, seed, special):
    """Against the im2col reference, special values included: both multiply padding as zeros (0 * inf is NaN)."""
    xs, ws, (ph, pw, dh, dw) = p
    rng = np.random.default_rng(seed)
    x = _input(seed, xs, np.float32, layout, False, special)
    w, b = (scatter_specials(rng.standard_normal(s).astype(np.float32), special, seed + i)
            for i, s in enumerate((ws, ws[0])))
    # direct_conv turns down non-finite weights (for the input gradient's sake, see there); its kernels take them
    kernels = nb.direct_conv(x, np.ones_like(w), (1, 1), (ph, pw), (dh, dw), 1)
    out = kernels.conv2d(x, w, b if bias else None, ph, pw, dh, dw)
    f64 = [a.astype(np.float64) for a in (x, w, b)]
    want = ref.conv2d(f64[0], f64[1], f64[2] if bias else None, ph, pw, dh, dw)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    _close(out, want.astype(np.float32), np.float32)
    g = scatter_specials(rng.standard_normal(out.shape).astype(np.float32), special, seed + 3)
    gw = kernels.conv2d_weight_grad(x, g, ws[2], ws[3], ph, pw, dh, dw)
    want = ref.conv2d_weight_grad(f64[0], g.astype(np.float64), ws[2], ws[3], ph, pw, dh, dw)
    assert gw.dtype == np.float32 and gw.shape == ws
    np.testing.assert_allclose(gw, want, rtol=1e-5, atol=1e-5 * np.sqrt(g.size // ws[0]))


def test_direct_conv_takes_only_its_cases():
    x, w = np.zeros((1, 2, 6, 6), np.float32), np.zeros((3, 2, 3, 3), np.float32)
    assert nb.direct_conv(x, w, (1, 1), (1, 1), (1, 1), 1) is not None
    assert nb.direct_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), (1, 1), 1) is None
    assert nb.direct_conv(x, w, (2, 1), (1, 1), (1, 1), 1) is None
    assert nb.direct_conv(x, w[:, :1], (1, 1), (1, 1), (1, 1), 2) is None
    assert nb.direct_conv(x, w[:, :, :1, :1], (1, 1), (0, 0), (1, 1), 1) is None
    assert nb.direct_conv(x, w, (1, 1), (3, 1), (1, 1), 1) is None      # the input gradient's padding would be < 0
    for bad in (np.nan, np.inf, -np.inf):     # the input gradient would multiply them by its zero padding
        wb = w.copy()
        wb[1, 0, 2, 1] = bad
        assert nb.direct_conv(x, wb, (1, 1), (1, 1), (1, 1), 1) is None


def test_pool_out_size_ceil_mode():
    # the last window must start inside the input or the left padding (PyTorch's rule)
    assert pool_out_size(5, 2, 2, 0, 1, True) == 3
    assert pool_out_size(6, 2, 2, 1, 1, True) == 4
    assert pool_out_size(4, 2, 2, 0, 1, True) == 2
    assert pool_out_size(5, 3, 2, 0, 1, False) == 2


@pytest.mark.parametrize("user", [None, "8"])
def test_import_sets_blas_and_openmp_waiting_unless_the_user_did(user):
    """The thread settings the kernels' speed depends on (see tinygrad_fer/__init__ and backend_cpu) are set by a
    bare `import tinygrad_fer`, before NumPy loads OpenBLAS, and never override a user's own value."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_THREAD_TIMEOUT", "OMP_WAIT_POLICY")}
    if user:
        env["OPENBLAS_THREAD_TIMEOUT"] = user
    # a meta-path finder reports the setting at the moment numpy is first imported (when OpenBLAS reads it)
    code = ("import os, sys\n"
            "class Spy:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'numpy':\n"
            "            print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))\n"
            "sys.meta_path.insert(0, Spy())\n"
            "import tinygrad_fer\n"
            "print(os.environ['OMP_WAIT_POLICY'])\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == [user or "4", "PASSIVE"]
