"""FakeData (torchvision's): random PIL images with random labels, the same for an index on every call."""
import numpy as np

from ._util import wrap
from .pil_convert import to_pil_image
from .vision_dataset import VisionDataset


class FakeData(VisionDataset):
    """size samples of (transform(PIL image of image_size (C, H, W)), label in [0, num_classes)).

    Sample i is drawn from a generator seeded with i + random_offset, without touching the global RNG, as
    torchvision does (its numbers come from torch.randn, so the pixels differ from torchvision's while following
    the same recipe: standard normal values, times 255, cast to uint8 with wrap-around). target_transform gets
    the label as a 0-d int64 Tensor and the sample holds its `.item()`, as in torchvision."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        image_size = tuple(int(s) for s in image_size)
        if len(image_size) != 3 or image_size[0] not in (1, 2, 3, 4):
            # a PIL image has 1-4 bands: (C, H, W) with C in 1..4
            raise ValueError(f"image_size must be (C, H, W) with 1 to 4 channels, got {image_size}")
        if int(num_classes) < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.image_size, self.num_classes = int(size), image_size, int(num_classes)
        self.random_offset = int(random_offset)

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        rng = np.random.default_rng(int(index) + self.random_offset)
        img = wrap(rng.standard_normal(self.image_size, dtype=np.float32))
        target = wrap(np.array(rng.integers(0, self.num_classes), dtype=np.int64))
        img = to_pil_image(img)
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target.item()
