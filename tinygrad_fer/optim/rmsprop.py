"""RMSprop (Hinton's, PyTorch's variant: eps outside the square root, optional centering and momentum)."""
from tinygrad_fer.kernels_ref import lerp_
from tinygrad_fer.optim.optimizer import Optimizer, _count_step


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False, foreach=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize, foreach=foreach)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                _count_step(state, p, "square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                            *(("grad_avg",) if group["centered"] else ()))
                d = self._grad(xp, w, g, group, group["weight_decay"])
                sq = state["square_avg"]._array
                tmp = self._scratch(xp, w)
                sq *= alpha
                xp.multiply(d, 1 - alpha, out=tmp)
                tmp *= d
                sq += tmp
                if group["centered"]:
                    ga = state["grad_avg"]._array
                    lerp_(ga, d, 1 - alpha, tmp, xp=xp)
                    xp.multiply(ga, ga, out=tmp)
                    xp.subtract(sq, tmp, out=tmp)
                    xp.sqrt(tmp, out=tmp)
                else:
                    xp.sqrt(sq, out=tmp)
                tmp += eps
                xp.divide(d, tmp, out=tmp)
                if momentum > 0:
                    buf = state["momentum_buffer"]._array
                    buf *= momentum
                    buf += tmp
                    xp.multiply(buf, lr, out=tmp)
                    w -= tmp
                else:
                    tmp *= -lr
                    w += tmp
        return loss
