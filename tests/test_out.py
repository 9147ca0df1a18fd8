"""PyTorch's out= argument, against PyTorch on the same calls."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg

X = np.arange(6.0).reshape(2, 3) - 2.5


@pytest.mark.parametrize("out_shape", [(0,), "same", (7,)])
@pytest.mark.parametrize("name,args", [
    ("add", lambda L, a: (a, a)), ("mul", lambda L, a: (a, 3.0)), ("div", lambda L, a: (a, 2.0)),
    ("sub", lambda L, a: (a, a * 2)), ("matmul", lambda L, a: (a, a.T)), ("exp", lambda L, a: (a,)),
    ("sum", lambda L, a: (a, 1)), ("cat", lambda L, a: ([a, a],)), ("clamp", lambda L, a: (a, -1, 1)),
    ("multiply", lambda L, a: (a, a)), ("where", lambda L, a: (a > 0, a, a * 0)), ("stack", lambda L, a: ([a, a],)),
    ("maximum", lambda L, a: (a, a * 0)), ("mean", lambda L, a: (a, 0)), ("bmm", lambda L, a: (a[None], a.T[None])),
])
def test_out_writes_resizes_and_returns_out(name, args, out_shape):
    res = []
    for lib in (tg, torch):
        a = lib.tensor(X)
        want = getattr(lib, name)(*args(lib, a))
        out = lib.empty(tuple(want.shape) if out_shape == "same" else out_shape, dtype=lib.float64)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = getattr(lib, name)(*args(lib, a), out=out)
        assert got is out
        res.append((out.numpy().copy(), tuple(out.shape), [str(w.message)[:60] for w in caught
                                                          if "resized" in str(w.message)]))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    assert res[0][1:] == res[1][1:]


def test_out_errors_like_torch():
    for lib in (tg, torch):
        x = lib.ones(2, 3)
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
            lib.add(x, x, out=lib.empty(2, 3, dtype=lib.int64))
        with pytest.raises(TypeError, match=r"add\(\): argument 'out' must be Tensor, not list"):
            lib.add(x, x, out=[1])
        a = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"mul\(\): functions with out=\.\.\. arguments don't support "
                                               "automatic differentiation"):
            lib.mul(a, a, out=lib.empty(2))
        with lib.no_grad():
            assert lib.mul(a, a, out=lib.empty(2)).tolist() == [1.0, 1.0]
        i = lib.ones(2, dtype=lib.int64)
        assert lib.add(i, i, out=lib.empty(2)).dtype == lib.float32     # an integer result into a float out


def test_out_bumps_the_version_and_is_seen_by_views():
    out = tg.zeros(2, 3)
    view = out[0]
    v = out._version[0]
    tg.add(tg.ones(2, 3), 1, out=out)
    assert out._version[0] == v + 1 and view.tolist() == [2.0, 2.0, 2.0]
