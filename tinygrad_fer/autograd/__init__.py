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

from .. import dtypes, grad_mode
from ..backend_cpu import backend_cpu
from ..tensor import Tensor, _wrap_out
from . import anomaly

_SAVED_FREED = object()
NOT_A_TENSOR = "not a tensor"   # the edge of a non-tensor argument (a tensor that needs no gradient has None)


class Function:
    raw = False
    # how a built-in rule runs under create_graph (create_graph.py): "lift" runs `backward` itself on recorded
    # tensors; a `backward_graph` staticmethod is used where the class has one; otherwise it is once differentiable
    double = None
    __slots__ = ("edges", "needs_input_grad", "be", "saved", "_checks", "_src", "out_shape", "out_dtype", "__dict__")
    _hooks = None        # hooks of the tensor this node made (Tensor.register_hook), run on its gradient
    _retain_ref = None   # weak reference to that tensor when it retains its gradient (Tensor.retain_grad)

    # ---- introspection, as PyTorch's graph nodes ------------------------------------------------------------------
    def name(self):
        """PyTorch's name for this node (MulBackward0, ConvolutionBackward0, ...; a user Function's is
        <Class>Backward)."""
        cls = type(self).__name__
        if not self.raw:
            return cls + "Backward"
        torch_name = _TORCH_NAMES.get(cls)
        if callable(torch_name):
            torch_name = torch_name(self)
        return torch_name or cls + "Backward0"

    @property
    def next_functions(self):
        """(node, 0) per input: the node that made it, an AccumulateGrad for a leaf, or None."""
        return tuple((e if isinstance(e, Function) else None if e is None else _accumulator(e), 0)
                     for e in self.edges if e is not NOT_A_TENSOR)

    def register_hook(self, fn):
        raise NotImplementedError("hooks on graph nodes are not supported; use Tensor.register_hook")

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

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
                edges.append(NOT_A_TENSOR)
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
            if anomaly._on[0]:
                ctx._trace = anomaly.forward_stack()
            if ctx.saved:
                _record_versions(ctx, ctx.saved, args, result, out)
        else:
            ctx.saved = None  # nothing will read it: let the arrays go now
        if extras:
            return (result,) + tuple(_wrap_out(e) for e in extras)
        return result


_TORCH_NAMES = {
    "AdaptiveAvgPool2d": "AdaptiveAvgPool2DBackward0", "AdaptiveMaxPool2d": "AdaptiveMaxPool2DBackward0",
    "AvgPool2d": "AvgPool2DBackward0", "MaxPool2d": "MaxPool2DWithIndicesBackward0",
    "Conv2d": "ConvolutionBackward0", "ConvTranspose2d": "ConvolutionBackward0", "Fold": "Col2ImBackward0",
    "Unfold": "Im2ColBackward0", "BatchNorm": "NativeBatchNormBackward0", "NLLLoss": "NllLossBackward0",
    "BCEWithLogits": "BinaryCrossEntropyWithLogitsBackward0", "Linear": "AddmmBackward0", "Matmul": "MmBackward0",
    "Cast": "ToCopyBackward0", "ToDevice": "ToCopyBackward0", "Contiguous": "CloneBackward0",
    "Clamp": "ClampBackward1", "DivRounded": "DivBackward1", "GetItem": "IndexBackward0", "MaxMin": "MaxBackward0",
    "Overwrite": "CopyBackwards", "Pad": "ConstantPadNdBackward0", "Reshape": "ViewBackward0",
    "CopySlices": "CopySlices", "NoDerivative": "NotImplemented", "Leaky_relu": "LeakyReluBackward0",
    "Log1p": "Log1PBackward0",
    "Softmax": lambda n: "LogSoftmaxBackward0" if n.__dict__.get("log") else "SoftmaxBackward0",
}


class AccumulateGrad:
    """The graph's node for a leaf tensor (what next_functions shows): its gradient accumulates into .grad."""
    __slots__ = ("variable", "__weakref__")
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _accumulator(leaf):
    """The leaf's AccumulateGrad, the same object each time (PyTorch caches it while the leaf lives)."""
    meta = leaf._meta_()
    if meta.acc is None:
        meta.acc = AccumulateGrad(leaf)
    return meta.acc


def _record_versions(ctx, saved, args, result, out):
    # The version counters of what forward saved: modifying one in place before backward must raise.
    # Also where each saved array came from (input index, -1 for the output), for a rule run under create_graph.
    checks = []
    srcs = []
    for s in saved:
        src = None
        if s is None:
            pass
        elif isinstance(s, Tensor):
            checks.append((s._version, s._version[0]))
        elif s is result._array or s is out:   # (out: a NumPy scalar, before it was made an array)
            checks.append((result._version, result._version[0]))
            src = -1
        else:
            for i, a in enumerate(args):
                if isinstance(a, Tensor) and a._array is s:
                    checks.append((a._version, a._version[0]))
                    src = i
                    break
        srcs.append(src)
    ctx._checks = checks
    ctx._src = srcs


def _toposort(roots):
    """Nodes reachable from the root node(s), each after every node that consumes its output (iterative DFS)."""
    if isinstance(roots, Function):
        roots = [roots]
    order, seen = [], set()
    for r in roots:
        if id(r) in seen:
            continue
        seen.add(id(r))
        stack = [(r, iter(r.edges))]
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


def _root_grad(tensor, gradient, i=0, create_graph=False):
    be = tensor._be
    if gradient is None:
        if tensor._array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs, got shape "
                               f"{tuple(tensor.shape)}")
        return be.xp.ones(tensor._array.shape, dtype=tensor._array.dtype)
    g = gradient._array if isinstance(gradient, Tensor) else be.asarray(gradient, tensor._array.dtype)
    if g.shape != tensor._array.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {tuple(g.shape)} and output[{i}] "
                           f"has a shape of {tuple(tensor.shape)}.")
    if create_graph and isinstance(gradient, Tensor):
        return gradient if gradient._array.dtype == g.dtype else gradient.type(tensor.dtype)
    return g


def _run_hooks(hooks, g, create_graph=False):
    for h in list(hooks):
        r = h(g if create_graph else Tensor(g))
        if r is not None:
            g = r if create_graph else r._array if isinstance(r, Tensor) else r
    return g


def _accumulate(t, g, create_graph):
    if not create_graph:
        _accumulate_leaf(t, g)
    else:  # the gradient keeps its history, and a second pass adds out of place (as PyTorch's AccumulateGrad)
        t.grad = g if t.grad is None else t.grad + g


_callbacks = []   # per backward pass running now (innermost last): what queue_callback asked to run at its end


def queue_callback(callback):
    """Run callback() once the backward pass running now has finished, after every leaf's gradient is accumulated
    (PyTorch's Variable._execution_engine.queue_callback; DistributedDataParallel waits for its all-reduces there).
    Only valid inside a backward pass, e.g. from a hook."""
    if not _callbacks:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _callbacks[-1].append(callback)


def _last_uses(order):
    """Node index -> the leaves whose gradient is complete once that node has run (no later node feeds them)."""
    last = {}
    for i, node in enumerate(order):
        for e in node.edges:
            if isinstance(e, Tensor):   # a leaf (the other edges: nodes, None, NOT_A_TENSOR)
                last[id(e)] = i
    due = {}
    for k, i in last.items():
        if i in due:
            due[i].append(k)
        else:
            due[i] = [k]
    return due


def _finish_leaf(k, leaf, g, capture, create_graph):
    # a leaf's hooks see its whole gradient from this pass, then it accumulates, as PyTorch's AccumulateGrad
    meta = leaf._meta
    if meta is not None and meta.hooks:
        g = _run_hooks(meta.hooks, g, create_graph)
    if capture is not None:
        if k in capture:
            capture[k] = g
        return
    _accumulate(leaf, g, create_graph)
    if meta is not None and meta.post_hooks:
        for h in list(meta.post_hooks):
            h(leaf)


def _engine(roots, retain_graph, capture=None, create_graph=False):
    """The backward sweep. roots: (tensor, gradient array) pairs. Without capture, leaf gradients accumulate into
    .grad; with capture (id of a node or leaf -> None, for autograd.grad) the gradients reaching those are recorded
    there instead and no .grad changes. With create_graph the gradients are Tensors recorded in the graph."""
    _then_callbacks(_sweep, roots, retain_graph, capture, create_graph)


def _then_callbacks(run, *args):
    """run(*args) as a backward pass: then what it queued with queue_callback (not when it raised)."""
    _callbacks.append([])
    try:
        run(*args)
    except BaseException:
        _callbacks.pop()
        raise
    queued = _callbacks[-1]
    try:
        while queued:   # a callback may queue another
            queued.pop(0)()
    finally:
        _callbacks.pop()


def _sweep(roots, retain_graph, capture, create_graph):
    if create_graph:
        from .create_graph import graph_backward
        roots = [(t, g if isinstance(g, Tensor) else Tensor(g)) for t, g in roots]
    leaf_grads = {}
    grads = {}
    nodes = []
    check_nan = anomaly._on[0] and anomaly._on[1]
    for t, g in roots:
        if t._ctx is None:
            k = id(t)
            leaf_grads[k] = (t, g if k not in leaf_grads else leaf_grads[k][1] + g)
        else:
            k = id(t._ctx)
            grads[k] = g if k not in grads else grads[k] + g
            nodes.append(t._ctx)
    with grad_mode.enable_grad() if create_graph else grad_mode.no_grad():
        order = _toposort(nodes) if nodes else ()
        # a leaf finishes as soon as the last node feeding it has run, not at the end of the sweep: its hooks then
        # run while the rest of backward still computes (DistributedDataParallel starts all-reduces from them)
        due = _last_uses(order)
        for step, node in enumerate(order):
            g = grads.pop(id(node), None)
            if g is None:
                if not retain_graph:
                    _release(node)
                for k in due.get(step, ()):
                    if k in leaf_grads:
                        _finish_leaf(k, *leaf_grads.pop(k), capture, create_graph)
                continue
            if node.saved is _SAVED_FREED:
                raise RuntimeError(_FREED_MSG)
            if node._hooks:
                g = _run_hooks(node._hooks, g, create_graph)
            if capture is not None:
                if id(node) in capture:
                    capture[id(node)] = g
            elif node._retain_ref is not None:
                t = node._retain_ref()
                if t is not None and t._ctx is node:
                    _accumulate(t, g, create_graph)
            if create_graph:
                in_grads = graph_backward(node, g)
            else:
                in_grads = node.backward(node, g) if node.raw else node.backward(node, Tensor(g))
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if not retain_graph:
                _release(node)
            edges = node.edges
            if len(in_grads) < len(edges):
                raise RuntimeError(f"function {type(node).__name__}.backward returned {len(in_grads)} gradients, "
                                   f"expected {len(edges)}")
            for i, (e, pg) in enumerate(zip(edges, in_grads)):
                if pg is None or e is None or e is NOT_A_TENSOR:
                    continue
                if check_nan:
                    anomaly.check_gradient(node, i, pg)
                if isinstance(pg, Tensor) != create_graph:
                    pg = Tensor(pg) if create_graph else pg._array
                if isinstance(e, Function):
                    shape, dtype = e.out_shape, e.out_dtype
                else:
                    shape, dtype = e._array.shape, e._array.dtype
                arr = pg._array if create_graph else pg
                if arr.shape != shape:
                    pg = _unbroadcast(pg, shape)
                    if tuple(pg.shape) != shape:
                        raise RuntimeError(f"Function {type(node).__name__} returned an invalid gradient - got "
                                           f"{list(pg.shape)} but expected shape {list(shape)}")
                    arr = pg._array if create_graph else pg
                if arr.dtype != dtype:
                    pg = pg.type(dtypes.from_np(dtype)) if create_graph else pg.astype(dtype)
                k = id(e)
                if not isinstance(e, Function):
                    prev = leaf_grads.get(k)
                    leaf_grads[k] = (e, pg) if prev is None else (e, prev[1] + pg)
                else:
                    prev = grads.get(k)
                    grads[k] = pg if prev is None else prev + pg
            for k in due.get(step, ()):
                if k in leaf_grads:
                    _finish_leaf(k, *leaf_grads.pop(k), capture, create_graph)
        for k, (leaf, g) in leaf_grads.items():   # leaves that were roots themselves
            _finish_leaf(k, leaf, g, capture, create_graph)


def backward(tensor, gradient=None, retain_graph=None, inputs=None, create_graph=False):
    """torch.autograd.backward: accumulate the gradients of tensor (a tensor or a sequence) into the leaves' .grad
    (or only into `inputs`)."""
    tensors = list(tensor) if isinstance(tensor, (tuple, list)) else [tensor]
    gradients = list(gradient) if isinstance(gradient, (tuple, list)) else [gradient] * len(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = []
    for i, (t, g) in enumerate(zip(tensors, gradients)):
        t._node()
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append((t, _root_grad(t, g, i, create_graph)))
    if inputs is None:
        _engine(roots, retain_graph, create_graph=create_graph)
        return
    _then_callbacks(_backward_into, roots, inputs, retain_graph, create_graph)


def _backward_into(roots, inputs, retain_graph, create_graph):
    got = grad([t for t, _ in roots], inputs, [g if isinstance(g, Tensor) else Tensor(g) for _, g in roots],
               retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    for x, g in zip(inputs, got):
        if g is not None:
            _accumulate(x, g if create_graph else g._array, create_graph)
            meta = x._meta
            if x._ctx is None and meta is not None and meta.post_hooks:
                for h in list(meta.post_hooks):
                    h(x)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Gradients of outputs with respect to inputs, returned instead of accumulated into .grad (torch.autograd.grad).
    """
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not supported")
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} for {len(outputs)}")
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    roots = []
    for i, (t, g) in enumerate(zip(outputs, grad_outputs)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append((t, _root_grad(t, g, i, create_graph)))
    keys = []
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, not {type(x).__name__}")
        if not x.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        node = x.grad_fn
        keys.append(id(node) if node is not None else id(x))
    capture = dict.fromkeys(keys)
    _engine(roots, bool(retain_graph), capture, create_graph)
    out = []
    for x, k in zip(inputs, keys):
        g = capture[k]
        if g is None:
            if materialize_grads:
                out.append(Tensor(x._be.xp.zeros(x._array.shape, dtype=x._array.dtype)))
                continue
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                                   "Set allow_unused=True if this is the desired behavior.")
            out.append(None)
            continue
        out.append(g if create_graph else Tensor(g.copy()))  # the engine may hand one array to several inputs
    return tuple(out)


# gradcheck lives with the testing toolkit (tinygrad_fer.testing); the name stays here, where code and docs import it
from ..testing._gradcheck import gradcheck, gradgradcheck  # noqa: E402,F401
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled  # noqa: E402,F401
