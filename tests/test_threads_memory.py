"""Grad mode is per thread, training in threads gives the sequential results, and a graph kept after backward()
(losses.append(loss)) holds no arrays."""
import gc
import threading
import tracemalloc

import numpy as np

import tinygrad_fer as tg
from tinygrad_fer import nn
from tinygrad_fer.autograd import Function
from tinygrad_fer.nn import functional as F


def test_no_grad_in_one_thread_leaves_the_other_recording():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def evaluator():
        with tg.no_grad():
            entered.set()
            checked.wait(10)
            seen["eval"] = tg.is_grad_enabled()

    def trainer():
        entered.wait(10)
        seen["train"] = tg.is_grad_enabled()
        x = tg.ones(2, requires_grad=True)
        seen["recorded"] = (x * 2).requires_grad
        checked.set()

    threads = [threading.Thread(target=evaluator), threading.Thread(target=trainer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"eval": False, "train": True, "recorded": True}
    assert tg.is_grad_enabled()


def test_a_new_thread_starts_with_grad_on():
    out = []
    with tg.no_grad():
        t = threading.Thread(target=lambda: out.append(tg.is_grad_enabled()))
        t.start()
        t.join()
    assert out == [True]


def _model_and_data(seed, hw=8):
    tg.manual_seed(seed)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(4 * (hw // 2) ** 2, 5))
    rng = np.random.default_rng(seed)
    data = [(tg.tensor(rng.standard_normal((6, 3, hw, hw)).astype(np.float32)), tg.tensor(rng.integers(0, 5, 6)))
            for _ in range(6)]
    return m, data


def _train(m, data, out):
    opt = tg.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
    for x, y in data:
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        out.append(loss.item())


def test_two_training_threads_and_an_evaluating_one_match_sequential_runs():
    sequential = [[], []]
    for i in range(2):
        _train(*_model_and_data(i + 1), sequential[i])
    models = [_model_and_data(i + 1) for i in range(2)]
    threaded = [[], []]
    stop = threading.Event()

    def evaluate():  # flips no_grad on and off all the time in its own thread
        m, data = _model_and_data(9)
        while not stop.is_set():
            with tg.no_grad():
                m(data[0][0])

    ev = threading.Thread(target=evaluate)
    ev.start()
    trainers = [threading.Thread(target=_train, args=(*models[i], threaded[i])) for i in range(2)]
    for t in trainers:
        t.start()
    for t in trainers:
        t.join(120)
    stop.set()
    ev.join(60)
    assert threaded == sequential


def _holds_array(v):
    if isinstance(v, (tuple, list)):
        return any(_holds_array(x) for x in v)
    return isinstance(v, (np.ndarray, tg.Tensor))


def _graph_nodes(t):
    nodes, stack = [], [t.grad_fn]
    while stack:
        n = stack.pop()
        if isinstance(n, Function) and all(n is not m for m in nodes):
            nodes.append(n)
            stack.extend(n.edges)
    return nodes


def test_a_kept_loss_holds_no_arrays_after_backward():
    m, data = _model_and_data(3)
    x, y = data[0]
    loss = F.cross_entropy(m(x), y)
    before = _graph_nodes(loss)
    assert any(_holds_array(n.saved) or any(_holds_array(v) for v in vars(n).values()) for n in before)
    loss.backward()
    after = _graph_nodes(loss)
    assert len(after) == len(before)  # the structure stays for introspection
    for n in after:
        assert not any(_holds_array(v) for v in vars(n).values()), type(n).__name__
        assert not _holds_array(n.saved) or n.saved is None, type(n).__name__
        assert all(not isinstance(e, tg.Tensor) or e.is_leaf for e in n.edges)


def test_keeping_losses_does_not_grow_memory():
    m, data = _model_and_data(4, hw=32)
    opt = tg.optim.SGD(m.parameters(), lr=0.01)
    losses = []

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(m(x), y)
        loss.backward()
        opt.step()
        losses.append(loss)

    step(*data[0])  # warm up lazily created buffers
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(30):
            step(*data[i % len(data)])
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    # the activations of one step are ~60 KB: keeping 30 graphs would hold ~2 MB; empty nodes stay small
    assert grown < 400_000, grown
