"""torch.linalg's namespace: tinygrad_fer.linalg.inv, .solve, .det, .eigh, .norm, ... (the ops live in ops/linalg.py,
ops/decomp.py and ops/linalg_norm.py)."""
from .ops.decomp import eigh, eigvalsh, qr, svd, svdvals
from .ops.linalg import _torch_name, LinAlgError, cholesky, det, inv, matrix_power, multi_dot, slogdet, solve
from .ops.linalg_norm import matrix_norm, norm, vector_norm
from .ops.lu import cholesky_ex, inv_ex, lu, lu_factor, lu_factor_ex, lu_solve, solve_ex
from .ops.linalg_solvers import (cond, householder_product, lstsq, matrix_rank, pinv, solve_triangular, tensorinv,
                                 tensorsolve)
from .ops.matmul import matmul
from .ops.matrix_functions import linalg_cross as cross, linalg_vander as vander, matrix_exp


def vecdot(x, y, *, dim=-1, out=None):
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_name(x.dtype)}")
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type "
                           f"{_torch_name(x.dtype)} and y of type {_torch_name(y.dtype)} instead")
    res = (x * y).sum(dim)
    return res if out is None else out.copy_(res)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return A.diagonal(offset, dim1, dim2)


__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh", "eigvalsh",
           "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "lu_solve", "matmul",
           "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
           "solve", "solve_ex", "solve_triangular", "svd", "svdvals", "tensorinv", "tensorsolve", "vander", "vecdot",
           "vector_norm"]
