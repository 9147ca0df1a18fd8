"""torchvision's PIL-aware transforms: PIL images compared pixel-exact with the Pillow call torchvision defines
each one as; Tensors and arrays against torchvision's tensor formulas written out with torch (the oracle) or by
hand. torchvision itself is not needed."""
import colorsys

import numpy as np
import pytest

import tinygrad_fer as tg
from tinygrad_fer.data import transforms as T
from tinygrad_fer.data import color, geometry

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")


def rgb_image(h=10, w=13, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def chw(img):
    return np.asarray(img).transpose(2, 0, 1) if np.asarray(img).ndim == 3 else np.asarray(img)[None]


# ---- conversions -------------------------------------------------------------------------------------------

def test_to_pil_image_modes_and_float_scaling():
    x = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    img = T.ToPILImage()(tg.Tensor(x))
    assert img.mode == "RGB" and img.size == (5, 4)
    # torchvision: pic.mul(255).byte(), torch's float -> uint8 cast (wraps negatives)
    want = torch.from_numpy(x).mul(255).byte().numpy().transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(img), want)
    hwc = np.random.default_rng(1).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    assert T.ToPILImage()(hwc).mode == "RGBA"                              # a NumPy array is (H, W, C)
    np.testing.assert_array_equal(np.asarray(T.ToPILImage()(hwc)), hwc)
    assert T.ToPILImage()(hwc[:, :, :2]).mode == "LA"
    assert T.ToPILImage()(hwc[:, :, 0]).mode == "L"
    f = T.ToPILImage(mode="F")(tg.Tensor(x[:1]))
    assert f.mode == "F"
    np.testing.assert_array_equal(np.asarray(f), x[0])
    assert T.ToPILImage()(np.zeros((2, 2), np.int32)).mode == "I"
    assert T.ToPILImage(mode="HSV")(hwc[:, :, :3]).mode == "HSV"
    with pytest.raises(ValueError, match="pic should not have > 4 channels. Got 5 channels."):
        T.ToPILImage()(tg.Tensor(np.zeros((5, 2, 2), np.uint8)))
    with pytest.raises(ValueError, match=r"Incorrect mode \(RGB\) supplied"):
        T.ToPILImage(mode="RGB")(np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="Only modes \\['RGBA', 'CMYK', 'RGBX'\\] are supported for 4D inputs"):
        T.ToPILImage(mode="RGB")(hwc)
    with pytest.raises(TypeError, match="pic should be Tensor or ndarray"):
        T.ToPILImage()([[1]])


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "1", "I", "F"])
def test_pil_to_tensor_keeps_values(mode):
    img = rgb_image(4, 6).convert(mode)
    t = T.PILToTensor()(img)
    raw = np.asarray(img)
    want = (raw.astype(np.uint8) * 255 if mode == "1" else raw).reshape(4, 6, -1).transpose(2, 0, 1)
    assert isinstance(t, tg.Tensor)
    np.testing.assert_array_equal(t.numpy(), want)
    assert t.numpy().dtype == want.dtype
    # floats become 8-bit unless asked for "F" (torchvision's to_pil_image)
    back = T.ToPILImage(mode="F" if mode == "F" else None)(t) if mode != "1" else None
    if back is not None:
        assert back.mode == mode and np.array_equal(np.asarray(back), np.asarray(img))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(np.zeros((2, 2)))


def test_convert_image_dtype_as_torchvision():
    u8 = np.array([[[0, 1, 127, 128, 255]]], np.uint8)
    f = T.ConvertImageDtype(tg.float32)(tg.Tensor(u8))
    np.testing.assert_array_equal(f.numpy(), torch.from_numpy(u8).float().div(255).numpy())
    x = np.array([[[0.0, 0.1, 0.5, 0.999, 1.0]]], np.float32)
    got = T.ConvertImageDtype(np.uint8)(x)
    np.testing.assert_array_equal(got, torch.from_numpy(x).mul(255 + 1.0 - 1e-3).to(torch.uint8).numpy())
    wide = T.ConvertImageDtype(tg.int16)(tg.Tensor(u8)).numpy()
    np.testing.assert_array_equal(wide, u8.astype(np.int16) * 128)          # (32767 + 1) // (255 + 1)
    narrow = T.ConvertImageDtype(tg.uint8)(tg.Tensor(wide)).numpy()
    np.testing.assert_array_equal(narrow, u8)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        T.ConvertImageDtype(tg.int32)(tg.Tensor(x))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.ConvertImageDtype(tg.float32)(rgb_image())


# ---- geometry -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("interp,pil", [("bilinear", Image.BILINEAR), ("nearest", Image.NEAREST),
                                        ("bicubic", Image.BICUBIC), ("lanczos", Image.LANCZOS)])
def test_resize_pil_is_pillow_resize(interp, pil):
    img = rgb_image()
    mode = T.InterpolationMode(interp)
    out = T.Resize(6, interpolation=mode)(img)
    assert out.size == (7, 6)                      # shorter edge 10 -> 6, longer int(6 * 13 / 10) = 7
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((7, 6), pil)))
    out = T.Resize((4, 9), interpolation=mode)(img)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((9, 4), pil)))
    if interp == "nearest":
        return              # Tensors: torch's floor-indexed nearest (test_resize_tensor_nearest_and_no_antialias)
    # the uint8 Tensor gets Pillow's pixels, a batch gets each image's
    t = T.Resize((4, 9), interpolation=mode)(tg.Tensor(chw(img)))
    np.testing.assert_array_equal(t.numpy(), chw(out))
    batch = np.stack([chw(img), chw(rgb_image(seed=1))])
    b = T.Resize((4, 9), interpolation=mode)(batch)
    np.testing.assert_array_equal(b[1], chw(rgb_image(seed=1).resize((9, 4), pil)))


def test_resize_tensor_nearest_and_no_antialias():
    # torchvision's tensor resize: interpolate(nearest / nearest-exact), and without antialias plain
    # interpolate(bilinear / bicubic, align_corners=False), integers rounded and clamped
    u8 = np.random.default_rng(5).integers(0, 256, (2, 3, 10, 13), dtype=np.uint8)
    x = u8.astype(np.float32) / 255
    F = torch.nn.functional
    for mode in ("nearest", "nearest-exact"):
        got = T.Resize((7, 17), interpolation=T.InterpolationMode(mode))(tg.Tensor(u8)).numpy()
        np.testing.assert_array_equal(got, F.interpolate(torch.from_numpy(u8), size=(7, 17), mode=mode).numpy())
    for mode in ("bilinear", "bicubic"):
        t = T.Resize((6, 8), interpolation=T.InterpolationMode(mode), antialias=False)
        want = F.interpolate(torch.from_numpy(x), size=(6, 8), mode=mode, align_corners=False)
        np.testing.assert_allclose(t(tg.Tensor(x)).numpy(), want.numpy(), atol=1e-6)
        want8 = F.interpolate(torch.from_numpy(u8).float(), size=(6, 8), mode=mode, align_corners=False)
        got8 = t(u8)
        assert got8.dtype == np.uint8
        assert np.abs(got8.astype(int) - want8.round().clamp(0, 255).numpy().astype(int)).max() <= 1
    with pytest.raises(ValueError, match="interpolation nearest-exact is not supported for PIL images"):
        T.Resize(5, interpolation=T.InterpolationMode.NEAREST_EXACT)(rgb_image())


def test_resize_sizes_and_float_tensors_match_antialiased_interpolate():
    img = rgb_image()
    assert T.Resize(10)(img) is img                        # already that size: returned as is
    assert T.Resize(6, max_size=7)(img).size == (7, 6)     # int(6 * 13 / 10) = 7 is within max_size
    assert T.Resize(8, max_size=9)(img).size == (9, 7)     # 10 > 9: longer 9, shorter int(9 * 8 / 10) = 7
    assert T.Resize([6])(rgb_image(13, 10)).size == (6, 7)
    with pytest.raises(ValueError, match="max_size = 6 must be strictly greater"):
        T.Resize(6, max_size=6)(img)
    with pytest.raises(ValueError, match="max_size should only be passed if size specifies"):
        T.Resize((6, 6), max_size=8)(img)
    x = np.random.default_rng(3).random((2, 3, 10, 13), dtype=np.float32)
    for size, mode in (((4, 6), "bilinear"), ((17, 21), "bilinear"), ((5, 7), "bicubic")):
        got = T.Resize(size, interpolation=T.InterpolationMode(mode))(tg.Tensor(x))
        want = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode=mode, align_corners=False,
                                               antialias=True)
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=2e-5)


def test_center_crop():
    img = rgb_image()                                     # 10 x 13
    out = T.CenterCrop(8)(img)
    # top = round((10 - 8) / 2) = 1, left = round(2.5) = 2 (Python rounds half to even)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img)[1:9, 2:10])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.crop((2, 1, 10, 9))))
    np.testing.assert_array_equal(T.CenterCrop((8, 8))(tg.Tensor(chw(img))).numpy(), chw(out))
    # larger than the image: zero padding (left, top, right, bottom) = (1, 2, 1, 3), then nothing to crop
    big = T.CenterCrop(15)(img)
    want = np.pad(np.asarray(img), ((2, 3), (1, 1), (0, 0)))
    np.testing.assert_array_equal(np.asarray(big), want)
    np.testing.assert_array_equal(T.CenterCrop(15)(chw(img).astype(np.float32)), chw(want).astype(np.float32))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_modes(mode):
    img = rgb_image(5, 6)
    a = np.asarray(img)
    out = T.Pad((1, 2, 3, 4), fill=0, padding_mode=mode)(img)
    np_mode = {"constant": "constant"}.get(mode, mode)
    want = np.pad(a, ((2, 4), (1, 3), (0, 0)), mode=np_mode)
    np.testing.assert_array_equal(np.asarray(out), want)
    np.testing.assert_array_equal(T.Pad((1, 2, 3, 4), padding_mode=mode)(tg.Tensor(chw(img))).numpy(), chw(want))
    np.testing.assert_array_equal(np.asarray(T.Pad((2, 1), padding_mode=mode)(img)),
                                  np.pad(a, ((1, 1), (2, 2), (0, 0)), mode=np_mode))


def test_pad_fill_and_negative():
    img = rgb_image(5, 6)
    out = T.Pad(2, fill=(10, 20, 30))(img)
    np.testing.assert_array_equal(np.asarray(out)[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(np.asarray(out), np.asarray(__import__("PIL.ImageOps").ImageOps.expand(
        img, border=2, fill=(10, 20, 30))))
    t = T.Pad(2, fill=(10, 20, 30))(tg.Tensor(chw(img))).numpy()
    np.testing.assert_array_equal(t, chw(out))
    np.testing.assert_array_equal(np.asarray(T.Pad((-1, 1))(img)), np.pad(np.asarray(img)[:, 1:-1],
                                                                       ((1, 1), (0, 0), (0, 0))))
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(1, padding_mode="wrap")
    with pytest.raises(ValueError, match="does not match the number of bands"):
        T.Pad(1, fill=(1, 2))(img)


def test_random_resized_crop_is_crop_then_resize():
    img = rgb_image(20, 30)
    t = T.RandomResizedCrop(8, generator=5)
    top, left, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3), generator=5)
    out = t(img)
    assert out.size == (8, 8)
    want = img.crop((left, top, left + w, top + h)).resize((8, 8), Image.BILINEAR)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(want))
    assert not np.array_equal(np.asarray(t(img)), np.asarray(out))       # the next call draws again
    # no draw fits: central crop of the closest allowed ratio (10 x 40 at ratio 1 -> 10 x 10 at left 15)
    assert T.RandomResizedCrop.get_params(rgb_image(10, 40), (1.0, 1.0), (1.0, 1.0), generator=0) == (0, 15, 10, 10)
    tt = T.RandomResizedCrop((4, 6), generator=5)(tg.Tensor(chw(img)))
    np.testing.assert_array_equal(tt.numpy(), chw(img.crop((left, top, left + w, top + h)).resize((6, 4),
                                                                                                Image.BILINEAR)))


def test_random_rotation():
    img = rgb_image(8, 8)
    out = T.RandomRotation((90, 90))(img)
    np.testing.assert_array_equal(np.asarray(out), np.rot90(np.asarray(img)))       # counter-clockwise
    np.testing.assert_array_equal(T.RandomRotation((90, 90))(tg.Tensor(chw(img))).numpy(),
                                  np.rot90(chw(img), axes=(1, 2)))
    angle = float(np.random.default_rng(4).uniform(-30, 30))
    got = T.RandomRotation(30, fill=(1, 2, 3), generator=4)(img)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(img.rotate(angle, Image.NEAREST, fillcolor=(1, 2, 3))))
    t = T.RandomRotation(30, fill=(1, 2, 3), generator=4)(tg.Tensor(chw(img))).numpy()
    np.testing.assert_array_equal(t, chw(got))
    assert np.asarray(T.RandomRotation((45, 45), expand=True)(img)).shape[0] > 8
    with pytest.raises(ValueError, match="If degrees is a single number, it must be positive."):
        T.RandomRotation(-3)


def test_random_affine():
    img = rgb_image(8, 8)
    # affine angles are clockwise
    np.testing.assert_array_equal(np.asarray(T.RandomAffine((90, 90))(img)), np.rot90(np.asarray(img), -1))
    shifted = geometry.affine(img, 0.0, (2, 1), 1.0, 0.0)
    want = np.zeros_like(np.asarray(img))
    want[1:, 2:] = np.asarray(img)[:-1, :-2]
    np.testing.assert_array_equal(np.asarray(shifted), want)
    np.testing.assert_array_equal(geometry.affine(tg.Tensor(chw(img)), 0.0, (2, 1), 1.0, 0.0).numpy(), chw(want))
    t = T.RandomAffine(20, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -3, 3), generator=9)
    angle, tr, scale, shear = T.RandomAffine.get_params(t.degrees, t.translate, t.scale, t.shear, (8, 8),
                                                        np.random.default_rng(9))
    m = geometry.inverse_affine_matrix((4.0, 4.0), angle, tr, scale, shear)
    np.testing.assert_array_equal(np.asarray(t(img)),
                                  np.asarray(img.transform((8, 8), Image.AFFINE, m, Image.NEAREST)))
    with pytest.raises(ValueError, match="translate should be a sequence of length 2 with values between 0 and 1"):
        T.RandomAffine(0, translate=(2, 0))


# ---- colour ---------------------------------------------------------------------------------------------------

def test_grayscale():
    img = rgb_image()
    np.testing.assert_array_equal(np.asarray(T.Grayscale()(img)), np.asarray(img.convert("L")))
    three = T.Grayscale(3)(img)
    assert three.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(three), np.repeat(np.asarray(img.convert("L"))[:, :, None], 3, 2))
    a = chw(img)
    want = (np.float32(0.2989) * a[0] + np.float32(0.587) * a[1] + np.float32(0.114) * a[2]).astype(np.uint8)
    np.testing.assert_array_equal(T.Grayscale()(tg.Tensor(a)).numpy(), want[None])
    assert tuple(T.Grayscale(3)(tg.Tensor(a)).shape) == (3, 10, 13)
    with pytest.raises(TypeError, match="permitted channel values are \\[1, 3\\], but found 2"):
        T.Grayscale()(np.zeros((2, 3, 3), np.float32))


def test_adjust_pil_is_image_enhance():
    from PIL import ImageEnhance
    img = rgb_image()
    for fn, enh in ((color.adjust_brightness, ImageEnhance.Brightness), (color.adjust_contrast, ImageEnhance.Contrast),
                    (color.adjust_saturation, ImageEnhance.Color)):
        np.testing.assert_array_equal(np.asarray(fn(img, 1.3)), np.asarray(enh(img).enhance(1.3)))
    h, s, v = img.convert("HSV").split()
    # torchvision: np_h += np.uint8(hue_factor * 255), i.e. -51 wraps to 205 and the sum wraps modulo 256
    h = Image.fromarray(((np.asarray(h).astype(np.int64) + 205) % 256).astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(color.adjust_hue(img, -0.2)),
                                  np.asarray(Image.merge("HSV", (h, s, v)).convert("RGB")))
    assert color.adjust_hue(img.convert("L"), 0.3).mode == "L"


def test_adjust_tensors_follow_torchvision_formulas():
    a = np.random.default_rng(0).integers(0, 256, (3, 6, 7), dtype=np.uint8)
    ta = torch.from_numpy(a)
    got = color.adjust_brightness(tg.Tensor(a), 1.7).numpy()
    np.testing.assert_array_equal(got, (1.7 * ta).clamp(0, 255).to(torch.uint8).numpy())
    gray = (0.2989 * ta[0] + 0.587 * ta[1] + 0.114 * ta[2]).to(torch.uint8)
    mean = gray.float().mean()
    got = color.adjust_contrast(tg.Tensor(a), 0.6).numpy()
    np.testing.assert_array_equal(got, (0.6 * ta + 0.4 * mean).clamp(0, 255).to(torch.uint8).numpy())
    got = color.adjust_saturation(tg.Tensor(a), 1.4).numpy()
    np.testing.assert_array_equal(got, (1.4 * ta + (1 - 1.4) * gray).clamp(0, 255).to(torch.uint8).numpy())
    x = np.random.default_rng(1).random((3, 4, 5)).astype(np.float32)
    got = color.adjust_hue(tg.Tensor(x), 0.3).numpy()
    want = np.empty_like(x)
    for i in range(4):
        for j in range(5):
            hh, ss, vv = colorsys.rgb_to_hsv(*x[:, i, j])
            want[:, i, j] = colorsys.hsv_to_rgb((hh + 0.3) % 1.0, ss, vv)
    np.testing.assert_allclose(got, want, atol=1e-5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."):
        color.adjust_hue(x, 0.7)


def test_color_jitter_order_and_factors():
    img = rgb_image()
    cj = T.ColorJitter(brightness=0.5, contrast=0.3, saturation=0.2, hue=0.1, generator=7)
    order, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue,
                                                 np.random.default_rng(7))
    assert sorted(order) == [0, 1, 2, 3] and 0.5 <= b <= 1.5 and 0.7 <= c <= 1.3 and -0.1 <= h <= 0.1
    want = img
    for i in order:
        want = (color.adjust_brightness, color.adjust_contrast, color.adjust_saturation, color.adjust_hue)[i](
            want, (b, c, s, h)[i])
    np.testing.assert_array_equal(np.asarray(cj(img)), np.asarray(want))
    assert T.ColorJitter().brightness is None and T.ColorJitter(brightness=(0.2, 0.9)).brightness == (0.2, 0.9)
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-1)
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)


def torch_blur(x, kx, ky, sx, sy):
    def k1(k, s):
        half = (k - 1) * 0.5
        pdf = torch.exp(-0.5 * (torch.linspace(-half, half, steps=k) / s).pow(2))
        return pdf / pdf.sum()
    kernel = torch.mm(k1(ky, sy)[:, None], k1(kx, sx)[None, :])
    c = x.shape[-3]
    xp = torch.nn.functional.pad(x[None].float(), [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
    return torch.nn.functional.conv2d(xp, kernel.expand(c, 1, ky, kx), groups=c)[0]


def test_gaussian_blur_matches_torchvision_kernel():
    x = np.random.default_rng(2).random((3, 9, 11)).astype(np.float32)
    got = color.gaussian_blur(tg.Tensor(x), [3, 5], [0.8, 1.3]).numpy()
    np.testing.assert_allclose(got, torch_blur(torch.from_numpy(x), 3, 5, 0.8, 1.3).numpy(), atol=1e-6)
    img = rgb_image(9, 11)
    sigma = float(np.random.default_rng(3).uniform(0.1, 2.0))
    out = T.GaussianBlur(5, generator=3)(img)
    want = torch_blur(torch.from_numpy(chw(img).copy()), 5, 5, sigma, sigma).round().to(torch.uint8).numpy()
    assert out.mode == "RGB"
    assert np.abs(chw(out).astype(int) - want).max() <= 1 and (chw(out) != want).mean() < 0.01
    with pytest.raises(ValueError, match="Kernel size value should be an odd and positive number."):
        T.GaussianBlur(4)
    with pytest.raises(ValueError, match="sigma values should be positive and of the form"):
        T.GaussianBlur(3, sigma=(2.0, 1.0))


def test_random_erasing():
    x = np.random.default_rng(0).random((3, 12, 14)).astype(np.float32)
    top, left, h, w, v = T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), [0.5], np.random.default_rng(5))
    rng = np.random.default_rng(5)
    rng.random()                                  # the p draw comes first
    top, left, h, w, v = T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), [0.5], rng)
    out = T.RandomErasing(p=1.0, value=0.5, generator=5)(tg.Tensor(x)).numpy()
    want = x.copy()
    want[:, top:top + h, left:left + w] = 0.5
    np.testing.assert_array_equal(out, want)
    assert h * w > 0 and not np.array_equal(out, x)
    np.testing.assert_array_equal(T.RandomErasing(p=0.0)(x), x)
    noisy = T.RandomErasing(p=1.0, value="random", generator=1)(x)
    assert noisy.shape == x.shape and not np.array_equal(noisy, x)
    per_channel = T.RandomErasing(p=1.0, value=(1, 2, 3), generator=2)(x)
    changed = per_channel != x
    assert set(np.unique(per_channel[0][changed[0]])) == {1.0} and set(np.unique(per_channel[2][changed[2]])) == {3.0}
    inplace = x.copy()
    assert T.RandomErasing(p=1.0, inplace=True, generator=5)(inplace) is inplace and not np.array_equal(inplace, x)
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.RandomErasing(p=1.0)(rgb_image())
    with pytest.raises(ValueError, match="it should have either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(x)
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 2))


def test_compose_pipeline_pil_to_normalized_tensor():
    pipe = T.Compose([T.Resize(8), T.CenterCrop(8), T.ToTensor(), T.Normalize((0.5,) * 3, (0.5,) * 3)])
    img = rgb_image(10, 13)
    out = pipe(img)
    ref = np.asarray(img.resize((10, 8), Image.BILINEAR).crop((1, 0, 9, 8))).transpose(2, 0, 1)
    np.testing.assert_allclose(np.asarray(out), (ref / np.float32(255) - 0.5) / 0.5, rtol=1e-6, atol=1e-6)


def test_to_tensor_on_pil_gives_a_tensor_for_lambda_flatten():
    img = rgb_image(4, 5)
    out = T.Compose([T.ToTensor(), T.Lambda(lambda x: tg.flatten(x))])(img)
    assert isinstance(out, tg.Tensor) and tuple(out.shape) == (60,)
    np.testing.assert_allclose(out.numpy(), chw(img).reshape(-1) / np.float32(255), rtol=1e-6)


def test_random_crop_and_flip_take_pil_images():
    img = rgb_image(10, 13)
    rng = np.random.default_rng(4)
    top, left = int(rng.integers(0, 10 + 4 - 8 + 1)), int(rng.integers(0, 13 + 4 - 8 + 1))
    out = T.RandomCrop(8, padding=2, generator=4)(img)
    padded = np.pad(np.asarray(img), ((2, 2), (2, 2), (0, 0)))
    assert isinstance(out, Image.Image) and out.size == (8, 8)
    np.testing.assert_array_equal(np.asarray(out), padded[top:top + 8, left:left + 8])
    grown = T.RandomCrop((12, 13), pad_if_needed=True, padding_mode="edge", generator=0)(img)
    assert grown.size == (13, 12)
    # torchvision pads both sides by the shortfall (2 rows above and below), then crops at a random row
    t = int(np.random.default_rng(0).integers(0, 14 - 12 + 1))     # 2: the bottom rows
    np.testing.assert_array_equal(np.asarray(grown),
                                  np.pad(np.asarray(img), ((2, 2), (0, 0), (0, 0)), "edge")[t:t + 12])
    np.testing.assert_array_equal(np.asarray(T.RandomHorizontalFlip(p=1.0)(img)), np.asarray(img)[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(img) is img
    with pytest.raises(ValueError, match="Required crop size"):
        T.RandomCrop(20)(img)


def test_vertical_flip_grayscale_and_random_choices():
    img = rgb_image(6, 7)
    np.testing.assert_array_equal(np.asarray(T.RandomVerticalFlip(p=1.0)(img)), np.asarray(img)[::-1])
    a = chw(img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(tg.Tensor(a)).numpy(), a[:, ::-1])
    batch = np.stack([a, a + 1])
    flips = np.random.default_rng(3).random(2) < 0.5               # one draw per sample, as RandomHorizontalFlip
    got = T.RandomVerticalFlip(generator=3)(batch)
    for i in range(2):
        np.testing.assert_array_equal(got[i], batch[i][:, ::-1] if flips[i] else batch[i])
    gray = T.RandomGrayscale(p=1.0)(img)
    assert gray.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(gray)[:, :, 1], np.asarray(img.convert("L")))
    assert T.RandomGrayscale(p=0.0)(img) is img
    assert T.RandomApply([T.Grayscale()], p=0.0)(img) is img
    assert T.RandomApply([T.Grayscale()], p=1.0)(img).mode == "L"
    add = [T.Lambda(lambda x, k=k: x + [k]) for k in range(3)]
    order = np.random.default_rng(4).permutation(3).tolist()
    assert T.RandomOrder(add, generator=4)([]) == order
    assert T.RandomChoice(add, p=[0, 1, 0])([]) == [1]
    picks = {tuple(T.RandomChoice(add, generator=s)([])) for s in range(20)}
    assert picks == {(0,), (1,), (2,)}
    with pytest.raises(ValueError, match="Length of p doesn't match the number of transforms"):
        T.RandomChoice(add, p=[1])
