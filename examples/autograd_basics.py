"""Autograd in two small steps.

1. Gradient descent on f(x) = x^4 - x^3 - 2x^2 + 3: backward() gives f'(x) = 4x^3 - 3x^2 - 4x, and x walks down
   to the local minimum x* = (3 + sqrt(73)) / 8 = 1.4430 (the other minimum, at -0.6930, is the global one).
2. XOR learned by a 2-layer ReLU network (2 -> 8 -> 2, cross-entropy, full-batch SGD with momentum).

    python examples/autograd_basics.py [--steps 30] [--x0 2.5] [--lr 0.02]
"""
import argparse
import math
import os
import sys

try:
    import tinygrad_fer as tg
except ImportError:   # running from a checkout that is not pip-installed
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import tinygrad_fer as tg
from tinygrad_fer import nn, optim
from tinygrad_fer.nn import functional as F


def f(x):
    return x ** 4 - x ** 3 - 2 * x ** 2 + 3


def gradient_descent(x0=2.5, lr=0.02, steps=30):
    x = tg.tensor(x0, dtype=tg.float64, requires_grad=True)
    print(f"gradient descent on f(x) = x^4 - x^3 - 2x^2 + 3 from x = {x0}, lr = {lr}")
    print(f"{'step':>4} {'x':>10} {'f(x)':>10} {'df/dx':>10}")
    for step in range(steps + 1):
        y = f(x)
        y.backward()
        g = x.grad.item()
        print(f"{step:>4} {x.item():>10.6f} {y.item():>10.6f} {g:>10.6f}")
        if step == steps:
            break
        with tg.no_grad():
            x -= lr * x.grad
        x.grad = None
    x_star = (3 + math.sqrt(73)) / 8
    print(f"x* = (3 + sqrt(73)) / 8 = {x_star:.6f}, f(x*) = {f(x_star):.6f}; reached x = {x.item():.6f}\n")
    return x.item()


class XORNet(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


def learn_xor(steps=500, lr=0.1, seed=0):
    tg.manual_seed(seed)
    x = tg.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = tg.tensor([0, 1, 1, 0])
    net = XORNet()
    opt = optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    print("XOR with a 2-layer ReLU net (2 -> 8 -> 2)")
    for step in range(1, steps + 1):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step in (1, 10, 50, 100) or step % 100 == 0:
            print(f"  step {step:>4}: loss {loss.item():.6f}")
    with tg.no_grad():
        probs = F.softmax(net(x), dim=1).numpy()
    preds = probs.argmax(axis=1)
    for (a, b), p, q in zip(x.tolist(), preds.tolist(), probs[:, 1].tolist()):
        print(f"  {int(a)} xor {int(b)} -> {p}   (p(1) = {q:.4f})")
    acc = float((preds == y.numpy()).mean())
    print(f"accuracy {acc:.0%}")
    return acc


def main(argv=None):
    p = argparse.ArgumentParser(description="gradient descent on a quartic, then XOR")
    p.add_argument("--x0", type=float, default=2.5)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--xor-steps", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    x = gradient_descent(args.x0, args.lr, args.steps)
    acc = learn_xor(args.xor_steps, seed=args.seed)
    return x, acc


if __name__ == "__main__":
    main()
