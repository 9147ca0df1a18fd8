"""float16 convolution and pooling computed in float32, results rounded back to float16.

The CPU kernels are Numba code, which has no half arithmetic, and PyTorch's own CPU kernels for these ops accumulate
half in float: so a float16 op upcasts its arrays, runs the float32 path (fast kernels included) and rounds each
result once. What forward saves stays the caller's float16 array (no extra memory held between the passes, and the
in-place version checks still see it); backward upcasts it again.
"""
import functools


def _up(a):
    return a.astype("float32") if getattr(a, "dtype", None) == "float16" else a


def _down(a):
    return a.astype("float16") if getattr(a, "dtype", None) == "float32" else a


def _down_all(out):
    return tuple(_down(a) for a in out) if type(out) is tuple else _down(out)


def float32_inside(method):
    """Wrap a raw Function's forward (whose first argument decides: input and weights share a dtype) or backward."""
    if method.__name__ == "forward":
        @functools.wraps(method)
        def forward(ctx, *args, **kwargs):
            if getattr(args[0], "dtype", None) != "float16":
                return method(ctx, *args, **kwargs)
            up = [_up(a) for a in args]
            out = method(ctx, *up, **kwargs)
            ctx.half = True
            mine = {id(u): a for u, a in zip(up, args) if u is not a}     # float32 copies made here, by id
            if type(ctx.saved) is tuple:
                ctx.saved = tuple(mine.get(id(s), s) for s in ctx.saved)
            return _down_all(out)
        return forward

    @functools.wraps(method)
    def backward(ctx, *grads):
        if not getattr(ctx, "half", False):
            return method(ctx, *grads)
        saved = ctx.saved
        if type(saved) is tuple:
            ctx.saved = tuple(_up(s) for s in saved)
        try:
            return _down_all(method(ctx, *(_up(g) for g in grads)))
        finally:
            ctx.saved = saved
    return backward
