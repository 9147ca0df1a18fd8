"""make_tensor: a random tensor of a given shape, dtype and range, as torch.testing.make_tensor."""
import collections.abc
import math
import warnings

import numpy as np

from .. import dtypes
from ..tensor import rand, randint, tensor


def _range(dtype, low, high):
    """[low, high) after PyTorch's defaults, checks and clamping to what dtype can hold."""
    if dtype is dtypes.bool_:
        lowest, highest, default = 0, 2, (0, 2)
    elif dtype.is_floating_point:
        info = np.finfo(dtype.np)
        lowest, highest, default = float(info.min), float(info.max), (-9, 9)
    else:
        info = np.iinfo(dtype.np)
        # the +1 makes the maximum reachable; int64's would overflow the generator's bound, as in PyTorch
        lowest, highest, default = int(info.min), int(info.max) + (dtype is not dtypes.int64), (-9, 10)
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.is_floating_point:
        warnings.warn("Passing `low==high` to `make_tensor` for floating types gives a tensor full of that value: "
                      "use `tinygrad_fer.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if not dtype.is_floating_point:
        # ceil both: low so no value falls below it, high because the integer draw excludes it
        return math.ceil(low), math.ceil(high)
    return low, high


def _values(shape, dtype, low, high, device):
    """NumPy array of the values, drawn from the default generator of device's backend."""
    if not dtype.is_floating_point:
        return randint(low, high, shape, dtype=dtypes.int64, device=device).cpu().numpy().astype(dtype.np)
    u = rand(*shape, dtype=dtypes.float64, device=device).cpu().numpy()
    if high - low > float(np.finfo(np.float64).max):  # the width overflows: draw half of it and double
        a = (low / 2 + (high / 2 - low / 2) * u) * 2
    else:
        a = low + (high - low) * u
    a = a.astype(dtype.np)
    if low < high:  # rounding to a narrower float may reach high itself, which the range excludes
        top = np.nextafter(dtype.np.type(high), dtype.np.type(low))
        a = np.minimum(a, top if top >= low else dtype.np.type(low))
    return a


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of shape and dtype filled with values drawn uniformly from [low, high).

    Defaults as torch.testing.make_tensor: [-9, 9) for floats, [-9, 10) for integers (clamped to what the dtype
    holds: [0, 10) for uint8), [0, 2) for bool. shape is integers or one sequence. noncontiguous=True gives a
    tensor that is not contiguous (a stepped slice of a wider one) when it has more than one element.
    exclude_zero=True replaces zeros with the dtype's smallest positive normal number (1 for integers and bool).
    The values come from the default generator, so `tinygrad_fer.manual_seed` makes them reproducible.
    memory_format is accepted for PyTorch's signature; the only layout here is the strided one.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(int(s) for s in shape)
    dtype = dtypes.to_dtype(dtype)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    if requires_grad and not dtype.is_floating_point:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    low, high = _range(dtype, low, high)
    drawn = (*shape[:-1], 2 * shape[-1]) if noncontiguous else shape
    a = _values(drawn, dtype, low, high, device)
    if exclude_zero:
        a[a == 0] = 1 if not dtype.is_floating_point else np.finfo(dtype.np).tiny
    t = tensor(a, dtype=dtype, device=device)
    if noncontiguous:
        # offset by one, so a kernel that ignores the storage offset is caught as well; detached, so the result
        # is a plain leaf rather than a tracked view of the wider tensor
        t = t[..., 1::2].detach()
    if requires_grad:
        t.requires_grad_(True)
    return t
