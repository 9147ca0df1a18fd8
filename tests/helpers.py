"""One helper drives every op test: same inputs for us and PyTorch, compare forward (values, shape, dtype), then
every input's gradient under a random (non-uniform) upstream gradient."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg

# float16 keeps 11 bits: one rounding of a result is ~5e-4 of it
TOL = {np.float64: dict(rtol=1e-7, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-5),
       np.float16: dict(rtol=1e-2, atol=1e-2)}


def tol(dtype, scale=1.0):
    t = TOL[np.dtype(dtype).type]
    return dict(rtol=t["rtol"] * scale, atol=t["atol"] * scale)


def _to_np(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().cpu().numpy()


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_close(a, b, signed_zeros, **kw):
    np.testing.assert_allclose(a, b, equal_nan=True, **kw)     # NaN where torch has NaN, inf where it has inf
    if signed_zeros:    # assert_allclose takes -0.0 == 0.0
        zero = (a == 0) & (b == 0)
        np.testing.assert_array_equal(np.signbit(a[zero]), np.signbit(b[zero]), err_msg=kw.get("err_msg", ""))


def compare(ours, theirs, arrays, grad=True, rtol=None, atol=None, scale=1.0, requires_grad=None, seed=0,
            device=None, signed_zeros=False, oracle_dtype=None):
    """Run ours(*tg_tensors) and theirs(*torch_tensors) on the same numpy arrays and compare.

    arrays: numpy arrays (float ones get requires_grad unless requires_grad says otherwise) or other args passed
    through as they are. device: where our tensors live (torch stays on the CPU as the oracle). signed_zeros: zeros
    must carry torch's sign too. oracle_dtype: torch computes on the float arrays cast to it (float64, say), and
    its results are rounded back to our dtype before comparing. Returns (our outputs, torch outputs).
    """
    if requires_grad is None:
        requires_grad = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    a_t = [tg.tensor(a, requires_grad=bool(rg) and grad, device=device) if isinstance(a, np.ndarray) else a
           for a, rg in zip(arrays, requires_grad)]

    def oracle(a):
        return a.astype(oracle_dtype) if oracle_dtype is not None and a.dtype.kind == "f" else a
    b_t = [torch.tensor(oracle(a), requires_grad=bool(rg) and grad) if isinstance(a, np.ndarray) else a
           for a, rg in zip(arrays, requires_grad)]
    out_a, out_b = _outputs(ours(*a_t)), _outputs(theirs(*b_t))
    assert len(out_a) == len(out_b)
    fdt = next((a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"), np.float64)
    kw = tol(fdt, scale)
    if rtol is not None:
        kw["rtol"] = rtol
    if atol is not None:
        kw["atol"] = atol
    for oa, ob in zip(out_a, out_b):
        assert tuple(oa.shape) == tuple(ob.shape), f"shape {tuple(oa.shape)} != torch {tuple(ob.shape)}"
        assert device is None or oa.device == tg.device(device), f"output on {oa.device}, not {device}"
        want = str(ob.dtype).split(".")[-1]
        if oracle_dtype is not None and want == np.dtype(oracle_dtype).name:
            want = np.dtype(fdt).name
        assert str(oa.dtype).split(".")[-1] == want, f"dtype {oa.dtype} != torch {ob.dtype}"
        a = _to_np(oa)
        _assert_close(a, _to_np(ob).astype(a.dtype), signed_zeros, **kw)
    if not grad or not any(isinstance(t, tg.Tensor) and t.requires_grad for t in a_t):
        return out_a, out_b
    rng = np.random.default_rng(seed)
    diff = [(oa, ob) for oa, ob in zip(out_a, out_b) if isinstance(ob, torch.Tensor) and ob.requires_grad]
    if not diff:
        return out_a, out_b
    la, lb = 0, 0
    for oa, ob in diff:
        r = rng.standard_normal(tuple(ob.shape)).astype(_to_np(oa).dtype)
        la = (oa * tg.tensor(r, device=device)).sum() + la
        lb = (ob * torch.tensor(oracle(r))).sum() + lb
    la.backward()
    lb.backward()
    for i, (ta, tb) in enumerate(zip(a_t, b_t)):
        if isinstance(tb, torch.Tensor) and tb.requires_grad:
            if tb.grad is None:
                assert ta.grad is None or np.all(_to_np(ta.grad) == 0), f"input {i}: torch has no grad, we do"
                continue
            assert ta.grad is not None, f"input {i}: no gradient"
            assert tuple(ta.grad.shape) == tuple(tb.grad.shape)
            assert ta.grad.dtype == ta.dtype, f"input {i}: gradient {ta.grad.dtype} for a {ta.dtype} input"
            a = _to_np(ta.grad)
            _assert_close(a, _to_np(tb.grad).astype(a.dtype), signed_zeros, err_msg=f"gradient of input {i}", **kw)
    return out_a, out_b


def raises_like(ours, theirs, *args):
    """Both libraries reject the input, with the same kind of exception."""
    with pytest.raises(Exception) as eb:
        theirs(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    with pytest.raises(Exception) as ea:
        ours(*[tg.tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    kinds = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)
    want = next(k for k in kinds + (Exception,) if isinstance(eb.value, k))
    assert isinstance(ea.value, want), f"we raised {type(ea.value).__name__}: {ea.value}; torch raised " \
                                       f"{type(eb.value).__name__}: {eb.value}"
    return ea.value


def gradcheck(fn, *arrays):
    """Numeric gradient check in float64 of fn over the float arrays."""
    ts = [tg.tensor(np.asarray(a, np.float64), requires_grad=True) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
          else a for a in arrays]
    assert tg.autograd.gradcheck(fn, ts)


class Cube(tg.autograd.Function):
    """x^3 as a user-written Function, its backward in tensor ops (so it is twice differentiable)."""
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x * x * g
