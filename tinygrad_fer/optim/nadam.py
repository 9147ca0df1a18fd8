"""NAdam (Dozat 2016): Adam with Nesterov momentum, the momentum schedule mu_t warming up by momentum_decay."""
import numpy as np

from tinygrad_fer.kernels_ref import adam_moments_
from tinygrad_fer.optim.optimizer import Optimizer, _check_adam_args, _count_step
from tinygrad_fer.tensor import Tensor


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_adam_args(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, psi = group["lr"], group["eps"], group["momentum_decay"]
            beta1, beta2 = group["betas"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                # mu_product: a float32 host scalar, as PyTorch keeps it: the product is rounded to float32 every step
                step = _count_step(state, p, "exp_avg", "exp_avg_sq",
                                   mu_product=lambda: Tensor(np.ones((), dtype=np.float32)))
                bias_correction2 = 1 - beta2 ** step
                d = self._decoupled_grad(xp, w, g, group)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                mu_prod_arr = state["mu_product"]._array
                mu_prod_arr *= mu
                mu_product = float(mu_prod_arr)
                mu_product_next = mu_product * mu_next

                m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
                tmp, denom = self._scratch(xp, w), self._scratch(xp, w, 2)
                adam_moments_(m, v, d, beta1, beta2, tmp, xp=xp)
                xp.divide(v, bias_correction2, out=denom)
                xp.sqrt(denom, out=denom)
                denom += eps
                xp.divide(d, denom, out=tmp)
                tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
                w += tmp
                xp.divide(m, denom, out=tmp)
                tmp *= (-lr * mu_next) / (1.0 - mu_product_next)
                w += tmp
        return loss
