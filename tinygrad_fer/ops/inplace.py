"""In-place ops (add_, mul_, relu_, zero_, fill_, copy_, __setitem__, ...) and the graph surgery they need.

An in-place op computes its result out of place from a copy of the old value (so a node it records never reads
memory that it then overwrites), writes the result into the tensor's memory (views of it see the change), and
gives the tensor a new node. Earlier consumers keep edges to the old node, so their gradients do not change.

When the tensor is a view into a root tensor's memory, the root's history is rebased as in PyTorch: the root gets
a CopySlices node (the old root with the written region replaced by the new values), and every view of that root
re-reads its history from it the next time it is used (AsStrided, see Tensor._sync_view). Both address the
region by the flat positions of its elements in the root, found from the arrays' strides and data pointers, so
any view (slices, transposes, reshapes, expands, chains of them) and any index (basic or advanced) work the same.
"""
import numpy as np

from .. import dtypes, grad_mode
from ..autograd import Function
from ..tensor import Tensor
from .index import _is_basic, to_index


def _byte_offsets(xp, a):
    """Each element's byte offset from a's first element, from its strides."""
    pos = xp.zeros(a.shape, dtype=np.int64)
    for k, (n, st) in enumerate(zip(a.shape, a.strides)):
        pos = pos + (xp.arange(n, dtype=np.int64) * st).reshape((n,) + (1,) * (a.ndim - 1 - k))
    return pos


def _view_index(be, root, view):
    """For each element of `view` (an array into root's memory), its flat position in root."""
    xp = be.xp
    pos = _byte_offsets(xp, view) + (be.data_ptr(view) - be.data_ptr(root))
    if root.flags.c_contiguous:
        return pos // root.itemsize
    rpos = _byte_offsets(xp, root).reshape(-1)
    order = xp.argsort(rpos, kind="stable")
    return order[xp.searchsorted(rpos[order], pos)]


class CopySlices(Function):
    """The root after a write into the positions `index`: the old root elsewhere, `value` there."""
    raw = True

    @staticmethod
    def forward(ctx, base, value, index):
        ctx.index = index
        return base  # the write has already happened in the root's memory

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        gb = gv = None
        if n[0]:
            gb = g.copy()  # C order, so the flat view below writes into it
            gb.reshape(-1)[ctx.index.reshape(-1)] = 0
        if n[1]:
            gv = g.reshape(-1)[ctx.index]
        return gb, gv, None

    @staticmethod
    def backward_graph(ctx, g):   # the same, as recorded ops: a constant mask, and a gather
        n = ctx.needs_input_grad
        gb = gv = None
        if n[0]:
            keep = ctx.be.xp.ones(g.numel(), dtype=g._array.dtype)
            keep[ctx.index.reshape(-1)] = 0
            gb = g * Tensor(keep.reshape(tuple(g.shape)))
        if n[1]:
            gv = g.reshape(-1)[(ctx.index,)]
        return gb, gv, None


class AsStrided(Function):
    """A view's history re-read from its root after the root was rewritten in place."""
    raw = True

    @staticmethod
    def forward(ctx, base, view, index):
        ctx.index, ctx.shape = index, base.shape
        return view

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        size = int(np.prod(ctx.shape))
        # bincount sums repeated positions (an expanded view), which plain assignment would drop
        gb = xp.bincount(ctx.index.reshape(-1), weights=g.reshape(-1).astype(np.float64), minlength=size)
        return gb.astype(g.dtype).reshape(ctx.shape), None, None

    @staticmethod
    def backward_graph(ctx, g):
        from .index import scatter_into
        size = int(np.prod(ctx.shape))
        return scatter_into(g.reshape(-1), (size,), (ctx.index.reshape(-1),)).reshape(ctx.shape), None, None


class Overwrite(Function):
    """fill_ / copy_ / zero_ / random fills: the new value is src (broadcast, cast); the old value gets no grad."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, old, src):
        xp = ctx.be.xp
        return xp.array(xp.broadcast_to(xp.asarray(src), old.shape), dtype=old.dtype)

    @staticmethod
    def backward(ctx, g):
        n = ctx.needs_input_grad
        return (ctx.be.xp.zeros_like(g) if n[0] else None), (g if n[1] else None)


# ---- Tensor methods ------------------------------------------------------------------------------
def _sync_view(self):
    root, _, multi = self._view
    out = AsStrided.apply(root, self._array, _view_index(root._be, root._array, self._array))
    self._ctx, self.requires_grad = out._ctx, out.requires_grad
    self._view = (root, root._ctx, multi)


def _check_inplace(self):
    if not grad_mode._state.enabled:
        return
    v = self._view
    if v is not None:
        if v[1] is not v[0]._ctx:
            if self._ctx is None and v[0]._rg:
                # taken before its root needed grad and not used since: PyTorch still sees a leaf here
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            self._sync_view()
        root = v[0]
        if root.requires_grad and root._ctx is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if v[2] and self.requires_grad:
            raise RuntimeError(f"{v[2]} is a view and is being modified inplace. This view is the "
                               "output of a function that returns multiple views. Such functions do not allow the "
                               "output views to be modified inplace. You should replace the inplace operation by an "
                               "out-of-place one.")
    elif self.requires_grad and self._ctx is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def _overlaps(a):
    # NumPy gives an empty array zero strides: nothing is shared when there are no elements
    return a.size > 0 and any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides))


def _write(self, value, index=None, fill=False):
    """Store value into self (self[index]); a fill may go through memory that several elements share (expand)."""
    dst = self._array
    region = dst if index is None or fill else dst[index] if _is_basic(index) else dst
    if not getattr(dst.flags, "writeable", True) or (not fill and _overlaps(region)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.")
    try:
        if index is None:
            dst[...] = value
        else:
            dst[index] = value
    except ValueError:
        region = dst.shape if index is None else dst[index].shape
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(np.shape(value))} cannot be broadcast to "
                           f"indexing result of shape {list(region)}") from None
    self._version[0] += 1


def _record_write(self, res, index=None):
    """Write res (a recorded result) into self[index] (all of self when index is None) and rebase the history."""
    self._write(res._array, index)
    node = res._ctx
    if node is not None and index is None and node.saved:
        # the op saved its own output, which now lives in self: a later in-place change of self must be caught
        r, ver = res._array, self._version
        node.saved = tuple(self._array if s is r else s for s in node.saved)
        node._checks = [(ver, ver[0]) if vc is res._version else (vc, v) for vc, v in getattr(node, "_checks", ())]
    if self._view is None and index is None:
        self._ctx, self.requires_grad = node, node is not None
        return
    root = self if self._view is None else self._view[0]
    be, ra = root._be, root._array
    own = be.xp.arange(ra.size).reshape(ra.shape) if self._view is None else _view_index(be, ra, self._array)
    stand = Tensor(ra, root.requires_grad)
    stand._ctx = root._ctx
    out = CopySlices.apply(stand, res, own if index is None else own[index])
    root._ctx, root.requires_grad = out._ctx, out.requires_grad
    if self._view is not None:
        self._sync_view()


def _check_result(self, res):
    if res._array.shape != self._array.shape:
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(res.shape)}")
    if res.dtype.category > self.dtype.category:
        raise RuntimeError(f"result type {res.dtype} can't be cast to the desired output type {self.dtype}")


def _inplace(self, op, *others, **kw):
    """Run `op(self, *others, **kw)` out of place, then make self hold the result (recorded in the graph when grad
    is on and self or another operand requires grad)."""
    self._check_inplace()
    if not (grad_mode._state.enabled and (self._rg or any(isinstance(o, Tensor) and o.requires_grad
                                                           for o in others))):
        with grad_mode.no_grad():
            res = op(self, *others, **kw)
        _check_result(self, res)
        self._write(res._array)
        return self
    old = Tensor(self._array.copy(), self._rg)
    old._ctx = self._ctx
    res = op(old, *others, **kw)
    _check_result(self, res)
    if res.dtype is not self.dtype:
        res = res.type(self.dtype)  # a recorded cast, as PyTorch casts in-place results to self's dtype
    self._record_write(res)
    return self


def _overwrite(self, src):
    """Make every element src (a scalar, or an array/Tensor broadcast to self's shape)."""
    if grad_mode._state.enabled:
        self._check_inplace()  # brings a view's history up to date first
        if self._rg or (isinstance(src, Tensor) and src._rg):
            return self._inplace(Overwrite.apply, src)
    self._write(src._array if isinstance(src, Tensor) else src, fill=not isinstance(src, (Tensor, np.ndarray)))
    return self


def zero_(self):
    return self._overwrite(0)


def fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        if not value.requires_grad:  # a tensor's value is cast as tensors are (wrapping), a number is range-checked
            value = dtypes.checked_scalar(value.item(), self.dtype, wrap=True)
    else:
        value = dtypes.checked_scalar(value, self.dtype)
    return self._overwrite(value)


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
    try:
        if np.broadcast_shapes(src._array.shape, self._array.shape) != self._array.shape:
            raise ValueError
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({list(self.shape)}) must match the size of tensor b "
                           f"({list(src.shape)})") from None
    if src is self:  # as PyTorch: no data moves (so no overlap to refuse), but it still counts as a write
        self._check_inplace()
        self._version[0] += 1
        return self
    if src._be is not self._be:
        src = src.to(self.device)
    return self._overwrite(src)


def uniform_(self, a=0.0, b=1.0, generator=None):
    rng = (generator or self._be).rng
    return self._overwrite(rng.uniform(a, b, self._array.shape))


def normal_(self, mean=0.0, std=1.0, generator=None):
    rng = (generator or self._be).rng
    return self._overwrite(rng.normal(mean, std, self._array.shape))


def setitem(self, idx, value):
    index = to_index(idx, self._array.shape)
    on = grad_mode._state.enabled
    self._node()
    is_t = isinstance(value, Tensor)
    if is_t and value._be is not self._be:
        value = value.to(self.device)
    if not (on and (self.requires_grad or (is_t and value.requires_grad))):
        self._write(value._array if is_t else dtypes.checked_scalar(value, self.dtype), index)
        return
    self._check_inplace()
    if not is_t:
        value = Tensor(self._be.xp.asarray(dtypes.checked_scalar(value, self.dtype), dtype=self._array.dtype))
    elif value.dtype is not self.dtype:
        value = value.type(self.dtype)
    self._record_write(value, index)


def _inplace_of(name):
    def method(self, *args, **kwargs):
        return self._inplace(lambda a, *o: getattr(a, name)(*o, **kwargs), *args)
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place {name}: self = self.{name}(...), recorded in the graph as PyTorch does."
    return method


class InplaceMethods:
    """Tensor's in-place methods and the graph surgery behind them (tinygrad_fer/_tensor_api.py makes Tensor inherit
    them)."""
    __slots__ = ()
    _sync_view, _check_inplace, _write, _record_write = _sync_view, _check_inplace, _write, _record_write
    _inplace, _overwrite, __setitem__ = _inplace, _overwrite, setitem
    zero_, fill_, copy_, uniform_, normal_ = zero_, fill_, copy_, uniform_, normal_

    def add_(self, other, alpha=1):
        return self._inplace(lambda a, b: a + b * alpha if alpha != 1 else a + b, other)

    def sub_(self, other, alpha=1):
        return self._inplace(lambda a, b: a - b * alpha if alpha != 1 else a - b, other)

    def mul_(self, other):
        return self._inplace(lambda a, b: a * b, other)

    def div_(self, other):
        return self._inplace(lambda a, b: a / b, other)

    def pow_(self, other):
        return self._inplace(lambda a, b: a ** b, other)

    __iadd__, __isub__, __imul__, __itruediv__, __ipow__ = add_, sub_, mul_, div_, pow_

    def clamp_(self, min=None, max=None):
        return self._inplace(lambda a: a.clamp(min, max))

    clip_ = clamp_

    def relu_(self):
        return self._inplace(lambda a: a.relu())

    def masked_fill_(self, mask, value):
        return self._inplace(lambda a, m, v: a.masked_fill(m, v), mask, value)

    # the value-changing in-place variants PyTorch has for out-of-place methods we have
    abs_, ceil_, cos_, exp_, expm1_ = (_inplace_of(n) for n in ("abs", "ceil", "cos", "exp", "expm1"))
    floor_, log_, log1p_, neg_ = (_inplace_of(n) for n in ("floor", "log", "log1p", "neg"))
    reciprocal_, round_, rsqrt_, sigmoid_ = (_inplace_of(n) for n in ("reciprocal", "round", "rsqrt", "sigmoid"))
    sign_, sin_, sqrt_, square_, tanh_ = (_inplace_of(n) for n in ("sign", "sin", "sqrt", "square", "tanh"))
    divide_ = _inplace_of("divide")
    eq_, ne_, lt_, le_, gt_, ge_ = (_inplace_of(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
    logical_and_, logical_or_, logical_not_ = (_inplace_of(n) for n in ("logical_and", "logical_or",
                                                                        "logical_not"))
