"""tinygrad_fer.models against the same architectures written in PyTorch, with the same weights copied over."""
import numpy as np
import pytest
import torch
import torch.nn as tnn

import tinygrad_fer as tg
from helpers import tol
from tinygrad_fer.models import BasicBlock, FERNet, ResNet, fer_net, resnet8


class TorchFERNet(tnn.Module):
    def __init__(self, in_channels=3, num_classes=10, side=7):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, 16, 5, padding=2)
        self.conv2 = tnn.Conv2d(16, 32, 5, padding=2)
        self.fc1 = tnn.Linear(32 * side * side, 256)
        self.fc2 = tnn.Linear(256, 128)
        self.fc3 = tnn.Linear(128, num_classes)

    def forward(self, x):
        pool, relu = tnn.functional.max_pool2d, torch.relu
        x = pool(relu(self.conv1(x)), 3, 2)
        x = pool(relu(self.conv2(x)), 3, 2).flatten(1)
        return self.fc3(relu(self.fc2(relu(self.fc1(x)))))


class TorchBlock(tnn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(cout)
        self.conv2 = tnn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride=stride, bias=False), tnn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.shortcut is None else self.shortcut(x)))


class TorchResNet(tnn.Module):
    def __init__(self, in_channels=3, num_classes=10, width=16):
        super().__init__()
        self.conv1 = tnn.Conv2d(in_channels, width, 3, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.layer1 = TorchBlock(width, width)
        self.layer2 = TorchBlock(width, 2 * width, stride=2)
        self.layer3 = TorchBlock(2 * width, 4 * width, stride=2)
        self.fc = tnn.Linear(4 * width, num_classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean(dim=(2, 3)))


def copy_into_torch(ours, theirs):
    """Our state_dict into theirs, by name: the key sets must match exactly (what a checkpoint relies on)."""
    state = {k: torch.from_numpy(np.array(v.detach().cpu().numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def assert_same(ours, theirs, x, train):
    ours.train(train)
    theirs.train(train)
    a = tg.tensor(x)
    out_a, out_b = ours(a), theirs(torch.tensor(x))
    assert tuple(out_a.shape) == tuple(out_b.shape)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), **tol(np.float32, 10))
    y = np.arange(len(x)) % out_b.shape[1]
    tg.nn.functional.cross_entropy(out_a, tg.tensor(y)).backward()
    torch.nn.functional.cross_entropy(out_b, torch.tensor(y)).backward()
    grads_b = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), grads_b[name].grad.numpy(), **tol(np.float32, 10),
                                   err_msg=name)


def test_fer_net_matches_torch():
    tg.manual_seed(0)
    model = FERNet()
    assert sum(p.numel() for p in model.parameters()) == 449_898     # docs chapter 5 works this out by hand
    theirs = TorchFERNet()
    copy_into_torch(model, theirs)
    x = np.random.default_rng(0).standard_normal((3, 3, 32, 32)).astype(np.float32)
    assert_same(model, theirs, x, train=True)


def test_fer_net_other_input_sizes():
    # FER2013 is 48x48 grayscale with 7 classes: 48 -> 23 -> 11 after the two poolings
    model = fer_net(in_channels=1, num_classes=7, image_size=48)
    assert isinstance(model, FERNet) and model.fc1.in_features == 32 * 11 * 11
    theirs = TorchFERNet(1, 7, side=11)
    copy_into_torch(model, theirs)
    x = np.random.default_rng(1).standard_normal((2, 1, 48, 48)).astype(np.float32)
    assert_same(model, theirs, x, train=False)
    with pytest.raises(ValueError, match="image_size 6"):
        FERNet(image_size=6)


@pytest.mark.parametrize("train", [True, False])
def test_resnet_matches_torch(train):
    tg.manual_seed(0)
    model = resnet8()
    assert isinstance(model, ResNet) and isinstance(model.layer2, BasicBlock)
    assert sum(p.numel() for p in model.parameters()) == 78_042      # docs chapter 6 prints it
    theirs = TorchResNet()
    if not train:   # eval mode reads the running statistics: make them something other than the initial 0 / 1
        rng = np.random.default_rng(2)
        for name, buf in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buf.copy_(tg.tensor(rng.uniform(0.5, 1.5, buf.shape).astype(np.float32)))
    copy_into_torch(model, theirs)
    x = np.random.default_rng(3).standard_normal((4, 3, 32, 32)).astype(np.float32)
    assert_same(model, theirs, x, train=train)
    if train:   # the running statistics move the same way
        ours_bn = dict(model.named_buffers())
        for name, buf in theirs.named_buffers():
            if name.endswith("running_var"):
                np.testing.assert_allclose(ours_bn[name].numpy(), buf.numpy(), **tol(np.float32, 10), err_msg=name)


def test_resnet_width_and_classes():
    model = ResNet(in_channels=1, num_classes=7, width=8)
    assert model.fc.in_features == 32 and model.fc.out_features == 7 and model.conv1.in_channels == 1
    out = model(tg.zeros(2, 1, 32, 32))
    assert tuple(out.shape) == (2, 7)
