"""In-place ops against PyTorch: random programs that mix out-of-place ops, views and in-place ops, then check every
value and gradient, or that both libraries raise at the same step. Plus the cases that were silently wrong."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg

N_STEPS = 8


def _program(lib, choose, log):
    """Run a random program on lib (torch or tg). `choose(n)` picks an int in [0, n); torch draws the choices and tg
    replays them, so both run the same program as long as they agree. Returns the trace of what happened."""
    rng = np.random.default_rng(choose(1000))
    x = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    pool = [x, w, x * 1.5, w - 0.5, lib.tensor(rng.standard_normal((3, 4)))]
    roots = list(range(len(pool)))  # which pool entry's memory each one lives in
    trace = []

    def fits(o, t):
        try:
            return np.broadcast_shapes(tuple(o.shape), tuple(t.shape)) == tuple(t.shape)
        except ValueError:
            return False

    def pick_other(t, of=None):
        # an operand that overlaps the written memory only partially has no defined result (PyTorch reads it while
        # writing): allow the target itself or memory elsewhere
        r = roots[_ix(pool, t if of is None else of)]
        others = [o for i, o in enumerate(pool) if fits(o, t) and (o is t or roots[i] != r)]
        k = choose(len(others) + 1)
        return float(rng.standard_normal()) if k == len(others) else others[k]

    for _ in range(N_STEPS):
        kind = choose(4)
        # in-place ops mostly on non-leaves (on a leaf that requires grad both libraries refuse at once)
        t = pool[choose(len(pool))] if kind < 2 or choose(8) == 0 else pool[2 + choose(len(pool) - 2)]
        if kind == 0:  # out of place
            o = pick_other(t)
            op = choose(4)
            new = [lambda: t + o, lambda: t * o, lambda: (t - o).tanh(), lambda: t.sigmoid() * t][op]()
            log.append(f"p{len(pool)} = {['+', '*', 'sub-tanh', 'sigmoid*'][op]}(p{_ix(pool, t)}, {_name(pool, o)})")
            roots.append(len(pool))
            pool.append(new)
        elif kind == 1 and t.ndim:  # a view
            op = choose(5)
            if op == 0:
                new = t[choose(t.shape[0])]
            elif op == 1:
                new = t[..., 1:] if t.shape[-1] > 1 else t[...]
            elif op == 2:
                new = t.t() if t.ndim == 2 else t.unsqueeze(0)
            elif op == 3:
                new = t.reshape(-1) if t.is_contiguous() else t.transpose(0, -1)
            else:
                new = t.unsqueeze(0).expand(2, *t.shape)
            log.append(f"p{len(pool)} = view{op}(p{_ix(pool, t)}) -> {list(new.shape)}")
            roots.append(roots[_ix(pool, t)])
            pool.append(new)
        else:  # in place
            op = choose(9)
            o = pick_other(t) if op in (0, 1, 6) else pick_other(t[0], t) if op == 7 and t.ndim else None
            log.append(f"p{_ix(pool, t)}.inplace{op}({'' if o is None else _name(pool, o)})")
            if op == 0:
                t.add_(o)
            elif op == 1:
                t.mul_(o)
            elif op == 2:
                t.clamp_(-0.5, 1.0)
            elif op == 3:
                t.relu_()
            elif op == 4:
                t.zero_()
            elif op == 5:
                t.fill_(float(rng.standard_normal()))
            elif op == 6:
                t.copy_(o if not isinstance(o, float) else lib.full(tuple(t.shape), o, dtype=t.dtype))
            elif op == 7 and t.ndim:
                t[choose(t.shape[0])] = o
            else:
                t[...] = 2.0
        trace.append([v.detach().numpy().copy() for v in pool])
    loss = sum((v * lib.tensor(np.linspace(-1, 1, v.numel()).reshape(tuple(v.shape)))).sum() for v in pool
               if v.requires_grad)
    loss.backward()
    trace.append([None if g is None else g.numpy().copy() for g in (x.grad, w.grad)])
    return trace


def _ix(pool, t):
    return next(i for i, o in enumerate(pool) if o is t)


def _name(pool, o):
    return f"{o:.3f}" if isinstance(o, float) else f"p{_ix(pool, o)}"


def _outcome(lib, choose, log=None):
    try:
        return _program(lib, choose, [] if log is None else log), None
    except (RuntimeError, ValueError, IndexError) as e:
        return None, e


@settings(max_examples=max(100, settings.default.max_examples))  # ~40% of programs run to the end without raising
@given(st.data())
def test_random_inplace_programs_match_torch(data):
    choices = []

    def draw(n):
        c = data.draw(st.integers(0, n - 1))
        choices.append(c)
        return c

    ref, ref_err = _outcome(torch, draw)
    replay = iter(choices)
    out, err = _outcome(tg, lambda n: next(replay, 0))  # past the end only when torch stopped early (raised)
    if ref_err is not None or err is not None:
        assert ref_err is not None and err is not None, f"torch raised {ref_err!r}, we raised {err!r}"
        assert type(err) is type(ref_err), (ref_err, err)
        return
    assert len(out) == len(ref)
    for step, (a, b) in enumerate(zip(ref, out)):
        for u, v in zip(a, b):
            assert (u is None) == (v is None), step
            if u is not None:
                np.testing.assert_allclose(v, u, rtol=1e-10, atol=1e-12, err_msg=f"step {step}")


# ---- the cases that were silently wrong -----------------------------------------------------------------------
def _both(fn):
    return fn(torch), fn(tg)


def test_inplace_on_nonleaf_keeps_earlier_consumers_history():
    def prog(L, reduce_first):
        x = L.tensor([1.0], requires_grad=True)
        a = x * 1
        b = a.sum() if reduce_first else a + a
        a.mul_(2)
        b.sum().backward()
        return x.grad.tolist()
    for r in (False, True):
        ref, out = _both(lambda L: prog(L, r))
        assert out == ref == ([1.0] if r else [2.0])


def test_write_into_view_rebases_the_base():
    def prog(L):
        x = L.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        a = x * 1
        v = a.t()[0]        # a column of a
        early = a[1]        # a view taken before the write; its history must follow the write
        v.mul_(3)
        (a * a).sum().backward(retain_graph=True)
        g1 = x.grad.tolist()
        x.grad = None
        early.sum().backward()
        return g1, x.grad.tolist(), a.tolist()
    ref, out = _both(prog)
    assert out == ref


def test_setitem_with_a_value_that_requires_grad():
    def prog(L):
        x = L.tensor([1.0, 2.0, 3.0], requires_grad=True)
        z = L.zeros(2, 4)
        z[1, 1:] = x * 2
        z[0] = x.sum()
        (z * z).sum().backward()
        return z.requires_grad, x.grad.tolist(), z.tolist()
    ref, out = _both(prog)
    assert out == ref


def test_saved_tensor_modified_raises_like_torch():
    for L in (torch, tg):
        x = L.tensor([1.0, 2.0], requires_grad=True)
        a = x.exp()
        a.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            a.sum().backward()


def test_inplace_errors_match_torch():
    cases = [
        lambda L: L.tensor([1.0, 2.0], requires_grad=True)[0:1].mul_(2),               # view of a leaf
        lambda L: (L.tensor([1.0], requires_grad=True) * 1).expand(3).add_(1),         # overlapping memory
        lambda L: (L.tensor([1.0, 2.0], requires_grad=True) * 1).split(1)[0].mul_(2),  # multi-output view
        lambda L: (L.tensor([1.0, 2.0], requires_grad=True) * 1).unbind()[1].zero_(),
    ]
    for case in cases:
        for L in (torch, tg):
            with pytest.raises(RuntimeError):
                case(L)


def test_inplace_writes_through_views_and_not_into_copies():
    for L in (torch, tg):
        a = L.arange(6.0).reshape(2, 3)
        a[0].mul_(10)
        a.flip(0).add_(100)      # flip copies
        a.t()[2].fill_(-1)
        assert a.tolist() == [[0.0, 10.0, -1.0], [3.0, 4.0, -1.0]]


def test_relu_inplace_flag_is_real():
    for L in (torch, tg):
        x = L.tensor([-1.0, 2.0], requires_grad=True)
        a = x * 1
        assert L.nn.functional.relu(a, inplace=True) is a and a.tolist() == [0.0, 2.0]
        a.sum().backward()
        assert x.grad.tolist() == [0.0, 1.0]


UNARY_INPLACE = ("abs ceil cos exp expm1 floor log log1p neg reciprocal round rsqrt sigmoid sign sin sqrt square "
                 "tanh").split()


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace_variants_match_torch(name):
    def prog(L):
        x = L.tensor([0.5, 1.5, 2.25, -0.0], requires_grad=True, dtype=L.float64)
        a = x.abs() + 0.25 if name in ("log", "log1p", "rsqrt", "sqrt") else x * 1
        before = a * 3
        assert getattr(a, name + "_")() is a
        (a * a + before).sum().backward()
        return a.detach().numpy(), x.grad.numpy()
    (ra, rg), (oa, og) = _both(prog)
    np.testing.assert_allclose(oa, ra, rtol=1e-12)
    np.testing.assert_allclose(og, rg, rtol=1e-12)


def test_masked_fill_and_comparison_inplace_match_torch():
    def prog(L):
        v = L.tensor(3.0, requires_grad=True)
        z = L.zeros(3)
        z.masked_fill_(L.tensor([True, False, True]), v)
        (z * L.tensor([1.0, 2.0, 4.0])).sum().backward()
        c = L.tensor([1.0, 2.0, 3.0])
        c.eq_(L.tensor([1.0, 0.0, 3.0]))
        return z.tolist(), v.grad.item(), c.tolist()
    ref, out = _both(prog)
    assert out == ref


def test_fill_and_setitem_range_check_numbers_like_torch():
    cases = [lambda L: L.zeros(3, dtype=L.uint8).fill_(300), lambda L: L.zeros(3, dtype=L.uint8).fill_(-1),
             lambda L: L.zeros(3, dtype=L.uint8).fill_(L.tensor(300)), lambda L: L.zeros(2).fill_(1e300)]

    def setitem(L, v):
        t = L.zeros(3, dtype=L.uint8)
        t[0] = v
        return t
    cases += [lambda L, v=v: setitem(L, v) for v in (300, -1, 2.7)]
    for case in cases:
        outcomes = []
        for L in (torch, tg):
            try:
                outcomes.append(case(L).tolist())
            except (RuntimeError, OverflowError, ValueError) as e:
                outcomes.append(type(e).__name__)
        assert outcomes[0] == outcomes[1], outcomes


def test_copy_into_an_empty_tensor():
    # NumPy gives empty arrays zero strides; that is no shared memory (a zero-width layer's load_state_dict)
    t = tg.empty((0, 8))
    t.copy_(tg.zeros((0, 8)))
    assert tuple(t.shape) == (0, 8)
