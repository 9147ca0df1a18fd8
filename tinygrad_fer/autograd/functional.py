"""torch.autograd.functional: Jacobians, Hessians and their products with vectors, built on autograd.grad.

As in PyTorch, `inputs` (and `v`) may be a Tensor or a tuple of Tensors and results mirror that structure; results
are detached unless create_graph=True; strict=True raises where an output does not depend on an input (instead of
returning zeros). jvp and hvp use the double-vjp trick (reverse mode twice), as PyTorch's do. vectorize=True is
accepted and computes row by row (there is no vmap here).
"""
from .. import grad_mode
from ..ops.movement import stack
from ..tensor import Tensor, zeros_like
from . import grad


def _as_tuple(x, arg, fn):
    single = not isinstance(x, tuple)
    xs = (x,) if single else x
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {arg} given to {fn} must be either a Tensor or a tuple of Tensors but the value at "
                            f"index {i} has type {type(t).__name__}.")
    return single, xs


def _prepare(inputs, create_graph):
    # Fresh leaves that require grad, sharing the data; with create_graph they stay connected to the caller's graph
    return tuple(t if create_graph and t.requires_grad else t.detach().requires_grad_() for t in inputs)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, what):
    diff = [i for i, o in enumerate(outputs) if o.requires_grad]
    got = [None] * len(inputs)
    if diff:
        got = list(grad([outputs[i] for i in diff], inputs, [grad_outputs[i] for i in diff], retain_graph=True,
                        create_graph=create_graph, allow_unused=True))
    out = []
    for i, (g, x) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. This is "
                                   f"not allowed in strict mode{what}.")
            g = zeros_like(x)
        out.append(g)
    return tuple(out)


def _finish(xs, create_graph):
    return tuple(x if create_graph else x.detach() for x in xs)


def _check_v(v, like, fn):
    if len(v) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}.")
    for a, b in zip(v, like):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v has a shape of {tuple(a.shape)} but {fn} expects "
                               f"{tuple(b.shape)}.")


def _ones_v(ts, what):
    if len(ts) != 1 or ts[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if the {what} is a single Tensor with a single element.")
    return (Tensor(ts[0]._be.xp.ones(ts[0]._array.shape, dtype=ts[0]._array.dtype)),)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J)."""
    single_in, xs = _as_tuple(inputs, "inputs", "vjp")
    with grad_mode.enable_grad():
        xs = _prepare(xs, create_graph)
        single_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "vjp")
        vs = _ones_v(outs, "user-provided function returns") if v is None else _as_tuple(v, "v", "vjp")[1]
        _check_v(vs, outs, "vjp")
        res = _grads(outs, xs, vs, create_graph, strict, "")
    outs, res = _finish(outs, create_graph), _finish(res, create_graph)
    return (outs[0] if single_out else outs), (res[0] if single_in else res)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v), by differentiating the vjp with respect to its (dummy) vector."""
    single_in, xs = _as_tuple(inputs, "inputs", "jvp")
    with grad_mode.enable_grad():
        xs = _prepare(xs, create_graph)
        vs = _ones_v(xs, "input to the user-provided function") if v is None else _as_tuple(v, "v", "jvp")[1]
        _check_v(vs, xs, "jvp")
        single_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jvp")
        us = tuple(zeros_like(o).requires_grad_() for o in outs)
        g = _grads(outs, xs, us, True, strict, "")
        res = _grads(g, us, vs, create_graph, strict, " (the Jacobian-vector product)")
    outs, res = _finish(outs, create_graph), _finish(res, create_graph)
    return (outs[0] if single_out else outs), (res[0] if single_out else res)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d output / d input, one row (one output element) at a time: shape output.shape + input.shape, nested as
    (outputs x inputs) tuples when either is a tuple."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    single_in, xs = _as_tuple(inputs, "inputs", "jacobian")
    with grad_mode.enable_grad():
        xs = _prepare(xs, create_graph)
        single_out, outs = _as_tuple(func(*xs), "outputs of the user-provided function", "jacobian")
        blocks = []
        for o in outs:
            flat = o.reshape(-1)
            rows = [[] for _ in xs]
            for j in range(flat.numel()):
                if not flat.requires_grad:
                    gs = _grads([], xs, [], create_graph, strict, "")
                else:
                    gs = _grads([flat[j]], xs, [None], create_graph, strict, "")
                for i, g in enumerate(gs):
                    rows[i].append(g.reshape(-1))
            per_in = []
            for i, x in enumerate(xs):
                m = stack(rows[i]) if rows[i] else zeros_like(x).reshape(0, -1)
                per_in.append(m.reshape(tuple(o.shape) + tuple(x.shape)))
            blocks.append(_finish(per_in, create_graph))
    if single_out:
        return blocks[0][0] if single_in else blocks[0]
    return tuple(b[0] for b in blocks) if single_in else tuple(blocks)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Jacobian of the gradient of a scalar function."""
    single_in, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*ys):
        out = func(*ys)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor with a single element")
        return _grads([out.reshape(())], ys, [None], True, strict, "")
    h = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    return h[0][0] if single_in else h


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar func."""
    single_in, xs = _as_tuple(inputs, "inputs", "vhp")
    with grad_mode.enable_grad():
        xs = _prepare(xs, create_graph)
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("The function given to vhp should return a single Tensor with a single element")
        vs = _ones_v(xs, "input to the user-provided function") if v is None else _as_tuple(v, "v", "vhp")[1]
        _check_v(vs, xs, "vhp")
        g = _grads([out], xs, [None], True, strict, "")
        res = _grads(g, xs, vs, create_graph, strict, " (the vector-Hessian product)")
    out, res = _finish((out,), create_graph)[0], _finish(res, create_graph)
    return out, (res[0] if single_in else res)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the same as vhp for a symmetric Hessian, as PyTorch computes it."""
    return vhp(func, inputs, v, create_graph, strict)


__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]
