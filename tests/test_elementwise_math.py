"""Edges of the issue-17 elementwise ops that the generated registry tests do not draw: errors, non-finite and
out-of-domain inputs, ties of clamp's tensor bounds, a number as xlogy's first operand."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg


def test_clamp_tensor_bounds_ties_go_to_the_input_like_torch():
    x, lo, hi = [0.5, 1.0, -2.0, 3.0], [0.5, 0.0, -1.0, 0.0], [1.0, 1.0, 2.0, -1.0]  # ties and min > max
    ours = [tg.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    tg.clamp(*ours).sum().backward()
    torch.clamp(*theirs).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_clamp_refuses_a_tensor_bound_beside_a_number():
    with pytest.raises(TypeError):
        torch.clamp(torch.ones(2), torch.zeros(2), 1.0)
    with pytest.raises(TypeError, match="invalid combination"):
        tg.clamp(tg.ones(2), tg.zeros(2), 1.0)


@pytest.mark.parametrize("op", ["erf", "erfc", "erfinv"])
def test_error_functions_at_the_edges_match_torch(op):
    v = [-1.5, -1.0, -0.999999, -1e-300, 0.0, 1e-8, 0.5, 0.999999, 1.0, 2.0, 7.0, float("inf"), float("nan")]
    np.testing.assert_allclose(getattr(tg, op)(tg.tensor(v, dtype=tg.float64)).numpy(),
                               getattr(torch, op)(torch.tensor(v, dtype=torch.float64)).numpy(),
                               rtol=1e-10 if op == "erfinv" else 1e-13, atol=0, equal_nan=True)  # erfinv is
    # ill-conditioned near +-1: a last-bit change of x moves it by ~1e-11 relative


@pytest.mark.parametrize("op", ["atan2", "hypot", "logaddexp", "logaddexp2"])
def test_tensor_only_binaries_refuse_numbers(op):
    with pytest.raises(TypeError, match="must be Tensor"):
        getattr(tg, op)(tg.ones(2), 2.0)


@pytest.mark.parametrize("op", ["hypot", "logaddexp", "frac"])
def test_float_only_kernels_refuse_integers(op):
    args = (tg.tensor([1, 2]),) * (1 if op == "frac" else 2)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        getattr(tg, op)(*args)


def test_lerp_refuses_mixed_dtypes_like_torch():
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        tg.lerp(tg.ones(2), tg.ones(2, dtype=tg.float64), 0.5)


def test_xlogy_takes_a_number_first_and_zero_times_log_zero_is_zero():
    y = [0.0, 1.0, 2.0, float("nan")]
    np.testing.assert_allclose(tg.xlogy(2.0, tg.tensor(y)).numpy(), torch.xlogy(2.0, torch.tensor(y)).numpy(),
                               equal_nan=True)
    x = [0.0, 0.0, 1.0, 0.0]
    np.testing.assert_array_equal(tg.xlogy(tg.tensor(x), tg.tensor(y)).numpy(),
                                  torch.xlogy(torch.tensor(x), torch.tensor(y)).numpy())


def test_nan_to_num_defaults_to_the_dtype_limits():
    v = [float("nan"), float("inf"), -float("inf"), 1.5]
    for dt, tdt in ((tg.float16, torch.float16), (tg.float32, torch.float32)):
        np.testing.assert_array_equal(tg.nan_to_num(tg.tensor(v, dtype=dt)).numpy(),
                                      torch.nan_to_num(torch.tensor(v, dtype=tdt)).numpy())
