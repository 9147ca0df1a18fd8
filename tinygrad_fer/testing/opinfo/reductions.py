"""Registry entries of the reductions (sum, mean, max, var, softmax, all/any ...) and of the ordering and scan ops
(cumulative ops, sort/topk/median, nan-aware reductions, norms), with the ordering ops' sample generator."""
import numpy as np

from .draw import Sample
from .entry import OpInfo
from .samples import _with_nans, binary, reduction


def _reductions():
    yield OpInfo("sum", reduction(), method=True)
    yield OpInfo("mean", reduction(), method=True)
    yield OpInfo("prod", reduction(), method=True, scale=10)
    for n in "amax amin".split():
        yield OpInfo(n, reduction(), method=True)
    for n in "max min".split():
        yield OpInfo(n, reduction(), method=True)
    for n in "argmax argmin".split():
        yield OpInfo(n, reduction(), method=True, grad=False)
    for n in "var std".split():
        yield OpInfo(n, reduction(), method=True, scale=10)
    yield OpInfo("logsumexp", reduction(required=True), method=True)
    for n in "softmax log_softmax".split():
        yield OpInfo(n, reduction(required=True, keepdim=False), method=True)
        yield OpInfo(n, reduction(required=True, keepdim=False), namespace="F",
                     module=dict(softmax="Softmax", log_softmax="LogSoftmax")[n])
    for n in "all any".split():
        yield OpInfo(n, reduction(), method=True, grad=False)


def _order_sample(kind):
    """Samples for scans and order statistics; distinct values where the chosen index would be ambiguous."""
    def sample(d, dt):
        shape = d.shape(0 if kind in ("sort", "argsort", "median", "nanmedian") else 1, 3)
        x = d.array(shape, dt, nice=False if kind in ("topk", "kthvalue", "median", "nanmedian") else None)
        kw = {}
        if kind in ("nansum", "nanmean", "nanmedian"):
            x = _with_nans(d, x)
        n = len(shape)
        dim = d.int(-n, n - 1) if n else d.choice((0, -1))
        if kind in ("sort", "argsort"):
            return Sample((x,), dict(dim=dim, descending=d.bool(), stable=True))
        if kind == "topk":
            return Sample((x, d.int(0, shape[dim])), dict(dim=dim, largest=d.bool()))
        if kind == "kthvalue":
            return Sample((x, d.int(1, shape[dim])), dict(dim=dim, keepdim=d.bool()))
        if kind in ("median", "nanmedian"):
            return Sample((x,), dict(dim=dim, keepdim=d.bool()) if d.bool() else {})
        if kind == "diff":
            kw = dict(n=d.int(0, 2), dim=dim)
            extra = lambda: d.array(shape[:dim % n] + (d.int(1, 2),) + shape[dim % n + 1:], dt)  # noqa: E731
            args = (x, kw.pop("n"), kw.pop("dim"), extra() if d.bool() else None, extra() if d.bool() else None)
            return Sample(args)
        if kind == "norm":
            p = d.choice(("fro", 1, 2, 3, float("inf"), -float("inf")))
            if d.bool():
                kw = dict(dim=tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))})), keepdim=d.bool())
            return Sample((x, p), kw)
        if kind == "count_nonzero":
            x = np.where(np.random.default_rng(d.seed()).random(shape) < 0.3, 0, x).astype(dt)
            return Sample((x,), dict(dim=dim) if d.bool() else {})
        if kind in ("var_mean", "std_mean"):
            kw = dict(dim=dim, keepdim=d.bool()) if d.bool() else {}
            if d.bool():
                kw["correction"] = d.int(0, 1)
            return Sample((x,), kw)
        if kind in ("aminmax", "nansum", "nanmean"):
            return Sample((x,), dict(dim=dim, keepdim=d.bool()) if d.bool() else {})
        return Sample((x,), dict(dim=dim))
    return sample


def _more_reductions():
    for n in "cumsum cumprod".split():
        yield OpInfo(n, _order_sample(n), method=True, inplace=n + "_", scale=10)
    for n in "cummax cummin".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("logcumsumexp", _order_sample("logcumsumexp"), method=True,
                 deviations={"gradgrad": "its backward sums in log space with no recorded form yet: differentiating "
                                         "the gradient raises (PyTorch has a double backward)"})
    for n in "sort topk kthvalue median nanmedian".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("argsort", _order_sample("argsort"), method=True, grad=False)
    yield OpInfo("msort", lambda d, dt: Sample((d.array(d.shape(1, 3), dt),)), method=True)
    for n in "var_mean std_mean".split():
        yield OpInfo(n, _order_sample(n), scale=10)
    for n in "aminmax nansum nanmean".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("count_nonzero", _order_sample("count_nonzero"), method=True, grad=False)
    yield OpInfo("diff", _order_sample("diff"), method=True)
    yield OpInfo("trace", lambda d, dt: Sample((d.array(d.shape(2, 2), dt),)), method=True)
    yield OpInfo("norm", _order_sample("norm"), method=True, scale=10)
    yield OpInfo("dist", lambda d, dt: Sample((*binary(scalar=False)(d, dt).args, d.choice((1, 2, 3, float("inf"))))),
                 method=True, scale=10)
