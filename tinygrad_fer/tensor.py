"""Tensor: a backend array plus what autograd needs (requires_grad, grad, the node that made it, a version counter).

Op methods (`+`, `exp`, `sum`, `reshape`, `add_`, ...) are declared by the modules in ops/, each family in a mixin
class next to its ops; Tensor inherits them through TensorMethods (tinygrad_fer/_tensor_api.py).
"""
from typing import TYPE_CHECKING

import numpy as np

from . import backend, dtypes, grad_mode
from .backend_cpu import backend_cpu
from .dtypes import DType

if TYPE_CHECKING:
    from ._tensor_api import TensorMethods as _OpMethods
else:
    class _OpMethods:
        """Stand-in base until _tensor_api.py replaces it with TensorMethods, the op families' mixins (the ops import
        this module, so it cannot import them)."""
        __slots__ = ()


class Tensor(_OpMethods):
    # _view: (root tensor, the root's node when this view last recorded its history, whether a multi-output op
    # made it) for a tensor whose array is a view into another tensor's memory, else None
    __slots__ = ("_array", "_rg", "grad", "_ctx", "_version", "_view", "_meta", "__weakref__")
    __array_priority__ = 1000  # so numpy_array + tensor defers to Tensor.__radd__

    def __init__(self, data, requires_grad=False):
        if type(data) is not np.ndarray:
            data = _coerce(data)
        self._array = data
        self._rg = requires_grad
        self.grad = None
        self._ctx = None
        self._version = [0]  # shared with views, so an in-place change through any of them is seen
        self._view = None
        self._meta = None   # _Meta (hooks of a leaf, its AccumulateGrad) once something needs it

    # ---- what a tensor is -------------------------------------------------------------------------
    @property
    def _be(self):
        return backend_cpu if type(self._array) is np.ndarray else backend.of(self._array)

    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self._array.shape[_dim(dim, self._array.ndim)]

    @property
    def ndim(self):
        return self._array.ndim

    def dim(self):
        return self._array.ndim

    def numel(self):
        return int(self._array.size)

    nelement = numel

    def element_size(self):
        return self._array.itemsize

    @property
    def dtype(self):
        return dtypes.from_np(self._array.dtype)

    @property
    def device(self):
        be = self._be
        return backend.CPU if be is backend_cpu else backend.device("cuda", be.device_index(self._array))

    @property
    def is_cuda(self):
        return self._be is not backend_cpu

    @property
    def is_cpu(self):
        return self._be is backend_cpu

    # devices PyTorch has and this engine does not: asked, they answer False
    is_xpu = is_mps = property(lambda self: False)

    @property
    def requires_grad(self):
        v = self._view
        if v is not None and v[1] is not v[0]._ctx:
            return v[0]._rg  # an in-place op gave the root a history after this view was taken
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self._rg = value

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad_fn(self):
        return self._node()

    def _node(self):
        """The node that made this tensor, after bringing a view's history up to date if an in-place op rewrote its
        root since (Function.apply does the same check inline, on its hot path)."""
        v = self._view
        if v is not None and v[1] is not v[0]._ctx and grad_mode._state.enabled:
            self._sync_view()
        return self._ctx

    def is_floating_point(self):
        return self._array.dtype.kind == "f"

    def is_contiguous(self):
        return bool(self._array.flags.c_contiguous)

    def stride(self, dim=None):
        s = tuple(st // self._array.itemsize for st in self._array.strides)
        return s if dim is None else s[_dim(dim, self._array.ndim)]

    def data_ptr(self):
        return self._be.data_ptr(self._array)

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self._be.to_numpy(self._array).reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    # ---- leaving the engine -----------------------------------------------------------------------
    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if self._be is not backend_cpu and not force:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to copy "
                            "the tensor to host memory first.")
        return self._be.to_numpy(self._array)

    def item(self):
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted to Scalar")
        return self._be.to_numpy(self._array).reshape(()).item()

    def tolist(self):
        return self._be.to_numpy(self._array).tolist()

    def __repr__(self):
        from .utils.printing import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._array.ndim == 0:
            return format(self.item(), spec)
        return repr(self) if not spec else format(str(self), spec)

    def __array__(self, dtype=None, copy=None):
        a = self.detach().numpy()
        return a if dtype is None else a.astype(dtype)

    # ---- autograd ---------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import backward
        backward(self, gradient, retain_graph, inputs=None if inputs is None else
                 ([inputs] if isinstance(inputs, Tensor) else list(inputs)), create_graph=create_graph)

    def detach(self):
        t = Tensor(self._array)
        t._version = self._version
        return t

    def detach_(self):
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad=True):
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and self._array.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def _meta_(self):
        if self._meta is None:
            self._meta = _Meta()
        return self._meta

    def register_hook(self, hook):
        """hook(grad) runs on this tensor's gradient in every backward pass; a returned tensor replaces it. Returns a
        handle whose remove() unregisters it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self.grad_fn
        if node is None:
            meta = self._meta_()
            if meta.hooks is None:
                meta.hooks = []
            hooks = meta.hooks
        else:
            if node._hooks is None:
                node._hooks = []
            hooks = node._hooks
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs once this leaf's .grad has been accumulated in a backward pass (not under
        autograd.grad, which accumulates nothing); it may read and change .grad. Returns a removable handle."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        meta = self._meta_()
        if meta.post_hooks is None:
            meta.post_hooks = []
        meta.post_hooks.append(hook)
        return RemovableHandle(meta.post_hooks, hook)

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad after backward (leaves keep theirs anyway)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        node = self.grad_fn
        if node is not None:
            import weakref
            node._retain_ref = weakref.ref(self)

    @property
    def retains_grad(self):
        node = self._ctx
        return node is not None and node._retain_ref is not None and node._retain_ref() is self

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._array = value._array

    @property
    def T(self):
        return self.permute(*range(self._array.ndim - 1, -1, -1))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    # in-place ops (add_, zero_, copy_, __setitem__, ...) are declared in ops/inplace.py, beside the graph surgery
    # they need

    # ---- moving between devices and dtypes --------------------------------------------------------
    def to(self, *args, **kwargs):
        dev, dt = kwargs.get("device"), kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, DType):
                dt = a
            elif isinstance(a, (str, backend.device)):
                dev = a
            else:
                raise TypeError(f"to() received an invalid combination of arguments: {a!r}")
        out = self
        if dev is not None:
            from .ops.cast import to_device
            out = to_device(out, dev)
        if dt is not None:
            out = out.type(dt)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self):
        return self.type(dtypes.float32)

    def double(self):
        return self.type(dtypes.float64)

    def long(self):
        return self.type(dtypes.int64)

    def int(self):
        return self.type(dtypes.int32)

    def bool(self):
        return self.type(dtypes.bool_)

    def half(self):
        return self.type(dtypes.float16)

    def type_as(self, other):
        return self.to(other)

    # ---- new tensors like this one (its dtype and device unless told otherwise) -----------------------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(data, dtype=self.dtype if dtype is None else dtype,
                      device=self.device if device is None else device, requires_grad=requires_grad)

    def _new(self, fn, sizes, size, dtype, device, requires_grad):
        return fn(*sizes, size=size, dtype=self.dtype if dtype is None else dtype,
                  device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new(zeros, sizes, size, dtype, device, requires_grad)

    def new_ones(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new(ones, sizes, size, dtype, device, requires_grad)

    def new_empty(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        return self._new(empty, sizes, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)


class _Meta:
    __slots__ = ("hooks", "acc", "post_hooks")

    def __init__(self):
        self.hooks = self.acc = self.post_hooks = None


class RemovableHandle:
    """What register_hook returns: remove() takes the hook out again."""
    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Size(tuple):
    def __repr__(self):
        return f"tinygrad_fer.Size({list(self)})"

    # slices, concatenations and repeats stay sizes, as PyTorch's (x.size()[1:] prints as a Size)
    def __getitem__(self, i):
        got = tuple.__getitem__(self, i)
        return Size(got) if isinstance(i, slice) else got

    def __add__(self, other):
        return Size(tuple.__add__(self, other)) if isinstance(other, tuple) else NotImplemented

    def __radd__(self, other):
        return Size(tuple.__add__(other, self)) if isinstance(other, tuple) else NotImplemented

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n)) if isinstance(n, int) else NotImplemented

    __rmul__ = __mul__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


def _dim(d, ndim):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return d % n


def _coerce(data):
    """A Tensor(...) call with something other than a NumPy array: a CuPy array stays, anything else is read
    as torch.Tensor(...) reads it (float32)."""
    if isinstance(data, np.generic):
        return np.asarray(data)
    if type(data).__module__.startswith("cupy"):
        return data
    if isinstance(data, Tensor):
        return data._array
    return np.asarray(data, dtype=dtypes.get_default_dtype().np)


def _mark_view(out, x, multi=False):
    """Record that out's array is a view into x's memory: they share x's version counter, and an in-place op on
    either rewrites the history of the root tensor they both look into (ops/inplace.py)."""
    if out is x or not x._be.xp.may_share_memory(out._array, x._array):
        return out
    out._version = x._version
    root = x if x._view is None else x._view[0]
    out._view = (root, root._ctx, multi)
    return out


def _wrap_out(a):
    if type(a) is not np.ndarray and isinstance(a, np.generic):
        a = np.asarray(a)
    return Tensor(a)


# ---- creation ------------------------------------------------------------------------------------
def _infer_dtype(data):
    a = np.asarray(data)
    if a.dtype.kind == "f":
        return a, dtypes.get_default_dtype() if not isinstance(data, np.ndarray) else dtypes.from_np(a.dtype)
    if a.dtype.kind in "iu":
        return a, dtypes.int64 if not isinstance(data, np.ndarray) else dtypes.from_np(a.dtype)
    if a.dtype.kind == "b":
        return a, dtypes.bool_
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _finish(array, requires_grad):
    t = Tensor(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    be = backend.get(device)
    if isinstance(data, Tensor):
        src = data._be.to_numpy(data._array)
        dt = data.dtype if dtype is None else dtypes.to_dtype(dtype)
        return _finish(be.asarray(np.array(src, dtype=dt.np)), requires_grad)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _detensor(data)
    if not isinstance(data, np.ndarray):  # Python numbers: range-checked as PyTorch reads them
        a, dt = dtypes.from_python(data, None if dtype is None else dtypes.to_dtype(dtype))
        return _finish(be.asarray(a), requires_grad)
    a, dt = _infer_dtype(data)
    if dtype is not None:
        dt = dtypes.to_dtype(dtype)
    return _finish(be.asarray(np.array(a, dtype=dt.np)), requires_grad)


def _flat(xs):
    for x in xs:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _detensor(xs):
    return [(_detensor(x) if isinstance(x, (list, tuple)) else x.item() if isinstance(x, Tensor) else x) for x in xs]


def is_tensor(obj):
    return isinstance(obj, Tensor)


def _tensor_arg(name, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input


def is_floating_point(input):
    return _tensor_arg("is_floating_point", input).is_floating_point()


def numel(input):
    return _tensor_arg("numel", input).numel()


def from_numpy(a):
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(a).__name__})")
    dtypes.from_np(a.dtype)
    return Tensor(a)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and device in (None, "cpu") and (dtype is None or dtypes.to_dtype(dtype).np == data.dtype):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size must be a tuple of ints, but got an element of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _sizes(name, sizes, size):
    """The shape of a creation call given as sizes (zeros(2, 3), zeros((2, 3))) or as size= (zeros(size=(2, 3)))."""
    if size is not None:
        if sizes:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        sizes = (size,)
    return _shape(sizes)


def _float_dtype(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtypes.to_dtype(dtype)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    be = backend.get(device)
    return _finish(be.xp.zeros(_sizes("zeros", sizes, size), dtype=_float_dtype(dtype).np), requires_grad)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    be = backend.get(device)
    return _finish(be.xp.ones(_sizes("ones", sizes, size), dtype=_float_dtype(dtype).np), requires_grad)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    be = backend.get(device)
    return _finish(be.xp.empty(_sizes("empty", sizes, size), dtype=_float_dtype(dtype).np), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    be = backend.get(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = dtypes.scalar_dtype(fill_value) if dtype is None else dtypes.to_dtype(dtype)
    fill_value = dtypes.checked_scalar(fill_value, dt)
    return _finish(be.xp.full(_shape((size,) if isinstance(size, int) else size), fill_value, dtype=dt.np),
                   requires_grad)


def _like(fn, t, dtype, device, requires_grad, *args):
    return fn(*args, dtype=t.dtype if dtype is None else dtype, device=t.device if device is None else device,
              requires_grad=requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False):
    return _like(zeros, t, dtype, device, requires_grad, t.shape)


def ones_like(t, dtype=None, device=None, requires_grad=False):
    return _like(ones, t, dtype, device, requires_grad, t.shape)


def empty_like(t, dtype=None, device=None, requires_grad=False):
    return _like(empty, t, dtype, device, requires_grad, t.shape)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype,
                device=t.device if device is None else device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = dtypes.int64 if all(isinstance(v, (int, np.integer)) for v in vals) else dtypes.get_default_dtype()
    dt = dtypes.to_dtype(dtype)
    for v in vals:  # PyTorch range-checks the bounds in the type it counts in
        dtypes.checked_scalar(v, dtypes.float64 if dt.is_floating_point else dtypes.int64)
    be = backend.get(device)
    n = max(0, int(np.ceil((vals[1] - vals[0]) / vals[2])))
    # integers are counted in int64 and then wrap into a narrower dtype, as in PyTorch
    a = (np.arange(n, dtype=np.float64) * vals[2] + vals[0]).astype(dt.np) if dt.is_floating_point \
        else np.arange(vals[0], vals[1], vals[2], dtype=np.int64).astype(dt.np)
    return _finish(be.asarray(a), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dt = _float_dtype(dtype)
    return _finish(backend.get(device).asarray(np.linspace(start, end, steps).astype(dt.np)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _finish(backend.get(device).xp.eye(n, m, dtype=_float_dtype(dtype).np), requires_grad)


class Generator:
    """A seeded random stream (torch.Generator's role): pass it to rand/randn/randint/DataLoader/init."""

    def __init__(self, device="cpu"):
        self.device = backend.device(device)
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.rng = backend.get(device).new_rng(self._seed)

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.rng = backend.get(self.device).new_rng(self._seed)
        return self

    def initial_seed(self):
        return self._seed


def manual_seed(seed):
    """Re-seed the default streams of every backend that is loaded (reproducible runs)."""
    backend_cpu.seed(int(seed))
    import sys
    cuda = sys.modules.get(__package__ + ".backend_cuda")     # seeded only if loaded: never imports CuPy
    if cuda is not None and cuda.backend_cuda.available():
        cuda.backend_cuda.seed(int(seed))


def seed():
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s


def _rng(generator, device):
    return (generator.rng if generator is not None else backend.get(device).rng)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _float_dtype(dtype)
    shape = _sizes("rand", sizes, size)
    return _finish(_rng(generator, device).random(shape, dtype=np.float64).astype(dt.np, copy=False)
                   if dt.np != np.float32 else _rng(generator, device).random(shape, dtype=np.float32),
                   requires_grad)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    dt = _float_dtype(dtype)
    r, shape = _rng(generator, device), _sizes("randn", sizes, size)
    a = r.standard_normal(shape, dtype=np.float32) if dt.np == np.float32 else \
        r.standard_normal(shape).astype(dt.np, copy=False)
    return _finish(a, requires_grad)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std): two numbers and a size, or a tensor of means and/or of stds (broadcast together,
    the size theirs). As in PyTorch the samples do not depend differentiably on mean and std: their gradient is 0."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected (float mean, float std, tuple of ints size, *, Generator generator)")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        out = randn(size, generator=generator, dtype=dtype, device=device)
        out._array = (out._array * std + mean).astype(out._array.dtype, copy=False)
        return _finish(out._array, requires_grad)
    if size is not None or dtype is not None or requires_grad:
        raise TypeError("normal() received an invalid combination of arguments: size, dtype and requires_grad "
                        "go only with a float mean and a float std")
    from .ops.sampling import NormalSample
    return NormalSample.apply(mean, std, generator)


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return _finish(_rng(generator, device).integers(low, high, _shape(tuple(size))).astype(dt.np), requires_grad)


def rand_like(t, dtype=None, device=None, requires_grad=False):
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randn_like(t, dtype=None, device=None, requires_grad=False):
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def randint_like(t, low=0, high=None, dtype=None, device=None, requires_grad=False):
    return randint(low, high, t.shape, dtype=dtype or t.dtype, device=device or t.device,
                   requires_grad=requires_grad)


def randperm(n, generator=None, dtype=None, device=None):
    dt = dtypes.int64 if dtype is None else dtypes.to_dtype(dtype)
    return Tensor(_rng(generator, device).permutation(n).astype(dt.np))
