"""The public testing toolkit (tinygrad_fer.testing): assert_close and make_tensor against torch.testing, gradcheck
on users' own Functions (right ones pass, planted backward bugs are caught), and the Hypothesis strategies."""
import inspect
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import find, given, settings, strategies as st

import tinygrad_fer as tg
from tinygrad_fer.autograd import Function
from tinygrad_fer.nn import functional as F
from tinygrad_fer.testing import GradcheckError, assert_close, gradcheck, gradgradcheck, make_tensor
from tinygrad_fer.testing import strategies as tst
from helpers import Cube

FLOATS = [tg.float16, tg.float32, tg.float64]


def _message(fn, *args, **kwargs):
    with pytest.raises(Exception) as e:
        fn(*args, **kwargs)
    return type(e.value), str(e.value)


# ---- assert_close -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, rtol, atol", [(tg.float16, 1e-3, 1e-5), (tg.float32, 1.3e-6, 1e-5),
                                               (tg.float64, 1e-7, 1e-7)])
def test_assert_close_default_tolerances_per_dtype(dtype, rtol, atol):
    t = dtype.np.type
    e = t(1000.0)
    allowed = t(atol) + t(rtol) * e  # computed in the dtype, as the comparison is
    a = t(1000.0 + float(allowed))
    while a - e > allowed:
        a = np.nextafter(a, t(-np.inf))
    assert_close(tg.tensor([a], dtype=dtype), tg.tensor([e], dtype=dtype))           # the last value inside
    outside = np.nextafter(a, t(np.inf))
    kind, msg = _message(assert_close, tg.tensor([outside], dtype=dtype), tg.tensor([e], dtype=dtype))
    assert kind is AssertionError and f"(up to {atol} allowed)" in msg and f"(up to {rtol} allowed)" in msg


def test_assert_close_integers_and_bools_are_exact():
    assert_close(tg.tensor([5, -3]), tg.tensor([5, -3]))
    kind, msg = _message(assert_close, tg.tensor([5, 7]), tg.tensor([5, 6]))
    assert msg == ("Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\n"
                   "Greatest absolute difference: 1 at index (1,)\nGreatest relative difference: "
                   "0.1666666716337204 at index (1,)")
    assert_close(tg.tensor([5, 7]), tg.tensor([5, 6]), rtol=0, atol=1)               # explicit tolerances apply
    _message(assert_close, tg.tensor([True]), tg.tensor([False]))
    kind, msg = _message(assert_close, tg.tensor([3], dtype=tg.uint8), tg.tensor([250], dtype=tg.uint8))
    assert "Greatest absolute difference: 247" in msg                               # no unsigned wrap-around


def test_assert_close_message_names_count_worst_index_and_differences():
    kind, msg = _message(assert_close, tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tg.float64),
                         tg.tensor([[1.0, 2.5], [3.0, 4.001]], dtype=tg.float64))
    assert kind is AssertionError
    assert msg == ("Tensor-likes are not close!\n\nMismatched elements: 2 / 4 (50.0%)\n"
                   "Greatest absolute difference: 0.5 at index (0, 1) (up to 1e-07 allowed)\n"
                   "Greatest relative difference: 0.2 at index (0, 1) (up to 1e-07 allowed)")
    kind, msg = _message(assert_close, tg.tensor(1.0), tg.tensor(2.0))
    assert msg == ("Scalars are not close!\n\nExpected 2.0 but got 1.0.\nAbsolute difference: 1.0 (up to 1e-05 "
                   "allowed)\nRelative difference: 0.5 (up to 1.3e-06 allowed)")


def test_assert_close_nan_inf_and_options():
    nan = tg.tensor([1.0, float("nan")])
    with pytest.raises(AssertionError, match="Greatest absolute difference: nan at index"):
        assert_close(nan, nan)
    assert_close(nan, nan, equal_nan=True)
    assert_close(tg.tensor([float("inf")]), tg.tensor([float("inf")]))
    with pytest.raises(AssertionError, match="inf"):
        assert_close(tg.tensor([float("inf")]), tg.tensor([-float("inf")]))
    with pytest.raises(AssertionError, match="attribute 'dtype' do not match: tinygrad_fer.float32 != "
                                             "tinygrad_fer.float64"):
        assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64))
    assert_close(tg.tensor([1.0]), tg.tensor([1.0], dtype=tg.float64), check_dtype=False)
    with pytest.raises(AssertionError, match="attribute 'shape'"):
        assert_close(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0, 3.0]))
    x = tg.arange(6.0).reshape(2, 3)
    assert_close(x.t(), x.t().contiguous())
    with pytest.raises(AssertionError, match=r"'stride\(\)' do not match: \(1, 3\) != \(2, 1\)"):
        assert_close(x.t(), x.t().contiguous(), check_stride=True)
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted"):
        assert_close(x, x, rtol=1e-3)
    with pytest.raises(AssertionError, match="^mine$"):
        assert_close(tg.tensor([1.0]), tg.tensor([2.0]), msg="mine")
    with pytest.raises(AssertionError, match="^head\nTensor-likes are not close"):
        assert_close(tg.tensor([1.0]), tg.tensor([2.0]), msg=lambda m: "head\n" + m)


def test_assert_close_numbers_arrays_and_containers():
    assert_close(1.0, 1.0 + 1e-9)
    assert _message(assert_close, 1, 1.0) == (AssertionError, "The (d)types do not match: <class 'int'> != "
                                                              "<class 'float'>.")
    assert_close(1, 1.0, check_dtype=False)
    assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    kind, msg = _message(assert_close, tg.tensor([1.0]), np.array([1.0], np.float32))
    assert kind is TypeError and "No comparison pair" in msg   # as PyTorch: convert one side explicitly
    kind, msg = _message(assert_close, [tg.tensor([1.0]), {"w": tg.tensor([2.0])}],
                         [tg.tensor([1.0]), {"w": tg.tensor([3.0])}])
    assert kind is AssertionError and msg.endswith("The failure occurred for item [1]['w']")
    assert _message(assert_close, [1, 2], [1, 2, 3])[1] == "The length of the sequences mismatch: 2 != 3"
    assert _message(assert_close, None, 1)[1] == "None mismatch: None is not 1"


_CASE_DTYPES = ["float16", "float32", "float64", "int32", "int64", "uint8", "bool"]


@st.composite
def _close_cases(draw):
    """Pairs that are equal, slightly apart or far apart, with NaN / inf / -0.0 in some, and the options."""
    dtype = draw(st.sampled_from(_CASE_DTYPES))
    shape = draw(tst.shapes(max_dims=3, max_side=4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    e = np.array(rng.uniform(-5, 5, shape))
    scale = draw(st.sampled_from([0.0, 1e-8, 1e-6, 1e-5, 1e-3, 1.0]))
    a = np.array(e * (1 + scale * rng.standard_normal(shape)) + scale * rng.standard_normal(shape))
    if dtype.startswith("float") and draw(st.booleans()):
        for arr in (a, e):
            where = rng.random(shape) < 0.3
            arr[where] = rng.choice([np.nan, np.inf, -np.inf, -0.0], int(where.sum()))
    if not dtype.startswith("float"):   # integers and bools: equal, or apart by a few units in some elements
        e = rng.integers(0, 2, shape) if dtype == "bool" else rng.integers(0, 6, shape)
        a = np.array((e + (rng.random(shape) < scale) * rng.integers(1, 3, shape)) % (2 if dtype == "bool" else 9))
    a, e = a.astype(dtype), e.astype(dtype)
    tol = draw(st.sampled_from([None, (1e-3, 1e-3), (0.0, 0.0)]))
    return a, e, tol, draw(st.booleans())


def test_assert_close_prints_a_bool_scalar_as_torch():
    # found by the property test below: a 0-d bool printed as 0/1 once the values were widened for the difference
    with pytest.raises(AssertionError, match="Expected False but got True"):
        assert_close(tg.tensor(True), tg.tensor(False))


@given(c=_close_cases())
@settings(max_examples=150)
def test_assert_close_agrees_with_torch(c):
    a, e, tol, equal_nan = c
    kw = dict(equal_nan=equal_nan) if tol is None else dict(equal_nan=equal_nan, rtol=tol[0], atol=tol[1])

    def outcome(fn, *args):
        try:
            fn(*args, **kw)
            return None
        except AssertionError as err:
            return str(err)
    want = outcome(torch.testing.assert_close, torch.from_numpy(a), torch.from_numpy(e))
    assert outcome(assert_close, tg.tensor(a), tg.tensor(e)) == want
    assert outcome(assert_close, a, e) == want                       # NumPy arrays, as PyTorch reads them


# ---- make_tensor --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, low, high", [(tg.float16, -9, 9), (tg.float32, -9, 9), (tg.float64, -9, 9),
                                              (tg.int8, -9, 10), (tg.int64, -9, 10), (tg.uint8, 0, 10),
                                              (tg.bool, 0, 2)])
def test_make_tensor_default_ranges(dtype, low, high):
    tg.manual_seed(0)
    t = make_tensor(4000, dtype=dtype)
    assert t.dtype is dtype and tuple(t.shape) == (4000,) and t.device == tg.device("cpu")
    a = t.numpy().astype(np.float64)
    assert a.min() >= low and a.max() < high
    assert a.min() < low + 0.5 and a.max() > high - 1.5                 # the whole range is used
    if not dtype.is_floating_point:
        assert set(np.unique(a)) == set(range(low, high))


def test_make_tensor_given_range_excludes_high_after_rounding():
    # float64 draws in (1 - 2^-12, 1) round to 1.0 in float16, which [low, high) excludes
    tg.manual_seed(0)
    a = make_tensor(100_000, dtype=tg.float16, low=0, high=1).numpy()
    assert a.min() >= 0 and a.max() < 1
    b = make_tensor(3, 5, dtype=tg.int32, low=2.5, high=4).numpy()
    assert set(np.unique(b)) <= {3}                                     # low is ceiled, high is exclusive
    assert make_tensor(50, dtype=tg.uint8, low=-100, high=3).numpy().min() >= 0      # clamped to the dtype


def test_make_tensor_shapes_seed_grad_and_errors():
    assert tuple(make_tensor(2, 3, dtype=tg.float32).shape) == (2, 3)
    assert tuple(make_tensor((2, 3), dtype=tg.float32).shape) == (2, 3)
    assert tuple(make_tensor([], dtype=tg.float32).shape) == ()
    tg.manual_seed(3)
    a = make_tensor(5, dtype=tg.float32).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(make_tensor(5, dtype=tg.float32).numpy(), a)
    t = make_tensor(4, dtype=tg.float64, requires_grad=True)
    assert t.requires_grad and t.is_leaf
    with pytest.raises(ValueError, match="`requires_grad=True` is not supported for boolean and integral"):
        make_tensor(3, dtype=tg.int64, requires_grad=True)
    with pytest.raises(ValueError, match="`low` must be less than `high`, but got 3 >= 1"):
        make_tensor(3, dtype=tg.float32, low=3, high=1)
    with pytest.raises(ValueError, match="cannot be NaN"):
        make_tensor(3, dtype=tg.float32, low=math.nan)
    with pytest.raises(ValueError, match=r"is \[-5, -1\), but tinygrad_fer.uint8 only supports \[0, 256\)"):
        make_tensor(3, dtype=tg.uint8, low=-5, high=-1)


@pytest.mark.parametrize("dtype", [tg.float32, tg.int64, tg.bool])
def test_make_tensor_noncontiguous_and_exclude_zero(dtype):
    tg.manual_seed(0)
    t = make_tensor(3, 4, dtype=dtype, noncontiguous=True, low=0, high=2, exclude_zero=True)
    assert tuple(t.shape) == (3, 4) and not t.is_contiguous() and t.is_leaf
    assert_close(t, t.contiguous())                                     # the same values in another layout
    assert (t.numpy() != 0).all()
    if dtype is not tg.float32:
        assert (t.numpy() == 1).all()                                   # zero is replaced by one
    assert make_tensor(1, 1, dtype=dtype, noncontiguous=True).is_contiguous()   # one element: nothing to step
    # float16 rounds a few percent of draws in +-1e-6 to zero: they become its smallest normal number
    floats = make_tensor(20_000, dtype=tg.float16, low=-1e-6, high=1e-6, exclude_zero=True).numpy()
    assert (floats != 0).all() and (floats == np.finfo(np.float16).tiny).sum() > 100


def test_signatures_are_pytorchs():
    ours = {f.__name__: inspect.signature(f) for f in (assert_close, make_tensor, gradcheck, gradgradcheck)}
    theirs = {"assert_close": torch.testing.assert_close, "make_tensor": torch.testing.make_tensor,
              "gradcheck": torch.autograd.gradcheck, "gradgradcheck": torch.autograd.gradgradcheck}
    for name, fn in theirs.items():
        for p in inspect.signature(fn).parameters.values():
            q = ours[name].parameters[p.name]
            assert q.kind == p.kind, (name, p.name)
            if not (name == "make_tensor" and p.name == "device"):          # ours defaults to the CPU
                assert q.default == p.default, (name, p.name)


# ---- gradcheck on users' own Functions ----------------------------------------------------------------------------
class MatMul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b.t(), a.t() @ g


class MatMulUntransposed(MatMul):
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b, a.t() @ g                                             # planted: b not transposed


class MatMulWrongSign(MatMul):
    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g @ b.t(), -(a.t() @ g)                                      # planted: sign of b's gradient


def _square_inputs():
    tg.manual_seed(0)
    return make_tensor(3, 3, dtype=tg.float64, requires_grad=True), make_tensor(3, 3, dtype=tg.float64,
                                                                                requires_grad=True)


def test_gradcheck_passes_a_right_function_and_catches_planted_bugs():
    a, b = _square_inputs()
    assert gradcheck(MatMul.apply, (a, b))
    assert gradcheck(MatMul.apply, (a, b), fast_mode=True)
    # square matrices: the transposed gradient has the right shape, only its values are wrong
    with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for input 0 at index \(\d, \d\): analytical"):
        gradcheck(MatMulUntransposed.apply, (a, b))
    with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for input 1 at index \(\d, \d\)"):
        gradcheck(MatMulWrongSign.apply, (a, b))
    with pytest.raises(GradcheckError, match="input 1 in fast mode"):
        gradcheck(MatMulWrongSign.apply, (a, b), fast_mode=True)
    assert gradcheck(MatMulWrongSign.apply, (a, b), raise_exception=False) is False
    assert isinstance(GradcheckError("x"), RuntimeError)


def test_gradcheck_several_inputs_and_outputs():
    a, b = _square_inputs()
    c = tg.tensor(2.0)                                                  # passed through, not checked

    def right(x, y, k):
        return MatMul.apply(x, y) * k, Cube.apply(x), y.argmax()        # an integer output is not differentiable
    assert gradcheck(right, (a, b, c))

    def wrong(x, y, k):
        return Cube.apply(y), MatMulUntransposed.apply(x, y) * k
    with pytest.raises(GradcheckError, match=r"^Jacobian mismatch for output 1 with respect to input 0 at index"):
        gradcheck(wrong, (a, b, c))
    with pytest.raises(GradcheckError, match="output 1 with respect to input 0 in fast mode"):
        gradcheck(wrong, (a, b, c), fast_mode=True)


def test_gradcheck_catches_a_nan_gradient():
    class NanGrad(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g * math.nan
    x = make_tensor(4, dtype=tg.float64, low=0.5, high=2, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"analytical nan, numerical"):
        gradcheck(NanGrad.apply, (x,))


def test_gradcheck_inputs_are_left_as_they_were():
    x32 = make_tensor(2, 3, dtype=tg.float32, requires_grad=True)        # checked on a float64 copy
    before = x32.detach().numpy().copy()
    seen = []

    def f(x):
        seen.append((x.dtype, x.is_contiguous()))
        return Cube.apply(x)
    assert gradcheck(f, x32)
    assert seen[0] == (tg.float64, True) and x32.grad is None
    np.testing.assert_array_equal(x32.detach().numpy(), before)
    # a float64 input is used as it is, its layout included, and restored bit for bit
    x64 = make_tensor(2, 3, dtype=tg.float64, noncontiguous=True, requires_grad=True)
    before = x64.detach().numpy().copy()
    seen.clear()
    assert gradcheck(f, x64)
    assert set(seen) == {(tg.float64, False)} and x64.grad is None
    np.testing.assert_array_equal(x64.detach().numpy(), before)
    # an expanded input (one value in memory for several elements) is copied: each element is perturbed alone
    xe = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64).expand(2, 3).detach().requires_grad_()
    assert gradcheck(lambda x: Cube.apply(x) * tg.tensor([[1.0], [2.0]], dtype=tg.float64), xe)


def test_gradcheck_samples_limits_the_entries_checked():
    calls = []

    def f(x):
        calls.append(1)
        return Cube.apply(x)
    x = make_tensor(10, dtype=tg.float64, requires_grad=True)
    assert gradcheck(f, x, samples=3)
    assert len(calls) == 1 + 2 * 3                                      # one forward for backward, two per entry


def test_gradcheck_nondeterministic_backward_and_detached_outputs():
    class Noisy(Cube):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g + tg.randn(*x.shape, dtype=tg.float64) * 1e-9
    x = make_tensor(5, dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match="Backward is not reentrant"):
        gradcheck(Noisy.apply, (x,))
    assert gradcheck(Noisy.apply, (x,), nondet_tol=1e-6)
    # no output requires grad: the numerical gradient must vanish
    with pytest.raises(GradcheckError, match="Numerical gradient for function expected to be zero"):
        gradcheck(lambda t: (t * 2).detach(), (x,))
    assert gradcheck(lambda t: tg.zeros(3, dtype=tg.float64), (x,))


def test_gradcheck_refusals_and_gradgradcheck():
    x = make_tensor(3, dtype=tg.float64)
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        gradcheck(Cube.apply, (x,))
    x.requires_grad_()
    for flag in ("check_batched_grad", "check_forward_ad", "check_batched_forward_grad", "masked"):
        with pytest.raises(NotImplementedError, match=flag):
            gradcheck(Cube.apply, (x,), **{flag: True})
    assert gradgradcheck(Cube.apply, (x,))
    assert gradgradcheck(Cube.apply, (x,), gen_non_contig_grad_outputs=True)
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):   # a backward whose own derivative is wrong
        gradgradcheck(WrongSecond.apply, (x,))
    for flag in ("check_batched_grad", "check_fwd_over_rev"):
        with pytest.raises(NotImplementedError, match=flag):
            gradgradcheck(Cube.apply, (x,), **{flag: True})


class WrongSecond(Cube):
    """x^3 with a backward that is right in value but detached from x: its second derivative reads as 0."""
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x.detach() * x.detach() * g


def test_autograd_gradcheck_is_the_toolkits():
    assert tg.autograd.gradcheck is gradcheck


# ---- strategies ---------------------------------------------------------------------------------------------------
@given(s=tst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=4), data=st.data())
def test_shapes_and_broadcastable_shapes(s, data):
    assert 1 <= len(s) <= 3 and all(2 <= n <= 4 for n in s)
    other = data.draw(tst.broadcastable_shapes(s, max_dims=4))
    assert np.broadcast_shapes(s, other) in (tuple(s), np.broadcast_shapes(other, s))
    assert tuple((tg.zeros(*s) + tg.zeros(*other)).shape) == np.broadcast_shapes(s, other)


@given(data=st.data(), layout=st.sampled_from(tst.LAYOUTS),
       dtype=st.sampled_from([tg.float16, tg.float32, tg.float64, tg.int32, tg.uint8, tg.bool]))
@settings(max_examples=60)
def test_tensors_layouts(data, layout, dtype):
    shape = data.draw(tst.shapes(min_dims=2, max_dims=3, min_side=2, max_side=4))
    t = data.draw(tst.tensors(dtype=dtype, shapes=st.just(shape), layouts=[layout]))
    assert t.dtype is dtype and tuple(t.shape) == shape and t.is_leaf and not t.requires_grad
    a = t.numpy()
    assert a.flags.c_contiguous == (layout == "contiguous")
    if layout == "flipped":
        assert min(t.stride()) < 0
    if layout == "expanded":
        assert 0 in t.stride()
    if dtype.is_floating_point:
        assert not np.isnan(a).any() and np.abs(a).max() <= 10          # nothing of the skipped memory shows
        assert np.isfinite(t.sum().item())
    elif dtype is not tg.bool:
        assert a.min() >= -9 and a.max() <= 10


def _find(strategy, condition):
    """An example of strategy meeting condition (Hypothesis fails the test if none of 1000 does)."""
    return find(strategy, condition, settings=settings(max_examples=1000, derandomize=True, database=None))


def test_tensors_options():
    t = _find(tst.tensors(dtype=tg.float32, shapes=(3,), elements=st.just(2.5), requires_grad=True), lambda t: True)
    assert t.requires_grad and (t.detach().numpy() == 2.5).all()
    # a vector can't be transposed: it falls back to a layout it can have
    v = _find(tst.tensors(shapes=(4,), layouts=["transposed"]), lambda t: True)
    assert tuple(v.shape) == (4,)
    for special in (np.isnan, np.isposinf, np.isneginf):
        _find(tst.tensors(dtype=tg.float64, shapes=(6,), edge_values=True), lambda t: special(t.numpy()).any())
    _find(tst.tensors(dtype=tg.float32, shapes=(6,), edge_values=True),
          lambda t: np.signbit(t.numpy()[t.numpy() == 0]).any())                  # -0.0
    _find(tst.tensors(dtype=st.sampled_from([tg.int8, tg.float16])), lambda t: t.dtype is tg.int8)
    with pytest.raises(ValueError, match="layouts must be names among"):
        _find(tst.tensors(layouts=["diagonal"]), lambda t: True)


@given(g=tst.conv_geometries())
@settings(max_examples=40)
def test_conv_geometries_run_conv2d(g):
    assert all(n >= 1 for n in g.output_size)
    x, w = tg.randn(*g.input_shape), tg.randn(*g.weight_shape)
    y = F.conv2d(x, w, **g.conv_kwargs())
    assert tuple(y.shape) == g.output_shape
    ref = torch.nn.functional.conv2d(torch.zeros(g.input_shape), torch.zeros(g.weight_shape), **g.conv_kwargs())
    assert tuple(ref.shape) == g.output_shape


@given(g=tst.conv_geometries(pool=True))
@settings(max_examples=40)
def test_conv_geometries_for_pooling(g):
    assert g.groups == 1 and g.out_channels == g.input_shape[1]
    assert all(p <= k // 2 for p, k in zip(g.padding, g.kernel_size))
    x = tg.randn(*g.input_shape)
    y = F.max_pool2d(x, g.kernel_size, g.stride, g.padding, g.dilation)
    assert tuple(y.shape) == g.output_shape
    if g.dilation == (1, 1):
        assert tuple(F.avg_pool2d(x, g.kernel_size, g.stride, g.padding).shape) == g.output_shape


def _python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_strategies_without_hypothesis_say_how_to_install_it():
    r = _python("import sys\nsys.modules['hypothesis'] = None\n"
                "try:\n    import tinygrad_fer.testing.strategies\nexcept ImportError as e:\n    print(e)\n")
    assert r.returncode == 0, r.stderr
    assert "needs Hypothesis" in r.stdout and "pip install hypothesis" in r.stdout and ".[test]" in r.stdout


def test_importing_the_toolkit_pulls_in_neither_hypothesis_nor_torch():
    r = _python("import sys, tinygrad_fer, tinygrad_fer.testing\n"
                "print(sorted(m for m in ('hypothesis', 'torch') if m in sys.modules))")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
