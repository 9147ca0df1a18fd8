"""The examples end to end on tiny synthetic data written in the real file formats (CIFAR-10 python batches, idx
files): artefacts exist and are valid PNGs, checkpoints resume exactly, printed metrics are self-consistent."""
import importlib.util
import os
import pickle
import re
import struct

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(ROOT, "examples", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def cifar_example():
    return _load_example("train_cifar")


def assert_png(path):
    assert os.path.isfile(path), f"missing {path}"
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, f"{path} is not a PNG"
    from PIL import Image
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.size[0] > 50 and im.size[1] > 50


def write_cifar(root, per_batch=12, n_test=20, seed=0):
    """CIFAR-10 python batches with a learnable signal (the red plane's brightness encodes the label)."""
    folder = os.path.join(root, "cifar-10-batches-py")
    os.makedirs(folder)
    rng = np.random.default_rng(seed)
    names = [(f"data_batch_{i}", per_batch) for i in range(1, 6)] + [("test_batch", n_test)]
    for name, n in names:
        labels = np.arange(n) % 10
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        data[:, :1024] = (labels * 25)[:, None]
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels.tolist(), "data": data,
                         "filenames": [f"{name}_{i}.png" for i in range(n)]}, f)
    with open(os.path.join(folder, "batches.meta"), "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"], "num_vis": 3072, "num_cases_per_batch": per_batch}, f)
    return root


def write_idx(root, n_train=60, n_test=20, seed=0):
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, (n, 28, 28), dtype=np.uint8)
        for i, lab in enumerate(labels):   # a bright bar whose row encodes the label
            images[i, 2 + 2 * lab:4 + 2 * lab, 4:24] = 250
        with open(os.path.join(root, f"{prefix}-images-idx3-ubyte"), "wb") as f:
            f.write(struct.pack(">IIII", 0x0803, n, 28, 28) + images.tobytes())
        with open(os.path.join(root, f"{prefix}-labels-idx1-ubyte"), "wb") as f:
            f.write(struct.pack(">II", 0x0801, n) + labels.tobytes())
    return root


def parse_table(text, header):
    """The confusion matrix and the recall/precision columns printed after the line starting with header."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    start = next(i for i in range(start, len(lines)) if lines[i].startswith("true\\pred"))
    rows = lines[start + 1:start + 11]
    cells = [row.split()[-12:] for row in rows]   # from the right: class names may contain spaces
    cm = np.array([[int(v) for v in c[:10]] for c in cells])
    recall = np.array([float(c[10]) for c in cells])
    precision = np.array([float(c[11]) for c in cells])
    acc = re.match(r"accuracy ([0-9.]+) \((\d+)/(\d+)\)", lines[start + 11])
    return cm, recall, precision, float(acc.group(1)), int(acc.group(2)), int(acc.group(3))


def check_table(text, header, n):
    cm, recall, precision, acc, correct, total = parse_table(text, header)
    assert cm.sum() == total == n
    assert correct == np.trace(cm)
    assert acc == pytest.approx(correct / total, abs=1e-4)
    rows, cols = cm.sum(axis=1), cm.sum(axis=0)
    np.testing.assert_allclose(recall, np.where(rows > 0, np.diag(cm) / np.maximum(rows, 1), 0), atol=5e-4)
    np.testing.assert_allclose(precision, np.where(cols > 0, np.diag(cm) / np.maximum(cols, 1), 0), atol=5e-4)
    return cm


def test_cifar_train_plots_and_resume(cifar_example, tmp_path, capsys):
    data = write_cifar(str(tmp_path / "data"))
    out = str(tmp_path / "run")
    base = ["--data-dir", data, "--out", out, "--batch-size", "10", "--eval-batch-size", "16", "--seed", "3"]
    r1 = cifar_example.main(base + ["--epochs", "1"])
    text = capsys.readouterr().out
    # 60 training images: 54 train / 6 validation; 20 test
    assert "54 train / 6 validation / 20 test" in text
    check_table(text, "train:", 54)
    check_table(text, "valid:", 6)
    check_table(text, "test:", 20)
    for name in ("training_plot.png", "filters_epoch_000.png", "filters_epoch_001.png", "misclassified.png"):
        assert_png(os.path.join(out, name))
    assert os.path.isfile(os.path.join(out, "checkpoint.npz"))
    assert not [f for f in os.listdir(out) if f.startswith(".")], "temporary files left behind"
    assert len(r1["history"]["val_acc"]) == 1

    r2 = cifar_example.main(base + ["--epochs", "2", "--resume"])
    text = capsys.readouterr().out
    assert "resumed from" in text and "after epoch 1" in text
    assert "epoch 2/2" in text and "epoch 1/2" not in text
    assert len(r2["history"]["val_acc"]) == 2
    assert r2["history"]["val_loss"][0] == r1["history"]["val_loss"][0]
    assert_png(os.path.join(out, "filters_epoch_002.png"))

    # the resumed run replays exactly what an uninterrupted 2-epoch run does
    straight = cifar_example.main(["--data-dir", data, "--out", str(tmp_path / "straight"), "--batch-size", "10",
                                   "--eval-batch-size", "16", "--seed", "3", "--epochs", "2", "--no-plots"])
    capsys.readouterr()
    np.testing.assert_allclose(straight["history"]["val_loss"], r2["history"]["val_loss"], rtol=1e-6)
    np.testing.assert_allclose(straight["history"]["lr"], r2["history"]["lr"], rtol=1e-12)
    gamma = cifar_example.parse_args([]).gamma
    assert straight["history"]["lr"][1] == pytest.approx(straight["history"]["lr"][0] * gamma)


def test_cifar_resnet_with_augmentation(cifar_example, tmp_path, capsys):
    data = write_cifar(str(tmp_path / "data"), per_batch=8, n_test=10)
    out = str(tmp_path / "run")
    result = cifar_example.main(["--data-dir", data, "--out", out, "--model", "resnet", "--epochs", "1",
                                 "--batch-size", "8", "--limit-train", "24", "--limit-val", "4", "--limit-test", "6"])
    text = capsys.readouterr().out
    assert "24 train / 4 validation / 6 test" in text and "BatchNorm2d" in text
    check_table(text, "valid:", 4)
    assert result["test"]["cm"].sum() == 6
    assert_png(os.path.join(out, "filters_epoch_001.png"))
    assert_png(os.path.join(out, "misclassified.png"))


def test_cifar_missing_data_names_the_files(cifar_example, tmp_path):
    with pytest.raises(SystemExit) as e:
        cifar_example.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "run"), "--no-download"])
    msg = str(e.value)
    for name in ("data_batch_1", "data_batch_5", "test_batch", "cifar-10-python.tar.gz", str(tmp_path)):
        assert name in msg


def test_cifar_missing_data_offline_tries_download_then_explains(cifar_example, tmp_path, monkeypatch):
    import urllib.error
    import urllib.request
    tried = []

    def offline(url, *a, **k):
        tried.append(url)
        raise urllib.error.URLError("offline")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setattr(cifar_example, "_local_jpeg_copy", lambda: None)
    with pytest.raises(SystemExit) as e:
        cifar_example.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "run")])
    assert tried and tried[0].endswith("cifar-10-python.tar.gz")
    assert "could not download" in str(e.value) and "data_batch_1" in str(e.value)
    assert not any(p.name.endswith(".tar.gz") for p in tmp_path.iterdir())  # no partial archive left


def test_cifar_trains_the_package_nets(cifar_example):
    # the docs build these nets from tinygrad_fer.models: the script must train the very same classes
    from tinygrad_fer.models import FERNet, ResNet
    assert cifar_example.MODELS == {"fer": FERNet, "resnet": ResNet}


def test_cifar_channel_stats_match_float_computation(cifar_example):
    imgs = np.random.default_rng(0).integers(0, 256, (7, 3, 5, 5), dtype=np.uint8)
    mean, std = cifar_example.channel_stats(imgs)
    f = imgs.astype(np.float64) / 255
    np.testing.assert_allclose(mean, f.mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(std, f.std(axis=(0, 2, 3)), rtol=1e-12)


def test_mnist_sweep(tmp_path, capsys):
    mnist = _load_example("train_mnist")
    data = write_idx(str(tmp_path))
    out = str(tmp_path / "run")
    rows = mnist.main(["--data-dir", data, "--out", out, "--epochs", "1", "--batch-size", "20", "--sweep"])
    text = capsys.readouterr().out
    assert [r[0] for r in rows] == [1e-3, 1e-2, 1e-1]
    assert all(r[1]["cm"].sum() == 20 for r in rows)
    assert "lambda" in text and "test acc" in text
    assert_png(os.path.join(out, "weight_decay_filters.png"))


def test_fashion_mnist_single_run(tmp_path, capsys):
    mnist = _load_example("train_mnist")
    data = write_idx(str(tmp_path))
    rows = mnist.main(["--data-dir", data, "--dataset", "fashion", "--out", str(tmp_path / "run"), "--epochs", "1",
                       "--batch-size", "20", "--weight-decay", "0.01", "--no-plots"])
    text = capsys.readouterr().out
    assert len(rows) == 1 and rows[0][0] == 0.01
    check_table(text, "true\\pred", 20)
    assert "Ankle boot" in text


def test_autograd_basics(capsys):
    basics = _load_example("autograd_basics")
    x, acc = basics.main([])
    text = capsys.readouterr().out
    assert x == pytest.approx((3 + 73 ** 0.5) / 8, abs=1e-3)
    assert acc == 1.0 and "accuracy 100%" in text
    assert "1 xor 1 -> 0" in text and "0 xor 1 -> 1" in text


def test_cifar_offline_builds_from_local_jpeg_copy(cifar_example, tmp_path, monkeypatch, capsys):
    import urllib.error
    import urllib.request

    def offline(url, *a, **k):
        raise urllib.error.URLError("offline")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    # a stand-in for ../shared/tools/cifar10_from_jpeg.py: writes small batches where --out says
    script = tmp_path / "converter.py"
    script.write_text(f"import sys; sys.path.insert(0, {os.path.dirname(__file__)!r}); "
                      "from test_examples import write_cifar; write_cifar(sys.argv[sys.argv.index('--out') + 1])")
    monkeypatch.setattr(cifar_example, "_local_jpeg_copy", lambda: (str(script), "cifar10-jpeg.tar.gz"))
    data = str(tmp_path / "data")
    result = cifar_example.main(["--data-dir", data, "--out", str(tmp_path / "run"), "--epochs", "1",
                                 "--batch-size", "10", "--limit-train", "20", "--limit-val", "10", "--no-plots"])
    assert "offline: building CIFAR-10" in capsys.readouterr().out
    assert os.path.isfile(os.path.join(data, "cifar-10-batches-py", "data_batch_1"))
    assert result["test"]["cm"].sum() > 0



def test_cifar_example_trains_data_parallel_on_two_ranks(tmp_path):
    """--distributed under the launcher: two MPI ranks, DistributedSampler shares, DDP; rank 0 alone reports and
    writes the checkpoint, and the run ends normally."""
    import shutil
    import subprocess
    import sys
    import tinygrad_fer.distributed as dist
    if not dist.is_available() or shutil.which("mpiexec", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("the 'distributed' extra (mpi4py, openmpi) is not installed")
    write_cifar(str(tmp_path), per_batch=12, n_test=20)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "tinygrad_fer.distributed.run", "--nproc-per-node", "2",
                        os.path.join(ROOT, "examples", "train_cifar.py"), "--distributed", "--data-dir",
                        str(tmp_path), "--no-download", "--out", str(out), "--no-plots", "--epochs", "2",
                        "--batch-size", "8"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("summary: epochs 2") == 1          # rank 0 only
    assert os.path.isfile(out / "checkpoint.npz")


def test_cifar_example_distributed_resume_is_bit_identical(tmp_path):
    """Two ranks, 2 epochs straight against 1 epoch then --resume to 2: the same final weights to the bit (the
    sampler's permutation, the augmentation and the dropout streams are all seeded from (seed, epoch))."""
    import shutil
    import subprocess
    import sys
    import tinygrad_fer as tg
    import tinygrad_fer.distributed as dist
    if not dist.is_available() or shutil.which("mpiexec", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("the 'distributed' extra (mpi4py, openmpi) is not installed")
    write_cifar(str(tmp_path), per_batch=12, n_test=20)

    def run(out, epochs, *extra):
        r = subprocess.run([sys.executable, "-m", "tinygrad_fer.distributed.run", "--nproc-per-node", "2",
                            os.path.join(ROOT, "examples", "train_cifar.py"), "--distributed", "--data-dir",
                            str(tmp_path), "--no-download", "--out", str(out), "--no-plots", "--epochs", str(epochs),
                            "--batch-size", "8", *extra], capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
    run(tmp_path / "straight", 2)
    run(tmp_path / "resumed", 1)
    run(tmp_path / "resumed", 2, "--resume")
    a = tg.load(str(tmp_path / "straight" / "checkpoint.npz"))["model"]
    b = tg.load(str(tmp_path / "resumed" / "checkpoint.npz"))["model"]
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy(), err_msg=k)
