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
