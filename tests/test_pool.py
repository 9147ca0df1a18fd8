"""max/avg/adaptive pooling against PyTorch: forward, indices, gradients (ties included), errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, strategies as st

import tinygrad_fer as tg
from tinygrad_fer.ops.pool import max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d
from tinygrad_fer.window import out_size as pool_out_size
from helpers import compare, raises_like, tol
from strategies import SPECIALS, scatter_specials

# float16 runs in float32 inside (the kernels have no half arithmetic) and rounds its results back, as PyTorch's CPU
# kernels accumulate half in float
DTYPES = [np.float64, np.float32, np.float16]


@st.composite
def pool_case(draw, dilation=True):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    dh, dw = (draw(st.integers(1, 3)), draw(st.integers(1, 3))) if dilation else (1, 1)
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * ph), 11))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pw), 11))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)
    if draw(st.booleans()):
        shape = shape[1:]                                            # unbatched (C, H, W)
    return dict(shape=shape, k=(kh, kw), s=(sh, sw), d=(dh, dw), p=(ph, pw), ceil=draw(st.booleans()),
                ties=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 31)), special=draw(SPECIALS))


def _input(c, dtype):
    x = np.random.default_rng(c["seed"]).standard_normal(c["shape"])
    if c["ties"]:     # small integers through a ReLU: exact ties and many zeros in every window
        x = np.maximum(np.round(2 * x), 0)
    # NaN / inf / -0.0 reach only the windows that hold them; PyTorch's max takes the last NaN, its sums start at +0.0
    return scatter_specials(x.astype(dtype), c["special"], c["seed"] + 1)


def _every_window_sees_input(c):
    # PyTorch's backward writes out of bounds for a window made only of padding (dilation can make one): skip those
    for size, k, s, p, d in zip(c["shape"][-2:], c["k"], c["s"], c["p"], c["d"]):
        for o in range(pool_out_size(size, k, s, p, d, c["ceil"])):
            if not any(0 <= o * s - p + i * d < size for i in range(k)):
                return False
    return True


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=pool_case())
def test_max_pool2d(dtype, c):
    assume(_every_window_sees_input(c))
    kw = dict(kernel_size=c["k"], stride=c["s"], padding=c["p"], dilation=c["d"], ceil_mode=c["ceil"],
              return_indices=True)
    (_, idx), (_, tidx) = compare(lambda a: max_pool2d(a, **kw), lambda a: F.max_pool2d(a, **kw), [_input(c, dtype)],
                                  signed_zeros=True)
    assert idx.dtype == tg.int64
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_max_pool2d_default_stride_and_nan():
    x = np.array([[[[1, np.nan, 3, 4], [np.nan, 0, 5, 5], [2, 2, -np.inf, 7], [2, 1, 7, 7]]]])
    for kw in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)]:
        kw["return_indices"] = True
        (_, idx), (_, tidx) = compare(lambda a: max_pool2d(a, **kw), lambda a: F.max_pool2d(a, **kw), [x])
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=pool_case(dilation=False), include_pad=st.booleans(), divisor=st.sampled_from([None, 1, 5]))
def test_avg_pool2d(dtype, c, include_pad, divisor):
    kw = dict(kernel_size=c["k"], stride=c["s"], padding=c["p"], ceil_mode=c["ceil"], count_include_pad=include_pad,
              divisor_override=divisor)
    compare(lambda a: avg_pool2d(a, **kw), lambda a: F.avg_pool2d(a, **kw), [_input(c, dtype)], signed_zeros=True)


@st.composite
def adaptive_case(draw):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 10)), draw(st.integers(1, 10)))
    if draw(st.booleans()):
        shape = shape[1:]
    out = draw(st.one_of(st.integers(1, 6), st.tuples(st.integers(1, 6), st.integers(1, 6)),
                         st.tuples(st.none(), st.integers(1, 6))))
    return dict(shape=shape, out=out, ties=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 31)),
                special=draw(SPECIALS))


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=adaptive_case())
def test_adaptive_pools(dtype, c):
    x = _input(c, dtype)
    compare(lambda a: adaptive_avg_pool2d(a, c["out"]), lambda a: F.adaptive_avg_pool2d(a, c["out"]), [x],
            signed_zeros=True)
    (_, idx), (_, tidx) = compare(lambda a: adaptive_max_pool2d(a, c["out"], True),
                                  lambda a: F.adaptive_max_pool2d(a, c["out"], True), [x], signed_zeros=True)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


def test_global_pooling():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 5))
    compare(lambda a: adaptive_avg_pool2d(a, 1), lambda a: F.adaptive_avg_pool2d(a, 1), [x])
    compare(lambda a: adaptive_max_pool2d(a, (1, 1)), lambda a: F.adaptive_max_pool2d(a, (1, 1)), [x])


def test_pool_gradcheck():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0, requires_grad=True)  # no ties
    assert tg.autograd.gradcheck(lambda a: max_pool2d(a, (3, 2), (2, 1), (1, 1), (1, 2), ceil_mode=True), (x,))
    assert tg.autograd.gradcheck(lambda a: avg_pool2d(a, 3, 2, 1, ceil_mode=True, count_include_pad=False), (x,))
    assert tg.autograd.gradcheck(lambda a: adaptive_avg_pool2d(a, (3, 4)), (x,))
    assert tg.autograd.gradcheck(lambda a: adaptive_max_pool2d(a, (3, 4)), (x,))


def _errs():
    x = np.zeros((2, 3, 8, 8))
    return [
        (lambda a: max_pool2d(a, 2), lambda a: F.max_pool2d(a, 2), x[0, 0]),                      # rank
        (lambda a: max_pool2d(a, 2, padding=2), lambda a: F.max_pool2d(a, 2, padding=2), x),      # pad > k/2
        (lambda a: max_pool2d(a, 2, 0), lambda a: F.max_pool2d(a, 2, 0), x),                      # stride 0
        (lambda a: max_pool2d(a, 9), lambda a: F.max_pool2d(a, 9), x),                            # output empty
        (lambda a: avg_pool2d(a, 2, padding=2), lambda a: F.avg_pool2d(a, 2, padding=2), x),
        (lambda a: avg_pool2d(a, 2, divisor_override=0), lambda a: F.avg_pool2d(a, 2, divisor_override=0), x),
        (lambda a: avg_pool2d(a, 9), lambda a: F.avg_pool2d(a, 9), x),
        (lambda a: adaptive_avg_pool2d(a, 2), lambda a: F.adaptive_avg_pool2d(a, 2), x[0, 0]),
        (lambda a: adaptive_max_pool2d(a, (1, 2, 3)), lambda a: F.adaptive_max_pool2d(a, (1, 2, 3)), x),
    ]


@pytest.mark.parametrize("i", range(len(_errs())))
def test_pool_errors(i):
    ours, theirs, arg = _errs()[i]
    raises_like(ours, theirs, arg)


def test_max_pool2d_window_of_only_padding():
    # dilation can leave a window with no input pixel: -inf and PyTorch's out-of-plane index; no gradient
    x = np.arange(6.0).reshape(1, 1, 2, 3)
    kw = dict(kernel_size=(2, 1), stride=1, padding=(1, 0), dilation=(3, 1), return_indices=True)
    (out, idx), (tout, tidx) = compare(lambda a: max_pool2d(a, **kw), lambda a: F.max_pool2d(a, **kw), [x],
                                       grad=False)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    xt = tg.tensor(x, requires_grad=True)
    max_pool2d(xt, **kw)[0].sum().backward()
    assert (xt.grad.numpy() == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", ["max", "avg", "adaptive_avg", "adaptive_max"])
def test_pool_backward_sends_nan_and_inf_only_to_their_windows(dtype, op):
    """An upstream gradient of NaN or inf reaches only the pixels of its own window, as in PyTorch: never through a
    product with a zero weight (an averaging matrix's 0 * inf is NaN)."""
    ours, theirs = {
        "max": (lambda a: max_pool2d(a, 3, 2, 1), lambda a: F.max_pool2d(a, 3, 2, 1)),
        "avg": (lambda a: avg_pool2d(a, 3, 2, 1), lambda a: F.avg_pool2d(a, 3, 2, 1)),
        "adaptive_avg": (lambda a: adaptive_avg_pool2d(a, (3, 4)), lambda a: F.adaptive_avg_pool2d(a, (3, 4))),
        "adaptive_max": (lambda a: adaptive_max_pool2d(a, (3, 4)), lambda a: F.adaptive_max_pool2d(a, (3, 4))),
    }[op]
    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 7 * 9).reshape(1, 2, 7, 9).astype(dtype)       # no ties
    xa, xb = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = theirs(xb)
    g = rng.standard_normal(tuple(out.shape)).astype(dtype)
    g[0, 0, 1, 2], g[0, 1, 0, 0], g[0, 1, 2, 3] = np.inf, np.nan, -np.inf
    out.backward(torch.tensor(g))
    ours(xa).backward(tg.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), equal_nan=True, **tol(dtype))
    assert not np.isnan(xa.grad.numpy()[0, 0]).any()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("special", [np.inf, -np.inf, np.nan])
def test_avg_pool2d_special_first_pixel_stays_in_its_window(dtype, special):
    # the kernel's sums once started from x[n, c, 0, 0] * 0: NaN over the whole plane
    x = np.arange(16, dtype=dtype).reshape(1, 1, 4, 4)
    x[0, 0, 0, 0] = special
    out, _ = compare(lambda a: avg_pool2d(a, 2), lambda a: F.avg_pool2d(a, 2), [x])
    assert np.isfinite(out[0].detach().numpy().ravel()[1:]).all()
