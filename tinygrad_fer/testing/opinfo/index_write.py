"""Registry entries of the indexed writes (scatter_reduce, index_reduce, index_copy, masked_scatter, put,
index_put, the *_scatter ops) and of quantile/nanquantile, with their samples."""
import numpy as np

from .draw import Sample
from .entry import OpInfo
from .samples import _with_nans


def _index_write_sample(kind, reduces=("sum", "mean", "amax", "amin")):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x, n = d.array(shape, dt), len(shape)
        rng = np.random.default_rng(d.seed())
        dim = d.int(-n, n - 1)
        dd = dim % n
        if kind == "scatter_reduce":
            idx_shape = tuple(d.int(1, s) for s in shape)
            idx_shape = idx_shape[:dd] + (d.int(1, 4),) + idx_shape[dd + 1:]
            idx = rng.integers(0, shape[dd], idx_shape)      # repeats: several values reduce into one place
            src = d.array(idx_shape, dt)     # PyTorch's backward fails for a src larger than index
            return Sample((x, dim, idx, src, d.choice(reduces)), dict(include_self=d.bool()))
        if kind == "index_reduce":
            idx = rng.integers(0, shape[dd], d.int(0, 4))       # repeats reduce several slices into one
            src = d.array(shape[:dd] + (len(idx),) + shape[dd + 1:], dt)
            return Sample((x, dim, idx, src, d.choice(reduces)), dict(include_self=d.bool()))
        if kind == "index_copy":
            idx = rng.permutation(shape[dd])[:d.int(0, shape[dd])]   # distinct: each slice written once
            return Sample((x, dim, idx, d.array(shape[:dd] + (len(idx),) + shape[dd + 1:], dt)))
        if kind == "masked_scatter":
            mask = np.asarray(rng.random(tuple(1 if d.bool() else s for s in shape)[d.int(0, n):]) < 0.5)
            count = int(np.broadcast_to(mask, shape).sum())
            return Sample((x, mask, d.array((count + d.int(0, 2),), dt)))
        if kind == "put":
            acc = d.bool()
            k = d.int(0, x.size)
            idx = rng.integers(-x.size, x.size, k) if acc else rng.permutation(x.size)[:k] - x.size * d.int(0, 1)
            return Sample((x, idx.reshape(d.choice(((k,), (1, k)))), d.array((k,), dt)), dict(accumulate=acc))
        if kind == "index_put":
            acc = d.bool()
            k = d.int(1, n)           # advanced indices on the first k dims
            if d.int(0, 3) == 0:      # a mask over them
                idx = (np.asarray(rng.random(shape[:k]) < 0.5),)
                rest = (int(idx[0].sum()),) + shape[k:]
            else:
                m = d.int(1, 4)
                flat = rng.integers(0, int(np.prod(shape[:k])), m) if acc else \
                    rng.permutation(int(np.prod(shape[:k])))[:min(m, int(np.prod(shape[:k])))]
                idx = np.unravel_index(flat, shape[:k])
                rest = (len(flat),) + shape[k:]
            vals = d.array(rest[d.int(0, len(rest)):], dt)    # broadcasts against the indexed part
            return Sample((x, vals, *idx), dict(accumulate=acc))
        if kind == "slice_scatter":
            start = d.int(0, shape[dd] - 1)
            step = d.int(1, 2)
            part = len(range(start, shape[dd], step))
            return Sample((x, d.array(shape[:dd] + (part,) + shape[dd + 1:], dt)),
                          dict(dim=dim, start=start, step=step))
        if kind == "select_scatter":
            return Sample((x, d.array(shape[:dd] + shape[dd + 1:], dt), dim, d.int(-shape[dd], shape[dd] - 1)))
        x = d.array(d.shape(2, 3), dt)
        a = d.int(-x.ndim, x.ndim - 1)
        b = d.choice([i for i in range(-x.ndim, x.ndim) if i % x.ndim != a % x.ndim])
        off = d.int(-2, 2)
        k = max(0, min(x.shape[a] + min(off, 0), x.shape[b] - max(off, 0)))
        rest = tuple(s for i, s in enumerate(x.shape) if i not in (a % x.ndim, b % x.ndim))
        return Sample((x, d.array(rest + (k,), dt)), dict(offset=off, dim1=a, dim2=b))
    return sample


def _quantile_sample(nan):
    def sample(d, dt):
        x = d.array(d.shape(0, 3, min_side=1), dt, nice=False)   # unrounded: a tie's gradient is the sort's choice
        if nan and d.nice:    # (not in the numeric gradient checks: a NaN output has no finite difference)
            x = _with_nans(d, x)
        q = float(d.choice((0.0, 0.25, 0.5, 0.9, 1.0))) if d.bool() else \
            np.random.default_rng(d.seed()).random(d.int(1, 3)).astype(dt)
        kw = dict(interpolation=d.choice(("linear", "lower", "higher", "midpoint", "nearest")), keepdim=d.bool())
        if x.ndim and d.bool():
            kw["dim"] = d.int(-x.ndim, x.ndim - 1)
        return Sample((x, q), kw)
    return sample


def _index_put_call(f, x, values, *idx, **kw):
    # out of place and in place alike: the in-place one on a copy, which the gradient goes through
    return f(x if f.__name__ != "<lambda>" else x * 1, tuple(idx), values, **kw)


def _index_write_entries():
    yield OpInfo("scatter_reduce", _index_write_sample("scatter_reduce"), method=True, inplace="scatter_reduce_")
    yield OpInfo("scatter_reduce", _index_write_sample("scatter_reduce", ("prod",)), namespace="Tensor",
                 deviations=dict(gradgrad="prod's rule is once differentiable here (multiply.at has no recorded form)"))
    yield OpInfo("index_reduce", _index_write_sample("index_reduce", ("mean", "amax", "amin")), method=True,
                 inplace="index_reduce_")
    yield OpInfo("index_reduce", _index_write_sample("index_reduce", ("prod",)), namespace="Tensor",
                 deviations=dict(gradgrad="prod's rule is once differentiable here (multiply.at has no recorded form)"))
    yield OpInfo("index_copy", _index_write_sample("index_copy"), method=True, inplace="index_copy_")
    yield OpInfo("masked_scatter", _index_write_sample("masked_scatter"), method=True, inplace="masked_scatter_")
    yield OpInfo("put", _index_write_sample("put"), method=True, inplace="put_")
    yield OpInfo("index_put", _index_write_sample("index_put"), call=_index_put_call)
    yield OpInfo("index_put", _index_write_sample("index_put"), call=_index_put_call, namespace="Tensor")
    yield OpInfo("index_put_", _index_write_sample("index_put"), call=_index_put_call, namespace="Tensor")
    for n in ("slice_scatter", "select_scatter", "diagonal_scatter"):
        yield OpInfo(n, _index_write_sample(n), method=True)
    yield OpInfo("quantile", _quantile_sample(False), method=True, constant_args=(1,))
    yield OpInfo("nanquantile", _quantile_sample(True), method=True, constant_args=(1,))
