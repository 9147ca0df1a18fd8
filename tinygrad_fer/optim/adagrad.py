"""Adagrad (Duchi et al. 2011): per-coordinate steps scaled by the root of the summed squared gradients."""
from tinygrad_fer.optim.optimizer import Optimizer, _step_tensor
from tinygrad_fer.tensor import Tensor


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # as in PyTorch the state exists from the start (the sum starts at initial_accumulator_value)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = _step_tensor()
        state["sum"] = Tensor(p._be.xp.full_like(p._array, group["initial_accumulator_value"]))

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay, eps, wd = group["lr"], group["lr_decay"], group["eps"], group["weight_decay"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                if len(state) == 0:       # a parameter added by add_param_group after construction
                    self._init_state(p, group)
                step_arr = state["step"]._array
                step_arr += 1
                step = float(step_arr)
                d = self._grad(xp, w, g, group, wd)
                clr = lr / (1 + (step - 1) * lr_decay)
                s = state["sum"]._array
                tmp = self._scratch(xp, w)
                xp.multiply(d, d, out=tmp)
                s += tmp
                xp.sqrt(s, out=tmp)
                tmp += eps
                xp.divide(d, tmp, out=tmp)
                tmp *= -clr
                w += tmp
        return loss
