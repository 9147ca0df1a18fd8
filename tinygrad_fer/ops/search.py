"""Searching and counting: nonzero/nonzero_static/argwhere, unravel_index, unique/unique_consecutive,
searchsorted/bucketize, bincount, histc/histogram/histogramdd and isin. Their outputs are indices, counts, bin edges
or masks, so none has a gradient (as in PyTorch)."""
import builtins
from collections import namedtuple
from fractions import Fraction

import numpy as np

from .. import dtypes
from ..tensor import Tensor, _dim

def _torch_name(a):
    """PyTorch's name for an array's dtype in its messages (Float, Long, ...)."""
    return dtypes.scalar_type_name(a.dtype)


def _need_tensor(x, fn, arg="input"):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


def _common(a, b):
    """a and b in one dtype by PyTorch's rule for tensors of equal standing: a float beats an integer or bool, and
    keeps its own width (NumPy would widen float32 against int64 to float64)."""
    if a.dtype == b.dtype:
        return a, b
    fa, fb = a.dtype.kind == "f", b.dtype.kind == "f"
    if fa and not fb:
        return a, b.astype(a.dtype)
    if fb and not fa:
        return a.astype(b.dtype), b
    dt = np.result_type(a.dtype, b.dtype)
    return a.astype(dt), b.astype(dt)


def nonzero(input, *, as_tuple=False):
    _need_tensor(input, "nonzero")
    xp, a = input._be.xp, input._array
    if as_tuple:  # a 0-d tensor answers as a one-element vector
        return tuple(Tensor(i.astype(np.int64, copy=False)) for i in xp.nonzero(a.reshape(1) if a.ndim == 0 else a))
    return Tensor(xp.argwhere(a).astype(np.int64, copy=False))


def nonzero_static(input, *, size, fill_value=-1):
    _need_tensor(input, "nonzero_static")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise TypeError(f"nonzero_static(): argument 'size' must be int, not {type(size).__name__}")
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    xp, found = input._be.xp, nonzero(input)._array[:size]
    out = xp.full((size, input.ndim), fill_value, dtype=np.int64)
    out[:found.shape[0]] = found
    return Tensor(out)


def unravel_index(indices, shape):
    _need_tensor(indices, "unravel_index", "indices")
    a = indices._array
    if a.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) for s in shape):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {shape}")
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape:  # PyTorch's remainder by that zero side
        raise RuntimeError("ZeroDivisionError")
    # floor division and floor remainder, as PyTorch's, so out-of-range and negative indices wrap the same way
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]
    return tuple(Tensor((a.astype(np.int64) // int(st)) % s) for st, s in zip(strides, shape))


def argwhere(input):
    return nonzero(input)


def _groups(xp, s):
    """Where each run of equal values (rows, for 2-d s) in s starts; NaN equals nothing, as in PyTorch."""
    new = xp.ones(s.shape[:1], dtype=bool)
    if s.ndim == 1:
        new[1:] = s[1:] != s[:-1]
    else:
        new[1:] = (s[1:] != s[:-1]).any(axis=1)
    return new


def _unique_result(xp, vals, new, inverse, return_inverse, return_counts):
    out = [Tensor(vals)]
    if return_inverse:
        out.append(Tensor(inverse.astype(np.int64, copy=False)))
    if return_counts:
        starts = xp.nonzero(new)[0]
        out.append(Tensor(xp.diff(xp.append(starts, new.shape[0])).astype(np.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def _slices(input, dim):
    """dim (normalised), the input with dim moved first, and its slices along dim flattened into rows."""
    xp, a = input._be.xp, input._array
    if a.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, a.ndim)
    if any(n == 0 for i, n in enumerate(a.shape) if i != d):
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique cannot be applied")
    m = xp.moveaxis(a, d, 0)
    return d, m, m.reshape(m.shape[0], int(np.prod(m.shape[1:], dtype=np.int64)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    _need_tensor(input, "unique")
    # PyTorch's CPU and CUDA kernels sort whatever `sorted` says, so the result is sorted either way here too
    xp = input._be.xp
    if dim is None:
        flat = input._array.reshape(-1)
        order = xp.argsort(flat, kind="stable")
    else:  # slices in lexicographic order: lexsort's last key is its primary one
        d, m, flat = _slices(input, dim)
        order = xp.lexsort(flat.T[::-1])
    s = flat[order]
    new = _groups(xp, s)
    inverse = xp.empty(flat.shape[:1], dtype=np.int64)
    inverse[order] = xp.cumsum(new) - 1
    if dim is None:
        return _unique_result(xp, s[new], new, inverse.reshape(input.shape), return_inverse, return_counts)
    return _unique_result(xp, xp.moveaxis(m[order][new], 0, d), new, inverse, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    _need_tensor(input, "unique_consecutive")
    xp = input._be.xp
    if dim is None:
        flat = input._array.reshape(-1)
        new = _groups(xp, flat)
        return _unique_result(xp, flat[new], new, (xp.cumsum(new) - 1).reshape(input.shape), return_inverse,
                              return_counts)
    d, m, flat = _slices(input, dim)
    new = _groups(xp, flat)
    return _unique_result(xp, xp.moveaxis(m[new], 0, d), new, xp.cumsum(new) - 1, return_inverse, return_counts)


def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _lower_bound(xp, bd, v, right):
    """PyTorch's binary search, vectorised over rows: bd (rows, n) ascending, v (rows, m). Its comparisons
    (`!(b >= v)` to go right; `!(b > v)` for right=True) decide where NaN lands, so they are kept as they are."""
    n = bd.shape[1]
    lo = xp.zeros(v.shape, dtype=np.int64)
    if n == 0:
        return lo
    hi = xp.full(v.shape, n, dtype=np.int64)
    for _ in range(n.bit_length() + 1):
        mid = (lo + hi) // 2
        b = xp.take_along_axis(bd, xp.minimum(mid, n - 1), axis=1)
        go = ~(b > v) if right else ~(b >= v)
        active = lo < hi
        lo = xp.where(active & go, mid + 1, lo)
        hi = xp.where(active & ~go, mid, hi)
    return lo


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    _need_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    xp, bd = sorted_sequence._be.xp, sorted_sequence._array
    if isinstance(input, np.bool_):     # PyTorch reads a NumPy bool scalar as a number, not as a bool
        input = int(input)
    v = input._array if isinstance(input, Tensor) else xp.asarray(input)
    if v.ndim == 0 and bd.ndim != 1:
        raise RuntimeError("torch.searchsorted(): input value can be a scalar only when boundaries tensor dimension "
                           f"is 1, but we got boundaries tensor dim({bd.ndim}) and input value's dim(0) numel(1)")
    if bd.ndim > 1 and bd.shape[:-1] != v.shape[:-1] or bd.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 dimensions "
                           "of boundaries tensor and input value tensor must match, but we got boundaries tensor "
                           f"{_shape_str(bd.shape)} and input value tensor {_shape_str(v.shape)}")
    if sorter is not None:
        s = sorter._array
        if s.dtype != np.int64:
            raise RuntimeError("torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                               f"{_torch_name(s)}")
        if s.shape != bd.shape:
            raise RuntimeError("torch.searchsorted(): boundary and sorter must have the same size, but got boundary "
                               f"tensor {_shape_str(bd.shape)}and got sorter tensor {_shape_str(s.shape)}")
        if s.size and (int(s.min()) < 0 or int(s.max()) >= bd.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        bd = xp.take_along_axis(bd, s, axis=-1)
    if isinstance(input, Tensor):
        bd, v = _common(bd, v)
    if bd.dtype == np.bool_ and v.dtype == np.bool_ and v.size:    # PyTorch answers an empty input before it looks
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    n = bd.shape[-1]
    rows = 1 if bd.ndim == 1 else int(np.prod(bd.shape[:-1], dtype=np.int64))
    out = _lower_bound(xp, bd.reshape(rows, n), v.reshape(rows, v.size // rows if rows else 0), right)
    return Tensor(out.reshape(v.shape).astype(np.int32 if out_int32 else np.int64, copy=False))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    _need_tensor(boundaries, "bucketize", "boundaries")
    # bucketize's right=False (boundaries[i-1] < x <= boundaries[i]) is searchsorted's left side
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def bincount(input, weights=None, minlength=0):
    _need_tensor(input, "bincount")
    xp, a = input._be.xp, input._array
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{_torch_name(a)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if a.ndim != 1 or (a.size and int(a.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None or a.size == 0:  # PyTorch answers an empty input with int64 zeros, weights unread
        return Tensor(xp.bincount(a, minlength=minlength).astype(np.int64, copy=False))
    w = weights._array
    if w.ndim != 1 or w.shape[0] != a.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # float and double weights keep their dtype; any other weights count in double
    dt = w.dtype if w.dtype in (np.float32, np.float64) else np.float64
    return Tensor(xp.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dt, copy=False))


def histc(input, bins=100, min=0, max=0):
    _need_tensor(input, "histc")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histc(): argument 'bins' must be int, not {type(bins).__name__}")
    xp, a = input._be.xp, input._array
    if a.dtype.kind != "f":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_torch_name(a)}'")
    lo, hi = float(min), float(max)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite")
    if not lo < hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    # PyTorch's linear bin search, in the input's dtype: pos = (x - lo) * bins / (hi - lo), the top edge in the last bin
    left, right = a.dtype.type(lo), a.dtype.type(hi)
    x = a.reshape(-1)
    x = x[(x >= left) & (x <= right)]
    pos = xp.minimum((((x - left) * a.dtype.type(bins)) / (right - left)).astype(np.int64), bins - 1)
    return Tensor(xp.bincount(pos, minlength=bins).astype(a.dtype))


histogram_result = namedtuple("histogram", ["hist", "bin_edges"])
histogramdd_result = namedtuple("histogramdd", ["hist", "bin_edges"])


def _linspace_like_torch(lo, hi, n, dtype):
    """PyTorch's CPU linspace, bit for bit: the first half start + step * i, the second end - step * (n - 1 - i),
    each a fused multiply-add (computed exactly here, then rounded once), with step rounded to dtype."""
    lo, hi = dtype.type(lo), dtype.type(hi)
    step = Fraction(float((hi - lo) / dtype.type(max(n - 1, 1))))
    vals = [Fraction(float(lo)) + step * i if i < n // 2 else Fraction(float(hi)) - step * (n - 1 - i)
            for i in range(n)]
    return np.array([float(v) for v in vals], dtype=np.float64).astype(dtype)


def _edges(xp, col, bins, lo_hi, dim, dtype):
    """One dimension's bin edges, checked as PyTorch checks them: a bins tensor as it is, or `bins` equal bins over
    lo_hi (the column's own range when None, [0, 1] for no data, widened by 0.5 each way when flat)."""
    if isinstance(bins, Tensor):
        edges = bins._array
        if edges.ndim != 1:
            raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension, but got {edges.ndim} "
                               f"dimensions in the bins tensor for dimension {dim}")
        if edges.size == 0:
            raise RuntimeError("torch.histogramdd: bins tensor should have at least 1 element, but got 0 elements "
                               f"in the bins tensor for dimension {dim}")
        if edges.size == 1:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got 0 for dimension {dim}")
        if edges.dtype != dtype:
            raise RuntimeError("torch.histogramdd: input tensor and bins tensors should have the same dtype, but got "
                               f"input with dtype {dtypes.scalar_type_name(dtype).lower()} and bins for dimension "
                               f"{dim} "
                               f"with dtype {_torch_name(edges).lower()}")
        return edges, False
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)):
        raise TypeError(f"histogram(): argument 'bins' must be int or Tensor, not {type(bins).__name__}")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension {dim}")
    lo, hi = (float(lo_hi[0]), float(lo_hi[1])) if lo_hi is not None else \
        (float(col.min()), float(col.max())) if col.size else (0.0, 1.0)
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"torch.histogramdd: dimension {dim}'s range [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {lo:g} max {hi:g} for "
                           f"dimension {dim}")
    return xp.asarray(_linspace_like_torch(lo, hi, bins + 1, dtype)), True


def _positions(xp, x, edges, linear):
    """Bin of each value in x (all inside the edges): PyTorch's linear guess refined among its neighbours for
    equal bins, its binary search for a bins tensor; the last bin holds its right edge too."""
    n = edges.shape[0]
    if not linear:
        pos = _lower_bound(xp, edges.reshape(1, n), x.reshape(1, -1), True).reshape(-1) - 1
    else:
        guess = ((x - edges[0]) * x.dtype.type(n - 1) / (edges[-1] - edges[0])).astype(np.int64)
        first = xp.maximum(guess - 1, 0)
        pos = first - 1
        for k in (0, 1, 2):
            j = first + k
            pos = pos + ((j < xp.minimum(guess + 2, n)) & (edges[xp.minimum(j, n - 1)] <= x))
    return xp.where(pos == n - 1, pos - 1, pos)


def _histdd(input, x, bins, ranges, weight, w_shape, density):
    """The histogram of the rows of x (N, D) over D dimensions; bins and ranges hold one entry per dimension."""
    xp, a = input._be.xp, input._array
    # PyTorch bins half precision, but finds a half tensor's range with a kernel that has no half version
    if a.dtype.kind != "f" or a.dtype == np.float16 and a.size and any(
            r is None and not isinstance(b, Tensor) for b, r in zip(bins, ranges)):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_torch_name(a)}'")
    found = [_edges(xp, x[:, i], b, r, i, a.dtype) for i, (b, r) in enumerate(zip(bins, ranges))]
    if weight is not None:
        w = weight._array
        if w.shape != w_shape:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               "input tensor excluding its innermost dimension, but got input with shape "
                               f"{_shape_str(w_shape + (x.shape[1],))} and weight with shape {_shape_str(w.shape)}")
        if w.dtype != a.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should "
                               f"have the same dtype, but got input({_torch_name(a).lower()}), and "
                               f"weight({_torch_name(w).lower()})")
    keep = xp.ones(x.shape[0], dtype=bool)
    for i, (e, _) in enumerate(found):
        keep &= (x[:, i] >= e[0]) & (x[:, i] <= e[-1])
    x, sizes, flat = x[keep], tuple(e.shape[0] - 1 for e, _ in found), 0
    for i, (e, linear) in enumerate(found):
        flat = flat * sizes[i] + _positions(xp, x[:, i], e, linear)
    w = None if weight is None else weight._array.reshape(-1)[keep].astype(np.float64)
    total = int(np.prod(sizes, dtype=np.int64))
    hist = xp.bincount(xp.asarray(flat, dtype=np.int64).reshape(-1), weights=w, minlength=total)
    hist = hist.astype(a.dtype).reshape(sizes)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum()
            for i, (e, _) in enumerate(found):
                hist = hist / xp.diff(e).reshape((1,) * i + (-1,) + (1,) * (len(sizes) - i - 1))
    return hist, [e.copy() for e, _ in found]


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    _need_tensor(input, "histogram")
    if isinstance(bins, Tensor) and range is not None:
        raise TypeError("histogram(): range is only accepted with an int number of bins, not a bins tensor")
    if weight is not None and weight.numel() != input.numel():  # any shape of the input's size
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                           f"input tensor excluding its innermost dimension, but got input with shape "
                           f"{_shape_str((input.numel(), 1))} and weight with shape {_shape_str(weight.shape)}")
    x = input._array.reshape(-1, 1)
    w = None if weight is None else weight.reshape(-1)
    hist, edges = _histdd(input, x, [bins], [range], w, (x.shape[0],), density)
    return histogram_result(Tensor(hist), Tensor(edges[0]))


def histogramdd(input, bins, range=None, weight=None, density=False):
    _need_tensor(input, "histogramdd")
    a = input._array
    if a.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    if a.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    d = a.shape[-1]
    bins = [bins] * d if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool) else list(bins)
    if len(bins) != d:
        raise RuntimeError("histogramdd: The size of bins must be equal to the innermost dimension of the input.")
    if range is not None and len(range) != 2 * d:
        raise RuntimeError(f"torch.histogramdd: for a {d}-dimensional histogram range should have {2 * d} elements, "
                           f"but got {len(range)}")
    ranges = [None] * d if range is None else [tuple(range[2 * i:2 * i + 2]) for i in builtins.range(d)]
    x = a.reshape(int(np.prod(a.shape[:-1], dtype=np.int64)), d)
    if d == 0:  # no dimensions: PyTorch counts nothing
        if a.dtype.kind != "f":
            raise NotImplementedError(f"\"histogramdd\" not implemented for '{_torch_name(a)}'")
        return histogramdd_result(Tensor(input._be.xp.zeros((), dtype=a.dtype)), ())
    hist, edges = _histdd(input, x, bins, ranges, weight, a.shape[:-1], density)
    return histogramdd_result(Tensor(hist), tuple(Tensor(e) for e in edges))


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got ({type(elements).__name__}, "
                        f"{type(test_elements).__name__}), but expected at least one Tensor")
    xp = (elements if isinstance(elements, Tensor) else test_elements)._be.xp
    e = elements._array if isinstance(elements, Tensor) else xp.asarray(elements)
    t = test_elements._array if isinstance(test_elements, Tensor) else xp.asarray(test_elements)
    for arr in (e, t):
        if arr.dtype == np.bool_:
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor):
        e, t = _common(e, t)
    return Tensor(xp.asarray(xp.isin(e, t, invert=invert)))


class SearchMethods:
    """Tensor's searching and counting methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    nonzero, nonzero_static, argwhere = nonzero, nonzero_static, argwhere
    unique, unique_consecutive = unique, unique_consecutive
    bincount, histc, histogram = bincount, histc, histogram


__all__ = ["nonzero", "nonzero_static", "unravel_index", "argwhere", "unique", "unique_consecutive", "searchsorted",
           "bucketize", "bincount", "histc", "histogram", "histogramdd", "isin"]
