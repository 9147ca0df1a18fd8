"""LayerNorm, GroupNorm, InstanceNorm1d/2d/3d, LocalResponseNorm, CrossMapLRN2d, Embedding and the dropout
variants against torch.nn: parameters and state_dict keys, reprs, errors, forward values and gradients with torch's
weights, InstanceNorm's running statistics, Embedding's padding row and max_norm, and the dropout masks' structure.
(The functional forms' values and gradients are checked from the op registry by tests/test_ops.py.)"""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def _params(m):
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def _same_module(ours, theirs, x, train=True, steps=2):
    """Same repr and state_dict layout; with torch's (perturbed) parameters, same outputs and gradients and the
    same buffers after `steps` calls."""
    assert repr(ours) == repr(theirs)
    assert _params(ours) == _params(theirs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.3)
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    ours.train(train)
    theirs.train(train)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yo, yt = ours(xo), theirs(xt)
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-7)
        g = rng.standard_normal(tuple(yt.shape))
        (yo * tg.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)
    for (k, a), b in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
    for (k, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7, err_msg=k)


def _x(*shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("name,args,kw,shape", [
    ("LayerNorm", (5,), {}, (2, 3, 5)),
    ("LayerNorm", ([3, 5],), dict(eps=1e-3, bias=False), (2, 3, 5)),
    ("LayerNorm", ((4,),), dict(elementwise_affine=False), (4,)),
    ("GroupNorm", (2, 4), {}, (2, 4, 3, 3)),
    ("GroupNorm", (1, 3), dict(affine=False, eps=0.1), (3, 3, 5)),
    ("GroupNorm", (3, 3), dict(bias=False), (2, 3)),
    ("InstanceNorm1d", (3,), {}, (2, 3, 5)),
    ("InstanceNorm1d", (3,), dict(affine=True, track_running_stats=True), (3, 6)),
    ("InstanceNorm2d", (2,), dict(affine=True, momentum=None, track_running_stats=True), (2, 2, 3, 4)),
    ("InstanceNorm2d", (2,), dict(track_running_stats=True, momentum=0.3), (2, 2, 3, 4)),
    ("InstanceNorm3d", (2,), dict(affine=True), (1, 2, 2, 2, 3)),
    ("LocalResponseNorm", (3,), {}, (2, 5, 4)),
    ("LocalResponseNorm", (2,), dict(alpha=0.5, beta=0.6, k=2.0), (2, 4, 3, 3)),
    ("LocalResponseNorm", (4,), dict(alpha=1.0), (1, 3, 2, 2, 2)),
])
def test_norm_layers_like_torch(name, args, kw, shape):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw).double()
    _same_module(ours.double(), theirs, _x(*shape))


def test_instance_norm_eval_uses_running_statistics():
    ours, theirs = nn.InstanceNorm2d(3, track_running_stats=True).double(), \
        torch.nn.InstanceNorm2d(3, track_running_stats=True).double()
    _same_module(ours, theirs, _x(2, 3, 4, 4), train=True, steps=3)
    _same_module(ours, theirs, _x(2, 3, 4, 4, seed=2), train=False, steps=1)


def test_norm_layer_errors_like_torch():
    for lib in (tg, torch):
        n = lib.nn
        with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups \(2\)"):
            n.GroupNorm(2, 5)
        with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
            n.LayerNorm(4)(lib.zeros((2, 3)))
        with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible by num_groups"):
            n.functional.group_norm(lib.zeros((2, 6, 3)), 4)
        with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input "
                                             r"size \[1, 2, 1\]"):
            n.functional.group_norm(lib.zeros((1, 2, 1)), 2)
        with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
            n.InstanceNorm2d(3)(lib.zeros((3, 4)))
        with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
            n.InstanceNorm1d(3)(lib.zeros((2, 3, 1)))
        with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(4\)"):
            n.InstanceNorm1d(4, affine=True)(lib.zeros((2, 3, 5)))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            n.InstanceNorm1d(4)(lib.zeros((2, 3, 5)))
        assert any("does not match num_features" in str(x.message) for x in w)
        with pytest.raises(ValueError, match=r"Expected 3D or higher dimensionality\s+input \(got 2 dimensions\)"):
            n.LocalResponseNorm(2)(lib.zeros((2, 3)))


# ---- Embedding -------------------------------------------------------------------------------------------------
def test_embedding_module_like_torch():
    for kw in (dict(), dict(padding_idx=2), dict(padding_idx=-1, max_norm=1.5, norm_type=1.0),
               dict(scale_grad_by_freq=True)):
        ours, theirs = nn.Embedding(6, 3, **kw), torch.nn.Embedding(6, 3, **kw)
        assert repr(ours) == repr(theirs) and ours.padding_idx == theirs.padding_idx
        assert list(ours.state_dict()) == ["weight"] and ours.weight.requires_grad
        if ours.padding_idx is not None:   # the padding row starts at zero
            np.testing.assert_array_equal(ours.weight.detach().numpy()[ours.padding_idx], 0)
        ours.load_state_dict({"weight": tg.tensor(theirs.weight.detach().numpy() * 3)})
        with torch.no_grad():
            theirs.weight.mul_(3)
        idx = np.array([[0, 2, 5, 2], [5, 5, 1, 3]])
        yo, yt = ours(tg.tensor(idx)), theirs(torch.tensor(idx))
        np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-6)
        # max_norm renormalised the looked-up rows of the weight in place, as PyTorch's does
        np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
        g = np.random.default_rng(0).standard_normal(yt.shape).astype(np.float32)
        (yo * tg.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_embedding_from_pretrained_and_errors():
    w = np.arange(12.0).reshape(4, 3)
    for lib in (tg, torch):
        e = lib.nn.Embedding.from_pretrained(lib.tensor(w))
        assert not e.weight.requires_grad and repr(e) == "Embedding(4, 3)"
        assert lib.nn.Embedding.from_pretrained(lib.tensor(w), freeze=False, padding_idx=1).weight.requires_grad
        np.testing.assert_array_equal(e(lib.tensor([3, 0])).numpy(), w[[3, 0]])
        with pytest.raises(IndexError, match="index out of range in self"):
            e(lib.tensor([4]))
        with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one of the "
                                               "following scalar types: Long, Int"):
            e(lib.tensor([1.0]))
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            lib.nn.Embedding(3, 2, padding_idx=3)
        assert tuple(e(lib.tensor([1, 2], dtype=lib.int32)).shape) == (2, 3)


# ---- dropout variants ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,shape,unit", [("Dropout1d", (4, 6, 5), (4, 6, 1)), ("Dropout1d", (6, 5), (6, 1)),
                                             ("Dropout3d", (3, 4, 2, 2, 3), (3, 4, 1, 1, 1)),
                                             ("Dropout3d", (5, 2, 2, 3), (5, 1, 1, 1))])
def test_channel_dropout_zeroes_whole_channels(name, shape, unit):
    tg.manual_seed(0)
    m = getattr(nn, name)(0.5)
    assert repr(m) == repr(getattr(torch.nn, name)(0.5)) == f"{name}(p=0.5, inplace=False)"
    x = tg.tensor(np.random.default_rng(0).uniform(1, 2, shape), requires_grad=True)
    y = m(x)
    ratio = (y / x).detach().numpy()
    # within each channel one draw: every value is 0 or 2x, and the whole channel agrees
    assert set(np.unique(np.round(ratio, 12))) <= {0.0, 2.0}
    lead = len(unit) - list(unit[::-1]).index(next(s for s in unit[::-1] if s != 1))
    per_channel = ratio.reshape(shape[:lead] + (-1,))
    assert np.all(np.ptp(per_channel, axis=-1) == 0)
    assert 0 < (per_channel[..., 0] == 0).mean() < 1
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio)
    m.eval()
    assert m(x) is x


def test_channel_dropout_errors_like_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
            lib.nn.Dropout1d()(lib.zeros((1, 2, 3, 4)))
        with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
            lib.nn.functional.dropout3d(lib.ones((2, 3, 4)), 0.5, True)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            lib.nn.AlphaDropout(1.5)


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_affine_map_is_torchs(feature):
    """Dropped values sit at the same constant as PyTorch's and kept ones follow the same a*x + c, so the output
    keeps SELU's mean 0 / variance 1; the gradient is a on kept values, 0 on dropped ones."""
    x = np.random.default_rng(0).standard_normal((50, 40, 3) if feature else (60, 50))
    p = 0.3

    def pieces(y, xin, grad=None):
        y = np.asarray(y).reshape(-1)
        xin = np.asarray(xin).reshape(-1)
        const = np.bincount(np.unique(np.round(y, 9), return_inverse=True)[1]).argmax()
        dropped_value = np.unique(np.round(y, 9))[const]
        kept = np.round(y, 9) != dropped_value
        slope, icpt = np.polyfit(xin[kept], y[kept], 1)
        return dropped_value, slope, icpt, 1 - kept.mean()

    torch.manual_seed(0)
    f_t = torch.nn.functional.feature_alpha_dropout if feature else torch.nn.functional.alpha_dropout
    f_o = nn.functional.feature_alpha_dropout if feature else nn.functional.alpha_dropout
    want = pieces(f_t(torch.tensor(x), p, True).numpy(), x)
    tg.manual_seed(0)
    xo = tg.tensor(x, requires_grad=True)
    y = f_o(xo, p, True)
    got = pieces(y.detach().numpy(), x)
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-9, atol=1e-9)
    assert abs(got[3] - p) < 0.05
    y.sum().backward()
    assert set(np.round(np.unique(xo.grad.numpy()), 9)) == {0.0, round(want[1], 9)}
    assert f_o(xo, p) is xo   # training=False is the functional default
    m = (nn.FeatureAlphaDropout if feature else nn.AlphaDropout)(p)
    assert repr(m) == f"{type(m).__name__}(p=0.3, inplace=False)"
    m.eval()
    assert m(xo) is xo


def test_embedding_scale_grad_by_freq_second_derivatives_like_torch():
    """Each row's gradient is divided by its count in the batch; differentiated again (create_graph), PyTorch keeps
    that division on the weight's path but drops it from the derivative with respect to the upstream gradient, and
    so do we (tests/test_ops.py compares embedding's double backward without scale_grad_by_freq)."""
    idx = np.array([[0, 2, 2], [2, 1, 0]])
    w = np.random.default_rng(0).standard_normal((4, 3))
    v = np.random.default_rng(1).standard_normal((2, 3, 3))
    r = np.random.default_rng(2).standard_normal((4, 3))
    res = []
    for lib in (tg, torch):
        wt, vt = lib.tensor(w, requires_grad=True), lib.tensor(v, requires_grad=True)
        out = lib.nn.functional.embedding(lib.tensor(idx), wt, padding_idx=1, scale_grad_by_freq=True) ** 2
        (g,) = lib.autograd.grad(out, [wt], vt, create_graph=True)
        res.append([g.detach().numpy(), *(t.numpy() for t in lib.autograd.grad((g * lib.tensor(r)).sum(),
                                                                               [wt, vt]))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kw,inp,offsets,psw", [
    (dict(), np.array([[0, 2, 5], [2, 2, 1]]), None, None),
    (dict(mode="sum", padding_idx=2), np.array([0, 2, 5, 2, 2, 1]), np.array([0, 2, 2, 5]), np.arange(6.0) - 2),
    (dict(mode="max", max_norm=1.0), np.array([0, 2, 5, 2, 4, 1]), np.array([0, 3]), None),
    (dict(mode="mean", include_last_offset=True), np.array([3, 2, 5, 2, 4]), np.array([0, 1, 1, 5]), None),
])
def test_embedding_bag_module_like_torch(kw, inp, offsets, psw):
    ours, theirs = nn.EmbeddingBag(6, 3, **kw).double(), torch.nn.EmbeddingBag(6, 3, **kw).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == ["weight"]
    if ours.padding_idx is not None:
        np.testing.assert_array_equal(ours.weight.detach().numpy()[ours.padding_idx], 0)
    ours.load_state_dict({"weight": tg.tensor(theirs.weight.detach().numpy())})
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        p = None if psw is None else lib.tensor(psw, requires_grad=True)
        out = m(lib.tensor(inp), None if offsets is None else lib.tensor(offsets), p)
        g = np.random.default_rng(0).standard_normal(tuple(out.shape))
        (out * lib.tensor(g)).sum().backward()
        res.append([out.detach().numpy(), m.weight.detach().numpy(), m.weight.grad.numpy()]
                   + ([] if p is None else [p.grad.numpy()]))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_embedding_bag_errors_like_torch():
    w = np.ones((4, 2))
    for lib in (tg, torch):
        f, ww = lib.nn.functional.embedding_bag, lib.tensor(w)
        with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
            f(lib.tensor([[1, 2]]), ww, lib.tensor([0]))
        with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
            f(lib.tensor([1, 2]), ww)
        with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
            f(lib.tensor([1, 2]), ww, lib.tensor([1]))
        with pytest.raises(RuntimeError, match="offsets\\[-1\\] can not be greater than input's length 2"):
            f(lib.tensor([1, 2]), ww, lib.tensor([0, 3]))
        with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
            f(lib.tensor([1, 2]), ww, lib.tensor([0]), mode="max", per_sample_weights=lib.ones(2))
        with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
            f(lib.tensor([[1, 2]]), ww, mode="median")
        with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'weight' to have one of the "
                                               "following scalar types"):
            f(lib.tensor([[1, 2]]), lib.ones((4, 2), dtype=lib.int64))
        e = lib.nn.EmbeddingBag.from_pretrained(ww, mode="sum")
        assert not e.weight.requires_grad and repr(e) == "EmbeddingBag(4, 2, mode='sum')"


@pytest.mark.parametrize("name,args,kw,shape", [
    ("RMSNorm", (5,), {}, (2, 3, 5)),
    ("RMSNorm", ([3, 5],), dict(eps=1e-3), (2, 3, 5)),
    ("RMSNorm", (4,), dict(elementwise_affine=False), (4,)),
    ("BatchNorm3d", (3,), {}, (2, 3, 2, 2, 3)),
])
def test_rms_norm_and_batch_norm_3d_like_torch(name, args, kw, shape):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw).double()
    if list(theirs.parameters()):
        _same_module(ours.double(), theirs, _x(*shape))
    else:
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == []
        np.testing.assert_allclose(ours(tg.tensor(_x(*shape))).numpy(), theirs(torch.tensor(_x(*shape))).numpy(),
                                   rtol=1e-12)


def test_lazy_batch_norm_3d_and_errors():
    for lib in (tg, torch):
        m = lib.nn.LazyBatchNorm3d()
        m(lib.zeros((2, 4, 1, 2, 2)))
        assert type(m) is lib.nn.BatchNorm3d and m.num_features == 4
        with pytest.raises(ValueError, match=r"expected 5D input \(got 4D input\)"):
            m(lib.zeros((2, 4, 2, 2)))
        with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*4\]"):
            lib.nn.functional.rms_norm(lib.zeros((2, 3)), [4])


def test_rrelu_training_draws_slopes_in_range():
    assert repr(nn.RReLU()) == repr(torch.nn.RReLU()) and repr(nn.RReLU(0.1, 0.3, True)) == \
        repr(torch.nn.RReLU(0.1, 0.3, True))
    tg.manual_seed(0)
    x = tg.tensor(-np.linspace(0.5, 2.0, 400), requires_grad=True)
    m = nn.RReLU(0.1, 0.3)
    y = m(x)
    slopes = (y / x).detach().numpy()
    assert 0.1 <= slopes.min() < 0.12 and 0.28 < slopes.max() <= 0.3 and len(np.unique(slopes)) > 300
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)          # the drawn slope is the gradient
    m.eval()
    np.testing.assert_allclose((m(x) / x).detach().numpy(), 0.2)
    for lib in (tg, torch):
        with pytest.raises(NotImplementedError, match="\"leaky_relu_cpu\" not implemented for 'Long'"):
            lib.nn.functional.rrelu(lib.tensor([1, 2]))


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_samples(hard):
    """Rows are distributions (one-hot when hard); the choice frequencies follow softmax(logits); the gradient is
    the soft sample's (straight-through when hard)."""
    tg.manual_seed(0)
    logits = tg.tensor(np.log(np.array([[0.6, 0.3, 0.1]] * 4000)), requires_grad=True)
    y = nn.functional.gumbel_softmax(logits, tau=0.5, hard=hard)
    v = y.detach().numpy()
    np.testing.assert_allclose(v.sum(1), 1.0, rtol=1e-12)
    if hard:
        assert set(np.unique(v)) == {0.0, 1.0}
    freq = np.bincount(v.argmax(1), minlength=3) / len(v)
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1], atol=0.03)
    (y * tg.tensor(np.array([1.0, 2.0, 3.0]))).sum().backward()
    assert np.all(np.isfinite(logits.grad.numpy())) and np.abs(logits.grad.numpy()).sum() > 0
    np.testing.assert_allclose(logits.grad.numpy().sum(1), 0.0, atol=1e-10)   # softmax's gradient sums to zero


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 6, 9])
@pytest.mark.parametrize("channels", [1, 2, 5, 8])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_cross_map_lrn2d_forward_matches_torch(size, channels, dt):
    """PyTorch's values, its edges included: an even size spanning size - 1 channels, channel 0's square kept in
    every later window."""
    x = np.random.default_rng(size * 10 + channels).standard_normal((2, channels, 3, 4)).astype(dt)
    for args in ((size,), (size, 0.5, 0.6, 2.0)):
        ours, theirs = tg.nn.CrossMapLRN2d(*args), torch.nn.CrossMapLRN2d(*args)
        assert repr(ours) == repr(theirs) and list(ours.parameters()) == []
        got, want = ours(tg.tensor(x)), theirs(torch.tensor(x))
        assert got.dtype.name == str(want.dtype).split(".")[1] and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5 if dt is np.float32 else 1e-13, atol=1e-7)


def test_cross_map_lrn2d_gradient_is_its_forwards_derivative():
    """PyTorch's hand-written backward fails gradcheck (and raises for size 1); ours is the forward's derivative,
    and equals PyTorch's true derivative: autograd through the same formula written in torch ops."""
    x = np.random.default_rng(1).standard_normal((2, 6, 2, 3))
    for size in (1, 2, 3, 4, 5):
        m = tg.nn.CrossMapLRN2d(size, 0.5, 0.6, 2.0)
        assert tg.autograd.gradcheck(m, [tg.tensor(x, requires_grad=True)])
        xt = torch.tensor(x, requires_grad=True)
        p = (size - 1) // 2 + 1
        sq = xt * xt
        padded = torch.nn.functional.pad(sq, (0, 0, 0, 0, p - 1, p - 1))
        window = sum(padded[:, j:j + 6] for j in range(2 * p - 1)) + sq[:, :1] * (torch.arange(6) >= p).double()[
            None, :, None, None]
        want = xt * (2.0 + 0.5 / size * window) ** -0.6
        np.testing.assert_allclose(want.detach().numpy(), torch.nn.CrossMapLRN2d(size, 0.5, 0.6, 2.0)(
            torch.tensor(x)).numpy(), rtol=1e-13)     # the torch-op formula is PyTorch's forward
        g = np.random.default_rng(size).standard_normal(x.shape)
        want.backward(torch.tensor(g))
        xo = tg.tensor(x, requires_grad=True)
        m(xo).backward(tg.tensor(g))
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    xt = torch.tensor(x, requires_grad=True)
    assert not torch.autograd.gradcheck(torch.nn.CrossMapLRN2d(3, 0.5, 0.6, 2.0), (xt,), raise_exception=False)


def test_cross_map_lrn2d_wants_4d_like_torch():
    for lib in (torch, tg):
        with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D, got 3D instead."):
            lib.nn.CrossMapLRN2d(3)(lib.ones(6, 4, 5))
