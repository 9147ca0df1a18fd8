"""Creation functions, attributes, conversions, repr, RNG: names, defaults, dtypes as in PyTorch."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import raises_like


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
