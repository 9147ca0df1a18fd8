"""Elementwise ops against PyTorch: broadcasting, promotion, forward, gradient, numeric gradcheck."""
import numpy as np
import pytest
import torch
from hypothesis import assume, given, strategies as st

import tinygrad_fer as tg
from helpers import compare, gradcheck, raises_like
from outcomes import same_outcome
from strategies import DTYPES, arrays, broadcast_pair

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "add_alpha": lambda a, b: a.add(b, alpha=0.5),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcast(name, dtype, data):
    sa, sb = data.draw(broadcast_pair())
    a = data.draw(arrays(sa, dtype))
    b = data.draw(arrays(sb, dtype))
    if name == "div":
        b = np.where(np.abs(b) < 0.5, 1.5, b).astype(dtype)
    compare(BINARY[name], BINARY[name], [a, b])


@given(data=st.data())
def test_pow_tensor_tensor(data):
    sa, sb = data.draw(broadcast_pair(max_dims=3))
    a = np.abs(data.draw(arrays(sa, np.float64))) + 0.5
    b = data.draw(arrays(sb, np.float64, -3, 3))
    compare(lambda x, y: x ** y, lambda x, y: x ** y, [a, b])


@pytest.mark.parametrize("p", [2, 3, 0.5, -1.5, 0, 1])
def test_pow_scalar(p):
    a = np.random.default_rng(1).uniform(0.5, 3, (3, 4))
    compare(lambda x: x ** p, lambda x: x ** p, [a])
    compare(lambda x: p ** x, lambda x: p ** x, [a]) if p > 0 else None


def test_pow_zero_base_gradients():
    a = np.array([0.0, 0.0, 2.0])
    b = np.array([0.0, 2.0, 3.0])
    compare(lambda x, y: x ** y, lambda x, y: x ** y, [a, b])


@pytest.mark.parametrize("scalar", [2, 2.5, -1, True])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "r+", "r-", "r*", "r/"])
def test_reflected_scalars(op, scalar):
    a = np.random.default_rng(0).uniform(1, 2, (2, 3)).astype(np.float32)
    f = {"+": lambda x: x + scalar, "-": lambda x: x - scalar, "*": lambda x: x * scalar,
         "/": lambda x: x / scalar if scalar else x, "r+": lambda x: scalar + x, "r-": lambda x: scalar - x,
         "r*": lambda x: scalar * x, "r/": lambda x: scalar / x}[op]
    if scalar is True and op in ("-", "r-"):
        raises_like(f, f, a)
    else:
        compare(f, f, [a])


UNARY = {
    "neg": (lambda x: -x, None),
    "exp": (lambda x: x.exp(), (-5, 5)),
    "log": (lambda x: x.log(), (0.1, 10)),
    "sqrt": (lambda x: x.sqrt(), (0.1, 10)),
    "abs": (lambda x: x.abs(), None),
    "sin": (lambda x: x.sin(), None),
    "cos": (lambda x: x.cos(), None),
    "relu": (lambda x: x.relu(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "tanh": (lambda x: x.tanh(), None),
    "clamp": (lambda x: x.clamp(-1.5, 2.0), None),
    "clamp_min": (lambda x: x.clamp(min=0.3), None),
    "clamp_max": (lambda x: x.clamp(max=0.3), None),
    "log1p": (lambda x: x.log1p(), (0, 5)),
    "rsqrt": (lambda x: x.rsqrt(), (0.2, 5)),
}

FUNCTIONAL = {
    "leaky_relu": (lambda m: lambda x: m.nn.functional.leaky_relu(x, 0.2) if m is torch else
                   tg.ops.elementwise.leaky_relu(x, 0.2)),
    "elu": (lambda m: lambda x: m.nn.functional.elu(x, 0.7) if m is torch else tg.ops.elementwise.elu(x, 0.7)),
    "softplus": (lambda m: lambda x: m.nn.functional.softplus(x, 2.0, 5.0) if m is torch else
                 tg.ops.elementwise.softplus(x, 2.0, 5.0)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(name, dtype, data):
    f, rng = UNARY[name]
    lo, hi = rng or (-10, 10)
    a = data.draw(arrays(dtype=dtype, lo=lo, hi=hi))
    if name in ("abs", "relu") or name.startswith("clamp"):
        assume(not np.any(np.isin(a, [0.0, -1.5, 2.0, 0.3])))  # kinks: PyTorch's subgradient choice differs
    compare(f, f, [a])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
@given(data=st.data())
def test_activations(name, dtype, data):
    a = data.draw(arrays(dtype=dtype))
    compare(FUNCTIONAL[name](tg), FUNCTIONAL[name](torch), [a])


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(FUNCTIONAL))
def test_unary_gradcheck(name):
    f = UNARY[name][0] if name in UNARY else FUNCTIONAL[name](tg)
    lo, hi = (UNARY.get(name, (None, None))[1] or (-3, 3))
    a = np.random.default_rng(3).uniform(lo, hi, (3, 4))
    a[np.abs(a) < 0.05] = 0.1
    for kink in (-1.5, 2.0, 0.3):
        a[np.abs(a - kink) < 0.05] = kink + 0.1
    gradcheck(f, a)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradcheck(name):
    rng = np.random.default_rng(4)
    a, b = rng.uniform(0.5, 2, (3, 1, 4)), rng.uniform(-2, -0.5, (5, 1))
    gradcheck(BINARY[name], a, b)


def test_where():
    rng = np.random.default_rng(5)
    c = rng.random((3, 4)) > 0.5
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    compare(lambda x, y: tg.where(tg.tensor(c), x, y), lambda x, y: torch.where(torch.tensor(c), x, y), [a, b])
    gradcheck(lambda x, y: tg.where(tg.tensor(c), x, y), a, b)
    compare(lambda x: tg.where(tg.tensor(c), x, 0.0), lambda x: torch.where(torch.tensor(c), x, 0.0), [a])
    compare(lambda x: tg.where(tg.tensor(c), 2, x), lambda x: torch.where(torch.tensor(c), 2, x), [a])


def test_maximum_ties_split_gradient():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([1.0, 1.0, 4.0])
    compare(lambda x, y: x.maximum(y), lambda x, y: x.maximum(y), [a, b])
    compare(lambda x, y: x.minimum(y), lambda x, y: x.minimum(y), [a, b])


def test_clamp_boundary_gradient_included():
    a = np.array([-1.0, 0.0, 1.0, 2.0])
    compare(lambda x: x.clamp(-1.0, 1.0), lambda x: x.clamp(-1.0, 1.0), [a])


@pytest.mark.parametrize("pair", [
    (np.float32, np.float64), (np.int64, np.float32), (np.int64, np.int64), (np.bool_, np.int64),
    (np.int32, np.int64), (np.uint8, np.int64), (np.bool_, np.float32)])
def test_type_promotion(pair):
    a = np.ones((2, 2), pair[0])
    b = np.ones((2,), pair[1])
    for f in (lambda x, y: x + y, lambda x, y: x * y, lambda x, y: x / y):
        ours, theirs = f(tg.tensor(a), tg.tensor(b)), f(torch.tensor(a), torch.tensor(b))
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]


@pytest.mark.parametrize("dt", [np.int64, np.float32, np.float64, np.bool_])
@pytest.mark.parametrize("s", [2, 2.5, True])
def test_scalar_promotion(dt, s):
    a = np.ones(3, dt)
    ours, theirs = tg.tensor(a) * s, torch.tensor(a) * s
    assert ours.dtype.name == str(theirs.dtype).split(".")[1]


def test_zero_dim_promotion():
    a = np.ones(3, np.float32)
    z = np.array(2.0)  # 0-d float64 does not widen a dimensioned float32
    assert (tg.tensor(a) * tg.tensor(z)).dtype is tg.float32
    i = np.ones(3, np.int64)
    assert (tg.tensor(i) * tg.tensor(z)).dtype is tg.float64
    assert str((torch.tensor(i) * torch.tensor(z)).dtype) == "torch.float64"


def test_comparisons_return_bool_without_grad():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert r.dtype is tg.bool and not r.requires_grad
    assert (x > 2).tolist() == [False, False, True]


def test_shape_mismatch_error_names_shapes():
    e = raises_like(lambda a, b: a + b, lambda a, b: a + b, np.ones((2, 3)), np.ones((4,)))
    assert "[2, 3]" in str(e) and "[4]" in str(e)


def test_large_logits_are_finite():
    x = tg.tensor([[1e4, 0.0, -1e4]], requires_grad=True)
    y = tg.log_softmax(x, 1)
    assert np.all(np.isfinite(y.detach().numpy()))
    (y[0, 1]).backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    s = tg.tensor([[1e4, 1e4 - 1]], requires_grad=True)
    out = tg.softmax(s, 1)
    out[0, 0].backward()
    assert np.all(np.isfinite(s.grad.numpy()))
    assert np.isfinite(tg.logsumexp(tg.tensor([1e4, 1e4]), 0).item())
    sg = tg.tensor([-1e4, 1e4]).sigmoid().numpy()
    assert np.all(np.isfinite(sg)) and sg[0] == 0 and sg[1] == 1


def test_top_level_functions():
    x = tg.tensor([0.5, 1.5])
    for name in ("exp", "log", "sqrt", "abs", "sin", "cos", "relu", "sigmoid", "tanh"):
        np.testing.assert_allclose(getattr(tg, name)(x).numpy(), getattr(torch, name)(torch.tensor([0.5, 1.5])),
                                   rtol=1e-6)
    np.testing.assert_allclose(tg.matmul(tg.ones(2, 3), tg.ones(3)).numpy(), [3, 3])


def test_integer_and_bool_ops():
    a = tg.tensor([1, 2, 3])
    assert (a + 1).dtype is tg.int64 and (a + 1).tolist() == [2, 3, 4]
    assert (a / 2).dtype is tg.float32
    assert (a // 2).tolist() == [0, 1, 1]
    with pytest.raises(RuntimeError):
        -tg.tensor([True, False])


# ---- rounded division, remainder, fmod ----------------------------------------------------------------------------

DIVISION = {
    "remainder": lambda m: lambda a, b: a % b,
    "remainder_fn": lambda m: lambda a, b: m.remainder(a, b),
    "fmod": lambda m: lambda a, b: m.fmod(a, b),
    "floordiv": lambda m: lambda a, b: a // b,
    "floor_divide": lambda m: lambda a, b: m.floor_divide(a, b),
    "div_floor": lambda m: lambda a, b: m.div(a, b, rounding_mode="floor"),
    "div_trunc": lambda m: lambda a, b: a.div(b, rounding_mode="trunc"),
}
DIFFERENTIABLE = ["remainder", "remainder_fn", "fmod", "div_floor", "div_trunc"]


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(DIVISION))
@given(data=st.data())
def test_division_family(name, dtype, data):
    """Both signs, zeros in both operands (integer division by zero must raise as PyTorch does), broadcasting."""
    sa, sb = data.draw(broadcast_pair(max_dims=3))
    a = data.draw(arrays(sa, dtype, -20, 20))
    b = data.draw(arrays(sb, dtype, -6, 6))
    if data.draw(st.booleans()):
        b = np.where(np.abs(b) < 1, 0, b).astype(dtype)  # zeros for floats too, or none at all for ints
    elif np.dtype(dtype).kind == "i":
        b = np.where(b == 0, 1, b).astype(dtype)
    same_outcome(lambda m: DIVISION[name](m)(m.tensor(a), m.tensor(b)))


@pytest.mark.parametrize("name", DIFFERENTIABLE)
@given(data=st.data())
def test_division_gradients(name, data):
    """PyTorch's formulas: remainder d/dother = -g * floor(a/b), fmod -g * trunc(a/b), rounded division zero."""
    sa, sb = data.draw(broadcast_pair(max_dims=3))
    a = data.draw(arrays(sa, np.float64, -20, 20))
    b = data.draw(arrays(sb, np.float64, -6, 6))
    compare(DIVISION[name](tg), DIVISION[name](torch), [a, b])


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_division_gradcheck(name):
    rng = np.random.default_rng(6)
    b = rng.uniform(0.5, 2, (4,)) * rng.choice([-1, 1], (4,))
    # quotients at least 0.2 from an integer: away from the jumps, where the numeric derivative is defined
    a = (rng.integers(-3, 4, (3, 4)) + rng.uniform(0.2, 0.8, (3, 4))) * b
    gradcheck(DIVISION[name](tg), a, b)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64])
@pytest.mark.parametrize("scalar", [3, -3, 2.5, -2.5, 0, 0.0, True, False])
@pytest.mark.parametrize("op", ["a%s", "s%a", "fmod", "a//s", "s//a", "trunc", "floor"])
def test_division_scalars(op, scalar, dtype):
    """PyTorch's promotion with Python numbers (an int beside int8 stays int8 and wraps; a float makes a float)."""
    a = np.array([-7, -3, 0, 3, 7, 5]).astype(dtype)
    f = {"a%s": lambda m, x: x % scalar, "s%a": lambda m, x: scalar % x, "fmod": lambda m, x: m.fmod(x, scalar),
         "a//s": lambda m, x: x // scalar, "s//a": lambda m, x: scalar // x,
         "trunc": lambda m, x: m.div(x, scalar, rounding_mode="trunc"),
         "floor": lambda m, x: m.div(x, scalar, rounding_mode="floor")}[op]
    same_outcome(lambda m: f(m, m.tensor(a)))


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([5]) // 0, lambda m: m.tensor([5]) // m.tensor([0]), lambda m: 5 // m.tensor([1, 0]),
    lambda m: m.floor_divide(m.tensor([5]), 0), lambda m: m.div(m.tensor([5]), 0, rounding_mode="floor"),
    lambda m: m.div(m.tensor([5]), m.tensor([0]), rounding_mode="trunc"), lambda m: m.tensor([5]) % 0,
    lambda m: m.remainder(m.tensor([1, 2]), m.tensor([1, 0])), lambda m: m.fmod(m.tensor([5]), 0),
    lambda m: m.fmod(m.tensor([5], dtype=m.int32), m.tensor([0], dtype=m.int32)), lambda m: 5 % m.tensor([0]),
    lambda m: m.tensor(5, dtype=m.uint8) // m.tensor(0, dtype=m.uint8), lambda m: m.tensor([100], dtype=m.int8) % 256,
    lambda m: m.tensor([], dtype=m.int64) // 0, lambda m: m.tensor([3]) % False,
    lambda m: m.tensor([True]) % m.tensor([True]), lambda m: m.tensor([True]) // True,
    lambda m: m.fmod(m.tensor([True]), m.tensor([True])),
    lambda m: m.div(m.tensor([True]), m.tensor([True]), rounding_mode="trunc"),
    lambda m: m.tensor([True, False]) // 2, lambda m: m.remainder(m.tensor([True]), 1),
    lambda m: m.remainder(5, m.tensor([2, -2])),
    lambda m: m.tensor([-2 ** 63]) % -1, lambda m: m.tensor([-2 ** 63]) // -1, lambda m: m.fmod(m.tensor([-2 ** 63]), -1),
    lambda m: m.tensor([float("inf"), 5.0, -5.0]) % m.tensor([3.0, float("inf"), float("inf")]),
    lambda m: m.fmod(m.tensor([float("inf"), 5.0, -5.0]), m.tensor([3.0, float("inf"), float("inf")])),
    lambda m: m.fmod(m.tensor([200], dtype=m.uint8), m.tensor([-3], dtype=m.int8)),
    lambda m: m.tensor([5.5]) % m.tensor([2]), lambda m: m.tensor([5, -5]) % m.tensor(2.5, dtype=m.float64)])
def test_division_errors_and_edges(make):
    """Integer division by zero, bool operands and bad argument kinds raise what PyTorch raises; no-element and
    overflowing quotients, infinities and mixed dtypes give what it gives."""
    same_outcome(make)


def test_division_argument_kinds():
    # PyTorch's messages list its overloads in its own words: the exception type is what is compared
    same_outcome(lambda m: m.fmod(5, m.tensor([2])), message=False)
    same_outcome(lambda m: m.remainder(5, 3), message=False)
    same_outcome(lambda m: m.tensor([5]) % "2", message=False)


@pytest.mark.parametrize("op", ["remainder_", "__imod__", "fmod_", "floor_divide_", "__ifloordiv__"])
@pytest.mark.parametrize("dtype, other", [(np.int64, 3), (np.int64, -3), (np.int32, np.array([3, -2, 5, -1, 4])),
                                          (np.float64, 2.5), (np.float32, -0.75), (np.int64, 0), (np.int64, 2.5)])
def test_division_in_place(op, dtype, other):
    a = np.array([-7, -3, 0, 3, 7]).astype(dtype)

    def run(m):
        x = m.tensor(a)
        y = getattr(x, op)(m.tensor(other) if isinstance(other, np.ndarray) else other)
        assert y is x
        return x
    same_outcome(run, message=not (dtype is np.int64 and other == 2.5))  # the dtype spellings differ


@pytest.mark.parametrize("op", ["remainder_", "fmod_"])
def test_division_in_place_gradients(op):
    rng = np.random.default_rng(8)
    a, b = rng.uniform(-5, 5, (3, 4)), rng.uniform(0.5, 2, (4,)) * rng.choice([-1, 1], (4,))

    def f(x, y):
        z = x * 1.0
        getattr(z, op)(y)
        return z
    compare(f, f, [a, b])


@pytest.mark.parametrize("make", [lambda m, x: (x // 2).sum(), lambda m, x: m.floor_divide(x, x).sum(),
                                  lambda m, x: (2.5 % x).sum(), lambda m, x: m.remainder(3, x).sum()])
def test_division_without_derivative_raises_in_backward(make):
    """PyTorch records these ops but defines no derivative: the result requires grad, backward raises."""
    def run(m):
        out = make(m, m.tensor([5.5, -3.0], requires_grad=True))
        assert out.requires_grad
        out.backward()
    same_outcome(run)


def test_division_names():
    x = tg.tensor([5.0, -5.0])
    for name in ("remainder", "fmod", "floor_divide"):
        assert getattr(tg, name)(x, 3).tolist() == getattr(torch, name)(torch.tensor([5.0, -5.0]), 3).tolist()
        assert getattr(x, name)(3).tolist() == getattr(torch.tensor([5.0, -5.0]), name)(3).tolist()
