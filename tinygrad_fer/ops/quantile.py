"""quantile and nanquantile with PyTorch's five interpolations: sort the slices, read the values at the ranks
q * (count - 1) (below and above), interpolate. Composite of sort, take_along_dim and lerp, so the gradient is
theirs: each quantile's gradient goes to the one or two elements it was read from."""
import numpy as np

from ..tensor import Tensor, _dim

_MODES = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_values(q, input):
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        vals = np.asarray(q.tolist(), dtype=np.float64).reshape(-1)
        scalar = q.ndim == 0
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        vals, scalar = np.asarray([float(q)]), True
    else:
        vals, scalar = np.asarray(list(q), dtype=np.float64), False
    for v in vals:
        if not 0 <= v <= 1:
            raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {v:g}" if scalar or not
                               isinstance(q, Tensor) else "quantile() q values must be in the range [0, 1]")
    return vals, scalar


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    from .elementwise import lerp
    if not isinstance(input, Tensor):
        raise TypeError(f"quantile(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype.name not in ("float32", "float64"):
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if interpolation not in _MODES:
        raise RuntimeError(f"quantile() interpolation must be one of linear, lower, higher, midpoint or nearest, but "
                           f"got {interpolation}")
    qv, scalar = _q_values(q, input)
    if input.numel() == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    ndim = input.ndim
    d = None if dim is None else _dim(dim, max(ndim, 1))
    x = input.reshape(-1) if d is None else (input.reshape(1) if ndim == 0 else input).movedim(d, -1)
    s = x.sort(-1)[0]                          # NaN sorts last, as in PyTorch
    n = x.shape[-1]
    xp, npdt = input._be.xp, input._array.dtype
    nan = x.isnan()
    # ranks in the input's dtype, as PyTorch computes them (float32 rounding decides lower/higher there too)
    if ignore_nan:
        k = np.asarray((n - nan.sum(-1, keepdim=True)).tolist(), dtype=npdt)   # (..., 1) counts
    else:
        k = np.full(tuple(s.shape[:-1]) + (1,), n, dtype=npdt)
    ranks = qv.astype(npdt) * (k - 1)                                      # (..., Q)
    # a slice whose quantiles are NaN reads its last sorted element (a NaN) instead, as PyTorch does: the
    # gradient then goes to that element
    bad = (k == 0) if ignore_nan else np.asarray(nan.any(-1, keepdim=True).tolist(), dtype=bool)
    ranks = np.where(bad, n - 1, ranks).astype(npdt)
    lo = np.clip(np.floor(ranks), 0, n - 1).astype(np.int64)
    hi = np.clip(np.ceil(ranks), 0, n - 1).astype(np.int64)

    def at(idx):
        return s.take_along_dim(Tensor(xp.asarray(np.ascontiguousarray(idx))), -1)
    if interpolation == "lower":
        out = at(lo)
    elif interpolation == "higher":
        out = at(hi)
    elif interpolation == "nearest":
        out = at(np.clip(np.round(ranks), 0, n - 1).astype(np.int64))   # round half to even, as torch.round
    else:
        w = np.full(ranks.shape, 0.5, npdt) if interpolation == "midpoint" else (ranks - np.floor(ranks)).astype(npdt)
        out = lerp(at(lo), at(hi), Tensor(xp.asarray(w)))
    out = out.movedim(-1, 0)                   # q's axis first
    if keepdim:
        out = out.reshape((out.shape[0],) + (1,) * ndim) if d is None else out.unsqueeze(d + 1)
    if scalar:
        out = out.squeeze(0)
    return out


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    res = _quantile(input, q, dim, keepdim, interpolation, False)
    return res if out is None else out.copy_(res)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    res = _quantile(input, q, dim, keepdim, interpolation, True)
    return res if out is None else out.copy_(res)


class QuantileMethods:
    """Tensor's quantile methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    quantile, nanquantile = quantile, nanquantile


__all__ = ["quantile", "nanquantile"]
