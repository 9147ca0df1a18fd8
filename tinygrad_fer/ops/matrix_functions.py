"""matrix_exp (scaling and squaring with a degree-13 Pade approximant; gradient from the exponential of the block
matrix [[A^T, g], [0, A^T]], as PyTorch's), cross products (linalg.cross, torch.cross), Vandermonde matrices
(linalg.vander, torch.vander) and chain_matmul."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor, _dim
from .linalg import _torch_name

_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(xp, a):
    """exp of each matrix of a (computed in float64), Higham's scaling and squaring."""
    dt = a.dtype
    a = a.astype(np.float64)
    n = a.shape[-1]
    norm1 = xp.abs(a).sum(axis=-2).max(axis=-1) if n else xp.zeros(a.shape[:-2])
    s = xp.maximum(0, xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA13))).astype(np.int64)
    a = a / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = xp.broadcast_to(xp.eye(n), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for k in range(int(s.max()) if s.size else 0):
        r = xp.where((k < s)[..., None, None], r @ r, r)
    return r.astype(dt)


class MatrixExp(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(ctx.be.xp, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        xp = ctx.be.xp
        at = a.swapaxes(-1, -2)
        n = a.shape[-1]
        zero = xp.zeros_like(g)
        block = xp.concatenate([xp.concatenate([at, g], axis=-1), xp.concatenate([zero, at], axis=-1)], axis=-2)
        from .._array_facade import A, T
        e = A(matrix_exp(T(block))) if isinstance(block, A) else _expm(xp, block)
        return e[..., :n, n:]


def matrix_exp(A):
    if not isinstance(A, Tensor):
        raise TypeError(f"matrix_exp(): argument 'input' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError("linalg.matrix_exp: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1] if A.ndim else 1} matrices")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_name(A.dtype)}")
    if A.dtype.name == "float16":   # PyTorch 2.13 returns infinities for float16 on the CPU
        raise RuntimeError("linalg.matrix_exp: float16 is not supported")
    return MatrixExp.apply(A)


def _cross(a, b, d):
    from .shape import roll
    return roll(a, -1, d) * roll(b, -2, d) - roll(a, -2, d) * roll(b, -1, d)


def linalg_cross(input, other, *, dim=-1, out=None):
    if input.ndim != other.ndim:
        raise RuntimeError(f"linalg.cross: inputs must have the same number of dimensions.")
    from .shape import broadcast_tensors
    a, b = broadcast_tensors(input, other)
    d = _dim(dim, a.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
                           f"{other.shape[d]}")
    res = _cross(a, b, d)
    return res if out is None else out.copy_(res)


def cross(input, other, dim=None, *, out=None):
    """torch.cross: without dim, the first dimension of size 3 (PyTorch's deprecated default)."""
    if dim is None:
        from numpy import broadcast_shapes
        shape = broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"no dimension of size 3 in input")
    return linalg_cross(input, other, dim=dim, out=out)


def linalg_vander(x, *, N=None):
    if x.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    if x.dtype.name in ("bool", "float16"):
        raise RuntimeError(f"linalg.vander supports floating point, complex, and integer tensors, but got "
                           f"{_torch_name(x.dtype)}")
    return _vander(x, N)


def _vander(x, N):
    n = x.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    from .movement import cat
    x = x.type("torch.LongTensor") if x.dtype.name in ("bool", "int8", "int16", "int32", "uint8") else x
    ones = x.new_ones(tuple(x.shape) + (1,))
    if n == 1:
        return ones
    # powers as a running product, as PyTorch's (a zero's gradient stays finite)
    return cat([ones, x.unsqueeze(-1).expand(*x.shape, n - 1)], -1).cumprod(-1)


def vander(x, N=None, increasing=False):
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is not None and N < 0:
        raise RuntimeError("N must be non-negative.")
    if N == 0:
        return x.new_empty((x.shape[0], 0)) if x.dtype.is_floating_point else \
            x.type("torch.LongTensor").new_empty((x.shape[0], 0))
    if N == 1 or (N is None and x.shape[0] == 1):
        v = x.new_ones((x.shape[0], 1)) if x.dtype.is_floating_point else x.type("torch.LongTensor").new_ones(
            (x.shape[0], 1))
    else:
        v = _vander(x, N)
    return v if increasing else v.flip(-1)


def chain_matmul(*matrices, out=None):
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        return matrices[0].clone()
    from .linalg import multi_dot
    return multi_dot(matrices, out=out)
