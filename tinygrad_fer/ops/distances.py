"""Pairwise distances: cdist (every row of x1 against every row of x2, batched) and pdist (the rows of one matrix
against each other, upper triangle in row-major order), p-norms of the differences through linalg.vector_norm, so
the gradient is its rule (0 at a zero distance, as PyTorch's subgradient)."""
import numpy as np

from ..tensor import Tensor
from .linalg import _torch_name
from .linalg_norm import vector_norm


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    for x in (x1, x2):
        if not isinstance(x, Tensor):
            raise TypeError(f"cdist(): argument 'x1' must be Tensor, not {type(x).__name__}")
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.dtype.is_floating_point or not x2.dtype.is_floating_point:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_torch_name(x1.dtype)}")
    if x1.dtype.name == "float16":
        raise NotImplementedError("\"cdist\" not implemented for 'Half'")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)          # (..., P, R, M)
    return vector_norm(diff, p, -1)


def pdist(input, p=2):
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    if n < 2:   # no pairs: an empty result, still a function of input
        return input[:0, :1].sum(-1)
    if input.dtype.name == "float16":
        raise NotImplementedError("\"pdist\" not implemented for 'Half'")
    i, j = np.triu_indices(n, 1)
    xp = input._be.xp
    rows = input[Tensor(xp.asarray(i))] - input[Tensor(xp.asarray(j))]
    return vector_norm(rows, p, -1)


__all__ = ["cdist", "pdist"]
