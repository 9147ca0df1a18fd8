"""Matrix decompositions with several differentiable outputs: qr, eigh / eigvalsh, svd / svdvals (and PyTorch's
older torch.qr / torch.svd spellings), on NumPy's / CuPy's LAPACK with PyTorch's gradient formulas.

A graph node has one differentiable output here, so each decomposition's Function returns its factors packed
into one array (each flattened, side by side along the last axis) and the public op slices them apart: the
slices' gradients land in one packed gradient, which backward splits again."""
from ..autograd import Function
from ..tensor import Tensor
from .linalg import _check, _la, _mT


def _pack(xp, *arrays):
    lead = arrays[0].shape[:-2] if arrays[0].ndim >= 2 else arrays[0].shape[:-1]
    return xp.concatenate([a.reshape(lead + (-1,)) for a in arrays], axis=-1)


def _unpack(p, shapes):
    """The pieces of a packed array (a Tensor or an array), each in its trailing shape."""
    out, at = [], 0
    lead = tuple(p.shape[:-1])
    for s in shapes:
        n = 1
        for v in s:
            n *= v
        out.append(p[..., at:at + n].reshape(lead + tuple(s)))
        at += n
    return out


def _sym_lower(xp, m):
    """Lower triangle of m plus its transpose, the diagonal once: X + X^T - diag X for X = tril(m)."""
    low = xp.tril(m)
    return low + _mT(xp.tril(m, -1))


class QR(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, mode):
        xp = ctx.be.xp
        q, r = xp.linalg.qr(a, mode="complete" if mode == "complete" else "reduced")
        ctx.shapes, ctx.mode = (q.shape[-2:], r.shape[-2:]), mode
        out = _pack(xp, q, r)
        ctx.save_for_backward(out)  # the output itself, which create_graph maps back to this node
        return out

    @staticmethod
    def backward(ctx, g):
        m, n = ctx.shapes[0][0], ctx.shapes[1][1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please "
                               "use linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        q, r = _unpack(ctx.saved_tensors[0], ctx.shapes)
        gq, gr = _unpack(g, ctx.shapes)
        xp = ctx.be.xp
        if m >= n:
            return _qr_backward_tall(xp, q, r, gq, gr), None
        # wide A = [X | Y] with X = Q U square: X's gradient is the square rule's with gQ + Y gV^T, Y's is Q gV
        u, gu, gv = r[..., :, :m], gr[..., :, :m], gr[..., :, m:]
        y = q @ r[..., :, m:]
        gx = _qr_backward_tall(xp, q, u, gq + y @ _mT(gv), gu)
        return xp.concatenate([gx, q @ gv], axis=-1), None


def _qr_backward_tall(xp, q, r, gq, gr):
    # gA = (gQ + Q copyltu(M)) R^-T, M = R gR^T - gQ^T Q
    mm = r @ _mT(gr) - _mT(gq) @ q
    b = gq + q @ _sym_lower(xp, mm)
    return _mT(_la(xp, "solve", r, _mT(b)))


class _QRResult(tuple):
    Q = property(lambda self: self[0])
    R = property(lambda self: self[1])


def qr(A, mode="reduced", *, out=None):
    _check(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    m, n = A.shape[-2:]
    k = m if mode == "complete" else min(m, n)
    q, r = _unpack(QR.apply(A, mode), ((m, k), (k, n)))
    if mode == "r":
        q = Tensor(A._be.xp.zeros((0,), A._array.dtype))
    return _QRResult((q, r))


def qr_legacy(input, some=True):
    """torch.qr: some=True is linalg.qr's 'reduced', some=False its 'complete'."""
    return qr(input, "reduced" if some else "complete")


class Eigh(Function):
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices, from the triangle UPLO names; PyTorch's
    gradient V (diag(gL) + (V^T gV - its transpose) / 2E) V^T, E_ij = L_j - L_i."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, uplo):
        xp = ctx.be.xp
        w, v = xp.linalg.eigh(a, UPLO=uplo)
        ctx.n = a.shape[-1]
        out = _pack(xp, w[..., None, :], v)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        n = ctx.n
        w, v = _unpack(ctx.saved_tensors[0], ((1, n), (n, n)))
        w = w[..., 0, :]
        xp = ctx.be.xp
        gw, gv = _unpack(g, ((1, n), (n, n)))
        vtgv = _mT(v) @ gv
        e = w[..., None, :] - w[..., :, None]
        eye = xp.eye(n, dtype=bool)
        inner = xp.where(eye, 0, (vtgv - _mT(vtgv)) * 0.5 / xp.where(eye, 1, e)) + xp.where(eye, gw, 0)
        return v @ inner @ _mT(v), None


class _EighResult(tuple):
    eigenvalues = property(lambda self: self[0])
    eigenvectors = property(lambda self: self[1])


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


def eigh(A, UPLO="L", *, out=None):
    _check(A, "eigh")
    n = A.shape[-1]
    w, v = _unpack(Eigh.apply(A, _uplo(UPLO)), ((1, n), (n, n)))
    return _EighResult((w.squeeze(-2), v))


def eigvalsh(A, UPLO="L", *, out=None):
    _check(A, "eigvalsh")
    n = A.shape[-1]
    # through the eigenvectors too, which its gradient (and that gradient's own) needs
    return Eigh.apply(A, _uplo(UPLO))[..., :n]


class SVD(Function):
    """U S Vh (reduced: k = min(m, n) columns); PyTorch's gradient (svd_backward), the extra columns of full U / Vh
    taking no part in it, as in PyTorch."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, a, full):
        xp = ctx.be.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=full)
        ctx.shapes = ((u.shape[-2], u.shape[-1]), (1, s.shape[-1]), (vh.shape[-2], vh.shape[-1]))
        out = _pack(xp, u, s[..., None, :], vh)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        (m, ku), (_, k), (kv, n) = ctx.shapes
        u, s, vh = _unpack(ctx.saved_tensors[0], ctx.shapes)
        u, s, vh = u[..., :, :k], s[..., 0, :], vh[..., :k, :]
        gu, gs, gvh = _unpack(g, ctx.shapes)
        gu, gs, gvh = gu[..., :, :k], gs[..., 0, :], gvh[..., :k, :]
        v, gv = _mT(vh), _mT(gvh)
        uhgu, vhgv = _mT(u) @ gu, vh @ gv
        uhgu, vhgv = uhgu - _mT(uhgu), vhgv - _mT(vhgv)
        s2 = s * s
        eye = xp.eye(k, dtype=bool)
        e = xp.where(eye, 1, s2[..., None, :] - s2[..., :, None])
        ga = xp.where(eye, 0, (uhgu * s[..., None, :] + s[..., :, None] * vhgv) / e)
        ga = ga + xp.where(eye, gs[..., None, :], 0)
        if m > k:
            gus = gu / s[..., None, :]
            ga = (u @ ga + gus - u @ (_mT(u) @ gus)) @ vh
        elif n > k:
            gvs = gv / s[..., None, :]
            ga = u @ (ga @ vh + _mT(gvs) - (_mT(gvs) @ v) @ vh)
        else:
            ga = u @ ga @ vh
        return ga, None


class _SVDResult(tuple):
    U = property(lambda self: self[0])
    S = property(lambda self: self[1])
    Vh = property(lambda self: self[2])
    V = property(lambda self: self[2])


def svd(A, full_matrices=True, *, driver=None, out=None):
    _check(A, "svd", square=False)
    m, n = A.shape[-2:]
    k = min(m, n)
    ku, kv = (m, n) if full_matrices else (k, k)
    u, s, vh = _unpack(SVD.apply(A, bool(full_matrices)), ((m, ku), (1, k), (kv, n)))
    return _SVDResult((u, s.squeeze(-2), vh))


def svdvals(A, *, driver=None, out=None):
    _check(A, "svdvals", square=False)
    return svd(A, full_matrices=False)[1]   # through U and Vh too, which its gradient needs


def svd_legacy(input, some=True, compute_uv=True):
    """torch.svd: V rather than Vh; without compute_uv, U and V are zero matrices (as PyTorch's)."""
    _check(input, "svd", square=False)
    if not compute_uv:
        s = svdvals(input)
        m, n = input.shape[-2:]
        xp = input._be.xp
        z = lambda r, c: Tensor(xp.zeros(tuple(input.shape[:-2]) + (r, c), input._array.dtype))  # noqa: E731
        return _SVDResult((z(m, m), s, z(n, n)))
    u, s, vh = svd(input, full_matrices=not some)
    return _SVDResult((u, s, vh.mT))
