"""PyTorch's `out=` argument: the function's result written into a given tensor, which is returned.

As in PyTorch: `out` must be a Tensor; the result's dtype must be castable to out's (no float into an integer
tensor, no number into bool); an out of another shape is resized (with PyTorch's deprecation warning unless it was
empty); and out= does not record a graph, so it refuses inputs (or an out) that require grad while grad mode is on.
"""
import functools
import warnings

from .. import dtypes, grad_mode
from ..tensor import Tensor

_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def write_out(name, result, out):
    """Write result into out as PyTorch's out= does; returns out."""
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    r, o = result._array, out._array
    if _RANK[r.dtype.kind] > _RANK[o.dtype.kind]:
        raise RuntimeError(f"result type {dtypes.scalar_type_name(r.dtype)} can't be cast to the desired output type "
                           f"{dtypes.scalar_type_name(o.dtype)}")
    if o.shape != r.shape:
        if o.size:
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(o.shape)}, "
                          f"which does not match the required output shape {list(r.shape)}. This behavior is "
                          "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                          "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                          "elements with t.resize_(0).", UserWarning, stacklevel=3)
        out._array = o = out._be.xp.empty(r.shape, o.dtype)
    o[...] = r
    out._version[0] += 1
    return out


def accepts_out(fn):
    """fn with PyTorch's keyword-only out=None."""
    name = fn.__name__

    @functools.wraps(fn)
    def op(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if grad_mode.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad
                                               for a in (out,) + args + tuple(kwargs.values())):
            raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                               "differentiation, but one of the arguments requires grad.")
        return write_out(name, fn(*args, **kwargs), out)
    return op
