"""The image datasets under torchvision.datasets' module path."""
from .cifar import CIFAR10
from .mnist import MNIST, FashionMNIST

__all__ = ["CIFAR10", "FashionMNIST", "MNIST"]
