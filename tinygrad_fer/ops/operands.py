"""Operands of the elementwise ops: Python numbers and tensors brought to the promoted dtype (PyTorch's type
promotion; a number beside a float tensor stays a number), broadcast shapes checked so the error names both, and the
range checks and float casts some ops need first."""
import numpy as np

from .. import dtypes
from ..tensor import Tensor


def _as_tensor(x, dt, be):
    if isinstance(x, Tensor):
        return x if x._array.dtype == dt.np else x.type(dt)
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return Tensor(be.xp.asarray(dtypes.checked_scalar(x, dt, wrap=True), dtype=dt.np))
    raise TypeError(f"unsupported operand type: {type(x).__name__} (expected Tensor or a Python number)")


def _binary_operands(a, b):
    """Both operands as Tensors of the promoted dtype (a Python number beside a float tensor stays a number: NumPy
    then keeps the tensor's dtype, as PyTorch does, unless it is an int PyTorch cannot take at all); shapes checked
    so the error names both."""
    ta, tb = type(a), type(b)
    if ta is Tensor:
        if tb is Tensor:
            if a._array.dtype == b._array.dtype:
                if a._array.shape != b._array.shape:
                    _broadcast_shape(a._array.shape, b._array.shape)
                return a, b
        elif (tb is float or (tb is int and -2 ** 63 <= b < 2 ** 64)) and a._array.dtype.kind == "f":
            return a, b
    elif ta is float or (ta is int and -2 ** 63 <= a < 2 ** 64):
        if tb is Tensor and b._array.dtype.kind == "f":
            return a, b
    dt = dtypes.result_type(a, b)
    be = a._be if isinstance(a, Tensor) else b._be
    a, b = _as_tensor(a, dt, be), _as_tensor(b, dt, be)
    sa, sb = a._array.shape, b._array.shape
    if sa != sb:
        _broadcast_shape(sa, sb)
    return a, b


def _arr(x):
    return x._array if isinstance(x, Tensor) else x


def _xp(a, b):
    return (a if isinstance(a, Tensor) else b)._be.xp


def _broadcast_shape(sa, sb):
    try:
        return np.broadcast_shapes(sa, sb)
    except ValueError:
        n = max(len(sa), len(sb))
        pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
        for i in range(n - 1, -1, -1):
            if pa[i] != pb[i] and 1 not in (pa[i], pb[i]):
                raise RuntimeError(f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                                   f"non-singleton dimension {i - n + len(sa) if len(sa) == n else i}: shapes "
                                   f"{list(sa)} and {list(sb)}") from None
        raise


def _int_scalar_fits(t, x):
    """pow's exponent, where's values: here PyTorch range-checks a Python int into an integer result dtype instead
    of wrapping it as arithmetic does."""
    if type(x) is int and isinstance(t, Tensor):
        dt = dtypes.result_type(t, x)
        if not dt.is_floating_point:
            dtypes.checked_scalar(x, dt)


def _to_float(x):
    return x if x._array.dtype.kind == "f" else x.type(dtypes.get_default_dtype())
