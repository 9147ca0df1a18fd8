"""Adamax (Kingma & Ba 2015, section 7): Adam with the infinity norm of past gradients in place of the RMS."""
from tinygrad_fer.kernels_ref import lerp_
from tinygrad_fer.optim.optimizer import Optimizer, _check_adam_args, _count_step


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                step = _count_step(state, p, "exp_avg", "exp_inf")
                d = self._grad(xp, w, g, group, wd)
                m, u = state["exp_avg"]._array, state["exp_inf"]._array
                tmp = self._scratch(xp, w)
                lerp_(m, d, 1 - beta1, tmp, xp=xp)
                u *= beta2
                xp.abs(d, out=tmp)
                tmp += eps
                xp.maximum(u, tmp, out=u)
                clr = lr / (1 - beta1 ** step)
                xp.divide(m, u, out=tmp)
                tmp *= -clr
                w += tmp
        return loss
