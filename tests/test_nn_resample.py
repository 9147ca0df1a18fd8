"""pad's reflect/replicate/circular modes, interpolate's errors, and the Upsample / PixelShuffle modules against
PyTorch. (interpolate's and pixel_shuffle's values and gradients per mode are checked from the op registry by
tests/test_ops.py; pad's registry entry draws the constant mode, so the other modes' values and gradients are
compared here.)"""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn
from helpers import compare

F = nn.functional


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", [((2, 5), (1, 2)), ((2, 3, 6), (3, 0)), ((2, 3, 6), (-1, 2)),
                                       ((3, 4, 5), (1, 1, 2, 3)), ((1, 2, 4, 5), (2, -1, 0, 3)),
                                       ((2, 3, 3, 4), (0, 3, 1, 1, 2, 0)), ((1, 2, 3, 3, 4), (1, 2, 2, 1, 0, 2))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pad_modes_like_torch(mode, shape, pad, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    compare(lambda t: F.pad(t, pad, mode=mode), lambda t: torch.nn.functional.pad(t, pad, mode=mode), [x])
    assert tg.autograd.gradgradcheck(lambda t: F.pad(t, pad, mode=mode) ** 2, [tg.tensor(x.astype(np.float64),
                                                                                         requires_grad=True)])


def test_pad_mode_errors_like_torch():
    for lib in (tg, torch):
        f, x = lib.nn.functional.pad, lib.zeros((1, 5))
        with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D input tensor"):
            f(lib.zeros(5), (1, 1), mode="reflect")
        with pytest.raises(NotImplementedError, match="Padding size 4 is not supported for 2D input tensor"):
            f(x, (1, 1, 0, 0), mode="replicate")
        with pytest.raises(RuntimeError, match=r"Padding size should be less than the corresponding input "
                                               r"dimension, but got: padding \(5, 1\) at dimension 1"):
            f(x, (5, 1), mode="reflect")
        with pytest.raises(RuntimeError, match="Padding value causes wrapping around more than once"):
            f(x, (6, 2), mode="circular")
        with pytest.raises(RuntimeError, match='Padding mode "replicate" doesn\'t take in value argument'):
            f(x, (1, 1), mode="replicate", value=2.0)
        with pytest.raises(NotImplementedError, match="Unrecognised padding mode bogus"):
            f(x, (1, 1), mode="bogus")
        with pytest.raises(RuntimeError, match=r"Expected 2D or 3D \(batch mode\) tensor with possibly 0 batch size "
                                               r"and other non-zero dimensions for input, but got: \[1, 0, 3\]"):
            f(lib.zeros((1, 0, 3)), (1, 1), mode="reflect")
        assert tuple(f(lib.zeros((0, 3, 2)), (1, 1), mode="replicate").shape) == (0, 3, 4)


def test_interpolate_errors_like_torch():
    for lib in (tg, torch):
        f, x = lib.nn.functional.interpolate, lib.zeros((1, 1, 4, 4))
        with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
            f(x, size=2, scale_factor=2)
        with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
            f(x)
        with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
            f(x, scale_factor=2, align_corners=True)
        with pytest.raises(ValueError, match="Input and output must have the same number of spatial dimensions"):
            f(x, size=(2,))
        with pytest.raises(ValueError, match="Input and scale_factor must have the same number of spatial"):
            f(x, scale_factor=(2.0, 2.0, 2.0))
        with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful with an explicit size"):
            f(x, size=2, recompute_scale_factor=True)
        with pytest.raises(NotImplementedError, match="Got 4D input, but linear mode needs 3D input"):
            f(x, size=2, mode="linear")
        with pytest.raises(TypeError, match="expected size to be one of int or Tuple"):
            f(x, size=(2.5, 2))
        with pytest.raises(RuntimeError, match="pixel_shuffle expects its input's 'channel' dimension to be "
                                               "divisible by the square of upscale_factor"):
            lib.nn.functional.pixel_shuffle(lib.zeros((1, 3, 2, 2)), 2)
        with pytest.raises(RuntimeError, match="pixel_unshuffle expects width to be divisible by "
                                               "downscale_factor"):
            lib.nn.functional.pixel_unshuffle(lib.zeros((1, 1, 4, 3)), 2)
        with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. Got 5 channels and "
                                               "2 groups"):
            lib.nn.functional.channel_shuffle(lib.zeros((1, 5, 2)), 2)
        with pytest.raises(RuntimeError, match=r"channel_shuffle expects input with > 2 dims, but got input with "
                                               r"sizes \[5\]"):
            lib.nn.functional.channel_shuffle(lib.zeros(5), 1)
        with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
            f(lib.ones((1, 1, 2, 2), dtype=lib.int64), scale_factor=2)
        u8 = f(lib.tensor(np.arange(4, dtype=np.uint8).reshape(1, 1, 2, 2)), scale_factor=2)
        assert str(u8.dtype).endswith("uint8") and u8.numpy()[0, 0, 3, 3] == 3
        for fn in ("upsample_nearest", "upsample_bilinear"):
            with pytest.warns(UserWarning, match=f"`nn.functional.{fn}` is deprecated"):
                getattr(lib.nn.functional, fn)(x, scale_factor=2)
        with pytest.warns(UserWarning, match="`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate`"):
            lib.nn.functional.upsample(x, scale_factor=2)


@pytest.mark.parametrize("name,args,kw,shape", [
    ("Upsample", (), dict(scale_factor=2), (1, 2, 3, 3)),
    ("Upsample", (), dict(size=(5, 4), mode="bilinear"), (2, 1, 3, 3)),
    ("Upsample", (), dict(scale_factor=(1.5, 2), mode="bicubic", align_corners=True), (1, 1, 4, 3)),
    ("Upsample", (), dict(scale_factor=2.5, mode="linear", recompute_scale_factor=True), (2, 2, 5)),
    ("Upsample", (), dict(size=(2, 3, 4), mode="trilinear"), (1, 1, 3, 2, 2)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", (), dict(size=(7, 5)), (1, 2, 3, 3)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 2)),
    ("PixelUnshuffle", (3,), {}, (3, 6, 3)),
    ("ChannelShuffle", (3,), {}, (2, 6, 2, 1)),
])
def test_resample_modules_like_torch(name, args, kw, shape):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    for k in ("size", "scale_factor", "mode", "align_corners", "upscale_factor", "downscale_factor", "groups"):
        assert getattr(ours, k, None) == getattr(theirs, k, None), k
    assert list(ours.state_dict()) == []
    x = np.random.default_rng(0).standard_normal(shape)
    compare(ours, theirs, [x])


@pytest.mark.parametrize("mode,shape", [("nearest", (1, 1, 2)), ("nearest", (1, 1, 2, 2, 2)),
                                        ("bicubic", (1, 1, 2, 2))])
def test_interpolate_gradient_follows_its_forward_where_torchs_does_not(mode, shape):
    """With a scale factor that is not the size ratio (2 * 1.3 -> 2), PyTorch's forward uses the scale but its
    backward kernel the sizes; ours differentiates the forward it computed (the central-difference check), with
    the same values as PyTorch's forward."""
    x = np.random.default_rng(0).standard_normal(shape)
    kw = dict(scale_factor=1.3, mode=mode)
    np.testing.assert_allclose(F.interpolate(tg.tensor(x), **kw).numpy(),
                               torch.nn.functional.interpolate(torch.tensor(x), **kw).numpy(), rtol=1e-12)
    assert tg.autograd.gradcheck(lambda t: F.interpolate(t, **kw), [tg.tensor(x, requires_grad=True)])
    xt = torch.tensor(x, requires_grad=True)
    assert not torch.autograd.gradcheck(lambda t: torch.nn.functional.interpolate(t, **kw), [xt],
                                        raise_exception=False)


def test_grid_sample_and_affine_grid_errors_and_warnings_like_torch():
    for lib in (tg, torch):
        f, g = lib.nn.functional, lib.zeros((2, 3, 4, 2))
        x = lib.zeros((2, 1, 3, 4))
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
            f.grid_sample(x, g)
        with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior has changed"):
            f.affine_grid(lib.zeros((2, 2, 3)), (2, 1, 3, 4))
        with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic'"):
            f.grid_sample(x, g, mode="bogus", align_corners=False)
        with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
            f.grid_sample(x, g, padding_mode="bogus", align_corners=False)
        with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
            f.grid_sample(x, g[:1], align_corners=False)
        with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
            f.grid_sample(x, g[..., :1], align_corners=False)
        with pytest.raises(ValueError, match=r"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                                             r"\(2, 1, 3, 4\)"):
            f.affine_grid(lib.zeros((2, 3, 3)), (2, 1, 3, 4), align_corners=False)
        with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
            f.affine_grid(lib.zeros((2, 2, 3)), (2, 1, 3), align_corners=False)


def test_spatial_transformer_round_trip_like_torch():
    """The spatial-transformer tutorial's two calls: a grid from theta, then bilinear sampling, gradients to both
    the image and theta."""
    rng = np.random.default_rng(3)
    x, theta = rng.standard_normal((2, 3, 6, 5)), np.array([[[0.9, 0.1, 0.05], [-0.2, 1.1, 0.1]]] * 2)

    def run(lib):
        def f(img, th):
            grid = lib.nn.functional.affine_grid(th, tuple(img.shape), align_corners=False)
            return lib.nn.functional.grid_sample(img, grid, align_corners=False)
        return f
    compare(run(tg), run(torch), [x, theta])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("kw,shape", [(dict(padding=1), (2, 2, 5, 6)), (dict(padding=(2, 1), stride=2), (1, 2, 6, 5)),
                                      (dict(padding="same", dilation=2), (1, 2, 7, 6)),
                                      (dict(padding=1, groups=2), (2, 5, 5))])
def test_conv2d_padding_modes_like_torch(mode, kw, shape):
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(2, 4, 3, padding_mode=mode, **kw).double()
    ours = nn.Conv2d(2, 4, 3, padding_mode=mode, **kw).double()
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    compare(ours, theirs, [np.random.default_rng(1).standard_normal(shape)])
    (gw_ours,) = [p.grad for p in ours.parameters()][:1]
    np.testing.assert_allclose(gw_ours.numpy(), theirs.weight.grad.numpy(), rtol=1e-10)
    for lib in (tg, torch):
        with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
            lib.nn.ConvTranspose2d(2, 3, 3, padding_mode=mode)


@pytest.mark.parametrize("name,args,shape", [
    ("ZeroPad1d", ((1, 2),), (2, 3, 4)), ("ZeroPad2d", (1,), (3, 3)), ("ZeroPad3d", ((1, 0, 0, 2, 1, 1),), (1, 2, 2, 3)),
    ("ConstantPad1d", (2, 3.5), (2, 4)), ("ConstantPad2d", ((1, 0, 2, 1), -1.0), (1, 2, 3, 3)),
    ("ConstantPad3d", (1, 0.5), (1, 1, 2, 2, 2)), ("ReflectionPad1d", (2,), (2, 3, 4)),
    ("ReflectionPad2d", ((1, 0, 2, 1),), (1, 2, 3, 4)), ("ReflectionPad3d", (1,), (1, 1, 2, 3, 3)),
    ("ReplicationPad1d", ((0, 3),), (3, 2)), ("ReplicationPad2d", (2,), (1, 1, 2, 2)),
    ("ReplicationPad3d", ((1, 1, 0, 0, 2, 0),), (2, 1, 2, 2, 2)), ("CircularPad1d", (1,), (1, 2, 3)),
    ("CircularPad2d", ((2, 1, 1, 0),), (1, 1, 3, 3)), ("CircularPad3d", (1,), (1, 1, 2, 2, 2)),
])
def test_padding_layers_like_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
    assert getattr(ours, "value", None) == getattr(theirs, "value", None)
    compare(ours, theirs, [np.random.default_rng(0).standard_normal(shape)])


def test_bilinear_softmax2d_and_parameter_containers_like_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(3, 2, 4).double()
    ours = nn.Bilinear(3, 2, 4).double()
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == ["weight", "bias"]
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / np.sqrt(3)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    r = np.random.default_rng(0)
    compare(ours, theirs, [r.standard_normal((5, 3)), r.standard_normal((5, 2))])
    compare(nn.Softmax2d(), torch.nn.Softmax2d(), [r.standard_normal((2, 3, 2, 2))])
    for lib in (tg, torch):
        with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
            lib.nn.Softmax2d()(lib.zeros((2, 2)))
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.zeros((2, 3))), lib.zeros(3)])
        pl.append(lib.ones(1))
        assert list(pl.state_dict()) == ["0", "1", "2"] and len(pl) == 3
        assert type(pl[1]).__name__ == "Parameter" and tuple(pl[-1].shape) == (1,)
        pd = lib.nn.ParameterDict({"a": lib.zeros(2), "b": lib.nn.Parameter(lib.ones(1))})
        pd["c"] = lib.zeros(3)
        assert list(pd.state_dict()) == ["a", "b", "c"] and list(pd.keys()) == ["a", "b", "c"]
        assert type(pd["a"]).__name__ == "Parameter" and "b" in pd
        del pd["b"]
        assert list(pd) == ["a", "c"] and len(list(lib.nn.Module.parameters(pd))) == 2
