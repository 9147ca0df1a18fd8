"""Parameter and Buffer: Tensors that a Module registers (as learnable, as state) when assigned as attributes."""
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
