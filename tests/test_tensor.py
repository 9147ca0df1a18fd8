"""Creation functions, attributes, conversions, repr, RNG: names, defaults, dtypes as in PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import raises_like
from outcomes import same_outcome


def same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).split(".")[1], (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("data", [1, 1.5, True, [1, 2], [1.0, 2], [[True, False]], [], np.array([1, 2], np.int32),
                                  np.array([1.0], np.float64), np.float32(2.0)])
def test_tensor_dtype_inference(data):
    same(tg.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_filled(name):
    for args in [(2, 3), ((2, 3),), ([4],), ((),)]:
        o, t = getattr(tg, name)(*args), getattr(torch, name)(*args)
        assert tuple(o.shape) == tuple(t.shape) and o.dtype is tg.float32
    assert getattr(tg, name)(2, dtype=tg.float64).dtype is tg.float64
    assert getattr(tg, name)(2, dtype=tg.int64).dtype is tg.int64


def test_full_arange_linspace_eye():
    same(tg.full((2, 2), 3), torch.full((2, 2), 3))
    same(tg.full((2,), 1.5), torch.full((2,), 1.5))
    same(tg.full((2,), True), torch.full((2,), True))
    for args in [(5,), (1, 5), (0, 1, 0.25), (5, 1, -1), (0.5, 2.0), (1, 2.5, 0.5)]:
        same(tg.arange(*args), torch.arange(*args))
    same(tg.linspace(0, 1, 5), torch.linspace(0, 1, 5))
    same(tg.eye(3), torch.eye(3))
    same(tg.eye(2, 3), torch.eye(2, 3))


def test_like_functions():
    x = tg.tensor([[1, 2]], dtype=tg.float64)
    for name in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
        y = getattr(tg, name)(x)
        assert y.shape == x.shape and y.dtype is tg.float64
    assert tg.full_like(x, 7).tolist() == [[7.0, 7.0]]
    assert tg.randint_like(x, 5).dtype is tg.float64


def test_random_reproducible():
    tg.manual_seed(0)
    a, b, c = tg.rand(3), tg.randn(2, 2), tg.randint(0, 10, (4,))
    tg.manual_seed(0)
    assert a.tolist() == tg.rand(3).tolist() and b.tolist() == tg.randn(2, 2).tolist()
    assert c.tolist() == tg.randint(0, 10, (4,)).tolist()
    assert a.dtype is tg.float32 and c.dtype is tg.int64
    assert 0 <= a.min().item() and a.max().item() < 1
    g = tg.Generator().manual_seed(3)
    x1 = tg.randn(5, generator=g)
    g.manual_seed(3)
    assert x1.tolist() == tg.randn(5, generator=g).tolist()
    assert sorted(tg.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    big = tg.randn(20000)
    assert abs(big.mean().item()) < 0.05 and abs(big.std().item() - 1) < 0.05


def test_attributes():
    x = tg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert x.ndim == 3 and x.dim() == 3 and x.numel() == 24
    assert x.dtype is tg.float32 and x.device == "cpu" and str(x.device) == "cpu"
    assert repr(x.device) == "device(type='cpu')"
    assert x.T.shape == (4, 3, 2) and x.grad is None and not x.requires_grad and x.is_leaf and x.grad_fn is None
    assert repr(x.shape) == "tinygrad_fer.Size([2, 3, 4])"
    assert x.stride() == (12, 4, 1)


def test_conversions():
    x = tg.tensor([[1.5, 2.0]])
    assert x.tolist() == [[1.5, 2.0]] and isinstance(x.numpy(), np.ndarray)
    assert tg.tensor(3.5).item() == 3.5 and float(tg.tensor([2.0])) == 2.0 and int(tg.tensor(3)) == 3
    with pytest.raises(RuntimeError):
        x.item()
    with pytest.raises(RuntimeError):
        tg.tensor([1.0], requires_grad=True).numpy()
    a = np.arange(3.0)
    t = tg.from_numpy(a)
    a[0] = 9
    assert t.tolist()[0] == 9 and t.dtype is tg.float64
    assert x.double().dtype is tg.float64 and x.long().dtype is tg.int64 and x.to(tg.float64).dtype is tg.float64
    assert x.to("cpu") is x


def test_cast_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x.double() * 3).sum().backward()
    assert x.grad.dtype is tg.float32 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1.0, 2.5]), lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]), lambda m: m.tensor([1, 2]),
    lambda m: m.tensor(3.0), lambda m: m.tensor([True, False]), lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    lambda m: m.tensor([1.0], requires_grad=True), lambda m: m.tensor([0.001, 1000.0]),
    lambda m: m.tensor([[1.0, 12.5], [-3.25, 4.0]]), lambda m: m.tensor([[1.0, 10.0], [-3.0, 4.0]]),
    lambda m: m.arange(2000.0).reshape(2, 1000), lambda m: m.tensor([0.0, 1.0, 5000.0]),
    lambda m: m.tensor([float("inf"), 1.0]), lambda m: m.tensor([float("nan"), -1.5]), lambda m: m.arange(3000),
    lambda m: m.ones(2000) * 0.5, lambda m: m.tensor([1e-5, 1.0])])
def test_repr_like_torch(make):
    assert repr(make(tg)) == repr(make(torch)).replace("torch.", "tinygrad_fer.")


def test_repr_grad_fn():
    x = tg.tensor([1.0], requires_grad=True)
    assert "grad_fn=<" in repr(x * 2)


def test_creation_errors():
    raises_like(lambda: tg.zeros(-1), lambda: torch.zeros(-1))
    raises_like(lambda: tg.zeros(2.5), lambda: torch.zeros(2.5))
    with pytest.raises(TypeError):
        tg.from_numpy([1, 2])
    with pytest.raises(RuntimeError, match="CUDA|CuPy|cuda"):
        tg.zeros(2, device="cuda") if not tg.cuda.is_available() else (_ for _ in ()).throw(RuntimeError("cuda"))


def _zeros_uint8(m):
    return m.zeros(2, dtype=m.uint8)


@pytest.mark.parametrize("make", [
    # torch.tensor / as_tensor from Python numbers: ints are read as 64-bit ones, integer dtypes range-checked
    lambda m: m.tensor([2 ** 63]), lambda m: m.tensor(2 ** 63), lambda m: m.tensor([-2 ** 63 - 1]),
    lambda m: m.tensor([2 ** 64]), lambda m: m.tensor([[1, 2], [3, 2 ** 63]]), lambda m: m.tensor([True, 2 ** 63]),
    lambda m: m.tensor([2 ** 63 - 1, -2 ** 63]), lambda m: m.tensor([2 ** 63], dtype=m.float32),
    lambda m: m.tensor([2 ** 64, 1.5]), lambda m: m.tensor([10 ** 400, 1.5]), lambda m: m.tensor([10 ** 400], dtype=m.bool),
    lambda m: m.tensor([2 ** 63, 1.5], dtype=m.int64), lambda m: m.tensor([2 ** 63], dtype=m.uint8),
    lambda m: m.tensor([300], dtype=m.uint8), lambda m: m.tensor([256], dtype=m.uint8),
    lambda m: m.tensor([255, -1, -128, -255], dtype=m.uint8), lambda m: m.tensor([-256], dtype=m.uint8),
    lambda m: m.tensor([128], dtype=m.int8), lambda m: m.tensor([-129], dtype=m.int8),
    lambda m: m.tensor([[-128, 127]], dtype=m.int8), lambda m: m.tensor([40000], dtype=m.int16),
    lambda m: m.tensor([2 ** 31], dtype=m.int32), lambda m: m.tensor([-2 ** 31 - 1], dtype=m.int32),
    lambda m: m.tensor([2, 2 ** 70], dtype=m.bool), lambda m: m.tensor([1e40], dtype=m.float32),
    lambda m: m.tensor([1e5, 70000], dtype=m.float16), lambda m: m.tensor(1e40, dtype=m.float16),
    lambda m: m.tensor([3.7, -3.7], dtype=m.int64), lambda m: m.tensor([1e30], dtype=m.int64),
    lambda m: m.tensor([300.5], dtype=m.uint8), lambda m: m.tensor([-0.5], dtype=m.uint8),
    lambda m: m.tensor([255.0, -0.0], dtype=m.uint8), lambda m: m.tensor([127.9], dtype=m.int8),
    lambda m: m.tensor([float("nan")], dtype=m.int8), lambda m: m.tensor([float("inf")], dtype=m.int64),
    lambda m: m.tensor([-1, 1.5], dtype=m.uint8), lambda m: m.tensor([300, 1.5], dtype=m.uint8),
    lambda m: m.tensor([[1.5, 2], [-3, 4]], dtype=m.int32), lambda m: m.tensor([True, 2], dtype=m.uint8),
    lambda m: m.tensor([np.int64(300)], dtype=m.uint8), lambda m: m.tensor(np.int64(300), dtype=m.uint8),
    lambda m: m.tensor(np.array([300, -1]), dtype=m.uint8), lambda m: m.tensor(-1, dtype=m.uint8),
    lambda m: m.tensor([], dtype=m.uint8), lambda m: m.as_tensor([300], dtype=m.uint8),
    lambda m: m.as_tensor([2 ** 63]), lambda m: m.as_tensor(300, dtype=m.uint8),
    lambda m: m.as_tensor(np.array([300]), dtype=m.uint8), lambda m: m.as_tensor([1e30], dtype=m.int64),
    lambda m: m.Tensor([2 ** 64]), lambda m: m.Tensor([10 ** 400]),
    # full / full_like: a scalar argument, checked against the dtype (C++ type names in the message)
    lambda m: m.full((2,), 300, dtype=m.uint8), lambda m: m.full((2,), -1, dtype=m.uint8),
    lambda m: m.full((2,), -256, dtype=m.uint8), lambda m: m.full((2,), 2 ** 63), lambda m: m.full((2,), 2 ** 64),
    lambda m: m.full((2,), -2 ** 63 - 1), lambda m: m.full((2,), 2 ** 64 - 1, dtype=m.float32),
    lambda m: m.full((2,), 2 ** 63, dtype=m.bool), lambda m: m.full((2,), 3.7, dtype=m.int8),
    lambda m: m.full((2,), 300.0, dtype=m.int8), lambda m: m.full((2,), 1e40, dtype=m.float32),
    lambda m: m.full((2,), -1e40, dtype=m.float32), lambda m: m.full((2,), float("inf"), dtype=m.float32),
    lambda m: m.full((2,), float("nan"), dtype=m.float32), lambda m: m.full((2,), float("nan"), dtype=m.int64),
    lambda m: m.full((2,), 2 ** 40, dtype=m.int32), lambda m: m.full((2,), 2 ** 40, dtype=m.int16),
    lambda m: m.full((2,), 65519.0, dtype=m.float16), lambda m: m.full((2,), 65504, dtype=m.float16),
    lambda m: m.full((2,), 70000, dtype=m.float16), lambda m: m.full((2,), 10 ** 400, dtype=m.float64),
    lambda m: m.full((2,), m.tensor(300), dtype=m.uint8), lambda m: m.full_like(_zeros_uint8(m), 300),
    lambda m: m.full_like(_zeros_uint8(m), -255),
    # arange: bounds checked in the type it counts in; a narrower integer dtype wraps
    lambda m: m.arange(250, 260, dtype=m.uint8), lambda m: m.arange(-5, 0, dtype=m.uint8),
    lambda m: m.arange(0, 300, 100, dtype=m.int8), lambda m: m.arange(2 ** 63 - 2, 2 ** 63),
    lambda m: m.arange(0, 2 ** 64, 2 ** 62), lambda m: m.arange(0, 2 ** 64, 2 ** 62, dtype=m.float32),
    lambda m: m.arange(0.0, 1e30, 1e29, dtype=m.int64),
    # a Python int beside a tensor: OverflowError past 64 bits, else it wraps into the tensor's dtype
    lambda m: m.tensor([1]) + 2 ** 70, lambda m: m.tensor([1.0]) + 2 ** 70, lambda m: 2 ** 70 * m.tensor([1.0]),
    lambda m: m.tensor([1.0]) - 2 ** 64, lambda m: m.tensor([1]) + 2 ** 64, lambda m: m.tensor([1]) + (-2 ** 63 - 1),
    lambda m: m.tensor([1.0]) + (2 ** 64 - 1), lambda m: m.tensor([1]) + 2 ** 63, lambda m: m.tensor([1]) + (2 ** 64 - 1),
    lambda m: m.tensor([1, 2], dtype=m.int8) * 1000, lambda m: m.tensor([1, 2], dtype=m.int8) * 2 ** 63,
    lambda m: m.tensor([1], dtype=m.uint8) + 300, lambda m: m.tensor([0], dtype=m.uint8) - 1,
    lambda m: m.tensor([3], dtype=m.uint8) * -1, lambda m: 1000 - m.tensor([100], dtype=m.int8),
    lambda m: m.tensor([1], dtype=m.int32) + 2 ** 40, lambda m: m.tensor(1, dtype=m.int32) + 2 ** 40,
    lambda m: m.tensor([100], dtype=m.int8) // 1000, lambda m: m.tensor([1, 2], dtype=m.int8) + 1e40,
    lambda m: m.tensor([-24, 1], dtype=m.int8) == 1000, lambda m: m.tensor([-25, 1], dtype=m.int8) < 1000,
    lambda m: m.tensor([255], dtype=m.uint8) == -1, lambda m: m.tensor([1, -2 ** 63]) == 2 ** 63,
    lambda m: m.tensor([1]) < 2 ** 70, lambda m: m.tensor([1.0]) == 2 ** 70,
    # ... except pow's exponent and where's values, range-checked into an integer result instead
    lambda m: m.tensor([3], dtype=m.uint8) ** 255, lambda m: m.tensor([3], dtype=m.uint8) ** 256,
    lambda m: m.pow(m.tensor([3], dtype=m.int8), 200), lambda m: m.tensor([3]) ** 2 ** 63,
    lambda m: m.tensor([3], dtype=m.uint8) ** -1, lambda m: m.tensor([True]) ** -1, lambda m: m.tensor([2.0]) ** -1,
    lambda m: m.tensor([3.0]) ** 2 ** 70, lambda m: 300 ** m.tensor([3], dtype=m.uint8),
    lambda m: m.where(m.tensor([True]), m.tensor([3], dtype=m.uint8), 300),
    lambda m: m.where(m.tensor([True, False]), -1, m.tensor([3, 4], dtype=m.uint8)),
    lambda m: m.where(m.tensor([True]), m.tensor([3], dtype=m.uint8), -256),
    lambda m: m.where(m.tensor([True]), m.tensor([1]), 2 ** 63), lambda m: m.where(m.tensor([True]), m.tensor([1.0]), 2 ** 70),
    lambda m: m.where(m.tensor([True, False]), 3, 400), lambda m: m.where(m.tensor([True, False]), 3, 2.5),
    # tensor arithmetic itself wraps
    lambda m: m.tensor([2 ** 62]) * 4, lambda m: m.tensor([100], dtype=m.int8) + m.tensor([100], dtype=m.int8)])
def test_integer_overflow_like_torch(make):
    """Where PyTorch refuses a Python number it cannot store, we raise the same exception with the same message;
    where it wraps, we give the same wrapped values."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's notes on casts that PyTorch makes silently
        same_outcome(make)
