"""matmul with PyTorch's 1-D, 2-D and batched (broadcast) cases; the fused linear op."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinygrad_fer as tg
from helpers import compare, gradcheck, raises_like
from strategies import DTYPES, arrays


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 5)) for _ in range(3))
    kind = draw(st.sampled_from(["1x1", "1x2", "2x1", "2x2", "bx2", "2xb", "bxb", "bcast"]))
    b1 = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    return {"1x1": ((k,), (k,)), "1x2": ((k,), (k, m)), "2x1": ((n, k), (k,)), "2x2": ((n, k), (k, m)),
            "bx2": (b1 + (n, k), (k, m)), "2xb": ((n, k), b1 + (k, m)), "bxb": (b1 + (n, k), b1 + (k, m)),
            "bcast": ((1,) + b1 + (n, k), (2,) + tuple(1 for _ in b1) + (k, m))}[kind]


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_matmul(dtype, data):
    sa, sb = data.draw(matmul_shapes())
    a, b = data.draw(arrays(sa, dtype)), data.draw(arrays(sb, dtype))
    compare(lambda x, y: x @ y, lambda x, y: x @ y, [a, b], scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@given(data=st.data())
def test_linear(dtype, bias, data):
    lead = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    i, o = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    x, w = data.draw(arrays(lead + (i,), dtype)), data.draw(arrays((o, i), dtype))
    args = [x, w] + ([data.draw(arrays((o,), dtype))] if bias else [])
    compare(lambda *t: tg.ops.matmul.linear(*t), lambda *t: torch.nn.functional.linear(*t), args, scale=10)


def test_matmul_gradcheck():
    rng = np.random.default_rng(0)
    gradcheck(lambda a, b: a @ b, rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5)))
    gradcheck(lambda a, b: a @ b, rng.standard_normal(4), rng.standard_normal((2, 4, 3)))
    gradcheck(lambda x, w, b: tg.ops.matmul.linear(x, w, b), rng.standard_normal((3, 4)),
              rng.standard_normal((2, 4)), rng.standard_normal(2))


def test_matmul_errors_name_shapes():
    e = raises_like(lambda a, b: a @ b, lambda a, b: a @ b, np.ones((2, 3)), np.ones((4, 5)))
    assert "2x3" in str(e) and "4x5" in str(e)
    raises_like(lambda a, b: a @ b, lambda a, b: a @ b, np.ones(()), np.ones(3))
    raises_like(lambda a, b: a @ b, lambda a, b: a @ b, np.ones((2, 3)), np.ones((3, 2), np.float32))
