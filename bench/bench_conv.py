"""conv2d and pooling forward+backward, ours vs PyTorch, on one net's layer shapes (float32): the FER CIFAR net's
(batch 50) by default, LeNet's (batch 256), the VGG-style net's (batch 64) or ResNet-8's (batch 128) of
bench/models.py.

Run: python bench/bench_conv.py [--net fer|lenet|vgg|resnet8] [--repeats 30] [--threads 2] [--cpu-time]
One process, the same thread count for everyone (torch, Numba, OpenBLAS; 2 by default), warm-up first, median of
repeats, interleaved so both libraries see the same machine noise. As in the net, the first conv's input needs no
gradient. --cpu-time reports process CPU time instead of wall time: with --threads 1 on a loaded machine it still
measures the work each library does (with 2 threads it would count spin-waiting too).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

_threads = threads.pin_from_argv()

import argparse  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import tinygrad_fer as tg  # noqa: E402
from tinygrad_fer.ops.conv import conv2d  # noqa: E402
from tinygrad_fer.ops.pool import avg_pool2d, max_pool2d  # noqa: E402
from timing import interleaved  # noqa: E402

torch.set_num_threads(_threads)

# (name, kind, input shape, weight shape or None, kwargs, input needs grad)
CASES = {"fer": [
    ("conv1 3->16 k5 p2 32x32", "conv", (50, 3, 32, 32), (16, 3, 5, 5), dict(padding=2), False),
    ("conv2 16->32 k5 p2 15x15", "conv", (50, 16, 15, 15), (32, 16, 5, 5), dict(padding=2), True),
    ("maxpool k3 s2 16x32x32", "pool", (50, 16, 32, 32), None, dict(kernel_size=3, stride=2), True),
    ("maxpool k3 s2 32x15x15", "pool", (50, 32, 15, 15), None, dict(kernel_size=3, stride=2), True),
], "lenet": [
    ("conv1 1->6 k5 p2 28x28", "conv", (256, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), False),
    ("conv2 6->16 k5 14x14", "conv", (256, 6, 14, 14), (16, 6, 5, 5), {}, True),
    ("avgpool k2 s2 6x28x28", "avg", (256, 6, 28, 28), None, dict(kernel_size=2, stride=2), True),
    ("avgpool k2 s2 16x10x10", "avg", (256, 16, 10, 10), None, dict(kernel_size=2, stride=2), True),
], "vgg": [
    ("conv 3->32 32x32", "conv", (64, 3, 32, 32), (32, 3, 3, 3), dict(padding=1), False),
    ("conv 32->32 32x32", "conv", (64, 32, 32, 32), (32, 32, 3, 3), dict(padding=1), True),
    ("conv 32->64 16x16", "conv", (64, 32, 16, 16), (64, 32, 3, 3), dict(padding=1), True),
    ("conv 64->64 16x16", "conv", (64, 64, 16, 16), (64, 64, 3, 3), dict(padding=1), True),
    ("conv 64->128 8x8", "conv", (64, 64, 8, 8), (128, 64, 3, 3), dict(padding=1), True),
    ("conv 128->128 8x8", "conv", (64, 128, 8, 8), (128, 128, 3, 3), dict(padding=1), True),
    ("maxpool k2 32x32x32", "pool", (64, 32, 32, 32), None, dict(kernel_size=2), True),
], "resnet8": [
    ("conv 3->16 32x32", "conv", (128, 3, 32, 32), (16, 3, 3, 3), dict(padding=1), False),
    ("conv 16->16 32x32", "conv", (128, 16, 32, 32), (16, 16, 3, 3), dict(padding=1), True),
    ("conv 16->32 s2 32x32", "conv", (128, 16, 32, 32), (32, 16, 3, 3), dict(padding=1, stride=2), True),
    ("conv 1x1 16->32 s2 32x32", "conv", (128, 16, 32, 32), (32, 16, 1, 1), dict(stride=2), True),
    ("conv 32->32 16x16", "conv", (128, 32, 16, 16), (32, 32, 3, 3), dict(padding=1), True),
    ("conv 32->64 s2 16x16", "conv", (128, 32, 16, 16), (64, 32, 3, 3), dict(padding=1, stride=2), True),
    ("conv 1x1 32->64 s2 16x16", "conv", (128, 32, 16, 16), (64, 32, 1, 1), dict(stride=2), True),
    ("conv 64->64 8x8", "conv", (128, 64, 8, 8), (64, 64, 3, 3), dict(padding=1), True),
]}


def make_step(lib, kind, x, w, b, kw, x_grad):
    T = (lambda a, rg: tg.tensor(a, requires_grad=rg)) if lib == "ours" else \
        (lambda a, rg: torch.tensor(a, requires_grad=rg))
    xt = T(x, x_grad)
    args = [T(w, True), T(b, True)] if kind == "conv" else []
    fn = {"conv": (conv2d, F.conv2d), "pool": (max_pool2d, F.max_pool2d),
          "avg": (avg_pool2d, F.avg_pool2d)}[kind][lib != "ours"]
    g = None

    def step():
        nonlocal g
        out = fn(xt, *args, **kw)
        if g is None:   # a fixed non-uniform upstream gradient, made once
            r = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(np.float32)
            g = tg.tensor(r) if lib == "ours" else torch.from_numpy(r)
        out.backward(g)
        for t in [xt] + args:
            t.grad = None
    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", choices=sorted(CASES), default="fer")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cpu-time", action="store_true")
    a = ap.parse_args()
    print(f"threads {a.threads}, {'CPU' if a.cpu_time else 'wall'} time, load average "
          f"{open('/proc/loadavg').read().split()[0]}")
    rng = np.random.default_rng(0)
    print(f"{'case (batch ' + str(CASES[a.net][0][2][0]) + ', fwd+bwd)':34s} {'ours ms':>9s} {'torch ms':>9s} "
          f"{'ratio':>7s}")
    for name, kind, xs, ws, kw, x_grad in CASES[a.net]:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal(ws).astype(np.float32) * 0.1 if ws else None
        b = rng.standard_normal(ws[0]).astype(np.float32) if ws else None
        steps = {lib: make_step(lib, kind, x, w, b, kw, x_grad) for lib in ("ours", "torch")}
        med = interleaved(steps, a.repeats, a.warmup, a.cpu_time)
        ours, theirs = 1e3 * med["ours"], 1e3 * med["torch"]
        print(f"{name:34s} {ours:9.2f} {theirs:9.2f} {ours / theirs:7.2f}")


if __name__ == "__main__":
    main()
