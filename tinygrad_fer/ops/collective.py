"""The autograd node of a cross-rank sum (tinygrad_fer.distributed): forward all-reduces a tensor's values, backward
all-reduces the gradient, since every rank's output depends on every rank's input. What SyncBatchNorm's global
statistics are built from."""
from ..autograd import Function
from ..tensor import Tensor


class AllReduceSum(Function):
    raw = True   # once differentiable: a lifted rule would need a recorded all-reduce

    @staticmethod
    def forward(ctx, x):
        from .. import distributed
        t = Tensor(x.copy())
        distributed.all_reduce(t)
        return t._array

    @staticmethod
    def backward(ctx, g):
        from .. import distributed
        t = Tensor(g.copy())
        distributed.all_reduce(t)
        return t._array


def all_reduce_sum(x):
    """The sum of x over the ranks, differentiable (the gradient is summed over the ranks too)."""
    return AllReduceSum.apply(x)
