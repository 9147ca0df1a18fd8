"""DistributedDataParallel's gradient buckets: the autograd pieces they stand on (post-accumulate-grad hooks, leaves
finished as soon as their gradient is complete, end-of-backward callbacks) against PyTorch, the bucket assignment
against PyTorch's, and training on two real MPI ranks (skipped where the `distributed` extra is not installed)."""
import numpy as np
import pytest
import torch
import torch.distributed

import tinygrad_fer as tg
from tinygrad_fer import autograd
from tinygrad_fer.distributed._reducer import Reducer, _compute_bucket_assignment_by_size
from test_distributed import _run_ranks, needs_mpi


def _hook_order(lib):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    log = []
    for name, p in net.named_parameters():
        p.register_post_accumulate_grad_hook(lambda p, name=name: log.append((name, p.grad.sum().item())))
    h = net[0](lib.ones(5, 3))
    h.register_hook(lambda g: log.append(("act0", None)))
    h2 = net[2](net[1](h))
    h2.register_hook(lambda g: log.append(("act2", None)))
    net[4](net[3](h2)).sum().backward()
    return log


def test_post_accumulate_grad_hooks_run_as_each_leaf_is_done_like_torch():
    """Each parameter's hook runs once its .grad is accumulated, while backward still runs through the earlier
    layers (the activation hooks): the order and the gradients PyTorch's engine gives."""
    ours, theirs = _hook_order(tg), _hook_order(torch)
    assert [n for n, _ in ours] == [n for n, _ in theirs] == [
        "4.bias", "4.weight", "act2", "2.bias", "2.weight", "act0", "0.bias", "0.weight"]
    np.testing.assert_allclose([v for _, v in ours if v is not None], [v for _, v in theirs if v is not None],
                               rtol=1e-5)


def test_post_accumulate_grad_hook_sees_the_accumulated_grad_and_can_be_removed():
    for lib in (tg, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
        (w * 3).sum().backward()
        (w * w).sum().backward()
        lib.autograd.grad((w * 5).sum(), w)        # accumulates nothing: no hook
        (w * 2).sum().backward(inputs=[w])
        handle.remove()
        w.sum().backward()
        assert seen == [[3.0, 3.0], [5.0, 7.0], [7.0, 9.0]], lib.__name__


def test_post_accumulate_grad_hook_errors_like_torch():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            lib.ones(2).register_post_accumulate_grad_hook(print)
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
            (lib.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


def test_queue_callback_runs_at_the_end_of_backward():
    """A callback queued from a hook runs after every leaf has its gradient (and may queue another); outside a
    backward pass, or after a failed one, nothing is left queued."""
    a, b = tg.tensor([1.0], requires_grad=True), tg.tensor([2.0], requires_grad=True)
    log = []

    def at_end():
        log.append(("end", a.grad.item(), b.grad.item()))
        autograd.queue_callback(lambda: log.append("later"))
    b.register_post_accumulate_grad_hook(lambda p: autograd.queue_callback(at_end))
    ((a * 2).exp() * b).sum().backward()
    assert log[0][0] == "end" and log[1] == "later" and len(log) == 2
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
        autograd.queue_callback(print)
    c = tg.tensor([1.0], requires_grad=True)

    def boom(p):
        autograd.queue_callback(lambda: log.append("never"))
        raise ValueError("boom")
    handle = c.register_post_accumulate_grad_hook(boom)
    with pytest.raises(ValueError, match="boom"):
        (c * 2).sum().backward()
    handle.remove()
    (c * 2).sum().backward()
    assert "never" not in log and autograd._callbacks == []


@pytest.mark.parametrize("seed", range(6))
def test_bucket_assignment_is_torchs(seed):
    rng = np.random.default_rng(seed)
    kinds = [(np.float32, torch.float32), (np.float64, torch.float64)]
    shapes = [(int(rng.integers(1, 300)),) for _ in range(int(rng.integers(1, 15)))]
    picks = [kinds[int(rng.integers(0, 2))] for _ in shapes]
    limits = sorted(int(x) for x in rng.integers(16, 2000, int(rng.integers(1, 3))))
    ours = _compute_bucket_assignment_by_size([tg.tensor(np.zeros(s, d)) for s, (d, _) in zip(shapes, picks)], limits)
    theirs, _ = torch.distributed._compute_bucket_assignment_by_size(
        [torch.zeros(s, dtype=t) for s, (_, t) in zip(shapes, picks)], limits)
    assert ours == [list(b) for b in theirs]


def test_ddp_buckets_hold_parameters_in_reverse_with_a_small_first_bucket():
    """Default cap: the last parameters first, a first bucket of 1 MiB, then up to 25 MiB; a cap the user gives
    holds for every bucket; float32 and float64 never share one."""
    net = tg.nn.Sequential(tg.nn.Linear(512, 300), tg.nn.Linear(300, 512), tg.nn.Linear(512, 4).double())
    params = list(net.parameters())
    assert Reducer(params).bucket_indices == [[5, 4], [3, 2, 1, 0]]
    assert Reducer(params, bucket_cap_mb=0.5).bucket_indices == [[5, 4], [3, 2], [1, 0]]
    net = tg.nn.Sequential(tg.nn.Linear(600, 512), tg.nn.Linear(512, 8))     # 0.59 + 1.17 MiB
    assert Reducer(list(net.parameters())).bucket_indices == [[3, 2, 1, 0]]
    net = tg.nn.Sequential(tg.nn.Linear(600, 512), tg.nn.Linear(512, 600))   # 1.17 MiB last: a bucket of its own
    assert Reducer(list(net.parameters())).bucket_indices == [[3, 2], [1, 0]]


BUCKETS = r"""
import sys
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
opt_name, mode = sys.argv[1], sys.argv[2]
steps = 3


def build():
    tg.manual_seed(0)
    norm = nn.Identity() if mode == "accumulate" else nn.BatchNorm2d(4)
    net = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), norm, nn.ReLU(), nn.Flatten(),
                        nn.Linear(64, 10), nn.ReLU(), nn.Linear(10, 3)).double()
    opt = (tg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd" else
           tg.optim.Adam(net.parameters(), lr=0.01))
    return net, opt


rng = np.random.default_rng(3)
xs = [rng.standard_normal((8, 2, 4, 4)) for _ in range(steps)]
ys = [rng.integers(0, 3, 8) for _ in range(steps)]
net, opt = build()                                              # one process, the whole batch of 8
for x, y in zip(xs, ys):
    opt.zero_grad()
    tg.nn.functional.cross_entropy(net(tg.tensor(x)), tg.tensor(y)).backward()
    opt.step()
ddp_net, ddp_opt = build()
ddp_net = nn.SyncBatchNorm.convert_sync_batchnorm(ddp_net)
# 300 bytes: [last bias, last weight, middle bias] [middle weight] [norm, conv]: the middle layer split
model = nn.parallel.DistributedDataParallel(ddp_net, bucket_cap_mb=300 / 2**20,
                                            gradient_as_bucket_view=mode == "view")
share = slice(r * 8 // n, (r + 1) * 8 // n)
for step, (x, y) in enumerate(zip(xs, ys)):
    ddp_opt.zero_grad(set_to_none=mode != "view")
    if mode == "accumulate":                                    # two halves, the first under no_sync
        half = (share.stop - share.start) // 2
        first, second = slice(share.start, share.start + half), slice(share.start + half, share.stop)
        with model.no_sync():
            (tg.nn.functional.cross_entropy(model(tg.tensor(x[first])), tg.tensor(y[first])) / 2).backward()
        (tg.nn.functional.cross_entropy(model(tg.tensor(x[second])), tg.tensor(y[second])) / 2).backward()
    else:
        tg.nn.functional.cross_entropy(model(tg.tensor(x[share])), tg.tensor(y[share])).backward()
    ddp_opt.step()
same = all(np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)
           for a, b in zip(net.parameters(), ddp_net.parameters()))
mine = [p.detach().numpy().tobytes() for p in ddp_net.parameters()]
every = []
dist.all_gather_object(every, mine)
buckets = model.reducer.bucket_of
views = all(np.shares_memory(p.grad._array, buckets[i].flat) for i, p in enumerate(ddp_net.parameters()))
print("BUCKETS", r, opt_name, mode, model.reducer.bucket_indices, same, every[0] == every[1], views if mode == "view"
      else None, flush=True)
"""


@needs_mpi
@pytest.mark.parametrize("opt,mode", [("sgd", "plain"), ("adam", "plain"), ("sgd", "accumulate"), ("adam", "view")])
def test_two_ranks_with_several_buckets_train_like_one_process(tmp_path, opt, mode):
    """2 ranks x batch 4 for 3 steps with three buckets of uneven sizes (a layer's weight and bias in different
    ones; SyncBatchNorm's all-reduces inside backward between the buckets') end with the parameters of 1 process x
    batch 8, bit-identical on both ranks: SGD with momentum, Adam, no_sync accumulation, gradient_as_bucket_view."""
    view = "True" if mode == "view" else "None"
    buckets = "[[6, 5, 4], [3], [2, 1, 0]]" if mode != "accumulate" else "[[4, 3, 2], [1], [0]]"
    assert [line for line in _run_ranks(tmp_path, BUCKETS, opt, mode) if line.startswith("BUCKETS")] == [
        f"BUCKETS {r} {opt} {mode} {buckets} True True {view}" for r in (0, 1)]


UNUSED = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
r = dist.get_rank()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.never = nn.Linear(3, 3), nn.Linear(3, 2), nn.Linear(3, 2)

    def forward(self, x, use_b):
        h = self.a(x)
        return self.b(h).sum() if use_b else h.sum()        # rank 1 leaves b out; no rank uses `never`


def local_grads(x, use_b):
    tg.manual_seed(0)
    net = Net().double()
    net(x, use_b).backward()
    return [None if p.grad is None else p.grad.numpy() for p in net.parameters()]


tg.manual_seed(0)
model = nn.parallel.DistributedDataParallel(Net().double(), find_unused_parameters=True)
x = tg.tensor(np.random.default_rng(r).standard_normal((4, 3)))
ok = []
for step in range(2):
    model.zero_grad()
    model(x, r == 0).backward()
    everyone = []
    dist.all_gather_object(everyone, local_grads(x, r == 0))
    want = [None if all(g[i] is None for g in everyone) else
            sum(np.zeros(1) if g[i] is None else g[i] for g in everyone) / 2 for i in range(6)]
    got = [None if p.grad is None else p.grad.numpy() for p in model.module.parameters()]
    ok.append(all((w is None and g is None) or (w is not None and g is not None and np.allclose(g, w, rtol=1e-12))
                  for w, g in zip(want, got)))
print("UNUSED", r, ok, [p.grad is None for p in model.module.parameters()], flush=True)

tg.manual_seed(0)
strict = nn.parallel.DistributedDataParallel(Net().double())
strict(x, True).backward()                                 # `never` gets no gradient: no hang, ...
try:
    strict(x, True)                                        # ... the next forward says so
    print("STRICT", r, "no error", flush=True)
except RuntimeError as e:
    print("STRICT", r, str(e).startswith("Expected to have finished reduction in the prior iteration"),
          str(e).splitlines()[-1], flush=True)
"""


@needs_mpi
def test_unused_parameters_count_as_zero_and_otherwise_the_next_forward_raises(tmp_path):
    """find_unused_parameters=True: a layer only rank 0 uses is averaged with rank 1's zero, a layer no rank uses
    keeps .grad None (as PyTorch); without it, backward ends and the next forward raises PyTorch's error naming
    the parameters that got no gradient."""
    lines = _run_ranks(tmp_path, UNUSED)
    assert [line for line in lines if line.startswith("UNUSED")] == [
        f"UNUSED {r} [True, True] [False, False, False, False, True, True]" for r in (0, 1)]
    assert [line for line in lines if line.startswith("STRICT")] == [
        f"STRICT {r} True Parameter indices which did not receive grad for rank {r}: 4 5" for r in (0, 1)]


OVERLAP = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
log = []
start, wait = dist.all_reduce, dist.Work.wait


def logged_all_reduce(tensor, *args, **kwargs):
    log.append(("start", tensor.numel()))
    return start(tensor, *args, **kwargs)


def logged_wait(self, *args):
    log.append(("wait", self._outputs[0].numel()))
    return wait(self, *args)


dist.all_reduce, dist.Work.wait = logged_all_reduce, logged_wait
tg.manual_seed(0)
net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 30), nn.ReLU(), nn.Linear(30, 5)).double()
model = nn.parallel.DistributedDataParallel(net, bucket_cap_mb=1000 / 2**20)
net[0].register_forward_hook(lambda m, i, out: [out.register_hook(
    lambda g: log.append(("first layer's output gradient", 0)))] and None)
model(tg.tensor(np.ones((4, 20)))).sum().backward()
print("OVERLAP", dist.get_rank(), model.reducer.bucket_indices, log, flush=True)
"""


@needs_mpi
def test_early_buckets_start_their_all_reduce_during_backward(tmp_path):
    """The last layer's bucket and the middle layer's start their all-reduce before backward reaches the first
    layer; the buckets are waited for only at the end, in bucket order."""
    lines = [line for line in _run_ranks(tmp_path, OVERLAP) if line.startswith("OVERLAP")]
    want = ("[[5, 4], [3, 2], [1, 0]] [('start', 155), ('start', 930), (\"first layer's output gradient\", 0), "
            "('start', 630), ('wait', 155), ('wait', 930), ('wait', 630)]")
    assert lines == [f"OVERLAP {r} {want}" for r in (0, 1)]
