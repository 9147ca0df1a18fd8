"""Geometric image transforms (torchvision's): Resize, CenterCrop, Pad, RandomResizedCrop, RandomRotation,
RandomAffine, and their functional forms.

A PIL image goes through the Pillow call torchvision defines each transform as (img.resize, img.crop,
ImageOps.expand, img.rotate, img.transform with an inverse affine matrix), so results are Pillow's pixels. A
Tensor or a NumPy array is channels first, (C, H, W) or a batch (..., C, H, W) that shares one set of random
parameters, as torchvision's tensor inputs do; crops and pads are slicing, and resampling (resize, rotate,
affine) runs Pillow's same filters plane by plane (uint8 planes as 8-bit images, other dtypes as 32-bit float),
so a Tensor gives the PIL image's pixels -- torchvision's own tensor kernels agree with Pillow closely, not
bit for bit (antialiased bilinear/bicubic resize matches torch's interpolate(antialias=True) to ~1e-5). As in
torchvision, a Tensor resized with NEAREST / NEAREST_EXACT, or with antialias=False, goes through
interpolate instead (floor-indexed nearest, unlike Pillow's centre-indexed one).
"""
import math
import numbers

import numpy as np

from ._image import (InterpolationMode, RandomSource, array_of, channel_fills, interpolation_mode, kind, like,
                     per_plane, pil_fill, pil_filter, sequence_pair, size_hw)
from ._util import xp_of


def _size_arg(size, name="size"):
    if isinstance(size, numbers.Integral):
        return [int(size)]
    if isinstance(size, (list, tuple)) and len(size) in (1, 2) and all(isinstance(s, numbers.Integral) for s in size):
        return [int(s) for s in size]
    raise TypeError(f"{name} should be an int or a sequence of one or two ints, got {size!r}")


def resized_size(h, w, size, max_size=None):
    """torchvision's output size: (h, w) as given, or for one number the shorter edge set to it and the longer
    one scaled (truncated), then capped by max_size."""
    if len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
        return size[0], size[1]
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size[0], int(size[0] * long / short)
    if max_size is not None:
        if max_size <= size[0]:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                             f"smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    size = _size_arg(size)
    h, w = size_hw(img)
    oh, ow = resized_size(h, w, size, max_size)
    if (oh, ow) == (h, w):
        return img
    interpolation = interpolation_mode(interpolation)
    if kind(img, "resize") == "pil":
        return img.resize((ow, oh), pil_filter(interpolation, "resize"))
    a = array_of(img)
    if interpolation in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT) or (
            not antialias and interpolation in (InterpolationMode.BILINEAR, InterpolationMode.BICUBIC)):
        return like(img, _interpolate(a, oh, ow, interpolation.value))
    mode = pil_filter(interpolation, "resize")
    return like(img, per_plane(a, lambda im, c: im.resize((ow, oh), mode)))


def _interpolate(a, oh, ow, mode):
    """torchvision's tensor resize without antialiasing: F.interpolate on the planes in float (float32 for
    integer images), integers rounded and clamped back."""
    from .. import nn
    from ._util import wrap
    xp = xp_of(a)
    f = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    planes = wrap(xp.ascontiguousarray(a.reshape((-1, 1) + a.shape[-2:]), dtype=f))
    out = nn.functional.interpolate(planes, size=(oh, ow), mode=mode,
                                    align_corners=False if mode in ("bilinear", "bicubic") else None)._array
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        out = xp.clip(xp.round(out), info.min, info.max)
    return out.reshape(a.shape[:-2] + (oh, ow)).astype(a.dtype)


def crop(img, top, left, height, width):
    """The (height, width) window at (top, left); parts outside the image are zeros, as torchvision's."""
    if kind(img, "crop") == "pil":
        return img.crop((left, top, left + width, top + height))
    a = array_of(img)
    h, w = a.shape[-2:]
    pads = (max(-left, 0), max(-top, 0), max(left + width - w, 0), max(top + height - h, 0))
    if any(pads):
        a = _pad_array(a, pads, 0, "constant")
        top, left = top + pads[1], left + pads[0]
    return like(img, a[..., top:top + height, left:left + width].copy())


def center_crop(img, output_size):
    s = _size_arg(output_size, "output_size")
    th, tw = (s[0], s[0]) if len(s) == 1 else s
    h, w = size_hw(img)
    if th > h or tw > w:
        img = pad(img, [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                        (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0], fill=0)
        h, w = size_hw(img)
        if (th, tw) == (h, w):
            return img
    return crop(img, int(round((h - th) / 2.0)), int(round((w - tw) / 2.0)), th, tw)


def _padding_ltrb(padding):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * 4
    if not isinstance(padding, (list, tuple)) or len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding) if isinstance(padding, (list, tuple)) else type(padding).__name__} "
                         f"element tuple")
    p = [int(x) for x in padding]
    return tuple(p * 4 if len(p) == 1 else (p[0], p[1], p[0], p[1]) if len(p) == 2 else p)


_NP_PAD = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}


def _pad_array(a, ltrb, fill, mode):
    xp = xp_of(a)
    left, top, right, bottom = ltrb
    widths = [(0, 0)] * (a.ndim - 2) + [(top, bottom), (left, right)]
    if mode != "constant":
        return xp.pad(a, widths, mode=_NP_PAD[mode])
    fills = channel_fills(fill, 1 if a.ndim == 2 else a.shape[-3])
    if len(set(fills)) == 1:
        return xp.pad(a, widths, mode="constant", constant_values=fills[0])
    out = xp.pad(a, widths, mode="constant")
    h, w = a.shape[-2:]
    mask = xp.ones(out.shape[-2:], dtype=bool)
    mask[top:top + h, left:left + w] = False
    for c, f in enumerate(fills):
        out[..., c, :, :][..., mask] = f
    return out


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pad by padding ((left, top, right, bottom), (left/right, top/bottom) or one number); negative values crop."""
    if padding_mode not in _NP_PAD:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _padding_ltrb(padding)
    h, w = size_hw(img)
    if min(left, top, right, bottom) < 0:   # a negative side is a crop of that side
        img = crop(img, max(-top, 0), max(-left, 0), h - max(-top, 0) - max(-bottom, 0),
                   w - max(-left, 0) - max(-right, 0))
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if not (left or top or right or bottom):
        return img
    if kind(img, "pad") == "pil":
        from PIL import Image, ImageOps
        if padding_mode == "constant":
            palette = img.getpalette() if img.mode == "P" else None
            out = ImageOps.expand(img, border=(left, top, right, bottom), fill=pil_fill(fill, img))
            if palette is not None:
                out.putpalette(palette)
            return out
        a = np.asarray(img)
        widths = [(top, bottom), (left, right)] + [(0, 0)] * (a.ndim - 2)
        out = Image.fromarray(np.pad(a, widths, mode=_NP_PAD[padding_mode]))
        if img.mode == "P":
            out.putpalette(img.getpalette())
        return out
    return like(img, _pad_array(array_of(img), (left, top, right, bottom), fill, padding_mode))


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotate counter-clockwise by angle degrees about center (default: the image centre), Pillow's img.rotate."""
    mode = pil_filter(interpolation, "rotate")
    center = None if center is None else tuple(center)
    if kind(img, "rotate") == "pil":
        return img.rotate(angle, mode, expand, center, fillcolor=pil_fill(fill, img))
    a = array_of(img)
    fills = channel_fills(fill, 1 if a.ndim == 2 else a.shape[-3])
    return like(img, per_plane(a, lambda im, c: im.rotate(angle, mode, expand, center, fillcolor=fills[c])))


def inverse_affine_matrix(center, angle, translate, scale, shear):
    """The 6 coefficients of the output -> input map of rotation by angle (clockwise), shear (x, y degrees) and
    scale about center, then translation -- the matrix Pillow's Image.transform(AFFINE) takes."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    # the forward map's determinant is 1 before scaling, so its inverse is the adjugate divided by scale
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    shear = [float(s) for s in shear] + [0.0] * (2 - len(shear))
    if len(translate) != 2:
        raise ValueError(f"Argument translate should be a sequence of length 2, got {translate!r}")
    if scale <= 0:
        raise ValueError("Argument scale should be positive")
    h, w = size_hw(img)
    center = [w * 0.5, h * 0.5] if center is None else list(center)
    matrix = inverse_affine_matrix(center, angle, translate, scale, shear)
    mode = pil_filter(interpolation, "affine")
    from PIL import Image
    if kind(img, "affine") == "pil":
        return img.transform(img.size, Image.AFFINE, matrix, mode, fillcolor=pil_fill(fill, img))
    a = array_of(img)
    fills = channel_fills(fill, 1 if a.ndim == 2 else a.shape[-3])
    return like(img, per_plane(a, lambda im, c: im.transform(im.size, Image.AFFINE, matrix, mode,
                                                             fillcolor=fills[c])))


class _ImageTransform:
    batched = False

    def __repr__(self):
        return f"{type(self).__name__}()"


class Resize(_ImageTransform):
    """Resize to size ((h, w), or one number for the shorter edge keeping the aspect ratio)."""
    batched = True

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        self.size = _size_arg(size)
        self.interpolation = interpolation_mode(interpolation)
        self.max_size, self.antialias = max_size, antialias

    def __call__(self, img):
        return resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"Resize(size={self.size if len(self.size) == 2 else self.size[0]}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(_ImageTransform):
    """Crop the centre (padding with zeros first when the image is smaller than size)."""
    batched = True

    def __init__(self, size):
        s = _size_arg(size)
        self.size = (s[0], s[0]) if len(s) == 1 else tuple(s)

    def __call__(self, img):
        return center_crop(img, list(self.size))

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class Pad(_ImageTransform):
    batched = True

    def __init__(self, padding, fill=0, padding_mode="constant"):
        _padding_ltrb(padding)
        if padding_mode not in _NP_PAD:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        return pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomResizedCrop(_ImageTransform):
    """Crop a random area (scale of the image's) of random aspect ratio, then resize it to size."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True, *, generator=None):
        s = _size_arg(size)
        self.size = (s[0], s[0]) if len(s) == 1 else tuple(s)
        if not isinstance(scale, (list, tuple)) or not isinstance(ratio, (list, tuple)):
            raise TypeError("Scale and ratio should be sequences")
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.interpolation, self.antialias = interpolation_mode(interpolation), antialias
        self._random = RandomSource(generator)

    @staticmethod
    def get_params(img, scale, ratio, generator=None):
        """(top, left, height, width) of a random crop, torchvision's 10 tries then the central fallback."""
        rng = generator if isinstance(generator, np.random.Generator) else RandomSource(generator).rng
        height, width = size_hw(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * rng.uniform(scale[0], scale[1])
            aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1)), h, w
        in_ratio = width / height
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img):
        top, left, h, w = self.get_params(img, self.scale, self.ratio, self._random.rng)
        return resize(crop(img, top, left, h, w), list(self.size), self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (f"RandomResizedCrop(size={self.size}, scale={self.scale}, ratio={self.ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


def _check_fill(fill):
    if fill is None:
        return 0
    if not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


class RandomRotation(_ImageTransform):
    """Rotate by an angle drawn uniformly from degrees ((-d, d) for a number d)."""

    def __init__(self, degrees, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=0, *,
                 generator=None):
        self.degrees = sequence_pair(degrees, "degrees", center_zero=True)
        self.interpolation, self.expand = interpolation_mode(interpolation), expand
        if center is not None and len(center) != 2:
            raise ValueError("If center is a sequence, it must be of len 2.")
        self.center, self.fill = center, _check_fill(fill)
        self._random = RandomSource(generator)

    def __call__(self, img):
        angle = float(self._random.rng.uniform(self.degrees[0], self.degrees[1]))
        return rotate(img, angle, self.interpolation, self.expand, self.center, self.fill)

    def __repr__(self):
        return (f"RandomRotation(degrees={list(self.degrees)}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}, fill={self.fill})")


class RandomAffine(_ImageTransform):
    """Random rotation (degrees), translation (fractions of width/height), scale and shear, as one affine map."""

    def __init__(self, degrees, translate=None, scale=None, shear=None, interpolation=InterpolationMode.NEAREST,
                 fill=0, center=None, *, generator=None):
        self.degrees = sequence_pair(degrees, "degrees", center_zero=True)
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of length 2 with values between 0 and 1")
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        if shear is not None:
            if isinstance(shear, numbers.Number):
                shear = sequence_pair(shear, "shear", center_zero=True)
            elif len(shear) not in (2, 4):
                raise ValueError("shear should be a sequence of length 2 or 4.")
            shear = tuple(float(s) for s in shear)
        self.translate, self.scale, self.shear = translate, scale, shear
        self.interpolation, self.fill, self.center = interpolation_mode(interpolation), _check_fill(fill), center
        self._random = RandomSource(generator)

    @staticmethod
    def get_params(degrees, translate, scale_ranges, shears, img_size, generator=None):
        """(angle, (tx, ty), scale, (shear_x, shear_y)) drawn in torchvision's order; img_size is (W, H)."""
        rng = generator if isinstance(generator, np.random.Generator) else RandomSource(generator).rng
        angle = float(rng.uniform(degrees[0], degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx, ty = int(round(rng.uniform(-max_dx, max_dx))), int(round(rng.uniform(-max_dy, max_dy)))
        else:
            tx, ty = 0, 0
        scale = float(rng.uniform(scale_ranges[0], scale_ranges[1])) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = float(rng.uniform(shears[0], shears[1]))
            if len(shears) == 4:
                shear_y = float(rng.uniform(shears[2], shears[3]))
        return angle, (tx, ty), scale, (shear_x, shear_y)

    def __call__(self, img):
        h, w = size_hw(img)
        angle, translate, scale, shear = self.get_params(self.degrees, self.translate, self.scale, self.shear,
                                                         (w, h), self._random.rng)
        return affine(img, angle, translate, scale, shear, self.interpolation, self.fill, self.center)

    def __repr__(self):
        return (f"RandomAffine(degrees={list(self.degrees)}, translate={self.translate}, scale={self.scale}, "
                f"shear={self.shear}, interpolation={self.interpolation.value}, fill={self.fill})")
