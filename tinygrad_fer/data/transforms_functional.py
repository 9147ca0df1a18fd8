"""torchvision.transforms.functional: the functional forms of the transforms in transforms.py, with torchvision's
argument names and defaults. Only the forms whose transform class exists here; under the compat runner any other
name raises "torchvision.transforms.functional.<name> is not implemented in tinygrad_fer".

Each takes what its class takes (a PIL image, a Tensor (C, H, W) or (N, C, H, W), a backend array) and returns the
same kind. A Tensor result is a new grad-less leaf, as the transforms' are."""
import numbers

from .. import dtypes
from ._image import InterpolationMode, array_of, kind, like
from ._util import xp_of
from .color import adjust_brightness as _brightness, adjust_contrast as _contrast, adjust_hue as _hue
from .color import adjust_saturation as _saturation, gaussian_blur, rgb_to_grayscale  # noqa: F401
from .geometry import affine, center_crop, crop, pad, resize, rotate  # noqa: F401
from .pil_convert import pil_to_tensor, to_pil_image  # noqa: F401
from .transforms import ConvertImageDtype, Normalize, ToTensor


def to_tensor(pic):
    return ToTensor()(pic)


def normalize(tensor, mean, std, inplace=False):
    return Normalize(mean, std, inplace)(tensor)


def convert_image_dtype(image, dtype=dtypes.float32):
    return ConvertImageDtype(dtype)(image)


def _flip(img, name, pil_transpose, axis):
    if kind(img, name) == "pil":
        return img.transpose(pil_transpose)
    a = array_of(img)
    if a.ndim < 2:
        raise TypeError("Tensor is not a torch image.")
    return like(img, xp_of(a).flip(a, axis).copy())


def hflip(img):
    return _flip(img, "hflip", 0, -1)      # Image.Transpose.FLIP_LEFT_RIGHT


def vflip(img):
    return _flip(img, "vflip", 1, -2)      # Image.Transpose.FLIP_TOP_BOTTOM


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def to_grayscale(img, num_output_channels=1):
    return rgb_to_grayscale(img, num_output_channels)


def adjust_brightness(img, brightness_factor):
    return _brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    return _contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    return _saturation(img, saturation_factor)


def adjust_hue(img, hue_factor):
    return _hue(img, hue_factor)


def erase(img, i, j, h, w, v, inplace=False):
    """img[..., i:i+h, j:j+w] = v (broadcast), in img itself when inplace (RandomErasing's write)."""
    what = kind(img, "erase")
    if what == "pil":
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    if what == "tensor":   # torchvision's own steps: the write bumps the version counter, a clone is recorded
        if not inplace:
            img = img.clone()
        img[..., i:i + h, j:j + w] = v
        return img
    a = array_of(img)
    out = a if inplace else a.copy()
    out[..., i:i + h, j:j + w] = v if isinstance(v, numbers.Number) else array_of(v)
    return out


__all__ = ["to_tensor", "pil_to_tensor", "to_pil_image", "convert_image_dtype", "normalize", "resize", "crop",
           "center_crop", "resized_crop", "pad", "hflip", "vflip", "rotate", "affine", "rgb_to_grayscale",
           "to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "gaussian_blur", "erase", "InterpolationMode"]
