"""linalg's norms: vector_norm, matrix_norm ('fro', 'nuc', 1, -1, 2, -2, inf, -inf) and norm, which picks one of
the two from ord and dim as PyTorch's does; torch.frobenius_norm and nuclear_norm. Composites of reductions and
svdvals, so their gradients are those ops' rules."""
from ..tensor import Tensor, _dim, tensor
from .stats import norm as _pnorm

_INF = float("inf")


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.vector_norm(): argument 'x' must be Tensor, not {type(x).__name__}")
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    if dim is not None and not isinstance(dim, int):
        dim = tuple(dim)
    res = _pnorm(x, float(ord), dim, keepdim, dtype)
    if ord == 0 and x.requires_grad:
        # a count of nonzeros, still a function of x (zero gradient), as PyTorch's
        from .elementwise import where
        res = res + _pnorm(where(tensor(False, device=x.device), x, 0.0), 1.0, dim, keepdim, dtype)
    return res if out is None else out.copy_(res)


def _matrix_dims(A, dim, name):
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = _dim(dim[0], A.ndim), _dim(dim[1], A.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_norm(): argument 'A' must be Tensor, not {type(A).__name__}")
    d0, d1 = _matrix_dims(A, tuple(dim), "matrix_norm")
    if dtype is not None:
        A = A.type(dtype)
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{A.dtype.name}")
    if ord == "fro":
        res = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord == "nuc" or ord in (2, -2):
        from .decomp import svdvals
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        res = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                res = res.unsqueeze(d)
    elif ord in (1, -1, _INF, -_INF):
        inner, outer = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = A.abs().sum(dim=inner, keepdim=True)
        res = sums.amax(dim=outer, keepdim=True) if ord > 0 else sums.amin(dim=outer, keepdim=True)
        if not keepdim:
            res = res.squeeze((d0, d1))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return res if out is None else out.copy_(res)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.norm(): argument 'A' must be Tensor, not {type(A).__name__}")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dim = tuple(dim)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
        if len(dim) != 1:
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. Got {list(dim)}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                           f"{A.ndim}D.")
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got {ord!r}")
    return vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)


def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """torch.frobenius_norm (deprecated there): the 2-norm over dim."""
    return vector_norm(input, 2, dim, keepdim, out=out)


def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """torch.nuclear_norm (deprecated there): the sum of singular values over dim (a 2-D input's when None)."""
    if isinstance(dim, bool):    # nuclear_norm(input, keepdim) is its other signature
        dim, keepdim = None, dim
    if dim is None and input.ndim != 2:
        raise RuntimeError(f"Expected a tensor with 2 dimensions, but got a tensor with {input.ndim} dimensions "
                           "instead.")
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)
