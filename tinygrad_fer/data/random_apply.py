"""torchvision's transforms that pick transforms at random: RandomApply, RandomChoice, RandomOrder, and
RandomGrayscale. Draws come from `generator` (or the global RNG that tinygrad_fer.manual_seed seeds) where
torchvision uses torch's and Python's global RNGs."""
import numpy as np

from ._image import RandomSource, num_channels
from .color import rgb_to_grayscale


class _RandomTransforms:
    batched = False

    def __init__(self, transforms, generator=None):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = list(transforms)
        self._random = RandomSource(generator)

    def __repr__(self):
        return f"{type(self).__name__}(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class RandomApply(_RandomTransforms):
    """All of transforms, in order, with probability p; otherwise the input unchanged."""

    def __init__(self, transforms, p=0.5, *, generator=None):
        super().__init__(transforms, generator)
        self.p = p

    def __call__(self, img):
        if self.p < self._random.rng.random():
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(_RandomTransforms):
    """One of transforms, picked with weights p (uniformly when None)."""

    def __init__(self, transforms, p=None, *, generator=None):
        super().__init__(transforms, generator)
        if p is not None and len(p) != len(self.transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(self.transforms)}")
        self.p = p

    def __call__(self, *args):
        rng = self._random.rng
        if self.p is None:
            k = int(rng.integers(0, len(self.transforms)))
        else:
            total = float(sum(self.p))
            # the first transform whose cumulative weight exceeds a uniform draw over the total
            cumulative = np.cumsum(np.asarray(self.p, dtype=np.float64))
            k = min(int((rng.random() * total >= cumulative).sum()), len(self.transforms) - 1)
        return self.transforms[k](*args)


class RandomOrder(_RandomTransforms):
    """All of transforms, in a random order."""

    def __call__(self, img):
        for k in self._random.rng.permutation(len(self.transforms)).tolist():
            img = self.transforms[k](img)
        return img


class RandomGrayscale:
    """Grayscale with probability p, keeping the channel count (3 grey channels for an RGB image)."""
    batched = False

    def __init__(self, p=0.1, *, generator=None):
        self.p = p
        self._random = RandomSource(generator)

    def __call__(self, img):
        if self._random.rng.random() < self.p:
            return rgb_to_grayscale(img, num_output_channels=num_channels(img))
        return img

    def __repr__(self):
        return f"RandomGrayscale(p={self.p})"
