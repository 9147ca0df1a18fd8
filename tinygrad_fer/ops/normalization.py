"""Batch normalisation: one raw Function, forward and backward written out over the channel axis."""
from ..autograd import Function
from ..tensor import Tensor


class BatchNorm(Function):
    """Normalise over every axis but 1. Training: batch statistics (biased variance), and the running stats are
    updated in place with the unbiased one. Eval: the running statistics. The backend's kernels do the per-channel
    work in one or two passes over the data (statistics, scale-and-shift; both sums of the backward at once)."""
    raw = True

    @staticmethod
    def forward(ctx, x, weight, bias, rmean, rvar, training, momentum, eps):
        be = ctx.be
        c = x.shape[1]
        x3 = x.reshape(x.shape[0], c, -1)
        if training:
            n = x.size // c
            mean, var = be.batch_norm_stats(x3)
            if rmean is not None:
                rmean *= 1 - momentum
                rmean += momentum * mean.astype(rmean.dtype, copy=False)
            if rvar is not None:
                rvar *= 1 - momentum
                rvar += (momentum * n / max(n - 1, 1)) * var.astype(rvar.dtype, copy=False)
        else:
            mean, var = rmean.astype(x.dtype, copy=False), rvar.astype(x.dtype, copy=False)
            ctx.running = (rmean, rvar)
        invstd = (1 / be.xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        w = weight if weight is not None else be.xp.ones(c, x.dtype)
        b = bias if bias is not None else be.xp.zeros(c, x.dtype)
        out = be.batch_norm_apply(x3, mean, invstd, w.astype(x.dtype, copy=False), b.astype(x.dtype, copy=False))
        # x itself (alive anyway as the input): backward recomputes xhat from it, and a gradient taken with
        # create_graph recomputes the statistics from it, with its history
        ctx.save_for_backward(x, mean, invstd, weight)
        ctx.axes, ctx.bshape = (0,) + tuple(range(2, x.ndim)), (1, c) + (1,) * (x.ndim - 2)
        ctx.training, ctx.eps = training, eps
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, mean, invstd, w = ctx.saved_tensors
        be, n = ctx.be, ctx.needs_input_grad
        c = x.shape[1]
        w = w if w is not None else be.xp.ones(c, x.dtype)
        gx, gw, gb = be.batch_norm_backward(g.reshape(g.shape[0], c, -1), x.reshape(x.shape[0], c, -1), mean, invstd,
                                            w.astype(x.dtype, copy=False), ctx.training, n[0])
        return (gx.reshape(x.shape) if gx is not None else None), gw if n[1] else None, gb if n[2] else None, \
            None, None, None, None, None

    @staticmethod
    def backward_graph(ctx, g):
        """backward's formulas on recorded tensors, the statistics recomputed from x so they carry its history."""
        x, _, _, w = ctx.saved_tensors
        axes, bshape, n = ctx.axes, ctx.bshape, ctx.needs_input_grad
        if ctx.training:
            xc = x - x.mean(axes, keepdim=True)
            invstd = ((xc * xc).mean(axes, keepdim=True) + ctx.eps).rsqrt()
        else:
            rmean, rvar = (Tensor(a).type(x.dtype) for a in ctx.running)
            xc = x - rmean.reshape(bshape)
            invstd = (rvar.reshape(bshape) + ctx.eps).rsqrt()
        xhat = xc * invstd
        gb = g.sum(axes)
        gw = (g * xhat).sum(axes)
        gx = None
        if n[0]:
            scale = invstd if w is None else w.reshape(bshape) * invstd
            if ctx.training:
                m = g.numel() // g.shape[1]
                gx = scale * (g - (gb / m).reshape(bshape) - xhat * (gw / m).reshape(bshape))
            else:
                gx = g * scale
        return gx, gw if n[1] else None, gb if n[2] else None, None, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected at least a 2-D input (N, C, ...), got {list(input.shape)}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"batch_norm: {name} should contain {c} elements not {t.numel()}")
    if training:
        if input.numel() // c <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{input.shape!r}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    out = BatchNorm.apply(input, weight, bias, running_mean, running_var, training,
                          0.0 if momentum is None else momentum, eps)
    if training:
        for t in (running_mean, running_var):
            if t is not None:
                t._version[0] += 1
    return out
