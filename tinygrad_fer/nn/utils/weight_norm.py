"""Weight normalisation, w = g * v / ||v|| (the norm over every dim but `dim`; over all of v when dim is None):
parametrizations.weight_norm (through parametrize) and the older hook-based utils.weight_norm /
remove_weight_norm, with PyTorch's parameter names (original0 = g, original1 = v; weight_g, weight_v)."""
import warnings

from ...ops.stats import norm
from ...tensor import Tensor
from ..module import Module
from ..parameter import Parameter
from . import parametrize


def norm_except_dim(v, pow=2, dim=0):
    """||v|| over every dim but dim, kept as size-1 dims (dim -1: the whole tensor, a scalar)."""
    if dim == -1:
        return norm(v, pow)
    dim = dim % v.ndim
    others = tuple(i for i in range(v.ndim) if i != dim)
    return norm(v, pow, others, True) if others else v.abs()


def _weight_norm(v, g, dim=0):
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def parametrized_weight_norm(module, name="weight", dim=0):
    """torch.nn.utils.parametrizations.weight_norm."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


# ---- the hook-based form (deprecated in PyTorch, still common) -----------------------------------
class _WeightNormHook:
    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        return _weight_norm(getattr(module, self.name + "_v"), getattr(module, self.name + "_g"), self.dim)

    def __call__(self, module, inputs):
        object.__setattr__(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """torch.nn.utils.weight_norm: weight_g and weight_v parameters, the weight recomputed before each forward."""
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNormHook) and hook.name == name:
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    fn = _WeightNormHook(name, dim)
    weight = getattr(module, name)
    if not isinstance(weight, Tensor):
        raise ValueError(f"weight_norm: {name} is not a tensor of {module}")
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    object.__setattr__(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, _WeightNormHook) and hook.name == name:
            weight = hook.compute_weight(module).detach()
            module.__dict__.pop(name, None)
            del module._parameters[name + "_g"]
            del module._parameters[name + "_v"]
            module.register_parameter(name, Parameter(weight))
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
