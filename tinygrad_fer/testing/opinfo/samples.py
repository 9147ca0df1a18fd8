"""The sample generators shared across op families: unary and broadcasting binary operands, reductions, images,
convolutions, pools, losses, movements and indexing, and the small fixed-shape samples of the first registry entries.
Each is `sample(draw, dtype) -> Sample`; generators used by one family only live beside its entries."""
import numpy as np

from .draw import F64, Sample


def unary(lo=-3.0, hi=3.0, nonzero=False):
    def sample(d, dt):
        shape = d.shape()
        return Sample((d.away_from_zero(shape, dt, max(lo, 0.2), hi) if nonzero else d.array(shape, dt, lo, hi),))
    return sample


def _broadcast_pair(d):
    shape = d.shape(1, 3)
    other = list(shape[d.int(0, len(shape) - 1):])
    for i in range(len(other)):
        if d.bool():
            other[i] = 1
    return (shape, tuple(other)) if d.bool() else (tuple(other), shape)


def binary(lo=-3.0, hi=3.0, rhs=None, scalar=True):
    """Two broadcastable arrays (or an array and a Python number); rhs(d, shape, dt) draws the second operand."""
    def sample(d, dt):
        sa, sb = _broadcast_pair(d)
        a = d.array(sa, dt, lo, hi)
        if scalar and d.int(0, 4) == 0:
            return Sample((a, float(d.away_from_zero((), F64))))
        return Sample((a, rhs(d, sb, dt) if rhs else d.array(sb, dt, lo, hi)))
    return sample


def reduction(dim=True, keepdim=True, required=False, **extra):
    def sample(d, dt):
        shape = d.shape(1 if required else 0, 3)
        kw = dict(extra)
        if shape and (required or (dim and d.bool())):
            kw["dim"] = d.int(-len(shape), len(shape) - 1)
            if keepdim and d.bool():
                kw["keepdim"] = True
        return Sample((d.array(shape, dt),), kw)
    return sample


def image(channels=(1, 3), size=(3, 7)):
    def draw(d, dt):
        return d.array((d.int(1, 2), d.int(*channels), d.int(*size), d.int(*size)), dt)
    return draw


def conv_sample(transposed=False):
    def sample(d, dt):
        g = d.choice((1, 1, 2))
        cin, cout = g * d.int(1, 2), g * d.int(1, 2)
        k, s, p, dil = d.int(1, 3), d.int(1, 2), d.int(0, 1), d.int(1, 2)
        h = d.int(dil * (k - 1) + 1, 6)
        x = d.array((d.int(1, 2), cin, h, h + d.int(0, 1)), dt)
        w = d.array((cin, cout // g, k, k) if transposed else (cout, cin // g, k, k), dt)
        kw = dict(stride=s, padding=p if not transposed else 0, dilation=dil, groups=g)
        if transposed:
            kw["output_padding"] = d.int(0, max(0, min(s, dil) - 1))
        return Sample((x, w, d.array((cout,), dt) if d.bool() else None), kw)
    return sample


def pool_sample(avg):
    def sample(d, dt):
        k = d.int(1, 3)
        s, p = d.int(1, 2), d.int(0, k // 2)
        x = d.array((d.int(1, 2), d.int(1, 2), d.int(k, 6), d.int(k, 6)), dt)
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=d.bool())
        if avg:
            kw["count_include_pad"] = d.bool()
        else:
            kw["dilation"] = d.int(1, 2) if (k - 1) * 2 + 1 <= min(x.shape[2:]) else 1
        return Sample((x,), kw)
    return sample


def loss_sample(kind):
    def sample(d, dt):
        n, c = d.int(1, 4), d.int(2, 4)
        red = dict(reduction=d.choice(("mean", "sum", "none")))
        if kind == "classes":
            return Sample((d.array((n, c), dt), d.labels((n,), c)), red)
        if kind == "probs":
            shape = d.shape(1, 2)
            return Sample((d.array(shape, dt, 0.05, 0.95), d.array(shape, dt, 0.0, 1.0)), red)
        shape = d.shape(1, 3)
        return Sample((d.array(shape, dt), d.array(shape, dt)), red)
    return sample


def _list_call(f, *ts, **kw):
    return f(list(ts), **kw)


def _list_sample(stack):
    def sample(d, dt):
        shape = d.shape(1, 3)
        dim = d.int(-len(shape) - stack, len(shape) - 1 + stack)
        shapes = []
        for _ in range(d.int(1, 3)):
            s = list(shape)
            if not stack:
                s[dim] = d.int(0, 3)
            shapes.append(tuple(s))
        return Sample(tuple(d.array(s, dt) for s in shapes), dict(dim=dim))
    return sample


def _movement(kind):
    def sample(d, dt):
        shape = d.shape(1, 4)
        x = d.array(shape, dt)
        n = len(shape)
        if kind == "permute":
            return Sample((x, tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n))))
        if kind == "transpose":
            return Sample((x, d.int(-n, n - 1), d.int(-n, n - 1)))
        if kind == "flatten":
            a = d.int(0, n - 1)
            return Sample((x,), dict(start_dim=a, end_dim=d.int(a, n - 1)))
        if kind == "reshape":
            return Sample((x, (-1,) + shape[n - 1:] if d.bool() else tuple(reversed(shape))))
        if kind == "squeeze":
            x = x.reshape(shape[:1] + (1,) + shape[1:])
            return Sample((x,), dict(dim=d.int(-n - 1, n)) if d.bool() else {})
        if kind == "unsqueeze":
            return Sample((x, d.int(-n - 1, n)))
        if kind == "flip":
            return Sample((x, tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))}))))
        if kind == "split":
            dim = d.int(0, n - 1)
            return Sample((x, d.int(1, shape[dim])), dict(dim=dim))
        if kind == "chunk":
            return Sample((x, d.int(1, 3)), dict(dim=d.int(0, n - 1)))
        if kind == "unbind":
            return Sample((x,), dict(dim=d.int(0, n - 1)))
        if kind == "broadcast_to":
            return Sample((x, (d.int(1, 2),) + tuple(s if d.bool() else s for s in shape)))
        raise ValueError(kind)
    return sample


def _method_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x = d.array(shape, dt)
        if kind == "expand":
            src = tuple(1 if d.bool() else s for s in shape)
            return Sample((d.array(src, dt), *((d.int(1, 2),) if d.bool() else ()), *shape))
        if kind == "repeat":
            return Sample((x, *(d.int(1, 2) for _ in range(len(shape) + d.int(0, 1)))))
        return Sample((x, -1) if d.bool() else (x, *reversed(shape)))
    return sample


def _getitem_sample(d, dt):
    shape = d.shape(1, 3)
    x = d.array(shape, dt)
    kind = d.int(0, 3)
    if kind == 0:
        idx = tuple(slice(d.int(0, s - 1), None, d.int(1, 2)) for s in shape)
    elif kind == 1:
        idx = (d.int(-shape[0], shape[0] - 1), Ellipsis)
    elif kind == 2:
        idx = (d.labels((d.int(1, 4),), shape[0]),)                        # integer array, repeats allowed
    else:
        idx = (np.random.default_rng(d.seed()).random(shape) < 0.5,)      # boolean mask
    return Sample((x, idx))


def _matmul_sample(d, dt):
    k = d.int(1, 4)
    a_dims, b_dims = d.int(1, 3), d.int(1, 3)
    batch = d.shape(0, 1)
    a = (batch if a_dims == 3 else ()) + ((d.int(1, 3), k) if a_dims >= 2 else (k,))
    b = (batch if b_dims == 3 else ()) + ((k, d.int(1, 3)) if b_dims >= 2 else (k,))
    return Sample((d.array(a, dt), d.array(b, dt)))


def _fixed(*shapes, **kw):
    return lambda d, dt: Sample(tuple(d.array(s, dt) for s in shapes), kw)


def _index_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x = d.array(shape, dt)
        dim = d.int(0, len(shape) - 1)
        if kind == "index_select":
            return Sample((x, dim, d.labels((d.int(0, 4),), shape[dim])))
        if kind == "gather":
            idx_shape = tuple(d.int(1, s) for s in shape)
            return Sample((x, dim, d.labels(idx_shape, shape[dim])))
        mask = np.random.default_rng(d.seed()).random(shape) < 0.5
        return Sample((x, mask, float(d.int(-2, 2))))
    return sample


def _where_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    return Sample((np.random.default_rng(d.seed()).random(sa) < 0.5, d.array(sa, dt), d.array(sb, dt)))


def _batch_norm_sample(d, dt):
    c = d.int(1, 3)
    x = d.array((d.int(2, 3), c) + d.shape(0, 2, 2, 3), dt)
    stats = (d.array((c,), dt), d.array((c,), dt, 0.5, 2.0))
    return Sample((x, *stats, d.array((c,), dt), d.array((c,), dt)), dict(training=d.bool(), momentum=0.1, eps=1e-5))


def _linear_sample(d, dt):
    i, o = d.int(1, 4), d.int(1, 3)
    return Sample((d.array(d.shape(0, 2) + (i,), dt), d.array((o, i), dt), d.array((o,), dt) if d.bool() else None))


def _pad_sample(d, dt):
    x = d.array(d.shape(1, 3), dt)
    return Sample((x, tuple(d.int(0, 2) for _ in range(2 * d.int(1, min(2, x.ndim))))), dict(value=float(d.int(-1, 1))))


def _unfold_sample(d, dt):
    k = d.int(1, 3)
    return Sample((d.array((d.int(1, 2), d.int(1, 2), d.int(k, 5), d.int(k, 5)), dt),),
                  dict(kernel_size=k, stride=d.int(1, 2), padding=d.int(0, 1), dilation=1))


def _fold_sample(d, dt):
    k, s, size = d.int(1, 2), d.int(1, 2), (d.int(2, 5), d.int(2, 5))
    blocks = ((size[0] - k) // s + 1) * ((size[1] - k) // s + 1)
    return Sample((d.array((d.int(1, 2), d.int(1, 2) * k * k, blocks), dt),),
                  dict(output_size=size, kernel_size=k, stride=s))


def _adaptive_sample(d, dt):
    x = d.array((d.int(1, 2), d.int(1, 2), d.int(1, 7), d.int(1, 7)), dt)
    return Sample((x, (d.int(1, x.shape[2]), d.int(1, x.shape[3]))))


def _margin_sample(d, dt):
    n, c = d.int(1, 4), d.int(2, 4)
    return Sample((d.array((n, c), dt), d.labels((n,), c)), dict(p=d.choice((1, 2)), margin=1.0,
                                                                 reduction=d.choice(("mean", "sum", "none"))))


def _with_nans(d, a):
    """a with about a quarter of its elements NaN (when drawn), for the NaN-ignoring reductions."""
    if a.size and d.bool():
        a = np.where(np.random.default_rng(d.seed()).random(a.shape) < 0.25, np.nan, a).astype(a.dtype)
    return a
