"""MNIST and Fashion-MNIST from idx files (gzip-compressed or plain)."""
import gzip
import os

import numpy as np

from .download import download_url
from .vision import ArrayImageDataset

# idx type byte -> big-endian numpy dtype
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IMAGES_MAGIC, LABELS_MAGIC = 0x0803, 0x0801   # uint8 with 3 dims / uint8 with 1 dim


def read_idx(path, expected_magic=None):
    """numpy array from an idx file (gzip detected by its signature, whatever the name). The header is
    validated: magic number, dtype code, and that the payload size matches the declared dimensions."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise RuntimeError(f"{path}: corrupted gzip data ({e})") from e
    if len(raw) < 4:
        raise RuntimeError(f"{path}: too short for an idx header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise RuntimeError(f"{path}: bad idx magic number {magic} (0x{magic:08x}), expected {expected_magic} "
                           f"(0x{expected_magic:08x}); is this the right file?")
    code, ndim = raw[2], raw[3]
    if raw[:2] != b"\0\0" or code not in _IDX_DTYPES or ndim == 0:
        raise RuntimeError(f"{path}: not an idx file (magic number 0x{magic:08x})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path}: truncated idx header ({len(raw)} bytes for {ndim} dimensions)")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[code])
    need = header + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != need:
        raise RuntimeError(f"{path}: idx payload has {len(raw) - header} bytes but the header declares dims "
                           f"{dims} of {dtype.itemsize} bytes ({need - header} bytes)")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


class MNIST(ArrayImageDataset):
    """MNIST (torchvision's interface): `.data` uint8 (N, 28, 28), `.targets` int64 (N,); samples are
    (1, 28, 28) images. Files are looked for, plain or .gz, in root, root/<Name>/raw and root/<Name>, and
    nowhere else unless `folder_env` names an environment variable that is set (FashionMNIST's)."""
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    folder_env = None    # name of an environment variable holding one more folder to search

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(os.path.expanduser(str(root)), train, transform, target_transform)
        prefix = "train" if train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        if download and any(self._find(n) is None for n in names):
            self.download()
        paths = [self._find(n) for n in names]
        if None in paths:
            missing = [n for n, p in zip(names, paths) if p is None]
            raise RuntimeError(
                f"{type(self).__name__}: dataset not found: {' and '.join(missing)} (plain or .gz) missing. "
                f"Looked in: {', '.join(self._folders())}. Expected the idx files "
                f"{', '.join(n for n, _ in self.resources)} (gzip or uncompressed); pass download=True to fetch "
                f"them into {self.raw_folder}" +
                (f", or set {self.folder_env} to a folder that holds them." if self.folder_env else "."))
        self.data = read_idx(paths[0], IMAGES_MAGIC)
        self.targets = read_idx(paths[1], LABELS_MAGIC).astype(np.int64)
        if len(self.data) != len(self.targets):
            raise RuntimeError(f"{type(self).__name__}: {paths[0]} holds {len(self.data)} images but "
                               f"{paths[1]} holds {len(self.targets)} labels")

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _folders(self):
        folders = [self.root, self.raw_folder, os.path.join(self.root, type(self).__name__)]
        # a folder outside root only when the user names it: what a machine happens to have installed must
        # not change what a given root loads
        extra = os.environ.get(self.folder_env) if self.folder_env else None
        if extra:
            extra = os.path.expanduser(extra)
            folders += [extra, os.path.join(extra, "data", "fashion")]
        return folders

    def _find(self, name):
        for folder in self._folders():
            for candidate in (name, name + ".gz"):
                path = os.path.join(folder, candidate)
                if os.path.isfile(path):
                    return path
        return None

    def download(self):
        os.makedirs(self.raw_folder, exist_ok=True)
        for name, md5 in self.resources:
            if self._find(name[:-3]) is not None:
                continue
            errors = []
            for mirror in self.mirrors:
                try:
                    download_url(mirror + name, os.path.join(self.raw_folder, name), md5=md5)
                    break
                except RuntimeError as e:
                    errors.append(str(e))
            else:
                raise RuntimeError(f"{type(self).__name__}: could not download {name}: " + "; ".join(errors))

    def _images(self, idx):
        return self.data[idx][..., None, :, :]    # add the channel axis: (1, H, W) or (N, 1, H, W)


class FashionMNIST(MNIST):
    """Fashion-MNIST: same files and layout as MNIST (root/FashionMNIST/raw), Zalando's 10 classes.

    When the environment variable TINYGRAD_FER_FASHION_MNIST_DIR is set, the files are also looked for in that
    folder and in its data/fashion subfolder (the layout of Zalando's repository), after root's folders: e.g.
    TINYGRAD_FER_FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist for Debian's dataset-fashion-mnist
    package. Unset, only root is searched."""
    mirrors = ["https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    folder_env = "TINYGRAD_FER_FASHION_MNIST_DIR"
