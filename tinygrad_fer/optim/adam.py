"""Adam and AdamW: one update, with L2 decay folded into the gradient (Adam) or decoupled from it (AdamW)."""
from tinygrad_fer.optim.optimizer import Optimizer, _check_adam_args, _count_step


class Adam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, foreach=None, decoupled_weight_decay=False):
        _check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, amsgrad = group["lr"], group["eps"], group["amsgrad"]
            beta1, beta2 = group["betas"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                step = _count_step(state, p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
                d = self._decoupled_grad(xp, w, g, group)
                p._be.adam_(w, d, state["exp_avg"]._array, state["exp_avg_sq"]._array,
                            state["max_exp_avg_sq"]._array if amsgrad else None, lr, beta1, beta2, eps, step)
        return loss


class AdamW(Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        # an AdamW always decays decoupled, whatever the loaded groups say
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
