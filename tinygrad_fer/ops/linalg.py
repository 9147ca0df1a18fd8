"""Linear algebra on (batches of) square matrices: inv, solve, det, slogdet, logdet, cholesky, matrix_power,
multi_dot, on NumPy's / CuPy's LAPACK (ctx.be.xp.linalg), with PyTorch's gradient formulas.

Each backward rule is NumPy-style; its inverses and solves go through `_la`, which under create_graph calls this
module's own (differentiable) op instead, so the rules also give second derivatives (double = "lift")."""
import numpy as np

from ..autograd import Function
from ..tensor import Tensor


class LinAlgError(RuntimeError):
    """A matrix that the factorization cannot handle (singular, not positive-definite), as torch.linalg.LinAlgError.
    """


def _la(xp, name, *args):
    """xp.linalg.<name>(*args), or the recorded op when an argument is a recorded tensor (create_graph)."""
    from .._array_facade import A, T
    if any(isinstance(a, A) for a in args):
        return A(_OPS[name](*[T(a) if isinstance(a, A) else Tensor(a) for a in args]))
    try:
        return getattr(xp.linalg, name)(*args)
    except Exception as e:
        if type(e).__name__ != "LinAlgError":
            raise
        raise LinAlgError(f"linalg.{name}: the input matrix is singular ({e})") from None


def _mT(x):
    return x.swapaxes(-1, -2)


def _check(A, name, square=True):
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.{name}(): argument 'A' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_torch_name(A.dtype)}")
    if A.dtype.name == "float16":
        raise RuntimeError(f"linalg.{name}: Low precision dtypes not supported. Got Half")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are {A.shape[-2]} by "
                           f"{A.shape[-1]} matrices")


def _torch_name(dt):
    return {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
            "float16": "Half", "float32": "Float", "float64": "Double"}.get(dt.name, dt.name)


class Inv(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        out = _la(ctx.be.xp, "inv", a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (inv_,) = ctx.saved_tensors
        t = _mT(inv_)
        return -(t @ g @ t)


def inv(A, *, out=None):
    _check(A, "inv")
    return _to_out(Inv.apply(A), out)


class Det(Function):
    """det(A); its gradient g * det(A) * A^-T is the transposed adjugate, written through the SVD where A is
    singular (det 0), as PyTorch does."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        d = ctx.be.xp.linalg.det(a)
        ctx.save_for_backward(a, d)
        return d

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        xp = ctx.be.xp
        if a.shape[-1] == 1:    # det of a 1x1 is its entry: a gradient free of A (no second derivative)
            return g[..., None, None] * xp.ones_like(a)
        gd = (g * d)[..., None, None]
        from .._array_facade import A
        if isinstance(a, A):
            return gd * _mT(_la(xp, "inv", a))       # recorded (create_graph): through inv
        if bool(xp.all(d != 0)):
            return gd * _mT(xp.linalg.inv(a))
        u, s, vh = xp.linalg.svd(a)
        # the product of all singular values but the i-th, without dividing by a zero one
        ones = xp.ones(s.shape[:-1] + (1,), s.dtype)
        left = xp.cumprod(xp.concatenate([ones, s[..., :-1]], -1), -1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], -1), -1), -1)
        sgn = xp.linalg.det(u) * xp.linalg.det(vh)
        adj_t = (u * (left * right)[..., None, :]) @ vh * sgn[..., None, None]
        return g[..., None, None] * adj_t


def det(A):
    _check(A, "det")
    return Det.apply(A)


class Slogdet(Function):
    """log|det A| (the sign, not differentiable, rides along); gradient g * A^-T."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        sign, logabs = ctx.be.xp.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return logabs, sign

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g[..., None, None] * _mT(_la(ctx.be.xp, "inv", a))


class _SlogdetResult(tuple):
    """(sign, logabsdet), also by name, as torch.return_types.linalg_slogdet."""
    sign = property(lambda self: self[0])
    logabsdet = property(lambda self: self[1])


def slogdet(A):
    _check(A, "slogdet")
    logabs, sign = Slogdet.apply(A)
    if logabs.requires_grad:   # PyTorch's sign is a function of A too, with a zero gradient
        from .elementwise import where
        from ..tensor import tensor
        sign = where(tensor(False, device=A.device), logabs, sign)
    return _SlogdetResult((sign, logabs))


def logdet(input):
    """log det A: NaN where det A < 0 (and -inf where it is 0), as PyTorch's (whose gradient is 0 there)."""
    _check(input, "logdet")
    from .elementwise import where
    sign, logabs = slogdet(input)
    return where(sign < 0, float("nan"), logabs)


class SolveMatrix(Function):
    """X = A^-1 B for B a (batch of) matrices; gB = A^-T g, gA = -gB X^T."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.be.xp
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        # one batch shape for both (CuPy's solve does not broadcast); the engine sums the gradients back
        x = _la(xp, "solve", xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        xp = ctx.be.xp
        gb = _la(xp, "solve", xp.broadcast_to(_mT(a), tuple(g.shape[:-2]) + tuple(a.shape[-2:])), g)
        ga = -(gb @ _mT(x)) if ctx.needs_input_grad[0] else None
        return ga, gb


def solve(A, B, *, left=True, out=None):
    _check(A, "solve")
    if not isinstance(B, Tensor):
        raise TypeError(f"linalg.solve(): argument 'B' must be Tensor, not {type(B).__name__}")
    if A.dtype is not B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_torch_name(A.dtype)} and B of type {_torch_name(B.dtype)} instead")
    # PyTorch's rule: B is a (batch of) vector(s) when it is 1-D or has A's batch shape exactly
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if b.shape[-2 if left else -1] != n:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"{'AX = B' if left else 'XA = B'} ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    x = SolveMatrix.apply(A, b) if left else SolveMatrix.apply(A.mT, b.mT).mT
    return _to_out(x.squeeze(-1) if vector else x, out)


class Cholesky(Function):
    """L with A = L L^T; PyTorch's gradient L^-T phi(L^T gL) L^-1, phi taking the lower triangle and halving its
    diagonal (only A's lower triangle is read)."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a):
        try:
            low = ctx.be.xp.linalg.cholesky(a)
        except Exception as e:
            if type(e).__name__ != "LinAlgError":
                raise
            raise LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                              "positive-definite.") from None
        ctx.save_for_backward(low)
        return low

    @staticmethod
    def backward(ctx, g):
        (low,) = ctx.saved_tensors
        xp = ctx.be.xp
        t = xp.tril(_mT(low) @ g)
        phi = 0.5 * (t + _mT(xp.tril(t, -1)))
        li = _la(xp, "inv", low)
        return _mT(li) @ phi @ li


def cholesky(A, *, upper=False, out=None):
    _check(A, "cholesky")
    low = Cholesky.apply(A)
    return _to_out(low.mT if upper else low, out)


def matrix_power(A, n, *, out=None):
    """A^n by repeated squaring (A^-1 for n < 0), through matmul's and inv's gradients."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_power(): argument 'input' must be Tensor, not {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A.shape[-2] if A.ndim >= 2 else 1} by {A.shape[-1] if A.ndim else 1} matrices")
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' must be int, not {type(n).__name__}")
    if n == 0:
        from ..tensor import eye, tensor
        from .elementwise import where
        e = eye(A.shape[-1], dtype=A.dtype, device=A.device)
        # the identity, still a function of A (with a zero gradient), as PyTorch's
        return _to_out(where(tensor(False, device=A.device), A, e), out)
    if n < 0:
        A, n = inv(A), -n
    result, base = None, A
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return _to_out(result if result is not A else result.clone(), out)


def multi_dot(tensors, *, out=None):
    """A chain of matrix products in the cheapest order (einsum's pairwise order); 1-D ends act as vectors."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        if t.ndim not in ((1, 2) if i in (0, len(tensors) - 1) else (2,)):
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got {t.ndim}D" if where else
                               f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    from .einsum import einsum
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    subs = [letters[i] + letters[i + 1] for i in range(len(tensors))]
    if tensors[0].ndim == 1:
        subs[0] = subs[0][1]
    if tensors[-1].ndim == 1:
        subs[-1] = subs[-1][0]
    outs = (subs[0][0] if tensors[0].ndim == 2 else "") + (subs[-1][-1] if tensors[-1].ndim == 2 else "")
    return _to_out(einsum(",".join(subs) + "->" + outs, *tensors), out)


def _to_out(result, out):
    return result if out is None else out.copy_(result)


_OPS = {"inv": lambda a: inv(a), "solve": lambda a, b: SolveMatrix.apply(a, b)}
