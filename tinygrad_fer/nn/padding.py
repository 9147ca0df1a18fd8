"""The padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad in 1-D, 2-D and 3-D,
each F.pad with its mode over the last 1, 2 or 3 dims (an int pads every side by it)."""
from . import functional as F
from .module import Module


def _widths(padding, dims):
    return tuple(padding) if isinstance(padding, (tuple, list)) else (int(padding),) * (2 * dims)


class _ConstantPadNd(Module):
    dims = 1

    def __init__(self, padding, value):
        super().__init__()
        self.value, self.padding = value, _widths(padding, self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _ModePadNd(Module):
    dims, mode = 1, "reflect"

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self.dims)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


def _make(base, name, dims, mode=None):
    attrs = dict(dims=dims)
    if mode is not None:
        attrs["mode"] = mode
    cls = type(name, (base,), attrs)
    cls.__module__ = __name__
    return cls


ZeroPad1d, ZeroPad2d, ZeroPad3d = (_make(_ZeroPadNd, f"ZeroPad{d}d", d) for d in (1, 2, 3))
ConstantPad1d, ConstantPad2d, ConstantPad3d = (_make(_ConstantPadNd, f"ConstantPad{d}d", d) for d in (1, 2, 3))
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = (_make(_ModePadNd, f"ReflectionPad{d}d", d, "reflect")
                                                     for d in (1, 2, 3))
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = (_make(_ModePadNd, f"ReplicationPad{d}d", d, "replicate")
                                                        for d in (1, 2, 3))
CircularPad1d, CircularPad2d, CircularPad3d = (_make(_ModePadNd, f"CircularPad{d}d", d, "circular")
                                               for d in (1, 2, 3))
