"""retain_grad, tensor hooks, autograd.grad and graph introspection, run next to PyTorch on the same programs."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer import autograd


def _both(prog):
    return prog(torch, torch.autograd), prog(tg, autograd)


def _np(t):
    return None if t is None else t.detach().numpy()


def test_retain_grad_on_a_small_conv_net():
    rng = np.random.default_rng(0)
    x0, w1, w2 = rng.standard_normal((2, 1, 6, 6)), rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((3, 2, 3, 3))

    def prog(L, A):
        F = L.nn.functional
        x = L.tensor(x0, requires_grad=True)
        a, b = L.tensor(w1, requires_grad=True), L.tensor(w2, requires_grad=True)
        h1 = F.conv2d(x, a)
        r1 = F.relu(h1)
        h2 = F.conv2d(r1, b)
        loss = (h2 * h2).mean()
        for t in (h1, r1, h2, loss):
            t.retain_grad()
        loss.backward()
        return [h1.retains_grad, x.retains_grad] + [_np(t.grad) for t in (h1, r1, h2, loss, x, a, b)]
    ref, out = _both(prog)
    assert out[:2] == ref[:2] == [True, False]
    for u, v in zip(ref[2:], out[2:]):
        np.testing.assert_allclose(v, u, rtol=1e-10, atol=1e-12)


def test_hooks_order_replacement_and_removal():
    def prog(L, A):
        calls = []
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        h1 = y.register_hook(lambda g: calls.append(("y1", g.tolist())))
        y.register_hook(lambda g: g * 10)                      # replaces y's gradient from here on
        y.register_hook(lambda g: calls.append(("y3", g.tolist())))
        x.register_hook(lambda g: calls.append(("x", g.tolist())))
        z = (y * y).sum()
        z.backward(retain_graph=True)
        first = (x.grad.tolist(), y.grad.tolist())
        h1.remove()
        h1.remove()                                            # twice is harmless
        z.backward()
        return calls, first, x.grad.tolist(), y.grad.tolist()
    ref, out = _both(prog)
    assert out == ref


def test_hook_on_a_tensor_that_needs_no_grad_raises():
    for L in (torch, tg):
        with pytest.raises(RuntimeError):
            L.tensor([1.0]).register_hook(lambda g: g)
        with pytest.raises(RuntimeError):
            L.tensor([1.0]).retain_grad()


def test_autograd_grad_matches_torch():
    def prog(L, A):
        x = L.tensor([1.0, -2.0, 3.0], requires_grad=True)
        w = L.tensor([0.5, 0.25, 2.0], requires_grad=True)
        u = L.tensor([1.0], requires_grad=True)
        h = x * w
        y = (h.exp() + h).sum()
        gx, gh = A.grad(y, [x, h], retain_graph=True)
        (gw,) = A.grad([y, (w * w).sum()], w, retain_graph=True)
        gv = A.grad(h, x, grad_outputs=L.tensor([1.0, 2.0, 3.0]), retain_graph=True)[0]
        unused = A.grad(y, [x, u], allow_unused=True, retain_graph=True)[1]
        zeros = A.grad(y, [u], materialize_grads=True, retain_graph=True)[0]
        try:
            A.grad(y, [u], retain_graph=True)
            raised = None
        except RuntimeError as e:
            raised = "used in the graph" in str(e)
        return [_np(gx), _np(gh), _np(gw), _np(gv), unused, _np(zeros), raised, x.grad, w.grad]
    ref, out = _both(prog)
    for u, v in zip(ref, out):
        if isinstance(u, np.ndarray):
            np.testing.assert_allclose(v, u, rtol=1e-6)
        else:
            assert u == v


def test_backward_inputs_accumulates_only_there():
    def prog(L, A):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        w = L.tensor([3.0, 4.0], requires_grad=True)
        (x * w).sum().backward(inputs=[w])
        return x.grad, w.grad.tolist()
    assert _both(prog)[0] == _both(prog)[1]


def test_grad_fn_names_and_next_functions():
    def prog(L, A):
        nn = L.nn
        net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 3))
        x = L.ones(4, 1, 4, 4)
        out = L.nn.functional.cross_entropy(net(x), L.tensor([0, 1, 2, 0]))
        names, node = [], out.grad_fn
        while node is not None and hasattr(node, "next_functions") and node.next_functions:
            names.append(node.name())
            node = next((n for n, _ in node.next_functions if n is not None and n.next_functions), None)
        leaf = net[4].weight
        return names, (leaf.grad_fn, )
    ref, out = _both(prog)
    assert out[0] == ref[0], (out[0], ref[0])


def test_accumulate_grad_is_one_object_per_leaf_and_repr():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * 3
    ga, gb = a.grad_fn.next_functions[0][0], b.grad_fn.next_functions[0][0]
    assert ga is gb and ga.variable is x and ga.name() == "torch::autograd::AccumulateGrad"
    assert repr(a.grad_fn).startswith("<MulBackward0 object at 0x")
    assert "grad_fn=<MulBackward0>" in repr(a)
