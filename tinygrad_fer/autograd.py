"""Graph nodes (Function), the backward pass, and numeric gradient checking.

Every op, built-in or user-written, is a Function subclass: `apply` runs `forward`, and when grad mode is on and an
input requires grad it records the Function instance itself as the graph node (it doubles as `ctx`). Built-in ops
set `raw = True`: their forward/backward see backend arrays, which keeps per-op overhead to a few microseconds;
user Functions see Tensors, as in PyTorch.

A node's `edges` point at the *nodes* that made its inputs (a leaf input is its own edge), never at the input
Tensors: an in-place op later gives a tensor a new node, and must not change the history of its earlier uses.
Every node has one differentiable output, so an edge needs no output index.
"""
import numpy as np

from . import grad_mode
from .backend_cpu import backend_cpu
from .tensor import Tensor, _wrap_out

_SAVED_FREED = object()


class Function:
    raw = False
    __slots__ = ("edges", "needs_input_grad", "be", "saved", "_checks", "out_shape", "out_dtype", "__dict__")

    def save_for_backward(self, *xs):
        self.saved = xs

    def mark_non_differentiable(self, *xs):
        pass  # extra outputs of `forward` are never differentiable here

    @property
    def saved_tensors(self):
        s = self.saved
        if s is _SAVED_FREED:
            raise RuntimeError(_FREED_MSG)
        for vc, v in getattr(self, "_checks", ()):
            if vc[0] != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: {type(self).__name__} saved a tensor at version {v}, which is now at version "
                    f"{vc[0]}. Hint: do the in-place change on a copy (x = x.clone()) or after backward().")
        return () if s is None else s

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must implement backward(ctx, grad) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls()
        ctx.saved = None
        raw = cls.raw
        needs = []
        edges = []
        first = None
        arrays = [] if raw else args
        for a in args:
            if isinstance(a, Tensor):
                if a._view is not None and a._view[1] is not a._view[0]._ctx and grad_mode._state.enabled:
                    a._sync_view()  # an in-place op rewrote this view's base since the view last recorded
                rg = a._rg
                needs.append(rg)
                edges.append((a._ctx or a) if rg else None)
                if first is None:
                    first = a
                elif type(a._array) is not type(first._array):
                    raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                                       f"devices, {first.device} and {a.device}!")
                if raw:
                    arrays.append(a._array)
            else:
                needs.append(False)
                edges.append(None)
                if raw:
                    arrays.append(a)
        ctx.be = backend_cpu if first is None or type(first._array) is np.ndarray else first._be
        record = True in needs and grad_mode._state.enabled
        ctx.needs_input_grad = needs
        if raw:
            out = cls.forward(ctx, *arrays, **kwargs)
        else:
            with grad_mode.no_grad():
                out = cls.forward(ctx, *args, **kwargs)
        extras = ()
        if type(out) is tuple:
            out, extras = out[0], out[1:]
        if not raw:
            out = out._array if isinstance(out, Tensor) else out
            extras = tuple(e._array if isinstance(e, Tensor) else e for e in extras)
        result = _wrap_out(out)
        if record:
            result._rg = True
            result._ctx = ctx
            ctx.edges = tuple(edges)
            ctx.out_shape, ctx.out_dtype = result._array.shape, result._array.dtype
            if ctx.saved:
                _record_versions(ctx, ctx.saved, args, result)
        else:
            ctx.saved = None  # nothing will read it: let the arrays go now
        if extras:
            return (result,) + tuple(_wrap_out(e) for e in extras)
        return result


def _record_versions(ctx, saved, args, result):
    # The version counters of what forward saved: modifying one in place before backward must raise.
    checks = []
    for s in saved:
        if s is None:
            continue
        if isinstance(s, Tensor):
            checks.append((s._version, s._version[0]))
            continue
        if s is result._array:
            checks.append((result._version, result._version[0]))
            continue
        for a in args:
            if isinstance(a, Tensor) and a._array is s:
                checks.append((a._version, a._version[0]))
                break
    ctx._checks = checks


def _toposort(root):
    """Nodes reachable from root, each after every node that consumes its output (iterative DFS)."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root.edges))]
    while stack:
        node, it = stack[-1]
        for p in it:
            if isinstance(p, Function) and id(p) not in seen:
                seen.add(id(p))
                stack.append((p, iter(p.edges)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _unbroadcast(g, shape):
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra < 0:
        return g.reshape(shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, n in enumerate(shape) if n == 1 and g.shape[i + extra] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if extra else g


def _accumulate_leaf(t, g):
    if t.grad is None:
        # a copy: the same gradient array may be handed to several inputs (e.g. by add)
        t.grad = Tensor(g.astype(t._array.dtype, copy=True))
    else:
        t.grad._array += g


_FREED_MSG = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
              "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
              "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or "
              "if you need to access saved tensors after calling backward.")


_PLAIN = frozenset((int, float, bool, str, type(None), slice, type(Ellipsis)))


def _holds_array(v):
    t = type(v)
    if t in _PLAIN:
        return False
    if t is np.ndarray:
        return True
    if isinstance(v, (tuple, list)):
        return any(type(x) not in _PLAIN and _holds_array(x) for x in v)
    return isinstance(v, (np.ndarray, Tensor)) or t.__module__.startswith("cupy")


def _release(node):
    """After a backward without retain_graph: drop the arrays forward kept (saved, or set as attributes) and keep the
    edges and small attributes for introspection. Only a node that saved something refuses a second backward, as in
    PyTorch (a node that saved nothing, such as an add, can be gone through again)."""
    s = node.saved
    freed = False
    if s is not None and s is not _SAVED_FREED:
        for v in s:
            if v is not None:
                freed = True
                break
    d = node.__dict__
    if d:
        for k in [k for k, v in d.items() if _holds_array(v)]:
            del d[k]
            freed = True
    if freed:
        node.saved = _SAVED_FREED
        node._checks = ()


def backward(tensor, gradient=None, retain_graph=False):
    if tensor._view is not None and tensor._view[1] is not tensor._view[0]._ctx and grad_mode._state.enabled:
        tensor._sync_view()
    if not tensor.requires_grad:
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    be = tensor._be
    if gradient is None:
        if tensor._array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got shape "
                               f"{tuple(tensor.shape)}")
        g = be.xp.ones(tensor._array.shape, dtype=tensor._array.dtype)
    else:
        g = gradient._array if isinstance(gradient, Tensor) else be.asarray(gradient, tensor._array.dtype)
        if g.shape != tensor._array.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(g.shape)} and output[0] "
                               f"has a shape of {tuple(tensor.shape)}.")
    if tensor._ctx is None:
        _accumulate_leaf(tensor, g)
        return
    with grad_mode.no_grad():
        grads = {id(tensor._ctx): g}
        for node in _toposort(tensor._ctx):
            g = grads.pop(id(node), None)
            if g is None:
                if not retain_graph:
                    _release(node)
                continue
            if node.saved is _SAVED_FREED:
                raise RuntimeError(_FREED_MSG)
            if node.raw:
                in_grads = node.backward(node, g)
            else:
                in_grads = node.backward(node, Tensor(g))
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if not retain_graph:
                _release(node)
            edges = node.edges
            if len(in_grads) < len(edges):
                raise RuntimeError(f"function {type(node).__name__}.backward returned {len(in_grads)} gradients, "
                                   f"expected {len(edges)}")
            for e, pg in zip(edges, in_grads):
                if pg is None or e is None:
                    continue
                if isinstance(pg, Tensor):
                    pg = pg._array
                if isinstance(e, Function):
                    shape, dtype = e.out_shape, e.out_dtype
                else:
                    shape, dtype = e._array.shape, e._array.dtype
                if pg.shape != shape:
                    pg = _unbroadcast(pg, shape)
                    if pg.shape != shape:
                        raise RuntimeError(f"Function {type(node).__name__} returned an invalid gradient - got "
                                           f"{list(pg.shape)} but expected shape {list(shape)}")
                if pg.dtype != dtype:
                    pg = pg.astype(dtype)
                if not isinstance(e, Function):
                    _accumulate_leaf(e, pg)
                else:
                    k = id(e)
                    prev = grads.get(k)
                    grads[k] = pg if prev is None else prev + pg


# gradcheck lives with the testing toolkit (tinygrad_fer.testing); the name stays here, where code and docs import it
from .testing._gradcheck import gradcheck  # noqa: E402,F401
