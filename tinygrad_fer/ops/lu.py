"""LU with partial pivoting (LAPACK getrf's choices: the first largest pivot, unit lower L, 1-based pivots) and what
is built on it: linalg.lu_factor / lu_factor_ex / lu / lu_solve, torch.lu / lu_unpack / lu_solve, and the _ex
variants of inv / solve / cholesky that report failures in `info` instead of raising. The factorization is written
here (NumPy has no getrf), vectorised over the batch; its gradient is PyTorch's (linalg_lu_backward)."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .linalg import LinAlgError, _check, _la, _mT, cholesky, inv, solve


def _getrf(xp, a):
    """(packed LU, 1-based int32 pivots, int32 info) of each matrix of a: info is the first zero pivot (1-based)."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = a.reshape((-1, m, n)).copy()
    nb = lu.shape[0]
    piv = xp.zeros((nb, k), np.int32)
    info = xp.zeros((nb,), np.int32)
    rows = xp.arange(nb)
    for j in range(k):
        p = j + xp.argmax(xp.abs(lu[:, j:, j]), axis=1)
        piv[:, j] = p + 1
        top, other = lu[rows, j, :].copy(), lu[rows, p, :].copy()
        lu[rows, p, :] = top
        lu[rows, j, :] = other
        pivot = lu[:, j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
        # a zero pivot leaves its column unscaled, as getrf does
        lu[:, j + 1:, j] /= xp.where(zero, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), piv.reshape(batch + (k,)), info.reshape(batch)


def _perm(xp, piv, m):
    """perm with A[perm] = L U (rows of A in the order the pivots leave them), from 1-based pivots."""
    batch, k = piv.shape[:-1], piv.shape[-1]
    perm = xp.broadcast_to(xp.arange(m), batch + (m,)).reshape(-1, m).copy()
    p = piv.reshape(-1, k).astype(np.int64) - 1
    rows = xp.arange(perm.shape[0])
    for j in range(k):
        a, b = perm[rows, j].copy(), perm[rows, p[:, j]].copy()
        perm[rows, j], perm[rows, p[:, j]] = b, a
    return perm.reshape(batch + (m,))


def _rows(xp, x, idx):
    """x[..., idx[...], :] row by row for each batch (a recorded gather under create_graph)."""
    idx = xp.broadcast_to(idx[..., :, None], tuple(x.shape[:-2]) + (idx.shape[-1], x.shape[-1]))
    return xp.take_along_axis(x, xp.ascontiguousarray(idx), -2)


class LUFactor(Function):
    """Packed LU (pivots ride along); gradient PyTorch's: for square A, P L^-T (tril(L^T gL, -1) + triu(gU U^T))
    U^-T, with the extra block of a wide U or a tall L handled as in linalg_lu_backward."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        xp = ctx.be.xp
        lu, piv, info = _getrf(xp, a)
        ctx.perm = _perm(xp, piv, a.shape[-2])
        ctx.save_for_backward(lu)
        return lu, piv, info

    @staticmethod
    def backward(ctx, g):
        (lu,) = ctx.saved_tensors
        xp = ctx.be.xp
        m, n = lu.shape[-2:]
        k = min(m, n)
        low = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=lu.dtype)
        up = xp.triu(lu[..., :k, :])
        gl, gu = xp.tril(g[..., :, :k], -1), xp.triu(g[..., :k, :])
        if m == n:
            ga = _square_backward(xp, low, up, gl, gu)
        elif m < n:
            l_inv = _la(xp, "inv", low)
            u1, u2, gu1, gu2 = up[..., :, :m], up[..., :, m:], gu[..., :, :m], gu[..., :, m:]
            ga1 = _square_backward(xp, low, u1, gl - _mT(l_inv) @ gu2 @ _mT(u2), gu1)
            ga = xp.concatenate([ga1, _mT(l_inv) @ gu2], axis=-1)
        else:
            u_inv = _la(xp, "inv", up)
            l1, l2, gl1, gl2 = low[..., :n, :], low[..., n:, :], gl[..., :n, :], gl[..., n:, :]
            ga1 = _square_backward(xp, l1, up, gl1, gu - _mT(l2) @ gl2 @ _mT(u_inv))
            ga = xp.concatenate([ga1, gl2 @ _mT(u_inv)], axis=-2)
        # back to A's row order: row perm[i] of A is row i of P^T A
        inv_perm = xp.argsort(ctx.perm, axis=-1)
        return _rows(xp, ga, inv_perm)


def _square_backward(xp, low, up, gl, gu):
    phi = xp.tril(_mT(low) @ gl, -1) + xp.triu(gu @ _mT(up))
    return _mT(_la(xp, "inv", low)) @ phi @ _mT(_la(xp, "inv", up))


class _Result(tuple):
    def __new__(cls, values, names):
        r = super().__new__(cls, values)
        r._names = names
        return r

    def __getattr__(self, name):
        names = tuple.__getattribute__(self, "_names")
        if name in names:
            return self[names.index(name)]
        raise AttributeError(name)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    _check(A, "lu_factor_ex", square=False)
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    lu, piv, info = LUFactor.apply(A)
    if check_errors and bool((info._array != 0).any()):
        raise LinAlgError(f"linalg.lu_factor_ex: U[{int(info._array.max())},{int(info._array.max())}] is zero and "
                          "using it on lu_solve would result in a division by zero.")
    return _Result((lu, piv, info), ("LU", "pivots", "info"))


def lu_factor(A, *, pivot=True, out=None):
    lu, piv, info = lu_factor_ex(A, pivot=pivot)
    bad = info._array[info._array != 0]
    if bad.size:
        i = int(bad.reshape(-1)[0])
        raise LinAlgError(f"torch.linalg.lu_factor: U[{i},{i}] is zero and using it on lu_solve would result in a "
                          "division by zero. If you still want to perform the factorization, consider calling "
                          "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")
    return _Result((lu, piv), ("LU", "pivots"))


def _permutation(lu, piv):
    xp = lu._be.xp
    m = lu.shape[-2]
    perm = _perm(xp, piv._array, m)
    # P[perm[i], i] = 1, so that A = P L U
    p = (xp.arange(m)[:, None] == perm[..., None, :]).astype(lu._array.dtype)
    return Tensor(p), perm


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    m, n = LU_data.shape[-2:]
    k = min(m, n)
    from ..tensor import eye
    z = Tensor(LU_data._be.xp.zeros((0,), LU_data._array.dtype))
    p = _permutation(LU_data, LU_pivots)[0] if unpack_pivots else z
    if not unpack_data:
        return _Result((p, z, z), ("P", "L", "U"))
    low = LU_data[..., :, :k].tril(-1) + eye(m, k, dtype=LU_data.dtype, device=LU_data.device)
    return _Result((p, low, LU_data[..., :k, :].triu()), ("P", "L", "U"))


def lu(A, *, pivot=True, out=None):
    lu_, piv, _ = lu_factor_ex(A, pivot=pivot)
    return lu_unpack(lu_, piv)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    """X with A X = B (A^T X = B with adjoint; X A = B with left=False), A = P L U given as lu_factor's output."""
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError("linalg.lu_solve: A must be batches of square matrices, but they are "
                           f"{LU.shape[-2]} by {LU.shape[-1]} matrices")
    if not left:    # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.mT, adjoint=not adjoint).mT
    p, low, up = lu_unpack(LU, pivots)
    p = p.detach()
    if adjoint:    # A^T = U^T L^T P^T
        res = p @ solve(low.mT, solve(up.mT, B))
    else:
        res = solve(up, solve(low, p.mT @ B))
    return res if out is None else out.copy_(res)


def lu_legacy(A, pivot=True, get_infos=False, out=None):
    """torch.lu: (LU, pivots) or with get_infos (LU, pivots, info)."""
    lu_, piv, info = lu_factor_ex(A, pivot=pivot)
    return (lu_, piv, info) if get_infos else (lu_, piv)


def lu_solve_legacy(b, LU_data, LU_pivots, *, out=None):
    return lu_solve(LU_data, LU_pivots, b, out=out)


def _safe(A, bad):
    """A with the matrices flagged bad replaced by I, so a factorization succeeds everywhere."""
    from .elementwise import where
    from ..tensor import eye
    return where(Tensor(bad[..., None, None]), eye(A.shape[-1], dtype=A.dtype, device=A.device), A)


def _nan_where(x, bad):
    from .elementwise import where
    return where(Tensor(bad.reshape(bad.shape + (1,) * (x.ndim - bad.ndim))), float("nan"), x)


def inv_ex(A, *, check_errors=False, out=None):
    _check(A, "inv_ex")
    info = lu_factor_ex(A.detach())[2]
    bad = info._array != 0
    if check_errors and bad.any():
        i = int(info._array[bad].reshape(-1)[0])
        raise LinAlgError(f"linalg.inv_ex: The diagonal element {i} is zero, the inversion could not be completed "
                          "because the input matrix is singular.")
    res = _nan_where(inv(_safe(A, bad)), bad) if bad.any() else inv(A)
    return _Result((res, info), ("inverse", "info"))


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    _check(A, "solve_ex")
    info = lu_factor_ex(A.detach())[2]
    bad = info._array != 0
    if check_errors and bad.any():
        raise LinAlgError("linalg.solve_ex: The solver failed because the input matrix is singular.")
    res = solve(_safe(A, bad), B, left=left)
    if bad.any():
        vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
        batch = tuple(res.shape[:res.ndim - (1 if vector else 2)])
        res = _nan_where(res, A._be.xp.broadcast_to(bad, batch))
    return _Result((res, info), ("result", "info"))


def _cholesky_info(xp, a):
    """Order of the first leading minor that is not positive-definite (0 where the factorization succeeds)."""
    flat = a.reshape((-1,) + a.shape[-2:])
    info = np.zeros(flat.shape[0], np.int32)
    for b in range(flat.shape[0]):
        for k in range(1, a.shape[-1] + 1):
            try:   # (CuPy returns NaN rather than raising)
                ok = bool(xp.isfinite(xp.linalg.cholesky(flat[b, :k, :k])).all())
            except Exception:
                ok = False
            if not ok:
                info[b] = k
                break
    return info.reshape(a.shape[:-2])


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    _check(A, "cholesky_ex")
    info = _cholesky_info(A._be.xp, A._array)
    if check_errors and (info != 0).any():
        raise LinAlgError(f"linalg.cholesky_ex: The factorization could not be completed because the input is not "
                          f"positive-definite (the leading minor of order {int(info[info != 0][0])} is not "
                          "positive-definite).")
    bad = A._be.xp.asarray(info != 0)
    res = _nan_where(cholesky(_safe(A, bad), upper=upper), bad) if bad.any() else cholesky(A, upper=upper)
    return _Result((res, Tensor(A._be.xp.asarray(info))), ("L", "info"))

