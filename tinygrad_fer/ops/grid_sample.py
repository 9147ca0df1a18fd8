"""affine_grid and grid_sample (4-D input: bilinear, nearest, bicubic; 5-D input: trilinear, which PyTorch calls
'bilinear', and nearest; zeros, border, reflection padding), composed from differentiable ops: the sampling
coordinates are tensors (so the gradient reaches the grid through the interpolation weights, as PyTorch's does),
the integer corners they fall between are constants, and the values are gathers (whose gradient scatters back
into the input). The coordinate rules are PyTorch's grid_sampler ones."""
import itertools
import warnings

import numpy as np

from ..tensor import Tensor
from .elementwise import clamp, fmod, where
from .matmul import matmul

_DEFAULT = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
            "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
            "details.")


def _np(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)


# ---- affine_grid ---------------------------------------------------------------------------------
def _base(n, align_corners):
    if n <= 1:
        return np.zeros(max(n, 0))
    v = np.linspace(-1.0, 1.0, n)
    return v if align_corners else v * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, *spatial, k) of the affine maps theta (N, k, k + 1) over a grid of size."""
    if align_corners is None:
        warnings.warn(_DEFAULT, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) not in (4, 5):
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (k, k + 1):
        raise ValueError(f"Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {size}. Got "
                         f"{theta.shape}.")
    if theta.shape[0] != size[0]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, {k + 1}] but "
                           f"got: [{theta.shape[0]}, {k + 1}].")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    spatial = size[2:]
    if align_corners and max(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    axes = [_base(s, align_corners) for s in spatial]       # (D,) H, W
    mesh = np.meshgrid(*axes, indexing="ij")
    base = np.stack([*mesh[::-1], np.ones(spatial)], axis=-1).reshape(1, -1, k + 1)   # x first, then y (, z)
    base = Tensor(theta._be.xp.asarray(base.astype(theta._array.dtype)))
    return matmul(base, theta.transpose(1, 2)).reshape(size[0], *spatial, k)


# ---- grid_sample ---------------------------------------------------------------------------------
def _unnormalize(coord, size, align_corners):
    return (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2


def _clip(x, size):
    # no gradient at or beyond the edges, as PyTorch's clip_coordinates_set_grad
    return where((x > 0) & (x < size - 1), x, clamp(x, 0, size - 1).detach())


def _reflect(x, lo2, hi2):
    """Reflect x into [lo2 / 2, hi2 / 2] by folding at its ends (PyTorch's reflect_coordinates)."""
    if lo2 == hi2:
        return x * 0
    lo, span = lo2 / 2, (hi2 - lo2) / 2
    a = (x - lo).abs()
    extra = fmod(a, span)
    even = Tensor(x._be.xp.asarray(np.floor(_np(a._array) / span) % 2 == 0))
    return where(even, extra + lo, span - extra + lo)


def _source(coord, size, padding_mode, align_corners):
    x = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        return _clip(x, size)
    if padding_mode == "reflection":
        x = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        return _clip(x, size)
    return x


def _np_coordinate(i, size, padding_mode, align_corners):
    """PyTorch's compute_coordinates for the integer taps of bicubic sampling."""
    i = i.astype(np.float64)
    if padding_mode == "border":
        return np.clip(i, 0, size - 1)
    if padding_mode == "reflection":
        lo2, hi2 = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if lo2 == hi2:
            i = np.zeros_like(i)
        else:
            lo, span = lo2 / 2, (hi2 - lo2) / 2
            a = np.abs(i - lo)
            extra, flips = np.fmod(a, span), np.floor(a / span)
            i = np.where(flips % 2 == 0, extra + lo, span - extra + lo)
        return np.clip(i, 0, size - 1)
    return i


def _gather(flat, idx, sizes):
    """input values at the integer positions idx (one (N, *out) array per spatial dim), zero where out of range:
    (N, C, *out)."""
    n, c = flat.shape[:2]
    ok = np.logical_and.reduce([(i >= 0) & (i < s) for i, s in zip(idx, sizes)])
    lin = np.ravel_multi_index(tuple(np.clip(i, 0, s - 1) for i, s in zip(idx, sizes)), sizes).reshape(n, 1, -1)
    xp = flat._be.xp
    vals = flat.gather(2, Tensor(xp.asarray(np.broadcast_to(lin, (n, c, lin.shape[2])).copy())))
    mask = Tensor(xp.asarray(ok.reshape(n, 1, -1).astype(flat._array.dtype)))
    return (vals * mask).reshape(n, c, *idx[0].shape[1:])


def _cubic(t):
    a = -0.75
    c1 = lambda x: ((a + 2) * x - (a + 3)) * x * x + 1            # noqa: E731
    c2 = lambda x: ((a * x - 5 * a) * x + 8 * a) * x - 4 * a      # noqa: E731
    return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_DEFAULT, stacklevel=2)
        align_corners = False
    # PyTorch's order of checks: batch, then the grid's last size, then the number of dims
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    k = input.ndim - 2
    if grid.shape[-1] != k:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {k} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if input.ndim not in (4, 5) or grid.ndim != input.ndim:
        raise RuntimeError(f"grid_sampler(): expected {'4D' if input.ndim == 4 else '5D'} input and grid with same "
                           f"number of dimensions, but got input with sizes {list(input.shape)} and grid with sizes "
                           f"{list(grid.shape)}")
    if not input.is_floating_point() or not grid.is_floating_point():
        raise RuntimeError("grid_sampler(): expected input and grid to have floating point type")
    if k == 3 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    n, c, *sizes = input.shape
    flat = input.reshape(n, c, int(np.prod(sizes)))
    xp = input._be.xp
    # the grid's last axis runs x, y (, z): the reverse of the spatial dims (D,) H, W
    coords = [grid[..., k - 1 - d] for d in range(k)]
    if mode == "bicubic":
        (h, w), (gy, gx) = sizes, coords
        x, y = _unnormalize(gx, w, align_corners), _unnormalize(gy, h, align_corners)
        x0, y0 = np.floor(_np(x._array)), np.floor(_np(y._array))
        wx = _cubic(x - Tensor(xp.asarray(x0.astype(x._array.dtype))))
        wy = _cubic(y - Tensor(xp.asarray(y0.astype(y._array.dtype))))
        out = None
        for j in range(4):
            iy = np.rint(_np_coordinate(y0 - 1 + j, h, padding_mode, align_corners)).astype(np.int64)
            for i in range(4):
                ix = np.rint(_np_coordinate(x0 - 1 + i, w, padding_mode, align_corners)).astype(np.int64)
                term = _gather(flat, (iy, ix), sizes) * (wx[i] * wy[j]).unsqueeze(1)
                out = term if out is None else out + term
        return out
    src = [_source(g, s, padding_mode, align_corners) for g, s in zip(coords, sizes)]
    if mode == "nearest":   # rounding half to even, as nearbyint; no gradient reaches the grid
        idx = [np.rint(_np(v._array)).astype(np.int64) for v in src]
        return _gather(flat, idx, sizes) + (grid.sum() * 0)
    lower = [np.floor(_np(v._array)) for v in src]
    upper_w = [v - Tensor(xp.asarray(f.astype(v._array.dtype))) for v, f in zip(src, lower)]
    # (bi/tri)linear: each of the 2^k corners weighted by the product of its per-dim weights
    out = None
    for corner in itertools.product((0, 1), repeat=k):
        weight = None
        for up, wu in zip(corner, upper_w):
            wd = wu if up else 1 - wu
            weight = wd if weight is None else weight * wd
        idx = [f.astype(np.int64) + up for f, up in zip(lower, corner)]
        term = _gather(flat, idx, sizes) * weight.unsqueeze(1)
        out = term if out is None else out + term
    return out


__all__ = ["affine_grid", "grid_sample"]
