"""tinygrad_fer.linalg beyond the registry's samples: results by name, the triangle a factorization reads, singular
inputs (det's gradient through the SVD, logdet's NaN), the non-differentiable QR modes, and errors as PyTorch's."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import compare, raises_like


def test_results_by_name():
    a = np.random.default_rng(0).standard_normal((3, 3))
    want = torch.linalg.slogdet(torch.tensor(a)).logabsdet
    assert np.allclose(tg.linalg.slogdet(tg.tensor(a)).logabsdet.numpy(), want)
    q = tg.linalg.qr(tg.tensor(a))
    assert np.allclose((q.Q @ q.R).numpy(), a)
    u = tg.linalg.svd(tg.tensor(a))
    assert np.allclose((u.U * u.S[None, :] @ u.Vh).numpy(), a)
    s = tg.linalg.eigh(tg.tensor(a + a.T))
    assert np.allclose((s.eigenvectors * s.eigenvalues[None, :] @ s.eigenvectors.mT).numpy(), a + a.T)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_one_triangle_like_torch(uplo):
    a = np.random.default_rng(1).standard_normal((2, 3, 3))     # not symmetric: only the UPLO triangle counts
    compare(lambda x: tg.linalg.eigvalsh(x, UPLO=uplo), lambda x: torch.linalg.eigvalsh(x, UPLO=uplo), [a])


def test_cholesky_reads_the_lower_triangle_like_torch():
    a = np.random.default_rng(2).standard_normal((3, 3))
    a = a @ a.T + 3 * np.eye(3)
    a[0, 2] = 100.0      # the upper triangle is ignored, and gets PyTorch's (non-symmetric) gradient
    compare(tg.linalg.cholesky, torch.linalg.cholesky, [a])


def test_det_of_singular_matrix_has_the_adjugate_as_gradient():
    # rank n - 1: the gradient (the transposed adjugate) is not zero. PyTorch 2.13 returns 0 here (g * det * A^-T
    # with det = 0); ours is the derivative, as finite differences confirm.
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.det(x).backward()
    adj_t = np.array([[14.0, -1.0, -4.0], [-7.0, 0.5, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(x.grad.numpy(), adj_t, atol=1e-12)
    assert tg.autograd.gradcheck(tg.linalg.det, [tg.tensor(a, requires_grad=True)])
    b = np.zeros((2, 2, 2))                                                # rank 0: a zero gradient, as PyTorch's
    compare(tg.linalg.det, torch.linalg.det, [b])


def test_logdet_is_nan_for_negative_determinant_with_zero_gradient():
    a = np.diag([-2.0, 1.0, 3.0]) + 0.1
    compare(tg.logdet, torch.logdet, [a])


def test_qr_modes_that_torch_cannot_differentiate():
    a = tg.tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
    q, r = tg.linalg.qr(a, mode="r")
    assert tuple(q.shape) == (0,) and tuple(r.shape) == (3, 3)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()
    q, r = tg.linalg.qr(a, mode="complete")
    assert tuple(q.shape) == (4, 4)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        q.sum().backward()


def test_torch_svd_without_uv_gives_zero_matrices():
    a = np.random.default_rng(4).standard_normal((4, 3))
    u, s, v = tg.svd(tg.tensor(a), compute_uv=False)
    tu, ts, tv = torch.svd(torch.tensor(a), compute_uv=False)
    assert tuple(u.shape) == tuple(tu.shape) and tuple(v.shape) == tuple(tv.shape) and not u.numpy().any()
    np.testing.assert_allclose(s.numpy(), ts.numpy())


def test_solve_broadcasts_batches():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 3, 2))
    compare(tg.linalg.solve, torch.linalg.solve, [a, b])


def test_singular_and_non_pd_inputs_raise_linalg_errors():
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.inv(tg.zeros(2, 2))
    with pytest.raises(RuntimeError):
        tg.linalg.solve(tg.zeros(2, 2), tg.ones(2))
    with pytest.raises(tg.linalg.LinAlgError, match="positive-definite"):
        tg.linalg.cholesky(tg.tensor([[1.0, 2.0], [2.0, 1.0]]))


@pytest.mark.parametrize("fn,args", [
    ("inv", [np.ones((2, 3))]), ("inv", [np.ones(3)]), ("inv", [np.ones((2, 2), np.int64)]),
    ("det", [np.ones((3, 2))]), ("slogdet", [np.ones((2, 2), np.int64)]), ("cholesky", [np.ones((2, 3))]),
    ("solve", [np.eye(3), np.ones((2, 2))]), ("solve", [np.eye(3), np.ones(3, np.float32)]),
    ("eigh", [np.ones((2, 3))]), ("qr", [np.ones(3)]), ("svd", [np.ones(3)]), ("svdvals", [np.ones(3, np.int64)]),
    ("matrix_norm", [np.ones(3)]), ("vector_norm", [np.ones(3, np.int64)]), ("matrix_power", [np.ones((2, 3)), 2]),
    ("multi_dot", [[np.ones((2, 2))]]), ("norm", [np.ones((2, 2, 2)), 2])])
def test_errors_like_torch(fn, args):
    def wrap(lib):
        def f(*a):
            a = [[lib.tensor(x) for x in v] if isinstance(v, list) else v for v in a]
            return getattr(lib.linalg, fn)(*a)
        return f
    raises_like(wrap(tg), wrap(torch), *args)


@pytest.mark.parametrize("p", ["fro", 1, -1, float("inf")])
def test_cond_in_norms_torch_cannot_differentiate(p):
    # PyTorch 2.13's backward fails here (an in-place write into inv's output): values against it, gradient numeric
    a = np.random.default_rng(6).standard_normal((2, 3, 3)) + 2 * np.eye(3)
    np.testing.assert_allclose(tg.linalg.cond(tg.tensor(a), p).numpy(), torch.linalg.cond(torch.tensor(a), p).numpy())
    assert tg.autograd.gradcheck(lambda x: tg.linalg.cond(x, p), [tg.tensor(a, requires_grad=True)])


def test_vander_gradient_numerically():
    # PyTorch 2.13's torch.vander backward fails (in-place cumprod), so ours is checked against finite differences
    x = np.array([0.0, 1.5, -2.0])
    np.testing.assert_array_equal(tg.vander(tg.tensor(x), N=4).numpy(), torch.vander(torch.tensor(x), N=4).numpy())
    assert tg.autograd.gradcheck(lambda t: tg.vander(t, N=4, increasing=True), [tg.tensor(x, requires_grad=True)])


def test_pinv_hermitian_and_tolerances_like_torch():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 3))
    compare(lambda x: tg.linalg.pinv(x + x.mT, hermitian=True), lambda x: torch.linalg.pinv(x + x.mT, hermitian=True),
            [a])
    low_rank = rng.standard_normal((4, 2)) @ rng.standard_normal((2, 3))        # rank 2: one singular value cut
    got = tg.linalg.pinv(tg.tensor(low_rank), rtol=1e-8).numpy()
    np.testing.assert_allclose(got, torch.linalg.pinv(torch.tensor(low_rank), rtol=1e-8).numpy(), atol=1e-10)
    assert tg.linalg.matrix_rank(tg.tensor(low_rank)).item() == 2


def test_matrix_exp_of_large_norm_and_its_double_backward():
    a = np.random.default_rng(8).standard_normal((3, 3)) * 6
    compare(tg.linalg.matrix_exp, torch.linalg.matrix_exp, [a], rtol=1e-9)
    assert tg.autograd.gradgradcheck(tg.linalg.matrix_exp, [tg.tensor(a / 6, requires_grad=True)])


def test_ex_variants_report_failures_in_info_like_torch():
    sing = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 3.0]]])
    for name in ("inv_ex", "lu_factor_ex"):
        got = getattr(tg.linalg, name)(tg.tensor(sing))
        want = getattr(torch.linalg, name)(torch.tensor(sing))
        np.testing.assert_array_equal(got.info.numpy(), want.info.numpy())
    np.testing.assert_allclose(tg.linalg.inv_ex(tg.tensor(sing)).inverse.numpy()[1], np.diag([0.5, 1 / 3]))
    lu, piv, _ = tg.linalg.lu_factor_ex(tg.tensor(sing))
    tlu, tpiv, _ = torch.linalg.lu_factor_ex(torch.tensor(sing))
    np.testing.assert_allclose(lu.numpy(), tlu.numpy())
    np.testing.assert_array_equal(piv.numpy(), tpiv.numpy())
    not_pd = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert tg.linalg.cholesky_ex(tg.tensor(not_pd)).info.item() == torch.linalg.cholesky_ex(torch.tensor(not_pd)).info
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.lu_factor(tg.tensor(sing))
    with pytest.raises(tg.linalg.LinAlgError):
        tg.linalg.inv_ex(tg.tensor(sing), check_errors=True)


@pytest.mark.parametrize("case", ["columns", "negative_p", "pdist_3d", "cdist_int"])
def test_distance_errors_like_torch(case):
    calls = {"columns": lambda lib, a: lib.cdist(a, a[:, :2]), "negative_p": lambda lib, a: lib.cdist(a, a, p=-1.0),
             "pdist_3d": lambda lib, a: lib.pdist(a[None]), "cdist_int": lambda lib, a: lib.cdist(a.long(), a.long())}
    raises_like(lambda a: calls[case](tg, a), lambda a: calls[case](torch, a), np.ones((3, 4)))


def test_distances_of_equal_rows_have_zero_gradient_like_torch():
    x = np.array([[1.0, 2.0], [1.0, 2.0], [0.5, -1.0]])
    compare(tg.pdist, torch.pdist, [x])
    compare(tg.cdist, torch.cdist, [x, x[:2]])
