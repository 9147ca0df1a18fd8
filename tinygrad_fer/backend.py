"""Which backend holds an array, and the device objects users see."""
import numpy as np

from .backend_cpu import backend_cpu


class device:
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, i = type.split(":", 1)
            index = int(i)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(f"Expected one of cpu, cuda device type at start of device string: {type}")
        self.type, self.index = type, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else \
            f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")
_default = [None]   # set_default_device's device; None: the CPU


def set_default_device(dev):
    """torch.set_default_device: the device factory functions (tensor, zeros, randn, ...) use when given none."""
    _default[0] = None if dev is None else device(dev)


def get_default_device():
    return _default[0] or CPU


def get(dev):
    """The backend (a backend_base.Backend) of a device (None means the default device, the CPU unless
    set_default_device said otherwise)."""
    if dev is None:
        dev = _default[0]
        if dev is None:
            return backend_cpu
    t = dev.type if isinstance(dev, device) else device(dev).type
    if t == "cpu":
        return backend_cpu
    from .backend_cuda import backend_cuda
    backend_cuda.require()
    return backend_cuda


def of(array):
    """The backend holding an array."""
    if type(array) is np.ndarray:
        return backend_cpu
    from .backend_cuda import backend_cuda
    return backend_cuda
