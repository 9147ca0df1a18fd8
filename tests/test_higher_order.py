"""Higher-order gradients, autograd.functional and anomaly detection, against PyTorch on the same programs.
(Each op's second derivative is checked from the op registry: tests/test_ops.py::test_gradgradcheck.)"""
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
from tinygrad_fer.autograd import functional as AF
from helpers import Cube


def _np(t):
    return None if t is None else t.detach().numpy()


def _flat(r):
    if isinstance(r, (tuple, list)):
        return [a for x in r for a in _flat(x)]
    return [_np(r)]


def _close(ours, theirs, **kw):
    a, b = _flat(ours), _flat(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12, **kw)


def test_newton_on_the_lectures_quartic():
    """Newton's method on x^4 - x^3 - 2x^2 + 3 with the second derivative from create_graph: the same iterates."""
    def run(lib, x0):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        path = []
        for _ in range(8):
            f = x ** 4 - x ** 3 - 2 * x ** 2 + 3
            g, = lib.autograd.grad(f, x, create_graph=True)
            h, = lib.autograd.grad(g, x)
            with lib.no_grad():
                x -= g / h
            path.append(float(x))
        return path
    for x0 in (2.0, -1.5, 0.3):
        np.testing.assert_allclose(run(tg, x0), run(torch, x0), rtol=1e-12)
    assert abs(run(tg, 2.0)[-1] - (3 + np.sqrt(73)) / 8) < 1e-12    # f'(x) = x(4x^2 - 3x - 4): the right minimum


def _convnet(lib, seed=0):
    rng = np.random.default_rng(seed)
    params = [lib.tensor(rng.standard_normal(s) * 0.3, requires_grad=True)
              for s in ((4, 2, 3, 3), (4,), (4,), (4,), (3, 16), (3,))]

    def net(x):
        F = lib.nn.functional
        w, b, gamma, beta, fw, fb = params
        h = F.conv2d(x, w, b, padding=1)
        h = F.batch_norm(h, None, None, gamma, beta, training=True)
        h = F.max_pool2d(F.relu(h), 2)
        h = F.avg_pool2d(lib.tanh(h), 1)
        return F.linear(h.reshape(h.shape[0], -1), fw, fb)
    return params, net


def test_gradient_penalty_step_matches_torch():
    """A WGAN-GP style step: loss + (||d loss / d x|| - 1)^2 through conv, BatchNorm, max/avg pool, ReLU, tanh,
    linear and cross-entropy; every parameter's gradient equals PyTorch's."""
    rng = np.random.default_rng(1)
    x0, y0 = rng.standard_normal((3, 2, 4, 4)), np.array([0, 2, 1])
    grads = []
    for lib in (tg, torch):
        params, net = _convnet(lib)
        x = lib.tensor(x0, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(net(x), lib.tensor(y0))
        gx, = lib.autograd.grad(loss, x, create_graph=True)
        penalty = ((gx.reshape(3, -1) ** 2).sum(1).sqrt() - 1) ** 2
        (loss + 10 * penalty.mean()).backward()
        grads.append([p.grad for p in params])
    for a, b in zip(*grads):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-12)


def test_hessian_vector_product_of_a_convnet_matches_torch():
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((2, 2, 4, 4))
    vs = [rng.standard_normal(s) for s in ((4, 2, 3, 3), (4,), (4,), (4,), (3, 16), (3,))]
    out = []
    for lib in (tg, torch):
        params, net = _convnet(lib)
        loss = (net(lib.tensor(x0)) ** 2).sum()
        gs = lib.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * lib.tensor(v)).sum() for g, v in zip(gs, vs))
        out.append(lib.autograd.grad(dot, params))
    for a, b in zip(*out):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-9, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(order=st.integers(2, 4), seed=st.integers(0, 1000))
def test_gradients_to_any_order(order, seed):
    x0 = np.random.default_rng(seed).uniform(-1, 1, 3)
    got = []
    for lib in (tg, torch):
        x = lib.tensor(x0, requires_grad=True)
        y = (lib.sin(x) * x.exp() / (2 + lib.tanh(x))).sum()
        for _ in range(order):
            y, = lib.autograd.grad(y, x, create_graph=True)
            y = y.sum()
        got.append(float(y))
    np.testing.assert_allclose(got[0], got[1], rtol=1e-9)


def test_backward_create_graph_gives_leaf_gradients_a_history():
    out = []
    for lib in (tg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        (x ** 3).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad and g.grad_fn is not None
        x.grad = None
        g.sum().backward()            # d/dx sum(3x^2) = 6x
        out.append(x.grad)
    _close(out[0], out[1])
    np.testing.assert_allclose(_np(out[0]), [3.0, -6.0, 12.0])


def test_user_function_backward_is_differentiated():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    g, = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    h, = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, 12.0])


def test_once_differentiable_rule_raises_instead_of_a_silent_zero():
    x = tg.tensor([0.3, 1.2, -0.4], dtype=tg.float64, requires_grad=True)
    g, = tg.autograd.grad(tg.logcumsumexp(x, 0).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), _logcumsumexp_grad(x.detach().numpy()), rtol=1e-12)
    with pytest.raises(RuntimeError, match="LogCumSumExpBackward0 does not support double backward"):
        tg.autograd.grad(g.sum(), x)


def _logcumsumexp_grad(x0):
    x = torch.tensor(x0, requires_grad=True)
    torch.logcumsumexp(x, 0).sum().backward()
    return x.grad.numpy()


def test_retain_graph_defaults_to_create_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    tg.autograd.grad(y, x, create_graph=True)
    tg.autograd.grad(y, x)                    # the graph was kept
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        tg.autograd.grad(y, x)


# ---- autograd.functional ------------------------------------------------------------------------------------------
def _pair(lib, x0, y0):
    return lib.tensor(x0), lib.tensor(y0)


X0, Y0 = np.array([0.3, -1.1, 2.0]), np.array([1.5, 0.2, -0.7])


def _f(a, b):
    return (a.exp() * b).sum() + (a * a * b.sin()).sum()


def _g(a, b):
    return a.exp() * b + a * b.sin()


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_vector_products_match_torch(name, create_graph):
    res = []
    for lib, M in ((tg, AF), (torch, TF)):
        x, y = _pair(lib, X0, Y0)
        fn = _g if name in ("vjp", "jvp") else _f
        v = (lib.tensor(Y0), lib.tensor(X0))
        out = getattr(M, name)(fn, (x, y), v if name != "vjp" else lib.tensor(Y0), create_graph=create_graph)
        assert isinstance(out, tuple) and len(out) == 2
        res.append(out)
    _close(res[0], res[1])
    assert all(not t.requires_grad for t in _tensors(res[0])) or create_graph


def _tensors(r):
    return [r] if not isinstance(r, (tuple, list)) else [t for x in r for t in _tensors(x)]


@pytest.mark.parametrize("single", [True, False])
def test_jacobian_and_hessian_match_torch(single):
    res = []
    for lib, M in ((tg, AF), (torch, TF)):
        x, y = _pair(lib, X0, Y0)
        if single:
            res.append((M.jacobian(lambda a: a.exp() * a.sin(), x), M.hessian(lambda a: (a ** 3).sum(), x)))
        else:
            res.append((M.jacobian(_g, (x, y)), M.hessian(_f, (x, y))))
    for ours, theirs in zip(*res):
        assert isinstance(ours, tg.Tensor) == single
        _close(ours, theirs)


def test_functional_errors_like_torch():
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="independent of input 0"):
        AF.vjp(lambda a: tg.ones(2), x, tg.ones(2), strict=True)
    assert np.all(AF.vjp(lambda a: tg.ones(2) + 0 * a.detach(), x, tg.ones(2))[1].numpy() == 0)
    with pytest.raises(RuntimeError, match="v can only be None"):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        AF.jacobian(lambda a: a, [1.0])


# ---- anomaly detection ------------------------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_and_where_it_was_made():
    x = tg.tensor([4.0, 0.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = tg.autograd.detect_anomaly()
    with mode:
        assert tg.autograd.is_anomaly_enabled()
        y = (x * 0).sqrt()   # sqrt(0): its gradient is inf, times 0 -> NaN in the multiplication's
        with pytest.warns(UserWarning, match="Traceback of forward call"):
            with pytest.raises(RuntimeError, match=r"Function 'MulBackward0' returned nan values in its 0th output\. "
                                                   r"Its forward op was created at .*test_higher_order\.py"):
                y.sum().backward()
    assert not tg.autograd.is_anomaly_enabled()
    x.grad = None
    (x * 0).sqrt().sum().backward()   # off: the NaN passes, as in PyTorch
    assert np.isnan(x.grad.numpy()).all()
    with tg.autograd.set_detect_anomaly(True, check_nan=False):
        (x * 0).sqrt().sum().backward()


def test_second_derivatives_through_in_place_ops_and_views():
    """Writes into slices, in-place arithmetic and a write through a view (CopySlices, AsStrided nodes) under
    create_graph, against PyTorch."""
    def run(L, x0):
        x = L.tensor(x0, requires_grad=True)
        y = x * 1.0
        y[1:3] = x[0:2] ** 2
        y.mul_(x.sin())
        z = y.view(2, 2) if L is torch else y.reshape(2, 2)
        z[0, 0] += 3 * x[3]
        w = L.relu(z).exp().sum() + (y * y).sum()
        g, = L.autograd.grad(w, x, create_graph=True)
        h, = L.autograd.grad((g * L.tensor([1.0, -2.0, 0.5, 3.0], dtype=L.float64)).sum(), x)
        return g, h
    x0 = np.array([0.3, -0.7, 1.1, 0.4])
    _close(run(tg, x0), run(torch, x0))
