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
