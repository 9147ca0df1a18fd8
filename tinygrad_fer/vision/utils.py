"""torchvision.utils' make_grid and save_image: tile a batch of images into one, and write it as a PNG (or any
format Pillow knows). Images are float in [0, 1], channels first, as torchvision expects."""
import math
import os

import numpy as np

from .._atomic import atomic_write
from ..tensor import Tensor


def _as_batch(tensor):
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
        xp = tensor[0]._be.xp
        a = xp.stack([t._array for t in tensor])
    elif isinstance(tensor, Tensor):
        a = tensor._array
        xp = tensor._be.xp
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid expects a 2-D, 3-D or 4-D tensor (or a list of 3-D ones), got {a.ndim}-D")
    if a.shape[1] == 1:   # grey images become RGB, so the grid is always saveable as colour
        a = xp.concatenate([a, a, a], 1)
    return a, xp


def _normalize(a, value_range):
    low, high = (float(a.min()), float(a.max())) if value_range is None else value_range
    a = a.clip(low, high)
    a -= a.dtype.type(low) if a.dtype.kind == "f" else low
    a /= max(high - low, 1e-5)
    return a


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """A (C, H', W') Tensor with the batch's images in rows of `nrow`, `padding` pixels of `pad_value` around
    each. normalize=True maps value_range (default: the data's min and max; per image with scale_each) to
    [0, 1]. One image comes back unpadded, as in torchvision."""
    a, xp = _as_batch(tensor)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        a = a.copy()
        if scale_each:
            for i in range(a.shape[0]):
                a[i] = _normalize(a[i], value_range)
        else:
            a = _normalize(a, value_range)
    if a.shape[0] == 1:
        return Tensor(a[0])
    n, c, h, w = a.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cell_h, cell_w = h + padding, w + padding
    grid = xp.full((c, rows * cell_h + padding, cols * cell_w + padding), pad_value, dtype=a.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        grid[:, y * cell_h + padding:(y + 1) * cell_h, x * cell_w + padding:(x + 1) * cell_w] = a[k]
    return Tensor(grid)


def _format_of(fp, format):
    if format is not None:
        return format
    from PIL import Image
    ext = os.path.splitext(os.fspath(fp))[1].lower()
    fmt = Image.registered_extensions().get(ext)
    if fmt is None:
        raise ValueError(f"unknown file extension: {ext}")
    return fmt


def save_image(tensor, fp, format=None, **kwargs):
    """make_grid(tensor, **kwargs) written as an 8-bit image: value * 255 rounded, clamped to [0, 255]. fp is a
    path (written atomically: a reader never sees half a file) or a binary file object (then give format)."""
    from PIL import Image  # Pillow only when an image is written
    grid = make_grid(tensor, **kwargs)._array
    be = tensor[0]._be if isinstance(tensor, (list, tuple)) else tensor._be
    g = be.to_numpy(grid)
    # torchvision's mul(255).add_(0.5).clamp_(0, 255) in the tensor's float type, then truncation to uint8
    g = np.clip(g * g.dtype.type(255) + g.dtype.type(0.5), 0, 255) if g.dtype.kind == "f" else np.clip(g, 0, 255)
    pixels = np.ascontiguousarray(g.transpose(1, 2, 0).astype(np.uint8))
    img = Image.fromarray(pixels[..., 0] if pixels.shape[2] == 1 else pixels)
    if isinstance(fp, (str, os.PathLike)):
        fmt = _format_of(fp, format)
        with atomic_write(fp) as f:
            img.save(f, format=fmt)
    else:
        img.save(fp, format=format)
