"""Stochastic gradient descent with momentum / Nesterov, PyTorch's update rule step for step."""
from tinygrad_fer.optim.optimizer import Optimizer, _effective_grad
from tinygrad_fer.tensor import Tensor


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
            maximize = group["maximize"]
            for p, w, g in self._params_with_grad(group):
                xp = p._be.xp
                buf = None
                if momentum != 0:
                    state = self.state[p]  # only momentum keeps state: plain SGD leaves optimizer.state empty
                    buf = state.get("momentum_buffer")
                if buf is not None:     # every step after the first: one fused backend kernel
                    p._be.sgd_momentum_(w, g, buf._array, lr, momentum, dampening, wd, group["nesterov"], maximize)
                    continue
                # the first momentum step keeps the effective gradient as the buffer: it must be a fresh array then
                out = self._scratch(xp, w, 1) if (maximize or wd) and momentum == 0 else None
                d, owned = _effective_grad(xp, w, g, maximize, wd, out)
                tmp = self._scratch(xp, w)
                if momentum != 0:
                    # the buffer starts as the first gradient itself (no dampening), as in PyTorch
                    b = d if owned else d.copy()
                    state["momentum_buffer"] = Tensor(b)
                    if group["nesterov"]:
                        xp.multiply(b, momentum, out=tmp)
                        d = xp.add(d, tmp, out=tmp)
                    else:
                        d = b
                xp.multiply(d, lr, out=tmp)
                w -= tmp
        return loss
