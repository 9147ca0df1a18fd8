"""pad's 'reflect', 'replicate' and 'circular' modes: each padded dim is an index_select with a computed index
(mirrored without repeating the edge, clamped to the edge, or wrapped), so the gradient sums the copies back into
their source elements through index_select's own rule (and can be differentiated again). Negative widths crop
first, and the remaining widths pad the cropped tensor, as PyTorch's do."""
import numpy as np

from ..tensor import Tensor
from .index import index_select
from .movement import pad as _pad_constant

_MODES = ("reflect", "replicate", "circular")


def _unsupported(k, ndim):
    return NotImplementedError(
        f"Padding size {2 * k} is not supported for {ndim}D input tensor.\n"
        "Supported combinations for non-constant padding:\n"
        "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
        "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
        "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _index(mode, n, lo, hi):
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    i = np.abs(i)                       # reflect: -1 -> 1, ...
    return np.where(i > n - 1, 2 * (n - 1) - i, i)


def pad_nonconstant(input, pad, mode, value=None):
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    k, ndim = len(pad) // 2, input.ndim
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise _unsupported(k, ndim)
    x = input
    shape = list(input.shape)
    if mode != "circular" and 0 in (shape[1:] if ndim == k + 2 else shape):   # only the batch may be empty
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    for j in range(k):   # pad lists the last dimension first
        dim = ndim - 1 - j
        lo, hi = int(pad[2 * j]), int(pad[2 * j + 1])
        if lo < 0 or hi < 0:
            x = x.narrow(dim, max(-lo, 0), x.shape[dim] - max(-lo, 0) - max(-hi, 0))
            lo, hi = max(lo, 0), max(hi, 0)
        n = x.shape[dim]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {dim} of input {shape}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo or hi:
            idx = _index(mode, n, lo, hi)
            x = index_select(x, dim, Tensor(x._be.xp.asarray(idx, dtype=np.int64)))
    return x


def pad(input, pad, mode="constant", value=None):
    """F.pad: constant padding (ops/movement.py) or the 'reflect', 'replicate' and 'circular' modes above."""
    if mode == "constant":
        return _pad_constant(input, pad, mode, value)
    return pad_nonconstant(input, pad, mode, value)
