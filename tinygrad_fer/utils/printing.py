"""repr of a Tensor in PyTorch's style: tensor([1.0000, 2.5000], dtype=..., requires_grad=True)."""
import numpy as np

from .. import dtypes

_DEFAULT_SHOWN = {np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)}


def _formatter(a):
    if a.dtype.kind == "b":
        return {"bool": lambda v: "True" if v else "False"}
    if a.dtype.kind in "iu":
        return {"int": lambda v: str(v)}
    finite = a[np.isfinite(a)] if a.size else a
    nonzero = np.abs(finite[finite != 0])
    # in float64, as PyTorch compares them: a float32 ratio of garbage (torch.empty) would overflow with a warning
    mx, mn = (float(nonzero.max()), float(nonzero.min())) if nonzero.size else (0.0, 0.0)
    integral = finite.size > 0 and bool(np.all(finite == np.round(finite)))
    # PyTorch's choice: scientific when the non-zero magnitudes span over 1000x or exceed 1e8 (or, for
    # non-integral values, go below 1e-4)
    if nonzero.size and (mx / mn > 1000 or mx > 1e8 or (not integral and mn < 1e-4)):
        return {"float_kind": lambda v: f"{v:.4e}"}
    if integral:
        return {"float_kind": lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)}
    return {"float_kind": lambda v: f"{v:.4f}" if np.isfinite(v) else str(v)}


def _padded(a):
    """Every element right-aligned to the widest one, as PyTorch prints."""
    (kind, f), = _formatter(a).items()
    flat = a.reshape(-1)
    sample = flat if flat.size <= 2000 else np.concatenate([flat[:1000], flat[-1000:]])
    if sample.dtype.kind == "f":
        sample = sample[np.isfinite(sample)]  # PyTorch sizes columns by the finite values only
    width = max((len(f(v)) for v in sample), default=0)
    return {kind: lambda v: f(v).rjust(width)}, width


def _line_width(ndim, width):
    """The max_line_width at which NumPy puts on a row as many elements as PyTorch does: PyTorch fits
    floor((80 - indent) / (width + 2)) per row, indent being len("tensor(") plus one per outer dimension, whereas
    NumPy also reserves room for the closing brackets."""
    per_row = max(1, (80 - (len("tensor(") + ndim - 1)) // (width + 2))
    return 5 + 2 * ndim + per_row * (width + 2)


def tensor_repr(t):
    a = t._be.to_numpy(t._array)
    formatter, width = _padded(a)
    body = np.array2string(a, separator=", ", prefix="tensor(", formatter=formatter, threshold=1000, edgeitems=3,
                           max_line_width=_line_width(a.ndim, width)).replace(", ...,", ",  ...,")
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if a.dtype not in _DEFAULT_SHOWN or (a.size == 0 and a.dtype != np.float32):
        extras.append(f"dtype={dtypes.from_np(a.dtype)!r}")
    if t._ctx is not None:
        extras.append(f"grad_fn=<{t._ctx.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
