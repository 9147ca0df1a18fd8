"""einsum beyond the registry's samples: the sublist spelling, the pairwise contraction order, errors and dtypes
as PyTorch's; and the scaled products' special cases (beta=0 ignores NaN in input, bool addr)."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer.ops import einsum as einsum_mod
from helpers import compare, raises_like


def test_sublist_spelling_matches_equation():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    compare(lambda x, y: tg.einsum(x, [0, 1], y, [1, 2], [2, 0]),
            lambda x, y: torch.einsum(x, [0, 1], y, [1, 2], [2, 0]), [a, b])
    compare(lambda x: tg.einsum(x, [Ellipsis, 1]), lambda x: torch.einsum(x, [Ellipsis, 1]), [a])
    compare(lambda x, y: tg.einsum("ij,jk", [x, y]), lambda x, y: torch.einsum("ij,jk", [x, y]), [a, b])


def test_greedy_order_contracts_the_small_pair_first(monkeypatch):
    calls = []
    pair = einsum_mod._pair

    def spy(xp, la, a, lb, b, keep, sizes):
        calls.append([a.shape, b.shape])
        return pair(xp, la, a, lb, b, keep, sizes)
    monkeypatch.setattr(einsum_mod, "_pair", spy)
    a, b, c = np.ones((50, 2)), np.ones((2, 50)), np.ones((50, 2))
    out = einsum_mod._contract(np, [([0, 1], a), ([1, 2], b), ([2, 3], c)], [0, 3], {0: 50, 1: 2, 2: 50, 3: 2})
    np.testing.assert_allclose(out, a @ b @ c)
    # (j,k)x(k,l) makes a 2x2; (i,j)x(j,k) would make a 50x50 intermediate
    assert calls[0] == [(2, 50), (50, 2)], calls


def test_chain_gradient_against_torch():
    rng = np.random.default_rng(1)
    arrs = [rng.standard_normal(s) for s in ((3, 4), (4, 5), (5, 2), (2,))]
    compare(lambda *x: tg.einsum("ij,jk,kl,l->i", *x), lambda *x: torch.einsum("ij,jk,kl,l->i", *x), arrs)


@pytest.mark.parametrize("eq,shapes", [("ij,jk", [(2, 3)]), ("ij,jk", [(2, 3), (3, 4), (4,)]), ("ijk", [(2, 3)]),
                                       ("ij,j", [(2, 3), (2,)]), ("ij->ii", [(2, 2)]), ("i->j", [(2,)]),
                                       ("i.j", [(2, 2)]), ("i1", [(2, 2)])])
def test_errors_like_torch(eq, shapes):
    arrays = [np.ones(s) for s in shapes]
    raises_like(lambda *x: tg.einsum(eq, *x), lambda *x: torch.einsum(eq, *x), *arrays)


@pytest.mark.parametrize("eq,shapes,dt", [
    ("ij,jk->ik", [(2, 3), (3, 2)], np.int32), ("ij->i", [(2, 3)], np.int32), ("ij,j->", [(2, 3), (3,)], np.int32),
    ("ij,kl->", [(2, 3), (2, 3)], np.bool_), ("ij,ij->i", [(2, 3), (2, 3)], np.bool_),
    ("i,j->ij", [(2,), (3,)], np.bool_)])
def test_integer_and_bool_dtypes_like_torch(eq, shapes, dt):
    arrays = [np.ones(s, dt) for s in shapes]
    try:
        want = torch.einsum(eq, *[torch.tensor(a) for a in arrays])
    except (RuntimeError, NotImplementedError):
        raises_like(lambda *x: tg.einsum(eq, *x), lambda *x: torch.einsum(eq, *x), *arrays)
        return
    got = tg.einsum(eq, *[tg.tensor(a) for a in arrays])
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_beta_zero_ignores_nan_input_but_still_gives_it_a_gradient():
    x = np.full((2, 2), np.nan)
    rng = np.random.default_rng(2)
    m1, m2 = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    compare(lambda a, b, c: tg.addmm(a, b, c, beta=0), lambda a, b, c: torch.addmm(a, b, c, beta=0), [x, m1, m2])


def test_addr_bool_and_promotion_like_torch():
    v = np.array([True, False])
    for beta, alpha in ((1, 1), (0, 1), (False, True)):
        want = torch.addr(torch.tensor(v), torch.tensor(v), torch.tensor(~v), beta=beta, alpha=alpha)
        got = tg.addr(tg.tensor(v), tg.tensor(v), tg.tensor(~v), beta=beta, alpha=alpha)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = tg.addr(tg.ones(2, 2), tg.ones(2, dtype=tg.float64), tg.ones(2))
    assert got.dtype == tg.float64


def test_out_argument():
    out = tg.empty(2, 2)
    r = tg.addmm(tg.ones(2, 2), tg.ones(2, 3), tg.ones(3, 2), out=out)
    assert r is out
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 4.0))
