"""einsum: Einstein summation over any number of operands, contracted pairwise in a greedy order (the pair whose
result is smallest relative to its inputs first, as opt_einsum's greedy path), so a chain such as 'ij,jk,kl->il'
never builds the full outer product, each pair as one batched matrix product (BLAS); each gradient is the einsum of
the output's gradient with the other operands.
"""

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


def _einsum_1(xp, labels, a, out):
    """One operand: diagonal of repeated labels, sum of the labels not in out, then out's order."""
    if tuple(labels) == tuple(out):
        return a
    return xp.einsum(_eq([labels], out), a)


def _eq(ins, out):
    # labels are ints (the ellipsis' dims past the 52 letters): each call names its own few with letters
    name = {k: _LETTERS[n] for n, k in enumerate(dict.fromkeys(k for s in ins for k in s))}
    return ",".join("".join(name[k] for k in s) for s in ins) + "->" + "".join(name[k] for k in out)


def _contract(xp, terms, out, sizes):
    """The einsum of terms [(labels, array)] into the labels `out` (each in some term), two terms at a time."""
    def needed(k, exclude):
        return k in out or any(k in lb for j, (lb, _) in enumerate(terms) if j not in exclude)

    # labels only one term holds and the output does not are summed out first, in that term alone
    terms = list(terms)
    for i, (lb, a) in enumerate(terms):
        keep = []
        for k in lb:
            if k not in keep and needed(k, (i,)):
                keep.append(k)
        if keep != list(lb):
            terms[i] = (keep, _einsum_1(xp, lb, a, keep))
    while len(terms) > 1:
        best = None
        for i in range(len(terms)):
            for j in range(i + 1, len(terms)):
                (la, _), (lb, _) = terms[i], terms[j]
                keep = [k for k in dict.fromkeys(la + lb) if needed(k, (i, j))]
                size = _prod(sizes[k] for k in keep)
                cost = size - _prod(sizes[k] for k in la) - _prod(sizes[k] for k in lb)
                if best is None or (cost, size) < best[0]:
                    best = ((cost, size), i, j, keep)
        _, i, j, keep = best
        (la, a), (lb, b) = terms[i], terms[j]
        terms = [t for n, t in enumerate(terms) if n not in (i, j)] + [_pair(xp, la, a, lb, b, keep, sizes)]
    lb, a = terms[0]
    return _einsum_1(xp, lb, a, out)


def _contract_any(xp, terms, out, sizes):
    """_contract, or under create_graph (recorded tensors, _array_facade.A) the einsum op itself, so the gradient
    is differentiable again."""
    from .._array_facade import A, T
    if any(isinstance(a, A) for _, a in terms):
        return A(einsum(_eq([lb for lb, _ in terms], out), *[T(a) for _, a in terms]))
    return _contract(xp, terms, out, sizes)


def _drop(a, squeezed):
    """a without its broadcast size-1 dims."""
    return a.reshape(tuple(n for n, sq in zip(a.shape, squeezed) if not sq)) if any(squeezed) else a


def _pair(xp, la, a, lb, b, keep, sizes):
    """Two terms contracted as one batched matrix product (BLAS): (batch, left, contracted) @ (batch, contracted,
    right). Returns the result's labels (batch, left, right) and the array."""
    for lbl in [k for k in la if k not in lb and k not in keep]:
        a, la = a.sum(axis=la.index(lbl)), [k for k in la if k != lbl]
    for lbl in [k for k in lb if k not in la and k not in keep]:
        b, lb = b.sum(axis=lb.index(lbl)), [k for k in lb if k != lbl]
    batch = [k for k in la if k in lb and k in keep]
    con = [k for k in la if k in lb and k not in keep]
    left = [k for k in la if k not in lb]
    right = [k for k in lb if k not in la]
    nb, nl, nc, nr = (_prod(sizes[k] for k in g) for g in (batch, left, con, right))
    am = a.transpose([la.index(k) for k in batch + left + con]).reshape(nb, nl, nc)
    bm = b.transpose([lb.index(k) for k in batch + con + right]).reshape(nb, nc, nr)
    out = (am @ bm).reshape([sizes[k] for k in batch + left + right])
    return batch + left + right, out


class Einsum(Function):
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, spec, *arrays):
        ins, out, sizes, squeezed = spec
        xp = ctx.be.xp
        eff = [_drop(a, s) for a, s in zip(arrays, squeezed)]
        ctx.spec, ctx.shapes = spec, [a.shape for a in arrays]
        ctx.save_for_backward(*arrays)  # the inputs themselves, which create_graph maps back to their tensors
        res = _contract(xp, list(zip(ins, eff)), out, sizes)
        return res.copy() if len(arrays) == 1 else res  # one operand's einsum may be a view of it

    @staticmethod
    def backward(ctx, g):
        ins, out, sizes, squeezed = ctx.spec
        xp = ctx.be.xp
        eff = [_drop(a, s) for a, s in zip(ctx.saved_tensors, squeezed)]
        grads = [None]
        for i, lb in enumerate(ins):
            if not ctx.needs_input_grad[i + 1]:
                grads.append(None)
                continue
            others = [(ins[j], eff[j]) for j in range(len(ins)) if j != i]
            uniq = list(dict.fromkeys(lb))
            # a label of this operand that nothing else holds was summed over: its gradient is a broadcast
            reach = [k for k in uniq if k in out or any(k in o for o, _ in others)]
            gu = _contract_any(xp, [(list(out), g)] + others, reach, sizes)
            gu = xp.broadcast_to(gu.reshape([sizes[k] if k in reach else 1 for k in uniq]),
                                 [sizes[k] for k in uniq])
            if len(uniq) < len(lb):  # a repeated label reads a diagonal: the gradient goes back onto it
                ga = xp.zeros(eff[i].shape, dtype=g.dtype)
                idx = tuple(xp.arange(sizes[k]).reshape([-1 if u == k else 1 for u in uniq]) for k in lb)
                ga[idx] = gu
            else:
                ga = gu
            grads.append(xp.ascontiguousarray(ga).reshape(ctx.shapes[i]))
        return tuple(grads)


def _dtypes_like_torch(operands, ins, out):
    """PyTorch sums a label that only one operand holds with sum() first, which makes an integer or bool operand
    int64; then the operands must share a dtype, and bool cannot go through its batched product."""
    if all(t.dtype.is_floating_point for t in operands):
        names = {t.dtype for t in operands}
    else:
        def summed(i):
            return any(k not in out and not any(k in o for j, o in enumerate(ins) if j != i) for k in ins[i])
        operands = [t.long() if not t.dtype.is_floating_point and summed(i) else t
                    for i, t in enumerate(operands)]
        names = {t.dtype for t in operands}
    if len(names) > 1:
        a = operands[0].dtype
        b = next(t.dtype for t in operands if t.dtype is not a)
        raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(a.np)} but found "
                           f"{dtypes.scalar_type_name(b.np)}")
    if operands[0].dtype.name == "bool":
        shared = {k for i, lb in enumerate(ins) for k in lb if k not in out
                  and any(k in o for j, o in enumerate(ins) if j != i)}
        if shared:
            raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    return operands


def _parse_sublists(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [out_sublist]) -> (equation, operands)."""
    out = args[-1] if len(args) % 2 == 1 else None
    pairs = args[:-1] if out is not None else args
    ops, subs = list(pairs[0::2]), list(pairs[1::2])

    def word(sub):
        s = ""
        for v in sub:
            if v is Ellipsis:
                s += "..."
            elif isinstance(v, int) and 0 <= v < 52:
                s += _LETTERS[v]
            else:
                raise RuntimeError(f"einsum(): expected subscript to be within the range [0, 52) but got {v}")
        return s
    eq = ",".join(word(s) for s in subs)
    if out is not None:
        eq += "->" + word(out)
    return eq, ops


def einsum(equation, *operands):
    if not isinstance(equation, str):
        equation, operands = _parse_sublists((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, not {type(t).__name__}")
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    words = lhs.split(",")
    if len(words) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(words) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    for w in (*words, rhs):
        body = w.replace("...", "")
        if "." in body:
            raise RuntimeError("einsum(): found '.' for operand that is not part of any ellipsis")
        for c in body:
            if c not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation "
                                   f"string, subscripts must be in [a-zA-Z]")
    # the ellipsis' dims become labels 52, 53, ... (right-aligned, as broadcasting), ahead of the letters
    ell = max((t.ndim - len(w.replace("...", "")) for w, t in zip(words, operands) if "..." in w), default=0)
    ell_labels = list(range(52, 52 + ell))
    ins = []
    for n, (w, t) in enumerate(zip(words, operands)):
        named = len(w.replace("...", ""))
        if "..." in w:
            if named > t.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) is more than the "
                                   f"number of dimensions ({t.ndim}) for operand {n}")
            head, tail = w.split("...")
            k = t.ndim - named
            lb = [_LETTERS.index(c) for c in head] + ell_labels[ell - k:] + [_LETTERS.index(c) for c in tail]
        else:
            if named != t.ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                                   f"number of dimensions ({t.ndim}) for operand {n} and no ellipsis was given")
            lb = [_LETTERS.index(c) for c in w]
        ins.append(lb)
    if arrow:
        out = []
        for c in rhs.replace("...", "\0"):
            if c == "\0":
                out += ell_labels
                continue
            k = _LETTERS.index(c)
            if k in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(k in lb for lb in ins):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   f"operand")
            out.append(k)
    else:
        counts = {}
        for lb in ins:
            for k in lb:
                counts[k] = counts.get(k, 0) + 1
        out = ell_labels + sorted(k for k, c in counts.items() if c == 1 and k < 52)
    operands = _dtypes_like_torch(operands, ins, out)
    # sizes, with size-1 dims broadcasting: such a dim is dropped from its operand (broadcasting repeats it)
    sizes = {}
    for n, (lb, t) in enumerate(zip(ins, operands)):
        for k, s in zip(lb, t.shape):
            if s != 1:
                if sizes.get(k, 1) not in (1, s):
                    name = _LETTERS[k] if k < 52 else "..."
                    raise RuntimeError(f"einsum(): subscript {name} has size {s} for operand {n} which does not "
                                       f"broadcast with previously seen size {sizes[k]}")
                sizes[k] = s
            else:
                sizes.setdefault(k, 1)
    squeezed, eff_ins = [], []
    for lb, t in zip(ins, operands):
        sq = [s == 1 and sizes[k] != 1 for k, s in zip(lb, t.shape)]
        squeezed.append(tuple(sq))
        eff_ins.append([k for k, q in zip(lb, sq) if not q])
    return Einsum.apply((eff_ins, out, sizes, squeezed), *operands)


__all__ = ["einsum"]
