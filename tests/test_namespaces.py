"""torch's small namespaces that scripts touch (accelerator, backends, nn.parallel, threads, the default generator)
against PyTorch, and torchvision.utils' make_grid / save_image against torchvision's documented layout."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tf
from tinygrad_fer.vision.utils import make_grid, save_image


def test_accelerator_without_gpu_answers_as_pytorch():
    if tf.cuda.is_available():
        assert tf.accelerator.is_available() and tf.accelerator.current_accelerator() == tf.device("cuda")
        assert tf.accelerator.device_count() == tf.cuda.device_count()
        return
    assert tf.accelerator.is_available() == torch.accelerator.is_available() is False
    assert tf.accelerator.current_accelerator() is None and tf.accelerator.current_accelerator(True) is None
    assert tf.accelerator.device_count() == 0
    for name in ("current_device_index", "synchronize", "memory_allocated"):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.accelerator, name)()
        with pytest.raises(RuntimeError, match=str(theirs.value)):
            getattr(tf.accelerator, name)()


def test_backends_flags_are_settable_and_report_no_cudnn_or_mps():
    cudnn = tf.backends.cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == (False, False, True)
    assert cudnn.is_available() is False and cudnn.version() is None
    old = cudnn.benchmark
    try:
        cudnn.benchmark = True
        assert tf.backends.cudnn.benchmark is True
    finally:
        cudnn.benchmark = old
    assert tf.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert tf.backends.mps.is_built() is False


def test_data_parallel_is_a_pass_through_with_pytorchs_state_dict():
    ours, theirs = tf.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    dp, tdp = tf.nn.DataParallel(ours), torch.nn.DataParallel(theirs)
    assert list(dp.state_dict()) == list(tdp.state_dict()) == ["module.weight", "module.bias"]
    assert dp.module is ours and dp.device_ids == tdp.device_ids == []
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    # float32: an output near zero comes from cancellation, so its error is absolute (~1e-7), not relative
    np.testing.assert_allclose(dp(tf.tensor(x)).detach().numpy(), tdp(torch.tensor(x)).detach().numpy(), rtol=1e-6,
                               atol=1e-6)
    assert repr(dp) == repr(tdp)
    assert tf.nn.parallel.DataParallel is tf.nn.DataParallel
    # (PyTorch's data_parallel raises on a machine without GPUs; here it runs the module on its one device)
    np.testing.assert_array_equal(tf.nn.parallel.data_parallel(ours, tf.tensor(x), [0, 1]).detach().numpy(),
                                  ours(tf.tensor(x)).detach().numpy())
    assert tf.nn.parallel.data_parallel(lambda a, b=None: a * b, (3,), module_kwargs={"b": 2}) == 6


def test_num_threads():
    n = tf.get_num_threads()
    try:
        tf.set_num_threads(1)
        assert tf.get_num_threads() == 1
        # one thread changes the kernels' scheduling, never their results
        np.testing.assert_array_equal(tf.tensor(np.arange(6.0)).sum().numpy(), 15.0)
    finally:
        tf.set_num_threads(n)
    assert tf.get_num_threads() == n
    for bad in (0, -2, 1.5):
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError, match=str(theirs.value)):
            tf.set_num_threads(bad)


def test_manual_seed_returns_the_default_generator():
    g = tf.manual_seed(123)
    assert g is tf.default_generator and isinstance(g, tf.Generator)
    assert g.initial_seed() == tf.initial_seed() == 123
    a = tf.rand(5).numpy()
    tf.default_generator.manual_seed(123)        # the same stream as tf.manual_seed's
    np.testing.assert_array_equal(tf.rand(5).numpy(), a)
    # a Generator seeded with the default's initial seed draws what the default drew
    np.testing.assert_array_equal(tf.rand(5, generator=tf.Generator().manual_seed(123)).numpy(), a)
    s = tf.default_generator.seed()
    assert tf.initial_seed() == s
    b = tf.rand(3).numpy()
    tf.manual_seed(s)
    np.testing.assert_array_equal(tf.rand(3).numpy(), b)
    with pytest.raises(TypeError):
        tf.manual_seed("x")


# ---- torchvision.utils ---------------------------------------------------------------------------------------------

def _images(n, c=3, h=4, w=5, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


@pytest.mark.parametrize("n,nrow,padding", [(7, 3, 2), (8, 8, 0), (5, 2, 1), (2, 8, 3)])
def test_make_grid_layout(n, nrow, padding):
    x = _images(n)
    g = make_grid(tf.tensor(x), nrow=nrow, padding=padding, pad_value=0.25).numpy()
    cols = min(nrow, n)
    rows = -(-n // cols)
    assert g.shape == (3, rows * (4 + padding) + padding, cols * (5 + padding) + padding) and g.dtype == np.float32
    filled = np.zeros(g.shape[1:], bool)
    for k in range(n):
        r, c = divmod(k, cols)
        top, left = r * (4 + padding) + padding, c * (5 + padding) + padding
        np.testing.assert_array_equal(g[:, top:top + 4, left:left + 5], x[k])
        filled[top:top + 4, left:left + 5] = True
    assert (g[:, ~filled] == np.float32(0.25)).all()


def test_make_grid_grey_single_and_list_inputs():
    x = _images(3, c=1)
    g = make_grid(tf.tensor(x), nrow=3, padding=0).numpy()
    assert g.shape == (3, 4, 15)
    np.testing.assert_array_equal(g[0], g[2])           # grey becomes three equal channels
    one = make_grid(tf.tensor(x[0])).numpy()             # one image: no padding at all
    assert one.shape == (3, 4, 5) and np.array_equal(one[1], x[0, 0])
    np.testing.assert_array_equal(make_grid(tf.tensor(x[0, 0])).numpy(), one)
    lst = make_grid([tf.tensor(a) for a in _images(4)], nrow=2).numpy()
    np.testing.assert_array_equal(lst, make_grid(tf.tensor(_images(4)), nrow=2).numpy())
    with pytest.raises(TypeError):
        make_grid(np.zeros((2, 3, 4, 4)))


def test_make_grid_normalize():
    x = _images(4) * 6 - 2
    g = make_grid(tf.tensor(x), nrow=4, padding=0, normalize=True).numpy()
    assert g.min() == 0 and g.max() == 1
    np.testing.assert_allclose(g[:, :, :5], (x[0] - x.min()) / (x.max() - x.min()), rtol=1e-5, atol=1e-6)
    each = make_grid(tf.tensor(x), nrow=4, padding=0, normalize=True, scale_each=True).numpy()
    for k in range(4):
        tile = each[:, :, 5 * k:5 * k + 5]
        assert tile.min() == 0 and tile.max() == 1
    ranged = make_grid(tf.tensor(x), nrow=4, padding=0, normalize=True, value_range=(0.0, 2.0)).numpy()
    np.testing.assert_allclose(ranged[:, :, :5], np.clip(x[0], 0, 2) / 2, rtol=1e-6)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(tf.tensor(x), normalize=True, value_range=[0, 1])
    assert np.array_equal(tf.tensor(x).numpy(), x)        # normalize never writes into the input


def test_save_image_writes_the_grid_as_8_bit_png(tmp_path):
    from PIL import Image
    x = _images(6)
    x[0, 0, 0, 0], x[0, 1, 0, 0] = 1.7, -0.3                  # out of range: clamped
    path = tmp_path / "grid.png"
    save_image(tf.tensor(x), path, nrow=3)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        pixels = np.asarray(im)
    grid = make_grid(tf.tensor(x), nrow=3).numpy()
    expected = np.clip(grid * np.float32(255) + np.float32(0.5), 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
    assert pixels[2, 2, 0] == 255 and pixels[2, 2, 1] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]     # no temporary left beside it
    import io
    buf = io.BytesIO()
    save_image(tf.tensor(x), buf, format="png", nrow=3)
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        np.testing.assert_array_equal(np.asarray(im), pixels)
    with pytest.raises(ValueError, match="unknown file extension"):
        save_image(tf.tensor(x), tmp_path / "grid.notanimage")
