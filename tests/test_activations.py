"""The activation modules against torch.nn's (repr, output, gradients, inplace), and the activation arguments and
errors the registry's samples do not reach (tests/test_ops.py checks every functional form against PyTorch)."""
import math

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer.nn import functional as F
from helpers import compare

MODULES = [
    ("GELU", (), {}), ("GELU", ("tanh",), {}), ("SELU", (), {}), ("SELU", (True,), {}), ("CELU", (2.0,), {}),
    ("CELU", (), dict(alpha=0.5, inplace=True)), ("Mish", (), {}), ("Mish", (True,), {}), ("Hardswish", (), {}),
    ("Hardswish", (True,), {}), ("Hardsigmoid", (), {}), ("Hardsigmoid", (), dict(inplace=True)), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("Softmin", (1,), {}), ("GLU", (), {}), ("GLU", (0,), {}), ("Softshrink", (), {}),
    ("Softshrink", (1.0,), {}), ("Hardshrink", (0.3,), {}), ("Threshold", (0.1, 20.0), {}),
    ("Threshold", (-1, 2), dict(inplace=True)), ("Hardtanh", (), {}), ("Hardtanh", (-2, 2, True), {}),
    ("LogSigmoid", (), {}), ("PReLU", (), {}), ("PReLU", (4, 0.1), {}),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{n}{a}{k}" for n, a, k in MODULES])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_module_matches_torch(name, args, kw, dt):
    ours, theirs = getattr(tg.nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw).to(torch.float64)
    if dt is np.float64:
        ours = ours.double() if hasattr(ours, "double") else ours
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).uniform(-5, 5, (2, 4, 6)).astype(dt)
    inplace = kw.get("inplace", False) or (len(args) > 0 and args[-1] is True)
    if inplace:   # a leaf cannot be written in place: go through a differentiable copy, as PyTorch needs too
        compare(lambda t: ours(t * 1), lambda t: theirs.to(t.dtype)(t * 1), [x])
    else:
        compare(lambda t: ours(t), lambda t: theirs.to(t.dtype)(t), [x])
    params = dict(ours.named_parameters())
    assert sorted(params) == sorted(n for n, _ in theirs.named_parameters())


def test_prelu_weight_gradient_per_channel():
    x = np.random.default_rng(1).standard_normal((3, 4, 2, 2))
    w = np.array([0.1, -0.3, 0.25, 2.0])
    compare(F.prelu, torch.nn.functional.prelu, [x, w])
    m = tg.nn.PReLU(4, init=0.1)
    assert m.weight.shape == (4,) and m.weight.requires_grad and np.all(m.weight.detach().numpy() == np.float32(0.1))
    m(tg.tensor(x.astype(np.float32))).sum().backward()
    tm = torch.nn.PReLU(4, init=0.1)
    tm(torch.tensor(x, dtype=torch.float32)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5)


INPLACE = [("selu", {}), ("celu", dict(alpha=1.5)), ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}),
           ("threshold", dict(threshold=0.2, value=-4.0)), ("hardtanh", {})]


@pytest.mark.parametrize("name,kw", INPLACE, ids=[n for n, _ in INPLACE])
def test_functional_inplace_writes_input_and_backpropagates(name, kw):
    x = np.random.default_rng(2).uniform(-5, 5, (3, 4))
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)

    def run(lib, f, a):
        leaf = lib.tensor(a, requires_grad=True)
        y = leaf * 2
        out = f(y, inplace=True, **kw)
        assert out is y
        (out * lib.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        return y.detach().numpy(), leaf.grad.numpy()
    got, want = run(tg, ours, x), run(torch, theirs, x)
    for a, b in zip(got, want):
        # PyTorch's hardsigmoid gradient multiplies by 1/6 rounded to float32, even in float64
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-12)


def test_gelu_exact_to_float64_rounding():
    """Within a few float64 roundings of the exact x * Phi(x) and its derivative (mpmath, 50 digits), where
    PyTorch's 1 + erf loses digits for negative x; and close to PyTorch where PyTorch is accurate."""
    import mpmath
    x = np.concatenate([np.linspace(-10, 10, 2001), [-40.0, -6.5, 0.0, 1e-300, 40.0]])
    t = tg.tensor(x, requires_grad=True)
    got = F.gelu(t)
    got.sum().backward()
    with mpmath.workdps(50):
        exact = np.array([float(v * mpmath.ncdf(v)) for v in map(mpmath.mpf, x)])
        cdf, xpdf = (np.array([float(f(v)) for v in map(mpmath.mpf, x)])
                     for f in (mpmath.ncdf, lambda v: v * mpmath.npdf(v)))
        dexact = np.array([float(mpmath.ncdf(v) + v * mpmath.npdf(v)) for v in map(mpmath.mpf, x)])
    # rounding x / sqrt(2) alone moves erfc by ~x^2 ulps in the tail: the bound scales with the conditioning
    ulps = 4e-16 * (1 + x * x)
    assert np.all(np.abs(got.detach().numpy() - exact) <= ulps * np.abs(exact))
    # the derivative Phi(x) + x phi(x) cancels near its root (x ~ -0.75): rounding is relative to the terms
    assert np.all(np.abs(t.grad.numpy() - dexact) <= ulps * (np.abs(cdf) + np.abs(xpdf)))
    near = x >= -3   # further out, PyTorch's 1 + erf cancels to few digits (and to 0 below about -8.3)
    np.testing.assert_allclose(got.detach().numpy()[near], torch.nn.functional.gelu(torch.tensor(x)).numpy()[near],
                               rtol=1e-12, atol=1e-300)
    assert F.gelu(tg.zeros(0, 3)).shape == (0, 3)


def test_normalize_other_norms_and_out():
    x = np.random.default_rng(3).standard_normal((3, 4))
    x[1] = 0.0   # an all-zero row: divided by eps, gradient finite
    for p in (math.inf, 0.5, 1.0):
        compare(lambda t: F.normalize(t, p=p, dim=1), lambda t: torch.nn.functional.normalize(t, p=p, dim=1), [x],
                rtol=1e-6)
    compare(lambda t: F.normalize(t, dim=0, eps=0.5), lambda t: torch.nn.functional.normalize(t, dim=0, eps=0.5),
            [x])
    out = tg.zeros(3, 4, dtype=tg.float64)
    assert F.normalize(tg.tensor(x), out=out) is out
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.normalize(torch.tensor(x)).numpy(), rtol=1e-12)


def test_threshold_integer_input_casts_its_numbers_like_torch():
    a = np.array([-3, -1, 0, 1, 2, 5])
    for th, v in ((-1.5, 7.9), (1.5, -2.2), (0, 9)):
        got = F.threshold(tg.tensor(a), th, v)
        want = torch.nn.functional.threshold(torch.tensor(a), th, v)
        assert got.dtype == tg.int64 and np.array_equal(got.numpy(), want.numpy()), (th, v)


def test_softmin_dtype_argument():
    x = np.random.default_rng(4).standard_normal((2, 3)).astype(np.float32)
    got = F.softmin(tg.tensor(x), dim=1, dtype=tg.float64)
    want = torch.nn.functional.softmin(torch.tensor(x), dim=1, dtype=torch.float64)
    assert got.dtype == tg.float64
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    ints = np.array([[1, 2], [3, 0]])
    np.testing.assert_allclose(F.softmin(tg.tensor(ints), 1, dtype=tg.float32).numpy(),
                               torch.nn.functional.softmin(torch.tensor(ints), 1, dtype=torch.float32).numpy(),
                               rtol=1e-6)


ERRORS = [
    (lambda f, t: f.gelu(t.ones(2), approximate="fast"), RuntimeError, "approximate argument must be"),
    (lambda f, t: f.glu(t.ones(3, 3)), RuntimeError, "Halving dimension must be even, but dimension 1 is size 3"),
    (lambda f, t: f.glu(t.ones(2, 4), 0 - 3), IndexError, "Dimension out of range"),
    (lambda f, t: f.glu(t.tensor(1.0)), RuntimeError, "glu does not support scalars"),
    (lambda f, t: f.prelu(t.ones(4, 3), t.ones(4)), RuntimeError, "Found parameter numbers = 4 and channel size = 3"),
    (lambda f, t: f.prelu(t.tensor(1.0), t.ones(3)), RuntimeError, "Not allow zero-dim input tensor."),
    (lambda f, t: f.softshrink(t.ones(2), -1.0), RuntimeError, "lambda must be in range"),
    (lambda f, t: f.celu(t.ones(2), 0.0), RuntimeError, "alpha cannot be 0 for CELU"),
    (lambda f, t: f.gelu(t.ones(2, dtype=t.int64)), NotImplementedError, "not implemented for 'Long'"),
    (lambda f, t: f.hardswish(t.ones(2, dtype=t.int32)), NotImplementedError, "not implemented for 'Int'"),
    (lambda f, t: f.normalize(t.ones(2, dtype=t.int64)), RuntimeError, "Expected a floating point"),
]


@pytest.mark.parametrize("make,exc,msg", ERRORS)
def test_errors_like_torch(make, exc, msg):
    for f, t in ((torch.nn.functional, torch), (F, tg)):
        with pytest.raises(exc, match=msg):
            make(f, t)


def test_hardtanh_module_rejects_empty_range_like_torch():
    with pytest.raises(AssertionError):
        torch.nn.Hardtanh(1.0, 1.0)
    with pytest.raises(AssertionError):
        tg.nn.Hardtanh(1.0, 1.0)


# the in-place spellings: (name, positional args, keyword args) with the values PyTorch's docs give as defaults
INPLACE_SPELLINGS = [
    ("relu_", (), {}), ("elu_", (), {}), ("elu_", (), dict(alpha=0.7)), ("celu_", (1.5,), {}), ("selu_", (), {}),
    ("leaky_relu_", (), {}), ("leaky_relu_", (), dict(negative_slope=0.2)), ("hardtanh_", (-0.5,), dict(max_val=2.0)),
    ("hardtanh_", (), {}), ("threshold_", (0.3,), dict(value=-2.0)), ("threshold_", (), dict(threshold=0.0, value=9.0)),
    ("rrelu_", (), {}), ("rrelu_", (0.1, 0.4), dict(training=False)),
]


@pytest.mark.parametrize("name,args,kw", INPLACE_SPELLINGS, ids=[f"{n}{a}{k}" for n, a, k in INPLACE_SPELLINGS])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_inplace_spellings_match_torch(name, args, kw, dt):
    """Values and input gradients through the in-place write, the input returned, the write seen by a view."""
    x = np.random.default_rng(5).uniform(-3, 3, (3, 5)).astype(dt)
    x[0, 0], x[0, 1] = 0.0, 0.3     # a kink and threshold_'s boundary
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)

    def run(lib, f):
        def call(t):
            y = t * 1
            out = f(y, *args, **kw)
            assert out is y
            return out
        return call
    compare(run(tg, ours), run(torch, theirs), [x])
    base = tg.tensor(x)
    row = base[1]
    ours(row, *args, **kw)
    want = torch.tensor(x)
    theirs(want[1], *args, **kw)
    np.testing.assert_allclose(base.numpy(), want.numpy(), rtol=1e-6 if dt is np.float32 else 1e-14)


def test_inplace_spellings_in_the_torch_namespace():
    for name in ("relu_", "celu_", "selu_", "rrelu_", "threshold_"):
        assert getattr(torch, name) is getattr(torch.nn.functional, name)
        assert getattr(tg, name) is getattr(F, name)
    for name in ("elu_", "leaky_relu_", "hardtanh_"):
        assert not hasattr(torch, name) and not hasattr(tg, name)


def test_rrelu_inplace_training_draws_slopes_and_backpropagates():
    x = -np.arange(1.0, 7.0).reshape(2, 3)
    leaf = tg.tensor(x, requires_grad=True)
    y = leaf * 1
    F.rrelu_(y, 0.2, 0.3, training=True)
    slope = y.detach().numpy() / x
    assert np.all((slope >= 0.2) & (slope <= 0.3)) and len(np.unique(slope)) > 1
    y.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), slope, rtol=1e-12)   # the drawn slopes, as PyTorch's


def test_integer_inputs_of_the_inplace_spellings_like_torch():
    signed = (("relu_", ()), ("hardtanh_", ()), ("hardtanh_", (-1.5, 2.5)), ("hardtanh_", (0, 2.9)),
              ("threshold_", (0.5, 7.9)), ("threshold_", (-1.5, -4)))
    unsigned = (("relu_", ()), ("hardtanh_", (0, 2.9)), ("threshold_", (0.5, 7.9)))   # negative limits: an error
    for make, cases in ((lambda t: t.tensor([-3, 0, 2, 7]), signed),
                        (lambda t: t.tensor([0, 3, 200], dtype=t.uint8), unsigned)):
        for name, args in cases:
            got, want = make(tg), make(torch)
            assert getattr(F, name)(got, *args) is got
            getattr(torch.nn.functional, name)(want, *args)
            assert got.dtype.name == str(want.dtype).split(".")[1] and np.array_equal(got.numpy(), want.numpy())
    # out of place too: hardtanh and relu6 keep the integer dtype, with the limits truncated to integers
    for name, args in (("hardtanh", (-1.5, 2.5)), ("relu6", ())):
        got = getattr(F, name)(tg.tensor([-3, 0, 3, 9]), *args)
        want = getattr(torch.nn.functional, name)(torch.tensor([-3, 0, 3, 9]), *args)
        assert got.dtype == tg.int64 and np.array_equal(got.numpy(), want.numpy())


INPLACE_ERRORS = [
    (lambda f, t: f.relu_([1.0]), TypeError, r"relu_\(\): argument 'input' \(position 1\) must be Tensor, not list"),
    (lambda f, t: f.elu_([1.0]), TypeError, r"elu_\(\): argument 'input' \(position 1\) must be Tensor"),
    (lambda f, t: f.celu_((1.0,)), TypeError, r"celu_\(\): argument 'input' \(position 1\) must be Tensor, not tuple"),
    (lambda f, t: f.selu_(1.0), TypeError, r"selu_\(\): argument 'input' \(position 1\) must be Tensor, not float"),
    (lambda f, t: f.leaky_relu_([1.0]), TypeError, r"leaky_relu_\(\): argument 'input'"),
    (lambda f, t: f.hardtanh_([1.0]), TypeError, r"hardtanh_\(\): argument 'input'"),
    (lambda f, t: f.rrelu_([1.0]), TypeError, r"rrelu_\(\): argument 'input'"),
    (lambda f, t: f.threshold_([1.0], 0.0, 1.0), TypeError, r"threshold_\(\): argument 'input'"),
    (lambda f, t: f.threshold_(t.ones(2)), TypeError, "threshold_"),
    (lambda f, t: f.relu_(t.ones(2, requires_grad=True)), RuntimeError, "a leaf Variable that requires grad"),
    (lambda f, t: f.hardtanh_(t.ones(2, requires_grad=True)), RuntimeError, "a leaf Variable that requires grad"),
    (lambda f, t: f.relu_(t.tensor([True])), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda f, t: f.relu(t.tensor([True])), RuntimeError, "Boolean inputs not supported for relu"),
    (lambda f, t: f.hardtanh_(t.tensor([True])), RuntimeError, "Bool inputs not supported for hardtanh"),
    (lambda f, t: f.relu6(t.tensor([True])), RuntimeError, "Bool inputs not supported for hardtanh"),
    (lambda f, t: f.hardtanh(t.tensor([1], dtype=t.uint8)), RuntimeError, "unsigned type with negative limits"),
    (lambda f, t: f.elu_(t.tensor([1])), NotImplementedError, "\"elu_cpu\" not implemented for 'Long'"),
    (lambda f, t: f.celu_(t.tensor([True])), NotImplementedError, "\"elu_cpu\" not implemented for 'Bool'"),
    (lambda f, t: f.selu_(t.tensor([1], dtype=t.int32)), NotImplementedError, "\"elu_cpu\" not implemented for 'Int'"),
    (lambda f, t: f.leaky_relu_(t.tensor([1])), NotImplementedError, "\"leaky_relu_cpu\" not implemented for 'Long'"),
    (lambda f, t: f.rrelu_(t.tensor([1])), NotImplementedError, "\"leaky_relu_cpu\" not implemented for 'Long'"),
    (lambda f, t: f.threshold_(t.tensor([True]), 0, 1), NotImplementedError, "not implemented for 'Bool'"),
    (lambda f, t: f.celu_(t.ones(2), 0.0), RuntimeError, "alpha cannot be 0 for CELU"),
    (lambda f, t: f.rrelu_(t.ones(2), 0.5, 0.1), RuntimeError, "Lower bound should be less than or equal"),
    (lambda f, t: f.rrelu(t.tensor([1]), 0.5, 0.1, True), RuntimeError, "Lower bound should be less than or equal"),
    (lambda f, t: f.elu_(t.tensor([-1.0]).expand(3)), RuntimeError, "more than one element of the written-to"),
]


@pytest.mark.parametrize("make,exc,msg", INPLACE_ERRORS)
def test_inplace_spelling_errors_like_torch(make, exc, msg):
    for f, t in ((torch.nn.functional, torch), (F, tg)):
        with pytest.raises(exc, match=msg):
            make(f, t)


# celu's alpha has an exact reciprocal: for alpha = -1.2 PyTorch's float64 gradient is 1e-7 off exp(x / alpha)
@pytest.mark.parametrize("name,arg", [("leaky_relu", -0.5), ("elu", -0.7), ("celu", -0.5)])
def test_negative_slope_inplace_backward_is_the_out_of_place_gradient(name, arg):
    """PyTorch refuses this backward ("... with a negative slope which is not supported"); here it is computed, and
    equals PyTorch's out-of-place gradient (docs/07, what differs)."""
    x = np.array([-2.0, -0.5, 1.0, 3.0])
    compare(lambda t: getattr(F, name + "_")(t * 1, arg), lambda t: getattr(torch.nn.functional, name)(t, arg), [x])
    leaf = torch.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="negative slope which is not supported"):
        getattr(torch.nn.functional, name + "_")(leaf * 1, arg).sum().backward()
