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
_names.update(float=float32, double=float64, long=int64, int=int32, half=float16, short=int16)
# the legacy tensor-type names, which Tensor.type() takes as strings ('torch.FloatTensor') and the legacy
# constructors (tinygrad_fer.FloatTensor, tinygrad_fer/legacy.py) carry
TENSOR_TYPES = {"BoolTensor": bool_, "ByteTensor": uint8, "CharTensor": int8, "ShortTensor": int16,
                "IntTensor": int32, "LongTensor": int64, "HalfTensor": float16, "FloatTensor": float32,
                "DoubleTensor": float64}

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


_SCALAR_TYPE = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
                "float16": "Half", "float32": "Float", "float64": "Double"}


def scalar_type_name(np_dtype):
    """PyTorch's name for a dtype in its error messages (Float, Long, ...)."""
    return _SCALAR_TYPE.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)


def to_dtype(d):
    """Accept our dtype, a NumPy dtype/type, or a name like 'float32'."""
    if isinstance(d, DType):
        return d
    if isinstance(d, str):
        if d in _names:
            return _names[d]
        prefix, _, name = d.rpartition(".")
        if prefix in ("torch", "tinygrad_fer") and name in TENSOR_TYPES:
            return TENSOR_TYPES[name]
        if name.endswith("Tensor"):
            raise ValueError(f"invalid type: {d!r}")  # as Tensor.type('FloatTensor') in PyTorch
        raise TypeError(f"unknown dtype {d!r}")
    if d is float:
        return get_default_dtype()
    if d is int:
        return int64
    if d is bool:
        return bool_
    legacy = getattr(d, "_legacy_dtype", None)  # a legacy constructor class: x.type(tinygrad_fer.LongTensor)
    if isinstance(legacy, DType):
        return legacy
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


# ---- Python numbers stored into a dtype, range-checked as PyTorch checks them --------------------------------------
# PyTorch raises where a Python number cannot be stored (tensor([300], dtype=uint8), full(..., 2**63)) but lets
# arithmetic on tensors wrap. Its rules differ a little between the doors a number comes in by; all of them live here:
# from_python (torch.tensor / as_tensor data) and checked_scalar (full, fill_, arange bounds, and, with wrap, a number
# beside a tensor in arithmetic or a comparison).

_INT64_MIN, _INT64_MAX, _UINT64_MAX = -2 ** 63, 2 ** 63 - 1, 2 ** 64 - 1
# the C++ type names c10's checked conversion reports for a scalar argument
_C_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t",
            "float16": "c10::Half", "float32": "float", "float64": "double"}


def _overflows(v, dt):
    """c10::overflows for a Python int (64-bit) or float v stored as dt."""
    if dt is bool_:
        return False
    if dt.is_floating_point:
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            return False
        return abs(v) > float(np.finfo(dt.np).max)
    info = np.iinfo(dt.np)
    if isinstance(v, float):
        return v != v or not info.min <= v <= info.max  # nan and inf fail the comparison too
    if info.min == 0:  # c10 lets negative ints down to -max wrap into unsigned types (a - b on uint8 is a + 255*b)
        return v > info.max or v < -info.max
    return not info.min <= v <= info.max


def _wrap_int(v, dt):
    info = np.iinfo(dt.np)
    return (v - int(info.min)) % (1 << (8 * dt.itemsize)) + int(info.min)


def checked_scalar(v, dt, wrap=False):
    """The Python number v as PyTorch stores a scalar argument into dtype dt: an int outside [-2**63, 2**64) raises
    OverflowError (PyTorch's argument parser). Then, without wrap (full, fill_), a value dt cannot hold raises
    RuntimeError and a float stored as an integer is truncated; with wrap (a number beside a tensor in arithmetic or
    a comparison, where PyTorch wraps as the tensor arithmetic does) an int is reduced into dt's range. Anything
    that is not a number comes back as it is, for the caller's own checks."""
    if isinstance(v, (bool, np.bool_)):
        return v
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if v > _UINT64_MAX:
            raise OverflowError("int too big to convert")
        if v < _INT64_MIN:
            raise OverflowError("can't convert negative int to unsigned")
    elif isinstance(v, (float, np.floating)):
        if wrap:
            return v
        v = float(v)
    else:
        return v
    if not wrap and _overflows(v, dt):
        raise RuntimeError(f"value cannot be converted to type {_C_NAMES.get(dt.name, dt.name)} without overflow")
    if dt is bool_:
        return bool(v)
    if dt.category == 1:
        return _wrap_int(int(v), dt)
    return v


def from_python(data, dt=None):
    """torch.tensor's reading of Python data (a number, or nested lists of numbers): (array of dt, dt), with dt
    inferred when None (bool, then int64, then the default float). Into an integer dtype, each int is unpacked as a
    64-bit one (ValueError beyond) and each int or float range-checked (RuntimeError); a float dtype takes any value
    a double can hold (inf past its own range), a bool one any value at all."""
    a = np.asarray(data)
    kind, items = a.dtype.kind, None
    if kind == "O" or (kind == "f" and dt is None and a.size and not np.abs(a).max() < 2 ** 63):
        # ints beyond 64 bits: NumPy keeps them as Python objects, or turns them (and every other int) into floats
        items = np.asarray(data, dtype=object).reshape(-1).tolist()
        if dt is None:
            dt = get_default_dtype() if any(isinstance(x, (float, np.floating)) for x in items) else int64
    elif dt is None:
        dt = {"f": get_default_dtype(), "i": int64, "u": int64, "b": bool_}.get(kind)
        if dt is None:
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    if dt is bool_ or kind == "b":
        return a.astype(dt.np), dt
    if dt.is_floating_point:
        with np.errstate(over="ignore"):
            return a.astype(np.float64).astype(dt.np) if kind == "O" else a.astype(dt.np), dt
    info = np.iinfo(dt.np)
    if kind == "i" and (not a.size or not (_overflows(int(a.min()), dt) or _overflows(int(a.max()), dt))):
        return a.astype(dt.np), dt
    if kind == "f" and (not a.size or (np.isfinite(a).all() and info.min <= a.min()
                                       and a.max() <= info.max and np.abs(a).max() < 2 ** 53)):
        return a.astype(dt.np), dt  # every value fits, whether it came as an int or a float: C's truncation
    # one by one, in order, so the first bad value raises what PyTorch raises for it
    if items is None:
        items = np.asarray(data, dtype=object).reshape(-1).tolist()
    out = []
    for x in items:
        if isinstance(x, (float, np.floating)):
            x = float(x)
        else:
            x = int(x)
            if not _INT64_MIN <= x <= _INT64_MAX:
                raise ValueError("Overflow when unpacking long long")
        if _overflows(x, dt):
            raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")
        out.append(int(x))
    return np.array(out, dtype=np.int64).reshape(a.shape).astype(dt.np), dt
