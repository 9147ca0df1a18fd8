"""Casts between dtypes (`Tensor.type`) and moves between devices, each differentiable back to the source dtype or
device."""
from .. import backend, dtypes
from ..autograd import Function
from ..tensor import Tensor


class Cast(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.src = x.dtype
        return x.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g.astype(ctx.src), None


def type_(self, dtype=None):
    if dtype is None:
        return f"tinygrad_fer.{self.dtype.name}"
    dt = dtypes.to_dtype(dtype)
    if self._array.dtype == dt.np:
        return self
    if self.requires_grad and not dt.is_floating_point:
        return Tensor(self._array.astype(dt.np))  # integer results carry no gradient, as in PyTorch
    return Cast.apply(self, dt.np)


class ToDevice(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, x, dst):
        ctx.src = ctx.be
        return dst.asarray(ctx.be.to_numpy(x)) if dst.name != "cpu" else ctx.be.to_numpy(x)

    @staticmethod
    def backward(ctx, g):
        src = ctx.src
        return (src.asarray(backend.of(g).to_numpy(g)) if src.name != "cpu" else backend.of(g).to_numpy(g)), None


def to_device(x, dev):
    dst = backend.get(dev)
    if dst is x._be:
        return x
    return ToDevice.apply(x, dst)
