"""Parameter and Buffer: Tensors that a Module registers (as learnable, as state) when assigned as attributes; the
uninitialized placeholders of lazy modules. `torch.nn.parameter` maps here, so the names live where PyTorch keeps
them."""
from ..tensor import Tensor, empty


class Parameter(Tensor):
    """Shares the array of the tensor it wraps (no copy), as torch.nn.Parameter does."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        super().__init__(data._array)
        self._version = data._version
        if requires_grad:
            if data._array.dtype.kind != "f":
                raise RuntimeError("Only Tensors of floating point dtype can require gradients")
            self.requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor(self._array.copy()), self.requires_grad)
        if self.grad is not None:
            p.grad = Tensor(self.grad._array.copy())
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """A tensor that a Module registers as a buffer when it is assigned as an attribute; `persistent` says whether it
    goes into state_dict. PyTorch hands back a plain Tensor carrying a buffer flag; a Tensor here has fixed slots, so
    the flag is this subclass. Like PyTorch's, it is `data.detach()` (same memory and version counter) keeping
    data's requires_grad."""
    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = empty(0)
        t = data.detach()   # a non-Tensor fails here, as PyTorch's does
        super().__init__(t._array)
        self._version = t._version
        self.requires_grad = data.requires_grad
        self.persistent = persistent


_USE = ("Attempted to use an uninitialized parameter in {}. This error happens when you are using a `LazyModule` "
        "or explicitly manipulating `torch.nn.parameter.UninitializedParameter` objects. When using LazyModules "
        "Call `forward` with a dummy batch to initialize the parameters before calling torch functions")
_SHAPE = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
          "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. Call `forward` "
          "to initialize the parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """A tensor with a dtype and a device but no shape yet; `materialize(shape)` gives it one."""
    __slots__ = ()
    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        self._array = Tensor(self._array).new_empty(tuple(shape), dtype=dtype, device=device)._array
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(_SHAPE)

    def size(self, dim=None):
        raise RuntimeError(_SHAPE)

    def numel(self):
        raise ValueError(_USE.format("numel"))

    def dim(self):
        raise ValueError(_USE.format("dim"))

    @property
    def ndim(self):
        raise ValueError(_USE.format("ndim"))

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(requires_grad=self.requires_grad, device=self.device, dtype=self.dtype)
        return memo[id(self)]


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(empty(0, device=device, dtype=dtype), requires_grad)

    def detach(self):
        return UninitializedParameter(False, self.device, self.dtype)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    __slots__ = ()     # the layout of Tensor, so that materialize can make it one
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        super().__init__(empty(0, device=device, dtype=dtype)._array, requires_grad)

    def detach(self):
        return UninitializedBuffer(device=self.device, dtype=self.dtype)


def is_lazy(t):
    return isinstance(t, UninitializedTensorMixin)
