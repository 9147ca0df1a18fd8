"""Data package: loaders, samplers, collate, transforms, and the CIFAR10/MNIST readers on small synthetic files
written in the real formats (never real dataset files). PyTorch's torch.utils.data is the oracle where its
semantics are deterministic."""
import gzip
import io
import os
import pickle
import tarfile
import urllib.error
import urllib.request
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from hypothesis import given, settings, strategies as st

import tinygrad_fer.data.cifar as cifar_mod
from tinygrad_fer.data import (CIFAR10, MNIST, DataLoader, Dataset, FashionMNIST, RandomSampler, Subset,
                               TensorDataset, default_collate, random_split, transforms as T)
from tinygrad_fer.data.mnist import read_idx
from tinygrad_fer.tensor import Tensor


def np_of(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


def torch_dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def our_dtype_name(t):
    return t.dtype.name


# ---- synthetic files in the real formats -------------------------------------------------------------------

def write_cifar(root, n=20, seed=0):
    """root/cifar-10-batches-py with 5 train batches and a test batch of n images each; returns the arrays."""
    rng = np.random.default_rng(seed)
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder, exist_ok=True)
    out = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, n).tolist()
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"batch_label": name, "data": data, "labels": labels,
                         "filenames": [f"{i}.png" for i in range(n)]}, f)
        out[name] = (data, labels)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)], "num_vis": 3072}, f)
    return out


def idx_bytes(arr, magic_type=0x08):
    header = bytes([0, 0, magic_type, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(">u1").tobytes()


def write_mnist(folder, n=12, split="train", gz=True, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    for name, arr in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels)):
        raw = idx_bytes(arr)
        path = os.path.join(folder, name + (".gz" if gz else ""))
        with open(path, "wb") as f:
            f.write(gzip.compress(raw) if gz else raw)
    return images, labels


# ---- DataLoader against torch.utils.data ---------------------------------------------------------------------

def pair_datasets(n=10):
    x = np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)
    y = np.arange(n, dtype=np.int64) % 3
    return TensorDataset(Tensor(x), Tensor(y)), tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, False), (12, True)])
def test_loader_matches_torch_without_shuffle(batch_size, drop_last):
    ours, theirs = pair_datasets()
    a = DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tud.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    got, want = list(a), list(b)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert type(g) is type(w) and len(g) == len(w)
        for gt, wt in zip(g, w):
            assert tuple(gt.shape) == tuple(wt.shape)
            assert our_dtype_name(gt) == torch_dtype_name(wt)
            np.testing.assert_array_equal(gt.numpy(), wt.numpy())


def test_fast_path_equals_per_sample_path():
    ours, _ = pair_datasets(11)
    fast = list(DataLoader(ours, batch_size=4, shuffle=True, generator=5))
    # an explicit collate_fn forces the per-sample path (dataset[i] then collate)
    slow = list(DataLoader(ours, batch_size=4, shuffle=True, generator=5, collate_fn=default_collate))
    for f, s in zip(fast, slow):
        for ft, st_ in zip(f, s):
            np.testing.assert_array_equal(ft.numpy(), st_.numpy())
            assert ft.dtype == st_.dtype


class ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


Point = namedtuple("Point", "x y")


@pytest.mark.parametrize("samples", [
    [1, 2, 3],
    [1.5, 2.0, -3.25],
    [True, False, True],
    [np.float32(1), np.float32(2), np.float32(3)],
    [np.int32(1), np.int32(2), np.int32(3)],
    [np.zeros((2, 3), np.uint8), np.ones((2, 3), np.uint8), np.full((2, 3), 7, np.uint8)],
    [(1, 2.0), (3, 4.0), (5, 6.0)],
    [[1, 2], [3, 4], [5, 6]],
    [{"a": 1, "b": 0.5}, {"a": 2, "b": 1.5}, {"a": 3, "b": 2.5}],
    [Point(1, 2.0), Point(3, 4.0), Point(5, 6.0)],
    ["a", "b", "c"],
])
def test_default_collate_matches_torch(samples):
    def compare(g, w):
        if isinstance(w, torch.Tensor):
            assert isinstance(g, Tensor), (g, w)
            assert our_dtype_name(g) == torch_dtype_name(w) and tuple(g.shape) == tuple(w.shape)
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        elif isinstance(w, dict):
            assert type(g) is type(w) and g.keys() == w.keys()
            for k in w:
                compare(g[k], w[k])
        elif isinstance(w, (list, tuple)):
            assert type(g) is type(w) and len(g) == len(w)
            for gi, wi in zip(g, w):
                compare(gi, wi)
        else:
            assert g == w
    ds_ours, ds_torch = ListDataset(samples), ListDataset(samples)
    for g, w in zip(DataLoader(ds_ours, batch_size=2), tud.DataLoader(ds_torch, batch_size=2)):
        compare(g, w)


@pytest.mark.parametrize("batch", [[(1, 2), (3,)], [None, None], [np.array(["a"]), np.array(["b"])],
                                   [np.zeros(2), np.zeros(3)]])
def test_default_collate_errors_match_torch(batch):
    with pytest.raises(Exception) as want:
        tud.default_collate(batch)
    with pytest.raises(want.type):
        default_collate(batch)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0), dict(batch_size=-1), dict(batch_size=None, drop_last=True),
                                    dict(shuffle=True, sampler=[0, 1]), dict(num_workers=-1),
                                    dict(batch_sampler=[[0]], batch_size=2)])
def test_loader_argument_errors_match_torch(kwargs):
    with pytest.raises(Exception) as want:
        tud.DataLoader(list(range(5)), **kwargs)
    with pytest.raises(want.type):
        DataLoader(list(range(5)), **kwargs)


def test_loader_without_batching_and_custom_batch_sampler():
    assert list(DataLoader(ListDataset([1, 2, 3]), batch_size=None)) == [1, 2, 3]
    out = list(DataLoader(ListDataset([np.float32(1.5)]), batch_size=None))
    assert isinstance(out[0], Tensor) and out[0].item() == 1.5
    ours, theirs = pair_datasets(6)
    bs = [[5, 0], [1, 2, 3]]
    for g, w in zip(DataLoader(ours, batch_sampler=bs), tud.DataLoader(theirs, batch_sampler=bs)):
        np.testing.assert_array_equal(g[1].numpy(), w[1].numpy())
    assert len(DataLoader(ours, batch_sampler=bs)) == 2


def test_shuffle_reproducible_and_epochs_differ():
    ours, _ = pair_datasets(50)

    def epochs(gen, k=2):
        dl = DataLoader(ours, batch_size=7, shuffle=True, generator=gen)
        return [np.concatenate([y.numpy() for _, y in dl]) for _ in range(k)], \
            [np.concatenate([x.numpy()[:, 0, 0] for x, _ in dl])]

    (e1, _), (e2, _) = epochs(3), epochs(3)
    for a, b in zip(e1, e2):
        np.testing.assert_array_equal(a, b)
    xs = epochs(3)[1][0] / 6                        # row index of every sample seen in one epoch
    assert sorted(xs.astype(int).tolist()) == list(range(50))  # a permutation: each sample once
    dl = DataLoader(ours, batch_size=50, shuffle=True, generator=np.random.default_rng(0))
    first, second = [x.numpy()[:, 0, 0] for x, _ in dl], [x.numpy()[:, 0, 0] for x, _ in dl]
    assert not np.array_equal(first[0], second[0])   # a fresh permutation every epoch


def test_shuffle_follows_manual_seed_and_core_generator():
    import tinygrad_fer as tt
    ours, _ = pair_datasets(30)

    def order(**kw):
        return np.concatenate([x.numpy()[:, 0, 0] for x, _ in DataLoader(ours, batch_size=8, shuffle=True, **kw)])
    tt.manual_seed(123)
    a = order()
    tt.manual_seed(123)
    np.testing.assert_array_equal(a, order())
    g1, g2 = tt.Generator(), tt.Generator()
    g1.manual_seed(7)
    g2.manual_seed(7)
    np.testing.assert_array_equal(order(generator=g1), order(generator=g2))
    g1.manual_seed(8)   # re-seeding replaces the generator's stream: the loader must follow it
    g2.manual_seed(8)
    np.testing.assert_array_equal(order(generator=g1), order(generator=g2))


def test_drop_last_and_len():
    ds, _ = pair_datasets(10)
    for bs, drop, n_batches, last in [(3, False, 4, 1), (3, True, 3, 3), (5, True, 2, 5), (11, True, 0, None)]:
        dl = DataLoader(ds, batch_size=bs, drop_last=drop, shuffle=True, generator=0)
        batches = list(dl)
        assert len(dl) == len(batches) == n_batches
        if last is not None:
            assert batches[-1][0].shape[0] == last


def test_random_split_lengths_match_torch():
    for lengths in ([3, 7], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5], [10, 0]):
        ours = random_split(ListDataset(list(range(10))), lengths, generator=0)
        theirs = tud.random_split(list(range(10)), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        all_idx = sorted(i for s in ours for i in s.indices)
        assert all_idx == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ListDataset(list(range(10))), [3, 3])
    a1 = random_split(ListDataset(list(range(10))), [5, 5], generator=4)
    a2 = random_split(ListDataset(list(range(10))), [5, 5], generator=4)
    assert [s.indices for s in a1] == [s.indices for s in a2]


def test_subset_keeps_fast_path_and_values():
    ds, _ = pair_datasets(10)
    sub = Subset(ds, [9, 2, 4])
    assert sub._batch_getter() is not None
    (x, y), = list(DataLoader(sub, batch_size=3))
    np.testing.assert_array_equal(y.numpy(), np.array([9, 2, 4]) % 3)
    np.testing.assert_array_equal(x.numpy()[:, 0, 0], np.array([9, 2, 4]) * 6)


def test_tensor_dataset_size_mismatch():
    with pytest.raises(ValueError, match="Size mismatch"):
        TensorDataset(Tensor(np.zeros((3, 2), np.float32)), Tensor(np.zeros(4, np.int64)))


def test_random_sampler_replacement_and_num_samples():
    s = RandomSampler(range(5), replacement=True, num_samples=12, generator=1)
    idx = list(s)
    assert len(idx) == len(s) == 12 and all(0 <= i < 5 for i in idx)
    s = RandomSampler(range(4), num_samples=10, generator=1)
    idx = list(s)
    assert len(idx) == 10 and sorted(idx[:4]) == [0, 1, 2, 3] and sorted(idx[4:8]) == [0, 1, 2, 3]


# ---- transforms -----------------------------------------------------------------------------------------------

def torchvision_to_tensor(img):
    """What torchvision's ToTensor gives for a NumPy image (H, W) or (H, W, C), computed with torch itself."""
    img = img[:, :, None] if img.ndim == 2 else img
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
    return (t.to(torch.get_default_dtype()).div(255) if t.dtype == torch.uint8 else t).numpy()


# heights of 1, 3 and 4 are what a layout guess takes for a channel count
@pytest.mark.parametrize("shape", [(3, 5, 3), (1, 7, 3), (4, 2, 3), (3, 4, 4), (1, 1, 1), (4, 3, 1), (6, 5, 3),
                                   (5, 3, 2), (3, 5)])
def test_to_tensor_reads_arrays_as_numpy_images(shape):
    img = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    hwc = img[:, :, None] if img.ndim == 2 else img
    want = hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    out = T.ToTensor()(img)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == want.shape
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(out, torchvision_to_tensor(img))
    t = T.ToTensor()(Tensor(np.ascontiguousarray(want)))           # a Tensor is channels first already
    assert isinstance(t, Tensor) and tuple(t.shape) == want.shape
    np.testing.assert_array_equal(t.numpy(), want)


def test_to_tensor_batches_dtypes_and_errors():
    rng = np.random.default_rng(1)
    batch = rng.integers(0, 256, (2, 3, 5, 3), dtype=np.uint8)                   # (N, H, W, C)
    out = T.ToTensor()(batch)
    assert out.shape == (2, 3, 3, 5)
    for i in range(2):
        np.testing.assert_array_equal(out[i], torchvision_to_tensor(batch[i]))
    chw = Tensor(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))            # (N, C, H, W) Tensor
    np.testing.assert_array_equal(T.ToTensor()(chw).numpy(), out)
    assert tuple(T.ToTensor()(Tensor(batch[0, :, :, 0])).shape) == (1, 3, 5)   # a Tensor (H, W)
    # torchvision scales uint8 only: other dtypes keep their type and values, moved to channels first
    for dtype in (np.float64, np.float32, np.int32, np.int16, np.bool_):
        img = rng.integers(0, 3, (3, 4, 3)).astype(dtype)
        got = T.ToTensor()(img)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, torchvision_to_tensor(img))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional.*Got 1 dimensions"):
        T.ToTensor()(np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="Got 5 dimensions"):
        T.ToTensor()(np.zeros((1, 1, 2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'list'>"):
        T.ToTensor()([[0, 1]])


def test_to_tensor_follows_the_default_dtype():
    import tinygrad_fer as tg
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    tg.set_default_dtype(tg.float64)
    torch_default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        out = T.ToTensor()(img)
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, torchvision_to_tensor(img))
    finally:
        tg.set_default_dtype(tg.float32)
        torch.set_default_dtype(torch_default)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "P", "1", "I", "F"])
def test_to_tensor_pil_images(mode):
    Image = pytest.importorskip("PIL.Image")
    rgb = np.random.default_rng(2).integers(0, 256, (3, 5, 3), dtype=np.uint8)    # 3 rows, 5 columns
    pic = Image.fromarray(rgb, "RGB").convert(mode)
    out = T.ToTensor()(pic)
    # torchvision's reading: I -> int32, F -> float32 kept as they are; the 1-bit mode as 0/255; else uint8 / 255
    raw = np.array(pic, {"I": np.int32, "F": np.float32}.get(mode, np.uint8))
    raw = (raw * 255 if mode == "1" else raw).reshape(3, 5, len(pic.getbands()))
    assert out.shape == (len(pic.getbands()), 3, 5)
    np.testing.assert_array_equal(out, torchvision_to_tensor(raw))
    assert isinstance(out, Tensor) and np.asarray(out).dtype == {"I": np.int32, "F": np.float32}.get(mode, np.float32)


def test_normalize_by_hand():
    rng = np.random.default_rng(0)
    x = rng.random((4, 3, 5, 6), dtype=np.float32)
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]
    out = T.Normalize(mean, std)(x)
    want = (x - np.float32(mean)[:, None, None]) / np.float32(std)[:, None, None]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, want, rtol=1e-6)
    np.testing.assert_allclose(T.Normalize(mean, std)(x[0]), want[0], rtol=1e-6)
    # torch's own arithmetic as the oracle for the formula
    np.testing.assert_allclose(out, ((torch.from_numpy(x) - torch.tensor(mean)[:, None, None])
                                     / torch.tensor(std)[:, None, None]).numpy(), rtol=1e-6)
    x64 = x.astype(np.float64)
    assert T.Normalize(mean, std)(x64).dtype == np.float64
    y = x.copy()
    assert T.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_allclose(y, want, rtol=1e-6)
    with pytest.raises(TypeError, match="float"):
        T.Normalize(mean, std)(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="2 values but the input has 3 channels"):
        T.Normalize([0, 0], [1, 1])(x)
    with pytest.raises(ValueError, match="zero"):
        T.Normalize([0, 0, 0], [1, 0, 1])


def naive_crop(x, size, pad, tops, lefts):
    p = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return np.stack([p[i, :, t:t + size, l:l + size] for i, (t, l) in enumerate(zip(tops, lefts))])


@settings(max_examples=20)
@given(n=st.integers(1, 5), c=st.integers(1, 3), h=st.integers(4, 9), w=st.integers(4, 9),
       pad=st.integers(0, 3), seed=st.integers(0, 2**31))
def test_random_crop_matches_loop(n, c, h, w, pad, seed):
    size = min(h, w) - 1
    x = np.random.default_rng(seed).integers(0, 256, (n, c, h, w)).astype(np.uint8)
    out = T.RandomCrop(size, padding=pad, generator=seed)(x)
    rng = np.random.default_rng(seed)                 # the draws the transform makes: all tops, then all lefts
    tops = rng.integers(0, h + 2 * pad - size + 1, size=n)
    lefts = rng.integers(0, w + 2 * pad - size + 1, size=n)
    assert out.shape == (n, c, size, size) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, naive_crop(x, size, pad, tops, lefts))


def test_random_crop_options():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    out = T.RandomCrop(4, padding=4, generator=0)(x)        # offsets are per sample: crops differ
    assert out.shape == x.shape
    offsets = set()
    for seed in range(30):
        o = T.RandomCrop(4, padding=4, generator=seed)(x)
        offsets.add(o[0].tobytes() != o[1].tobytes())
    assert True in offsets
    # reflect padding, single image, asymmetric padding sequence (left, top, right, bottom)
    img = x[0]
    o = T.RandomCrop((5, 6), padding=(1, 0, 1, 1), padding_mode="reflect", generator=0)(img)
    assert o.shape == (1, 5, 6)
    np.testing.assert_array_equal(o, np.pad(img, ((0, 0), (0, 1), (1, 1)), mode="reflect"))
    o = T.RandomCrop(6, pad_if_needed=True, fill=9, generator=0)(img)
    assert o.shape == (1, 6, 6)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(5)(img)
    with pytest.raises(ValueError, match="Padding must be"):
        T.RandomCrop(4, padding=(1, 2, 3))


def test_random_horizontal_flip():
    x = np.random.default_rng(0).random((64, 2, 3, 5)).astype(np.float32)
    out = T.RandomHorizontalFlip(p=0.5, generator=3)(x)
    flips = np.random.default_rng(3).random(64) < 0.5
    np.testing.assert_array_equal(out[flips], x[flips][..., ::-1])
    np.testing.assert_array_equal(out[~flips], x[~flips])
    assert 10 < flips.sum() < 54
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x[0]), x[0][..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(x), x)


def test_random_transforms_reproducible_with_seed():
    x = Tensor(np.random.default_rng(0).integers(0, 256, (8, 3, 8, 8)).astype(np.uint8))   # (N, C, H, W)

    def pipe():
        return T.Compose([T.RandomCrop(8, padding=2, generator=11), T.RandomHorizontalFlip(generator=12),
                          T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)])
    p1, p2 = pipe(), pipe()
    for _ in range(3):
        np.testing.assert_array_equal(p1(x).numpy(), p2(x).numpy())
    assert p1.batched


# ---- CIFAR10 ------------------------------------------------------------------------------------------------

def test_cifar10_reads_batches(tmp_path):
    files = write_cifar(tmp_path)
    train = CIFAR10(tmp_path, train=True)
    test = CIFAR10(str(tmp_path), train=False)
    assert len(train) == 100 and len(test) == 20
    assert train.data.shape == (100, 3, 32, 32) and train.data.dtype == np.uint8
    assert train.classes == [f"class{i}" for i in range(10)]
    data, labels = files["data_batch_2"]
    img, label = train[25]
    assert isinstance(img, Tensor) and tuple(img.shape) == (3, 32, 32) and img.dtype.name == "uint8"
    assert label == labels[5] and type(label) is int
    # row layout: 1024 red, then green, then blue values, each a row-major 32x32 plane
    np.testing.assert_array_equal(img.numpy()[1, 2, 3], data[5, 1024 + 2 * 32 + 3])
    np.testing.assert_array_equal(test.targets, files["test_batch"][1])


def test_cifar10_loader_fast_and_per_sample_paths_agree(tmp_path):
    write_cifar(tmp_path)
    tf = T.Compose([T.ToTensor(), T.Normalize([0.49, 0.48, 0.45], [0.25, 0.24, 0.26])])
    ds = CIFAR10(tmp_path, train=True, transform=tf)
    assert ds._batch_getter() is not None
    fast = list(DataLoader(ds, batch_size=32, shuffle=True, generator=0))
    slow = list(DataLoader(ds, batch_size=32, shuffle=True, generator=0, collate_fn=default_collate))
    assert [tuple(x.shape) for x, _ in fast] == [(32, 3, 32, 32)] * 3 + [(4, 3, 32, 32)]
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert fx.dtype.name == "float32" and fy.dtype.name == "int64"
        np.testing.assert_allclose(fx.numpy(), sx.numpy(), rtol=1e-6)
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())
    # a per-sample callable (not batched) falls back to the per-sample path; it gets the uint8 (C, H, W) Tensor
    ds2 = CIFAR10(tmp_path, train=False, transform=lambda t: t[:, :8, :8].float())
    assert ds2._batch_getter() is None
    x, y = next(iter(DataLoader(ds2, batch_size=5)))
    assert tuple(x.shape) == (5, 3, 8, 8)


def test_cifar10_batch_transform_option(tmp_path):
    write_cifar(tmp_path)
    ds = CIFAR10(tmp_path, train=False, transform=T.ToTensor())
    aug = T.Compose([T.RandomCrop(32, padding=4, generator=1), T.RandomHorizontalFlip(generator=2)])
    x, y = next(iter(DataLoader(ds, batch_size=20, batch_transform=aug)))
    assert isinstance(x, Tensor) and tuple(x.shape) == (20, 3, 32, 32) and x.dtype.name == "float32"
    plain = ds.data.astype(np.float32) / 255
    want = T.Compose([T.RandomCrop(32, padding=4, generator=1), T.RandomHorizontalFlip(generator=2)])(plain)
    np.testing.assert_array_equal(x.numpy(), want)
    np.testing.assert_array_equal(y.numpy(), ds.targets)


def test_cifar10_torchvision_style_pipeline(tmp_path):
    # torchvision's CIFAR recipe, augmentation before ToTensor, works on both loader paths
    write_cifar(tmp_path, n=6)
    tf = T.Compose([T.RandomCrop(32, padding=4, generator=0), T.RandomHorizontalFlip(generator=1), T.ToTensor(),
                    T.Normalize([0.5] * 3, [0.25] * 3)])
    ds = CIFAR10(tmp_path, train=False, transform=tf)
    img, _ = ds[0]
    assert isinstance(img, Tensor) and tuple(img.shape) == (3, 32, 32) and img.dtype.name == "float32"
    x, _ = next(iter(DataLoader(ds, batch_size=6)))
    assert tuple(x.shape) == (6, 3, 32, 32)
    plain = CIFAR10(tmp_path, train=False, transform=T.Compose([T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)]))
    np.testing.assert_allclose(next(iter(DataLoader(plain, batch_size=6)))[0].numpy(),
                               (ds.data / np.float32(255) - 0.5) / 0.25, rtol=1e-6, atol=1e-6)


def test_cifar10_missing_files_error(tmp_path):
    with pytest.raises(RuntimeError) as e:
        CIFAR10(tmp_path, train=True)
    msg = str(e.value)
    assert os.path.join(str(tmp_path), "cifar-10-batches-py") in msg
    assert "data_batch_1" in msg and "test_batch" in msg and "download=True" in msg


def test_cifar10_corrupt_batch_error(tmp_path):
    write_cifar(tmp_path)
    with open(os.path.join(tmp_path, "cifar-10-batches-py", "data_batch_3"), "wb") as f:
        pickle.dump({"data": np.zeros((4, 100), np.uint8), "labels": [0] * 4}, f)
    with pytest.raises(RuntimeError, match="data_batch_3.*3072"):
        CIFAR10(tmp_path)


class _RunsCode:
    """Pickles as a call to fn(*args): what a crafted batch file would use to run code on load."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


@pytest.mark.parametrize("attack", ["system", "open", "exec"])
@pytest.mark.parametrize("victim", ["data_batch_1", "batches.meta"])
def test_cifar10_refuses_code_in_pickles(tmp_path, attack, victim):
    write_cifar(tmp_path)
    marker = tmp_path / "pwned"
    payload = {"system": _RunsCode(os.system, f"touch {marker}"), "open": _RunsCode(open, str(marker), "w"),
               "exec": _RunsCode(exec, f"open({str(marker)!r}, 'w').close()")}[attack]
    global_name = f"{payload.fn.__module__}.{payload.fn.__name__}"     # how pickle names the callable
    path = os.path.join(tmp_path, "cifar-10-batches-py", victim)
    with open(path, "wb") as f:     # the payload sits where the official file keeps its array
        pickle.dump({"data": payload, "labels": [0], "label_names": payload}, f)
    with pytest.raises(pickle.UnpicklingError) as e:
        CIFAR10(tmp_path, train=True)
    assert not marker.exists()
    assert f"'{global_name}'" in str(e.value) and path in str(e.value)


def py2_style_batch(obj):
    """obj pickled the way Python 2's cPickle wrote the official batches: protocol 2 and byte strings as
    BINSTRING opcodes (Python 2 str), not Python 3's _codecs.encode calls."""
    class Py2Pickler(pickle._Pickler):
        dispatch = dict(pickle._Pickler.dispatch)

        def save_bytes(self, b):
            self.write(pickle.BINSTRING + len(b).to_bytes(4, "little") + b)
            self.memoize(b)
        dispatch[bytes] = save_bytes
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


@pytest.mark.parametrize("style", [f"protocol{p}" for p in range(pickle.HIGHEST_PROTOCOL + 1)]
                         + ["python2", "numpy1_names"])
def test_cifar10_safe_unpickler_reads_every_pickle_style(tmp_path, style):
    files = write_cifar(tmp_path, n=3)
    data, labels = files["test_batch"]
    batch = {"batch_label": "testing batch 1 of 1", "data": data, "labels": labels,
             "filenames": ["a.png", "b.png", "c.png"], "count": np.int64(3), "mean": np.float32(0.5)}
    if style == "python2":
        blob = py2_style_batch(batch)
        assert b"_codecs" not in blob
    elif style == "numpy1_names":   # as NumPy 1.x wrote them (protocol 2 spells globals out as text)
        blob = pickle.dumps(batch, protocol=2)
        assert b"numpy._core.multiarray" in blob
        blob = blob.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    else:
        blob = pickle.dumps(batch, protocol=int(style[len("protocol"):]))
    path = os.path.join(tmp_path, "cifar-10-batches-py", "test_batch")
    with open(path, "wb") as f:
        f.write(blob)
    ds = CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(ds.data.reshape(3, -1), data)
    np.testing.assert_array_equal(ds.targets, labels)
    from tinygrad_fer.data import _safe_pickle
    got = _safe_pickle.load(path)
    assert got["count"] == 3 and got["mean"] == np.float32(0.5) and got["filenames"][1] == "b.png"


def test_cifar10_unreadable_meta_error(tmp_path):
    write_cifar(tmp_path)
    meta = os.path.join(tmp_path, "cifar-10-batches-py", "batches.meta")
    with open(meta, "wb") as f:
        f.write(pickle.dumps({"label_names": ["a"] * 10})[:-7])
    with pytest.raises(RuntimeError, match="batches.meta is not a CIFAR-10 batches.meta file"):
        CIFAR10(tmp_path)
    with open(meta, "wb") as f:
        pickle.dump(["not", "a", "dict"], f)
    with pytest.raises(RuntimeError, match="expected a dict, got list"):
        CIFAR10(tmp_path)


def make_cifar_tarball(tmp_path):
    src = tmp_path / "src"
    write_cifar(src, n=4)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    tgz = tmp_path / "cifar-10-python.tar.gz"
    tgz.write_bytes(buf.getvalue())
    import hashlib
    return tgz, hashlib.md5(buf.getvalue()).hexdigest()


def test_cifar10_download_extracts_atomically(tmp_path, monkeypatch, capsys):
    tgz, md5 = make_cifar_tarball(tmp_path)
    monkeypatch.setattr(cifar_mod, "URL", tgz.as_uri())     # a local file:// URL: no network in tests
    monkeypatch.setattr(cifar_mod, "TAR_MD5", md5)
    root = tmp_path / "root"
    ds = CIFAR10(root, train=True, download=True)
    assert len(ds) == 20
    assert sorted(os.listdir(root)) == ["cifar-10-batches-py", "cifar-10-python.tar.gz"]   # no temp leftovers
    assert len(CIFAR10(root, train=False, download=True)) == 4


def test_cifar10_download_md5_mismatch_and_offline(tmp_path, monkeypatch):
    tgz, _ = make_cifar_tarball(tmp_path)
    monkeypatch.setattr(cifar_mod, "URL", tgz.as_uri())
    monkeypatch.setattr(cifar_mod, "TAR_MD5", "0" * 32)
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="MD5 mismatch"):
        CIFAR10(root, download=True)
    assert os.listdir(root) == []                       # the partial download was removed

    def offline(*a, **k):
        raise urllib.error.URLError("network unreachable")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="could not download.*network unreachable"):
        CIFAR10(root, download=True)


# ---- MNIST / FashionMNIST -------------------------------------------------------------------------------------

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["root", "raw"])
def test_mnist_reads_idx(tmp_path, gz, layout):
    folder = tmp_path if layout == "root" else tmp_path / "MNIST" / "raw"
    images, labels = write_mnist(folder, gz=gz)
    ds = MNIST(tmp_path, train=True)
    assert ds.data.shape == (12, 28, 28) and ds.data.dtype == np.uint8 and ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    img, label = ds[3]
    assert tuple(img.shape) == (1, 28, 28) and label == int(labels[3])
    x, y = next(iter(DataLoader(MNIST(tmp_path, transform=T.ToTensor()), batch_size=5)))
    assert tuple(x.shape) == (5, 1, 28, 28) and x.dtype.name == "float32" and y.dtype.name == "int64"
    np.testing.assert_allclose(x.numpy()[:, 0], images[:5] / np.float32(255), rtol=1e-6)


def test_fashion_mnist_folder_and_classes(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYGRAD_FER_FASHION_MNIST_DIR", raising=False)
    write_mnist(tmp_path / "FashionMNIST" / "raw", split="test", gz=False)
    ds = FashionMNIST(tmp_path, train=False)
    assert len(ds) == 12 and ds.classes[9] == "Ankle boot"
    with pytest.raises(RuntimeError, match="train-images-idx3-ubyte"):
        FashionMNIST(tmp_path, train=True)


def test_fashion_mnist_looks_outside_root_only_when_asked(tmp_path, monkeypatch):
    # a machine with Debian's dataset-fashion-mnist installed must load what root holds, nothing else
    monkeypatch.delenv("TINYGRAD_FER_FASHION_MNIST_DIR", raising=False)
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    images, labels = write_mnist(elsewhere / "data" / "fashion", split="test")
    probed = []
    for name in ("isfile", "isdir", "exists"):
        real = getattr(os.path, name)
        monkeypatch.setattr(os.path, name, lambda p, real=real: probed.append(os.fspath(p)) or real(p))
    with pytest.raises(RuntimeError) as e:
        FashionMNIST(root, train=False)
    assert probed and all(p.startswith(str(root)) for p in probed), probed
    assert "TINYGRAD_FER_FASHION_MNIST_DIR" in str(e.value)     # the message says how to point elsewhere
    monkeypatch.setenv("TINYGRAD_FER_FASHION_MNIST_DIR", str(elsewhere))
    ds = FashionMNIST(root, train=False)
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)


def test_mnist_missing_files_error(tmp_path):
    with pytest.raises(RuntimeError) as e:
        MNIST(tmp_path)
    msg = str(e.value)
    assert "train-images-idx3-ubyte" in msg and "train-labels-idx1-ubyte" in msg
    assert str(tmp_path) in msg and "download=True" in msg


def test_idx_bad_magic_and_truncation(tmp_path):
    write_mnist(tmp_path, gz=False)
    labels = tmp_path / "train-labels-idx1-ubyte"
    images = tmp_path / "train-images-idx3-ubyte"
    with pytest.raises(RuntimeError, match="bad idx magic number 2049"):
        read_idx(labels, expected_magic=0x0803)
    raw = images.read_bytes()
    images.write_bytes(raw[:-10])
    with pytest.raises(RuntimeError, match="payload"):
        MNIST(tmp_path)
    images.write_bytes(b"\x12\x34" + raw[2:])
    with pytest.raises(RuntimeError, match="magic"):
        MNIST(tmp_path)
    # swapped files: labels where images belong
    images.write_bytes(labels.read_bytes())
    with pytest.raises(RuntimeError, match="bad idx magic number"):
        MNIST(tmp_path)


def test_utils_data_alias():
    import tinygrad_fer.utils.data as ud
    assert ud.DataLoader is DataLoader and ud.TensorDataset is TensorDataset and ud.random_split is random_split
