"""Solvers and ranks built on the factorizations: solve_triangular (and torch.triangular_solve), cholesky_solve,
cholesky_inverse, pinv (torch.pinverse), lstsq, matrix_rank, cond, tensorinv, tensorsolve, householder_product,
geqrf and ormqr.
Composites of solve, inv, svd and eigh, so the gradients are those ops' rules (PyTorch's formulas, for the inputs
where they are the derivative)."""
import numpy as np

from ..tensor import Tensor
from .linalg import _check, _to_out, _torch_name, inv, solve


def _triangle(A, upper, unitriangular=False):
    t = A.triu() if upper else A.tril()
    if unitriangular:
        from ..tensor import eye
        t = (t.triu(1) if upper else t.tril(-1)) + eye(A.shape[-1], dtype=A.dtype, device=A.device)
    return t


def _full_gradient(L, upper):
    """L's triangle as the value, with a gradient for every entry of L (PyTorch's cholesky_solve / _inverse treat
    their factor as a full matrix in the backward, while the forward reads one triangle)."""
    t = L.triu() if upper else L.tril()
    return L - (L - t).detach()


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    _check(A, "solve_triangular")
    if not isinstance(B, Tensor) or B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{_torch_name(A.dtype)} and B of type {_torch_name(B.dtype)} instead")
    return _to_out(solve(_triangle(A, upper, unitriangular), B, left=left), out)


class _TriangularSolveResult(tuple):
    solution = property(lambda self: self[0])
    cloned_coefficient = property(lambda self: self[1])


def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False):
    """torch.triangular_solve: (A or A^T) X = input, returning (X, a copy of A)."""
    t = _triangle(A, upper, unitriangular)
    x = solve(t.mT if transpose else t, input)
    return _TriangularSolveResult((x, A.clone()))


def cholesky_solve(B, L, upper=False, *, out=None):
    """X with (L L^T) X = B (L^T L for upper), L a Cholesky factor."""
    if B.dtype is not L.dtype:
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {_torch_name(B.dtype)} and "
                           f"A of type {_torch_name(L.dtype)} instead.")
    _check(L, "cholesky_solve")
    f = _full_gradient(L, upper)
    a = f.mT @ f if upper else f @ f.mT
    return _to_out(solve(a, B), out)


def cholesky_inverse(L, upper=False, *, out=None):
    _check(L, "cholesky_inverse")
    f = _full_gradient(L, upper)
    return _to_out(inv(f.mT @ f if upper else f @ f.mT), out)


def _tolerances(S, atol, rtol, m, n, dtype):
    """PyTorch's cutoff max(atol, rtol * largest singular value); rtol defaults to eps * max(m, n) unless only atol
    is given."""
    smax = S.amax(-1, keepdim=True).detach()
    if rtol is None:
        rtol = 0.0 if (atol is not None and not (isinstance(atol, (int, float)) and atol <= 0)) else \
            float(np.finfo(np.dtype(dtype.name)).eps) * max(m, n)
    at = atol if isinstance(atol, Tensor) else 0.0 if atol is None else atol
    rt = rtol
    if isinstance(at, Tensor):
        at = at.unsqueeze(-1)
    if isinstance(rt, Tensor):
        rt = rt.unsqueeze(-1)
    from .elementwise import maximum
    cut = smax * rt
    return maximum(cut, at) if isinstance(at, Tensor) else cut.clamp(min=at)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _check(A, "pinv", square=hermitian)
    from .decomp import eigh, svd
    from .elementwise import where
    m, n = A.shape[-2:]
    if hermitian:
        w, v = eigh(A)
        cut = _tolerances(w.abs(), atol, rtol, m, n, A.dtype)
        winv = where(w.abs() > cut, 1 / where(w == 0, 1.0, w), 0.0)
        return _to_out((v * winv.unsqueeze(-2)) @ v.mT, out)
    u, s, vh = svd(A, full_matrices=False)
    cut = _tolerances(s, atol, rtol, m, n, A.dtype)
    sinv = where(s > cut, 1 / where(s == 0, 1.0, s), 0.0)
    return _to_out((vh.mT * sinv.unsqueeze(-2)) @ u.mT, out)


def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    _check(A, "matrix_rank", square=hermitian)
    from .decomp import eigvalsh, svdvals
    from ..grad_mode import no_grad
    with no_grad():
        s = eigvalsh(A).abs() if hermitian else svdvals(A)
        cut = _tolerances(s, atol, rtol, *A.shape[-2:], A.dtype)
        return _to_out((s > cut).sum(-1), out)


class _LstsqResult(tuple):
    solution = property(lambda self: self[0])
    residuals = property(lambda self: self[1])
    rank = property(lambda self: self[2])
    singular_values = property(lambda self: self[3])


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares (minimum-norm) solution through pinv; residuals, rank and singular values where PyTorch's
    CPU driver computes them (gelsy, the default: rank only)."""
    _check(A, "lstsq", square=False)
    if not isinstance(B, Tensor) or B.dtype is not A.dtype:
        raise RuntimeError("torch.linalg.lstsq: Expected input and other to have the same dtype")
    if driver not in (None, "gelsy", "gelsd", "gelss", "gels"):
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B.ndim == A.ndim - 1
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    driver = driver or "gelsy"
    rtol = rcond if rcond is not None and rcond > 0 else None
    x = pinv(A, rtol=rtol) @ b
    empty = Tensor(A._be.xp.zeros((0,), A._array.dtype))
    rank = matrix_rank(A, rtol=rtol) if driver != "gels" else Tensor(A._be.xp.zeros((0,), np.int64))
    res = empty
    if driver != "gelsy" and m > n and bool((matrix_rank(A, rtol=rtol) == n).all()):
        res = ((A @ x - b) ** 2).sum(-2)
    from .decomp import svdvals
    sv = svdvals(A) if driver in ("gelsd", "gelss") else empty
    return _LstsqResult((x.squeeze(-1) if vector else x, res.squeeze(-1) if vector and res.numel() else res, rank,
                         sv))


def cond(A, p=None, *, out=None):
    """||A|| ||A^-1|| in the norm p (None or 2: the ratio of extreme singular values, any shape)."""
    from .linalg_norm import matrix_norm
    from .decomp import svdvals
    if p in (None, 2, -2):
        _check(A, "cond", square=False)
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return _to_out(r, out)
    _check(A, "cond")
    return _to_out(matrix_norm(A, p) * matrix_norm(inv(A), p), out)


def tensorinv(A, ind=2, *, out=None):
    """The inverse of A seen as a square matrix (its first ind dims by the rest), shaped back as rest + first."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    head, tail = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = int(np.prod(head)), int(np.prod(tail))
    if rows != cols:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {cols} != {rows}")
    return _to_out(inv(A.reshape(rows, cols)).reshape(tail + head), out)


def tensorsolve(A, B, dims=None, *, out=None):
    """X with tensordot(A, X, X.ndim) = B."""
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        A = A.permute(*[d for d in range(A.ndim) if d not in dims], *dims)
    rest = tuple(A.shape[B.ndim:])
    n = B.numel()
    if int(np.prod(rest)) != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {int(np.prod(rest))} != {n}")
    return _to_out(solve(A.reshape(n, n), B.reshape(n)).reshape(rest), out)


def householder_product(A, tau, *, out=None):
    """The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i A's i-th column below the diagonal with
    a 1 on it (LAPACK's orgqr), as products of A and tau: their gradients are those products'."""
    _check(A, "householder_product", square=False)
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if not (m >= n >= k):
        raise RuntimeError(f"torch.linalg.householder_product: input.shape[-2] must be greater than or equal to "
                           f"input.shape[-1] and input.shape[-1] must be greater than or equal to tau.shape[-1]")
    q = _reflections(A, tau)[..., :, :n]
    if k == 0:   # no reflector: the identity, still a function of A (with a zero gradient), as PyTorch's
        from .elementwise import where
        from ..tensor import tensor
        q = where(tensor(False, device=A.device), A, q)
    return _to_out(q, out)


def _reflections(A, tau):
    """The m x m product H_1 ... H_k of the reflectors stored below A's diagonal (LAPACK's layout)."""
    from ..tensor import eye
    m, k = A.shape[-2], tau.shape[-1]
    v = A[..., :, :k].tril(-1) + eye(m, k, dtype=A.dtype, device=A.device)
    q = eye(m, dtype=A.dtype, device=A.device).expand(*A.shape[:-2], m, m)
    for i in range(k):
        vi = v[..., :, i:i + 1]
        q = q - (q @ vi) * tau[..., i:i + 1, None] @ vi.mT
    return q


class _GeqrfResult(tuple):
    a = property(lambda self: self[0])
    tau = property(lambda self: self[1])


def geqrf(input, *, out=None):
    """LAPACK's QR representation (R above the diagonal, the reflectors below, and their scales tau); not
    differentiable, as in PyTorch."""
    _check(input, "geqrf", square=False)
    xp = input._be.xp
    h, tau = xp.linalg.qr(input._array, mode="raw")    # h is LAPACK's array transposed
    return _GeqrfResult((Tensor(xp.ascontiguousarray(h.swapaxes(-1, -2))), Tensor(tau)))


def ormqr(input, tau, other, left=True, transpose=False, *, out=None):
    """other multiplied by the Q that input and tau hold (geqrf's), or by its transpose, from the left or right."""
    if not input.dtype.is_floating_point or input.dtype.name == "float16":
        raise NotImplementedError(f"\"ormqr_cpu\" not implemented for '{_torch_name(input.dtype)}'")
    q = _reflections(input, tau)
    if transpose:
        q = q.mT
    return _to_out(q @ other if left else other @ q, out)
