"""Base of the image datasets whose samples live in one uint8 array (CIFAR10, MNIST, FashionMNIST)."""
import numpy as np

from .dataset import Dataset
from ._util import wrap


class ArrayImageDataset(Dataset):
    """Subclasses set `data` (uint8 images, N first), `targets` (int labels) and implement `_images(idx)`
    giving channels-first images for an int (C, H, W) or an index array (N, C, H, W).

    A sample is (image, int label): the image is the transform's output, or without a transform a uint8
    Tensor (C, H, W) -- add ToTensor() for float32 in [0, 1]. The transform receives that Tensor (on the batched
    fast path a (N, C, H, W) one), never a bare array, which ToTensor would read as a NumPy image, channels
    last. With batched transforms (those in tinygrad_fer.data.transforms) the DataLoader gathers and transforms
    whole batches at once."""

    def __init__(self, root, train, transform, target_transform):
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        index = int(index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} is out of range for {type(self).__name__} of size {len(self)}")
        img = wrap(self._images(index))
        if self.transform is not None:
            img = self.transform(img)
        target = int(self.targets[index])
        if self.target_transform is not None:
            target = self.target_transform(target)
        return (wrap(img) if isinstance(img, np.ndarray) else img), target

    def _batch_getter(self):
        if not all(t is None or getattr(t, "batched", False) for t in (self.transform, self.target_transform)):
            return None

        def fetch(idx):
            img = wrap(self._images(idx))
            if self.transform is not None:
                img = self.transform(img)
            target = np.asarray(self.targets, dtype=np.int64)[idx]
            if self.target_transform is not None:
                target = self.target_transform(target)
            return [wrap(x) if isinstance(x, np.ndarray) else x for x in (img, target)]
        return fetch

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def __repr__(self):
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)
