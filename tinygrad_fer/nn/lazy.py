"""Lazy modules: layers whose input size is read off the first input. Until then the weights are uninitialized
placeholders; the first call gives them their shapes, runs the concrete class's initialisation and turns the
module into that class (`type(m) is nn.Linear` afterwards), as PyTorch's LazyModuleMixin does.

The placeholders (nn/parameter.py) become real tensors in place (same objects), so an optimizer built before the
first call updates them afterwards, as in PyTorch."""
from ..tensor import Tensor
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d
from .normalization_layers import BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .parameter import UninitializedBuffer, UninitializedParameter, is_lazy

class LazyModuleMixin:
    """Shapes the placeholders from the first input (`initialize_parameters`), then becomes `cls_to_become`."""
    cls_to_become = None

    def has_uninitialized_params(self):
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()))

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for {type(self).__name__}")

    def _infer_parameters(self, args, kwargs):
        self.initialize_parameters(*args, **kwargs)
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def __call__(self, *args, **kwargs):
        self._infer_parameters(args, kwargs)
        return Module.__call__(self, *args, **kwargs)

    def _materialize_from(self, state_dict, prefix):
        """load_state_dict into a module not yet called: the checkpoint's shapes shape the placeholders."""
        for store in (self._parameters, self._buffers):
            for name, t in store.items():
                v = state_dict.get(prefix + name)
                if is_lazy(t) and isinstance(v, Tensor):
                    t.materialize(tuple(v.shape))


# ---- the lazy layers ----------------------------------------------------------------------------------
class LazyLinear(LazyModuleMixin, Linear):
    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_features = input.shape[-1] if input.ndim else 1
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        elif self.in_features == 0:     # loaded from a checkpoint before the first call
            self.in_features = self.weight.shape[1]


class _LazyConvMixin(LazyModuleMixin):
    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def _in_channels(self, input):
        spatial = len(self.kernel_size)
        if input.ndim not in (spatial + 1, spatial + 2):
            raise RuntimeError(f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to "
                               f"{self._get_name()}, but got input of size: {input.shape}")
        return input.shape[1] if input.ndim == spatial + 2 else input.shape[0]

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._in_channels(input)
            if self.in_channels % self.groups:
                raise ValueError("in_channels must be divisible by groups")
            g = self.groups
            shape = ((self.in_channels, self.out_channels // g) if self.transposed
                     else (self.out_channels, self.in_channels // g))
            self.weight.materialize(shape + tuple(self.kernel_size))
            if self.bias is not None:
                self.bias.materialize((self.out_channels,))
            self.reset_parameters()
        elif self.in_channels == 0:
            self.in_channels = self.weight.shape[0 if self.transposed else 1] * (1 if self.transposed else self.groups)

    def _lazy_placeholders(self, out_channels, bias, device, dtype):
        self.out_channels = out_channels
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class LazyConv2d(_LazyConvMixin, Conv2d):
    cls_to_become = Conv2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        # built with zero channels (groups 1) so that the concrete checks pass; the real ones follow the first input
        super().__init__(0, 0, kernel_size, stride, padding, dilation, 1, False, padding_mode, device, dtype)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        # as in PyTorch, out_channels is not checked against groups here: the convolution refuses the weight
        self.groups = groups
        self._lazy_placeholders(out_channels, bias, device, dtype)


class LazyConvTranspose2d(_LazyConvMixin, ConvTranspose2d):
    cls_to_become = ConvTranspose2d

    def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1, bias=True,
                 dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, 1, False, dilation, padding_mode,
                         device, dtype)
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        # as in PyTorch, out_channels is not checked against groups here: the convolution refuses the weight
        self.groups = groups
        self._lazy_placeholders(out_channels, bias, device, dtype)


class _LazyNormMixin(LazyModuleMixin):
    def _lazy_placeholders(self, affine, track_running_stats, device, dtype):
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            for t in (*self._parameters.values(), *self._buffers.values()):
                if is_lazy(t):
                    t.materialize((self.num_features,))
            self.reset_parameters()
        elif self.num_features == 0:
            t = self.weight if self.weight is not None else self.running_mean
            if t is not None:
                self.num_features = t.shape[0]


def _lazy_norm(concrete):
    class LazyNorm(_LazyNormMixin, concrete):
        cls_to_become = concrete

        def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                     dtype=None):
            super().__init__(0, eps, momentum, affine, track_running_stats, device, dtype)
            self._lazy_placeholders(affine, track_running_stats, device, dtype)
    LazyNorm.__name__ = LazyNorm.__qualname__ = "Lazy" + concrete.__name__
    return LazyNorm


LazyBatchNorm1d = _lazy_norm(BatchNorm1d)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d)
# PyTorch's lazy instance norms default to affine and tracked statistics, unlike InstanceNorm1d/2d/3d themselves
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d)


class LazyConv1d(LazyConv2d, Conv1d):
    cls_to_become = Conv1d


class LazyConv3d(LazyConv2d, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose1d(LazyConvTranspose2d, ConvTranspose1d):
    cls_to_become = ConvTranspose1d


class LazyConvTranspose3d(LazyConvTranspose2d, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
