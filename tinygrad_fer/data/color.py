"""Colour and pixel-value transforms (torchvision's): Grayscale, ColorJitter, GaussianBlur, RandomErasing.

PIL images go through the Pillow calls torchvision uses (Image.convert("L"), ImageEnhance, an HSV round trip
for hue); GaussianBlur on a PIL image is torchvision's tensor blur on its pixels, as torchvision does it.
Tensors and arrays (channels first, (..., C, H, W)) follow torchvision's tensor formulas: ITU-R 601 luma
0.2989 R + 0.587 G + 0.114 B, blends clamped to the dtype's range and cast back (truncating) to the dtype.
"""
import math
import numbers

import numpy as np

from ._image import RandomSource, array_of, kind, like
from ._util import xp_of
from .pil_convert import convert_image_dtype, pil_to_tensor, to_pil_image


def _float_dtype(a):
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)


def _bound(dtype):
    return 1.0 if dtype.kind == "f" else float(np.iinfo(dtype).max)


def _channels(a, allowed, name):
    c = 1 if a.ndim == 2 else a.shape[-3]
    if c not in allowed:
        raise TypeError(f"{name}: input image tensor permitted channel values are {list(allowed)}, but found {c}")
    return c


def _gray_array(a):
    """(..., 1, H, W) luma of an RGB array, in its dtype (integers truncated, as torchvision's .to(dtype))."""
    f = _float_dtype(a)
    r, g, b = (a[..., i, :, :].astype(f) for i in range(3))
    return (f.type(0.2989) * r + f.type(0.587) * g + f.type(0.114) * b).astype(a.dtype)[..., None, :, :]


def _blend(a, other, ratio):
    f = _float_dtype(a)
    out = f.type(ratio) * a.astype(f) + f.type(1.0 - ratio) * other.astype(f)
    return xp_of(a).clip(out, 0, _bound(a.dtype)).astype(a.dtype)


def rgb_to_grayscale(img, num_output_channels=1):
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if kind(img, "rgb_to_grayscale") == "pil":
        from PIL import Image
        gray = img.convert("L")
        return Image.merge("RGB", (gray, gray, gray)) if num_output_channels == 3 else gray
    a = array_of(img)
    c = _channels(a, (1, 3), "rgb_to_grayscale")
    out = _gray_array(a) if c == 3 else a.copy()
    if num_output_channels == 3:
        out = xp_of(a).concatenate([out] * 3, axis=-3)
    return like(img, out)


def adjust_brightness(img, factor):
    if factor < 0:
        raise ValueError(f"brightness_factor ({factor}) is not non-negative.")
    if kind(img, "adjust_brightness") == "pil":
        from PIL import ImageEnhance
        return ImageEnhance.Brightness(img).enhance(factor)
    a = array_of(img)
    _channels(a, (1, 3), "adjust_brightness")
    return like(img, _blend(a, xp_of(a).zeros_like(a), factor))


def adjust_contrast(img, factor):
    if factor < 0:
        raise ValueError(f"contrast_factor ({factor}) is not non-negative.")
    if kind(img, "adjust_contrast") == "pil":
        from PIL import ImageEnhance
        return ImageEnhance.Contrast(img).enhance(factor)
    a = array_of(img)
    c = _channels(a, (1, 3), "adjust_contrast")
    f = _float_dtype(a)
    gray = (_gray_array(a) if c == 3 else a).astype(f)
    mean = gray.mean(axis=(-3, -2, -1), keepdims=True, dtype=f)
    return like(img, _blend(a, mean, factor))


def adjust_saturation(img, factor):
    if factor < 0:
        raise ValueError(f"saturation_factor ({factor}) is not non-negative.")
    if kind(img, "adjust_saturation") == "pil":
        from PIL import ImageEnhance
        return ImageEnhance.Color(img).enhance(factor)
    a = array_of(img)
    if _channels(a, (1, 3), "adjust_saturation") == 1:
        return img
    return like(img, _blend(a, _gray_array(a), factor))


def _rgb_to_hsv(rgb, xp):
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    flat = maxc == minc      # grey pixels: hue and saturation are 0, not 0/0
    cr = maxc - minc
    s = cr / xp.where(flat, 1, maxc)
    div = xp.where(flat, 1, cr)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    h = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
         + ((maxc != g) & (maxc != r)) * (4.0 + gc - rc))
    h = xp.fmod(h / 6.0 + 1.0, 1.0)
    return h, s, maxc


def _hsv_to_rgb(h, s, v, xp):
    i = xp.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int64) % 6
    p = xp.clip(v * (1.0 - s), 0.0, 1.0)
    q = xp.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = xp.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = xp.zeros(h.shape[:-2] + (3,) + h.shape[-2:], dtype=h.dtype)
    for sector, channels in enumerate(table):
        mask = i == sector
        for c, values in enumerate(channels):
            out[..., c, :, :] = xp.where(mask, values, out[..., c, :, :])
    return out


def adjust_hue(img, factor):
    if not -0.5 <= factor <= 0.5:
        raise ValueError(f"hue_factor ({factor}) is not in [-0.5, 0.5].")
    if kind(img, "adjust_hue") == "pil":
        from PIL import Image
        if img.mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        shift = int(factor * 255) % 256    # numpy's uint8(factor * 255): truncated, wrapped for negatives
        h = Image.fromarray(((np.asarray(h).astype(np.int64) + shift) % 256).astype(np.uint8))
        return Image.merge("HSV", (h, s, v)).convert(img.mode)
    a = array_of(img)
    if _channels(a, (1, 3), "adjust_hue") == 1:
        return img
    xp = xp_of(a)
    f = convert_image_dtype(a, np.float32) if a.dtype.kind != "f" else a
    h, s, v = _rgb_to_hsv(f, xp)
    out = _hsv_to_rgb(xp.fmod(h + f.dtype.type(factor), 1.0) % 1.0, s, v, xp)
    return like(img, convert_image_dtype(out, a.dtype) if a.dtype.kind != "f" else out)


class Grayscale:
    batched = True

    def __init__(self, num_output_channels=1):
        self.num_output_channels = num_output_channels

    def __call__(self, img):
        return rgb_to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"Grayscale(num_output_channels={self.num_output_channels})"


def _jitter_range(value, name, center=1.0, bound=(0, float("inf")), clip_first_on_zero=True):
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            value[0] = max(value[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        value = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= value[0] <= value[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {value}.")
    return None if value[0] == value[1] == center else tuple(value)


class ColorJitter:
    """Brightness, contrast, saturation and hue factors drawn uniformly from their ranges, applied in a random
    order (torchvision's draw order: the permutation, then the four factors)."""
    batched = False

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0, *, generator=None):
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)
        self._random = RandomSource(generator)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue, generator=None):
        rng = generator if isinstance(generator, np.random.Generator) else RandomSource(generator).rng
        order = rng.permutation(4).tolist()
        factors = [None if r is None else float(rng.uniform(r[0], r[1]))
                   for r in (brightness, contrast, saturation, hue)]
        return (order, *factors)

    def __call__(self, img):
        order, *factors = self.get_params(self.brightness, self.contrast, self.saturation, self.hue,
                                          self._random.rng)
        adjust = (adjust_brightness, adjust_contrast, adjust_saturation, adjust_hue)
        for i in order:
            if factors[i] is not None:
                img = adjust[i](img, factors[i])
        return img

    def __repr__(self):
        return (f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


def gaussian_kernel1d(size, sigma):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma=None):
    """Blur with a Gaussian kernel (kernel_size = [kx, ky], width first, odd), reflect-padded edges."""
    if isinstance(kernel_size, numbers.Integral):
        kernel_size = [int(kernel_size)] * 2
    kernel_size = list(kernel_size) * (2 if len(kernel_size) == 1 else 1)
    if len(kernel_size) != 2 or any(k <= 0 or k % 2 == 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    sigma = [float(sigma)] * 2 if isinstance(sigma, numbers.Number) else [float(s) for s in sigma] * (
        2 if len(sigma) == 1 else 1)
    if len(sigma) != 2 or any(s <= 0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if kind(img, "gaussian_blur") == "pil":
        return to_pil_image(gaussian_blur(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)
    a = array_of(img)
    xp = xp_of(a)
    f = _float_dtype(a)
    kx, ky = kernel_size
    wx = gaussian_kernel1d(kx, sigma[0]).astype(f)
    wy = gaussian_kernel1d(ky, sigma[1]).astype(f)
    x = xp.pad(a.astype(f), [(0, 0)] * (a.ndim - 2) + [(ky // 2, ky // 2), (kx // 2, kx // 2)], mode="reflect")
    h, w = a.shape[-2:]
    rows = sum(wy[i] * x[..., i:i + h, :] for i in range(ky))
    out = sum(wx[j] * rows[..., :, j:j + w] for j in range(kx))
    if a.dtype.kind != "f":
        out = xp.round(out)
    return like(img, out.astype(a.dtype))


class GaussianBlur:
    """Gaussian blur with sigma drawn uniformly from sigma=(min, max) (or fixed, for one number)."""
    batched = False

    def __init__(self, kernel_size, sigma=(0.1, 2.0), *, generator=None):
        ks = [int(kernel_size)] * 2 if isinstance(kernel_size, numbers.Integral) else list(kernel_size)
        if len(ks) != 2:
            raise ValueError("Kernel size should be a tuple/list of two integers")
        if any(k <= 0 or k % 2 == 0 for k in ks):
            raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (float(sigma), float(sigma))
        elif isinstance(sigma, (list, tuple)) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.kernel_size, self.sigma = tuple(ks), tuple(sigma)
        self._random = RandomSource(generator)

    def __call__(self, img):
        s = float(self._random.rng.uniform(self.sigma[0], self.sigma[1]))
        return gaussian_blur(img, list(self.kernel_size), [s, s])

    def __repr__(self):
        return f"GaussianBlur(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomErasing:
    """With probability p, set a random rectangle (area a fraction in scale of the image's, aspect ratio in
    ratio) to value (a number, one per channel, or 'random' for standard normal noise). Tensors and arrays only."""
    batched = False

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False, *, generator=None):
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, (tuple, list)) or not isinstance(ratio, (tuple, list)):
            raise TypeError("Scale and ratio should be sequences")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p, self.scale, self.ratio, self.value, self.inplace = p, scale, ratio, value, inplace
        self._random = RandomSource(generator)

    @staticmethod
    def get_params(img, scale, ratio, value=None, generator=None):
        """(top, left, h, w, values): values an array (C, h, w) (or (C, 1, 1)); the whole image when 10 draws fail."""
        rng = generator if isinstance(generator, np.random.Generator) else RandomSource(generator).rng
        a = array_of(img)
        c, ih, iw = (1 if a.ndim == 2 else a.shape[-3]), a.shape[-2], a.shape[-1]
        area = ih * iw
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            erase_area = area * rng.uniform(scale[0], scale[1])
            aspect = math.exp(rng.uniform(log_ratio[0], log_ratio[1]))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < ih and w < iw):
                continue
            v = rng.standard_normal((c, h, w), dtype=np.float32) if value is None else \
                np.asarray(value, dtype=np.float32)[:, None, None]
            return int(rng.integers(0, ih - h + 1)), int(rng.integers(0, iw - w + 1)), h, w, v
        return 0, 0, ih, iw, a

    def __call__(self, img):
        if kind(img, "RandomErasing") == "pil":
            raise TypeError(f"img should be Tensor Image. Got {type(img)}")
        rng = self._random.rng
        if rng.random() >= self.p:
            return img
        a = array_of(img)
        c = 1 if a.ndim == 2 else a.shape[-3]
        value = None if isinstance(self.value, str) else (
            [float(self.value)] if isinstance(self.value, numbers.Number) else [float(v) for v in self.value])
        if value is not None and len(value) not in (1, c):
            raise ValueError(f"If value is a sequence, it should have either a single value or {c} (number of "
                             f"input channels)")
        top, left, h, w, v = self.get_params(img, self.scale, self.ratio, value, rng)
        out = a if self.inplace else a.copy()
        out[..., top:top + h, left:left + w] = xp_of(a).asarray(v).astype(a.dtype)
        return img if self.inplace else like(img, out)

    def __repr__(self):
        return (f"RandomErasing(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")
