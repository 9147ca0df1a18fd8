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
