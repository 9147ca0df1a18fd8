"""Registry entries of the searching and counting ops (nonzero, unique, bincount, histc, searchsorted, bucketize,
isin, histogram, histogramdd): values on a coarse grid so repeats, ties and zeros occur, and the adapters that
turn a sample into each op's call."""
import numpy as np

from .draw import F64, Sample
from .entry import OpInfo


def _search_sample(kind):
    """Samples for the searching and counting ops: values on a coarse grid, so repeats, ties and zeros occur."""
    def sample(d, dt):
        shape = d.shape(0, 3)
        grid = lambda shp: np.asarray(np.round(d.array(shp, F64, -2.4, 2.4)), dt)  # noqa: E731  (-2 .. 2)
        if kind == "nonzero_static":
            return Sample((grid(shape),), dict(size=d.int(0, 6), fill_value=d.int(-2, 9)))
        if kind == "unravel_index":     # indices out of range and negative too: PyTorch wraps them
            sides = d.shape(0, 3)
            total = int(np.prod(sides))
            x = np.random.default_rng(d.seed()).integers(-total, 2 * total + 1, d.shape(0, 2))
            return Sample((x, sides[0] if len(sides) == 1 and d.bool() else sides))
        if kind in ("nonzero", "argwhere"):
            return Sample((grid(shape),), dict(as_tuple=d.bool()) if kind == "nonzero" and d.bool() else {})
        if kind in ("unique", "unique_consecutive"):
            kw = dict(return_inverse=d.bool(), return_counts=d.bool())
            if kind == "unique":
                kw["sorted"] = d.bool()
            if shape and d.bool():  # slices along dim: few columns of a coarse grid, so whole slices repeat
                shape = shape[:1] + tuple(min(s, 2) for s in shape[1:])
                x = np.asarray(np.round(d.array(shape, F64, -0.6, 0.6)), dt)
                return Sample((x,), dict(kw, dim=d.int(-len(shape), len(shape) - 1)))
            return Sample((grid(shape),), kw)
        if kind in ("searchsorted", "bucketize"):
            batch = d.shape(0, 2, max_side=3) if kind == "searchsorted" and d.bool() else ()
            bd = np.sort(d.array(batch + (d.int(0, 5),), dt), axis=-1)
            v = grid(batch + (d.int(0, 4),)) if batch else (grid(shape) if d.bool() else float(grid(())))
            kw = dict(out_int32=d.bool(), right=d.bool())
            if kind == "bucketize":
                return Sample((v, bd), kw)
            if d.bool():
                kw["side"] = "right" if kw.pop("right") else "left"
            sorter = None
            if d.bool():    # the same boundaries shuffled, with the order that sorts them back
                perm = np.argsort(np.random.default_rng(d.seed()).random(bd.shape), axis=-1)
                bd, sorter = np.take_along_axis(bd, perm, -1), perm.astype(np.int64)
            return Sample((bd, v, sorter), kw)
        if kind == "bincount":
            n = d.int(0, 6)
            x = d.labels((n,), d.int(1, 5)).astype(np.int64)
            return Sample((x, d.array((n,), dt) if d.bool() else None), dict(minlength=d.int(0, 6)))
        if kind == "histc":
            kw = dict(bins=d.int(1, 6))
            if d.bool():
                lo = d.int(-3, 1) / 2
                kw.update(min=lo, max=lo + d.int(0, 4))
            return Sample((d.array(shape, dt),), kw)
        if kind == "histogram":
            x, kw = d.array(shape, dt), dict(density=d.bool())
            if d.bool():    # explicit edges, some of them on the values' grid
                bins = np.sort(np.asarray(np.round(d.array((d.int(2, 5),), F64), 1), dt))
            else:
                bins = d.int(1, 6)
                if d.bool():
                    lo = d.int(-3, 1) / 2
                    kw["range"] = (lo, lo + d.int(0, 4))
            return Sample((x, bins, d.array(shape, dt, 0.0, 2.0) if d.bool() else None), kw)
        if kind == "histogramdd":
            x, kw = d.array((d.int(0, 5), d.int(1, 3)), dt), dict(density=d.bool())
            w = d.array(x.shape[:1], dt, 0.0, 2.0) if d.bool() else None
            if d.bool():    # a bins tensor per dimension
                edges = [np.sort(np.asarray(np.round(d.array((d.int(2, 4),), F64), 1), dt)) for _ in range(x.shape[1])]
                return Sample((x, w, *edges), kw)
            kw["bins"] = d.int(1, 4) if d.bool() else [d.int(1, 4) for _ in range(x.shape[1])]
            if d.bool():
                kw["range"] = [v for _ in range(x.shape[1]) for v in (-1.5, d.int(0, 3) - 0.5)]
            return Sample((x, w), kw)
        if kind == "isin":
            e, t = grid(shape), grid(d.shape(0, 2))
            if d.bool():
                e, t = (float(e.reshape(-1)[0]), t) if e.size and d.bool() else (e, float(grid(())))
            return Sample((e, t), dict(invert=d.bool()))
    return sample


def _searchsorted_call(f, sorted_sequence, input, sorter, **kw):
    return f(sorted_sequence, input, sorter=sorter, **kw)


def _histogram_call(f, input, bins, weight, **kw):
    return f(input, bins, weight=weight, **kw)


def _histogramdd_call(f, input, weight, *edges, **kw):
    kw = dict(kw, bins=list(edges)) if edges else kw
    hist, bin_edges = f(input, weight=weight, **kw)
    return (hist, *bin_edges)


def _more_search():
    for n in "nonzero nonzero_static argwhere unique unique_consecutive bincount histc".split():
        yield OpInfo(n, _search_sample(n), method=True, grad=False)
    yield OpInfo("searchsorted", _search_sample("searchsorted"), call=_searchsorted_call, grad=False)
    for n in "bucketize isin unravel_index".split():
        yield OpInfo(n, _search_sample(n), grad=False)
    # also a Tensor method, but its weight is keyword-only, which the generated spelling check cannot pass
    yield OpInfo("histogram", _search_sample("histogram"), call=_histogram_call, grad=False)
    yield OpInfo("histogramdd", _search_sample("histogramdd"), call=_histogramdd_call, grad=False)
