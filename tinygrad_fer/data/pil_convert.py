"""Conversions between PIL images, NumPy arrays and Tensors, as torchvision's ToPILImage, PILToTensor and
ConvertImageDtype. Pillow is imported only when a PIL image is made or read."""
import numpy as np

from ._util import is_tensor, wrap, xp_of

_3_CHANNEL_MODES = ("RGB", "YCbCr", "HSV")
_4_CHANNEL_MODES = ("RGBA", "CMYK", "RGBX")


def _float_to_byte(a):
    # torch's float -> uint8 cast truncates toward zero and wraps modulo 256 on CPU (what tensor.byte() gives
    # for randn * 255 in torchvision's FakeData); through int64 NumPy does the same
    return np.trunc(a).astype(np.int64).astype(np.uint8)


def to_pil_image(pic, mode=None):
    """A PIL image from a Tensor / array (C, H, W) for Tensors, (H, W, C) for NumPy arrays, or (H, W).
    Floats are scaled by 255 and cast to uint8 unless mode is "F"; the mode follows the channel count and
    dtype (L, I;16, I, F for 1 channel; LA; RGB; RGBA) as torchvision's to_pil_image."""
    from PIL import Image
    if is_tensor(pic):
        a = pic._array
        a = a.get() if xp_of(a) is not np else a
        if a.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {a.ndim} dimensions.")
        if a.ndim == 2:
            a = a[None]
        if a.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {a.shape[-3]} channels.")
        if a.dtype.kind == "f" and mode != "F":
            a = _float_to_byte(a * 255)
        npimg = np.transpose(a, (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        npimg = pic[:, :, None] if pic.ndim == 2 else pic
        if npimg.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {npimg.shape[-1]} channels.")
        if npimg.dtype.kind == "f" and mode != "F":
            npimg = _float_to_byte(npimg * 255)
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be {expected}")
        mode = expected
    elif channels == 2:
        if mode is not None and mode != "LA":
            raise ValueError("Only modes ['LA'] are supported for 2D inputs")
        mode = "LA" if mode is None and npimg.dtype == np.uint8 else mode
    elif channels == 4:
        if mode is not None and mode not in _4_CHANNEL_MODES:
            raise ValueError(f"Only modes {list(_4_CHANNEL_MODES)} are supported for 4D inputs")
        mode = "RGBA" if mode is None and npimg.dtype == np.uint8 else mode
    else:
        if mode is not None and mode not in _3_CHANNEL_MODES:
            raise ValueError(f"Only modes {list(_3_CHANNEL_MODES)} are supported for 3D inputs")
        mode = "RGB" if mode is None and npimg.dtype == np.uint8 else mode
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    npimg = np.ascontiguousarray(npimg.view(np.uint16) if npimg.dtype == np.int16 else npimg)
    if mode in ("L", "I;16", "I", "F", "LA", "RGB", "RGBA"):
        return Image.fromarray(npimg)     # these are the modes Pillow infers from the dtype and channel count
    # the other uint8 layouts (YCbCr, HSV, CMYK, RGBX) are the same bytes under another name
    return Image.frombytes(mode, (npimg.shape[1], npimg.shape[0]), npimg.astype(np.uint8).tobytes())


def pil_to_tensor(pic):
    """The PIL image's pixels as a Tensor (C, H, W) of their own dtype, no scaling (torchvision's). 16-bit
    modes (I;16) come back as int32, values kept: the engine has no uint16 (torchvision gives uint16)."""
    from PIL import Image
    if not isinstance(pic, Image.Image):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    wide = {"I": np.int32, "F": np.float32, "I;16": np.int32, "I;16B": np.int32}
    a = np.array(pic, wide.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        a = a.astype(np.uint8) * 255
    a = a.reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return wrap(np.ascontiguousarray(a.transpose(2, 0, 1)))


class ToPILImage:
    batched = False

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return to_pil_image(pic, self.mode)

    def __repr__(self):
        return f"ToPILImage(mode={self.mode})" if self.mode is not None else "ToPILImage()"


class PILToTensor:
    batched = False

    def __call__(self, pic):
        return pil_to_tensor(pic)

    def __repr__(self):
        return "PILToTensor()"


def _max_value(dtype):
    return np.iinfo(dtype).max if dtype.kind in "iu" else 1.0


def convert_image_dtype(a, dtype):
    """torchvision's convert_image_dtype on a backend array: floats live in [0, 1], integers in [0, max];
    int -> float divides by max, float -> int multiplies by (max + 1 - eps) and truncates, int -> int
    shifts by the bit-width difference."""
    src, dst = a.dtype, np.dtype(dtype)
    if src == dst:
        return a
    if src.kind == "f":
        if dst.kind == "f":
            return a.astype(dst)
        if (src == np.float32 and dst in (np.int32, np.int64)) or (src == np.float64 and dst == np.int64):
            raise RuntimeError(f"The cast from {src} to {dst} cannot be performed safely.")
        eps = 1e-3
        return (a * (float(_max_value(dst)) + 1.0 - eps)).astype(dst)
    if dst.kind == "f":
        return a.astype(dst) / dst.type(_max_value(src))
    # integers: scale by powers of two between the ranges (bit shifts, as torchvision's integer path)
    in_max, out_max = int(_max_value(src)), int(_max_value(dst))
    if in_max > out_max:
        factor = (in_max + 1) // (out_max + 1)
        return (a // factor).astype(dst)
    factor = (out_max + 1) // (in_max + 1)
    return a.astype(dst) * dst.type(factor)


class ConvertImageDtype:
    """Convert a Tensor or array image to dtype (a tinygrad_fer dtype or a NumPy dtype), rescaling values."""
    batched = True

    def __init__(self, dtype):
        self.dtype = dtype

    def __call__(self, image):
        np_dtype = np.dtype(getattr(self.dtype, "np", self.dtype))
        if is_tensor(image):
            return wrap(convert_image_dtype(image._array, np_dtype))
        if isinstance(image, xp_of(image).ndarray):
            return convert_image_dtype(image, np_dtype)
        raise TypeError(f"img should be Tensor Image. Got {type(image)}")

    def __repr__(self):
        return f"ConvertImageDtype(dtype={self.dtype})"
