"""Module bookkeeping vs PyTorch: registration, names and order of parameters/buffers, state_dict keys,
load_state_dict results and errors, repr, train/eval, apply, in-place dtype changes, containers."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def build(m):
    """The same architecture in either library (m is tinygrad_fer.nn or torch.nn)."""

    class Block(m.Module):
        def __init__(self):
            super().__init__()
            self.conv = m.Conv2d(3, 4, 3, padding=1, bias=False)
            self.bn = m.BatchNorm2d(4)
            self.register_buffer("scale", (tg if m is nn else torch).ones(1))
            self.register_buffer("cache", (tg if m is nn else torch).zeros(2), persistent=False)
            self.register_parameter("alpha", m.Parameter((tg if m is nn else torch).zeros(4)))

        def forward(self, x):
            return m.functional.relu(self.bn(self.conv(x))) * self.scale

    class Net(m.Module):
        def __init__(self):
            super().__init__()
            self.features = m.Sequential(Block(), m.MaxPool2d(2), m.Dropout(0.1))
            self.heads = m.ModuleDict({"a": m.Linear(4 * 2 * 2, 3), "b": m.Linear(16, 2, bias=False)})
            self.extra = m.ModuleList([m.Linear(3, 3), m.ReLU()])
            self.shared = self.extra[0]  # the same module twice: reported once

        def forward(self, x):
            h = self.features(x).flatten(1)
            return self.extra[0](self.heads["a"](h))
    return Net()


def test_names_and_order_match_pytorch():
    ours, theirs = build(nn), build(torch.nn)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert [n for n, _ in ours.named_parameters(recurse=False)] == []
    assert repr(ours) == repr(theirs)


def test_repr_of_the_fer_net_matches_pytorch():
    def net(m):
        return m.Sequential(m.Conv2d(3, 16, 5, padding=2), m.ReLU(), m.MaxPool2d(3, 2),
                            m.Conv2d(16, 32, 5, padding=2), m.ReLU(), m.MaxPool2d(3, 2), m.Flatten(),
                            m.Linear(32 * 7 * 7, 256), m.ReLU(), m.Linear(256, 128), m.ReLU(), m.Linear(128, 10))
    assert repr(net(nn)) == repr(net(torch.nn))
    assert "(0): Conv2d(3, 16, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))" in repr(net(nn))


def test_state_dict_round_trip_and_sharing():
    ours, theirs = build(nn), build(torch.nn)
    sd = ours.state_dict()
    assert isinstance(sd, OrderedDict) and all(not v.requires_grad for v in sd.values())
    assert "features.0.cache" not in sd and "features.0.bn.num_batches_tracked" in sd
    # PyTorch's checkpoint loads into ours
    res = ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    assert res.missing_keys == [] and res.unexpected_keys == []
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    keep = ours.state_dict(keep_vars=True)
    assert keep["heads.a.weight"] is ours.heads["a"].weight


def test_load_state_dict_errors_like_pytorch():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    bad = {"weight": np.zeros((3, 2)), "foo": np.zeros(1)}
    with pytest.raises(RuntimeError) as eo:
        ours.load_state_dict({k: tg.tensor(v) for k, v in bad.items()})
    with pytest.raises(RuntimeError) as et:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()})
    assert str(eo.value) == str(et.value)
    res_o = ours.load_state_dict({k: tg.tensor(v) for k, v in bad.items()}, strict=False)
    res_t = theirs.load_state_dict({k: torch.tensor(v) for k, v in bad.items()}, strict=False)
    assert res_o.missing_keys == res_t.missing_keys == ["bias"]
    assert res_o.unexpected_keys == res_t.unexpected_keys == ["foo"]
    wrong = {"weight": np.zeros((4, 2)), "bias": np.zeros(3)}
    with pytest.raises(RuntimeError) as eo:
        ours.load_state_dict({k: tg.tensor(v) for k, v in wrong.items()})
    with pytest.raises(RuntimeError) as et:
        theirs.load_state_dict({k: torch.tensor(v) for k, v in wrong.items()})
    assert str(eo.value).replace("tinygrad_fer.", "torch.") == str(et.value)


def test_load_state_dict_copies_in_place():
    m = nn.Linear(2, 2)
    w = m.weight
    m.load_state_dict({"weight": tg.ones(2, 2), "bias": tg.zeros(2)})
    assert m.weight is w and (w.detach().numpy() == 1).all()


def test_registration_rules():
    m = nn.Module()
    m.p = nn.Parameter(tg.zeros(2))
    m.sub = nn.Linear(1, 1)
    m.register_buffer("b", tg.ones(1))
    m.plain = 3
    assert list(m._parameters) == ["p"] and list(m._modules) == ["sub"] and list(m._buffers) == ["b"]
    assert m.p is m._parameters["p"] and m.b is m._buffers["b"] and m.plain == 3
    with pytest.raises(TypeError):
        m.p = tg.zeros(2)  # a plain tensor can't replace a parameter
    m.p = None
    assert m._parameters["p"] is None and list(m.parameters()) == list(m.sub.parameters())
    m.b = tg.zeros(3)
    assert m._buffers["b"].shape == (3,)
    with pytest.raises(KeyError):
        m.register_buffer("plain", tg.zeros(1))
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        m.nope
    del m.sub
    assert "sub" not in m._modules and not hasattr(m, "sub")
    with pytest.raises(AttributeError):
        class Early(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(tg.zeros(1))
                super().__init__()
        Early()


def test_parameter():
    t = tg.randn(3)
    p = nn.Parameter(t)
    assert p.requires_grad and isinstance(p, tg.Tensor) and p._array is t._array
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q._array is not p._array


def test_train_eval_apply_zero_grad_requires_grad():
    net = build(nn)
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    seen_t = []
    build(torch.nn).apply(lambda m: seen_t.append(type(m).__name__))
    assert seen == seen_t and seen[-1] == "Net"
    out = net(tg.randn(2, 3, 4, 4))
    out.sum().backward()
    assert all(p.grad is not None for p in net.heads["a"].parameters())
    net.zero_grad(set_to_none=False)
    assert all((p.grad.numpy() == 0).all() for p in net.heads["a"].parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_is_in_place():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params = list(net.parameters())
    net(tg.randn(5, 3)).sum().backward()
    assert net.double() is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype == tg.float64 and p.grad.dtype == tg.float64 for p in net.parameters())
    assert net[1].running_mean.dtype == tg.float64 and net[1].num_batches_tracked.dtype == tg.int64
    net.to(tg.float32)
    assert all(p.dtype == tg.float32 for p in net.parameters())
    net.to("cpu")
    with pytest.raises(TypeError):
        net.to(tg.int64)
    # an optimizer made before the cast keeps updating the same parameters
    opt_params = list(net.parameters())
    net.to(dtype=tg.float64)
    with tg.no_grad():
        for p in opt_params:
            p.add_(tg.ones(p.shape, dtype=tg.float64))
    assert net[0].weight is opt_params[0]


def test_sequential_like_pytorch():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and s[0] is layers[0] and s[-1] is layers[2] and list(s) == layers
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    s.append(nn.Sigmoid())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    s[2] = nn.Tanh()
    assert isinstance(s[2], nn.Tanh)
    s[0] = nn.Linear(2, 5)  # a replaced module keeps its place, as in PyTorch
    assert [type(m).__name__ for m in s] == ["Linear", "Linear", "Tanh"]
    assert [k for k, _ in s.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert s[0].weight.shape == (5, 2)
    with pytest.raises(TypeError):
        s[0] = 3
    with pytest.raises(IndexError):
        s[5]
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(dict(od.named_parameters())) == ["fc.weight", "fc.bias"] and od.fc is od[0]
    t = torch.nn.Sequential(OrderedDict([("fc", torch.nn.Linear(2, 2)), ("act", torch.nn.ReLU())]))
    assert repr(od) == repr(t)
    assert od(tg.randn(4, 2)).shape == (4, 2)


def test_module_list_and_dict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert len(ml) == 4 and isinstance(ml[-1], nn.Sigmoid) and isinstance(ml[1:3], nn.ModuleList)
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity) and list(ml._modules) == [str(i) for i in range(5)]
    assert repr(nn.ModuleList([nn.Linear(2, 2) for _ in range(3)] + [nn.ReLU()])) == \
        repr(torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()]))
    md = nn.ModuleDict({"a": nn.Linear(1, 2)})
    md["b"] = nn.ReLU()
    assert list(md) == ["a", "b"] and "a" in md and len(md) == 2 and list(md.keys()) == ["a", "b"]
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and len(md) == 1


def test_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h = lin.register_forward_hook(lambda m, inp, out: calls.append(out.shape))
    lin(tg.zeros(3, 2))
    h.remove()
    lin(tg.zeros(3, 2))
    assert calls == [(3, 2)]
