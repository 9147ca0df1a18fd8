"""Ops made of computed element positions: tril_indices and triu_indices (int64 coordinates, row-major as PyTorch's),
cartesian_prod (every combination, the last tensor varying fastest) and as_strided (elements picked by size, stride
and offset); the last two are index gathers, so their gradients (and second derivatives) are GetItem's."""
import numpy as np

from .. import backend
from ..tensor import Tensor, _finish
from .movement import stack


def _tri_indices(name, upper):
    def op(row, col, offset=0, *, dtype=None, device=None, layout=None):
        from .. import dtypes
        for v, what in ((row, "row"), (col, "col")):
            if v < 0:
                raise RuntimeError(f"{what} must be non-negative, got {v}")
        be = backend.get(device)
        xp = be.xp
        r, c = xp.indices((row, col)).reshape(2, -1)
        keep = (c - r >= offset) if upper else (c - r <= offset)
        dt = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
        return _finish(xp.stack([r[keep], c[keep]]).astype(dt.np), False)
    op.__name__ = name
    return op


tril_indices = _tri_indices("tril_indices", False)
triu_indices = _tri_indices("triu_indices", True)


def cartesian_prod(*tensors):
    for t in tensors:
        if not isinstance(t, Tensor) or t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape) if isinstance(t, Tensor) else t}")
    if len(tensors) == 1:
        return tensors[0]
    xp = tensors[0]._be.xp
    grids = xp.indices(tuple(t.shape[0] for t in tensors)).reshape(len(tensors), -1)
    return stack([t[grids[i]] for i, t in enumerate(tensors)], dim=1)


def as_strided(input, size, stride, storage_offset=None):
    """The elements at storage_offset + sum(i_k * stride_k) of the tensor's memory, laid out as `size`. PyTorch
    returns a view of the storage; here it is a copy (writes to it do not reach the input), and only a contiguous
    input's own elements can be addressed (the storage of a view is not reachable from it)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} strides for {len(size)} sizes")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"as_strided: negative sizes or strides are not supported, got size {list(size)} and "
                           f"stride {list(stride)}")
    offset = 0 if storage_offset is None else int(storage_offset)
    if not input._array.flags.c_contiguous:
        raise RuntimeError("as_strided: tinygrad_fer addresses only a contiguous tensor's own elements (its storage "
                           "is not shared with views here): call .contiguous() first")
    pos = np.full(size, offset, dtype=np.int64)
    for d, (n, s) in enumerate(zip(size, stride)):
        pos += (np.arange(n) * s).reshape((1,) * d + (n,) + (1,) * (len(size) - d - 1))
    need = int(pos.max()) + 1 if pos.size else 0
    if need > input.numel():
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {input._array.itemsize} requiring a storage size of "
                           f"{need * input._array.itemsize} are out of bounds for storage of size "
                           f"{input.numel() * input._array.itemsize}")
    return input.reshape(-1)[(input._be.xp.asarray(pos),)] if pos.ndim else input.reshape(-1)[offset]


class PositionMethods:
    """Tensor's method of this module (tinygrad_fer/_tensor_api.py makes Tensor inherit it)."""
    __slots__ = ()
    as_strided = as_strided


__all__ = ["tril_indices", "triu_indices", "cartesian_prod", "as_strided"]
