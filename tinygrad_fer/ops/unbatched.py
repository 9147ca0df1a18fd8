"""One sample where a batch is expected: convolution, pooling, unfold and fold take an input without its batch axis
(PyTorch's "unbatched" form) and run it as a batch of one."""


def accepts_unbatched(batched_ndim):
    """Class decorator for a raw Function whose first argument is a batch with `batched_ndim` dimensions: an input
    with one dimension fewer runs as a batch of one, and that axis leaves every output and the input's gradient
    again (`ctx.unbatched` tells forward and backward which it was)."""
    def decorate(cls):
        forward, backward = cls.forward, cls.backward

        def forward_any(ctx, x, *args, **kwargs):
            ctx.unbatched = x.ndim == batched_ndim - 1
            if not ctx.unbatched:
                return forward(ctx, x, *args, **kwargs)
            out = forward(ctx, x[None], *args, **kwargs)
            return tuple(o[0] for o in out) if type(out) is tuple else out[0]

        def backward_any(ctx, grad):
            if not ctx.unbatched:
                return backward(ctx, grad)
            grads = backward(ctx, grad[None])
            if type(grads) is not tuple:
                return grads[0]
            return (None if grads[0] is None else grads[0][0],) + grads[1:]

        forward_any.__qualname__ = f"{cls.__qualname__}.forward"
        backward_any.__qualname__ = f"{cls.__qualname__}.backward"
        cls.forward, cls.backward = staticmethod(forward_any), staticmethod(backward_any)
        return cls
    return decorate
