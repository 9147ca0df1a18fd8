"""dtypes with PyTorch's names and its type-promotion rules (tensors with dims > 0-d tensors > Python scalars)."""
import numpy as np


class DType:
    __slots__ = ("name", "np", "itemsize", "is_floating_point", "category")

    def __init__(self, name, np_dtype, category):
        self.name, self.np, self.category = name, np.dtype(np_dtype), category
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2

    def __repr__(self):
        return f"tinygrad_fer.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


bool_ = DType("bool", np.bool_, 0)
uint8 = DType("uint8", np.uint8, 1)
int8 = DType("int8", np.int8, 1)
int16 = DType("int16", np.int16, 1)
int32 = DType("int32", np.int32, 1)
int64 = DType("int64", np.int64, 1)
float16 = DType("float16", np.float16, 2)
float32 = DType("float32", np.float32, 2)
float64 = DType("float64", np.float64, 2)

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
_from_np = {d.np: d for d in ALL}
_names = {d.name: d for d in ALL}
_names.update(float=float32, double=float64, long=int64, int=int32, half=float16)

_default_float = [float32]


def _by_name(name):
    return _names[name]


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    if not isinstance(d, DType) or not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float[0] = d


def from_np(np_dtype):
    """Our dtype for a NumPy dtype; float64 stays float64 (as torch.from_numpy does)."""
    d = _from_np.get(np.dtype(np_dtype))
    if d is None:
        raise TypeError(f"can't convert np.ndarray of type {np.dtype(np_dtype)}; the supported types are: "
                        + ", ".join(x.name for x in ALL))
    return d


def to_dtype(d):
    """Accept our dtype, a NumPy dtype/type, or a name like 'float32'."""
    if isinstance(d, DType):
        return d
    if isinstance(d, str):
        if d in _names:
            return _names[d]
        raise TypeError(f"unknown dtype {d!r}")
    if d is float:
        return get_default_dtype()
    if d is int:
        return int64
    if d is bool:
        return bool_
    return from_np(d)


def scalar_dtype(x):
    """dtype PyTorch gives a Python scalar on its own."""
    if isinstance(x, (bool, np.bool_)):
        return bool_
    if isinstance(x, (int, np.integer)):
        return int64
    if isinstance(x, (float, np.floating)):
        return get_default_dtype()
    raise TypeError(f"unsupported scalar type {type(x).__name__}")


def _widest(dts):
    best = dts[0]
    for d in dts[1:]:
        if d.category > best.category or (d.category == best.category and d.itemsize > best.itemsize):
            best = d
        elif d.category == best.category == 1 and d.itemsize == best.itemsize and d is not best:
            best = int16 if d.itemsize == 1 else best  # uint8 with int8 -> int16, as PyTorch
    return best


def result_type(*operands):
    """PyTorch's promotion: the category of the highest tier wins only if it raises the category."""
    from .tensor import Tensor
    dims, zero, scal = [], [], []
    for o in operands:
        if isinstance(o, Tensor):
            (dims if o._array.ndim else zero).append(o.dtype)
        elif o is not None:
            scal.append(scalar_dtype(o))
    result = None
    for tier in (dims, zero, scal):
        if not tier:
            continue
        w = _widest(tier)
        if result is None:
            result = w
        elif w.category > result.category:
            # a scalar float joining integers gets the default float, a 0-d tensor keeps its own width
            result = get_default_dtype() if tier is scal and w.category == 2 else (int64 if tier is scal else w)
    return result
