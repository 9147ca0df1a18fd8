"""The benchmark models, built from the same code for tinygrad_fer and PyTorch (`lib` is either module)."""
import numpy as np


def fer_net(lib):
    """The FER lab's CIFAR net: conv16k5p2-ReLU-maxpool3/2-conv32k5p2-ReLU-maxpool3/2-fc256-fc128-fc10."""
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def copy_weights(src, dst):
    """Copy a PyTorch model's parameters into ours (same architecture, same parameter order)."""
    import tinygrad_fer as tg
    with tg.no_grad():
        for (_, p), (_, q) in zip(src.named_parameters(), dst.named_parameters()):
            q.copy_(tg.tensor(np.ascontiguousarray(p.detach().cpu().numpy())))


def resnet8(lib):
    """ResNet-8 for CIFAR: conv16, three stages of one basic block (16, 32, 64 channels; stride-2 3x3 convs and 1x1
    shortcuts where the shape changes), BatchNorm after every conv, global average pool, fc10."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.short = None
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            h = self.b2(self.c2(self.b1(self.c1(x)).relu()))
            return (h + (x if self.short is None else self.short(x))).relu()
    return nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
                         Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def vgg_small(lib):
    """A VGG-style stack: two 3x3 convs per stage at 32, 64, 128 channels, ReLU, 2x2 max-pool, fc10."""
    nn = lib.nn
    layers, cin = [], 3
    for c in (32, 64, 128):
        layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), nn.ReLU(),
                   nn.MaxPool2d(2)]
        cin = c
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))


def lenet(lib):
    """d2l's LeNet: 5x5 convs, sigmoid, 2x2 average pooling, on 28x28 one-channel images."""
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
                         nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


# name -> (builder, input shape of one example, optimizer: "adam" or "sgd" (momentum 0.9))
NETS = {"fer": (fer_net, (3, 32, 32), "sgd"), "resnet8": (resnet8, (3, 32, 32), "adam"),
        "vgg": (vgg_small, (3, 32, 32), "sgd"), "lenet": (lenet, (1, 28, 28), "sgd"),
        "mlp": (mlp, (784,), "adam")}
