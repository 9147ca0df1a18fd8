"""What the PyTorch 60-minute blitz tutorials print and touch, compared with PyTorch itself (issue 18)."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tf


def _both(make):
    return repr(make(torch)), repr(make(tf))


@pytest.mark.parametrize("shape", [(10,), (1, 10), (3, 10), (2, 2, 12), (2, 1, 2, 30), (1, 25), (2, 3, 40)])
@pytest.mark.parametrize("scale", [0.1, 3.0, 1e5, 1e-6])
def test_repr_puts_as_many_elements_on_a_row_as_pytorch(shape, scale):
    # numbers of one sign pattern and magnitude per column make the column widths deterministic
    a = (np.arange(int(np.prod(shape))).reshape(shape) % 7 - 3) * scale * 1.37
    expected, got = _both(lambda lib: lib.tensor(a.astype(np.float32)))
    assert got == expected


@pytest.mark.parametrize("shape", [(1, 30), (4, 25), (2, 2, 20)])
def test_repr_rows_of_integers_and_bools_wrap_as_pytorch(shape):
    a = np.arange(int(np.prod(shape))).reshape(shape) * 37 - 500
    assert _both(lambda lib: lib.tensor(a))[1] == _both(lambda lib: lib.tensor(a))[0]
    b = a % 3 == 0
    expected, got = _both(lambda lib: lib.tensor(b))
    assert got == expected


def test_repr_of_float32_values_spanning_the_whole_range_gives_no_warning():
    # torch.empty shows whatever memory held: magnitudes from 1e-45 to 1e38, whose float32 ratio overflows
    a = np.array([[1e-45, 3e38, 2.0], [0.0, -5.5, 1e-30]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = repr(tf.tensor(a))
    assert got == repr(torch.tensor(a))


@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True)])
def test_mean_is_one_graph_node_named_as_pytorch(dim, keepdim):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    outs = {}
    for lib in (torch, tf):
        x = lib.tensor(a, requires_grad=True)
        m = x.mean() if dim is None else x.mean(dim, keepdim=keepdim)
        (g,) = lib.autograd.grad((m * m).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        outs[lib] = (m.grad_fn.name(), m.detach().numpy(), g.detach().numpy(), gg.numpy())
    assert outs[tf][0] == outs[torch][0]
    for ours, theirs in zip(outs[tf][1:], outs[torch][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def _mse_run(lib, a, t, reduction, grad_target=False, **kw):
    x = lib.tensor(a, requires_grad=True)
    y = lib.tensor(t, requires_grad=grad_target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the size warning of broadcasting targets
        loss = lib.nn.functional.mse_loss(x, y, reduction=reduction, **{k: lib.tensor(v) for k, v in kw.items()})
    inputs = (x, y) if grad_target else (x,)
    grads = lib.autograd.grad((loss * loss).sum(), inputs, create_graph=True)
    second = lib.autograd.grad(sum(g.sum() for g in grads), inputs)
    return loss, [loss.detach().numpy()] + [g.detach().numpy() for g in grads] + [g.numpy() for g in second]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("tshape,grad_target", [((2, 3), True), ((3,), False), ((2, 1), True)])
def test_mse_loss_is_one_node_with_pytorch_values_and_derivatives(reduction, tshape, grad_target):
    rng = np.random.default_rng(1)
    a, t = rng.standard_normal((2, 3)), rng.standard_normal(tshape)
    (theirs_loss, theirs), (ours_loss, ours) = (_mse_run(lib, a, t, reduction, grad_target) for lib in (torch, tf))
    assert ours_loss.grad_fn.name() == theirs_loss.grad_fn.name()
    for o, e in zip(ours, theirs):
        np.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-12)


def test_mse_loss_graph_walks_back_as_pytorch():
    # the neural-networks blitz: loss.grad_fn, then next_functions[0][0] is the node that made the input
    names = []
    for lib in (torch, tf):
        x = lib.ones(2, 3, requires_grad=True)
        loss = lib.nn.MSELoss()(x * 2, lib.zeros(2, 3))
        names.append([loss.grad_fn.name(), loss.grad_fn.next_functions[0][0].name(),
                      loss.grad_fn.next_functions[1][0]])
    assert names[1] == names[0]


def test_mse_loss_long_target_promotes_as_pytorch():
    a = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    t = np.arange(1, 4).reshape(1, 3)
    (theirs_loss, theirs), (ours_loss, ours) = (_mse_run(lib, a, t, "mean") for lib in (torch, tf))
    assert str(ours_loss.dtype).split(".")[-1] == str(theirs_loss.dtype).split(".")[-1]
    for o, e in zip(ours, theirs):
        np.testing.assert_allclose(o, e, rtol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_weighted_mse_loss_as_pytorch(reduction):
    rng = np.random.default_rng(2)
    a, t, w = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.uniform(0.1, 2, (2, 3))
    (_, theirs), (_, ours) = (_mse_run(lib, a, t, reduction, True, weight=w) for lib in (torch, tf))
    for o, e in zip(ours, theirs):
        np.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-12)


def test_mse_loss_weight_of_another_size_is_a_value_error():
    for lib in (torch, tf):
        with pytest.raises(ValueError, match="Weights and input must have the same size."):
            lib.nn.functional.mse_loss(lib.ones(2, 3), lib.zeros(2, 3), weight=lib.ones(3))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_node_walks_back_as_pytorch_addmm(bias):
    # addmm(bias, input, weight.t()): the bias's AccumulateGrad first, then the input's node (PyTorch's third
    # edge is a TBackward0 over the weight; ours goes to the weight's AccumulateGrad directly)
    rng = np.random.default_rng(3)
    w, b, a = rng.standard_normal((2, 3)), rng.standard_normal(2), rng.standard_normal((4, 3))
    seen = []
    for lib in (torch, tf):
        x = lib.tensor(a, requires_grad=True)
        wt, bt = lib.tensor(w, requires_grad=True), lib.tensor(b, requires_grad=True) if bias else None
        y = lib.nn.functional.linear(lib.relu(x), wt, bt)
        nodes = [n for n, _ in y.grad_fn.next_functions]
        names = [y.grad_fn.name()] + [n.name() for n in nodes[:2 if bias else 1]]
        leaves = [x, wt] + ([bt] if bias else [])
        grads = lib.autograd.grad((y * y).sum(), leaves, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
        seen.append((names, [g.detach().numpy() for g in grads + second]))
    assert seen[1][0] == seen[0][0]
    for o, e in zip(seen[1][1], seen[0][1]):
        np.testing.assert_allclose(o, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("expr", ["s[1:]", "s[::-1]", "s[0]", "s[-1]", "s + (5,)", "(5,) + s", "s + s", "s * 2",
                                  "2 * s", "s[1:] + s[:1]"])
def test_size_slices_and_sums_stay_sizes_as_pytorch(expr):
    # the neural-networks blitz of PyTorch 1.x iterates x.size()[1:]
    got = {lib: eval(expr, {"s": lib.Size([2, 3, 4])}) for lib in (torch, tf)}
    assert type(got[tf]).__name__ == type(got[torch]).__name__
    assert tuple(got[tf]) == tuple(got[torch]) if isinstance(got[torch], tuple) else got[tf] == got[torch]


def test_size_plus_a_list_is_a_type_error_as_pytorch():
    for lib in (torch, tf):
        with pytest.raises(TypeError):
            lib.Size([2, 3]) + [4]


@pytest.mark.parametrize("expr", ["x.sum()", "x.sum(1)", "x.sum((0, 1))", "x.max()", "x.min()", "x.max(1)[0]",
                                  "x.min(0, keepdim=True)[0]", "torch.max(x, 1)[0]", "x.mean()", "x.mean(0)"])
def test_reduction_nodes_are_named_as_pytorch(expr):
    a = np.random.default_rng(4).standard_normal((3, 4))
    names = [eval(expr, {"x": lib.tensor(a, requires_grad=True), "torch": lib}).grad_fn.name() for lib in (torch, tf)]
    assert names[1] == names[0]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("logits,weighted", [(False, False), (False, True), (True, False), (True, True)])
def test_binary_cross_entropies_reduce_inside_their_node_as_pytorch(reduction, logits, weighted):
    rng = np.random.default_rng(5)
    a, t = rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    w, pw = rng.uniform(0.5, 2, (4,)), rng.uniform(0.5, 2, (4,))
    seen = []
    for lib in (torch, tf):
        F = lib.nn.functional
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(t, requires_grad=True)
        kw = {"weight": lib.tensor(w)} if weighted else {}
        if logits:
            if weighted:
                kw["pos_weight"] = lib.tensor(pw)
            loss = F.binary_cross_entropy_with_logits(x, y, reduction=reduction, **kw)
        else:
            loss = F.binary_cross_entropy(lib.sigmoid(x), y, reduction=reduction, **kw)
        leaves = [x, y]
        grads = lib.autograd.grad((loss * loss).sum(), leaves, create_graph=True)
        second = lib.autograd.grad(sum((g * g).sum() for g in grads), leaves)
        seen.append((loss.grad_fn.name(), [loss.detach().numpy()] + [g.detach().numpy() for g in grads + second]))
    assert seen[1][0] == seen[0][0]
    for o, e in zip(seen[1][1], seen[0][1]):
        np.testing.assert_allclose(o, e, rtol=1e-9, atol=1e-12)
