"""The two graph nodes that gradients taken with create_graph=True need (tinygrad_fer/autograd/create_graph.py)."""
from ..autograd import Function
from ..tensor import Tensor


class NoDoubleBackward(Function):
    """The node of a gradient made by a once-differentiable rule: going through it raises."""
    raw = True

    @classmethod
    def of(cls, node, edges, out):
        ctx = cls()
        ctx.saved = None
        ctx.edges = edges
        ctx.needs_input_grad = [True] * len(edges)
        ctx.be = node.be
        ctx.out_shape, ctx.out_dtype = out._array.shape, out._array.dtype
        ctx.what = node.name()
        return ctx

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(f"{ctx.what} does not support double backward: its gradient was computed by a "
                           "once-differentiable rule (trying to differentiate twice a function that was marked with "
                           "@once_differentiable)")


class LinearBackward(Function):
    """The gradient of a linear op L as an op of its own: forward runs L's backward kernel on g, and its gradient is
    L itself applied to the incoming gradient (the transpose of a transpose), recorded like any op."""

    @staticmethod
    def forward(ctx, g, kernel, op):
        ctx.op = op
        return Tensor(kernel(g._array))

    @staticmethod
    def backward(ctx, gg):
        return ctx.op(gg), None, None
