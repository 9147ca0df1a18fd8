"""Gradient clipping, in place on each parameter's .grad, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""
import math
import types
import warnings

from ... import grad_mode
from ...tensor import Tensor, tensor
from ...ops.movement import stack


def _grads(parameters, warn_empty):
    if isinstance(parameters, Tensor):
        return [parameters], [parameters.grad] if parameters.grad is not None else []
    is_generator = isinstance(parameters, types.GeneratorType)
    parameters = list(parameters)
    if warn_empty and is_generator and not parameters:
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    return parameters, [p.grad for p in parameters if p.grad is not None]


def _vector_norm(g, p):
    a = g.abs()
    if p == math.inf:
        return a.max()
    if p == -math.inf:
        return a.min()
    if p == 0:
        return (a != 0).sum().to(g.dtype)
    if p == 1:
        return a.sum()
    if p == 2:
        return (a * a).sum().sqrt()
    return (a ** p).sum() ** (1.0 / p)


def _check_foreach(foreach):
    if foreach not in (None, True, False):
        raise TypeError(f"foreach must be None or a bool, got {type(foreach).__name__}")


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients together so that their joint norm (the norm of the per-parameter norms) is at most
    max_norm; returns that norm before clipping. `foreach` is accepted for compatibility (one path here)."""
    _check_foreach(foreach)
    _, grads = _grads(parameters, warn_empty=True)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    with grad_mode.no_grad():
        total = _vector_norm(stack([_vector_norm(g, norm_type) for g in grads]), norm_type)
        if error_if_nonfinite and not bool(total.isfinite()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
                "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`")
        coef = (float(max_norm) / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    _check_foreach(foreach)
    _, grads = _grads(parameters, warn_empty=False)
    clip_value = float(clip_value)
    with grad_mode.no_grad():
        for g in grads:
            g.clamp_(min=-clip_value, max=clip_value)
