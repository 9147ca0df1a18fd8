"""End to end: the FER CIFAR-10 net built in both libraries with the same weights gives the same loss and the same
gradient for every parameter; and a small MLP trained with SGD learns a two-spiral task."""
import time

import numpy as np
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def fer_net(m):
    return m.Sequential(
        m.Conv2d(3, 16, kernel_size=5, padding=2), m.ReLU(), m.MaxPool2d(3, 2),
        m.Conv2d(16, 32, kernel_size=5, padding=2), m.ReLU(), m.MaxPool2d(3, 2),
        m.Flatten(), m.Linear(32 * 7 * 7, 256), m.ReLU(), m.Linear(256, 128), m.ReLU(), m.Linear(128, 10))


def _run(dtype_np, dtype_t, dtype_g, rtol, atol):
    torch.manual_seed(0)
    theirs = fer_net(torch.nn).to(dtype_t)
    ours = fer_net(nn).to(dtype_g)
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3, 32, 32)).astype(dtype_np)
    y = rng.integers(0, 10, 8)
    lt = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
    lo = nn.functional.cross_entropy(ours(tg.tensor(x)), tg.tensor(y))
    lt.backward()
    lo.backward()
    np.testing.assert_allclose(lo.item(), lt.item(), rtol=rtol)
    tp = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tp)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)


def test_fer_net_loss_and_all_gradients_float64():
    _run(np.float64, torch.float64, tg.float64, 1e-7, 1e-10)


def test_fer_net_loss_and_all_gradients_float32():
    _run(np.float32, torch.float32, tg.float32, 1e-4, 1e-5)


def _spirals(n, rng):
    t = np.sqrt(rng.uniform(0, 1, n)) * 2.5 * np.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 8
    x = np.concatenate([a, -a]) + rng.normal(0, 0.03, (2 * n, 2))
    y = np.concatenate([np.zeros(n, np.int64), np.ones(n, np.int64)])
    return x.astype(np.float32), y


def test_mlp_learns_two_spirals_with_sgd():
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = _spirals(200, rng)
    X, Y = tg.tensor(x), tg.tensor(y)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for step in range(1500):
        idx = rng.choice(len(x), 64, replace=False)
        opt.zero_grad()
        loss = loss_fn(model(X[tg.tensor(idx)]), Y[tg.tensor(idx)])
        loss.backward()
        opt.step()
        if step % 100 == 99:
            with tg.no_grad():
                acc = (model(X).argmax(1) == Y).float().mean().item()
            if acc > 0.97:
                break
    model.eval()
    with tg.no_grad():
        acc = (model(X).argmax(1) == Y).float().mean().item()
    assert acc > 0.95, f"accuracy {acc:.3f} after {step + 1} steps"
    assert step >= 99  # a linear model can't do this: the MLP needed training steps
    assert time.perf_counter() - start < 30
