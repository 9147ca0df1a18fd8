"""conv2d, conv_transpose2d, unfold and fold against PyTorch: forward, every gradient, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings, strategies as st

import contextlib

import tinygrad_fer as tg
from tinygrad_fer.backend_cpu import backend_cpu
from tinygrad_fer.window import Window2d
from tinygrad_fer.ops.conv import conv2d, conv_transpose2d, unfold, fold
from helpers import compare, raises_like
from strategies import SPECIALS, scatter_specials

# float16 runs in float32 inside (the kernels have no half arithmetic) and rounds its results back, as PyTorch's CPU
# kernels accumulate half in float
DTYPES = [np.float64, np.float32, np.float16]


def _scale(dtype):
    # float32 sums over whole batches and windows: give its gradients some room (float16's own tolerance is loose)
    return 10.0 if dtype == np.float32 else 1.0


def _oracle(c, dtype):
    """The dtype PyTorch computes in: with NaN or inf in the inputs, float64 whatever ours is. Its float32 (oneDNN)
    kernels skip padded taps, so an infinite weight over padding gives inf there, but NaN (0 * inf) in its own im2col
    path, which float64 takes, and in ours (a GEMM or direct kernel over zero-padded columns); float16 may go either
    way, depending on the CPU."""
    return np.float64 if c["special"] is not None and dtype != np.float64 else None


@contextlib.contextmanager
def _one_image_blocks(on):
    """The input gradient's columns one image at a time (the CPU backend blocks them by bytes, so the small shapes
    drawn here would otherwise always fit in one block)."""
    old = backend_cpu.block_bytes
    backend_cpu.block_bytes = 1 if on else old
    try:
        yield
    finally:
        backend_cpu.block_bytes = old


@st.composite
def conv_case(draw):
    g = draw(st.integers(1, 3))
    cin_g, cout_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw = draw(st.integers(1, 5)), draw(st.integers(1, 5))          # stride > kernel included
    dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))          # asymmetric between H and W
    eh, ew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    h = draw(st.integers(max(1, eh - 2 * ph), max(1, eh - 2 * ph) + 6))
    w = draw(st.integers(max(1, ew - 2 * pw), max(1, ew - 2 * pw) + 6))
    n = draw(st.integers(1, 3))
    return dict(n=n, g=g, cin_g=cin_g, cout_g=cout_g, k=(kh, kw), s=(sh, sw), d=(dh, dw), p=(ph, pw), hw=(h, w),
                bias=draw(st.booleans()), x_grad=draw(st.booleans()), seed=draw(st.integers(0, 2 ** 31)),
                blocks=draw(st.booleans()), special=draw(SPECIALS),
                into=draw(st.sets(st.sampled_from("xwb"), min_size=1)))


def _arrays(c, dtype, wshape):
    """x, w and b, with c's special values (NaN, inf, -0.0: through the GEMMs as through PyTorch's) in those of
    c["into"]."""
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], c["g"] * c["cin_g"]) + c["hw"]).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0] if wshape[1] == c["cin_g"] else wshape[1] * c["g"]).astype(dtype)
    return tuple(scatter_specials(a, c["special"] if name in c["into"] else None, c["seed"] + i)
                 for i, (name, a) in enumerate(zip("xwb", (x, w, b))))


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=conv_case())
def test_conv2d(dtype, c):
    x, w, b = _arrays(c, dtype, (c["g"] * c["cout_g"], c["cin_g"]) + c["k"])
    kw = dict(stride=c["s"], padding=c["p"], dilation=c["d"], groups=c["g"])
    arrays = [x, w, b] if c["bias"] else [x, w]
    with _one_image_blocks(c["blocks"]):
        compare(lambda *a: conv2d(*a, **kw), lambda *a: F.conv2d(*a, **kw), arrays, scale=_scale(dtype),
                requires_grad=[c["x_grad"], True, True], oracle_dtype=_oracle(c, dtype))


@given(n=st.integers(1, 6), c=st.integers(1, 4), m=st.integers(1, 8), k=st.sampled_from([(3, 3), (5, 5), (4, 3)]),
       d=st.integers(1, 2), hw=st.tuples(st.integers(6, 12), st.integers(6, 36)), same=st.booleans(),
       bias=st.booleans(), x_grad=st.booleans(), seed=st.integers(0, 2 ** 31), special=SPECIALS,
       into=st.sets(st.sampled_from("xwb"), min_size=1), stride=st.sampled_from([1, 1, 2, (2, 1), (1, 3)]))
def test_conv2d_direct(n, c, m, k, d, hw, same, bias, x_grad, seed, special, into, stride):
    """float32, one group: the CPU backend's direct kernels (forward, input and weight gradients; strided ones on
    CPUs whose kernels are 16 wide); a weight with NaN or inf takes the GEMM path (backend_cpu.direct_conv)."""
    from tinygrad_fer import simd_kernels
    rng = np.random.default_rng(seed)
    x, w, b = (scatter_specials(rng.standard_normal(s).astype(np.float32), special if name in into else None, seed)
               for name, s in zip("xwb", ((n, c) + hw, (m, c) + k, (m,))))
    same = same and stride == 1     # PyTorch: padding='same' is for stride 1 only
    kw = dict(padding="same" if same else (d * (k[0] - 1), 0), dilation=d, stride=stride)
    out = conv2d(tg.tensor(x), tg.tensor(w, requires_grad=True), **kw)
    assert out._ctx.direct == (bool(np.isfinite(w).all()) and (stride == 1 or simd_kernels.WIDE))
    compare(lambda *a: conv2d(*a, **kw), lambda *a: F.conv2d(*a, **kw), [x, w, b] if bias else [x, w],
            scale=_scale(np.float32), requires_grad=[x_grad, True, True],
            oracle_dtype=_oracle(dict(special=special), np.float32))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), c=st.sampled_from([64, 70]), m=st.sampled_from([64, 65]), p=st.integers(0, 2),
       hw=st.tuples(st.integers(1, 9), st.integers(1, 9)), bias=st.booleans(), seed=st.integers(0, 2 ** 31),
       special=SPECIALS, into=st.sets(st.sampled_from("xw")))
def test_conv2d_winograd(n, c, m, p, hw, bias, seed, special, into):
    """3x3, stride 1, >= 64 channels, float32, on a CPU without AVX-512 (emulated: elsewhere the 16-wide direct
    kernels win): forward and gradients by Winograd's F(2x2, 3x3) (odd and even sizes, every padding it takes),
    against PyTorch; NaN or inf operands take the direct kernels instead."""
    from tinygrad_fer import simd_kernels, winograd
    assume(hw[0] + 2 * p >= 3 and hw[1] + 2 * p >= 3)
    rng = np.random.default_rng(seed)
    x, w, b = (scatter_specials(rng.standard_normal(s).astype(np.float32), special if name in into else None, seed)
               for name, s in zip("xwb", ((n, c) + hw, (m, c, 3, 3), (m,))))
    win = Window2d.of((3, 3), (1, 1), (p, p), (1, 1))
    wide = simd_kernels.WIDE
    try:
        assert not winograd.applies(x, w, b, win) or not wide
        simd_kernels.WIDE = False
        assert winograd.applies(x, w, b, win) == bool(np.isfinite(x).all() and np.isfinite(w).all())
        compare(lambda *a: conv2d(*a, padding=p), lambda *a: F.conv2d(*a, padding=p), [x, w, b] if bias else [x, w],
                scale=_scale(np.float32), oracle_dtype=_oracle(dict(special=special), np.float32))
    finally:
        simd_kernels.WIDE = wide


@pytest.mark.filterwarnings("ignore:Using padding='same'")   # PyTorch's note about its own padded copy
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [
    dict(x=(1, 6, 7, 7), w=(12, 1, 3, 3), groups=6, padding=1),               # depthwise, multiplier 2, batch 1
    dict(x=(2, 3, 5, 4), w=(4, 3, 1, 1)),                                     # 1x1
    dict(x=(2, 2, 8, 6), w=(3, 2, 4, 2), padding="same", dilation=(2, 1)),    # 'same' with odd total padding
    dict(x=(2, 2, 6, 7), w=(3, 2, 2, 3), padding="valid", stride=(3, 2)),
    dict(x=(3, 5, 5), w=(2, 3, 3, 3), padding=(0, 2)),                        # unbatched (C, H, W)
    dict(x=(2, 3, 9, 9), w=(4, 3, 2, 2), stride=5),                           # stride > kernel: skipped pixels
    dict(x=(0, 3, 5, 5), w=(4, 3, 3, 3), padding=1),                          # an empty batch
])
def test_conv2d_cases(dtype, case):
    rng = np.random.default_rng(1)
    case = dict(case)
    x, w = rng.standard_normal(case.pop("x")).astype(dtype), rng.standard_normal(case.pop("w")).astype(dtype)
    b = rng.standard_normal(w.shape[0]).astype(dtype)
    compare(lambda *a: conv2d(*a, **case), lambda *a: F.conv2d(*a, **case), [x, w, b], scale=_scale(dtype))


def test_conv2d_no_input_grad_and_no_bias_skips_work():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 3, 6, 6)))
    w = tg.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = conv2d(x, w)
    assert out._ctx.saved_tensors[1] is None   # no input gradient wanted: the weight is not kept for it
    out.sum().backward()
    assert x.grad is None and w.grad.shape == (4, 3, 3, 3)


def test_conv2d_gradcheck():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((2, 4, 5, 6)), requires_grad=True)
    w = tg.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
    b = tg.tensor(rng.standard_normal(4), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w, b: conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                                        groups=2), (x, w, b))
    wt = tg.tensor(rng.standard_normal((4, 3, 2, 3)), requires_grad=True)
    assert tg.autograd.gradcheck(lambda x, w: conv_transpose2d(x, w, stride=2, padding=1, output_padding=1,
                                                               groups=2), (x, wt))


@st.composite
def conv_t_case(draw):
    c = draw(conv_case())
    # output_padding must stay below stride or dilation
    c["op"] = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(c["s"], c["d"]))
    c["p"] = tuple(min(p, d * (k - 1) // 2) for p, d, k in zip(c["p"], c["d"], c["k"]))   # positive output size
    return c


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=conv_t_case())
def test_conv_transpose2d(dtype, c):
    x, w, b = _arrays(c, dtype, (c["g"] * c["cin_g"], c["cout_g"]) + c["k"])
    kw = dict(stride=c["s"], padding=c["p"], output_padding=c["op"], groups=c["g"], dilation=c["d"])
    arrays = [x, w, b] if c["bias"] else [x, w]
    with _one_image_blocks(c["blocks"]):
        compare(lambda *a: conv_transpose2d(*a, **kw), lambda *a: F.conv_transpose2d(*a, **kw), arrays,
                scale=_scale(dtype), requires_grad=[c["x_grad"], True, True], oracle_dtype=_oracle(c, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@given(c=conv_case(), unbatched=st.booleans())
def test_unfold_fold(dtype, c, unbatched):
    kw = dict(kernel_size=c["k"], dilation=c["d"], padding=c["p"], stride=c["s"])
    x = np.random.default_rng(c["seed"]).standard_normal((c["n"], c["cin_g"]) + c["hw"]).astype(dtype)
    x = scatter_specials(x[0] if unbatched else x, c["special"], c["seed"])
    compare(lambda a: unfold(a, **kw), lambda a: F.unfold(a, **kw), [x], signed_zeros=True)
    cols = F.unfold(torch.tensor(x), **kw).numpy()
    cols = np.random.default_rng(c["seed"] + 1).standard_normal(cols.shape).astype(dtype)
    cols = scatter_specials(cols, c["special"], c["seed"] + 1)
    compare(lambda a: fold(a, c["hw"], **kw), lambda a: F.fold(a, c["hw"], **kw), [cols])


def _errs():
    x = np.zeros((2, 3, 8, 8))
    w = np.zeros((4, 3, 3, 3))
    return [
        (conv2d, F.conv2d, (x[0, 0], w)),                    # input rank
        (conv2d, F.conv2d, (x, np.zeros((4, 2, 3, 3)))),     # channel mismatch
        (lambda a, b: conv2d(a, b, groups=2), lambda a, b: F.conv2d(a, b, groups=2), (np.zeros((2, 4, 8, 8)),
                                                                                       np.zeros((3, 2, 3, 3)))),
        (conv2d, F.conv2d, (x[:, :, :2], w)),               # kernel larger than padded input
        (lambda a, b: conv2d(a, b, stride=0), lambda a, b: F.conv2d(a, b, stride=0), (x, w)),
        (lambda a, b: conv2d(a, b, padding=-1), lambda a, b: F.conv2d(a, b, padding=-1), (x, w)),
        (lambda a, b: conv2d(a, b, dilation=0), lambda a, b: F.conv2d(a, b, dilation=0), (x, w)),
        (lambda a, b: conv2d(a, b, groups=0), lambda a, b: F.conv2d(a, b, groups=0), (x, w)),
        (lambda a, b: conv2d(a, b, stride=(1, 1, 1)), lambda a, b: F.conv2d(a, b, stride=(1, 1, 1)), (x, w)),
        (lambda a, b: conv2d(a, b, padding="same", stride=2), lambda a, b: F.conv2d(a, b, padding="same", stride=2),
         (x, w)),
        (lambda a, b: conv2d(a, b, padding="full"), lambda a, b: F.conv2d(a, b, padding="full"), (x, w)),
        (lambda a, b, c: conv2d(a, b, c), lambda a, b, c: F.conv2d(a, b, c), (x, w, np.zeros(3))),
        (conv2d, F.conv2d, (x, w.astype(np.float32))),     # dtype mismatch
        (lambda a, b: conv_transpose2d(a, b, stride=2, output_padding=2),
         lambda a, b: F.conv_transpose2d(a, b, stride=2, output_padding=2), (x, np.zeros((3, 4, 3, 3)))),
        (conv_transpose2d, F.conv_transpose2d, (x, np.zeros((4, 4, 3, 3)))),
        (lambda a: fold(a, (3, 3), 2), lambda a: F.fold(a, (3, 3), 2), (np.zeros((1, 5, 4)),)),
        (lambda a: fold(a, (3, 3), 2), lambda a: F.fold(a, (3, 3), 2), (np.zeros((1, 4, 5)),)),
    ]


@pytest.mark.parametrize("i", range(len(_errs())))
def test_conv_errors(i):
    ours, theirs, args = _errs()[i]
    raises_like(ours, theirs, *args)


def test_conv2d_keeps_its_input_not_its_columns():
    """The weight gradient's im2col columns are made again in backward: what the graph holds for a conv is its input
    (KH*KW times smaller than the columns), and the gradients still match a whole-batch computation."""
    rng = np.random.default_rng(0)
    xa = rng.standard_normal((6, 3, 8, 8))
    x, w = tg.tensor(xa), tg.tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    out = conv2d(x, w, padding=1)
    kept = out._ctx.saved_tensors[0]
    assert kept.shape == (6, 3, 8, 8) and np.shares_memory(kept, x._array)
    with _one_image_blocks(True):
        out.backward(tg.ones(out.shape))
        gw_blocks = w.grad.numpy().copy()
    w.grad = None
    conv2d(x, w, padding=1).backward(tg.ones(out.shape))
    np.testing.assert_allclose(gw_blocks, w.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_infinite_weight_input_gradient_stays_in_its_windows():
    """The direct kernels' input gradient convolves a zero-padded output gradient: an inf weight there would make
    NaN (0 * inf) of pixels it never touched, so such a weight takes the GEMM path (col2im adds only real windows)."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 1, 6, 6)).astype(np.float32), rng.standard_normal((1, 1, 3, 3)).astype(np.float32)
    w[0, 0, 0, 0] = np.inf
    (out,), _ = compare(lambda *a: conv2d(*a, padding=1), lambda *a: F.conv2d(*a, padding=1), [x, w],
                        oracle_dtype=np.float64, requires_grad=[True, False])
    assert not out._ctx.direct
