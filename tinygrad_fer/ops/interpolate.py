"""interpolate (nearest, nearest-exact, linear/bilinear/trilinear, bicubic, area; antialiased bilinear, bicubic
and lanczos, whose weights are in interpolate_aa.py), pixel_shuffle / pixel_unshuffle and channel_shuffle.
Resampling is separable: each spatial dim in turn is either gathered (nearest modes) or multiplied by an (in, out)
weight matrix whose columns hold the taps of PyTorch's kernels (the source-index and weight formulas of its upsample
kernels, computed in the input's precision as its CPU kernels do). Gathers and matrix products carry their own
gradients, so these need no rule of their own."""
import math

import numpy as np

from ..tensor import Tensor
from .index import index_select
from .interpolate_aa import FILTERS, antialias_weight_matrix
from .matmul import matmul

_LINEAR = {"linear": 3, "bilinear": 4, "trilinear": 5, "bicubic": 4}
_MODES = ("nearest", "nearest-exact", "area", *_LINEAR, "lanczos")


def _scale(in_size, out_size, align_corners, scale_factor, dt):
    """PyTorch's area_pixel_compute_scale: the source step per output step."""
    if align_corners:
        return dt((in_size - 1) / (out_size - 1)) if out_size > 1 else dt(0)
    if scale_factor is not None and scale_factor > 0:
        return dt(1.0 / scale_factor)
    return dt(in_size) / dt(out_size)


def _nearest_index(in_size, out_size, scale_factor, exact, dt, shortcuts):
    o = np.arange(out_size)
    if shortcuts and out_size == in_size:        # PyTorch's 2-D nearest kernel: sizes, not the scale, decide
        return o
    if shortcuts and out_size == 2 * in_size:
        return o >> 1
    s = _scale(in_size, out_size, False, scale_factor, dt)
    src = np.floor(((o.astype(dt) + dt(0.5)) if exact else o.astype(dt)) * s).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _cubic_weights(t, dt):
    a = dt(-0.75)
    c1 = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1            # noqa: E731  |x| <= 1
    c2 = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a      # noqa: E731  1 < |x| < 2
    return c2(t + 1), c1(t), c1(1 - t), c2(2 - t)


def _weight_matrix(mode, in_size, out_size, align_corners, scale_factor, dt):
    """(in, out): column o holds the weights output o takes from each input position."""
    w = np.zeros((in_size, out_size), dtype=dt)
    o = np.arange(out_size)
    if mode == "area":   # adaptive average pooling's windows
        for j in range(out_size):
            lo, hi = (j * in_size) // out_size, -((-(j + 1) * in_size) // out_size)
            w[lo:hi, j] = dt(1) / dt(hi - lo)
        return w
    s = _scale(in_size, out_size, align_corners, scale_factor, dt)
    src = o.astype(dt) * s if align_corners else (o.astype(dt) + dt(0.5)) * s - dt(0.5)
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        t = (src - i0.astype(dt)).astype(dt)
        for k, wk in zip(range(-1, 3), _cubic_weights(t, dt)):
            np.add.at(w, (np.clip(i0 + k, 0, in_size - 1), o), wk.astype(dt))
        return w
    src = np.maximum(src, dt(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    lam = np.clip(src - i0.astype(dt), 0, 1).astype(dt)
    i1 = i0 + (i0 < in_size - 1)
    np.add.at(w, (i0, o), (dt(1) - lam).astype(dt))
    np.add.at(w, (i1, o), lam)
    return w


def _along(x, dim, w):
    """x's dim contracted with the (in, out) matrix w."""
    moved = x.movedim(dim, -1)
    return matmul(moved, Tensor(x._be.xp.asarray(w))).movedim(-1, dim)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode not in _MODES and not antialias:   # with antialias, PyTorch's antialias check speaks first
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | "
                                  f"area | nearest-exact (got {mode})")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | "
                             "bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 f"format.")
            if not all(_is_int(v) for v in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(v) for v in size]}")
            out = [int(v) for v in size]
        else:
            out = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 f"scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out = [int(math.floor(n * s)) for n, s in zip(spatial, scales)]
        if recompute_scale_factor or mode == "area":   # the kernels then see only the output size
            scales = [None] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in FILTERS and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" and input.ndim == 4:   # lanczos exists only as an antialiased filter
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if mode in _LINEAR and input.ndim != _LINEAR[mode]:
        need = {3: "3D", 4: "4D", 5: "5D"}[_LINEAR[mode]]
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need} input")
    if input.ndim not in (3, 4, 5) or (mode == "lanczos" and input.ndim != 4):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if any(o <= 0 for o in out) or any(n <= 0 for n in spatial):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({spatial}) and output "
                           f"({out})")
    if antialias and out == spatial:
        return input.clone()    # PyTorch's antialiased kernels copy an unresized input, whatever its dtype
    if antialias and input.dtype.name == "float16":
        raise NotImplementedError('"compute_index_ranges_weights" not implemented for \'Half\'')
    if not input.is_floating_point():
        # PyTorch's kernels take floats and uint8 images only; ours gather uint8 exactly (nearest modes)
        kind = {"int64": "Long", "int32": "Int", "bool": "Bool", "uint8": "Byte", "int16": "Short",
                "int8": "Char"}.get(input.dtype.name, input.dtype.name)
        if input.dtype.name != "uint8":
            kernel = "compute_index_ranges_weights" if antialias else f"upsample_{mode}"
            raise NotImplementedError(f'"{kernel}" not implemented for \'{kind}\'')
        if mode not in ("nearest", "nearest-exact"):
            raise NotImplementedError(f"interpolate(mode='{mode}') of uint8 input is not implemented in "
                                      f"tinygrad_fer; convert to float first")
    dt = np.float64 if input._array.dtype == np.float64 else np.float32
    x = input
    for k in range(dim):
        d, n, o, s = 2 + k, spatial[k], out[k], scales[k]
        if mode in ("nearest", "nearest-exact"):
            idx = _nearest_index(n, o, s, mode == "nearest-exact", dt, mode == "nearest" and dim == 2)
            x = index_select(x, d, Tensor(x._be.xp.asarray(idx)))
        elif antialias and o != n:
            x = _along(x, d, antialias_weight_matrix(mode, n, o, _scale(n, o, align_corners, s, dt), dt))
        elif (antialias or mode in ("linear", "bilinear", "trilinear")) and o == n:
            continue   # PyTorch's linear kernels leave a dim of unchanged size as it is, whatever the scale says
        else:
            x = _along(x, d, _weight_matrix(mode, n, o, align_corners, s, x._array.dtype.type))
    return x if x is not input else input.clone()


# ---- pixel shuffle -------------------------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r): each group of r^2 channels becomes an r x r block."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    nb = len(b)
    x = input.reshape(*b, c // (r * r), r, r, h, w)
    order = list(range(nb)) + [nb, nb + 3, nb + 1, nb + 4, nb + 2]
    return x.permute(*order).reshape(*b, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W): the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *b, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    nb = len(b)
    x = input.reshape(*b, c, h // r, r, w // r, r)
    order = list(range(nb)) + [nb, nb + 2, nb + 4, nb + 1, nb + 3]
    return x.permute(*order).reshape(*b, c * r * r, h // r, w // r)


def channel_shuffle(input, groups):
    """(N, C, *) with C = g k: channel i k + j moves to j g + i (the groups interleave)."""
    g = int(groups)
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with sizes "
                           f"{list(input.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{g}")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {g} groups.")
    return input.reshape(n, g, c // g, *rest).transpose(1, 2).reshape(n, c, *rest)


__all__ = ["interpolate", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]
