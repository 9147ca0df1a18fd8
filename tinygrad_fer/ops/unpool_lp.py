"""max_unpool1d/2d/3d (each value back at its max-pool index, zeros elsewhere: a scatter) and lp_pool1d/2d/3d
(PyTorch's formula over average pooling), composed of differentiable ops."""
import numpy as np

from ..tensor import Tensor, zeros
from .conv import _pair
from .elementwise import abs as _abs, relu, sign


def _max_unpool(n):
    fn = f"max_unpool{n}d"

    def op(input, indices, kernel_size, stride=None, padding=0, output_size=None):
        for t, what in ((input, "input"), (indices, "indices")):
            if not isinstance(t, Tensor):
                raise TypeError(f"{fn}(): argument '{what}' must be Tensor, not {type(t).__name__}")
        if not input.dtype.is_floating_point:
            from .. import dtypes
            raise NotImplementedError(f"\"{fn}_forward_out\" not implemented for "
                                      f"'{dtypes.scalar_type_name(input._array.dtype)}'")
        if tuple(indices.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                               f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
        k = _pair(kernel_size, "kernel_size", fn, n)
        s = k if stride is None else _pair(stride, "stride", fn, n)
        p = _pair(padding, "padding", fn, n)
        spatial = tuple(input.shape[-n:])
        if output_size is None:
            size = tuple((spatial[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(n))
        else:
            size = tuple(output_size)[-n:]
        lead = tuple(input.shape[:-n])
        flat_in, flat_idx = input.reshape(lead + (-1,)), indices.reshape(lead + (-1,))
        plane = int(np.prod(size))
        if flat_idx.numel() and (int(flat_idx._array.min()) < 0 or int(flat_idx._array.max()) >= plane):
            raise RuntimeError(f"Found an invalid max index: {int(flat_idx._array.max())} (output volumes are of "
                               f"size {'x'.join(map(str, size))}")
        out = zeros(lead + (plane,), dtype=input.dtype, device=input.device)
        return out.scatter(-1, flat_idx, flat_in).reshape(lead + size)
    op.__name__ = fn
    return op


max_unpool1d, max_unpool2d, max_unpool3d = _max_unpool(1), _max_unpool(2), _max_unpool(3)


def _lp_pool(n):
    fn = f"lp_pool{n}d"

    def op(input, norm_type, kernel_size, stride=None, ceil_mode=False):
        from ..nn import functional as F
        k = _pair(kernel_size, "kernel_size", fn, n)
        avg = getattr(F, f"avg_pool{n}d")
        out = avg(input ** norm_type, k if n > 1 else k[0], stride, 0, ceil_mode)
        return (sign(out) * relu(_abs(out))).mul(float(np.prod(k))) ** (1.0 / norm_type)
    op.__name__ = fn
    return op


lp_pool1d, lp_pool2d, lp_pool3d = _lp_pool(1), _lp_pool(2), _lp_pool(3)

__all__ = ["max_unpool1d", "max_unpool2d", "max_unpool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]
