"""The image datasets under torchvision.datasets' module path."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import (IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader,  # noqa: F401
                     has_file_allowed_extension, pil_loader)
from .mnist import MNIST, FashionMNIST
from .vision_dataset import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "MNIST",
           "StandardTransform", "VisionDataset"]
