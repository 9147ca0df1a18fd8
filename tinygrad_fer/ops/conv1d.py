"""1-D convolution and pooling: the 2-D ops on a plane of height 1 (their kernels, gradients and second derivatives
serve unchanged). Inputs are (N, C, L) or unbatched (C, L), as PyTorch's."""
from ..tensor import Tensor
from .conv import _pair, conv2d, conv_transpose2d
from .pool import adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, max_pool2d


def _one(v, name, fn):
    return _pair(v, name, fn, n=1)[0]


def _plane(input, fn, what="input"):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument '{what}' must be Tensor, not {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D (unbatched) or 3D (batched) input to {fn}, but got input of size: "
                           f"{list(input.shape)}")
    return input.unsqueeze(-2)


def _back(out):
    if isinstance(out, tuple):
        return type(out)(*(o.squeeze(-2) for o in out)) if hasattr(out, "_fields") else \
            tuple(o.squeeze(-2) for o in out)
    return out.squeeze(-2)


def _weight(weight, fn):
    if not isinstance(weight, Tensor):
        raise TypeError(f"{fn}(): argument 'weight' must be Tensor, not {type(weight).__name__}")
    if weight.ndim != 3:
        raise RuntimeError(f"{fn}: expected a 3-D weight (out_channels, in_channels / groups, kernel_size), got "
                           f"{list(weight.shape)}")
    return weight.unsqueeze(-2)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    fn = "conv1d"
    pad = padding if isinstance(padding, str) else (0, _one(padding, "padding", fn))
    return _back(conv2d(_plane(input, fn), _weight(weight, fn), bias, (1, _one(stride, "stride", fn)), pad,
                        (1, _one(dilation, "dilation", fn)), groups))


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    fn = "conv_transpose1d"
    return _back(conv_transpose2d(_plane(input, fn), _weight(weight, fn), bias, (1, _one(stride, "stride", fn)),
                                  (0, _one(padding, "padding", fn)), (0, _one(output_padding, "output_padding", fn)),
                                  groups, (1, _one(dilation, "dilation", fn))))


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    fn = "max_pool1d"
    k = _one(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one(stride, "stride", fn)
    return _back(max_pool2d(_plane(input, fn), (1, k), (1, s), (0, _one(padding, "padding", fn)),
                            (1, _one(dilation, "dilation", fn)), ceil_mode, return_indices))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    fn = "avg_pool1d"
    k = _one(kernel_size, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one(stride, "stride", fn)
    return _back(avg_pool2d(_plane(input, fn), (1, k), (1, s), (0, _one(padding, "padding", fn)), ceil_mode,
                            count_include_pad))


def adaptive_avg_pool1d(input, output_size):
    fn = "adaptive_avg_pool1d"
    return _back(adaptive_avg_pool2d(_plane(input, fn), (1, _one(output_size, "output_size", fn))))


def adaptive_max_pool1d(input, output_size, return_indices=False):
    fn = "adaptive_max_pool1d"
    return _back(adaptive_max_pool2d(_plane(input, fn), (1, _one(output_size, "output_size", fn)), return_indices))


__all__ = ["conv1d", "conv_transpose1d", "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_max_pool1d"]
