"""Matrix products (NumPy/CuPy matmul -> BLAS) and the fused linear layer x @ W^T + b."""
import math

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor


def _swap(a):
    return a.swapaxes(-1, -2)


class Matmul(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if a.ndim == 1 and b.ndim == 1:
            return g * b, g * a
        # 1-D operands act as a row (a) or a column (b) vector, then the added axis is removed again
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = g[..., None, :]
        if b.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = g @ _swap(b2)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if ctx.needs_input_grad[1]:
            gb = _swap(a2) @ g
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


def matmul(input, other):
    for x in (input, other):
        if not isinstance(x, Tensor):
            raise TypeError(f"matmul(): argument must be Tensor, not {type(x).__name__}")
        if x.ndim == 0:
            raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                               f"{input.ndim}D and {other.ndim}D")
    sa, sb = input.shape, other.shape
    ka = sa[-1]
    kb = sb[0] if other.ndim == 1 else sb[-2]
    if ka != kb:
        if input.ndim <= 2 and other.ndim <= 2:
            ra = f"{sa[0]}x{sa[1]}" if input.ndim == 2 else f"1x{sa[0]}"
            rb = f"{sb[0]}x{sb[1]}" if other.ndim == 2 else f"{sb[0]}x1"
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({ra} and {rb})")
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: {list(sb)} but got: "
                           f"{list(sa)} (matmul of shapes {list(sa)} and {list(sb)}: inner sizes {ka} != {kb})")
    dt = dtypes.result_type(input, other)
    if input.dtype is not dt or other.dtype is not dt:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype.name} != "
                           f"{other.dtype.name}")
    return Matmul.apply(input, other)


class Linear(Function):
    # inputs in the order of PyTorch's addmm(bias, input, weight.t()), so next_functions walk back as there
    raw = True
    double = "lift"

    def name(self):
        return "AddmmBackward0" if self.has_bias else "MmBackward0"

    @staticmethod
    def forward(ctx, b, x, w):
        ctx.save_for_backward(x, w)
        ctx.has_bias = b is not None
        out = x @ w.T
        if b is not None:
            out += b  # out is a fresh array: adding in place saves a temporary
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        n = ctx.needs_input_grad
        gx = g @ w if n[1] else None
        gw = gb = None
        # rows counted, not inferred with -1: a zero-width layer has zero-size rows, which -1 cannot divide
        rows = math.prod(g.shape[:-1])
        if n[2]:
            g2, x2 = g.reshape(rows, g.shape[-1]), x.reshape(rows, x.shape[-1])
            gw = g2.T @ x2
        if n[0]:
            gb = g.reshape(rows, g.shape[-1]).sum(axis=0)
        return gb, gx, gw


def linear(input, weight, bias=None):
    if input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, input.shape))} and "
                           f"{'x'.join(map(str, weight.shape[::-1]))})")
    if weight.ndim != 2 or input.ndim == 1:
        out = matmul(input, weight.t())
        return out + bias if bias is not None else out
    if input.dtype is not weight.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {input.dtype.name} != "
                           f"{weight.dtype.name}")
    return Linear.apply(bias, input, weight)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {input.ndim}D and "
                           f"{mat2.ndim}D")
    return matmul(input, mat2)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


def outer(input, vec2):
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D" if input.ndim != 1 else
                           f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def tensordot(a, b, dims=2, out=None):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = dims
        da, db = ([da], [db]) if isinstance(da, int) else (list(da), list(db))
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, but got {len(da)} and {len(db)}")
    from ..tensor import _dim
    da, db = [_dim(d, a.ndim) for d in da], [_dim(d, b.ndim) for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} and "
                               f"second has size {b.shape[j]} in dim {j}")
    fa, fb = [i for i in range(a.ndim) if i not in da], [j for j in range(b.ndim) if j not in db]
    k = 1
    for i in da:
        k *= a.shape[i]
    out_shape = [a.shape[i] for i in fa] + [b.shape[j] for j in fb]
    am = a.permute(*fa, *da).reshape(-1, k)
    bm = b.permute(*db, *fb).reshape(k, -1)
    return matmul(am, bm).reshape(out_shape)


def inner(input, other):
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([-1], [-1]))


ger = outer


def kron(input, other):
    n = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (n - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (n - other.ndim) + tuple(other.shape))
    # a's axis i pairs with b's axis i: interleave them, multiply by broadcasting, merge each pair
    prod = a.reshape([v for s in a.shape for v in (s, 1)]) * b.reshape([v for s in b.shape for v in (1, s)])
    return prod.reshape([x * y for x, y in zip(a.shape, b.shape)])


class MatmulMethods:
    """Tensor's matrix products (tinygrad_fer/_tensor_api.py makes Tensor inherit them)."""
    __slots__ = ()
    __matmul__ = matmul = matmul
    mm, bmm, dot = mm, bmm, dot
    outer = ger = outer
    inner, kron = inner, kron

    def __rmatmul__(self, other):
        return matmul(other, self)

# the public ops, which the package namespace re-exports
__all__ = ["matmul", "mm", "bmm", "dot", "outer", "ger", "inner", "kron", "tensordot"]
