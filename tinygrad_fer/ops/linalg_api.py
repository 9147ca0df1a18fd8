"""PyTorch's top-level and Tensor-method spellings of the linalg ops (torch.det, torch.inverse, Tensor.slogdet,
the older torch.qr / torch.svd / torch.cholesky), beside the torch.linalg namespace (tinygrad_fer/linalg.py)."""
from .decomp import qr_legacy as qr, svd_legacy as svd
from .linalg import det, inv, logdet, matrix_power, slogdet, cholesky as _linalg_cholesky
from .linalg_solvers import cholesky_inverse, cholesky_solve, pinverse, triangular_solve
from .matrix_functions import chain_matmul, cross, matrix_exp, vander
from .lu import lu_legacy as lu, lu_solve_legacy as lu_solve, lu_unpack
from .linalg_norm import frobenius_norm, nuclear_norm
from .linalg_solvers import geqrf, householder_product as orgqr, ormqr


def inverse(input, *, out=None):
    return inv(input, out=out)


def cholesky(input, upper=False, *, out=None):
    return _linalg_cholesky(input, upper=upper, out=out)


class LinalgMethods:
    """Tensor's linalg methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    det, logdet, slogdet, inverse, cholesky, qr, svd = det, logdet, slogdet, inverse, cholesky, qr, svd
    matrix_power = matrix_power
    cholesky_solve, cholesky_inverse, pinverse, triangular_solve = (cholesky_solve, cholesky_inverse, pinverse,
                                                                    triangular_solve)
    matrix_exp, cross = matrix_exp, cross
    lu, lu_solve, orgqr, ormqr, geqrf = lu, lu_solve, orgqr, ormqr, geqrf


__all__ = ["det", "logdet", "slogdet", "inverse", "cholesky", "qr", "svd", "matrix_power", "cholesky_solve",
           "cholesky_inverse", "pinverse", "triangular_solve", "matrix_exp", "cross", "vander", "chain_matmul", "lu",
           "lu_solve", "lu_unpack", "orgqr", "ormqr", "geqrf", "frobenius_norm", "nuclear_norm"]
