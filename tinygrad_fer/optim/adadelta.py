"""Adadelta (Zeiler 2012): step sizes from running averages of squared gradients and of squared updates."""
from tinygrad_fer.optim.optimizer import Optimizer, _count_step


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                _count_step(state, p, "square_avg", "acc_delta")
                d = self._grad(xp, w, g, group, wd)
                sq, acc = state["square_avg"]._array, state["acc_delta"]._array
                std, delta = self._scratch(xp, w), self._scratch(xp, w, 2)
                sq *= rho
                xp.multiply(d, 1 - rho, out=std)
                std *= d
                sq += std
                xp.add(sq, eps, out=std)
                xp.sqrt(std, out=std)
                xp.add(acc, eps, out=delta)
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= d
                # the squared-update average uses this step's update, before it is applied
                acc *= rho
                xp.multiply(delta, 1 - rho, out=std)
                std *= delta
                acc += std
                delta *= -lr
                w += delta
        return loss
