"""nn.functional vs torch.nn.functional: every loss and option, dropout, batch_norm, one_hot, activations, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
import tinygrad_fer.nn.functional as F
from helpers import compare, raises_like, tol

DT = [np.float64, np.float32]
RED = ["mean", "sum", "none"]


def _t(a):
    return torch.tensor(a) if isinstance(a, np.ndarray) else a


# ---- cross-entropy / nll -------------------------------------------------------------------------
@st.composite
def class_problem(draw):
    n, c = draw(st.integers(1, 5)), draw(st.integers(2, 6))
    spatial = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 31)))
    x = rng.normal(0, 3, (n, c) + spatial)
    t = rng.integers(0, c, (n,) + spatial)
    return x, t, rng


@given(class_problem(), st.sampled_from(DT), st.sampled_from(RED), st.booleans(), st.booleans(),
       st.sampled_from([0.0, 0.2]))
def test_cross_entropy_class_indices(prob, dt, reduction, use_weight, use_ignore, ls):
    x, t, rng = prob
    x = x.astype(dt)
    w = rng.uniform(0.2, 2.0, x.shape[1]).astype(dt) if use_weight else None
    ignore = -100
    if use_ignore:
        ignore = 1
        t.reshape(-1)[0] = ignore  # at least one ignored position
    if reduction == "mean" and use_ignore and (t == ignore).all():
        t.reshape(-1)[0] = 0

    def ours(x, t, w):
        return F.cross_entropy(x, t, w, ignore_index=ignore, reduction=reduction, label_smoothing=ls)

    def theirs(x, t, w):
        return TF.cross_entropy(x, t, w, ignore_index=ignore, reduction=reduction, label_smoothing=ls)
    compare(ours, theirs, [x, t, w], requires_grad=[True, False, False])


@given(class_problem(), st.sampled_from(DT), st.sampled_from(RED), st.booleans(), st.sampled_from([0.0, 0.3]))
def test_cross_entropy_probability_targets(prob, dt, reduction, use_weight, ls):
    x, _, rng = prob
    x = x.astype(dt)
    p = rng.uniform(0, 1, x.shape)
    p = (p / p.sum(1, keepdims=True)).astype(dt)
    w = rng.uniform(0.2, 2.0, x.shape[1]).astype(dt) if use_weight else None
    compare(lambda a, b, c: F.cross_entropy(a, b, c, reduction=reduction, label_smoothing=ls),
            lambda a, b, c: TF.cross_entropy(a, b, c, reduction=reduction, label_smoothing=ls),
            [x, p, w], requires_grad=[True, True, False])


@pytest.mark.parametrize("reduction", RED)
def test_cross_entropy_unbatched_and_nll(reduction):
    rng = np.random.default_rng(0)
    x = rng.normal(size=5)
    t = np.array(3)
    compare(lambda a, b: F.cross_entropy(a, b, reduction=reduction),
            lambda a, b: TF.cross_entropy(a, b, reduction=reduction), [x, t])
    lp = np.log(rng.dirichlet(np.ones(4), size=6))
    tt = rng.integers(0, 4, 6)
    w = rng.uniform(0.5, 2, 4)
    compare(lambda a, b, c: F.nll_loss(a, b, c, ignore_index=2, reduction=reduction),
            lambda a, b, c: TF.nll_loss(a, b, c, ignore_index=2, reduction=reduction), [lp, tt, w],
            requires_grad=[True, False, False])


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = np.random.default_rng(1).normal(size=(3, 4))
    t = np.full(3, -100)
    a = F.cross_entropy(tg.tensor(x), tg.tensor(t)).item()
    b = TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert np.isnan(a) and np.isnan(b)


def test_cross_entropy_legacy_reduction_args():
    x, t = np.random.default_rng(2).normal(size=(4, 3)), np.array([0, 2, 1, 1])
    a = F.cross_entropy(tg.tensor(x), tg.tensor(t), size_average=False)
    b = TF.cross_entropy(torch.tensor(x), torch.tensor(t), size_average=False)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


@pytest.mark.parametrize("case", [
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, 5])),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, -2])),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2])),
    lambda f: f.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 5), np.int64)),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), np.ones(4)),
    lambda f: f.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), reduction="avg"),
    lambda f: f.nll_loss(np.zeros((2, 3)), np.array([0, 1], np.int32)),
    lambda f: f.multi_margin_loss(np.zeros((2, 3)), np.array([0, 3])),
    lambda f: f.multi_margin_loss(np.zeros((2, 3)), np.array([0, 1]), p=3),
    lambda f: f.binary_cross_entropy(np.full(3, 0.5), np.full((3, 1), 0.5)),
    lambda f: f.binary_cross_entropy(np.array([1.5]), np.array([0.5])),
    lambda f: f.binary_cross_entropy_with_logits(np.zeros(3), np.zeros((3, 1))),
    lambda f: f.one_hot(np.array([1.0, 2.0])),
    lambda f: f.one_hot(np.array([1, -2])),
    lambda f: f.one_hot(np.array([1, 5]), 3),
    lambda f: f.dropout(np.zeros(3), 1.5),
    lambda f: f.batch_norm(np.zeros((1, 3)), None, None, training=True),
    lambda f: f.mse_loss(np.zeros(3), np.zeros(4)),
])
def test_errors_like_torch(case):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(lambda *a: case(_Wrap(F, tg.tensor)), lambda *a: case(_Wrap(TF, torch.tensor)))


class _Wrap:
    """Calls module fn with its numpy arguments turned into that library's tensors."""

    def __init__(self, mod, mk):
        self.mod, self.mk = mod, mk

    def __getattr__(self, name):
        fn = getattr(self.mod, name)
        return lambda *a, **k: fn(*[self.mk(v) if isinstance(v, np.ndarray) else v for v in a],
                                  **{kk: self.mk(v) if isinstance(v, np.ndarray) else v for kk, v in k.items()})


def test_error_messages_name_the_problem():
    with pytest.raises(IndexError, match="Target 5 is out of bounds"):
        F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 5]))
    with pytest.raises(ValueError, match=r"batch_size \(2\).*batch_size \(3\)"):
        F.cross_entropy(tg.zeros(2, 3), tg.tensor([0, 1, 2]))


# ---- regression losses ---------------------------------------------------------------------------
@given(st.integers(0, 2 ** 31), st.sampled_from(DT), st.sampled_from(RED))
@settings(max_examples=10)
def test_mse_l1(seed, dt, reduction):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 4, rng.integers(1, 4)))
    x, y = rng.normal(size=shape).astype(dt), rng.normal(size=shape).astype(dt)
    compare(lambda a, b: F.mse_loss(a, b, reduction=reduction), lambda a, b: TF.mse_loss(a, b, reduction=reduction),
            [x, y])
    compare(lambda a, b: F.l1_loss(a, b, reduction=reduction), lambda a, b: TF.l1_loss(a, b, reduction=reduction),
            [x, y])


def test_mse_broadcast_warns_like_torch():
    with pytest.warns(UserWarning, match="target size"):
        F.mse_loss(tg.zeros(3), tg.zeros(3, 1))


# ---- binary cross-entropy ------------------------------------------------------------------------
@given(st.integers(0, 2 ** 31), st.sampled_from(DT), st.sampled_from(RED), st.booleans())
@settings(max_examples=12)
def test_binary_cross_entropy(seed, dt, reduction, use_weight):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.02, 0.98, (4, 3)).astype(dt)
    t = rng.uniform(0, 1, (4, 3)).astype(dt)
    w = rng.uniform(0.5, 2, (3,)).astype(dt) if use_weight else None
    compare(lambda a, b, c: F.binary_cross_entropy(a, b, c, reduction=reduction),
            lambda a, b, c: TF.binary_cross_entropy(a, b, c, reduction=reduction), [x, t, w],
            requires_grad=[True, True, False])


def test_binary_cross_entropy_at_the_edges():
    x = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    compare(F.binary_cross_entropy, TF.binary_cross_entropy, [x, t], requires_grad=[True, False])


@given(st.integers(0, 2 ** 31), st.sampled_from(DT), st.sampled_from(RED), st.booleans(), st.booleans())
@settings(max_examples=16)
def test_binary_cross_entropy_with_logits(seed, dt, reduction, use_weight, use_pos):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 5, (5, 3)).astype(dt)
    x[0, 0], x[1, 1], x[2, 2] = 0.0, 60.0, -60.0  # the kink, and where a naive formula overflows
    t = rng.uniform(0, 1, (5, 3)).astype(dt)
    w = rng.uniform(0.5, 2, (5, 1)).astype(dt) if use_weight else None
    pw = rng.uniform(0.5, 3, (3,)).astype(dt) if use_pos else None
    compare(lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, c, reduction=reduction, pos_weight=d),
            lambda a, b, c, d: TF.binary_cross_entropy_with_logits(a, b, c, reduction=reduction, pos_weight=d),
            [x, t, w, pw], requires_grad=[True, True, False, False])


# ---- multi-margin --------------------------------------------------------------------------------
@given(st.integers(0, 2 ** 31), st.sampled_from(DT), st.sampled_from(RED), st.sampled_from([1, 2]),
       st.sampled_from([1.0, 0.5]), st.booleans())
@settings(max_examples=16)
def test_multi_margin_loss(seed, dt, reduction, p, margin, use_weight):
    rng = np.random.default_rng(seed)
    n, c = rng.integers(1, 5), rng.integers(2, 6)
    x = rng.normal(size=(n, c)).astype(dt)
    t = rng.integers(0, c, n)
    w = rng.uniform(0.5, 2, c).astype(dt) if use_weight else None
    compare(lambda a, b, d: F.multi_margin_loss(a, b, p=p, margin=margin, weight=d, reduction=reduction),
            lambda a, b, d: TF.multi_margin_loss(a, b, p=p, margin=margin, weight=d, reduction=reduction),
            [x, t, w], requires_grad=[True, False, False])


def test_multi_margin_unbatched_and_exact_margin():
    x = np.array([0.0, 1.0, 2.0])  # x[2] - x[1] == margin exactly: a kink PyTorch gives no gradient at
    compare(lambda a, b: F.multi_margin_loss(a, b), lambda a, b: TF.multi_margin_loss(a, b), [x, np.array(1)])
    compare(lambda a, b: F.multi_margin_loss(a, b), lambda a, b: TF.multi_margin_loss(a, b),
            [x[None], np.array([1])])


# ---- one_hot, dropout ----------------------------------------------------------------------------
def test_one_hot():
    t = np.array([[0, 2], [1, 3]])
    a = F.one_hot(tg.tensor(t))
    b = TF.one_hot(torch.tensor(t))
    assert a.dtype == tg.int64 and a.numpy().tolist() == b.numpy().tolist()
    assert F.one_hot(tg.tensor([1]), 5).numpy().tolist() == TF.one_hot(torch.tensor([1]), 5).numpy().tolist()


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_dropout_statistics_and_gradient(p):
    tg.manual_seed(0)
    x = tg.ones(200, 100, requires_grad=True)
    y = F.dropout(x, p)
    kept = y.detach().numpy() != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    if p < 1:
        np.testing.assert_allclose(y.detach().numpy()[kept], 1 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() != 0, kept)
    assert F.dropout(x, p, training=False) is x


def test_dropout2d_zeroes_whole_channels():
    tg.manual_seed(1)
    y = F.dropout2d(tg.ones(8, 50, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 50, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65


# ---- batch_norm ----------------------------------------------------------------------------------
@given(st.integers(0, 2 ** 31), st.sampled_from(DT), st.sampled_from([(6, 3), (4, 3, 5), (3, 2, 4, 4)]),
       st.booleans(), st.booleans())
@settings(max_examples=16)
def test_batch_norm_functional(seed, dt, shape, training, affine):
    rng = np.random.default_rng(seed)
    x = rng.normal(2, 3, shape).astype(dt)
    c = shape[1]
    w = rng.uniform(0.5, 2, c).astype(dt) if affine else None
    b = rng.normal(size=c).astype(dt) if affine else None
    rm0, rv0 = rng.normal(size=c).astype(dt), rng.uniform(0.5, 2, c).astype(dt)
    rm_a, rv_a, rm_b, rv_b = tg.tensor(rm0), tg.tensor(rv0), torch.tensor(rm0), torch.tensor(rv0)
    compare(lambda x, w, b: F.batch_norm(x, rm_a, rv_a, w, b, training=training, momentum=0.3),
            lambda x, w, b: TF.batch_norm(x, rm_b, rv_b, w, b, training=training, momentum=0.3),
            [x, w, b])
    np.testing.assert_allclose(rm_a.numpy(), rm_b.numpy(), **tol(dt))
    np.testing.assert_allclose(rv_a.numpy(), rv_b.numpy(), **tol(dt))


# ---- activations re-exported ---------------------------------------------------------------------
@pytest.mark.parametrize("name,kw", [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
                                     ("softplus", {"beta": 2.0}), ("sigmoid", {}), ("tanh", {}),
                                     ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}), ("silu", {})])
def test_activations(name, kw):
    x = np.random.default_rng(3).normal(0, 3, (4, 5))
    compare(lambda a: getattr(F, name)(a, **kw), lambda a: getattr(TF, name)(a, **kw), [x])


def test_conv_and_pool_are_reexported():
    from tinygrad_fer.ops import conv, pool
    assert F.conv2d is conv.conv2d and F.max_pool2d is pool.max_pool2d and F.adaptive_avg_pool2d is \
        pool.adaptive_avg_pool2d


def test_relu6_and_hardtanh_gradient_stops_at_the_ends_like_torch():
    # relu6 was clamp(x, 0, 6), whose gradient passes at x == 0 and x == 6; PyTorch's hardtanh stops there
    x = np.array([-1.0, 0.0, 3.0, 6.0, 7.0, np.nan, -0.5, 1.0])
    # PyTorch's relu6 passes the gradient at NaN in float32 and stops it in float64: NaN is checked with hardtanh
    for fn in (lambda F, t: F.relu6(t[:5]), lambda F, t: F.hardtanh(t, -0.5, 1.0)):
        out = []
        for L in (tg, torch):
            t = L.tensor(x, requires_grad=True)
            y = fn(L.nn.functional, t)
            y.sum().backward()
            out.append((y.detach().numpy(), t.grad.numpy()))
        for a, b in zip(*out):
            np.testing.assert_array_equal(a, b)
