"""Registry entries of the shape and movement ops: permute, reshape, split and the other views, cat/stack, basic
gather/index_select/masked_fill, then the tensor-op breadth issue's shaping ops (tril/triu, roll, narrow, tile,
the stack family, diagonals, outer/kron/tensordot, take/scatter) with their samples."""
import numpy as np

from .deviations import _BOOL
from .draw import Sample
from .entry import OpInfo
from .samples import (_broadcast_pair, _fixed, _getitem_sample, _index_sample, _list_call, _list_sample,
                      _method_sample, _movement, unary)


def _movements():
    for n in "permute transpose reshape squeeze unsqueeze flip split chunk unbind broadcast_to".split():
        yield OpInfo(n, _movement(n), method=True)
    yield OpInfo("flatten", _movement("flatten"), method=True, module="Flatten")
    yield OpInfo("unflatten", lambda d, dt: Sample((d.array((2, 6, d.int(1, 2)), dt), 1,
                                                    d.choice(((2, 3), (3, 2), (-1, 3), (6, 1), (1, -1))))),
                 namespace="F", torch_namespace="tg", module="Unflatten")
    yield OpInfo("t", lambda d, dt: Sample((d.array(d.shape(0, 2), dt),)), method=True)
    yield OpInfo("expand", _method_sample("expand"), namespace="Tensor")
    yield OpInfo("repeat", _method_sample("repeat"), namespace="Tensor")
    yield OpInfo("view", _method_sample("view"), namespace="Tensor",
                 deviations=dict(noncontiguous="view needs strides compatible with the new shape (PyTorch raises too)"))
    yield OpInfo("contiguous", lambda d, dt: Sample((d.array(d.shape(), dt),)), namespace="Tensor")
    yield OpInfo("__getitem__", _getitem_sample, namespace="Tensor")
    yield OpInfo("clone", unary(), method=True)
    yield OpInfo("cat", _list_sample(False), call=_list_call, aliases=("concat", "concatenate"))
    yield OpInfo("stack", _list_sample(True), call=_list_call)
    yield OpInfo("index_select", _index_sample("index_select"), method=True)
    yield OpInfo("gather", _index_sample("gather"), method=True)
    yield OpInfo("masked_fill", _index_sample("masked_fill"), method=True, inplace="masked_fill_")


def _shaping_sample(kind):
    def sample(d, dt):
        shape = d.shape(2 if kind in ("tril", "rot90", "vsplit", "dsplit") else 1, 3)
        x, n = d.array(shape, dt), len(shape)
        dim = d.int(-n, n - 1)
        if kind == "tril":
            return Sample((x,), dict(diagonal=d.int(-2, 2)))
        if kind == "roll":
            if d.bool():
                return Sample((x, d.int(-5, 5)))
            dims = tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))}))
            return Sample((x, tuple(d.int(-5, 5) for _ in dims), dims))
        if kind == "movedim":
            src = tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n)[:d.int(1, n)])
            dst = tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n)[:len(src)])
            return Sample((x, src, dst) if len(src) > 1 or d.bool() else (x, src[0], dst[0]))
        if kind == "narrow":
            size = shape[dim]
            start = d.int(-size, size - 1)
            return Sample((x, dim, start, d.int(0, size - start % size)))
        if kind == "select":
            return Sample((x, dim, d.int(-shape[dim], shape[dim] - 1)))
        if kind == "tile":
            return Sample((x, tuple(d.int(1, 2) for _ in range(d.int(1, n + 1)))))
        if kind == "repeat_interleave":
            if d.bool():
                return Sample((x, d.int(0, 3)), dict(dim=dim) if d.bool() else {})
            return Sample((x, d.labels((shape[dim],), 3)), dict(dim=dim))
        if kind == "rot90":
            a = d.int(0, n - 1)
            return Sample((x,), dict(k=d.int(-5, 5), dims=(a, d.choice([i for i in range(n) if i != a]))))
        if kind == "tensor_split":
            sec = d.int(1, 4) if d.bool() else sorted(d.int(-1, shape[dim] + 1) for _ in range(d.int(1, 3)))
            return Sample((x, sec), dict(dim=dim))
        if kind in ("hsplit", "vsplit", "dsplit"):
            x = d.array(shape + (d.int(1, 4),) * (kind == "dsplit"), dt)
            size = x.shape[dict(hsplit=1 if n > 1 else 0, vsplit=0, dsplit=2)[kind]]
            return Sample((x, d.choice([k for k in range(1, size + 1) if size % k == 0]) if d.bool() else
                           [d.int(0, size)]))
        raise ValueError(kind)
    return sample


def _stack_like_sample(kind):
    def sample(d, dt):
        shape = list(d.shape(0, 3))
        n = len(shape)
        grow = dict(hstack=0 if n == 1 else 1, vstack=0, dstack=2, column_stack=1)[kind]
        shapes = []
        for _ in range(d.int(1, 3)):
            if grow < n and (n >= 2 or kind == "hstack"):
                shape[grow] = d.int(1, 3)
            shapes.append(tuple(shape))
        return Sample(tuple(d.array(s, dt) for s in shapes))
    return sample


def _diag_sample(kind):
    def sample(d, dt):
        if kind == "diag":
            return Sample((d.array(d.shape(1, 2), dt), d.int(-3, 3)))
        if kind == "diag_embed":
            x = d.array(d.shape(1, 2), dt)
            n = x.ndim + 1
            a = d.int(-n, n - 1)
            b = d.choice([i for i in range(-n, n) if i % n != a % n])
            return Sample((x,), dict(offset=d.int(-2, 2), dim1=a, dim2=b))
        x = d.array(d.shape(2, 4), dt)
        a = d.int(-x.ndim, x.ndim - 1)
        b = d.choice([i for i in range(-x.ndim, x.ndim) if i % x.ndim != a % x.ndim])
        return Sample((x,), dict(offset=d.int(-3, 3), dim1=a, dim2=b))
    return sample


def _inner_sample(d, dt):
    k = d.int(1, 3)
    a, b = d.shape(0, 2), d.shape(0, 2)
    if d.int(0, 4) == 0:
        return Sample((d.array((), dt), d.array(b, dt)))
    return Sample((d.array(a + (k,), dt), d.array(b + (k,), dt)))


def _tensordot_sample(d, dt):
    a = d.shape(1, 3)
    k = d.int(0, len(a))
    if d.bool():
        b = a[len(a) - k:] + d.shape(0, 2)
        return Sample((d.array(a, dt), d.array(b, dt)), dict(dims=k))
    da = [int(i) for i in np.random.default_rng(d.seed()).permutation(len(a))[:k]]
    b = d.shape(0, 2)
    db = []
    for i in da:
        db.append(d.int(0, len(b)))
        b = b[:db[-1]] + (a[i],) + b[db[-1]:]
        db = [j + (j >= db[-1] and n < len(db) - 1) for n, j in enumerate(db)]
    return Sample((d.array(a, dt), d.array(b, dt)), dict(dims=(da, db)))


def _scatter_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x, n = d.array(shape, dt), len(shape)
        dim = d.int(-n, n - 1)
        rng = np.random.default_rng(d.seed())
        if kind == "take":
            return Sample((x, rng.integers(-x.size, x.size, d.shape(0, 2))))
        if kind == "take_along_dim":
            if d.bool():
                return Sample((x, rng.integers(0, x.size, d.shape(1, 1))))
            idx = tuple(1 if d.bool() else s for s in shape)
            idx = idx[:dim % n] + (d.int(1, 3),) + idx[dim % n + 1:]
            return Sample((x, rng.integers(0, shape[dim], idx)), dict(dim=dim))
        if kind == "masked_select":
            mask_shape = tuple(1 if d.bool() else s for s in shape)[d.int(0, n):]
            return Sample((x, np.asarray(rng.random(mask_shape) < 0.5)))
        if kind in ("index_add", "index_fill"):
            idx = rng.integers(0, shape[dim], d.int(0, 4))
            if kind == "index_fill":
                return Sample((x, dim, idx, float(d.int(-2, 2))))
            src = d.array(shape[:dim % n] + (len(idx),) + shape[dim % n + 1:], dt)
            return Sample((x, dim, idx, src), dict(alpha=d.choice((1, 2))) if d.bool() else {})
        # scatter writes repeated positions in an unspecified order: distinct positions along dim keep it defined
        rows = d.int(1, shape[dim])
        idx_shape = tuple(d.int(1, s) for s in shape)
        idx_shape = idx_shape[:dim % n] + (rows if kind == "scatter" else d.int(1, 4),) + idx_shape[dim % n + 1:]
        if kind == "scatter":
            others = idx_shape[:dim % n] + idx_shape[dim % n + 1:]
            idx = np.moveaxis(np.argsort(rng.random(others + (shape[dim],)), axis=-1)[..., :rows], -1, dim % n)
        else:
            idx = rng.integers(0, shape[dim], idx_shape)
        src = d.array(idx_shape, dt)  # PyTorch's backward fails for a src larger than index
        if kind == "scatter" and d.bool():
            return Sample((x, dim, idx), dict(value=float(d.int(-2, 2))))
        return Sample((x, dim, idx, src))
    return sample


def _same_shapes_sample(d, dt):
    shape = d.shape(0, 3)
    return Sample(tuple(d.array(shape, dt) for _ in range(d.int(1, 3))))


def _more_shaping():
    for n in ("tril", "triu"):
        yield OpInfo(n, _shaping_sample("tril"), method=True, inplace=n + "_")
    yield OpInfo("roll", _shaping_sample("roll"), method=True)
    yield OpInfo("movedim", _shaping_sample("movedim"), method=True, aliases=("moveaxis",))
    for n in ("narrow", "select", "tile", "repeat_interleave", "rot90", "tensor_split", "hsplit", "vsplit",
              "dsplit"):
        yield OpInfo(n, _shaping_sample(n), method=True)
    for n in ("atleast_1d", "atleast_2d", "atleast_3d"):
        yield OpInfo(n, _same_shapes_sample)
    for n in ("hstack", "vstack", "dstack", "column_stack"):
        yield OpInfo(n, _stack_like_sample(n), call=_list_call)
    yield OpInfo("diagonal", _diag_sample("diagonal"), method=True)
    yield OpInfo("diag", _diag_sample("diag"), method=True)
    yield OpInfo("diag_embed", _diag_sample("diag_embed"), method=True)
    yield OpInfo("broadcast_tensors", lambda d, dt: Sample(tuple(d.array(s, dt) for s in _broadcast_pair(d))))
    yield OpInfo("meshgrid", lambda d, dt: Sample(tuple(d.array(d.shape(0, 1), dt) for _ in range(d.int(1, 3))),
                                                  dict(indexing=d.choice(("ij", "xy")))))
    yield OpInfo("outer", _fixed((3,), (4,)), method=True, aliases=("ger",))
    yield OpInfo("inner", _inner_sample, method=True, deviations=dict(dtypes=dict(bool=_BOOL)))
    yield OpInfo("kron", lambda d, dt: Sample((d.array(d.shape(0, 3), dt), d.array(d.shape(0, 3), dt))), method=True)
    yield OpInfo("tensordot", _tensordot_sample, deviations=dict(dtypes=dict(bool=_BOOL)))
    for n in ("take", "take_along_dim", "masked_select"):
        yield OpInfo(n, _scatter_sample(n), method=True)
    for n in ("scatter", "scatter_add", "index_add", "index_fill"):
        yield OpInfo(n, _scatter_sample(n), method=True, inplace=n + "_")
