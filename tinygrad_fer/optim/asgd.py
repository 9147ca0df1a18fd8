"""ASGD (Polyak & Juditsky 1992): SGD with a decaying step size eta_t, keeping the running average `ax` of the
iterates from step t0 on (the averaged parameters are in state['ax'])."""
import numpy as np

from tinygrad_fer.optim.optimizer import Optimizer, _count_step
from tinygrad_fer.tensor import Tensor


def _f32(x):
    # PyTorch keeps eta and mu as float32 host scalars: every value they take is rounded to float32
    return Tensor(np.asarray(x, dtype=np.float32))


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                step = _count_step(state, p, "ax", eta=lambda: _f32(lr), mu=lambda: _f32(1.0))
                d = self._grad(xp, w, g, group, wd)
                eta = float(state["eta"]._array)
                tmp = self._scratch(xp, w)
                w *= 1 - lambd * eta
                xp.multiply(d, -eta, out=tmp)
                w += tmp
                ax, mu = state["ax"]._array, state["mu"]._array
                if float(mu) != 1:
                    xp.subtract(w, ax, out=tmp)
                    tmp *= float(mu)
                    ax += tmp
                else:
                    ax[...] = w
                # PyTorch makes each new value a float32 tensor and copies it in place: rounded to float32
                # even where a loaded state holds float64
                state["eta"]._array[...] = np.float32(lr / ((1 + lambd * lr * step) ** alpha))
                mu[...] = np.float32(1 / max(1, step - t0))
        return loss
