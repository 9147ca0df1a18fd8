"""PyTorch's legacy tensor-type constructors (FloatTensor, LongTensor, ...): called with sizes they make an
uninitialised tensor, with data a copy of it in their dtype; isinstance(x, FloatTensor) tells a CPU float32 tensor."""
import numpy as np

from . import dtypes
from .tensor import Tensor, Size, empty, tensor


class _LegacyType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls._legacy_dtype and obj.device.type == "cpu"

    def __repr__(cls):
        return f"<class 'tinygrad_fer.{cls.__name__}'>"

    def __call__(cls, *args, device=None):
        dt = cls._legacy_dtype
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        if not args:
            return empty(0, dtype=dt)
        if isinstance(args[0], Size) or all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                                            for a in args):
            if len(args) > 1 and isinstance(args[0], Size):
                raise TypeError(f"new() received an invalid combination of arguments: {args!r}")
            return empty(*args, dtype=dt)  # sizes, checked (negative, non-int) as empty() checks them
        if len(args) > 1:
            raise TypeError(f"new() received an invalid combination of arguments: {args!r}")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not dt:  # PyTorch: no implicit conversion of a tensor here
                raise TypeError(f"expected {dt.name} (got {data.dtype.name})")
            return Tensor(data._array)
        if isinstance(data, (bool, int, float, np.generic)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        return tensor(data, dtype=dt)


def _legacy(name):
    return _LegacyType(name, (), {"_legacy_dtype": dtypes.TENSOR_TYPES[name], "dtype": dtypes.TENSOR_TYPES[name],
                                  "__module__": "tinygrad_fer"})


FloatTensor, DoubleTensor, HalfTensor = _legacy("FloatTensor"), _legacy("DoubleTensor"), _legacy("HalfTensor")
LongTensor, IntTensor, ShortTensor = _legacy("LongTensor"), _legacy("IntTensor"), _legacy("ShortTensor")
CharTensor, ByteTensor, BoolTensor = _legacy("CharTensor"), _legacy("ByteTensor"), _legacy("BoolTensor")

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]
