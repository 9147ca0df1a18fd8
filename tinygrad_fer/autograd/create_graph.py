"""Backward with create_graph=True: each node's gradient rule runs on recorded tensors, so the gradients it returns
have a history of their own and can be differentiated again (Chainer's design).

How a node's rule is run (autograd.Function):
- a user Function's `backward` already works on Tensors: it runs with grad mode on;
- a built-in rule with `double = "lift"` runs unchanged on the NumPy face of _array_facade (its saved inputs and
  output become tensors that carry their history, as PyTorch's SavedVariable unpacks them);
- a built-in rule with `backward_graph(ctx, g)` (conv, pools: kernels with no NumPy spelling) gets the same ctx
  and writes its gradient with public, differentiable ops;
- any other rule computes its gradient on raw arrays and marks it once differentiable: differentiating that gradient
  raises PyTorch's "does not support double backward" error, never a silent zero.
"""

from .. import grad_mode
from .._array_facade import A, GraphBackend, T
from ..ops.higher_order import NoDoubleBackward
from ..tensor import Tensor, _wrap_out
from . import NOT_A_TENSOR, Function


def _edge_of(t):
    return (t._ctx or t) if isinstance(t, Tensor) and t.requires_grad else None


def saved_as_tensors(node):
    """The node's saved values with their history: a saved input is that input (its producer's output, or the leaf
    itself), the saved output is the node's own output; anything else is a constant."""
    saved = node.saved_tensors
    srcs = getattr(node, "_src", None) or (None,) * len(saved)
    out = []
    for s, src in zip(saved, srcs):
        if s is None or isinstance(s, Tensor) or not hasattr(s, "shape"):
            out.append(s)
            continue
        e = node if src == -1 else node.edges[src] if src is not None else None
        if isinstance(e, Function):
            t = _wrap_out(s)
            t._ctx, t._rg = e, True
        elif isinstance(e, Tensor) and e._array is s:
            t = e
        else:
            t = _wrap_out(s)
        out.append(t)
    return tuple(out)


class GraphCtx:
    """The ctx a rule sees under create_graph: saved values as tensors (wrapped in the NumPy face for a lifted
    rule), `be` the graph backend; every other attribute is the node's own."""

    def __init__(self, node, face):
        self._node, self._face = node, face
        self.needs_input_grad = node.needs_input_grad
        self.be = GraphBackend(node.be) if face else node.be

    def __getattr__(self, name):
        return getattr(self._node, name)

    @property
    def saved_tensors(self):
        ts = saved_as_tensors(self._node)
        return tuple(A(t) if isinstance(t, Tensor) else t for t in ts) if self._face else ts


def graph_backward(node, g):
    """The gradients of node's inputs as tensors recorded in the graph (g: the gradient of its output, a Tensor)."""
    cls = type(node)
    if not node.raw:
        out = node.backward(node, g)
        return out if type(out) is tuple else (out,)
    fn = getattr(cls, "backward_graph", None)
    if fn is not None:
        out = fn(GraphCtx(node, False), g)
        return out if type(out) is tuple else (out,)
    if cls.double == "lift":
        out = cls.backward(GraphCtx(node, True), A(g))
        out = out if type(out) is tuple else (out,)
        return tuple(T(o) if o is not None else None for o in out)
    return _once_differentiable(node, g)


def _once_differentiable(node, g):
    with grad_mode.no_grad():
        out = node.backward(node, g._array)
    out = out if type(out) is tuple else (out,)
    edges = tuple(e for e in (_edge_of(g),) + tuple(node.edges) if e is not None and e is not NOT_A_TENSOR)
    res = []
    for o in out:
        if o is None:
            res.append(None)
            continue
        t = o if isinstance(o, Tensor) else Tensor(o)
        if edges:
            t._ctx, t._rg = NoDoubleBackward.of(node, edges, t), True
        res.append(t)
    return tuple(res)
