"""nn.Buffer against torch.nn.Buffer: what it shares with the tensor it wraps, how assigning one registers it (and
its persistence) on a Module, and the errors of both."""
import copy
import io

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def _state(lib, nnlib):
    """The same sequence of assignments in either library; returns the module."""
    m = nnlib.Module()
    m.w = nnlib.Parameter(lib.ones(2))
    m.a = nnlib.Buffer(lib.arange(3.0))
    m.b = nnlib.Buffer(lib.zeros(1), persistent=False)
    m.plain = lib.ones(1)             # a plain tensor stays a plain attribute
    m.c = nnlib.Buffer(lib.ones(2))
    m.c = nnlib.Buffer(lib.ones(2), persistent=False)   # a Buffer brings its own persistence
    m.a = lib.full((2,), 7.0)         # a plain tensor on a buffer's name keeps that buffer's persistence
    m.b = lib.full((1,), 5.0)
    m.register_buffer("d", nnlib.Buffer(lib.ones(1), persistent=False))   # register_buffer's flag wins
    m.sub = nnlib.Module()
    m.sub.e = nnlib.Buffer(lib.tensor([1, 2]))
    return m


def test_assignment_registers_like_torch():
    ours, theirs = _state(tg, nn), _state(torch, torch.nn)
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == \
        ["a", "b", "c", "d", "sub.e"]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["w", "a", "d", "sub.e"]
    assert ours._non_persistent_buffers_set == theirs._non_persistent_buffers_set == {"b", "c"}
    assert "plain" not in ours._buffers and isinstance(ours.plain, tg.Tensor)
    for (n, a), (_, b) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert a.dtype.name == str(b.dtype).split(".")[1] and np.array_equal(a.numpy(), b.numpy()), n
    assert [n for n, _ in ours.named_parameters()] == ["w"]


def test_shares_memory_and_version_and_keeps_requires_grad():
    for lib, nnlib in ((tg, nn), (torch, torch.nn)):
        t = lib.zeros(3)
        b = nnlib.Buffer(t)
        assert isinstance(b, nnlib.Buffer) and isinstance(b, lib.Tensor) and b.persistent is True
        assert not isinstance(t, nnlib.Buffer) and not isinstance(b + 1, nnlib.Buffer)
        b.add_(1)                     # a detach(): the same memory and version counter
        version = (lambda x: x._version[0]) if lib is tg else (lambda x: x._version)   # ours: a shared cell
        assert t[0].item() == 1.0 and version(t) == version(b) == 1
        leaf = lib.ones(2, requires_grad=True)
        made = nnlib.Buffer(leaf * 2)  # requires_grad kept, history dropped: a leaf
        assert made.requires_grad and made.is_leaf and made.grad_fn is None
        assert not nnlib.Buffer(lib.ones(2)).requires_grad
        assert not nnlib.Buffer(nnlib.Parameter(lib.ones(1)), persistent=False).persistent
        empty = nnlib.Buffer()
        assert tuple(empty.shape) == (0,) and str(empty.dtype).endswith("float32")
    assert repr(nn.Buffer(tg.ones(2))) == repr(torch.nn.Buffer(torch.ones(2)))


def test_deepcopy_dtype_change_and_save_keep_buffers():
    m = _state(tg, nn)
    m2 = copy.deepcopy(m)
    assert list(m2.state_dict()) == list(m.state_dict()) and m2.a is not m.a
    assert isinstance(m2.c, nn.Buffer) and not m2.c.persistent
    m.double()
    assert m.a.dtype == tg.float64 and m.sub.e.dtype == tg.int64
    f = io.BytesIO()
    tg.save(m.state_dict(), f)
    f.seek(0)
    assert list(tg.load(f)) == ["w", "a", "d", "sub.e"]


def _errors(lib, nnlib, case):
    m = nnlib.Module()
    m.w = nnlib.Parameter(lib.ones(1))
    m.plain = 3
    m.sub = nnlib.Module()
    if case == "onto a parameter":
        m.w = nnlib.Buffer(lib.ones(1))
    elif case == "onto a plain attribute":
        m.plain = nnlib.Buffer(lib.ones(1))
    elif case == "onto a module":
        m.sub = nnlib.Buffer(lib.ones(1))
    elif case == "a list":
        nnlib.Buffer([1.0])
    elif case == "persistent positional":
        nnlib.Buffer(lib.ones(1), False)
    elif case == "non-tensor onto a buffer":
        m.b = nnlib.Buffer(lib.ones(1))
        m.b = [1.0]
    elif case == "before __init__":
        class Early(nnlib.Module):
            def __init__(self):
                self.b = nnlib.Buffer(lib.ones(1))
        Early()


@pytest.mark.parametrize("case,exc,msg", [
    ("onto a parameter", TypeError, "as parameter 'w'"),
    ("onto a plain attribute", KeyError, "attribute 'plain' already exists"),
    ("onto a module", TypeError, "as child module 'sub'"),
    ("a list", AttributeError, "'list' object has no attribute 'detach'"),
    ("persistent positional", TypeError, "positional argument"),
    ("non-tensor onto a buffer", TypeError, "as buffer 'b'"),
    ("before __init__", AttributeError, "before Module.__init__"),
])
def test_errors_like_torch(case, exc, msg):
    for lib, nnlib in ((torch, torch.nn), (tg, nn)):
        with pytest.raises(exc, match=msg):
            _errors(lib, nnlib, case)


def test_a_register_buffer_override_without_persistent():
    """PyTorch still calls a subclass's old-style register_buffer(name, tensor), and refuses only a non-persistent
    buffer through it."""
    for lib, nnlib in ((torch, torch.nn), (tg, nn)):
        class Old(nnlib.Module):
            def __init__(self):
                super().__init__()
                self.seen = []

            def register_buffer(self, name, tensor):
                self.seen.append(name)
                super().register_buffer(name, tensor)

        m = Old()
        m.a = nnlib.Buffer(lib.ones(1))
        assert m.seen == ["a"] and list(m.state_dict()) == ["a"]
        with pytest.raises(RuntimeError, match="without the persistent argument is not allowed"):
            m.b = nnlib.Buffer(lib.ones(1), persistent=False)
