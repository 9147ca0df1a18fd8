"""RAdam (Liu et al. 2019): Adam whose adaptive step is switched on only once the variance of the adaptive rate
is tractable (rho_t > 5), and rectified by the factor r_t; plain momentum SGD before that."""
from tinygrad_fer.kernels_ref import adam_moments_
from tinygrad_fer.optim.optimizer import Optimizer, _check_adam_args, _count_step


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_adam_args(lr, eps, betas, weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                step = _count_step(state, p, "exp_avg", "exp_avg_sq")
                d = self._decoupled_grad(xp, w, g, group)
                m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
                tmp, rate = self._scratch(xp, w), self._scratch(xp, w, 2)
                adam_moments_(m, v, d, beta1, beta2, tmp, xp=xp)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                xp.divide(m, bias_correction1, out=tmp)
                tmp *= lr
                if rho_t > 5.0:
                    xp.sqrt(v, out=rate)
                    rate += eps
                    xp.divide(bias_correction2 ** 0.5, rate, out=rate)
                    tmp *= rate
                    tmp *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                w -= tmp
        return loss
