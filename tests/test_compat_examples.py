"""pytorch/examples-shaped scripts (tests/compat_scripts) under the compat runner, unmodified, on a synthetic MNIST
written in torchvision's idx layout: they must train (the loss falls) and write what they write under PyTorch."""
import os
import re
import struct
import subprocess
import sys

import numpy as np
import pytest

SCRIPTS = os.path.join(os.path.dirname(__file__), "compat_scripts")


def _write_mnist(root, n_train=256, n_test=64):
    """Idx files where the label decides the row of a bright bar: learnable within an epoch."""
    raw = os.path.join(root, "MNIST", "raw")
    os.makedirs(raw)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 2 + 2 * label:4 + 2 * label, 4:24] = 220
        with open(os.path.join(raw, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 2051, n, 28, 28) + x.tobytes())
        with open(os.path.join(raw, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 2049, n) + y.tobytes())


@pytest.fixture
def workdir(tmp_path):
    _write_mnist(str(tmp_path / "data"))      # the scripts read '../data' as the examples do
    work = tmp_path / "run"
    work.mkdir()
    return work


def _run(script, args, cwd):
    r = subprocess.run([sys.executable, "-m", "tinygrad_fer.compat", os.path.join(SCRIPTS, script), *args],
                       cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_mnist_example(workdir):
    out = _run("mnist_main.py", ["--epochs", "2", "--log-interval", "1", "--batch-size", "32", "--save-model"],
               workdir)
    losses = [float(v) for v in re.findall(r"Loss: ([0-9.]+)", out)]
    assert len(losses) == 16 and losses[-1] < losses[0] / 4
    accuracy = re.findall(r"Accuracy: (\d+)/64", out)
    assert len(accuracy) == 2 and int(accuracy[-1]) >= 48
    assert (workdir / "mnist_cnn.pt").exists()


def test_vae_example(workdir):
    from PIL import Image
    (workdir / "results").mkdir()
    out = _run("vae_main.py", ["--epochs", "2", "--batch-size", "32"], workdir)
    averages = [float(v) for v in re.findall(r"Average loss: ([0-9.]+)", out)]
    assert len(averages) == 2 and averages[1] < averages[0]
    with Image.open(workdir / "results" / "sample_2.png") as im:
        assert im.size == (8 * 30 + 2, 8 * 30 + 2) and im.mode == "RGB"     # 64 samples, 8 a row, 2 px padding
    with Image.open(workdir / "results" / "reconstruction_1.png") as im:
        assert im.size == (8 * 30 + 2, 2 * 30 + 2)
