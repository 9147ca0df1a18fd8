"""Ready-made networks (like torchvision.models), shared by the examples, the docs and the benchmarks:
`FERNet` / `fer_net()`, the FER lab's CIFAR-10 convnet, and `ResNet` / `resnet8()`, a small residual net for
32x32 images. Constructors take the architecture's options as keywords and return an untrained model."""
from .fer_net import FERNet, fer_net
from .resnet import BasicBlock, ResNet, resnet8

__all__ = ["BasicBlock", "FERNet", "ResNet", "fer_net", "resnet8"]
