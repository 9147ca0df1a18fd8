"""NAdam (Dozat 2016): Adam with Nesterov momentum, the momentum schedule mu_t warming up by momentum_decay."""
import numpy as np

from tinygrad_fer.optim.optimizer import (Optimizer, _check_adam_args, _effective_grad, _lerp_,
                                         _step_tensor, _zeros_state)
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
            lr, eps, wd, psi = group["lr"], group["eps"], group["weight_decay"], group["momentum_decay"]
            beta1, beta2 = group["betas"]
            decoupled = group["decoupled_weight_decay"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    # a float32 host scalar, as PyTorch keeps it: the product is rounded to float32 every step
                    state["mu_product"] = Tensor(np.ones((), dtype=np.float32))
                    state["exp_avg"] = _zeros_state(p)
                    state["exp_avg_sq"] = _zeros_state(p)
                step_arr = state["step"]._array
                step_arr += 1
                step = float(step_arr)
                bias_correction2 = 1 - beta2 ** step
                if wd != 0 and decoupled:
                    w *= 1 - lr * wd
                decay = 0 if decoupled else wd
                d, _ = _effective_grad(xp, w, g, group["maximize"], decay,
                                       self._scratch(xp, w, 1) if group["maximize"] or decay else None)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
                mu_prod_arr = state["mu_product"]._array
                mu_prod_arr *= mu
                mu_product = float(mu_prod_arr)
                mu_product_next = mu_product * mu_next

                m, v = state["exp_avg"]._array, state["exp_avg_sq"]._array
                tmp, denom = self._scratch(xp, w), self._scratch(xp, w, 2)
                _lerp_(xp, m, d, 1 - beta1, tmp)
                v *= beta2
                xp.multiply(d, 1 - beta2, out=tmp)
                tmp *= d
                v += tmp
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
