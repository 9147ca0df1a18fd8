"""tinygrad_fer.utils: metrics against hand examples, summary against hand calculations (and PyTorch's parameter
counts), draw_graph's dot text, the plots' PNGs and the progress bar's fallback."""
import builtins
import os

import numpy as np
import pytest

import tinygrad_fer as tg
from tinygrad_fer import nn
from tinygrad_fer.utils import draw_graph, graph_to_dot, metrics, summary

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- metrics ----------------------------------------------------------------------------------------------------
def test_confusion_matrix_hand_example():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 2, 0, 2]
    cm = metrics.confusion_matrix(y_true, y_pred, 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 1], [1, 0, 3]])
    assert cm.dtype == np.int64
    p, r = metrics.precision_recall(cm)
    np.testing.assert_allclose(p, [1 / 2, 2 / 3, 3 / 4])     # column sums 2, 3, 4
    np.testing.assert_allclose(r, [1 / 2, 2 / 3, 3 / 4])     # row sums 2, 3, 4
    assert metrics.accuracy(cm) == pytest.approx(6 / 9)
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(6 / 9)
    f1 = metrics.f1_score(cm)
    np.testing.assert_allclose(f1, 2 * p * r / (p + r))


def test_precision_recall_asymmetric_and_zero_division():
    cm = np.array([[3, 1, 0], [2, 0, 0], [0, 0, 0]])   # class 1 never right, class 2 absent and never predicted
    p, r = metrics.precision_recall(cm)
    np.testing.assert_allclose(p, [3 / 5, 0, 0])
    np.testing.assert_allclose(r, [3 / 4, 0, 0])
    p, r = metrics.precision_recall(cm, zero_division=np.nan)
    assert np.isnan(p[2]) and np.isnan(r[2]) and p[1] == 0


def test_confusion_matrix_accepts_tensors_and_infers_classes():
    cm = metrics.confusion_matrix(tg.tensor([2, 0, 1]), tg.tensor([2, 0, 0]))
    np.testing.assert_array_equal(cm, [[1, 0, 0], [1, 0, 0], [0, 0, 1]])


@pytest.mark.parametrize("args, err", [(([0, 1], [0]), ValueError), (([0, 3], [0, 1], 3), ValueError),
                                       (([0.5, 1.0], [0, 1]), TypeError), (([[0, 1]], [[0, 1]]), ValueError)])
def test_confusion_matrix_errors(args, err):
    with pytest.raises(err):
        metrics.confusion_matrix(*args)


def test_format_confusion_table():
    cm = np.array([[5, 1], [2, 2]])
    text = metrics.format_confusion_table(cm, ["cat", "dog"])
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["true\\pred", "cat", "dog"]
    assert lines[1].split() == ["cat", "5", "1", "0.833", "0.714"]     # recall 5/6, precision 5/7
    assert lines[2].split() == ["dog", "2", "2", "0.500", "0.667"]     # recall 2/4, precision 2/3
    assert lines[3] == "accuracy 0.7000 (7/10)"
    with pytest.raises(ValueError):
        metrics.format_confusion_table(cm, ["one"])


# ---- summary ----------------------------------------------------------------------------------------------------
def fer_net():
    return nn.Sequential(nn.Conv2d(3, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                         nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
                         nn.Linear(32 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))


def test_summary_fer_net_hand_calculation():
    s = summary(fer_net(), (3, 32, 32), batch_size=50, print_fn=None)
    rf = [r["rf"][0] for r in s.rows]
    jump = [None if r["jump"] is None else r["jump"][0] for r in s.rows]
    # conv 5: 1 + 4 = 5; pool 3/2: 5 + 2 = 7, jump 2; conv 5: 7 + 4*2 = 15; pool 3/2: 15 + 2*2 = 19, jump 4
    assert rf == [5, 5, 7, 15, 15, 19, 32, 32, 32, 32, 32, 32]
    assert jump == [1, 1, 2, 2, 2, 4, None, None, None, None, None, None]
    assert [r["output_shape"] for r in s.rows] == [
        (50, 16, 32, 32), (50, 16, 32, 32), (50, 16, 15, 15), (50, 32, 15, 15), (50, 32, 15, 15), (50, 32, 7, 7),
        (50, 1568), (50, 256), (50, 256), (50, 128), (50, 128), (50, 10)]
    params = [r["params"] for r in s.rows]
    assert params == [3 * 16 * 25 + 16, 0, 0, 16 * 32 * 25 + 32, 0, 0, 0, 1568 * 256 + 256, 0, 256 * 128 + 128, 0,
                      128 * 10 + 10]
    assert s.total_params == sum(params) == 449_898
    assert s.param_bytes == 4 * 449_898
    # output bytes (float32), max-pool adds one int64 index per output element
    assert s.rows[0]["activation_bytes"] == 50 * 16 * 32 * 32 * 4
    assert s.rows[2]["activation_bytes"] == 50 * 16 * 15 * 15 * (4 + 8)
    assert s.input_bytes == 50 * 3 * 32 * 32 * 4
    assert s.activation_bytes == s.input_bytes + sum(r["activation_bytes"] for r in s.rows)
    assert s.rows[1]["activation_bytes"] * 2 == summary(fer_net(), (3, 32, 32), batch_size=100,
                                                        print_fn=None).rows[1]["activation_bytes"]


def test_summary_param_counts_match_pytorch():
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2),
                               torch.nn.Conv2d(16, 32, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2),
                               torch.nn.Flatten(), torch.nn.Linear(1568, 256), torch.nn.ReLU(),
                               torch.nn.Linear(256, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    s = summary(fer_net(), (3, 32, 32), print_fn=None)
    assert [r["params"] for r in s.rows] == [sum(p.numel() for p in m.parameters()) for m in tnet]
    assert s.total_params == sum(p.numel() for p in tnet.parameters())


def test_summary_dilation_stride_batchnorm_and_modes():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, dilation=2, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                        nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1))
    net.train()
    before = net[1].running_mean.numpy().copy()
    lines = []
    s = summary(net, (1, 20, 20), batch_size=2, print_fn=lines.append)
    # conv k3 d2 s2: rf 1 + 2*2 = 5, jump 2; BN/ReLU keep; pool 2/2: 5 + 1*2 = 7, jump 4; adaptive: whole input
    assert [r["rf"] for r in s.rows] == [(5, 5), (5, 5), (5, 5), (7, 7), (20, 20)]
    assert [r["jump"] for r in s.rows] == [(2, 2), (2, 2), (2, 2), (4, 4), None]
    assert [r["params"] for r in s.rows] == [36, 8, 0, 0, 0]
    assert net.training and all(m.training for m in net.modules())
    np.testing.assert_array_equal(net[1].running_mean.numpy(), before)
    assert all(not m._forward_hooks for m in net.modules())
    assert "BatchNorm2d" in lines[0] and "total params: 44" in lines[0]


def test_summary_residual_block_takes_larger_branch():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(2, 2, 3, padding=1)
            self.conv2 = nn.Conv2d(2, 2, 3, padding=1)
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.conv2(self.conv1(x)) + x)

    s = summary(Block(), (2, 8, 8), print_fn=None)
    assert [r["rf"][0] for r in s.rows] == [3, 5, 5]


# ---- draw_graph -------------------------------------------------------------------------------------------------
def test_graph_dot_names_ops_and_leaves(tmp_path):
    lin = nn.Linear(4, 3)
    x = tg.randn(2, 4, requires_grad=True)  # only what requires grad is in the graph, as in torchviz
    loss = (lin(x).relu() * 2).sum()
    src = draw_graph(loss, str(tmp_path / "g.dot"), params=dict(lin.named_parameters()))
    assert src.startswith("digraph") and src.rstrip().endswith("}")
    with open(tmp_path / "g.dot") as f:
        assert f.read() == src
    for token in ("Sum", "Mul", "weight\\n(3, 4)", "bias\\n(3)", "(2, 4)", "output\\n()"):
        assert token in src, token
    assert "->" in src
    assert src.count("[label=") == len(set(line.split()[0] for line in src.splitlines() if "[label=" in line))


def test_graph_without_history_and_bad_input():
    src = graph_to_dot(tg.ones(2))
    assert "output" in src and "->" not in src
    with pytest.raises(TypeError):
        graph_to_dot(np.ones(2))


def test_draw_graph_png_without_dot_writes_dot_and_a_note(tmp_path, monkeypatch, capsys):
    import tinygrad_fer.utils.graph as graph
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    x = tg.randn(3, requires_grad=True)
    draw_graph((x * x).sum(), str(tmp_path / "g.png"))
    assert (tmp_path / "g.dot").is_file() and not (tmp_path / "g.png").exists()
    assert "not installed" in capsys.readouterr().err


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="Graphviz dot not installed")
def test_draw_graph_renders_png(tmp_path):
    x = tg.randn(3, requires_grad=True)
    draw_graph((x * x).sum(), str(tmp_path / "g.png"))
    with open(tmp_path / "g.png", "rb") as f:
        assert f.read(8) == PNG_SIGNATURE


# ---- plots and progress ---------------------------------------------------------------------------------------
def _assert_png(path):
    from PIL import Image
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    with Image.open(path) as im:
        im.verify()


def test_plots_write_valid_pngs_atomically(tmp_path):
    pytest.importorskip("matplotlib")
    from tinygrad_fer.utils import plots
    hist = {"train_loss": [2.0, 1.5], "val_loss": [2.1, 1.7], "train_acc": [0.3, 0.5], "val_acc": [0.25, 0.45],
            "lr": [0.1, 0.09]}
    plots.plot_training_curves(hist, str(tmp_path / "curves.png"))
    w = np.random.default_rng(0).normal(size=(6, 3, 5, 5))
    plots.plot_filters(w, str(tmp_path / "f.png"), title="f")
    plots.plot_filter_panels([("a", w[:, :1]), ("b", w)], str(tmp_path / "panels.png"))
    imgs = np.random.default_rng(1).integers(0, 256, (3, 3, 8, 8), dtype=np.uint8)
    probs = np.random.default_rng(2).dirichlet(np.ones(4), size=3)
    plots.plot_misclassified(imgs, [0, 1, 2], probs, ["a", "b", "c", "d"], str(tmp_path / "m.png"))
    for name in ("curves.png", "f.png", "panels.png", "m.png"):
        _assert_png(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == ["curves.png", "f.png", "m.png", "panels.png"]


def test_filter_tiles_normalise_each_filter():
    from tinygrad_fer.utils.plots import filter_tiles
    w = np.stack([np.full((3, 2, 2), 5.0), np.arange(12.0).reshape(3, 2, 2) - 20])
    t = filter_tiles(w)
    assert t.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(t[0], 0)         # a constant filter does not divide by zero
    assert t[1].min() == 0 and t[1].max() == 1
    assert filter_tiles(np.ones((4, 1, 3, 3))).shape == (4, 3, 3, 3)


def test_progress_falls_back_without_tqdm(monkeypatch, capsys):
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name.startswith("tqdm"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    from tinygrad_fer.utils.progress import progress
    bar = progress(range(5), desc="work")
    seen = []
    for i in bar:
        seen.append(i)
        bar.set_postfix(loss=0.5)
    assert seen == [0, 1, 2, 3, 4]
    err = capsys.readouterr().err
    assert "work" in err and "5/5" in err and "loss=0.5" in err
