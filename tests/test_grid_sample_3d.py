"""5-D (volumetric) grid_sample against torch: trilinear ('bilinear') and nearest, every padding mode, align_corners
both ways, values and the gradients of input and grid in float32 and float64; 5-D affine_grid feeding it, with the
gradient reaching theta; torch's errors for 5-D arguments."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_fer as tg
import tinygrad_fer.nn.functional as F


def _tol(dt):
    return dict(rtol=1e-4, atol=5e-5) if dt == "float32" else dict(rtol=1e-11, atol=1e-12)


def _backward(out, g, lib):
    (out * lib.tensor(g)).sum().backward()


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_values_and_gradients_match_torch(mode, padding_mode, align_corners, dt):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5, 3)).astype(dt)
    grid = rng.uniform(-1.3, 1.3, (2, 3, 2, 4, 3)).astype(dt)      # some points outside the volume
    ours = [tg.tensor(a, requires_grad=True) for a in (x, grid)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, grid)]
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    got, want = F.grid_sample(*ours, **kw), TF.grid_sample(*theirs, **kw)
    assert tuple(got.shape) == tuple(want.shape) == (2, 3, 3, 2, 4) and got.dtype.name == dt
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), **_tol(dt))
    g = rng.standard_normal(tuple(want.shape)).astype(dt)
    _backward(got, g, tg)
    _backward(want, g, torch)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **_tol(dt))


def test_grid_points_on_voxels_read_them_exactly():
    # align_corners=True puts -1 and 1 on the corner voxels: sampling at voxel centres returns the voxels
    x = np.arange(2 * 3 * 4, dtype=np.float64).reshape(1, 1, 2, 3, 4)
    z, y, xx = np.meshgrid(np.linspace(-1, 1, 2), np.linspace(-1, 1, 3), np.linspace(-1, 1, 4), indexing="ij")
    grid = np.stack([xx, y, z], -1)[None]
    for mode in ("bilinear", "nearest"):
        out = F.grid_sample(tg.tensor(x), tg.tensor(grid), mode=mode, align_corners=True).numpy()
        np.testing.assert_allclose(out, x, atol=1e-12)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_5d_through_grid_sample_matches_torch(align_corners, dt):
    rng = np.random.default_rng(1)
    theta = (np.eye(3, 4) + rng.normal(0, 0.2, (2, 3, 4))).astype(dt)
    x = rng.standard_normal((2, 2, 3, 4, 5)).astype(dt)
    to, xo = tg.tensor(theta, requires_grad=True), tg.tensor(x, requires_grad=True)
    tt, xt = torch.tensor(theta, requires_grad=True), torch.tensor(x, requires_grad=True)
    size = (2, 2, 4, 3, 5)
    got = F.grid_sample(xo, F.affine_grid(to, size, align_corners=align_corners), align_corners=align_corners)
    want = TF.grid_sample(xt, TF.affine_grid(tt, size, align_corners=align_corners), align_corners=align_corners)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), **_tol(dt))
    g = rng.standard_normal(tuple(want.shape)).astype(dt)
    _backward(got, g, tg)
    _backward(want, g, torch)
    np.testing.assert_allclose(to.grad.numpy(), tt.grad.numpy(), **_tol(dt))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **_tol(dt))


@pytest.mark.parametrize("x_shape, grid_shape, kw", [
    ((1, 2, 3, 4, 5), (1, 2, 2, 2, 2), {}),
    ((1, 2, 3, 4, 5), (1, 2, 2, 2, 3), dict(mode="bicubic")),
    ((1, 2, 3, 4, 5), (1, 2, 2, 3), {}),
    ((1, 2, 3, 4), (1, 2, 2, 2, 3), {}),
    ((1, 2, 3, 4, 5), (2, 2, 2, 2, 3), {}),
    ((1, 2, 3), (1, 2, 3), {}),
    ((1, 2, 3), (1, 2, 1), {}),
    ((1, 2, 3, 4), (1, 2, 2, 2, 2), {}),
    ((1, 2, 3, 4), (2, 2, 2, 3), {}),
    ((1, 2, 3, 4, 5, 6), (1, 2, 4), {}),
])
def test_errors_match_torch(x_shape, grid_shape, kw):
    x, grid = np.zeros(x_shape, np.float32), np.zeros(grid_shape, np.float32)
    with pytest.raises(Exception) as want:
        TF.grid_sample(torch.tensor(x), torch.tensor(grid), align_corners=False, **kw)
    with pytest.raises(type(want.value)) as got:
        F.grid_sample(tg.tensor(x), tg.tensor(grid), align_corners=False, **kw)
    assert str(got.value) == str(want.value)
