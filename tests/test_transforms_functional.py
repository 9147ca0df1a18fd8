"""torchvision.transforms.functional (tinygrad_fer.data.transforms_functional): torchvision's argument names and
defaults, each form against its transform class (tested against torchvision's definitions in
test_transforms_more.py) and against torchvision's tensor code written out with torch; the runner's mapping.
torchvision itself is not needed."""
import inspect
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_fer as tg
from tinygrad_fer.data import transforms as T
from tinygrad_fer.data import transforms_functional as TF

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")

# torchvision 0.2x's signatures (torchvision/transforms/functional.py), parameter names and defaults
SIGNATURES = {
    "to_tensor": "(pic)", "pil_to_tensor": "(pic)", "to_pil_image": "(pic, mode=None)",
    "convert_image_dtype": "(image, dtype=float32)", "normalize": "(tensor, mean, std, inplace=False)",
    "resize": "(img, size, interpolation=BILINEAR, max_size=None, antialias=True)",
    "crop": "(img, top, left, height, width)", "center_crop": "(img, output_size)",
    "resized_crop": "(img, top, left, height, width, size, interpolation=BILINEAR, antialias=True)",
    "pad": "(img, padding, fill=0, padding_mode=constant)", "hflip": "(img)", "vflip": "(img)",
    "rotate": "(img, angle, interpolation=NEAREST, expand=False, center=None, fill=None)",
    "affine": "(img, angle, translate, scale, shear, interpolation=NEAREST, fill=None, center=None)",
    "rgb_to_grayscale": "(img, num_output_channels=1)", "to_grayscale": "(img, num_output_channels=1)",
    "adjust_brightness": "(img, brightness_factor)", "adjust_contrast": "(img, contrast_factor)",
    "adjust_saturation": "(img, saturation_factor)", "adjust_hue": "(img, hue_factor)",
    "gaussian_blur": "(img, kernel_size, sigma=None)", "erase": "(img, i, j, h, w, v, inplace=False)",
}


def _sig(f):
    def show(p):
        if p.default is inspect.Parameter.empty:
            return p.name
        d = p.default
        d = getattr(d, "name", None) if hasattr(d, "name") and not isinstance(d, (str, bool)) else d
        return f"{p.name}={d}"
    return "(" + ", ".join(show(p) for p in inspect.signature(f).parameters.values()) + ")"


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_signatures_are_torchvisions(name):
    f = getattr(TF, name)
    got = _sig(f).replace("InterpolationMode.", "")
    assert got == SIGNATURES[name]
    assert name in TF.__all__


def _img(c=3, h=6, w=7, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (c, h, w)).astype(np.float32)


def _pil(h=6, w=7):
    return Image.fromarray(np.random.default_rng(1).integers(0, 256, (h, w, 3), dtype=np.uint8))


def test_flips_are_torch_flip_and_pillow_transpose():
    x = _img()
    for f, axis, tr in ((TF.hflip, -1, Image.Transpose.FLIP_LEFT_RIGHT),
                        (TF.vflip, -2, Image.Transpose.FLIP_TOP_BOTTOM)):
        got = f(tg.tensor(x))
        assert isinstance(got, tg.Tensor)
        np.testing.assert_array_equal(got.numpy(), torch.tensor(x).flip(axis).numpy())
        batch = np.stack([x, x[::-1]])
        np.testing.assert_array_equal(f(batch), torch.tensor(batch.copy()).flip(axis).numpy())   # arrays stay arrays
        img = _pil()
        np.testing.assert_array_equal(np.asarray(f(img)), np.asarray(img.transpose(tr)))
    with pytest.raises(TypeError, match="Tensor is not a torch image"):
        TF.hflip(tg.ones(3))
    with pytest.raises(TypeError, match="img should be PIL Image or Tensor"):
        TF.vflip([[1.0]])


def test_normalize_is_torchvisions_formula_and_can_write_in_place():
    x = _img()
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]
    want = (torch.tensor(x) - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]
    np.testing.assert_allclose(TF.normalize(tg.tensor(x), mean, std).numpy(), want.numpy(), rtol=1e-6)
    a = x.copy()
    assert TF.normalize(a, mean, std, inplace=True) is a
    np.testing.assert_allclose(a, want.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="std evaluated to zero"):
        TF.normalize(tg.tensor(x), mean, [1.0, 0.0, 1.0])
    with pytest.raises(TypeError, match="Input tensor should be a float tensor"):
        TF.normalize(tg.tensor(x).to(tg.uint8), mean, std)


def test_conversions_match_their_classes():
    img = _pil()
    np.testing.assert_array_equal(TF.to_tensor(img).numpy(), T.ToTensor()(img).numpy())
    assert TF.to_tensor(img).dtype == tg.float32
    np.testing.assert_array_equal(TF.pil_to_tensor(img).numpy(), T.PILToTensor()(img).numpy())
    u8 = TF.pil_to_tensor(img)
    np.testing.assert_array_equal(np.asarray(TF.to_pil_image(u8)), np.asarray(img))
    assert TF.to_pil_image(u8[:1], mode="L").mode == "L"
    got = TF.convert_image_dtype(u8)                       # the default: float32, divided by 255
    assert got.dtype == tg.float32
    np.testing.assert_array_equal(got.numpy(), (torch.tensor(np.asarray(img)).permute(2, 0, 1) / 255.0).numpy())
    assert TF.convert_image_dtype(got, tg.uint8).dtype == tg.uint8
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        TF.convert_image_dtype(img)


def test_geometry_forms_match_their_classes():
    x, img = tg.tensor(_img(h=9, w=11)), _pil(9, 11)
    for a in (x, img):
        same = (lambda p, q: np.testing.assert_array_equal(np.asarray(p), np.asarray(q))) if a is img else \
            (lambda p, q: np.testing.assert_array_equal(p.numpy(), q.numpy()))
        same(TF.resize(a, [5, 6]), T.Resize([5, 6])(a))
        same(TF.center_crop(a, 4), T.CenterCrop(4)(a))
        same(TF.pad(a, [1, 2], fill=0, padding_mode="reflect"), T.Pad([1, 2], padding_mode="reflect")(a))
        same(TF.resized_crop(a, 1, 2, 6, 7, [4, 4]), TF.resize(TF.crop(a, 1, 2, 6, 7), [4, 4]))
        same(TF.rotate(a, 30.0), TF.rotate(a, 30.0, fill=0))    # torchvision's fill=None is zeros
        same(TF.affine(a, 10.0, [1, 0], 1.1, [5.0]), TF.affine(a, 10.0, [1, 0], 1.1, [5.0], fill=0))
    window = TF.crop(x, -1, 2, 4, 5)                     # outside the image: zeros, as torchvision's
    want = torch.nn.functional.pad(torch.tensor(x.numpy()), (0, 0, 1, 0))[:, 0:4, 2:7]
    np.testing.assert_array_equal(window.numpy(), want.numpy())


def test_color_forms_take_torchvisions_keywords():
    x = tg.tensor(_img())
    for name, kw in (("adjust_brightness", "brightness_factor"), ("adjust_contrast", "contrast_factor"),
                     ("adjust_saturation", "saturation_factor"), ("adjust_hue", "hue_factor")):
        value = 0.2 if name == "adjust_hue" else 1.3
        got = getattr(TF, name)(x, **{kw: value})
        np.testing.assert_array_equal(got.numpy(), getattr(TF, name)(x, value).numpy())
    # brightness on a float image: clamp(factor * img, 0, 1), torchvision's _blend with zeros
    np.testing.assert_allclose(TF.adjust_brightness(x, brightness_factor=1.3).numpy(),
                               torch.clamp(1.3 * torch.tensor(x.numpy()), 0, 1).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="brightness_factor"):
        TF.adjust_brightness(x, -1.0)
    np.testing.assert_array_equal(TF.to_grayscale(x, 3).numpy(), T.Grayscale(3)(x).numpy())
    assert TF.to_grayscale(_pil()).mode == "L"
    # GaussianBlur draws one sigma for both axes: a range of one value fixes it
    np.testing.assert_array_equal(TF.gaussian_blur(x, kernel_size=[3, 5], sigma=[0.8, 0.8]).numpy(),
                                  T.GaussianBlur([3, 5], (0.8, 0.8))(x).numpy())


def test_erase_is_torchvisions_slice_write():
    x = _img()
    v = np.full((3, 2, 3), -1.0, np.float32)
    t = tg.tensor(x)
    got = TF.erase(t, 1, 2, 2, 3, tg.tensor(v))
    want = torch.tensor(x).clone()
    want[..., 1:3, 2:5] = torch.tensor(v)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(t.numpy(), x)            # not in place: the input is untouched
    version = t._version[0]
    assert TF.erase(t, 0, 0, 1, 1, 7.0, inplace=True) is t and t[0, 0, 0].item() == 7.0
    assert t._version[0] == version + 1                    # a write autograd sees
    a = x.copy()
    np.testing.assert_array_equal(TF.erase(a, 1, 2, 2, 3, 0.0)[..., 1:3, 2:5], 0.0)
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        TF.erase(_pil(), 0, 0, 1, 1, 0.0)


RUNNER_CHECK = textwrap.dedent('''
    import torch
    import torchvision.transforms.functional as TF
    from torchvision.transforms import functional as F2
    import torchvision.transforms as T
    x = torch.arange(6.0).reshape(1, 2, 3)
    print(TF is F2, T.functional is TF, TF.hflip(x).tolist(), type(TF.hflip(x)).__name__)
    print(TF.normalize(x, [1.0], [2.0]).tolist())
    for name in ("perspective", "five_crop", "posterize"):
        try:
            getattr(TF, name)
        except AttributeError as e:
            print(e)
    try:
        from torchvision.transforms.functional import ten_crop
    except ImportError as e:
        print("tinygrad_fer" in str(e))
''')


def test_runner_maps_torchvision_transforms_functional(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(__file__))), os.environ.get("PYTHONPATH", "")]))
    script = tmp_path / "s.py"
    script.write_text(RUNNER_CHECK)
    r = subprocess.run([sys.executable, "-m", "tinygrad_fer.compat", str(script)], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "True True [[[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]] Tensor",
        "[[[-0.5, 0.0, 0.5], [1.0, 1.5, 2.0]]]",
        "torchvision.transforms.functional.perspective is not implemented in tinygrad_fer",
        "torchvision.transforms.functional.five_crop is not implemented in tinygrad_fer",
        "torchvision.transforms.functional.posterize is not implemented in tinygrad_fer",
        "True"]
