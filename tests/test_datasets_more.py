"""FakeData, ImageFolder / DatasetFolder and CIFAR100 against torchvision's documented behaviour, on small
synthetic files made in tmp_path (nothing from the machine)."""
import os
import pickle

import numpy as np
import pytest

import tinygrad_fer as tg
from tinygrad_fer.data import DataLoader, datasets
from tinygrad_fer.data import transforms as T

Image = pytest.importorskip("PIL.Image")


# ---- FakeData --------------------------------------------------------------------------------------------

def test_fakedata_samples_are_pil_images_fixed_per_index():
    ds = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3)
    assert len(ds) == 5
    img, target = ds[2]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and img.size == (4, 6)   # PIL size is (W, H)
    assert isinstance(target, int) and 0 <= target < 3
    again, target2 = ds[2]
    assert np.array_equal(np.asarray(img), np.asarray(again)) and target == target2
    assert not np.array_equal(np.asarray(ds[1][0]), np.asarray(img))
    # random_offset shifts the seed: index i with offset k is index i + k without one
    shifted = datasets.FakeData(size=5, image_size=(3, 6, 4), num_classes=3, random_offset=1)
    assert np.array_equal(np.asarray(shifted[1][0]), np.asarray(img)) and shifted[1][1] == target
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[5]


def test_fakedata_recipe_and_modes():
    # torchvision: randn(C, H, W) -> ToPILImage (times 255, cast to uint8 with wrap-around) -> mode by channels
    ds = datasets.FakeData(size=2, image_size=(1, 3, 5))
    img = ds[0][0]
    assert img.mode == "L" and img.size == (5, 3)
    normal = np.random.default_rng(0).standard_normal((1, 3, 5), dtype=np.float32)
    want = (np.trunc(normal * 255).astype(np.int64) % 256).astype(np.uint8)[0]
    np.testing.assert_array_equal(np.asarray(img), want)
    assert datasets.FakeData(1, (4, 2, 2))[0][0].mode == "RGBA"
    with pytest.raises(ValueError, match="1 to 4 channels"):
        datasets.FakeData(1, (5, 2, 2))


def test_fakedata_leaves_global_rng_alone_and_applies_transforms():
    tg.manual_seed(3)
    a = tg.rand(4).numpy()
    tg.manual_seed(3)
    seen = []
    ds = datasets.FakeData(4, (3, 8, 8), num_classes=5, transform=T.ToTensor(),
                           target_transform=lambda t: (seen.append(t), t + 10)[1])
    img, target = ds[0]
    assert 10 <= target < 15 and isinstance(seen[0], tg.Tensor) and seen[0].dtype == tg.int64
    np.testing.assert_array_equal(tg.rand(4).numpy(), a)
    assert tuple(img.shape) == (3, 8, 8) and np.asarray(img).dtype == np.float32
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 3, 8, 8) and y.dtype == tg.int64 and y.tolist() == [ds[i][1] for i in range(4)]


# ---- ImageFolder / DatasetFolder ---------------------------------------------------------------------------

def make_tree(root, layout, seed=0):
    """root/<class>/<file> for {class: [file names]}; image files hold random RGB pixels, returned by path."""
    rng = np.random.default_rng(seed)
    pixels = {}
    for cls, names in layout.items():
        os.makedirs(os.path.join(root, cls), exist_ok=True)
        for name in names:
            path = os.path.join(root, cls, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if name.endswith(".png"):
                a = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
                Image.fromarray(a).save(path)
                pixels[path] = a
            else:
                with open(path, "w") as f:
                    f.write("not an image")
    return pixels


def test_image_folder_layout_and_samples(tmp_path):
    pixels = make_tree(tmp_path, {"dog": ["b.png", "a.PNG.txt", "sub/c.png"], "cat": ["z.png", "y.png"],
                                  "emu": ["x.png"]})
    os.rename(tmp_path / "emu" / "x.png", tmp_path / "emu" / "x.PNG")    # extensions match case-insensitively
    pixels[str(tmp_path / "emu" / "x.PNG")] = pixels.pop(str(tmp_path / "emu" / "x.png"))
    (tmp_path / "loose.png").write_bytes(b"")                           # files at the top are not samples
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ["cat", "dog", "emu"]
    assert ds.class_to_idx == {"cat": 0, "dog": 1, "emu": 2}
    want = [(str(tmp_path / "cat" / "y.png"), 0), (str(tmp_path / "cat" / "z.png"), 0),
            (str(tmp_path / "dog" / "b.png"), 1), (str(tmp_path / "dog" / "sub" / "c.png"), 1),
            (str(tmp_path / "emu" / "x.PNG"), 2)]
    assert ds.samples == want and ds.imgs == want and ds.targets == [0, 0, 1, 1, 2] and len(ds) == 5
    assert ds.extensions == datasets.IMG_EXTENSIONS
    img, target = ds[3]
    assert isinstance(img, Image.Image) and img.mode == "RGB" and target == 1
    np.testing.assert_array_equal(np.asarray(img), pixels[want[3][0]])


def test_image_folder_transforms_and_loader(tmp_path):
    pixels = make_tree(tmp_path, {"a": ["1.png", "2.png"], "b": ["3.png"]})
    ds = datasets.ImageFolder(tmp_path, transform=T.ToTensor(), target_transform=lambda t: t * 2)
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert y.tolist() == [0, 0, 2]
    want = np.stack([pixels[p] for p, _ in ds.samples]).transpose(0, 3, 1, 2) / np.float32(255)
    np.testing.assert_allclose(x.numpy(), want, rtol=1e-6)
    gray = datasets.ImageFolder(tmp_path, loader=lambda p: Image.open(p).convert("L"))
    assert gray[0][0].mode == "L"


def test_image_folder_filters_and_errors(tmp_path):
    make_tree(tmp_path, {"a": ["1.png", "keep.txt"], "b": ["2.png"], "c": ["notes.txt"]})
    with pytest.raises(FileNotFoundError,
                       match="Found no valid file for the classes c. Supported extensions are: .jpg"):
        datasets.ImageFolder(tmp_path)
    ds = datasets.ImageFolder(tmp_path, allow_empty=True)
    assert ds.classes == ["a", "b", "c"] and ds.targets == [0, 1]
    only_txt = datasets.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith(".txt"), allow_empty=True)
    assert [os.path.basename(p) for p, _ in only_txt.samples] == ["keep.txt", "notes.txt"]
    assert only_txt.targets == [0, 2] and only_txt.extensions is None
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder in"):
        datasets.ImageFolder(empty)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        datasets.DatasetFolder(tmp_path, loader=open, extensions=".txt", is_valid_file=lambda p: True)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        datasets.DatasetFolder(tmp_path, loader=open)


def test_dataset_folder_custom_loader_and_extensions(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {}
    for cls in ("neg", "pos"):
        os.makedirs(tmp_path / cls)
        for i in range(2):
            a = rng.standard_normal(4).astype(np.float32)
            np.save(tmp_path / cls / f"{i}.npy", a)
            arrays[str(tmp_path / cls / f"{i}.npy")] = a
        (tmp_path / cls / "readme.md").write_text("skip me")
    ds = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=(".npy",))
    assert ds.classes == ["neg", "pos"] and ds.targets == [0, 0, 1, 1] and ds.extensions == (".npy",)
    for i, (path, target) in enumerate(ds.samples):
        x, y = ds[i]
        np.testing.assert_array_equal(x, arrays[path])
        assert y == target
    assert datasets.DatasetFolder(tmp_path, loader=np.load, extensions=".npy").targets == [0, 0, 1, 1]
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(x.shape) == (4, 4) and y.tolist() == [0, 0, 1, 1]


# ---- CIFAR100 ----------------------------------------------------------------------------------------------

def write_cifar100(root, n_train=12, n_test=5, seed=0, meta=True):
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-100-python")
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name, n in (("train", n_train), ("test", n_test)):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        fine = rng.integers(0, 100, n).tolist()
        coarse = rng.integers(0, 20, n).tolist()
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"filenames": [f"{i}.png" for i in range(n)], "batch_label": name, "fine_labels": fine,
                         "coarse_labels": coarse, "data": data}, f)
        out[name] = (data, fine)
    if meta:
        with open(os.path.join(folder, "meta"), "wb") as f:
            pickle.dump({"fine_label_names": [f"fine{i}" for i in range(100)],
                         "coarse_label_names": [f"coarse{i}" for i in range(20)]}, f)
    return out


def test_cifar100_reads_fine_labels(tmp_path):
    written = write_cifar100(tmp_path)
    for train, split in ((True, "train"), (False, "test")):
        ds = datasets.CIFAR100(tmp_path, train=train)
        data, fine = written[split]
        assert len(ds) == len(fine) and ds.targets.tolist() == fine
        np.testing.assert_array_equal(ds.data, data.reshape(-1, 3, 32, 32))
        assert ds.classes == [f"fine{i}" for i in range(100)] and ds.class_to_idx["fine7"] == 7
        img, target = ds[1]
        assert target == fine[1] and tuple(img.shape) == (3, 32, 32)
        np.testing.assert_array_equal(img.numpy(), data[1].reshape(3, 32, 32))
    ds = datasets.CIFAR100(tmp_path, transform=T.ToTensor())
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(x.numpy(), written["train"][0][:4].reshape(4, 3, 32, 32) / np.float32(255))
    assert y.tolist() == written["train"][1][:4]


def test_cifar100_errors(tmp_path):
    with pytest.raises(RuntimeError, match="CIFAR100: dataset not found: train missing in .*cifar-100-python"):
        datasets.CIFAR100(tmp_path)
    write_cifar100(tmp_path, meta=False)
    with pytest.raises(RuntimeError, match="metadata file .*meta not found"):
        datasets.CIFAR100(tmp_path)
    with open(tmp_path / "cifar-100-python" / "meta", "wb") as f:
        pickle.dump(os.system, f)
    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle the global 'posix.system'"):
        datasets.CIFAR100(tmp_path)


def test_torchvision_datasets_names():
    for name in ("CIFAR10", "CIFAR100", "DatasetFolder", "FakeData", "FashionMNIST", "ImageFolder", "MNIST"):
        assert name in datasets.__all__ and hasattr(datasets, name)


def test_vision_dataset_base():
    class Squares(datasets.VisionDataset):
        def __getitem__(self, i):
            return self.transforms(i, i * i)

        def __len__(self):
            return 3
    ds = Squares("~/somewhere", transform=lambda x: x + 1, target_transform=str)
    assert ds.root == os.path.expanduser("~/somewhere") and ds[2] == (3, "4")
    assert isinstance(ds.transforms, datasets.StandardTransform)
    joint = Squares(None, transforms=lambda x, y: (y, x))
    assert joint[2] == (4, 2) and joint.transform is None
    assert repr(joint).startswith("Dataset Squares\n    Number of datapoints: 3")
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can be passed as argument"):
        Squares(None, transforms=lambda x, y: (x, y), transform=abs)
    with pytest.raises(NotImplementedError):
        datasets.VisionDataset("r")[0]
    fake = datasets.FakeData(2, (3, 4, 4), transform=T.ToTensor())
    assert isinstance(fake, datasets.VisionDataset) and "Number of datapoints: 2" in repr(fake)
    assert "ToTensor" in repr(fake)
