"""F.interpolate(..., antialias=True) against torch: bilinear, bicubic and lanczos, downsampling and upsampling, odd
sizes, sizes and scale factors (recomputed or not), align_corners both ways where torch takes it; values and input
gradients in float32 and float64; torch's argument errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_fer as tg
import tinygrad_fer.nn.functional as F

SIZES = [((9, 13), (4, 5)), ((16, 16), (5, 7)), ((7, 5), (14, 11)), ((32, 17), (3, 2)), ((10, 10), (10, 10)),
         ((9, 13), (1, 1)), ((5, 8), (12, 3))]


def _tol(dt):
    return dict(rtol=1e-5, atol=5e-6) if dt == "float32" else dict(rtol=1e-12, atol=1e-13)


def _compare(x, dt, **kw):
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = F.interpolate(xo, antialias=True, **kw), TF.interpolate(xt, antialias=True, **kw)
    assert tuple(got.shape) == tuple(want.shape) and got.dtype.name == dt
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), **_tol(dt))
    g = np.random.default_rng(1).standard_normal(tuple(want.shape)).astype(dt)
    (got * tg.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **_tol(dt))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("sizes", SIZES)
def test_sizes_match_torch(sizes, mode, align_corners, dt):
    (h, w), out = sizes
    x = np.random.default_rng(0).standard_normal((2, 3, h, w)).astype(dt)
    _compare(x, dt, size=out, mode=mode, align_corners=align_corners)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("recompute", [None, True])
@pytest.mark.parametrize("scale", [0.3, 0.5, 1 / 3, (0.7, 1.6), 2.5])
@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos"])
def test_scale_factors_match_torch(mode, scale, recompute, dt):
    x = np.random.default_rng(2).standard_normal((1, 2, 11, 14)).astype(dt)
    _compare(x, dt, scale_factor=scale, mode=mode, recompute_scale_factor=recompute)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("sizes", SIZES)
def test_lanczos_sizes_match_torch(sizes, dt):
    (h, w), out = sizes
    x = np.random.default_rng(3).standard_normal((1, 2, h, w)).astype(dt)
    _compare(x, dt, size=out, mode="lanczos")


def test_downsampling_averages_every_input_sample():
    # the point of antialiasing: a 3x bilinear downsample of stripes samples single stripes (+-1) unless the
    # filter is widened to cover all three
    x = np.tile(np.array([1.0, -1.0]), (1, 1, 9, 5))[..., :9]
    plain = F.interpolate(tg.tensor(x), size=(3, 3), mode="bilinear").numpy()
    smooth = F.interpolate(tg.tensor(x), size=(3, 3), mode="bilinear", antialias=True).numpy()
    assert np.abs(smooth).max() < 0.2 and np.abs(plain).min() == 1


def _same_error(ours, theirs):
    with pytest.raises(Exception) as want:
        theirs()
    with pytest.raises(type(want.value)) as got:
        ours()
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("shape, kw", [
    ((1, 1, 5, 5), dict(mode="nearest")),
    ((1, 1, 5, 5), dict(mode="area")),
    ((1, 1, 5, 5, 5), dict(mode="trilinear")),
    ((1, 1, 5), dict(mode="bilinear")),
    ((1, 1, 5, 5, 5), dict(mode="bicubic")),
    ((1, 1, 5, 5), dict(mode="no_such_mode")),
    ((1, 1, 5, 5), dict(mode="lanczos", antialias=False)),
    ((1, 1, 5, 5), dict(mode="lanczos", align_corners=True)),
    ((1, 1, 5), dict(mode="lanczos", antialias=False)),
    ((1, 1, 5, 5), dict(mode="bilinear", dtype="int64")),
    ((1, 1, 5, 5), dict(mode="bicubic", dtype="float16")),
])
def test_errors_match_torch(shape, kw):
    kw = dict(kw)
    dtype = kw.pop("dtype", "float32")
    kw.setdefault("antialias", True)
    x = np.zeros(shape, dtype)
    _same_error(lambda: F.interpolate(tg.tensor(x), size=3, **kw), lambda: TF.interpolate(torch.tensor(x), size=3,
                                                                                          **kw))


@pytest.mark.parametrize("dtype", ["bool", "int64", "float16", "float32"])
def test_unresized_input_is_copied_whatever_its_dtype(dtype):
    x = (np.arange(12).reshape(1, 1, 3, 4) % 3).astype(dtype)
    got = F.interpolate(tg.tensor(x), size=(3, 4), mode="bilinear", antialias=True)
    want = TF.interpolate(torch.tensor(x), size=(3, 4), mode="bilinear", antialias=True)
    assert got.dtype.name == str(want.dtype).split(".")[1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("width", [1, 2])
def test_width_one_output_is_resampled_where_torch_repeats_the_first_row(mode, width):
    """PyTorch 2.13's CPU kernel fills every row of a width-1 output with the first one when the height changes;
    ours resamples the rows, as torch itself does for the transposed image."""
    x = (np.arange(3.0 * width).reshape(1, 1, 3, width) + 1) ** 2
    got = F.interpolate(tg.tensor(x), size=(5, 1), mode=mode, antialias=True).numpy()
    quirk = TF.interpolate(torch.tensor(x), size=(5, 1), mode=mode, antialias=True).numpy()
    transposed = TF.interpolate(torch.tensor(x).transpose(2, 3), size=(1, 5), mode=mode, antialias=True).numpy()
    np.testing.assert_allclose(got, transposed.transpose(0, 1, 3, 2), rtol=1e-12)
    assert np.all(quirk == quirk.flat[0]) and not np.allclose(got, quirk)


def test_an_unchanged_dim_is_left_alone_whatever_the_scale_factor_says():
    """Torch's forward leaves the height alone (2 -> 2 at scale 1.3) and ours does too; torch's backward resamples
    it with the 1/1.3 scale, so its gradient is not its forward's derivative: ours equals torch's gradient of the
    same forward spelled with a scale of 1 for the height."""
    x = np.random.default_rng(4).standard_normal((1, 1, 2, 4))
    xo, xt, xs = (tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True),
                  torch.tensor(x, requires_grad=True))
    got = F.interpolate(xo, scale_factor=1.3, mode="bilinear", antialias=True)
    want = TF.interpolate(xt, scale_factor=1.3, mode="bilinear", antialias=True)
    same = TF.interpolate(xs, scale_factor=(1.0, 1.3), mode="bilinear", antialias=True)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(same.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(5).standard_normal(tuple(want.shape))
    for out, t in ((got, tg.tensor(g)), (want, torch.tensor(g)), (same, torch.tensor(g))):
        (out * t).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xs.grad.numpy(), rtol=1e-12)
    assert not np.allclose(xt.grad.numpy(), xs.grad.numpy())
