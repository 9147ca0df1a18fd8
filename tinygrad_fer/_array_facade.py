"""A NumPy-shaped face over recorded tensors, so one backward rule serves first and higher derivatives.

Built-in backward rules are written against NumPy's API (`xp.where(x > 0, g, 0)`, `g.sum(axis=0)`, `.astype`) and
run on raw arrays when nothing records them. Under `create_graph=True` the engine runs the same rule with its
gradient and saved values wrapped in `A` and `ctx.be` replaced by `GraphBackend`: every NumPy call becomes the
matching tensor op, recorded in the graph, so the gradient it returns can itself be differentiated. A rule may use
only what is defined here; anything else fails loudly (AttributeError) rather than leaving the graph.
"""
import numpy as np

from . import dtypes, kernels_ref
from .tensor import Tensor, _wrap_out


def _tg():
    import tinygrad_fer
    return tinygrad_fer


def T(x):
    """The tensor behind x (a constant tensor for a raw array; Python numbers pass through)."""
    if isinstance(x, A):
        return x.t
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float)) or x is None:
        return x
    if isinstance(x, np.generic):
        return x.item()
    return _wrap_out(x)


def _raw(x):
    return x.t._array if isinstance(x, A) else x


def _writable(a):
    if not a.fresh:   # a write through a view would not reach the array it views: the rule needs backward_graph
        raise AttributeError("a rule run under create_graph may write only into arrays it made with zeros/ones/full "
                             "(_array_facade.A)")


def _raw_index(idx):
    """An index as NumPy takes it (an A used as an index is a mask or positions: its array)."""
    if isinstance(idx, tuple):
        return tuple(i.t._array if isinstance(i, A) else i for i in idx)
    return idx.t._array if isinstance(idx, A) else idx


def wrap(x):
    return A(x) if isinstance(x, Tensor) else x


def _dt(dtype):
    return dtypes.from_np(np.dtype(dtype))


class A:
    """An array-like over a Tensor: NumPy's methods and operators, recorded as tensor ops."""
    __slots__ = ("t", "fresh")
    __array_priority__ = 2000   # ndarray (op) A defers to A's reflected operator

    def __init__(self, t, fresh=False):
        self.t = t
        self.fresh = fresh   # made by zeros/ones/full here: the only arrays a rule may write into

    shape = property(lambda self: tuple(self.t._array.shape))
    ndim = property(lambda self: self.t._array.ndim)
    size = property(lambda self: self.t._array.size)
    dtype = property(lambda self: self.t._array.dtype)
    T = property(lambda self: A(self.t.permute(*range(self.ndim - 1, -1, -1))))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        return A(self.t[_raw_index(idx)])

    def __bool__(self):   # a condition on a value (`if xp.isnan(out)`) is a constant branch
        return bool(self.t._array)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        return A(self.t.reshape(tuple(shape)))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        return A(self.t.permute(*(axes or range(self.ndim - 1, -1, -1))))

    def sum(self, axis=None, keepdims=False, dtype=None):
        t = self.t if dtype is None else self.t.type(_dt(dtype))
        return A(t.sum() if axis is None and not keepdims else t.sum(dim=axis, keepdim=keepdims))

    def mean(self, axis=None, keepdims=False):
        return A(self.t.mean() if axis is None and not keepdims else self.t.mean(dim=axis, keepdim=keepdims))

    def astype(self, dtype, copy=True):
        if np.dtype(dtype) == self.dtype:
            return A(self.t.clone(), fresh=True) if copy else self
        return A(self.t.type(_dt(dtype)), fresh=True)

    def copy(self):
        return A(self.t.clone(), fresh=True)

    def swapaxes(self, a, b):
        return A(self.t.transpose(a, b))

    def all(self):
        return bool(self.t._array.all())

    def any(self):
        return bool(self.t._array.any())

    def __setitem__(self, idx, value):
        """NumPy's assignment into a slice, as a recorded op: the A now holds the updated tensor (rules assign only
        into arrays they made, so nothing else sees the old one)."""
        from .ops.index import scatter_into
        _writable(self)
        idx = _raw_index(idx)
        v = T(value)
        if not isinstance(v, Tensor):
            v = _tg().full(self.t._array[idx].shape, v, dtype=self.t.dtype, device=self.t.device)
        v = v.expand(*self.t._array[idx].shape) if tuple(v.shape) != self.t._array[idx].shape else v
        covered = _wrap_out(self.t._be.xp.zeros(self.shape, bool))
        covered._array[idx] = True
        self.t = _tg().where(covered, scatter_into(v, self.shape, idx), self.t)

    def __repr__(self):
        return f"A({self.t!r})"


def _binary(name, reflected=False):
    def op(self, other):
        a, b = self.t, T(other)
        return A(getattr(b, name)(a)) if reflected and isinstance(b, Tensor) else A(getattr(a, name)(b))
    return op


for _n in ("add", "sub", "mul", "truediv", "pow", "matmul", "mod", "floordiv"):
    setattr(A, f"__{_n}__", _binary(f"__{_n}__"))
    setattr(A, f"__r{_n}__", _binary(f"__r{_n}__"))
for _n in ("lt", "le", "gt", "ge", "eq", "ne", "and", "or", "xor"):
    setattr(A, f"__{_n}__", _binary(f"__{_n}__"))
for _n in ("and", "or", "xor"):
    setattr(A, f"__r{_n}__", _binary(f"__{_n}__", reflected=True))
A.__neg__ = lambda self: A(-self.t)
A.__invert__ = lambda self: A(~self.t)
A.__abs__ = lambda self: A(self.t.abs())
A.__hash__ = None


def _unary(name):
    return lambda x: A(getattr(_tg(), name)(T(x)))


class GraphXP:
    """The `xp` a lifted rule sees: NumPy's functions over A values. Constants are made on `be`, the real backend."""

    def __init__(self, be):
        self._be = be

    def _const(self, a):
        return A(_wrap_out(a), fresh=True)

    def zeros(self, shape, dtype=np.float64):
        return self._const(self._be.xp.zeros(shape, dtype))

    def ones(self, shape, dtype=np.float64):
        return self._const(self._be.xp.ones(shape, dtype))

    def full(self, shape, value, dtype=None):
        return self._const(self._be.xp.full(shape, value, dtype))

    def zeros_like(self, x, dtype=None):
        return self.zeros(x.shape, dtype or x.dtype)

    def ones_like(self, x, dtype=None):
        return self.ones(x.shape, dtype or x.dtype)

    def full_like(self, x, value, dtype=None):
        return self.full(x.shape, value, dtype or x.dtype)

    @staticmethod
    def where(cond, a, b):
        if isinstance(cond, (bool, np.bool_)):
            return a if cond else b
        a, b = T(a), T(b)
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return A(_tg().where(T(cond), _tg().tensor(a), b))
        return A(_tg().where(T(cond), a, b))

    @staticmethod
    def maximum(a, b):
        return A(_tg().maximum(*_tensors(a, b)))

    @staticmethod
    def minimum(a, b):
        return A(_tg().minimum(*_tensors(a, b)))

    @staticmethod
    def logaddexp(a, b):
        return A(_tg().logaddexp(*_tensors(a, b)))

    @staticmethod
    def clip(x, lo, hi):
        return A(_tg().clamp(T(x), lo, hi))

    @staticmethod
    def moveaxis(x, source, destination):
        return A(_tg().movedim(T(x), source, destination))

    @staticmethod
    def flip(x, axis=None):
        t = T(x)
        axes = range(t.ndim) if axis is None else axis if isinstance(axis, (tuple, list)) else (axis,)
        return A(t.flip(tuple(axes)))

    @staticmethod
    def expand_dims(x, axis):
        t = T(x)
        for a in sorted(axis) if isinstance(axis, (tuple, list)) else (axis,):
            t = t.unsqueeze(a)
        return A(t)

    @staticmethod
    def broadcast_to(x, shape):
        return A(T(x).expand(*shape))

    @staticmethod
    def concatenate(xs, axis=0):
        return A(_tg().cat([T(x) for x in xs], dim=axis))

    @staticmethod
    def split(x, bounds, axis=0):
        t = T(x)
        edges = [0] + [int(b) for b in bounds] + [t.shape[axis]]
        return [A(t.narrow(axis, lo, hi - lo)) for lo, hi in zip(edges[:-1], edges[1:])]

    @staticmethod
    def matmul(a, b):
        return A(_tg().matmul(T(a), T(b)))

    @staticmethod
    def cumsum(x, axis):
        return A(_tg().cumsum(T(x), axis))

    @staticmethod
    def cumprod(x, axis):
        return A(_tg().cumprod(T(x), axis))

    @staticmethod
    def take_along_axis(x, idx, axis):
        return A(_tg().take_along_dim(T(x), T(idx), axis))

    @staticmethod
    def ascontiguousarray(x):
        return x

    def put_along_axis(self, a, idx, values, axis):
        grids = list(self._be.xp.indices(idx.shape, sparse=True))
        grids[axis] = idx
        a[tuple(grids)] = self.broadcast_to(values, idx.shape)

    @staticmethod
    def swapaxes(x, a, b):
        return x.swapaxes(a, b)

    @staticmethod
    def tril(x, k=0):
        return A(_tg().tril(T(x), k))

    @staticmethod
    def triu(x, k=0):
        return A(_tg().triu(T(x), k))

    @staticmethod
    def roll(x, shifts, axis=None):
        return A(_tg().roll(T(x), shifts, axis))

    @staticmethod
    def diagonal(x, offset=0, axis1=0, axis2=1):
        return A(_tg().diagonal(T(x), offset, axis1, axis2))

    @staticmethod
    def result_type(*xs):
        return np.result_type(*[x.dtype if isinstance(x, A) else x for x in xs])

    @staticmethod
    def erfc(x):
        return A(_tg().erfc(T(x)))

    @staticmethod
    def sigmoid(x):   # the tensor op, smooth at 0 (a formula split by sign would differentiate abs there)
        return A(_tg().sigmoid(T(x)))

    @staticmethod
    def floor_divide(a, b):   # piecewise constant: no derivative to record
        return A(_wrap_out(np.floor_divide(_raw(a), _raw(b))))

    @staticmethod
    def fmod(a, b):
        return A(_tg().fmod(*_tensors(a, b)))

    def empty_like(self, x, dtype=None):
        return self.zeros_like(x, dtype)

    def __getattr__(self, name):
        """Any other NumPy function makes constants only (positions, shapes, dtypes): called on a recorded value it
        would leave the graph, so that raises."""
        f = getattr(self._be.xp, name)

        def constant(*args, **kwargs):
            if any(isinstance(a, A) for a in list(args) + list(kwargs.values())):
                raise AttributeError(f"xp.{name} has no recorded-tensor form (_array_facade.GraphXP): this rule "
                                     "cannot run under create_graph")
            return f(*args, **kwargs)
        return constant

    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return x.sum(axis, keepdims)


for _n in ("exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "abs", "sign", "log1p", "expm1", "exp2",
           "isnan", "isfinite", "log2", "log10", "floor", "ceil", "trunc", "arctan", "reciprocal"):
    setattr(GraphXP, _n, staticmethod(_unary({"arctan": "atan"}.get(_n, _n))))


def _tensors(a, b):
    """Both operands as tensors (a Python number takes the other's dtype), so the tensor ops see no bare numbers."""
    a, b = T(a), T(b)
    if not isinstance(a, Tensor):
        a = _tg().full_like(b, a)
    elif not isinstance(b, Tensor):
        b = _tg().full_like(a, b)
    return a, b


class GraphBackend:
    """What `ctx.be` is for a lifted rule: `xp` as above, and the backend kernels a rule calls, written as tensor
    ops (each one the kernel's definition)."""

    def __init__(self, be):
        self.real = be
        self.xp = GraphXP(be)
        self.name = be.name

    @staticmethod
    def relu_backward(g, out):
        return A(_tg().where(T(out) > 0, T(g), 0.0))

    @staticmethod
    def sigmoid_backward(g, out):
        return A(kernels_ref.sigmoid_backward(T(g), T(out)))    # operators only: recorded as tensor ops

    def max_pool2d_backward(self, g, idx, x_shape):
        """Each gradient to its window's arg-max pixel: a scatter, whose own gradient gathers from those pixels."""
        from .ops.index import scatter_into
        xp, i = self.real.xp, _raw_index(idx)
        n, c, _, w = x_shape
        pos = (xp.arange(n)[:, None, None, None], xp.arange(c)[None, :, None, None], i // w, i % w)
        return A(scatter_into(T(g), x_shape, pos))

    def avg_pool2d_backward(self, g, x_shape, win, ceil_mode, count_include_pad, divisor_override):
        """Average pooling is linear: its gradient is the kernel's transpose, and that one's gradient the pooling."""
        from .ops.higher_order import LinearBackward
        from .ops.pool import AvgPool2d
        args = (win, ceil_mode, count_include_pad, divisor_override)
        be = self.real
        return A(LinearBackward.apply(T(g), lambda a: be.avg_pool2d_backward(a, x_shape, *args),
                                      lambda t: AvgPool2d.apply(t, *args)))

    @staticmethod
    def add_at(a, idx, v):
        """a[idx] += v with repeated positions adding up, recorded (the A holds the sum afterwards)."""
        from .ops.index import scatter_into
        _writable(a)
        a.t = a.t + scatter_into(T(v), a.shape, _raw_index(idx))
