"""Registry entries of the products and linear algebra: matmul/mm/bmm/dot/linear, einsum, the add-products
(addmm ...), and `linalg.*` (inverse, determinants, norms, solvers, decompositions, LU, distances) as dotted
entries, with their samples (diagonally dominant square matrices, symmetric and positive definite inputs) and the
adapters that fix a decomposition's free signs so both libraries' results compare."""
from dataclasses import dataclass

import numpy as np

from .draw import F64, Sample
from .entry import OpInfo
from .index_write import _index_write_entries
from .samples import _broadcast_pair, _fixed, _linear_sample, _list_call, _matmul_sample


def _linear_algebra():
    yield OpInfo("matmul", _matmul_sample, method=True)
    yield OpInfo("mm", _fixed((2, 3), (3, 4)), method=True)
    yield OpInfo("bmm", _fixed((2, 2, 3), (2, 3, 2)), method=True)
    yield OpInfo("dot", _fixed((4,), (4,)), method=True)
    yield OpInfo("linear", _linear_sample, namespace="F", module="Linear")


# ---- einsum, scaled products, linalg (issue 17) -----------------------------------------------------------
_EINSUMS = ("ij,jk->ik", "ij,jk,kl->il", "ii->i", "ii", "bij,bjk->bik", "...ij,...jk", "i,i->", "ij->ji",
            "iij,jk->ik", "ij,j", "i,j->ij", "bA,bc", "ijk,ikl,lm->jm", "ij,ij,ij->i", "a...,a->...", "ij,kl->")


def _einsum_sample(d, dt):
    eq = d.choice(_EINSUMS)
    lhs = eq.split("->")[0].split(",")
    sizes = {c: d.int(1, 3) for c in "".join(lhs).replace(".", "")}
    ell = d.shape(0, 2)
    ops = []
    for w in lhs:
        shape = []
        for part in w.split("..."):
            shape.append([1 if d.int(0, 5) == 0 else sizes[c] for c in part])  # a size-1 dim broadcasts
        shape = shape[0] + (list(ell[d.int(0, len(ell)):]) + shape[1] if len(shape) > 1 else [])
        ops.append(d.array(tuple(shape), dt))
    # a repeated label needs equal sizes within its operand
    ops = [a if len(set(w)) == len(w) or "." in w else
           d.array(tuple(sizes[c] for c in w), dt) for w, a in zip(lhs, ops)]
    return Sample((eq, *ops))


def _addmm_sample(kind):
    def sample(d, dt):
        n, k, p, b = d.int(1, 3), d.int(1, 3), d.int(1, 3), d.int(1, 3)
        a, c, out = {"addmm": ((n, k), (k, p), (n, p)), "addmv": ((n, k), (k,), (n,)), "addr": ((n,), (p,), (n, p)),
                     "baddbmm": ((b, n, k), (b, k, p), (b, n, p)), "addbmm": ((b, n, k), (b, k, p), (n, p))}[kind]
        inp = tuple(1 if d.bool() else s for s in out)[d.int(0, len(out)):]
        kw = {}
        if d.bool():
            kw = dict(beta=d.choice((0, 0.5, 2)), alpha=d.choice((1, -1.5, 3)))
        return Sample((d.array(inp, dt), d.array(a, dt), d.array(c, dt)), kw)
    return sample


def _more_linalg():
    yield OpInfo("einsum", _einsum_sample, scale=10)
    for n in ("addmm", "addmv", "addr", "baddbmm", "addbmm"):
        yield OpInfo(n, _addmm_sample(n), method=True, inplace=n + "_", scale=10)
    yield OpInfo("vdot", _fixed((4,), (4,)), method=True)
    yield from _linalg_entries()
    yield from _index_write_entries()


@dataclass(frozen=True)
class _Dotted(OpInfo):
    """An op of a submodule, named with its path (linalg.inv): each dot is an attribute step, in both libraries."""

    def fn(self, lib, name=None):
        f = lib
        for part in (name or self.name).split("."):
            f = getattr(f, part)
        return f if self.call is None else (lambda *a, **k: self.call(f, *a, **k))


def _square(d, dt, batch=True, n=None):
    """Random square matrices, strictly diagonally dominant (entries in [-1, 1], (n + 1) I added), so never
    singular and their inverses well-conditioned."""
    n = n or d.int(1, 4)
    a = d.array((d.shape(0, 2, max_side=3) if batch else ()) + (n, n), F64, -1.0, 1.0)
    return (a + (n + 1.0) * np.eye(n)).astype(dt)


def _spd_call(f, x, **kw):
    # x X^T + n I: a symmetric positive-definite function of the free matrix x, so the gradient check sees both
    # triangles (the factorizations read one)
    n = x.shape[-1]
    return f(x @ x.mT + n * x.new_ones(n).diag_embed(), **kw)


def _sym_call(f, x, **kw):
    return f((x + x.mT) / 2, **kw)


def _eigh_call(f, x, **kw):
    w, v = f((x + x.mT) / 2, **kw)
    return w, v * v[..., 0:1, :].sign()     # eigenvectors are defined up to sign: the first row's made positive


def _qr_call(f, x, *a, **kw):
    q, r = f(x, *a, **kw)
    d = r.diagonal(0, -2, -1).sign()        # Q and R are defined up to the signs of R's diagonal
    return q * d[..., None, :], r * d[..., :, None]


def _svd_call(f, x, *a, legacy=False, **kw):
    u, s, v = f(x, *a, **kw)
    k = s.shape[-1]
    u, v = u[..., :k], (v[..., :k] if legacy else v[..., :k, :].mT)   # columns past k are not unique
    sg = u[..., 0:1, :].sign()              # singular vectors are defined up to a shared sign
    return u * sg, s, v * sg


def _linalg_sample(kind):
    def sample(d, dt):
        if kind == "solve":
            a = _square(d, dt)
            n, batch = a.shape[-1], a.shape[:-2]
            form = d.int(0, 3)
            left = form <= 1 or d.bool()    # a vector B is a column: A on its left only
            if form == 0:
                b = (n,)
            elif form == 1 and batch:
                b = batch + (n,)
            else:
                k = d.int(1, 3)
                b = (batch[d.int(0, len(batch)):] if form == 2 else batch) + ((n, k) if left else (k, n))
            kw = {} if left else dict(left=False)
            if not left and len(b) == 1:
                kw = {}
            return Sample((a, d.array(b, dt)), kw)
        if kind in ("qr", "svd", "svdvals", "matrix_norm", "torch.svd"):
            # unrounded: ties (equal singular values, a rank-deficient R) make these gradients infinite
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4), d.int(1, 4)), dt, nice=False)
            m, n = a.shape[-2:]
            if kind == "qr":
                return Sample((a,), dict(mode="complete") if m <= n and d.bool() else {})
            if kind == "svd":
                return Sample((a,), dict(full_matrices=d.bool()))
            if kind == "torch.svd":
                return Sample((a,), dict(some=d.bool()))
            if kind == "matrix_norm":
                a = d.array(d.shape(2, 3, max_side=3), dt)
                d0 = d.int(-a.ndim, a.ndim - 1)
                d1 = d.choice([i for i in range(a.ndim) if i != d0 % a.ndim])
                return Sample((a,), dict(ord=d.choice(("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf"))),
                                         dim=(d0, d1), keepdim=d.bool()))
            return Sample((a,))
        if kind == "vector_norm":
            a = d.array(d.shape(0, 3), dt)
            kw = dict(ord=d.choice((2, 1, 3, 0.5, float("inf"), -float("inf"), 0, -1)), keepdim=d.bool())
            if a.ndim and d.bool():
                kw["dim"] = d.int(-a.ndim, a.ndim - 1) if d.bool() else (0, a.ndim - 1) if a.ndim > 1 else (0,)
            return Sample((a,), kw)
        if kind == "norm":
            a = d.array(d.shape(1, 3), dt)
            form = d.int(0, 2)
            if form == 0:
                return Sample((a,))
            if form == 1 and a.ndim <= 2:
                return Sample((a,), dict(ord=d.choice((1, 2, float("inf")) if a.ndim == 1 else ("fro", "nuc", 1, 2))))
            return Sample((a,), dict(ord=d.choice((None, 1, 3)), dim=d.int(-a.ndim, a.ndim - 1)))
        if kind == "matrix_power":
            return Sample((_square(d, dt), d.int(-2, 3)))
        if kind == "multi_dot":
            sides = [d.int(1, 3) for _ in range(d.int(3, 5))]
            shapes = [(sides[i], sides[i + 1]) for i in range(len(sides) - 1)]
            if d.bool():
                shapes[0] = shapes[0][1:]
            if d.bool():
                shapes[-1] = shapes[-1][:1]
            return Sample(tuple(d.array(s, dt) for s in shapes))
        if kind == "vecdot":
            sa, sb = _broadcast_pair(d)
            n = d.int(1, 3)
            return Sample((d.array(sa + (n,), dt), d.array(sb + (n,), dt)))
        if kind == "uplo":
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4),) * 2, dt, nice=False)
            return Sample((a,), dict(UPLO=d.choice("LU")))
        if kind == "cholesky":
            return Sample((d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4),) * 2, dt),), dict(upper=d.bool()))
        return Sample((_square(d, dt),))
    return sample


def _solver_sample(kind):
    def sample(d, dt):
        n = d.int(1, 4)
        batch = d.shape(0, 1, max_side=2)
        if kind in ("solve_triangular", "triangular_solve", "cholesky_solve", "cholesky_inverse"):
            upper = d.bool()
            low = np.tril(d.array(batch + (n, n), F64, -1.0, 1.0)) + (n + 1.0) * np.eye(n)
            a = (np.swapaxes(low, -1, -2) if upper else low).astype(dt)
            k = d.int(1, 3)
            if kind == "cholesky_inverse":
                return Sample((a,), dict(upper=upper))
            if kind == "cholesky_solve":
                return Sample((d.array(batch + (n, k), dt), a), dict(upper=upper))
            if kind == "triangular_solve":
                return Sample((d.array(batch + (n, k), dt), a), dict(upper=upper, transpose=d.bool(),
                                                                      unitriangular=d.bool()))
            left = d.bool()
            return Sample((a, d.array(batch + ((n, k) if left else (k, n)), dt)),
                          dict(upper=upper, left=left, unitriangular=d.bool()))
        # full-rank rectangular matrices with distinct singular values (unrounded)
        m = d.int(1, 4)
        a = d.array(batch + (m, n), dt, nice=False)
        if kind == "lstsq":
            return Sample((a, d.array(batch + (m, d.int(1, 2)), dt)))
        if kind == "cond":
            return Sample((a,), dict(p=d.choice((None, 2, -2, "nuc"))) if m == n else {})
        if kind == "cross":
            shape = list(d.shape(1, 3))
            dim = d.int(0, len(shape) - 1)
            shape[dim] = 3
            other = [1 if (i != dim and d.bool()) else s for i, s in enumerate(shape)]
            return Sample((d.array(tuple(shape), dt), d.array(tuple(other), dt)), dict(dim=dim - len(shape)))
        if kind == "vander":
            return Sample((d.array(d.shape(0, 1) + (d.int(2, 3),), dt),), dict(N=d.int(2, 4)) if d.bool() else {})
        if kind == "torch.vander":
            return Sample((d.array((n,), dt),), dict(N=d.int(1, 4), increasing=d.bool()))
        if kind == "chain_matmul":
            sides = [d.int(1, 3) for _ in range(d.int(2, 5))]
            return Sample(tuple(d.array((sides[i], sides[i + 1]), dt) for i in range(len(sides) - 1)))
        if kind == "matrix_exp":
            return Sample((d.array(batch + (n, n), dt, -1.5, 1.5),))
        if kind == "nuclear_norm":
            kw = dict(keepdim=d.bool())
            return Sample((a,), kw if not batch else dict(kw, dim=(0, 2)))
        if kind == "tensorinv":
            a = _square(d, dt, batch=False, n=6)
            if d.bool():
                return Sample((a.reshape((2, 3, 3, 2)),), dict(ind=2))
            return Sample((a.reshape((6, 2, 3)),), dict(ind=1))
        if kind == "tensorsolve":
            a = _square(d, dt, batch=False, n=6)
            return Sample((a.reshape((2, 3, 6)), d.array((2, 3), dt)))
        if kind == "ormqr":
            m = max(m, n)
            left = d.bool()
            other = d.array(batch + ((m, n + d.int(0, 1)) if left else (d.int(1, 3), m)), dt)
            return Sample((d.array(batch + (m, n), dt), d.array(batch + (n,), dt), other),
                          dict(left=left, transpose=d.bool()))
        if kind == "geqrf":
            return Sample((d.array(batch + (max(m, n), n), dt, nice=False),))
        if kind == "householder_product":
            m = max(m, n)
            k = d.int(0, n)
            return Sample((d.array(batch + (m, n), dt), d.array(batch + (k,), dt)))
        return Sample((a,))
    return sample


def _lu_sample(kind):
    def sample(d, dt):
        from ...ops.lu import _getrf
        if kind in ("lu_factor", "inv_ex", "solve_ex", "lu_solve", "torch.lu_solve"):
            a = _square(d, dt)
        else:
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4), d.int(1, 4)), dt, nice=False)
        if kind == "solve_ex":
            return Sample((a, d.array(a.shape[:-1] + (d.int(1, 2),), dt)))
        if kind in ("lu_solve", "torch.lu_solve", "lu_unpack"):
            lu, piv, _ = _getrf(np, a)       # factors made here, so their own gradients are compared
            lu = lu.astype(dt)
            n = a.shape[-1]
            if kind == "lu_unpack":
                return Sample((lu, piv))
            if kind == "torch.lu_solve":
                return Sample((d.array(a.shape[:-2] + (n, d.int(1, 2)), dt), lu, piv))
            left = d.bool()
            b = d.array(a.shape[:-2] + ((n, d.int(1, 2)) if left else (d.int(1, 2), n)), dt)
            return Sample((lu, piv, b), dict(left=left, adjoint=d.bool()))
        return Sample((a,))
    return sample


def _distance_sample(kind):
    def sample(d, dt):
        m = d.int(1, 3)
        kw = dict(p=d.choice((0.0, 1.0, 2.0, 3.0, float("inf"))))
        if kind == "pdist":       # unrounded: no ties for the inf-norm, no zero distances
            return Sample((d.array((d.int(1, 4), m), dt, nice=False),), kw)
        batch = d.shape(0, 1, max_side=2)
        return Sample((d.array(batch + (d.int(1, 3), m), dt, nice=False), d.array(batch + (d.int(1, 3), m), dt,
                                                                                 nice=False)), kw)
    return sample


def _linalg_entries():
    sq = _linalg_sample("square")
    for n in ("inv", "det", "slogdet", "matrix_power", "solve", "svdvals", "vector_norm", "matrix_norm", "norm",
              "multi_dot", "vecdot"):
        kind = "square" if n in ("inv", "det", "slogdet") else n
        yield _Dotted("linalg." + n, _linalg_sample(kind), call=_list_call if n == "multi_dot" else None, scale=10)
    yield _Dotted("linalg.cholesky", _linalg_sample("cholesky"), call=_spd_call, scale=10)
    yield _Dotted("linalg.qr", _linalg_sample("qr"), call=_qr_call, scale=10)
    yield _Dotted("linalg.eigh", _linalg_sample("uplo"), call=_eigh_call, scale=100)
    yield _Dotted("linalg.eigvalsh", _linalg_sample("uplo"), call=_sym_call, scale=10)
    yield _Dotted("linalg.svd", _linalg_sample("svd"), call=_svd_call, scale=100)
    half_exp = dict(dtypes=dict(float16="PyTorch 2.13's CPU matrix_exp returns infinities in float16; ours refuses"))
    for n in ("solve_triangular", "pinv", "lstsq", "cond", "matrix_exp", "cross", "vander", "tensorinv", "tensorsolve",
              "householder_product"):
        yield _Dotted("linalg." + n, _solver_sample(n), scale=100 if n in ("pinv", "lstsq", "cond") else 10,
                      deviations=dict(half_exp) if n == "matrix_exp" else {})
    yield _Dotted("linalg.matrix_rank", _solver_sample("matrix_rank"), grad=False)
    for n in ("triangular_solve", "matrix_exp", "cross"):
        yield OpInfo(n, _solver_sample(n), method=True, scale=10,
                     deviations=dict(half_exp) if n == "matrix_exp" else {})
    # PyTorch's gradient treats the factor as a full matrix while the forward reads one triangle, so finite
    # differences (which see the triangle only) cannot check it; test_matches_torch does
    for n in ("cholesky_solve", "cholesky_inverse"):
        yield OpInfo(n, _solver_sample(n), method=True, scale=10, gradcheck=False)
    yield OpInfo("pinverse", _solver_sample("pinv"), method=True, scale=100)
    yield OpInfo("chain_matmul", _solver_sample("chain_matmul"), scale=10)
    yield OpInfo("orgqr", _solver_sample("householder_product"), method=True, scale=10)
    yield OpInfo("ormqr", _solver_sample("ormqr"), method=True, scale=10)
    yield OpInfo("geqrf", _solver_sample("geqrf"), method=True, grad=False, scale=10)
    # PyTorch 2.13's backward of torch.vander fails (an in-place cumprod): compared without gradients, and
    # tests/test_linalg.py checks ours numerically
    yield OpInfo("vander", _solver_sample("torch.vander"), grad=False)
    for n in ("lu_factor", "lu_factor_ex", "lu", "lu_solve", "inv_ex", "solve_ex"):
        yield _Dotted("linalg." + n, _lu_sample(n), scale=10)
    yield _Dotted("linalg.cholesky_ex", _linalg_sample("cholesky"), call=_spd_call, scale=10)
    yield OpInfo("lu", _lu_sample("lu"), method=True, scale=10)
    yield OpInfo("lu_unpack", _lu_sample("lu_unpack"))
    yield OpInfo("lu_solve", _lu_sample("torch.lu_solve"), method=True, scale=10)
    yield OpInfo("cdist", _distance_sample("cdist"), scale=10)
    yield OpInfo("frobenius_norm", lambda d, dt: Sample((d.array(d.shape(1, 3), dt),), dict(dim=-1, keepdim=d.bool())))
    yield OpInfo("nuclear_norm", _solver_sample("nuclear_norm"), scale=100)
    yield OpInfo("pdist", _distance_sample("pdist"), scale=10)
    # PyTorch's top-level spellings, also Tensor methods
    for n in ("det", "logdet", "slogdet", "inverse"):
        yield OpInfo(n, sq, method=True, scale=10)
    yield OpInfo("matrix_power", _linalg_sample("matrix_power"), method=True, scale=10)
    # (their Tensor methods as entries of their own: the call that makes the input symmetric or fixes the signs
    # must wrap the method too)
    qr_sample = lambda d, dt: Sample(_linalg_sample("qr")(d, dt).args)  # noqa: E731
    svd_call = lambda f, x, **kw: _svd_call(f, x, legacy=True, **kw)  # noqa: E731
    for ns in ("tg", "Tensor"):
        yield OpInfo("cholesky", _linalg_sample("cholesky"), call=_spd_call, namespace=ns, scale=10)
        yield OpInfo("qr", qr_sample, call=_qr_call, namespace=ns, scale=10)
        yield OpInfo("svd", _linalg_sample("torch.svd"), call=svd_call, namespace=ns, scale=100)
