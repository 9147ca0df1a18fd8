"""Training-step throughput on the GPU: tinygrad_fer on CUDA (CuPy) against PyTorch on CUDA, in one process.

Two nets, float32, SGD with momentum, cross-entropy on random data (the step's cost does not depend on the values):
  fer     the FER CIFAR net (conv16k5p2-ReLU-maxpool3/2-conv32k5p2-ReLU-maxpool3/2-fc256-fc128-fc10), batch 128
  resnet  a small ResNet (3x3 convs with padding, BatchNorm, residual adds, global average pooling), batch 256

    python bench/bench_gpu.py [--steps 30] [--warmup 5] [--nets fer resnet] [--batches 128 512]

Prints the device name, images/s for each library and the ratio ours/PyTorch. Without a GPU (no CuPy, no
device, or a PyTorch without CUDA) it says which is missing and exits 0.
"""
import argparse
import sys
import time

import numpy as np

from models import fer_net


def small_resnet(lib, widths=(32, 64, 128), classes=10):
    """conv-BN-ReLU stem, then per width a downsampling block (stride 2 after the first) and a plain block;
    `lib` is tinygrad_fer or torch."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.short = None
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + (x if self.short is None else self.short(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                      nn.ReLU())
            blocks, cin = [], widths[0]
            for i, w in enumerate(widths):
                blocks += [Block(cin, w, 1 if i == 0 else 2), Block(w, w, 1)]
                cin = w
            self.blocks = nn.Sequential(*blocks)
            self.fc = nn.Linear(cin, classes)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.fc(x.mean((2, 3)))      # global average pooling

    return Net()


NETS = {"fer": (fer_net, 128), "resnet": (small_resnet, 256)}


def why_no_gpu():
    import tinygrad_fer as tg
    from tinygrad_fer.backend_cuda import backend_cuda
    if not tg.cuda.is_available():
        return backend_cuda._probe()[1]
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed (it is the baseline): pip install torch"
    if not torch.cuda.is_available():
        return "this PyTorch build sees no CUDA device (it is the baseline)"
    return None


def time_steps(step, sync, warmup, steps):
    for _ in range(warmup):
        step()
    sync()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    return (time.perf_counter() - t) / steps


def bench_ours(build, batch, warmup, steps):
    import tinygrad_fer as tg
    from tinygrad_fer import optim
    from tinygrad_fer.nn import functional as F
    tg.manual_seed(0)
    model = build(tg).to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((batch, 3, 32, 32), dtype=np.float32), device="cuda")
    y = tg.tensor(rng.integers(0, 10, batch), device="cuda")

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return time_steps(step, tg.cuda.synchronize, warmup, steps)


def bench_torch(build, batch, warmup, steps):
    import torch
    torch.manual_seed(0)
    dev = torch.device("cuda")
    model = build(torch).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return time_steps(step, torch.cuda.synchronize, warmup, steps)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--nets", nargs="+", choices=sorted(NETS), default=["fer", "resnet"])
    ap.add_argument("--batches", nargs="+", type=int, help="batch sizes (default: each net's own)")
    args = ap.parse_args(argv)
    reason = why_no_gpu()
    if reason is not None:
        print(f"bench_gpu: no GPU to measure on, skipping. {reason}")
        return 0
    import torch
    import tinygrad_fer as tg
    print(f"device: {tg.cuda.get_device_name()} (PyTorch sees {torch.cuda.get_device_name()}), "
          f"PyTorch {torch.__version__}, float32, SGD momentum 0.9, {args.warmup} warm-up + {args.steps} timed steps")
    print(f"{'net':8} {'batch':>5} {'ours img/s':>12} {'torch img/s':>12} {'ours/torch':>10}")
    for name in args.nets:
        build, own = NETS[name]
        for batch in args.batches or [own]:
            ours = bench_ours(build, batch, args.warmup, args.steps)
            theirs = bench_torch(build, batch, args.warmup, args.steps)
            print(f"{name:8} {batch:5d} {batch / ours:12,.0f} {batch / theirs:12,.0f} {theirs / ours:10.3f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
