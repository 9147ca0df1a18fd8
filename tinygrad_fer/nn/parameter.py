"""Parameter: a Tensor that a Module registers as learnable when it is assigned as an attribute."""
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
