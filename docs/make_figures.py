"""Draw the user guide's pictures (chapter 4) into docs/img/ (or --out DIR).

    python docs/make_figures.py              # writes docs/img/im2col.png, col2im.png, maxpool.png
    python docs/make_figures.py --out /tmp/x

The numbers in the pictures are computed with tinygrad_fer.kernels_ref (the NumPy reference kernels), so the
pictures show what the engine does, not a redrawing of it. Needs matplotlib (the `examples` extra).
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tinygrad_fer import kernels_ref  # noqa: E402
from tinygrad_fer.window import Window2d  # noqa: E402

WINDOW_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#ff7f00"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _grid(ax, values, title, fmt="{:g}", colours=None, x0=0.0, y0=0.0, cell=1.0):
    """Draw a matrix as labelled cells; colours: optional {(r, c): colour} fill."""
    rows, cols = values.shape
    for r in range(rows):
        for c in range(cols):
            fc = (colours or {}).get((r, c), "white")
            ax.add_patch(_rect(x0 + c * cell, y0 - (r + 1) * cell, cell, fc))
            ax.text(x0 + (c + 0.5) * cell, y0 - (r + 0.5) * cell, fmt.format(values[r, c]),
                    ha="center", va="center", fontsize=9)
    ax.text(x0 + cols * cell / 2, y0 + 0.35 * cell, title, ha="center", va="bottom", fontsize=10)


def _rect(x, y, s, fc):
    from matplotlib.patches import Rectangle
    return Rectangle((x, y), s, s, facecolor=fc, edgecolor="black", linewidth=0.8)


def _finish(fig, ax, path):
    ax.set_aspect("equal")
    ax.axis("off")
    ax.autoscale_view()
    fig.savefig(path, dpi=110, bbox_inches="tight", facecolor="white")


def draw_im2col(path):
    """A 4x4 input, a 3x3 kernel, stride 1: four windows become the four columns of a 9x4 matrix."""
    plt = _pyplot()
    x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    cols = kernels_ref.im2col(x, Window2d(3, 3))                      # (C, KH, KW, N, OH, OW)
    mat = cols.reshape(9, 4)                                          # (C*KH*KW, N*OH*OW)
    w = np.array([[0, 1, 0], [0, 0, 0], [0, 0, 2]], dtype=np.float64)
    out = (w.reshape(1, 9) @ mat).reshape(2, 2)
    fig, ax = plt.subplots(figsize=(11, 5.2))
    _grid(ax, x[0, 0], "input x (4x4)", x0=0, y0=9)
    # each window's pixels, outlined in its colour
    from matplotlib.patches import Rectangle
    for k, (oy, ox) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        inset = 0.06 * (k + 1)
        ax.add_patch(Rectangle((ox + inset, 9 - (oy + 3) + inset), 3 - 2 * inset, 3 - 2 * inset, fill=False,
                               edgecolor=WINDOW_COLOURS[k], linewidth=2))
    _grid(ax, mat, "columns = im2col(x)\n(C*KH*KW) x (N*OH*OW) = 9x4", x0=6, y0=9,
          colours={(r, c): WINDOW_COLOURS[c] + "40" for r in range(9) for c in range(4)})
    _grid(ax, w.reshape(1, 9), "weight W as one row (1x9)", x0=0, y0=3.2, cell=0.55)
    _grid(ax, out, "W @ columns\n-> output (2x2)", x0=12, y0=9,
          colours={(r, c): WINDOW_COLOURS[2 * r + c] + "40" for r in range(2) for c in range(2)})
    ax.annotate("", xy=(5.8, 7.5), xytext=(4.2, 7.5), arrowprops=dict(arrowstyle="->"))
    ax.annotate("", xy=(11.8, 8.0), xytext=(10.2, 8.0), arrowprops=dict(arrowstyle="->"))
    ax.text(0, -0.8, "window k (outlined on x) is column k; one GEMM (weight row @ columns) computes every output "
                     "pixel", fontsize=9)
    _finish(fig, ax, path)
    plt.close(fig)


def draw_col2im(path):
    """col2im adds each column back onto the pixels its window covers: with all-ones columns the result counts
    how many windows cover each pixel (3x3 kernel, stride 1, on 4x4 and on 5x5 with stride 2)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ones = np.ones((1, 3, 3, 1, 2, 2))
    a = kernels_ref.col2im(ones, (1, 1, 4, 4), Window2d(3, 3))[0, 0]
    g = np.arange(1, 5, dtype=np.float64).reshape(1, 1, 1, 1, 2, 2) * np.ones((1, 3, 3, 1, 2, 2))
    b = kernels_ref.col2im(g, (1, 1, 4, 4), Window2d(3, 3))[0, 0]
    ones2 = np.ones((1, 3, 3, 1, 2, 2))
    c = kernels_ref.col2im(ones2, (1, 1, 5, 5), Window2d(3, 3, 2, 2))[0, 0]
    _grid(ax, a, "col2im(ones):\nwindows over each pixel", x0=0, y0=5)
    _grid(ax, np.array([[1, 2], [3, 4]], dtype=np.float64), "dcols: window k\ncarries k+1", x0=5.6, y0=5,
          colours={(r, col): WINDOW_COLOURS[2 * r + col] + "40" for r in range(2) for col in range(2)})
    _grid(ax, b, "col2im(dcols):\noverlapping windows sum", x0=9, y0=5)
    _grid(ax, c, "col2im(ones), 5x5, stride 2:\noverlap only on row/col 2", x0=15.2, y0=5)
    ax.text(0, -0.8, "col2im is the adjoint of im2col: every column entry is added back to the pixel it was "
                     "copied from, so overlapping windows sum.", fontsize=9)
    _finish(fig, ax, path)
    plt.close(fig)


def draw_maxpool(path):
    """2x2 max-pool, stride 2: forward keeps the arg-max, backward routes each gradient to it (ties: the first
    maximum in row-major window order, PyTorch's choice)."""
    plt = _pyplot()
    x = np.array([[1, 3, 0, 0], [2, 0, 0, 0], [5, 1, 2, 4], [1, 5, 4, 3]], dtype=np.float64)
    out, idx = kernels_ref.max_pool2d(x[None, None], Window2d(2, 2, 2, 2), False)
    g = np.array([[10.0, 20.0], [30.0, 40.0]])
    gx = kernels_ref.max_pool2d_backward(g[None, None], idx, (1, 1, 4, 4))[0, 0]
    win = {(r, c): WINDOW_COLOURS[2 * (r // 2) + c // 2] + "30" for r in range(4) for c in range(4)}
    picked = {(int(q) // 4, int(q) % 4): WINDOW_COLOURS[k] for k, q in enumerate(idx.reshape(-1))}
    fig, ax = plt.subplots(figsize=(10, 4.2))
    _grid(ax, x, "input x (windows shaded)", x0=0, y0=5, colours={**win, **{k: v + "a0" for k, v in picked.items()}})
    _grid(ax, out[0, 0], "max_pool2d(x, 2)", x0=5, y0=5)
    _grid(ax, g, "upstream gradient g", x0=8, y0=5)
    _grid(ax, gx, "gradient on x", x0=11, y0=5, colours={k: v + "a0" for k, v in picked.items()})
    ax.text(0, -0.8, "Top-left: a unique maximum (3). Top-right (all zeros), bottom-left (5, 5) and bottom-right (4, 4) "
                     "are ties:\nthe first maximum in row-major window order gets the gradient.", fontsize=9)
    _finish(fig, ax, path)
    plt.close(fig)


FIGURES = {"im2col.png": draw_im2col, "col2im.png": draw_col2im, "maxpool.png": draw_maxpool}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "img"), help="folder for the PNG files")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    written = []
    for name, draw in FIGURES.items():
        path = os.path.join(args.out, name)
        draw(path)
        written.append(path)
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
