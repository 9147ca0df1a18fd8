"""CIFAR-10 and CIFAR-100 from the official "python version" batches (root/cifar-10-batches-py/,
root/cifar-100-python/)."""
import os
import pickle

import numpy as np

from . import _safe_pickle
from .download import download_url, extract_tar
from .vision import ArrayImageDataset

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TAR_MD5 = "c58f30108f718f92721af3b95e74349a"
FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _unpickle(path, what):
    """The file's object, unpickled without running code from it: a global other than NumPy's array
    reconstruction raises _safe_pickle.UnsafePickleError (a pickle.UnpicklingError) naming it and the file."""
    try:
        return _safe_pickle.load(path)
    except _safe_pickle.UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as e:
        # a truncated or garbled file fails inside the opcodes or in NumPy's reconstruction
        raise RuntimeError(f"{path} is not a {what} (unpickling failed: {e})") from e


def load_batch(path):
    """(images uint8 (n, 3, 32, 32), labels int64 (n,)) from one pickled batch, checked for the format."""
    d = _unpickle(path, "CIFAR python batch")
    if not isinstance(d, dict) or "data" not in d or not ("labels" in d or "fine_labels" in d):
        raise RuntimeError(f"{path} is not a CIFAR python batch: expected a dict with 'data' and 'labels' "
                           f"(CIFAR-10) or 'fine_labels' (CIFAR-100), "
                           f"got {type(d).__name__} with keys {sorted(map(str, d)) if isinstance(d, dict) else None}")
    data = np.asarray(d["data"])
    labels = np.asarray(d.get("labels", d.get("fine_labels")), dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise RuntimeError(f"{path}: expected 'data' uint8 (n, 3072) and n labels, got 'data' {data.dtype} "
                           f"{data.shape} and {len(labels)} labels")
    return data.reshape(-1, 3, 32, 32), labels


class CIFAR10(ArrayImageDataset):
    """CIFAR-10 (torchvision's interface). `.data` is uint8 (N, 3, 32, 32), channels first -- unlike
    torchvision's (N, 32, 32, 3) -- so batches go to NCHW convolutions without a transpose; `.targets` is an
    int64 array; `.classes` the 10 names. download=True fetches the official tarball (MD5-checked) into root.
    The batch files themselves are not MD5-checked, so batches rebuilt from other copies of the images load too.
    """
    base_folder = FOLDER
    url = URL
    tgz_md5 = TAR_MD5

    train_list, test_list = TRAIN_FILES, TEST_FILES
    meta = {"filename": "batches.meta", "key": "label_names"}
    default_classes = CLASSES
    display_name = "CIFAR-10"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(os.path.expanduser(str(root)), train, transform, target_transform)
        name = type(self).__name__
        folder = os.path.join(self.root, self.base_folder)
        names = self.train_list if train else self.test_list
        if download:
            self.download()
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if missing:
            raise RuntimeError(
                f"{name}: dataset not found: {', '.join(missing)} missing in {folder}. Expected the {name} "
                f"python batches {', '.join(self.train_list + self.test_list)} (pickled dicts with 'data' uint8 "
                f"(n, 3072) and labels) in that folder; pass download=True to fetch them from "
                f"{self._download_source()[0]}.")
        parts = [load_batch(os.path.join(folder, n)) for n in names]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1] for p in parts])
        self.classes = self._read_classes(os.path.join(folder, self.meta["filename"]))
        if len(self.targets) and not 0 <= self.targets.min() <= self.targets.max() < len(self.classes):
            raise RuntimeError(f"{name}: labels in {folder} lie outside 0..{len(self.classes) - 1}")

    def _read_classes(self, meta):
        if not os.path.isfile(meta):
            if self.default_classes is None:
                raise RuntimeError(f"{type(self).__name__}: dataset metadata file {meta} not found; it names the "
                                   f"classes. You can use download=True to download it.")
            return list(self.default_classes)
        d = _unpickle(meta, f"{self.display_name} {self.meta['filename']} file")
        if not isinstance(d, dict):
            raise RuntimeError(f"{meta} is not a {self.display_name} {self.meta['filename']} file: expected a "
                               f"dict, got {type(d).__name__}")
        names = d.get(self.meta["key"])
        return [str(n) for n in names] if names else list(self.default_classes)

    def _check_exists(self):
        return all(os.path.isfile(os.path.join(self.root, self.base_folder, n))
                   for n in self.train_list + self.test_list)

    def download(self):
        if self._check_exists():
            return
        os.makedirs(self.root, exist_ok=True)
        url, md5 = self._download_source()
        archive = download_url(url, os.path.join(self.root, os.path.basename(url)), md5=md5)
        extract_tar(archive, self.root, self.base_folder)

    def _download_source(self):
        # read at call time so the module's URL / TAR_MD5 can be pointed elsewhere (a mirror, a test's file)
        return URL, TAR_MD5

    def _images(self, idx):
        return self.data[idx]


class CIFAR100(CIFAR10):
    """CIFAR-100 (torchvision's interface) from root/cifar-100-python/{train,test,meta}: `.targets` are the
    fine labels (0..99), `.classes` the 100 fine_label_names from the meta file (required), `.data` uint8
    (N, 3, 32, 32) channels first as CIFAR10's."""
    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list, test_list = ["train"], ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    default_classes = None
    display_name = "CIFAR-100"

    def _download_source(self):
        return self.url, self.tgz_md5
