"""Shape ops and indexing against PyTorch, forward and scatter-add backward."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_fer as tg
from helpers import compare, gradcheck, raises_like
from strategies import DTYPES, arrays, shapes


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_reshape_flatten_permute(dtype, data):
    shp = data.draw(shapes(min_dims=1))
    a = data.draw(arrays(shp, dtype))
    perm = data.draw(st.permutations(range(len(shp))))
    start = data.draw(st.integers(0, len(shp) - 1))
    compare(lambda x: x.reshape(-1, 1), lambda x: x.reshape(-1, 1), [a])
    compare(lambda x: x.permute(*perm).flatten(start), lambda x: x.permute(*perm).flatten(start), [a])
    compare(lambda x: x.transpose(0, -1).contiguous().view(-1), lambda x: x.transpose(0, -1).contiguous().view(-1),
            [a])
    compare(lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim))), [a])


@given(data=st.data())
def test_squeeze_unsqueeze_expand(data):
    shp = data.draw(shapes(min_dims=1, max_side=3))
    a = data.draw(arrays(shp))
    d = data.draw(st.integers(-len(shp) - 1, len(shp)))
    compare(lambda x: x.unsqueeze(d).squeeze(), lambda x: x.unsqueeze(d).squeeze(), [a])
    e = data.draw(st.integers(-len(shp), len(shp) - 1))
    compare(lambda x: x.squeeze(e), lambda x: x.squeeze(e), [a])
    target = tuple(3 if s == 1 else s for s in shp)
    compare(lambda x: x.expand(2, *target), lambda x: x.expand(2, *target), [a])
    compare(lambda x: x.expand(-1, *shp[1:]), lambda x: x.expand(-1, *shp[1:]), [a])


@given(data=st.data())
def test_cat_stack_split_chunk(data):
    shp = data.draw(shapes(min_dims=1, max_dims=3))
    d = data.draw(st.integers(-len(shp), len(shp) - 1))
    a, b = data.draw(arrays(shp)), data.draw(arrays(shp))
    compare(lambda x, y: tg.cat([x, y, x], d), lambda x, y: torch.cat([x, y, x], d), [a, b])
    compare(lambda x, y: tg.stack([x, y], d), lambda x, y: torch.stack([x, y], d), [a, b])
    k = data.draw(st.integers(1, 4))
    compare(lambda x: x.split(k, d), lambda x: x.split(k, d), [a])
    compare(lambda x: x.chunk(k, d), lambda x: x.chunk(k, d), [a])


def test_split_sizes_and_unbind():
    a = np.arange(12.0).reshape(6, 2)
    compare(lambda x: x.split([1, 2, 3]), lambda x: x.split([1, 2, 3]), [a])
    compare(lambda x: x.unbind(1), lambda x: x.unbind(1), [a])
    raises_like(lambda x: x.split([1, 2]), lambda x: x.split([1, 2]), a)


@pytest.mark.parametrize("p", [(1, 2), (0, 1, 2, 0), (1, 1, 1, 1, 1, 1), (-1, 2), (2, -1, 0, 1)])
def test_pad(p):
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    compare(lambda x: tg.nn_pad(x, p) if hasattr(tg, "nn_pad") else tg.ops.movement.pad(x, p, value=0.5),
            lambda x: torch.nn.functional.pad(x, p, value=0.5), [a])


INDICES = [
    lambda: 1, lambda: -1, lambda: slice(None, None, 2), lambda: (slice(1, None), 0), lambda: (None, Ellipsis, 1),
    lambda: (Ellipsis, slice(None, 1)), lambda: ([0, 0, 1],), lambda: ([1, 0], slice(None), [0, 2]),
    lambda: (np.array([[0, 1], [1, 1]]),), lambda: (slice(None), [2, 2, 0]),
    lambda: "bool", lambda: ("tensor",),
]


@pytest.mark.parametrize("k", range(len(INDICES)))
@pytest.mark.parametrize("dtype", DTYPES)
def test_getitem(k, dtype):
    rng = np.random.default_rng(k)
    a = rng.standard_normal((3, 4, 3)).astype(dtype)
    idx = INDICES[k]()
    if isinstance(idx, str):
        m = rng.random((3, 4)) > 0.5
        compare(lambda x: x[tg.tensor(m)], lambda x: x[torch.tensor(m)], [a])
        return
    if isinstance(idx, tuple) and idx and isinstance(idx[0], str):
        i = np.array([2, 0, 2])
        compare(lambda x: x[tg.tensor(i)], lambda x: x[torch.tensor(i)], [a])
        return
    compare(lambda x: x[idx], lambda x: x[idx], [a])


def test_getitem_repeated_index_accumulates():
    a = np.arange(5.0)
    compare(lambda x: x[[0, 0, 0, 4]] * tg.tensor([1.0, 2.0, 3.0, 4.0]),
            lambda x: x[[0, 0, 0, 4]] * torch.tensor([1.0, 2.0, 3.0, 4.0]), [a])
    gradcheck(lambda x: x[[0, 0, 1], 1:] ** 2, np.arange(6.0).reshape(3, 2))


def test_index_errors():
    raises_like(lambda x: x[5], lambda x: x[5], np.ones(3))
    raises_like(lambda x: x[tg.tensor([0.5])], lambda x: x[torch.tensor([0.5])], np.ones(3))
    raises_like(lambda x: x[0, 0, 0], lambda x: x[0, 0, 0], np.ones((2, 2)))


def test_setitem_no_grad():
    x = tg.zeros(3, 4)
    x[1] = 5.0
    x[:, 2] = tg.tensor([1.0, 2.0, 3.0])
    x[tg.tensor([True, False, True])] = 7.0
    t = torch.zeros(3, 4)
    t[1] = 5.0
    t[:, 2] = torch.tensor([1.0, 2.0, 3.0])
    t[torch.tensor([True, False, True])] = 7.0
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    w = tg.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        w[0] = 1.0
    with tg.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0]


def test_movement_errors():
    raises_like(lambda x: x.reshape(5), lambda x: x.reshape(5), np.ones((2, 3)))
    raises_like(lambda x: x.view(-1, -1), lambda x: x.view(-1, -1), np.ones((2, 3)))
    raises_like(lambda x: x.permute(0, 0), lambda x: x.permute(0, 0), np.ones((2, 3)))
    raises_like(lambda x: x.expand(3, 4), lambda x: x.expand(3, 4), np.ones((2, 4)))
    raises_like(lambda x: tg.cat([x, x[:, :1].reshape(1, 2, 1)]), lambda x: torch.cat([x, x[:, :1].reshape(1, 2, 1)]),
                np.ones((2, 3)))
    raises_like(lambda x: x.transpose(1, 0).view(6), lambda x: x.transpose(1, 0).view(6), np.ones((2, 3)))


@pytest.mark.parametrize("fn", [lambda x: x.permute(2, 0, 1).reshape(4, 6), lambda x: x.expand(2, 2, 3, 4),
                                lambda x: tg.cat([x, x * 2], 1), lambda x: tg.stack([x, x], 3),
                                lambda x: x[1:, ::2, [0, 3]], lambda x: tg.ops.movement.pad(x, (1, 2)),
                                lambda x: x.flip(1), lambda x: x.repeat(2, 1, 2)])
def test_movement_gradcheck(fn):
    gradcheck(fn, np.random.default_rng(1).standard_normal((2, 3, 4)))


def test_flip_repeat():
    a = np.random.default_rng(2).standard_normal((2, 3))
    compare(lambda x: x.flip(0), lambda x: x.flip(0), [a])
    compare(lambda x: x.repeat(2, 3), lambda x: x.repeat(2, 3), [a])
    compare(lambda x: x.repeat(2, 1, 3), lambda x: x.repeat(2, 1, 3), [a])
