"""Every layer vs its torch.nn twin: weights copied from torch into ours, forward values and the gradients of the
input and of every parameter under a random upstream gradient; BatchNorm running statistics over several steps;
default initialisation distributions; nn.init."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
import tinygrad_fer.nn as nn
from helpers import tol

TDT = {np.float64: torch.float64, np.float32: torch.float32}
TGDT = {np.float64: tg.float64, np.float32: tg.float32}


def copy_from_torch(ours, theirs):
    sd = {k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)


def check_layer(ours, theirs, x, train=True, steps=1, seed=0, copy=True):
    """Forward and backward of both on x (numpy); returns (our output, torch output) of the last step."""
    dt = x.dtype.type
    theirs.to(TDT[dt])
    ours.to(TGDT[dt])
    if copy:
        copy_from_torch(ours, theirs)
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        assert tuple(yo.shape) == tuple(yt.shape)
        assert yo.dtype.name == str(yt.dtype).split(".")[-1]
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), **tol(dt, 10))
        r = rng.standard_normal(tuple(yt.shape)).astype(dt)
        (yo * tg.tensor(r)).sum().backward()
        (yt * torch.tensor(r)).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), err_msg="input gradient", **tol(dt, 10))
        tp = dict(theirs.named_parameters())
        for name, p in ours.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), err_msg=f"gradient of {name}",
                                       **tol(dt, 10))
        ours.zero_grad()
        theirs.zero_grad()
        x = x + rng.normal(0, 0.5, x.shape).astype(dt)
    tb = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.numpy(), tb[name].numpy(), err_msg=f"buffer {name}", **tol(dt, 10))
    return yo, yt


DT = st.sampled_from([np.float64, np.float32])


@given(st.integers(1, 5), st.integers(1, 5), st.booleans(), st.sampled_from([(), (3,), (2, 3)]), DT,
       st.integers(0, 2 ** 31))
@settings(max_examples=15)
def test_linear(fin, fout, bias, lead, dt, seed):
    x = np.random.default_rng(seed).normal(size=lead + (fin,)).astype(dt)
    check_layer(nn.Linear(fin, fout, bias), torch.nn.Linear(fin, fout, bias), x)


@st.composite
def conv_cfg(draw):
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    k = draw(st.integers(1, 3))
    stride, dil = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    pad = draw(st.sampled_from([0, 1, (1, 0), "same", "valid"])) if stride == 1 else draw(st.sampled_from([0, 1]))
    size = dil * (k - 1) + 1 + draw(st.integers(0, 4))
    return dict(in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, padding=pad, dilation=dil,
                groups=groups, bias=draw(st.booleans())), (draw(st.integers(1, 2)), cin, size, size + 1)


@given(conv_cfg(), DT, st.integers(0, 2 ** 31))
@settings(max_examples=20)
def test_conv2d(cfg, dt, seed):
    kw, shape = cfg
    x = np.random.default_rng(seed).normal(size=shape).astype(dt)
    yo, _ = check_layer(nn.Conv2d(**kw), torch.nn.Conv2d(**kw), x)
    assert repr(nn.Conv2d(**kw)) == repr(torch.nn.Conv2d(**kw))


@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(0, 1),
       st.integers(1, 2), st.booleans(), DT, st.integers(0, 2 ** 31))
@settings(max_examples=15)
def test_conv_transpose2d(groups, ci, co, pad, op, stride, bias, dt, seed):
    op = min(op, stride - 1)
    kw = dict(in_channels=groups * ci, out_channels=groups * co, kernel_size=3, stride=stride, padding=pad,
              output_padding=op, groups=groups, bias=bias)
    x = np.random.default_rng(seed).normal(size=(2, groups * ci, 3, 4)).astype(dt)
    check_layer(nn.ConvTranspose2d(**kw), torch.nn.ConvTranspose2d(**kw), x)
    assert repr(nn.ConvTranspose2d(**kw)) == repr(torch.nn.ConvTranspose2d(**kw))


@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(3, 2), lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d(3, 2, 1, ceil_mode=True),
    lambda m: m.AvgPool2d(2), lambda m: m.AvgPool2d(3, 2, 1, count_include_pad=False),
    lambda m: m.AdaptiveAvgPool2d((2, 3)), lambda m: m.AdaptiveAvgPool2d(1), lambda m: m.AdaptiveMaxPool2d(3),
])
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_pooling(make, dt):
    x = np.random.default_rng(0).normal(size=(2, 3, 7, 8)).astype(dt)
    check_layer(make(nn), make(torch.nn), x)
    assert repr(make(nn)) == repr(make(torch.nn))


def test_pooling_class_tree_like_torch():
    """isinstance answers as PyTorch's: MaxPool1d is no MaxPool2d, the adaptive pools of one kind are siblings."""
    names = [f"{kind}Pool{d}d" for kind in ("Max", "Avg", "AdaptiveAvg", "AdaptiveMax", "LP") for d in (1, 2, 3)]
    for a in names:
        for b in names:
            assert issubclass(getattr(nn, a), getattr(nn, b)) == issubclass(getattr(torch.nn, a),
                                                                            getattr(torch.nn, b)), (a, b)


@pytest.mark.parametrize("make", [
    lambda m: m.ReLU(), lambda m: m.LeakyReLU(0.2), lambda m: m.ELU(0.5), lambda m: m.Sigmoid(), lambda m: m.Tanh(),
    lambda m: m.Softplus(2.0, 10.0), lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(dim=-1),
    lambda m: m.Flatten(), lambda m: m.Flatten(0, 1), lambda m: m.Unflatten(1, (2, 2)), lambda m: m.Identity(),
    lambda m: m.SiLU(),
])
def test_parameterless_layers(make):
    x = np.random.default_rng(0).normal(0, 3, (3, 4, 2))
    check_layer(make(nn), make(torch.nn), x)
    assert repr(make(nn)) == repr(make(torch.nn))


def test_inplace_flags_only_change_repr():
    for make in (lambda m: m.ReLU(True), lambda m: m.LeakyReLU(0.1, True), lambda m: m.ELU(2.0, True)):
        assert repr(make(nn)) == repr(make(torch.nn))
    x = tg.tensor([-1.0, 2.0])
    assert nn.ReLU(inplace=True)(x).tolist() == [0.0, 2.0]


@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)),
                                       ("BatchNorm2d", (4, 3, 3, 2))])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                                {"momentum": 0.5, "eps": 1e-3}, {"bias": False}])
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_batchnorm_train_then_eval(cls, shape, kw, dt):
    x = np.random.default_rng(1).normal(1.5, 2.0, shape).astype(dt)
    ours, theirs = getattr(nn, cls)(3, **kw), getattr(torch.nn, cls)(3, **kw)
    check_layer(ours, theirs, x, train=True, steps=4)  # running stats compared after several steps
    check_layer(ours, theirs, x, train=False, steps=2, copy=False)
    assert repr(ours) == repr(theirs)
    if ours.num_batches_tracked is not None:
        assert ours.num_batches_tracked.item() == 4


def test_batchnorm_errors():
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(tg.zeros(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(tg.zeros(1, 3))


def test_dropout_modules():
    tg.manual_seed(0)
    d = nn.Dropout(0.25)
    x = tg.ones(100, 100)
    assert abs((d(x).numpy() == 0).mean() - 0.25) < 0.02
    d.eval()
    assert d(x) is x
    assert repr(nn.Dropout(0.3)) == repr(torch.nn.Dropout(0.3))
    assert repr(nn.Dropout2d()) == repr(torch.nn.Dropout2d())
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


@pytest.mark.parametrize("cls,kw", [("CrossEntropyLoss", {"label_smoothing": 0.1}), ("NLLLoss", {}),
                                    ("MultiMarginLoss", {"p": 2, "margin": 0.5}),
                                    ("CrossEntropyLoss", {"reduction": "sum", "ignore_index": 0})])
def test_class_loss_modules(cls, kw):
    rng = np.random.default_rng(0)
    x, t, w = rng.normal(size=(5, 4)), rng.integers(0, 4, 5), rng.uniform(0.5, 2, 4)
    lo = getattr(nn, cls)(weight=tg.tensor(w), **kw)
    lt = getattr(torch.nn, cls)(weight=torch.tensor(w), **kw)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = lo(xo, tg.tensor(t)), lt(xt, torch.tensor(t))
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert repr(lo) == repr(lt) and "weight" in dict(lo.named_buffers())


@pytest.mark.parametrize("cls,kw", [("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("BCELoss", {}),
                                    ("BCEWithLogitsLoss", {"pos_weight": "pw"})])
def test_pointwise_loss_modules(cls, kw):
    rng = np.random.default_rng(0)
    x, t = rng.uniform(0.05, 0.95, (5, 3)), rng.uniform(0, 1, (5, 3))
    pw = rng.uniform(0.5, 2, 3)
    ko = {k: (tg.tensor(pw) if v == "pw" else v) for k, v in kw.items()}
    kt = {k: (torch.tensor(pw) if v == "pw" else v) for k, v in kw.items()}
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = getattr(nn, cls)(**ko)(xo, tg.tensor(t)), getattr(torch.nn, cls)(**kt)(xt, torch.tensor(t))
    a.backward()
    b.backward()
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)


# ---- initialisation ------------------------------------------------------------------------------
def _uniform_ok(a, bound):
    a = a.reshape(-1)
    assert np.abs(a).max() <= bound * (1 + 1e-6)
    assert abs(a.mean()) < 4 * bound / math.sqrt(3 * a.size) + 1e-12
    np.testing.assert_allclose(a.std(), bound / math.sqrt(3), rtol=0.05)


@pytest.mark.parametrize("make,fan_in", [
    (lambda m: m.Linear(400, 300), 400), (lambda m: m.Conv2d(16, 64, 5, groups=2), 8 * 25),
    (lambda m: m.ConvTranspose2d(32, 24, 3, groups=4), 6 * 9),
])
def test_default_init_matches_pytorch_distribution(make, fan_in):
    tg.manual_seed(0)
    ours, theirs = make(nn), make(torch.nn)
    bound = 1 / math.sqrt(fan_in)
    _uniform_ok(ours.weight.detach().numpy(), bound)
    _uniform_ok(theirs.weight.detach().numpy(), bound)  # the formula is PyTorch's
    b = ours.bias.detach().numpy()
    assert np.abs(b).max() <= bound and b.std() > 0.3 * bound


def test_init_is_seeded():
    tg.manual_seed(3)
    a = nn.Linear(5, 4).weight.detach().numpy().copy()
    tg.manual_seed(3)
    b = nn.Linear(5, 4).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = tg.Generator().manual_seed(7), tg.Generator().manual_seed(7)
    w1, w2 = tg.empty(10, 10), tg.empty(10, 10)
    nn.init.kaiming_normal_(w1, generator=g1)
    nn.init.kaiming_normal_(w2, generator=g2)
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())


def test_batchnorm_init():
    bn = nn.BatchNorm2d(5)
    assert (bn.weight.detach().numpy() == 1).all() and (bn.bias.detach().numpy() == 0).all()
    assert (bn.running_var.numpy() == 1).all() and bn.num_batches_tracked.dtype == tg.int64


@pytest.mark.parametrize("nl,param", [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                                      ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain(nl, param):
    assert nn.init.calculate_gain(nl, param) == pytest.approx(torch.nn.init.calculate_gain(nl, param))


def test_fans_and_errors():
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 3)]:
        assert nn.init._calculate_fan_in_and_fan_out(tg.empty(*shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError):
        nn.init._calculate_fan_in_and_fan_out(tg.empty(3))
    with pytest.raises(ValueError):
        nn.init.calculate_gain("nope")
    with pytest.raises(ValueError):
        nn.init.kaiming_uniform_(tg.empty(3, 3), mode="fan_middle")


def test_init_distributions():
    tg.manual_seed(0)
    w = tg.empty(300, 200, requires_grad=True)
    assert nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu") is w
    np.testing.assert_allclose(w.detach().numpy().std(), math.sqrt(2 / 300), rtol=0.03)
    nn.init.kaiming_uniform_(w, a=0.1)
    _uniform_ok(w.detach().numpy(), math.sqrt(2 / 1.01) * math.sqrt(3 / 200))
    nn.init.xavier_uniform_(w, gain=2.0)
    _uniform_ok(w.detach().numpy(), 2.0 * math.sqrt(6 / 500))
    nn.init.xavier_normal_(w)
    np.testing.assert_allclose(w.detach().numpy().std(), math.sqrt(2 / 500), rtol=0.03)
    nn.init.normal_(w, 3.0, 0.5)
    np.testing.assert_allclose([w.detach().numpy().mean(), w.detach().numpy().std()], [3.0, 0.5], rtol=0.02)
    nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-1.0, b=2.0)
    a = w.detach().numpy()
    assert a.min() >= -1.0 and a.max() <= 2.0 and 0.3 < a.mean() < 0.7  # truncated N(1, 2) on [-1, 2]: mean ~0.52
    nn.init.constant_(w, 0.25)
    assert (w.detach().numpy() == 0.25).all()
    nn.init.zeros_(w)
    nn.init.ones_(w)
    assert (w.detach().numpy() == 1).all() and w.requires_grad and w.grad is None


def test_conv_layer_rejects_float_kernel_size_like_torch():
    for lib in (tg, torch):
        with pytest.raises(TypeError):
            lib.nn.Conv2d(3, 4, 2.5)  # was silently truncated to 2


@pytest.mark.parametrize("fin, fout", [(0, 3), (3, 0)])
def test_linear_of_zero_width_has_gradients_as_torch(fin, fout):
    x = np.random.default_rng(0).standard_normal((2, 4, fin))
    ours, theirs = nn.Linear(fin, fout, dtype=tg.float64), torch.nn.Linear(fin, fout, dtype=torch.float64)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xo) ** 2).sum().backward()
    (theirs(xt) ** 2).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    np.testing.assert_allclose(ours.bias.grad.numpy(), theirs.bias.grad.numpy())
