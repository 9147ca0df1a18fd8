"""Lazy modules against torch.nn's: the input size is read off the first call, the module then becomes the concrete
class, its parameters get the concrete class's initialisation, and reprs, state_dict keys, errors and the
optimizer-before-first-call behaviour are PyTorch's."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def _lenet(lib):
    """d2l's LeNet (chapter 7.6), written with lazy layers as the book does."""
    n = lib.nn
    return n.Sequential(
        n.LazyConv2d(6, kernel_size=5, padding=2), n.Sigmoid(), n.AvgPool2d(kernel_size=2, stride=2),
        n.LazyConv2d(16, kernel_size=5), n.Sigmoid(), n.AvgPool2d(kernel_size=2, stride=2),
        n.Flatten(), n.LazyLinear(120), n.Sigmoid(), n.LazyLinear(84), n.Sigmoid(), n.LazyLinear(10))


def _init_cnn(lib, touched):
    def init_cnn(module):  # d2l's helper, verbatim apart from the record of what it touched
        if type(module) == lib.nn.Linear or type(module) == lib.nn.Conv2d:
            lib.nn.init.xavier_uniform_(module.weight)
            touched.append(type(module).__name__)
    return init_cnn


def test_d2l_lenet_from_lazy_layers():
    outs = {}
    for lib in (tg, torch):
        net = _lenet(lib)
        before = repr(net)
        x = lib.zeros((1, 1, 28, 28))
        shapes = []
        for layer in net:   # the book's layer-by-layer shape walk prints the concrete class names
            x = layer(x)
            shapes.append((layer.__class__.__name__, tuple(x.shape)))
        touched = []
        net.apply(_init_cnn(lib, touched))
        sd = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        outs[lib.__name__] = before, shapes, touched, sd, repr(net), tuple(net(lib.ones((2, 1, 28, 28))).shape)
    assert outs["tinygrad_fer"] == outs["torch"]
    assert outs["torch"][2] == ["Conv2d", "Conv2d", "Linear", "Linear", "Linear"]


_CASES = [
    ("LazyLinear", (3,), {}, (2, 4)),
    ("LazyLinear", (5,), dict(bias=False), (4,)),
    ("LazyLinear", (2,), {}, (2, 3, 6)),
    ("LazyConv2d", (4, 3), dict(stride=2, padding=1), (2, 3, 7, 7)),
    ("LazyConv2d", (4, (3, 2)), dict(groups=2, bias=False, dilation=2), (1, 4, 8, 8)),
    ("LazyConv2d", (2, 3), dict(padding="same"), (3, 6, 6)),
    ("LazyConvTranspose2d", (4, 3), dict(stride=2, output_padding=1), (2, 2, 5, 5)),
    ("LazyConvTranspose2d", (4, 2), dict(groups=2), (1, 6, 3, 3)),
    ("LazyBatchNorm1d", (), {}, (4, 3)),
    ("LazyBatchNorm1d", (), dict(affine=False), (4, 3, 5)),
    ("LazyBatchNorm2d", (), dict(momentum=None), (2, 3, 4, 4)),
    ("LazyBatchNorm2d", (), dict(track_running_stats=False, eps=1e-3), (2, 2, 3, 3)),
    ("LazyInstanceNorm1d", (), {}, (2, 3, 4)),
    ("LazyInstanceNorm1d", (), dict(affine=False, track_running_stats=False), (3, 4)),
    ("LazyInstanceNorm2d", (), dict(affine=True, track_running_stats=True), (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (), dict(affine=True), (1, 2, 2, 3, 2)),
]


@pytest.mark.filterwarnings("ignore:input's size at dim")   # a lazy instance norm without parameters, as torch's
@pytest.mark.parametrize("name,args,kw,shape", _CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_CASES)])
def test_becomes_the_concrete_class(name, args, kw, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.has_uninitialized_params() == theirs.has_uninitialized_params()
    yo, yt = ours(tg.tensor(x)), theirs(torch.tensor(x))
    concrete = name[len("Lazy"):]
    assert type(ours) is getattr(nn, concrete) and type(theirs) is getattr(torch.nn, concrete)
    assert repr(ours) == repr(theirs)
    assert tuple(yo.shape) == tuple(yt.shape)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert all(type(p) is nn.Parameter and p.requires_grad for p in ours.parameters())
    # with PyTorch's parameters the lazy-built module computes PyTorch's numbers
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("lazy,concrete,shape", [
    (lambda: nn.LazyLinear(3), lambda: nn.Linear(4, 3), (2, 4)),
    (lambda: nn.LazyConv2d(4, 3, groups=2), lambda: nn.Conv2d(6, 4, 3, groups=2), (1, 6, 5, 5)),
    (lambda: nn.LazyConvTranspose2d(4, 3), lambda: nn.ConvTranspose2d(2, 4, 3), (1, 2, 5, 5)),
    (lambda: nn.LazyBatchNorm2d(), lambda: nn.BatchNorm2d(3), (2, 3, 2, 2)),
])
def test_initialised_as_the_concrete_class(lazy, concrete, shape):
    """Same seed, same draws: a lazy layer after its first call holds what the concrete constructor would have made."""
    tg.manual_seed(7)
    m = lazy()
    m(tg.zeros(shape))
    tg.manual_seed(7)
    ref = concrete()
    assert list(m.state_dict()) == list(ref.state_dict())
    for (k, a), b in zip(m.state_dict().items(), ref.state_dict().values()):
        if "running" not in k and "num_batches" not in k:    # the forward updated the running statistics
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_optimizer_built_before_the_first_call_updates_the_materialised_parameters():
    """PyTorch accepts it: the placeholders become the real parameters in place, so the optimizer's are the
    module's."""
    for lib in (tg, torch):
        lib.manual_seed(0)
        m = lib.nn.LazyLinear(3)
        placeholders = list(m.parameters())
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        m(lib.ones((2, 4))).sum().backward()
        assert all(a is b for a, b in zip(placeholders, m.parameters()))
        before = [p.detach().clone() for p in m.parameters()]
        opt.step()
        # d(sum(xW^T + b))/dW = number of rows (2) everywhere, and 2 for the bias: the step moves each by -0.2
        for p, b in zip(m.parameters(), before):
            np.testing.assert_allclose((p.detach() - b).numpy(), np.full(tuple(p.shape), -0.2), rtol=1e-5)


def test_uninitialized_placeholders_refuse_shape_questions():
    for lib in (tg, torch):
        m = lib.nn.LazyLinear(3)
        assert repr(m.weight) == "<UninitializedParameter>"
        with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
            m.weight.shape
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            sum(p.numel() for p in m.parameters())
        assert type(lib.nn.LazyBatchNorm2d().running_mean).__name__ == "UninitializedBuffer"


def test_bad_first_inputs_raise_as_in_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d, "
                                               r"but got input of size: .*\[4, 4\]"):
            lib.nn.LazyConv2d(3, 3)(lib.zeros((4, 4)))
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv2d(4, 1, groups=2)(lib.zeros((1, 3, 4, 4)))
        with pytest.raises(ValueError, match="groups must be a positive integer"):
            lib.nn.LazyConv2d(4, 1, groups=0)
        with pytest.raises(RuntimeError, match="divisible by 2"):
            lib.nn.LazyConv2d(3, 1, groups=2)(lib.zeros((1, 4, 4, 4)))


def test_load_state_dict_before_the_first_call_takes_the_checkpoints_shapes():
    for lib in (tg, torch):
        m = lib.nn.Sequential(lib.nn.LazyLinear(3), lib.nn.LazyBatchNorm1d())
        m.load_state_dict({"0.weight": lib.ones((3, 5)), "0.bias": lib.zeros(3), "1.weight": lib.ones(3),
                           "1.bias": lib.zeros(3), "1.running_mean": lib.zeros(3), "1.running_var": lib.ones(3),
                           "1.num_batches_tracked": lib.tensor(0)})
        m.eval()
        y = m(lib.ones((2, 5)))
        assert repr(m[0]) == "Linear(in_features=5, out_features=3, bias=True)"
        assert type(m[1]) is lib.nn.BatchNorm1d
        # PyTorch leaves a loaded lazy norm's num_features at 0 (its Linear does take in_features from the weight);
        # ours reads it off the loaded weight in both cases
        assert m[1].num_features == (3 if lib is tg else 0)
        np.testing.assert_allclose(y.detach().numpy(), np.full((2, 3), 5 / np.sqrt(1 + 1e-5)), rtol=1e-6)


def test_dtype_set_before_the_first_call_is_kept():
    for lib in (tg, torch):
        m = lib.nn.LazyConv2d(2, 1).double()
        m(lib.zeros((1, 3, 2, 2), dtype=lib.float64))
        assert str(m.weight.dtype).endswith("float64") and str(m.bias.dtype).endswith("float64")
        m = lib.nn.LazyLinear(2, dtype=lib.float64)
        m(lib.zeros((1, 3), dtype=lib.float64))
        assert str(m.weight.dtype).endswith("float64")


def _d2l_nets(lib):
    """d2l's NiN and a ResNet (chapters 8.3 and 8.6) shrunk: lazy convolutions, lazy batch norms, a residual
    block whose 1x1 convolution is lazy too."""
    n, F = lib.nn, lib.nn.functional

    class Residual(n.Module):
        def __init__(self, channels, use_1x1conv=False, strides=1):
            super().__init__()
            self.conv1 = n.LazyConv2d(channels, kernel_size=3, padding=1, stride=strides)
            self.conv2 = n.LazyConv2d(channels, kernel_size=3, padding=1)
            self.conv3 = n.LazyConv2d(channels, kernel_size=1, stride=strides) if use_1x1conv else None
            self.bn1, self.bn2 = n.LazyBatchNorm2d(), n.LazyBatchNorm2d()

        def forward(self, X):
            Y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(X)))))
            if self.conv3:
                X = self.conv3(X)
            Y += X
            return F.relu(Y)
    nin = n.Sequential(n.LazyConv2d(8, kernel_size=3, padding=1), n.ReLU(), n.LazyConv2d(8, kernel_size=1), n.ReLU(),
                       n.MaxPool2d(3, stride=2), n.Dropout(0.5), n.LazyConv2d(10, kernel_size=1),
                       n.AdaptiveAvgPool2d((1, 1)), n.Flatten())
    res = n.Sequential(n.LazyConv2d(8, kernel_size=7, stride=2, padding=3), n.LazyBatchNorm2d(), n.ReLU(),
                       n.MaxPool2d(kernel_size=3, stride=2, padding=1), Residual(8),
                       Residual(16, use_1x1conv=True, strides=2), n.AdaptiveAvgPool2d((1, 1)), n.Flatten(),
                       n.LazyLinear(10))
    return [(nin, (2, 1, 12, 12)), (res, (2, 1, 16, 16))]


def test_d2l_nin_and_resnet_from_lazy_layers():
    outs = {}
    for lib in (tg, torch):
        got = []
        for net, shape in _d2l_nets(lib):
            net(lib.zeros(shape))
            touched = []
            net.apply(_init_cnn(lib, touched))
            got.append((repr(net), {k: tuple(v.shape) for k, v in net.state_dict().items()}, touched,
                        tuple(net(lib.ones(shape)).shape)))
        outs[lib.__name__] = got
    assert outs["tinygrad_fer"] == outs["torch"]
