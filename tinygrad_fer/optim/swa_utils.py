"""Stochastic weight averaging (Izmailov et al. 2018) and EMA of weights, as torch.optim.swa_utils: AveragedModel
keeps a running average of a model's parameters, SWALR anneals the lr to a constant SWA lr, update_bn recomputes
BatchNorm statistics for the averaged weights.

The averaging functions work on the arrays in place, outside the graph. The default running mean is PyTorch's CPU
formula, avg + (p - avg) / (n + 1), on every device (PyTorch's CUDA path uses a fused lerp instead)."""
import itertools
import math
from copy import deepcopy

from tinygrad_fer import dtypes
from tinygrad_fer.grad_mode import no_grad
from tinygrad_fer.nn.module import Module
from tinygrad_fer.nn.normalization import _BatchNorm
from tinygrad_fer.optim.lr_scheduler import LRScheduler, _format_param
from tinygrad_fer.kernels_ref import lerp_
from tinygrad_fer.tensor import Tensor, tensor

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _lerp_all(averaged, current, weight):
    for a, c in zip(averaged, current):
        arr = a._array
        a._version[0] += 1
        if arr.dtype.kind == "f":
            lerp_(arr, c._array, weight, a._be.xp.empty_like(arr), xp=a._be.xp)
        else:
            arr[...] = arr * (1 - weight) + c._array * weight


def get_ema_multi_avg_fn(decay=0.999):
    """ema <- ema + (1 - decay) (p - ema), for all the parameters at once (the multi_avg_fn form)."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _):
        _lerp_all(ema_param_list, current_param_list, 1 - decay)
    return ema_update


def get_swa_multi_avg_fn():
    """The equal-weight running mean, for all the parameters at once."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        # PyTorch divides by the integer count tensor: the weight comes out in the default float dtype
        weight = float(dtypes.get_default_dtype().np.type(1 / (int(num_averaged) + 1)))
        _lerp_all(averaged_param_list, current_param_list, weight)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _assign(dst, value):
    dst._version[0] += 1
    dst._array[...] = value._array if isinstance(value, Tensor) else value


class AveragedModel(Module):
    """A copy of `model` whose parameters are the average of the ones passed to update_parameters (equal weights
    by default; avg_fn / multi_avg_fn give another, e.g. get_ema_multi_avg_fn(0.999)). Buffers are copied from
    the model, or averaged too with use_buffers=True."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=dtypes.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        with no_grad():
            if self.use_buffers:
                mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
                theirs = list(itertools.chain(model.parameters(), model.buffers()))
            else:
                mine, theirs = list(self.parameters()), list(model.parameters())
            theirs = [p.detach().to(a.device) for a, p in zip(mine, theirs)]
            mine = mine[:len(theirs)]
            n = int(self.n_averaged.item())
            if n == 0:
                for a, p in zip(mine, theirs):
                    _assign(a, p)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a.detach() for a in mine], theirs, self.n_averaged)
            else:
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for a, p in zip(mine, theirs):
                    _assign(a, avg_fn(a.detach(), p, self.n_averaged.to(a.device)))
            if not self.use_buffers:
                for b_mine, b_model in zip(self.module.buffers(), model.buffers()):
                    _assign(b_mine, b_model.detach().to(b_mine.device))
            _assign(self.n_averaged, self.n_averaged._array + 1)


def update_bn(loader, model, device=None):
    """One pass over loader in training mode to recompute every BatchNorm's running statistics from scratch
    (a cumulative average: momentum=None), for weights that were averaged rather than trained."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    with no_grad():
        for batch in loader:
            if isinstance(batch, (list, tuple)):
                batch = batch[0]
            if device is not None:
                batch = batch.to(device)
            model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to its swa_lr over anneal_epochs (cosine or linear), then hold it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        for lr, group in zip(_format_param("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        # the lr the schedule started this step from, recovered from the current one: follows a hand-set lr
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
