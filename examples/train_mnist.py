"""Train a small convnet on MNIST or Fashion-MNIST, and compare L2 weight-decay strengths.

    python examples/train_mnist.py --data-dir DIR                      # idx files (plain or .gz) in DIR
    python examples/train_mnist.py --dataset fashion --download
    TINYGRAD_FER_FASHION_MNIST_DIR=/usr/share/datasets/fashion-mnist python examples/train_mnist.py --dataset fashion
    python examples/train_mnist.py --sweep --epochs 2                  # lambda = 1e-3, 1e-2, 1e-1

Net: conv(16, 5x5)-ReLU-maxpool(2)-conv(32, 5x5)-ReLU-maxpool(2)-fc(512)-ReLU-fc(10) (28 -> 24 -> 12 -> 8 -> 4),
cross-entropy, SGD with momentum and L2 weight decay on the weights. --sweep trains one net per lambda from the
same initialisation and writes a table of accuracies and weight_decay_filters.png: the first layer's filters of
each net side by side (strong decay leaves smoother, smaller filters).

Only --data-dir (and its MNIST/raw or FashionMNIST/raw subfolders) is searched, plus, for Fashion-MNIST, the
folder in the environment variable TINYGRAD_FER_FASHION_MNIST_DIR when it is set (above: Debian's
dataset-fashion-mnist package).
"""
import argparse
import os
import sys
import time

import numpy as np

try:
    import tinygrad_fer as tg
except ImportError:   # running from a checkout that is not pip-installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tinygrad_fer as tg
from tinygrad_fer import nn, optim
from tinygrad_fer.data import FashionMNIST, MNIST, DataLoader, Subset, transforms as T
from tinygrad_fer.nn import functional as F
from tinygrad_fer.utils import metrics, plots

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_cifar import evaluate  # noqa: E402  (shared with the CIFAR example)

DATASETS = {"mnist": MNIST, "fashion": FashionMNIST}
SWEEP = (1e-3, 1e-2, 1e-1)
SPLIT_SEED = 20240601


class MNISTNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 4 * 4, 512)
        self.fc2 = nn.Linear(512, num_classes)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=os.path.join(os.path.expanduser("~"), ".cache", "tinygrad_fer"),
                   help="folder with the idx files (or its MNIST/raw, FashionMNIST/raw subfolders)")
    p.add_argument("--dataset", choices=sorted(DATASETS), default="mnist")
    p.add_argument("--download", action="store_true")
    p.add_argument("--out", default="runs/mnist")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-3, help="L2 penalty lambda on the weights")
    p.add_argument("--sweep", action="store_true", help=f"train once per lambda in {SWEEP} and compare")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=None, metavar="N")
    p.add_argument("--limit-test", type=int, default=None, metavar="N")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-plots", action="store_true")
    return p.parse_args(argv)


def load(args):
    cls = DATASETS[args.dataset]
    try:
        train = cls(args.data_dir, train=True, download=args.download)
        test = cls(args.data_dir, train=False, download=args.download)
    except RuntimeError as e:
        if "not found" in str(e):
            raise SystemExit(f"{e}\nPass --download, or --data-dir pointing at the idx files.") from None
        raise
    n_train = len(train) if args.limit_train is None else min(args.limit_train, len(train))
    idx = np.random.default_rng(SPLIT_SEED).permutation(len(train))[:n_train]
    sub = train.data[idx]
    mean, std = float(sub.mean() / 255), float(sub.std() / 255)
    train.transform = test.transform = T.Compose([T.ToTensor(), T.Normalize([mean], [std])])
    if args.limit_test is not None:
        test = Subset(test, np.arange(min(args.limit_test, len(test))))
    return Subset(train, idx), test, list(train.classes)


def train(args, train_set, test_set, classes, weight_decay, init_state):
    """One training run from init_state; returns (test result, first-layer weights, train seconds)."""
    model = MNISTNet(len(classes)).to(args.device)
    model.load_state_dict(init_state)
    decay = [p for p in model.parameters() if len(p.shape) > 1]
    plain = [p for p in model.parameters() if len(p.shape) <= 1]
    opt = optim.SGD([{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}],
                    lr=args.lr, momentum=args.momentum)
    t0 = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                            generator=np.random.default_rng([args.seed, epoch]))
        total = count = 0
        for x, y in loader:
            loss = F.cross_entropy(model(x.to(args.device)), y.to(args.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * len(y), count + len(y)
        print(f"  lambda {weight_decay:g} epoch {epoch}/{args.epochs}: train loss {total / count:.4f}", flush=True)
    seconds = time.perf_counter() - t0
    result = evaluate(model, DataLoader(test_set, batch_size=500), len(classes), args.device)
    return result, model.conv1.weight.detach().cpu().numpy(), seconds


def main(argv=None):
    args = parse_args(argv)
    train_set, test_set, classes = load(args)
    print(f"{args.dataset}: {len(train_set)} train / {len(test_set)} test images")
    tg.manual_seed(args.seed)
    init_state = {k: v.detach().clone() for k, v in MNISTNet(len(classes)).state_dict().items()}
    lambdas = SWEEP if args.sweep else (args.weight_decay,)
    rows, panels = [], []
    for lam in lambdas:
        result, filters, seconds = train(args, train_set, test_set, classes, lam, init_state)
        rows.append((lam, result, seconds, float(np.abs(filters).mean())))
        panels.append((f"lambda = {lam:g}\ntest acc {result['acc']:.3f}", filters))
        if not args.sweep:
            print(metrics.format_confusion_table(result["cm"], [c.split(" - ")[-1] for c in classes]))
    print(f"\n{'lambda':>8} {'test loss':>10} {'test acc':>9} {'mean |w1|':>10} {'train s':>8}")
    for lam, result, seconds, wmag in rows:
        print(f"{lam:>8g} {result['loss']:>10.4f} {result['acc']:>9.4f} {wmag:>10.4f} {seconds:>8.1f}")
    if not args.no_plots:
        name = "weight_decay_filters.png" if args.sweep else "filters.png"
        path = plots.plot_filter_panels(panels, os.path.join(args.out, name))
        print(f"first-layer filters: {path}")
    return rows


if __name__ == "__main__":
    main()
