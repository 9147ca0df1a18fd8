"""Data loading (torch.utils.data's names) plus image datasets and batch transforms (torchvision's).

    from tinygrad_fer.data import DataLoader, CIFAR10, transforms as T
    train = CIFAR10(root, train=True, transform=T.Compose([T.ToTensor(), T.Normalize(mean, std)]))
    for x, y in DataLoader(train, batch_size=128, shuffle=True, generator=0,
                           batch_transform=T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()])):
        ...

`tinygrad_fer.utils.data` is the same package under PyTorch's path.
"""
from . import transforms
from .cifar import CIFAR10, CIFAR100
from .collate import default_collate, default_convert
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
                      random_split)
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .loader import DataLoader
from .mnist import MNIST, FashionMNIST
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
from .workers import get_worker_info

__all__ = ["BatchSampler", "DistributedSampler",
           "CIFAR10", "CIFAR100", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "IterableDataset", "MNIST", "RandomSampler",
           "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
           "WeightedRandomSampler", "default_collate", "default_convert", "get_worker_info", "random_split",
           "transforms"]
