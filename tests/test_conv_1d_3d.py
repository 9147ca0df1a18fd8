"""The 1-D and 3-D convolution and pooling modules against torch.nn (parameters, repr, forward and backward); the
functional ops are checked from the op registry."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg


def _copy(ours, theirs):
    with tg.no_grad():
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m and tuple(p.shape) == tuple(q.shape)
            p.copy_(tg.tensor(q.detach().numpy()))


@pytest.mark.parametrize("name,args,kw", [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, bias=False)),
    ("Conv1d", (4, 6, 5), dict(padding="same", dilation=2, groups=2)),
    ("Conv1d", (4, 6, 3), dict(padding=2, padding_mode="circular")),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveMaxPool1d", (3,), {}),
])
def test_modules_like_torch(name, args, kw):
    _module_like_torch(name, args, kw, (2, 4, 11))


def _module_like_torch(name, args, kw, shape):
    """The same module in both libraries, our parameters copied from PyTorch's: repr, output, every gradient."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kw).double()
    ours = getattr(tg.nn, name)(*args, **kw).double()
    _copy(ours, theirs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal(shape)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    (yo * yo).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv1d_errors_like_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="Expected 2D \\(unbatched\\) or 3D \\(batched\\) input to conv1d"):
            lib.nn.functional.conv1d(lib.ones(1, 1, 1, 5), lib.ones(1, 1, 3))
    assert tuple(tg.nn.functional.conv1d(tg.ones(2, 7), tg.ones(3, 2, 3)).shape) == (3, 5)    # unbatched


@pytest.mark.parametrize("name,args,kw", [
    ("Conv3d", (4, 6, 3), dict(stride=2, padding=1, bias=False)),
    ("Conv3d", (4, 6, (3, 1, 2)), dict(padding="same", groups=2)),
    ("ConvTranspose3d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1)),
    ("MaxPool3d", (3,), dict(stride=2, padding=1)),
    ("AvgPool3d", (2,), dict(stride=1, ceil_mode=True)),
    ("AdaptiveAvgPool3d", ((2, 3, 1),), {}),
])
def test_3d_modules_like_torch(name, args, kw):
    _module_like_torch(name, args, kw, (2, 4, 5, 4, 6))


@pytest.mark.parametrize("name,shape", [("LazyConv1d", (2, 4, 7)), ("LazyConv3d", (2, 4, 5, 5, 5)),
                                        ("LazyConvTranspose1d", (2, 4, 7)), ("LazyConvTranspose3d", (2, 4, 3, 3, 3))])
def test_lazy_1d_3d_become_their_concrete_class(name, shape):
    ours, theirs = getattr(tg.nn, name)(5, 3), getattr(torch.nn, name)(5, 3)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    yo, yt = ours(tg.tensor(x)), theirs(torch.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert type(ours) is getattr(tg.nn, name[4:])
    assert tuple(yo.shape) == tuple(yt.shape) and tuple(ours.weight.shape) == tuple(theirs.weight.shape)
