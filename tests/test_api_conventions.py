"""Conventions PyTorch accepts beside its main spellings: dtype aliases and constants, legacy constructors and type
strings, new_* methods, NumPy's axis=/keepdims=, size= on creation functions, normal()'s forms."""
import math

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from outcomes import same_outcome, same_values


def tdtype(t):
    return str(t.dtype).split(".")[1]


# ---- dtype aliases, constants, predicates -------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["int", "long", "float", "double", "half", "short", "uint8", "int8", "int16",
                                  "int32", "int64", "bool", "float16", "float32", "float64"])
def test_dtype_aliases_name_the_same_dtype(name):
    assert getattr(tg, name).name == str(getattr(torch, name)).split(".")[1]
    assert tg.zeros(2, dtype=getattr(tg, name)).dtype is getattr(tg, name)


@pytest.mark.parametrize("name", ["pi", "e", "inf", "nan"])
def test_constants(name):
    ours, theirs = getattr(tg, name), getattr(torch, name)
    assert type(ours) is type(theirs) is float
    assert ours == theirs or (math.isnan(ours) and math.isnan(theirs))


@pytest.mark.parametrize("make", [
    lambda m: m.is_tensor(m.ones(2)), lambda m: m.is_tensor([1.0]), lambda m: m.is_tensor(1.0),
    lambda m: m.is_floating_point(m.ones(2)), lambda m: m.is_floating_point(m.ones(2, dtype=m.int64)),
    lambda m: m.is_floating_point(m.ones(2, dtype=m.float16)), lambda m: m.numel(m.ones(2, 3)),
    lambda m: m.numel(m.ones(())), lambda m: m.numel(m.ones(0, 4))])
def test_predicates(make):
    assert make(tg) == make(torch)


@pytest.mark.parametrize("make", [lambda m: m.is_floating_point(1.0), lambda m: m.numel([1, 2])])
def test_predicates_want_a_tensor(make):
    same_outcome(make)


def test_is_cpu_xpu_mps():
    x, t = tg.ones(2), torch.ones(2)
    assert (x.is_cpu, x.is_cuda, x.is_xpu, x.is_mps) == (t.is_cpu, t.is_cuda, t.is_xpu, t.is_mps)


# ---- legacy constructors and type strings -------------------------------------------------------------------------
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [([1, 0, 2],), ([[1.5, 0.0], [2.0, 3.0]],), ((2, 3),), (np.array([1, 2]),), ()])
def test_legacy_constructor_with_data(name, args):
    same_outcome(lambda m: getattr(m, name)(*args))


@pytest.mark.parametrize("name", LEGACY)
@pytest.mark.parametrize("args", [(3,), (2, 3), (0,)])
def test_legacy_constructor_with_sizes(name, args):
    ours, theirs = getattr(tg, name)(*args), getattr(torch, name)(*args)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype.name == tdtype(theirs)
    assert tuple(getattr(tg, name)(tg.Size(args)).shape) == tuple(getattr(torch, name)(torch.Size(args)).shape)


@pytest.mark.parametrize("args", [(-1,), (2.5,), ([1], 2), (2, "a")])
def test_legacy_constructor_rejects_what_torch_rejects(args):
    same_outcome(lambda m: m.FloatTensor(*args), message=False)


def test_legacy_constructor_takes_a_tensor_of_its_dtype_only():
    x = tg.tensor([1.0, 2.0])
    y = tg.FloatTensor(x)
    assert y.data_ptr() == x.data_ptr()  # as in PyTorch: the same memory
    same_outcome(lambda m: m.LongTensor(m.tensor([1.0, 2.0])), message=False)
    same_outcome(lambda m: m.LongTensor(m.tensor([1, 2])))


@pytest.mark.parametrize("name", LEGACY)
def test_isinstance_of_a_legacy_type_checks_the_dtype(name):
    for dt in ("float32", "float64", "int64", "uint8", "bool"):
        assert isinstance(tg.zeros(2, dtype=getattr(tg, dt)), getattr(tg, name)) == \
            isinstance(torch.zeros(2, dtype=getattr(torch, dt)), getattr(torch, name))
    assert not isinstance(np.zeros(2), getattr(tg, name))
    assert getattr(tg, name).dtype.name == tdtype(getattr(torch, name))


@pytest.mark.parametrize("name", LEGACY)
def test_type_takes_legacy_names_and_classes(name):
    t = torch.tensor([1.5, 0.0, -2.0])
    x = tg.tensor([1.5, 0.0, -2.0])
    same_values(x.type(f"torch.{name}"), t.type(f"torch.{name}"))
    same_values(x.type(f"tinygrad_fer.{name}"), t.type(f"torch.{name}"))
    same_values(x.type(getattr(tg, name)), t.type(getattr(torch, name)))


@pytest.mark.parametrize("s", ["FloatTensor", "torch.NoSuchTensor"])
def test_type_rejects_unknown_names_as_torch(s):
    same_outcome(lambda m: m.ones(2).type(s), message=False)


# ---- new_* and type_as --------------------------------------------------------------------------------------------
NEW = [
    lambda x: x.new_tensor([1, 2]), lambda x: x.new_tensor([1.5], dtype=torch.int64 if isinstance(x, torch.Tensor)
                                                           else tg.int64),
    lambda x: x.new_zeros(2, 3), lambda x: x.new_zeros((2,)), lambda x: x.new_zeros(size=(1, 2)),
    lambda x: x.new_ones(3), lambda x: x.new_ones((2, 2), requires_grad=True),
    lambda x: x.new_full((2,), 3), lambda x: x.new_full((2, 1), 2.5), lambda x: x.new_full(size=(2,), fill_value=7),
    lambda x: x.new_empty(2, 3).zero_(), lambda x: x.new_empty(size=(4,)).zero_()]


@pytest.mark.parametrize("i", range(len(NEW)))
@pytest.mark.parametrize("dtype", ["float64", "int32", "bool"])
def test_new_methods_keep_this_tensors_dtype(i, dtype):
    if dtype != "float64" and i == 6:
        pytest.skip("only floating tensors can require grad")
    ours = NEW[i](tg.zeros(1, dtype=getattr(tg, dtype)))
    theirs = NEW[i](torch.zeros(1, dtype=getattr(torch, dtype)))
    same_values(ours, theirs)
    assert ours.requires_grad == theirs.requires_grad


@pytest.mark.parametrize("src,dst", [("int32", "float32"), ("float32", "int64"), ("float64", "float16")])
def test_type_as(src, dst):
    same_outcome(lambda m: m.tensor([1.5, -2.0]).type(getattr(m, src)).type_as(m.ones(1, dtype=getattr(m, dst))))


# ---- NumPy's axis= and keepdims= ----------------------------------------------------------------------------------
REDUCTIONS = ["sum", "mean", "std", "var", "any", "all", "max", "min", "amax", "amin", "argmax", "argmin", "prod",
              "logsumexp"]


def _first(r):
    return r[0] if isinstance(r, tuple) else r


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("kw", [dict(axis=1), dict(axis=0, keepdims=True), dict(dim=1, keepdims=True),
                                dict(axis=-1, keepdim=True)])
def test_numpy_names_on_reductions(name, kw):
    a = np.arange(12.0).reshape(3, 4) - 5
    same_outcome(lambda m: _first(getattr(m, name)(m.tensor(a), **kw)))
    same_outcome(lambda m: _first(getattr(m.tensor(a), name)(**kw)))


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("kw", [dict(dim=1, axis=1), dict(dim=1, keepdim=True, keepdims=True)])
def test_both_spellings_at_once_is_a_type_error(name, kw):
    same_outcome(lambda m: getattr(m, name)(m.ones(2, 3), **kw), message=False)


def test_axis_keeps_gradients():
    a = np.arange(6.0).reshape(2, 3)
    x, t = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x.amax(axis=1, keepdims=True) * x.mean(axis=0)).sum(axis=(0, 1)).backward()
    (t.amax(axis=1, keepdims=True) * t.mean(axis=0)).sum(axis=(0, 1)).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy())


# ---- size= on creation functions ----------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
@pytest.mark.parametrize("size", [(8, 8), [3], (), tg.Size([2, 1])])
def test_size_keyword(fn, size):
    ours, theirs = getattr(tg, fn)(size=size), getattr(torch, fn)(size=size)
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype.name == tdtype(theirs)
    assert tuple(getattr(tg, fn)(size=size, dtype=tg.float64).shape) == tuple(theirs.shape)


@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_twice_or_not_a_sequence_is_a_type_error(fn):
    same_outcome(lambda m: getattr(m, fn)(2, size=(2,)), message=fn in ("zeros", "ones", "empty"))
    same_outcome(lambda m: getattr(m, fn)(size=4))


def test_full_size_keyword():
    same_outcome(lambda m: m.full(size=(2, 3), fill_value=1.5))


# ---- normal -------------------------------------------------------------------------------------------------------
def test_normal_numbers_and_size():
    g = tg.Generator().manual_seed(0)
    x = tg.normal(3.0, 2.0, size=(20000,), generator=g)
    assert x.dtype is tg.float32 and tuple(x.shape) == (20000,)
    assert abs(x.mean().item() - 3.0) < 0.1 and abs(x.std().item() - 2.0) < 0.1
    assert tg.normal(0, 1, (2, 3), dtype=tg.float64).dtype is tg.float64
    y = tg.normal(3.0, 2.0, (20000,), generator=tg.Generator().manual_seed(0))
    np.testing.assert_array_equal(x.numpy(), y.numpy())  # the generator decides the samples


def test_normal_tensor_forms_broadcast_and_scale():
    mean = tg.tensor([[-100.0], [100.0]], dtype=tg.float64)
    std = tg.tensor([0.0, 1.0, 2.0])
    x = tg.normal(mean, std)
    t = torch.normal(torch.tensor([[-100.0], [100.0]], dtype=torch.float64), torch.tensor([0.0, 1.0, 2.0]))
    assert tuple(x.shape) == tuple(t.shape) and x.dtype.name == tdtype(t)
    np.testing.assert_array_equal(x.numpy()[:, 0], [-100.0, 100.0])  # std 0: the mean itself
    assert np.all(np.abs(x.numpy() - mean.numpy()) < 20)
    big = tg.normal(tg.zeros(20000), 3.0)
    assert big.dtype is tg.float32 and abs(big.std().item() - 3.0) < 0.1
    small = tg.normal(5.0, tg.full((20000,), 0.5, dtype=tg.float64))
    assert small.dtype is tg.float64 and abs(small.mean().item() - 5.0) < 0.05


def test_normal_gradients_are_zero_as_in_torch():
    m, s = tg.ones(3, requires_grad=True), tg.ones(3, requires_grad=True)
    out = tg.normal(m, s)
    assert out.requires_grad
    (out * 2).sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(s.grad.numpy(), np.zeros(3))


@pytest.mark.parametrize("make", [
    lambda m: m.normal(0.0, 1.0), lambda m: m.normal(0.0, -1.0, (2,)), lambda m: m.normal(m.zeros(2), -1.0),
    lambda m: m.normal(m.zeros(2), m.tensor([1.0, -1.0])), lambda m: m.normal(m.zeros(2), m.ones(3)),
    lambda m: m.normal(m.zeros(2), 1.0, size=(2,)), lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.0),
    lambda m: m.normal(1.0, m.ones(2, dtype=m.int32))])
def test_normal_rejects_what_torch_rejects(make):
    same_outcome(make, message=False)


def test_set_default_device_like_torch():
    try:
        for lib in (tg, torch):
            lib.set_default_device("cpu")
            assert lib.get_default_device() == lib.device("cpu") and lib.zeros(2).device == lib.device("cpu")
            lib.set_default_device(None)
            assert lib.get_default_device() == lib.device("cpu")
        tg.set_default_device("cuda")
        assert tg.get_default_device() == tg.device("cuda")
        if not tg.cuda.is_available():    # factories now make CUDA tensors: without a GPU they say so
            with pytest.raises(RuntimeError, match="CUDA|cupy|GPU"):
                tg.zeros(2)
        assert tg.zeros(2, device="cpu").device == tg.device("cpu")   # an explicit device still wins
    finally:
        tg.set_default_device(None)
    assert tg.zeros(2).device == tg.device("cpu")
