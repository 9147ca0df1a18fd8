"""The shaping ops that PyTorch returns as views (narrow, select, movedim, tensor_split, diagonal, ...) share
memory with their input here too, so in-place writes through them reach it, and gradients follow the write."""
import numpy as np
import torch

import tinygrad_fer as tg


def _both(build):
    """build(lib, x) writes through a view of x (a 3x4 arange); ours and PyTorch's x must then agree."""
    ours, theirs = tg.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    build(tg, ours)
    build(torch, theirs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_writes_through_views_reach_the_input():
    _both(lambda lib, x: x.narrow(1, -3, 2).fill_(-1))
    _both(lambda lib, x: x.select(0, -1).mul_(3))
    _both(lambda lib, x: x.movedim(0, 1)[1].zero_())
    _both(lambda lib, x: x.moveaxis((0, 1), (1, 0))[2].add_(10))
    _both(lambda lib, x: lib.tensor_split(x, [1, 3], dim=1)[1].fill_(5))
    _both(lambda lib, x: lib.hsplit(x, 2)[0].neg_())
    _both(lambda lib, x: lib.vsplit(x, [2])[1].fill_(0))
    _both(lambda lib, x: x.diagonal(1).fill_(-2))
    _both(lambda lib, x: x.diagonal(-1, 1, 0).mul_(4))
    _both(lambda lib, x: x.T.diagonal().zero_())


def test_gradient_follows_an_in_place_write_through_a_view():
    def run(lib):
        a = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        b = a * 1
        b.select(1, 2).mul_(3)
        b.diagonal(1).mul_(lib.tensor([5.0, 6.0, 7.0]))
        b.narrow(0, 1, 2).mul_(lib.tensor([[1.0, 2.0, 3.0, 4.0]]))
        b.sum().backward()
        return b.detach().numpy(), a.grad.numpy()
    for o, t in zip(run(tg), run(torch)):
        np.testing.assert_allclose(o, t)
