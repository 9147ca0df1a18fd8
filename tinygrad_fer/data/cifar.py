"""CIFAR-10 from the official "python version" batches (root/cifar-10-batches-py/)."""
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
    d = _unpickle(path, "CIFAR-10 python batch")
    if not isinstance(d, dict) or "data" not in d or not ("labels" in d or "fine_labels" in d):
        raise RuntimeError(f"{path} is not a CIFAR-10 python batch: expected a dict with 'data' and 'labels', "
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

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(os.path.expanduser(str(root)), train, transform, target_transform)
        folder = os.path.join(self.root, FOLDER)
        names = TRAIN_FILES if train else TEST_FILES
        if download:
            self.download()
        missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
        if missing:
            raise RuntimeError(
                f"CIFAR10: dataset not found: {', '.join(missing)} missing in {folder}. Expected the CIFAR-10 "
                f"python batches {', '.join(TRAIN_FILES + TEST_FILES)} (pickled dicts with 'data' uint8 "
                f"(10000, 3072) and 'labels') in that folder; pass download=True to fetch them from {URL}.")
        parts = [load_batch(os.path.join(folder, n)) for n in names]
        self.data = np.concatenate([p[0] for p in parts])
        self.targets = np.concatenate([p[1] for p in parts])
        self.classes = self._read_classes(os.path.join(folder, "batches.meta"))
        if len(self.targets) and not 0 <= self.targets.min() <= self.targets.max() < len(self.classes):
            raise RuntimeError(f"CIFAR10: labels in {folder} lie outside 0..{len(self.classes) - 1}")

    @staticmethod
    def _read_classes(meta):
        if not os.path.isfile(meta):
            return list(CLASSES)
        d = _unpickle(meta, "CIFAR-10 batches.meta file")
        if not isinstance(d, dict):
            raise RuntimeError(f"{meta} is not a CIFAR-10 batches.meta file: expected a dict, got {type(d).__name__}")
        names = d.get("label_names")
        return [str(n) for n in names] if names else list(CLASSES)

    def _check_exists(self):
        return all(os.path.isfile(os.path.join(self.root, FOLDER, n)) for n in TRAIN_FILES + TEST_FILES)

    def download(self):
        if self._check_exists():
            return
        os.makedirs(self.root, exist_ok=True)
        archive = download_url(URL, os.path.join(self.root, os.path.basename(URL)), md5=TAR_MD5)
        extract_tar(archive, self.root, FOLDER)

    def _images(self, idx):
        return self.data[idx]
