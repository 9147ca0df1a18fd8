"""assert_close: torch.testing.assert_close for our Tensors, NumPy arrays and Python numbers.

Pairs are matched as PyTorch matches them: None with None, bools with bools, numbers with numbers, tensor-likes
with tensor-likes of a related type (a Tensor is never compared with a NumPy array: convert one side first), and
sequences / mappings element by element. The first failing pair raises, its message naming the item it came from.
"""
import collections.abc
import math

import numpy as np

from .. import dtypes
from ..tensor import Size, Tensor

# (rtol, atol) by dtype, PyTorch's table; every other dtype (bool, integers) is compared exactly
_PRECISIONS = {dtypes.float16: (1e-3, 1e-5), dtypes.float32: (1.3e-6, 1e-5), dtypes.float64: (1e-7, 1e-7)}
# the dtype PyTorch reads a Python number as, for its default tolerances
_NUMBER_DTYPES = {bool: dtypes.bool_, int: dtypes.int64, float: dtypes.float64}


class _Failure(Exception):
    """One pair's failure: the exception type PyTorch raises, its message, and the item it happened at."""

    def __init__(self, type, msg, id=()):
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg):
        if isinstance(msg, str):
            return self.type(msg)
        text = self.msg
        if self.id:
            text += f"\n\nThe failure occurred for item {''.join(str([i]) for i in self.id)}"
        return self.type(msg(text) if callable(msg) else text)


class _Unsupported(Exception):
    pass


def _tolerances(dts, rtol, atol):
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                                   f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_PRECISIONS.get(d, (0.0, 0.0)) for d in dts]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _diff_msg(kind, diff, idx, tol, equality):
    msg = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
    return msg + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += _diff_msg("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_msg("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, rel_diff, None,
                         rtol, atol)


# ---- pairs --------------------------------------------------------------------------------------------------------
def _compare_none(actual, expected, **_):
    if not (actual is None and expected is None):
        raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}")


def _compare_bools(actual, expected, **_):
    if bool(actual) is not bool(expected):
        raise _Failure(AssertionError, f"Booleans mismatch: {bool(actual)} is not {bool(expected)}")


def _compare_numbers(actual, expected, *, rtol, atol, equal_nan, check_dtype, **_):
    actual = actual.item() if isinstance(actual, np.number) else actual
    expected = expected.item() if isinstance(expected, np.number) else expected
    if isinstance(actual, complex) or isinstance(expected, complex):
        raise _Unsupported
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(x)] for x in (actual, expected)], rtol, atol)
    if check_dtype and type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    if actual == expected:
        return
    if equal_nan and math.isnan(actual) and math.isnan(expected):
        return
    diff = abs(actual - expected)
    if math.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    raise _Failure(AssertionError, _scalar_msg(actual, expected, rtol, atol))


def _as_array(x):
    """(NumPy array on the host, our dtype, device, element strides) of a Tensor or a NumPy array."""
    if isinstance(x, Tensor):
        t = x.detach()
        return t.cpu().numpy(), t.dtype, str(t.device), t.stride()
    try:
        dt = dtypes.from_np(x.dtype)
    except TypeError:
        raise _Unsupported from None
    return x, dt, "cpu", tuple(s // x.itemsize for s in x.strides)


def _compare_tensors(actual, expected, *, rtol, atol, equal_nan, check_dtype, check_device, check_stride,
                     allow_subclasses, **_):
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    (a, adt, adev, ast), (e, edt, edev, est) = _as_array(actual), _as_array(expected)
    rtol, atol = _tolerances([adt, edt], rtol, atol)

    def mismatch(name, x, y):
        raise _Failure(AssertionError, f"The values for attribute '{name}' do not match: {x} != {y}.")
    if a.shape != e.shape:
        mismatch("shape", Size(a.shape), Size(e.shape))
    if check_stride and ast != est:
        mismatch("stride()", ast, est)
    if check_device and adev != edev:
        mismatch("device", adev, edev)
    if check_dtype and adt is not edt:
        mismatch("dtype", adt, edt)
    if adt is not edt:
        common = dtypes._widest([adt, edt]).np  # PyTorch's promotion, not NumPy's (int64 + float16 is float16)
        a, e = a.astype(common), e.astype(common)
    _compare_values(a, e, rtol, atol, equal_nan)


def _compare_values(a, e, rtol, atol, equal_nan):
    shown = a, e        # a failing scalar prints as given (PyTorch: "Expected False but got True.")
    if a.dtype.kind != "f":
        a, e = a.astype(np.int64), e.astype(np.int64)  # differences of unsigned or bool values must not wrap
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - e)
        if rtol == 0 and atol == 0:
            close = a == e
        else:
            # PyTorch's isclose, in the compared dtype: equal (this covers equal infinities), or a finite difference
            # within atol + rtol * |expected|
            allowed = atol + np.abs(rtol * (e if a.dtype.kind == "f" else e.astype(np.float64)))
            close = (a == e) | (np.isfinite(diff) & (diff <= allowed))
        if equal_nan and a.dtype.kind == "f":
            close |= np.isnan(a) & np.isnan(e)
    if close.all():
        return
    if a.ndim == 0:
        raise _Failure(AssertionError, _scalar_msg(shown[0].item(), shown[1].item(), rtol, atol))
    n = close.size
    bad = n - int(close.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    flat_close = close.reshape(-1)
    abs_diff = diff.reshape(-1).copy()
    abs_diff[flat_close] = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if a.dtype.kind == "f":
            rel_diff = abs_diff / np.abs(e.reshape(-1))
        else:  # PyTorch divides integers in its default float dtype
            rel_diff = abs_diff.astype(np.float32) / np.abs(e.reshape(-1)).astype(np.float32)
    rel_diff[flat_close] = 0
    ia, ir = _argmax(abs_diff), _argmax(rel_diff)
    raise _Failure(AssertionError, _mismatch_msg(
        "Tensor-likes", extra, abs_diff[ia].item(), tuple(int(i) for i in np.unravel_index(ia, a.shape)),
        rel_diff[ir].item(), tuple(int(i) for i in np.unravel_index(ir, a.shape)), rtol, atol))


def _argmax(x):
    """The index of the greatest value, NaN counting as greatest (as torch.max)."""
    nan = np.isnan(x) if x.dtype.kind == "f" else None
    if nan is not None and nan.any():
        return int(np.argmax(nan))
    return int(np.argmax(x))


def _pair(actual, expected):
    if actual is None or expected is None:
        return _compare_none
    bools = (bool, np.bool_)
    if isinstance(actual, bools) and isinstance(expected, bools):
        return _compare_bools
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        return _compare_numbers
    if isinstance(actual, (Tensor, np.ndarray)) and isinstance(expected, (Tensor, np.ndarray)):
        return _compare_tensors
    return None


def _compare(actual, expected, id, options):
    is_seq = (lambda x: isinstance(x, collections.abc.Sequence) and not isinstance(x, str))
    if is_seq(actual) and is_seq(expected):
        if len(actual) != len(expected):
            raise _Failure(AssertionError,
                           f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", id)
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, id + (i,), options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        ka, ke = set(actual), set(expected)
        if ka != ke:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                                           f"Missing keys in the actual mapping: {sorted(ke - ka)}\n"
                                           f"Additional keys in the actual mapping: {sorted(ka - ke)}", id)
        try:
            keys = sorted(ka)
        except TypeError:
            keys = list(ka)
        for k in keys:
            _compare(actual[k], expected[k], id + (k,), options)
        return
    compare = _pair(actual, expected)
    try:
        if compare is None:
            raise _Unsupported
        compare(actual, expected, **options)
    except _Unsupported:
        raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                                  f"{type(expected)}.", id) from None
    except _Failure as f:
        f.id = id
        raise


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Assert that actual and expected are close, as torch.testing.assert_close.

    Values match when |actual - expected| <= atol + rtol * |expected| (equal infinities match; NaNs only with
    equal_nan=True). Omitted tolerances come from the dtypes (the looser of the two):

        float16  rtol 1e-3    atol 1e-5
        float32  rtol 1.3e-6  atol 1e-5
        float64  rtol 1e-7    atol 1e-7
        others   exact

    Shapes must match, and with check_dtype / check_device / check_stride the dtypes, devices and strides; when
    dtypes may differ both sides are promoted to a common dtype first. actual and expected may be Tensors, NumPy
    arrays, Python numbers, or (nested) sequences and mappings of them. On a mismatch raises AssertionError naming
    the number of mismatched elements and the worst element's index with its absolute and relative difference;
    msg (a string, or a callable taking the generated message) replaces it. check_layout is accepted for
    PyTorch's signature: every tensor here is strided.
    """
    __tracebackhide__ = True
    options = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                   check_device=check_device, check_dtype=check_dtype, check_stride=check_stride)
    try:
        _compare(actual, expected, (), options)
    except _Failure as f:
        raise f.to_error(msg) from None
