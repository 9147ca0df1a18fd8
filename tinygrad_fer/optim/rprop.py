"""Rprop (Riedmiller & Braun 1993): each coordinate keeps its own step size, grown by etas[1] while the
gradient's sign holds and shrunk by etas[0] when it flips (that step is then skipped); only signs are used."""
from tinygrad_fer.optim.optimizer import Optimizer, _step_tensor, _zeros_state
from tinygrad_fer.tensor import Tensor


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p, w, g in self._params_with_grad(group):
                xp, state = p._be.xp, self.state[p]
                if len(state) == 0:
                    state["step"] = _step_tensor()
                    state["prev"] = _zeros_state(p)
                    state["step_size"] = Tensor(xp.full_like(w, group["lr"]))
                state["step"]._array += 1
                d = self._grad(xp, w, g, group, 0)
                prev, step_size = state["prev"]._array, state["step_size"]._array
                sign = self._scratch(xp, w)
                xp.multiply(d, prev, out=sign)
                # the factor for each step size: grow where the sign held, shrink where it flipped, keep at a zero
                factor = xp.where(sign > 0, etaplus, xp.where(sign < 0, etaminus, 1)).astype(w.dtype, copy=False)
                step_size *= factor
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                # after a flip the gradient counts as zero: no step now, and no flip test next time
                xp.copyto(prev, d)
                prev[factor == w.dtype.type(etaminus)] = 0
                xp.sign(prev, out=sign)
                sign *= step_size
                w -= sign
        return loss
