"""Bitwise ops on integer and bool tensors (no gradient): and, or, xor, not, and the shifts, with PyTorch's rules:
float operands are refused, bool refuses the shifts, and a shift by a negative amount or by the type's width or more
gives 0 to the left and the sign to the right (NumPy's would depend on the CPU)."""
from .. import dtypes
from ..tensor import Tensor
from .operands import _arr, _binary_operands, _xp


def _refuse_float(kernel, *xs):
    for x in xs:
        if isinstance(x, Tensor) and x._array.dtype.kind == "f":
            name = dtypes.scalar_type_name(x._array.dtype)
            raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{name}'")
        if isinstance(x, float):
            raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Float'")


def _bitwise(name):
    def op(input, other):
        _refuse_float(name, input, other)
        a, b = _binary_operands(input, other)
        xp = _xp(a, b)
        return Tensor(xp.asarray(getattr(xp, name)(_arr(a), _arr(b))))
    op.__name__ = name
    return op


bitwise_and, bitwise_or, bitwise_xor = (_bitwise(n) for n in ("bitwise_and", "bitwise_or", "bitwise_xor"))


def bitwise_not(input):
    _refuse_float("bitwise_not", input)
    return Tensor(input._be.xp.invert(input._array))


def _shift(name, kernel, ufunc):
    def op(input, other):
        _refuse_float(kernel, input, other)
        a, b = _binary_operands(input, other)    # integer or bool operands: both come back as tensors
        x, s = a._array, b._array
        kind = x.dtype.kind
        if kind == "b":
            raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Bool'")
        xp = a._be.xp
        bits = x.dtype.itemsize * 8
        inside = (s >= 0) & (s < bits)
        shifted = getattr(xp, ufunc)(x, xp.where(inside, s, 0).astype(x.dtype))
        # past the width: a left shift gives 0, a right shift of a signed value its sign (as PyTorch's kernels)
        beyond = xp.right_shift(x, bits - 1) if ufunc == "right_shift" and kind == "i" else 0
        return Tensor(xp.asarray(xp.where(inside, shifted, beyond).astype(x.dtype)))
    op.__name__ = name
    return op


bitwise_left_shift = _shift("bitwise_left_shift", "lshift", "left_shift")
bitwise_right_shift = _shift("bitwise_right_shift", "rshift", "right_shift")


class BitwiseMethods:
    """Tensor's bitwise methods and the shift operators (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    bitwise_and, bitwise_or, bitwise_xor, bitwise_not = bitwise_and, bitwise_or, bitwise_xor, bitwise_not
    bitwise_left_shift, bitwise_right_shift = bitwise_left_shift, bitwise_right_shift
    __lshift__, __rshift__ = bitwise_left_shift, bitwise_right_shift
    __and__, __or__, __xor__ = bitwise_and, bitwise_or, bitwise_xor

    def __rand__(self, other):
        return bitwise_and(other, self)

    def __ror__(self, other):
        return bitwise_or(other, self)

    def __rxor__(self, other):
        return bitwise_xor(other, self)

    def __invert__(self):
        if self._array.dtype.kind == "f":
            raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
        return bitwise_not(self)

    def __rlshift__(self, other):
        return bitwise_left_shift(other, self)

    def __rrshift__(self, other):
        return bitwise_right_shift(other, self)


__all__ = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]
