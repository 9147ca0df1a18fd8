"""The graph nodes behind Module's full backward hooks (register_full_backward_pre_hook / _hook).

PyTorch passes a module's tensor inputs, and then its tensor outputs, through one identity Function with several
outputs; the hooks run when that node's backward runs, once, with every gradient of the group. A node here has a
single differentiable output, so a group is two kinds of node instead:

    x1, x2, ...  ->  _Gather (output: a scalar placeholder)  ->  _Pass(i) per tensor  ->  x1', x2', ...

Each _Pass returns its tensor's values unchanged (no copy) and, in backward, files the gradient it receives in the
group and sends a zero to the _Gather. The engine runs the _Gather after every _Pass that depends on it, so when its
backward runs the group's gradients are all in: it calls the hooks once, with None for a tensor that got none, and
returns the (possibly replaced) gradients to x1, x2, ...
"""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _mark_view


class _Gather(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, *arrays, group):
        ctx.group = group
        return ctx.be.xp.zeros((), dtype=np.float32)

    @staticmethod
    def backward(ctx, g):
        group = ctx.group
        grads = group.grads
        group.grads = [None] * len(grads)
        out = group.on_grads(tuple(None if a is None else Tensor(a) for a in grads))
        return tuple(None if t is None else (t._array if isinstance(t, Tensor) else t) for t in out)


class _Pass(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, placeholder, *, array, group, index):
        ctx.group, ctx.index = group, index
        return array

    @staticmethod
    def backward(ctx, g):
        grads = ctx.group.grads
        i = ctx.index
        grads[i] = g if grads[i] is None else grads[i] + g
        return ctx.be.xp.zeros((), dtype=np.float32)


class _Group:
    """The tensors of one side (inputs or outputs) of one module call; `on_grads(grads)` gets their gradients as a
    tuple aligned with them and returns the gradients to pass on."""

    def __init__(self, on_grads, n):
        self.on_grads = on_grads
        self.grads = [None] * n


def hook_tensors(tensors, on_grads):
    """`tensors` (each requiring grad) as new tensors with the same values whose gradients reach `on_grads` together,
    once per backward pass."""
    group = _Group(on_grads, len(tensors))
    gather = _Gather.apply(*tensors, group=group)
    out = []
    for i, t in enumerate(tensors):
        o = _Pass.apply(gather, array=t._array, group=group, index=i)
        # o shares t's memory, so it is a view of t, and like the outputs of PyTorch's hook Function it refuses
        # in-place changes (they would rewrite the caller's tensor behind the hooks' back)
        out.append(_mark_view(o, t, multi=f"Output {i} of BackwardHookFunction"))
    return tuple(out)
