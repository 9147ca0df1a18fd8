"""What the PIL-aware transforms share: telling PIL images, Tensors and arrays apart, InterpolationMode,
fill values, and running a Pillow operation plane by plane over a channels-first array."""
import enum
import numbers
import sys

import numpy as np

from ._util import as_generator, is_tensor, rng_or_global, wrap, xp_of


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's resampling filter numbers (Image.Resampling), fixed by Pillow's API
_PIL_FILTERS = {InterpolationMode.NEAREST: 0, InterpolationMode.LANCZOS: 1, InterpolationMode.BILINEAR: 2,
                InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5}
_FROM_INT = {v: k for k, v in _PIL_FILTERS.items()}


def interpolation_mode(value):
    """An InterpolationMode from a mode, its string value, or a Pillow filter number (torchvision's legacy ints)."""
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, numbers.Integral) and int(value) in _FROM_INT:
        return _FROM_INT[int(value)]
    try:
        return InterpolationMode(value)
    except ValueError:
        raise TypeError(f"Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        f"constant, got {value!r}") from None


def pil_filter(mode, what):
    mode = interpolation_mode(mode)
    if mode not in _PIL_FILTERS:
        raise ValueError(f"{what}: interpolation {mode.value} is not supported for PIL images")
    return _PIL_FILTERS[mode]


def is_pil(img):
    module = sys.modules.get("PIL.Image")
    return module is not None and isinstance(img, module.Image)


def kind(img, name):
    """'pil', 'tensor' or 'array' (a numpy/cupy array, channels first like a Tensor); TypeError otherwise."""
    if is_pil(img):
        return "pil"
    if is_tensor(img):
        return "tensor"
    if isinstance(img, (np.ndarray, xp_of(img).ndarray)):
        return "array"
    raise TypeError(f"{name}: img should be PIL Image or Tensor. Got {type(img)}")


def size_hw(img):
    """(height, width) of a PIL image or a channels-first array/Tensor."""
    if is_pil(img):
        return img.size[1], img.size[0]
    shape = tuple(img.shape)
    if len(shape) < 2:
        raise TypeError(f"Unexpected input type or shape: an image needs at least 2 dimensions, got {shape}")
    return shape[-2], shape[-1]


def num_channels(img):
    if is_pil(img):
        return len(img.getbands())
    return 1 if img.ndim == 2 else img.shape[-3]


def array_of(img):
    return img._array if is_tensor(img) else img


def like(img, a):
    """a (a backend array) returned as the kind img is: a Tensor for a Tensor, an array for an array."""
    return wrap(a) if is_tensor(img) else a


def pil_fill(fill, img, name="fill"):
    """A Pillow fill value for img: a number repeated over its bands, or a sequence with one value per band."""
    fill = 0 if fill is None else fill
    bands = len(img.getbands())
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * bands
        if len(fill) != bands:
            raise ValueError(f"The number of elements in '{name}' does not match the number of bands of the image "
                             f"({len(fill)} != {bands})")
        fill = tuple(fill)
    elif not isinstance(fill, numbers.Number):
        raise TypeError(f"{name} should be int or float or a tuple or list of them, got {type(fill).__name__}")
    if img.mode != "F":
        fill = tuple(int(f) for f in fill) if isinstance(fill, tuple) else int(fill)
    return fill[0] if isinstance(fill, tuple) and bands == 1 else fill


def channel_fills(fill, channels):
    """One fill value per channel for the array path."""
    fill = 0 if fill is None else fill
    values = list(fill) if isinstance(fill, (list, tuple)) else [fill]
    if len(values) == 1:
        values = values * channels
    if len(values) != channels:
        raise ValueError(f"The number of elements in 'fill' does not match the number of channels of the image "
                         f"({len(values)} != {channels})")
    return values


def per_plane(a, fn):
    """fn(PIL plane, channel index) -> PIL plane, applied to each (H, W) plane of a channels-first array
    (..., C, H, W) or (H, W): uint8 planes as 8-bit Pillow images, all others as 32-bit float ones, so a Tensor
    goes through Pillow's own resampling and gives the pixels a PIL image would. Integers are rounded back."""
    from PIL import Image
    xp = xp_of(a)
    host = a.get() if xp is not np else np.asarray(a)
    lead = host.shape[:-2]
    channels = lead[-1] if lead else 1
    planes = host.reshape((-1,) + host.shape[-2:])
    out = []
    for k, plane in enumerate(planes):
        im = Image.fromarray(np.ascontiguousarray(plane if plane.dtype == np.uint8 else plane.astype(np.float32)))
        out.append(np.asarray(fn(im, k % channels)))
    res = np.stack(out).reshape(lead + out[0].shape)
    if host.dtype.kind in "iub" and res.dtype != host.dtype:
        info = np.iinfo(host.dtype) if host.dtype.kind != "b" else None
        res = np.round(res) if info is None else np.clip(np.round(res), info.min, info.max)
    res = res.astype(host.dtype)
    return xp.asarray(res) if xp is not np else res


class RandomSource:
    """A `generator` argument (int seed, numpy Generator, tinygrad_fer.Generator, or None: the global RNG that
    tinygrad_fer.manual_seed seeds) turned into a numpy Generator at each draw."""

    def __init__(self, generator):
        self.generator = generator
        self._rng = as_generator(generator)

    @property
    def rng(self):
        return rng_or_global(self._rng)


def sequence_pair(value, name, center_zero=False, nonneg=True):
    """(lo, hi) from a number (as (-v, v) when center_zero, else (v, v)) or a 2-sequence."""
    if isinstance(value, numbers.Number):
        if center_zero:
            if nonneg and value < 0:
                raise ValueError(f"If {name} is a single number, it must be positive.")
            return -float(value), float(value)
        return float(value), float(value)
    value = [float(v) for v in value]
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return value[0], value[1]
