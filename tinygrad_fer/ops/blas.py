"""BLAS-style products added to an input, beta * input + alpha * (product): addmm, addmv, addr, addbmm, baddbmm,
and vdot. Composites of matmul and elementwise ops, so their gradients are those ops' rules."""
from .. import dtypes
from ..tensor import Tensor, tensor
from .inplace import _inplace_of
from .matmul import matmul, outer


def _scaled_sum(name, input, prod, beta, alpha):
    for x in (input, prod):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if input.dtype is not prod.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {input.dtype.name.capitalize()} and "
                           f"{prod.dtype.name.capitalize()}")
    if not prod.dtype.is_floating_point:
        if prod.dtype is dtypes.bool_:
            raise NotImplementedError(f"\"{name}_impl_cpu_\" not implemented for 'Bool'")
        for v, n in ((beta, "beta"), (alpha, "alpha")):
            if isinstance(v, float) and not float(v).is_integer():
                raise RuntimeError(f"For integral input tensors, argument {n} must not be a floating point number.")
        beta, alpha = int(beta), int(alpha)
    try:
        shape = tuple(input.broadcast_to(prod.shape).shape)
    except RuntimeError:
        raise RuntimeError(f"The expanded size of the tensor ({prod.shape[-1]}) must match the existing size "
                           f"({input.shape[-1]}) at non-singleton dimension {input.ndim - 1}.  Target sizes: "
                           f"{list(prod.shape)}.  Tensor sizes: {list(input.shape)}") from None
    if shape != tuple(prod.shape):
        raise RuntimeError(f"{name}: input of shape {list(input.shape)} does not broadcast to {list(prod.shape)}")
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        # PyTorch ignores input then (NaN in it does not propagate), yet input still gets a (zero) gradient
        from .elementwise import where
        return where(tensor(False, device=prod.device), input, prod)
    return prod + (input if beta == 1 else input * beta)


def _to_out(result, out):
    return result if out is None else out.copy_(result)


def _need(t, n, what, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"{name}(): argument '{what}' must be Tensor, not {type(t).__name__}")
    if t.ndim != n:
        raise RuntimeError(f"{what} must be a {n}D tensor" if name not in ("addmm", "addr") else
                           f"{what} must be a matrix, got {t.ndim}-D tensor" if n == 2 else
                           f"{name}: Expected 1-D argument {what}, but got {t.ndim}-D")


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    _need(mat1, 2, "mat1", "addmm")
    _need(mat2, 2, "mat2", "addmm")
    return _to_out(_scaled_sum("addmm", input, matmul(mat1, mat2), beta, alpha), out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    _need(mat, 2, "mat", "addmv")
    if vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    return _to_out(_scaled_sum("addmv", input, matmul(mat, vec), beta, alpha), out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    _need(vec1, 1, "vec1", "addr")
    _need(vec2, 1, "vec2", "addr")
    # unlike the matrix products, addr is elementwise underneath: its operands promote, and bool means and/or
    dt = dtypes.result_type(input, vec1, vec2)
    input, vec1, vec2 = (t if t.dtype is dt else t.type(dt) for t in (input, vec1, vec2))
    if dt is dtypes.bool_:
        prod = vec1.reshape(-1, 1) & vec2.reshape(1, -1)
        res = prod if alpha else prod & False
        return _to_out(res | input if beta else res | (input & False), out)
    return _to_out(_scaled_sum("addr", input, outer(vec1, vec2), beta, alpha), out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _need(batch1, 3, "batch1", "baddbmm")
    _need(batch2, 3, "batch2", "baddbmm")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    return _to_out(_scaled_sum("baddbmm", input, matmul(batch1, batch2), beta, alpha), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _need(batch1, 3, "batch1", "addbmm")
    _need(batch2, 3, "batch2", "addbmm")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    b, n, k = batch1.shape
    # the batch is summed as part of one product: (n, b*k) @ (b*k, p)
    prod = matmul(batch1.permute(1, 0, 2).reshape(n, b * k), batch2.reshape(b * k, batch2.shape[2]))
    return _to_out(_scaled_sum("addbmm", input, prod, beta, alpha), out)


def vdot(input, other, *, out=None):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is dtypes.bool_:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    if input.dtype is not other.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found {input.dtype.name.capitalize()} "
                           f"and {other.dtype.name.capitalize()}")
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src [{other.shape[0]}] "
                           f"to have the same number of elements, but got {input.shape[0]} and {other.shape[0]} "
                           "elements respectively")
    return _to_out(matmul(input, other), out)  # real tensors only: the conjugate of input is input


class BlasMethods:
    """Tensor's scaled-product methods (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    addmm, addmv, addr, addbmm, baddbmm, vdot = addmm, addmv, addr, addbmm, baddbmm, vdot
    addmm_, addmv_, addr_ = _inplace_of("addmm"), _inplace_of("addmv"), _inplace_of("addr")
    addbmm_, baddbmm_ = _inplace_of("addbmm"), _inplace_of("baddbmm")


__all__ = ["addmm", "addmv", "addr", "addbmm", "baddbmm", "vdot"]
