"""Image transforms as whole-array ops on one image (C, H, W) or a batch (N, C, H, W).

Written against the array's own module (numpy or cupy: `xp`), so a batch already on the GPU is transformed
there. A transform takes a backend array or a Tensor and returns the same kind (a Tensor result is a new,
grad-less leaf: augmentation is not differentiated). Random transforms draw per-sample parameters for a batch
in one vectorised call from `generator` (int seed, numpy Generator, tinygrad_fer.Generator, or None for the
global RNG that tinygrad_fer.manual_seed seeds), so runs are reproducible. ToTensor alone reads an array as a
NumPy image, channels last, as torchvision does; everything else here takes arrays and Tensors channels first.

All transforms here are `batched`: a dataset whose transform is batched is served by the DataLoader fast path
(one transform call per batch); any other callable is applied sample by sample. Use them per dataset
(`CIFAR10(root, transform=Compose([ToTensor(), Normalize(mean, std)]))`) or after collation
(`DataLoader(..., batch_transform=RandomCrop(32, padding=4))`).
"""
import numbers
import sys

import numpy as np

from .. import dtypes
from ._util import as_generator, is_tensor, rng_or_global, wrap, xp_of


class Transform:
    batched = True

    def __call__(self, x):
        if is_tensor(x):
            return wrap(self.apply(x._array))
        return self.apply(x)

    def apply(self, a):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    @property
    def batched(self):
        return all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r}\n" for t in self.transforms) + ")"


class Lambda(Transform):
    """fn(x) -> y on whatever it is given (a Tensor, an array, a PIL image), as torchvision's Lambda, so
    `Lambda(lambda x: torch.flatten(x))` gets a Tensor. batched=True declares that fn handles (N, C, H, W)
    batches as well as (C, H, W)."""

    def __init__(self, fn, batched=False):
        if not callable(fn):
            raise TypeError(f"Argument lambd should be callable, got {type(fn).__name__}")
        self.fn, self.lambd, self.batched = fn, fn, batched

    def __call__(self, x):
        return self.fn(x)

    def apply(self, a):
        return self.fn(a)


def _pil_image_type():
    # PIL is optional: an object can only be a PIL image if PIL.Image was imported already
    module = sys.modules.get("PIL.Image")
    return getattr(module, "Image", None)


def _to_float(a, xp):
    # torchvision scales only uint8 (to the default float dtype); every other dtype keeps its type and values
    if a.dtype == np.uint8:
        float_dtype = np.dtype(dtypes.get_default_dtype().np)
        return xp.ascontiguousarray(a, dtype=float_dtype) / float_dtype.type(255)
    return xp.ascontiguousarray(a)


class ToTensor(Transform):
    """torchvision's ToTensor: a NumPy image (H, W) or (H, W, C), or a PIL image, to channels first (C, H, W);
    uint8 becomes the default float dtype (float32) divided by 255, other dtypes keep their type and values.
    An array is always read the way NumPy and PIL lay images out, channels last, whatever its sizes (a 3-row
    image stays 3 rows); a 4-D array is a batch (N, H, W, C) -> (N, C, H, W), this library's extension.

    A Tensor is already channels first, as every Tensor image is (C, H, W) or (N, C, H, W), and the datasets
    hand their transforms Tensors: only its dtype is converted (torchvision's ToTensor refuses tensors).
    Arrays (numpy or cupy) come back as arrays, Tensors and PIL images as Tensors (as torchvision's, so
    `Lambda(lambda x: torch.flatten(x))` after it works on PIL datasets such as FakeData and ImageFolder)."""

    def __call__(self, pic):
        if is_tensor(pic):
            a = pic._array
            if a.ndim not in (2, 3, 4):
                raise ValueError(f"ToTensor expects a Tensor image (C, H, W), (H, W) or a batch (N, C, H, W), "
                                 f"got shape {tuple(a.shape)}")
            return wrap(_to_float(a[None] if a.ndim == 2 else a, xp_of(a)))
        pil = _pil_image_type()
        if pil is not None and isinstance(pic, pil):
            return wrap(self._from_pil(pic))
        if isinstance(pic, (np.ndarray, xp_of(pic).ndarray)):
            return self.apply(pic)
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")

    def apply(self, a):
        if a.ndim not in (2, 3, 4):
            raise ValueError(f"pic should be 2/3 dimensional (or a 4-dimensional batch (N, H, W, C)). "
                             f"Got {a.ndim} dimensions.")
        xp = xp_of(a)
        a = a[:, :, None] if a.ndim == 2 else a
        return _to_float(xp.moveaxis(a, -1, -3), xp)

    @staticmethod
    def _from_pil(pic):
        # integer and float modes keep their values; the 1-bit mode reads as 0/1 and is stretched to 0/255
        wide = {"I": np.int32, "F": np.float32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16}
        a = np.array(pic, wide.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            a *= 255
        a = a.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
        return _to_float(a.transpose(2, 0, 1), np)


def _check_image(a, name):
    if a.ndim not in (3, 4):
        raise ValueError(f"{name} expects an image (C, H, W) or a batch (N, C, H, W), got shape {tuple(a.shape)}")


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel, in the input's float dtype."""

    def __init__(self, mean, std, inplace=False):
        self.mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
        self.std = np.atleast_1d(np.asarray(std, dtype=np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"mean and std must be numbers or 1-D sequences, got {mean!r} and {std!r}")
        if (self.std == 0).any():
            raise ValueError(f"std evaluated to zero, leading to division by zero: std={std!r}")
        self.inplace = inplace

    def apply(self, a):
        _check_image(a, "Normalize")
        if a.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {a.dtype} (convert with ToTensor first).")
        c = a.shape[-3]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize: {name} has {len(v)} values but the input has {c} channels "
                                 f"(shape {tuple(a.shape)})")
        xp = xp_of(a)
        mean = xp.asarray(self.mean, dtype=a.dtype)[:, None, None]
        std = xp.asarray(self.std, dtype=a.dtype)[:, None, None]
        if self.inplace:
            a -= mean
            a /= std
            return a
        return (a - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"


def _pair(size, name):
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(int(s) for s in size)
    if len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"{name} must be an int or a sequence of 1 or 2 ints, got {size}")
    return size


def _padding(padding):
    """(left, top, right, bottom) from an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    p = tuple(int(x) for x in padding)
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return p[0], p[1], p[0], p[1]
    if len(p) == 4:
        return p
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element sequence, got {len(p)} elements: {padding}")


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


class RandomCrop(Transform):
    """Pad (optionally), then cut a size crop at an independent uniform offset per sample, as one gather."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant", generator=None):
        self.size = _pair(size, "size")
        self.padding = None if padding is None else _padding(padding)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PAD_MODES)}, got {padding_mode!r}")
        if not isinstance(fill, numbers.Number):
            raise TypeError(f"fill must be a number, got {type(fill).__name__}")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode
        self.generator = generator
        self._rng = as_generator(generator)

    def _pad(self, a, left, top, right, bottom):
        if not (left or top or right or bottom):
            return a
        xp = xp_of(a)
        if self.padding_mode == "constant":   # fill + one slice copy: several times faster than xp.pad
            h, w = a.shape[-2:]
            out = xp.full(a.shape[:-2] + (top + h + bottom, left + w + right), self.fill, dtype=a.dtype)
            out[..., top:top + h, left:left + w] = a
            return out
        widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
        return xp.pad(a, widths, mode=_PAD_MODES[self.padding_mode])

    def __call__(self, x):
        if _pil_image_type() is not None and isinstance(x, _pil_image_type()):
            return self._pil(x)
        return super().__call__(x)

    def _pil(self, img):
        # torchvision's PIL path: Pillow padding (F.pad), then one uniform offset and img.crop
        from .geometry import pad
        if self.padding is not None:
            img = pad(img, list(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        if self.pad_if_needed:
            dh, dw = max(th - img.size[1], 0), max(tw - img.size[0], 0)
            if dh or dw:
                img = pad(img, [dw, dh, dw, dh], self.fill, self.padding_mode)
        w, h = img.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = rng_or_global(self._rng)
        top, left = int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1))
        return img.crop((left, top, left + tw, top + th))

    def apply(self, a):
        _check_image(a, "RandomCrop")
        xp = xp_of(a)
        if self.padding is not None:
            a = self._pad(a, *self.padding)
        th, tw = self.size
        if self.pad_if_needed:   # torchvision pads both sides by the shortfall
            dh, dw = max(th - a.shape[-2], 0), max(tw - a.shape[-1], 0)
            a = self._pad(a, dw, dh, dw, dh)
        h, w = a.shape[-2:]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        batch = a if a.ndim == 4 else a[None]
        n, c = batch.shape[:2]
        rng = rng_or_global(self._rng)
        top = rng.integers(0, h - th + 1, size=n)
        left = rng.integers(0, w - tw + 1, size=n)
        windows = getattr(getattr(xp, "lib", None), "stride_tricks", None)
        if hasattr(windows, "sliding_window_view"):
            # a strided (N, C, h', w', th, tw) view of every crop; picking one per sample copies only the crops
            view = windows.sliding_window_view(batch, (th, tw), axis=(2, 3))
            out = view[xp.arange(n), :, xp.asarray(top), xp.asarray(left)]     # (N, C, th, tw)
        else:
            rows = xp.asarray(top[:, None] + np.arange(th))      # (N, th)
            cols = xp.asarray(left[:, None] + np.arange(tw))     # (N, tw)
            out = batch[xp.arange(n)[:, None, None, None], xp.arange(c)[None, :, None, None],
                        rows[:, None, :, None], cols[:, None, None, :]]
        return out if a.ndim == 4 else out[0]

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip(Transform):
    """Mirror each sample left-right with probability p (one draw per sample)."""
    _axis, _pil_transpose = -1, 0      # Image.Transpose.FLIP_LEFT_RIGHT

    def __init__(self, p=0.5, generator=None):
        if not 0 <= p <= 1:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        self.p, self.generator = p, generator
        self._rng = as_generator(generator)

    def __call__(self, x):
        if _pil_image_type() is not None and isinstance(x, _pil_image_type()):
            flip = rng_or_global(self._rng).random(1)[0] < self.p
            return x.transpose(self._pil_transpose) if flip else x
        return super().__call__(x)

    def apply(self, a):
        _check_image(a, type(self).__name__)
        xp = xp_of(a)
        n = a.shape[0] if a.ndim == 4 else 1
        flip = rng_or_global(self._rng).random(n) < self.p
        if a.ndim == 3:
            return xp.ascontiguousarray(xp.flip(a, self._axis)) if flip[0] else a
        out = a.copy()
        idx = xp.asarray(np.flatnonzero(flip))
        out[idx] = xp.flip(a[idx], self._axis)
        return out

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each sample top-bottom with probability p (one draw per sample)."""
    _axis, _pil_transpose = -2, 1      # Image.Transpose.FLIP_TOP_BOTTOM


# torchvision's PIL-aware transforms live beside this module; torchvision.transforms (this module under the
# compat runner) exports them all
from ._image import InterpolationMode  # noqa: E402
from .color import ColorJitter, GaussianBlur, Grayscale, RandomErasing  # noqa: E402
from .geometry import CenterCrop, Pad, RandomAffine, RandomResizedCrop, RandomRotation, Resize  # noqa: E402
from .pil_convert import ConvertImageDtype, PILToTensor, ToPILImage  # noqa: E402
from .random_apply import RandomApply, RandomChoice, RandomGrayscale, RandomOrder  # noqa: E402
