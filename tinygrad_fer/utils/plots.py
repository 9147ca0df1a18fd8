"""Training pictures with matplotlib (an optional extra, so it is imported inside the functions, on the Agg
backend): learning curves, first-layer filter grids, misclassified examples. Every picture is written atomically
(temp file in the same folder, then os.replace, via tinygrad_fer._atomic), so a crash mid-write never leaves a
truncated PNG behind, and the next save of the same picture removes a killed write's temporary."""
import math
import os

import numpy as np

from .._atomic import atomic_write


def _pyplot():
    import matplotlib
    if matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg", force=True)   # headless: no display needed, and no GUI event loop
    import matplotlib.pyplot as plt
    return plt


def _numpy(x):
    if hasattr(x, "detach"):      # a Tensor (possibly a Parameter, possibly on the GPU)
        x = x.detach().cpu()
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def save_figure(fig, path, dpi=100):
    """fig -> path atomically (format from the extension), then close fig. Returns path."""
    plt = _pyplot()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    ext = os.path.splitext(path)[1] or ".png"
    try:
        with atomic_write(path, suffix=ext) as f:
            fig.savefig(f, dpi=dpi, format=ext[1:], bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def plot_training_curves(history, path):
    """history: dict of per-epoch lists 'train_loss', 'val_loss', 'train_acc', 'val_acc', 'lr' (missing keys are
    skipped). Three panels: loss, accuracy, learning rate."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = [("loss", ["train_loss", "val_loss"]), ("accuracy", ["train_acc", "val_acc"]), ("learning rate", ["lr"])]
    for ax, (title, keys) in zip(axes, panels):
        for key in keys:
            ys = history.get(key) or []
            if len(ys):
                xs = np.arange(1, len(ys) + 1)
                ax.plot(xs, ys, marker="o", markersize=3, label=key.replace("_", " ").replace("val", "valid"))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if title != "learning rate":
            ax.legend()
    if history.get("lr"):
        axes[2].ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
    fig.tight_layout()
    return save_figure(fig, path)


def filter_tiles(weight):
    """(O, C, kh, kw) conv weights -> (O, kh, kw, 3) RGB tiles in [0, 1], each filter min-max normalised on its
    own (over all its channels, so colour balance within a filter is kept). C == 3 is shown as RGB, any other C as
    grey (the channel mean)."""
    w = _numpy(weight).astype(np.float64)
    if w.ndim != 4:
        raise ValueError(f"filter_tiles expects conv weights (out, in, kh, kw), got shape {w.shape}")
    w = w.transpose(0, 2, 3, 1) if w.shape[1] == 3 else np.repeat(w.mean(axis=1)[..., None], 3, axis=-1)
    lo = w.min(axis=(1, 2, 3), keepdims=True)
    span = w.max(axis=(1, 2, 3), keepdims=True) - lo
    return (w - lo) / np.where(span > 0, span, 1.0)


def _draw_filters(fig, cell, weight, title):
    tiles = filter_tiles(weight)
    n = len(tiles)
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = cell.subgridspec(rows, cols, wspace=0.08, hspace=0.08)
    for i in range(rows * cols):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        ax.axis("off")
        if i < n:
            ax.imshow(tiles[i], interpolation="nearest")
    if title:
        box = cell.get_position(fig)
        fig.text((box.x0 + box.x1) / 2, box.y1 + 0.02, title, ha="center", va="bottom", fontsize=11)


def plot_filters(weight, path, title=None):
    """One grid of the filters of a conv weight (O, C, kh, kw); see filter_tiles for the colour mapping."""
    return plot_filter_panels([(title, weight)], path)


def plot_filter_panels(panels, path):
    """Several filter grids side by side: panels is a list of (title, weight)."""
    plt = _pyplot()
    fig = plt.figure(figsize=(4 * len(panels), 4.4))
    outer = fig.add_gridspec(1, len(panels), wspace=0.15)
    for k, (title, weight) in enumerate(panels):
        _draw_filters(fig, outer[0, k], weight, title)
    return save_figure(fig, path)


def _display_image(img, mean=None, std=None):
    """(C, H, W) uint8 or float (optionally normalised with mean/std) -> (H, W, 3) or (H, W) floats in [0, 1]."""
    a = _numpy(img)
    if a.dtype == np.uint8:
        a = a.astype(np.float64) / 255
    elif mean is not None:
        a = a * np.asarray(std, dtype=np.float64)[:, None, None] + np.asarray(mean, dtype=np.float64)[:, None, None]
    a = np.clip(a, 0, 1)
    return a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0)


def plot_misclassified(images, true, probs, class_names, path, mean=None, std=None, cols=5):
    """A grid of images, each captioned with its true class and the model's top-3 classes with probabilities.
    images: (N, C, H, W) uint8 (or floats normalised with mean/std); true: (N,) labels; probs: (N, K) class
    probabilities."""
    plt = _pyplot()
    images, true, probs = _numpy(images), _numpy(true), _numpy(probs)
    n = len(images)
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 3.0 * rows), squeeze=False, layout="constrained")
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        img = _display_image(images[i], mean, std)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest")
        top = np.argsort(-probs[i])[:3]
        lines = [f"true: {class_names[int(true[i])]}"]
        lines += [f"{class_names[int(k)]} {probs[i, k]:.2f}" for k in top]
        ax.set_title("\n".join(lines), fontsize=8, loc="left")
    return save_figure(fig, path)
