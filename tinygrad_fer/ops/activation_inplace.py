"""The in-place spellings of the activations (`relu_`, `elu_`, `celu_`, `selu_`, `leaky_relu_`, `rrelu_`,
`threshold_`): each is its op with inplace=True, after PyTorch's own checks. They come first because an in-place
op cannot promote: where the out-of-place op here casts an integer input to float, the in-place one must refuse it
as PyTorch's kernel does, not fail on the cast back. torch.* has relu_, celu_, selu_, rrelu_ and threshold_ too
(`__all__`); elu_ and leaky_relu_ are nn.functional's only. F.hardtanh_ sits in nn/functional.py with hardtanh."""
from ..tensor import Tensor
from .activation import _check, celu, selu, threshold as _threshold
from .activation_core import elu, leaky_relu, relu
from .dropout_extra import rrelu
from .unary import _maybe_inplace


def _tensor(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def relu_(input):
    _tensor(input, "relu_")
    if input.dtype.name == "bool":
        raise RuntimeError("Boolean inputs not supported for relu")
    return _maybe_inplace(relu, input, True)


def elu_(input, alpha=1.0):
    _check(input, "elu_", "elu_cpu")
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    _check(input, "celu_", "elu_cpu")
    return celu(input, alpha, inplace=True)


def selu_(input):
    _check(input, "selu_", "elu_cpu")
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    _check(input, "leaky_relu_", "leaky_relu_cpu")
    return leaky_relu(input, negative_slope, inplace=True)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    _tensor(input, "rrelu_")
    return rrelu(input, lower, upper, training, inplace=True)


def threshold_(input, threshold, value):
    _tensor(input, "threshold_")
    return _threshold(input, threshold, value, inplace=True)


__all__ = ["relu_", "celu_", "selu_", "rrelu_", "threshold_"]
