"""tinygrad_fer.distributed (MPI) and DistributedSampler: the sampler against torch's, the collectives on two real
ranks started with mpiexec (skipped where the `distributed` extra is not installed)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch.utils.data as D

import tinygrad_fer.distributed as dist
from tinygrad_fer.data import DistributedSampler


NO_MPI = not dist.is_available() or shutil.which("mpiexec", path=os.path.dirname(sys.executable)) is None
needs_mpi = pytest.mark.skipif(NO_MPI, reason="the 'distributed' extra (mpi4py, openmpi) is not installed")


def _run_ranks(tmp_path, source, *args, ranks=2, timeout=180):
    """source run as a script on `ranks` MPI ranks; the output's lines (sorted, so ranks' order does not matter)."""
    script = tmp_path / "job.py"
    script.write_text(source)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable))
    out = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), sys.executable, str(script), *args], env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-2000:]
    return sorted(out.stdout.splitlines())


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (2, 4, False), (7, 2, False),
                                                  (8, 4, True), (9, 4, True), (1, 1, False)])
def test_sampler_partition_like_torch(n, replicas, drop_last):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = D.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_shuffles_the_same_permutation_on_every_rank():
    n, replicas = 11, 3
    for epoch in (0, 1):
        parts = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, seed=5)
            s.set_epoch(epoch)
            parts.append(list(s))
        merged = [i for row in zip(*parts) for i in row]
        assert len(merged) == 12 and sorted(set(merged)) == list(range(n))   # a permutation, one index repeated
        if epoch == 0:
            first = merged
    assert merged != first       # set_epoch reshuffles


def test_sampler_and_group_errors_like_torch():
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(5), 3, 3)
    assert not dist.is_initialized()
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(5))
    with pytest.raises(RuntimeError, match="not available in tinygrad_fer"):
        dist.init_process_group("gloo")


SCRIPT = r"""
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
x = tg.tensor([1.0 + r, 2.0 * r]); dist.all_reduce(x)
a = tg.tensor([1.0 + r]); dist.all_reduce(a, op=dist.ReduceOp.AVG)
m = tg.tensor([float(r)]); dist.all_reduce(m, op=dist.ReduceOp.MAX)
b = tg.full((2,), float(r)); dist.broadcast(b, src=1)
lst = [tg.zeros(2) for _ in range(n)]; dist.all_gather(lst, tg.tensor([r, r * 10.0]))
objs = []; dist.all_gather_object(objs, {"rank": r})
big = tg.zeros(4); dist.all_gather_into_tensor(big, tg.tensor([r, r + 0.5]))
part = tg.zeros(1); dist.reduce_scatter_tensor(part, tg.tensor([1.0 + r, 10.0 * (r + 1)]))
got = [tg.zeros(1) for _ in range(n)]; dist.gather(tg.tensor([r * 3.0]), got if r == 0 else None, dst=0)
one = tg.zeros(1); dist.scatter(one, [tg.tensor([7.0]), tg.tensor([8.0])] if r == 1 else None, src=1)
p2p = tg.zeros(1)
if r == 0:
    dist.send(tg.tensor([42.0]), dst=1)
else:
    dist.recv(p2p, src=0)
more = [big.tolist(), part.tolist(), [t.tolist() for t in got] if r == 0 else None, one.tolist(), p2p.tolist()]
print("RESULT", r, n, x.tolist(), a.tolist(), m.tolist(), b.tolist(), [t.tolist() for t in lst], objs, flush=True)
print("MORE", r, more, flush=True)
dist.barrier(); dist.destroy_process_group()
"""


@needs_mpi
def test_collectives_on_two_ranks(tmp_path):
    lines = _run_ranks(tmp_path, SCRIPT)
    assert [line for line in lines if line.startswith("RESULT")] == [
        f"RESULT {r} 2 [3.0, 2.0] [1.5] [1.0] [1.0, 1.0] [[0.0, 0.0], [1.0, 10.0]] [{{'rank': 0}}, {{'rank': 1}}]"
        for r in (0, 1)]
    assert [line for line in lines if line.startswith("MORE")] == [
        "MORE 0 [[0.0, 0.5, 1.0, 1.5], [3.0], [[0.0], [3.0]], [7.0], [0.0]]",
        "MORE 1 [[0.0, 0.5, 1.0, 1.5], [30.0], None, [8.0], [42.0]]"]


DDP_SCRIPT = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()


def net(seed):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()


def data(rank):
    rng = np.random.default_rng(100 + rank)
    return tg.tensor(rng.standard_normal((5, 3))), tg.tensor(rng.integers(0, 2, 5))


model = nn.parallel.DistributedDataParallel(net(seed=r))          # every rank starts from other weights
ref = net(seed=0)                                                 # rank 0's, for the expected average
same_start = all(np.array_equal(a.detach().numpy(), b.detach().numpy())
                 for a, b in zip(model.module.parameters(), ref.parameters()))
x, y = data(r)
tg.nn.functional.cross_entropy(model(x), y).backward()
want = None
for k in range(n):                                                # the mean of every rank's local gradient
    ref.zero_grad()
    xk, yk = data(k)
    tg.nn.functional.cross_entropy(ref(xk), yk).backward()
    g = [p.grad.numpy().copy() for p in ref.parameters()]
    want = g if want is None else [a + b for a, b in zip(want, g)]
averaged = all(np.allclose(p.grad.numpy(), w / n, rtol=1e-12, atol=1e-14)
               for p, w in zip(model.module.parameters(), want))
model.zero_grad()
with model.no_sync():
    tg.nn.functional.cross_entropy(model(x), y).backward()
local = [p.grad.numpy().copy() for p in model.module.parameters()]
others = []
dist.all_gather_object(others, [a.tolist() for a in local])
print("RESULT", r, same_start, averaged, others[0] != others[1], list(model.state_dict())[0], flush=True)
"""


@needs_mpi
def test_distributed_data_parallel_averages_gradients(tmp_path):
    """Two ranks, other seeds and other data: DDP starts both from rank 0's weights, and each parameter's gradient
    is the mean of the ranks' local gradients; under no_sync they stay local; state_dict keys have 'module.'."""
    assert [line for line in _run_ranks(tmp_path, DDP_SCRIPT) if line.startswith("RESULT")] == [
        f"RESULT {r} True True True module.0.weight" for r in (0, 1)]


LAUNCHED = r"""
import os, sys
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("mpi")
x = tg.tensor([float(dist.get_rank())]); dist.all_reduce(x)
print("RANK", os.environ["RANK"], os.environ["LOCAL_RANK"], os.environ["WORLD_SIZE"], sys.argv[1:], x.tolist(),
      flush=True)
print("THREADS", os.environ["NUMBA_NUM_THREADS"], os.environ["OMP_NUM_THREADS"], flush=True)
if "--fail" in sys.argv and dist.get_rank() == 1:
    raise ValueError("bad batch on rank 1")
dist.barrier()                  # rank 0 waits here for a rank that will never come: the launcher must end it
"""


@needs_mpi
def test_launcher_sets_torchruns_environment_and_ends_a_failed_job(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(LAUNCHED)
    run = [sys.executable, "-m", "tinygrad_fer.distributed.run", "--nproc-per-node", "2", str(script)]
    ok = subprocess.run(run + ["--flag", "1"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert sorted(line for line in ok.stdout.splitlines() if line.startswith("RANK")) == [
        f"RANK {r} {r} 2 ['--flag', '1'] [1.0]" for r in (0, 1)]
    share = str(max(1, (os.cpu_count() or 1) // 2))     # each rank its share of the cores, unless the user said
    want = [os.environ.get("NUMBA_NUM_THREADS", share), os.environ.get("OMP_NUM_THREADS", share)]
    assert [line.split()[1:] for line in ok.stdout.splitlines() if line.startswith("THREADS")] == [want, want]
    failed = subprocess.run(run + ["--fail"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert failed.returncode != 0 and "ValueError: bad batch on rank 1" in failed.stderr


SYNC_BN = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
r = dist.get_rank()
x_all = np.random.default_rng(0).standard_normal((6, 3, 4, 4))
y_all = np.random.default_rng(1).standard_normal((6, 3, 4, 4))
sbn = nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm2d(3))).double()
ref = nn.BatchNorm2d(3).double()
part = slice(3 * r, 3 * r + 3)
xs = tg.tensor(x_all[part], requires_grad=True)
out = sbn(xs)
(out * tg.tensor(y_all[part])).sum().backward()
xr = tg.tensor(x_all, requires_grad=True)
outr = ref(xr)
(outr * tg.tensor(y_all)).sum().backward()
ok_out = np.allclose(out.detach().numpy(), outr.detach().numpy()[part], rtol=1e-10, atol=1e-12)
ok_gx = np.allclose(xs.grad.numpy(), xr.grad.numpy()[part], rtol=1e-9, atol=1e-12)
w = sbn[0].weight.grad.clone(); dist.all_reduce(w)
ok_gw = np.allclose(w.numpy(), ref.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
ok_rs = np.allclose(sbn[0].running_var.numpy(), ref.running_var.numpy(), rtol=1e-10)
print("SBN", r, type(sbn[0]).__name__, ok_out, ok_gx, ok_gw, ok_rs, flush=True)
"""


@needs_mpi
def test_sync_batchnorm_on_two_ranks_is_batchnorm_of_the_whole_batch(tmp_path):
    """Each rank holds half the batch: outputs, input gradients, the ranks' summed weight gradients and the running
    variance equal BatchNorm's on the whole batch in one process."""
    assert [line for line in _run_ranks(tmp_path, SYNC_BN) if line.startswith("SBN")] == [
        f"SBN {r} SyncBatchNorm True True True True" for r in (0, 1)]


def test_sync_batchnorm_without_a_group_is_batchnorm():
    import tinygrad_fer as tg
    from tinygrad_fer import nn
    x = tg.tensor(np.random.default_rng(0).standard_normal((4, 3, 2, 2)))
    a, b = nn.SyncBatchNorm(3).double(), nn.BatchNorm2d(3).double()
    np.testing.assert_allclose(a(x).detach().numpy(), b(x).detach().numpy(), rtol=1e-12)
    assert isinstance(nn.SyncBatchNorm.convert_sync_batchnorm(nn.Sequential(nn.BatchNorm1d(3)))[0], nn.SyncBatchNorm)


EQUIVALENCE = r"""
import sys
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
opt_name, accumulate = sys.argv[1], sys.argv[2] == "accumulate"


def build():
    tg.manual_seed(0)
    # BatchNorm's statistics depend on how a batch is split, so the accumulating run goes without it
    norm = nn.Identity() if accumulate else nn.BatchNorm2d(3)
    # no bias before BatchNorm: its true gradient is 0, and Adam would turn the rounding noise in it into steps
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=accumulate), norm, nn.ReLU(), nn.Flatten(),
                        nn.Linear(3 * 4 * 4, 4)).double()
    opt = (tg.optim.SGD(net.parameters(), lr=0.1, momentum=0.9) if opt_name == "sgd" else
           tg.optim.Adam(net.parameters(), lr=0.01))
    return net, opt


rng = np.random.default_rng(7)
xs = [rng.standard_normal((8, 2, 4, 4)) for _ in range(3)]
ys = [rng.integers(0, 4, 8) for _ in range(3)]
net, opt = build()                                              # one process, the whole batch of 8
for x, y in zip(xs, ys):
    opt.zero_grad()
    tg.nn.functional.cross_entropy(net(tg.tensor(x)), tg.tensor(y)).backward()
    opt.step()
ddp_net, ddp_opt = build()                                      # n ranks, 8 / n each
ddp_net = nn.SyncBatchNorm.convert_sync_batchnorm(ddp_net)
model = nn.parallel.DistributedDataParallel(ddp_net)
share = slice(r * 8 // n, (r + 1) * 8 // n)
for step, (x, y) in enumerate(zip(xs, ys)):
    ddp_opt.zero_grad()
    if step == 2 and accumulate:                                # two halves, the first under no_sync
        half = (share.stop - share.start) // 2
        first = slice(share.start, share.start + half)
        second = slice(share.start + half, share.stop)
        with model.no_sync():
            (tg.nn.functional.cross_entropy(model(tg.tensor(x[first])), tg.tensor(y[first])) / 2).backward()
        (tg.nn.functional.cross_entropy(model(tg.tensor(x[second])), tg.tensor(y[second])) / 2).backward()
    else:
        tg.nn.functional.cross_entropy(model(tg.tensor(x[share])), tg.tensor(y[share])).backward()
    ddp_opt.step()
same = all(np.allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)
           for a, b in zip(net.parameters(), ddp_net.parameters()))
print("EQUIV", r, opt_name, sys.argv[2], same, flush=True)
"""


@needs_mpi
@pytest.mark.parametrize("opt,mode", [("sgd", "plain"), ("adam", "plain"), ("sgd", "accumulate")])
def test_two_ranks_train_like_one_process_with_the_whole_batch(tmp_path, opt, mode):
    """2 ranks x batch 4 for 3 steps (conv, SyncBatchNorm, linear; SGD with momentum or Adam; or, without
    BatchNorm, the last step accumulated from two halves under no_sync) end with the parameters of 1 process x
    batch 8 (float64)."""
    assert [line for line in _run_ranks(tmp_path, EQUIVALENCE, opt, mode) if line.startswith("EQUIV")] == [
        f"EQUIV {r} {opt} {mode} True" for r in (0, 1)]


SWEEP = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
bad = []
for dtype in (np.float32, np.float64, np.int64):
    for size in (0, 1, 7, 1000):
        data = [np.random.default_rng([k, size]).integers(-5, 6, size).astype(dtype) for k in range(n)]
        ops = {"sum": np.sum, "max": np.max, "min": np.min, "product": np.prod}
        if dtype != np.int64:
            ops["avg"] = np.mean
        for op, ref in ops.items():
            t = tg.tensor(data[r].copy())
            dist.all_reduce(t, op=op)
            want = ref(np.stack(data), axis=0).astype(dtype) if size else np.zeros(0, dtype)
            if not np.allclose(t.numpy(), want) or t.numpy().dtype != dtype:
                bad.append(("all_reduce", op, dtype.__name__, size))
        t = tg.tensor(data[r].copy())
        dist.broadcast(t, src=1)
        if not np.array_equal(t.numpy(), data[1]):
            bad.append(("broadcast", dtype.__name__, size))
        out = [tg.tensor(np.zeros(size, dtype)) for _ in range(n)]
        dist.all_gather(out, tg.tensor(data[r]))
        if not all(np.array_equal(o.numpy(), d) for o, d in zip(out, data)):
            bad.append(("all_gather", dtype.__name__, size))
print("SWEEP", r, bad, flush=True)
"""


@needs_mpi
def test_collectives_over_dtypes_and_sizes_match_numpy(tmp_path):
    """all_reduce (every op), broadcast and all_gather on float32, float64 and int64 tensors of 0, 1, 7 and 1000
    elements, against NumPy's computation of the same result."""
    assert [line for line in _run_ranks(tmp_path, SWEEP) if line.startswith("SWEEP")] == [
        f"SWEEP {r} []" for r in (0, 1)]


KILLED = r"""
import os, signal
import tinygrad_fer.distributed as dist
dist.init_process_group("mpi")
if dist.get_rank() == 1:
    os.kill(os.getpid(), signal.SIGKILL)
dist.barrier()
"""

LATE = r"""
import datetime, time
from mpi4py import MPI
import tinygrad_fer.distributed as dist
if MPI.COMM_WORLD.Get_rank() == 1:
    time.sleep(120)                       # never joins in time
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=2))
dist.barrier()
"""


@needs_mpi
@pytest.mark.parametrize("case,message", [(KILLED, "rank 1"), (LATE, "rank 0: timed out after 2 s waiting for the "
                                                                     "other 1 rank(s) to join init_process_group")])
def test_launcher_ends_the_job_when_a_rank_is_killed_or_never_joins(tmp_path, case, message):
    import time
    script = tmp_path / "job.py"
    script.write_text(case)
    t = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "tinygrad_fer.distributed.run", "--nproc-per-node", "2", str(script)],
                       capture_output=True, text=True, timeout=90, cwd=tmp_path)
    assert r.returncode != 0 and message in r.stdout + r.stderr and time.monotonic() - t < 60


NONBLOCKING = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
bad = []
for dtype in (np.float32, np.float64, np.int64):
    for size in (0, 1, 7, 1000):
        tag = (dtype.__name__, size)
        data = [np.random.default_rng([k, size, 2]).integers(-5, 6, size).astype(dtype) for k in range(n)]
        stacked = np.stack(data)
        works, checks = [], []                     # every operation started before the first is waited for

        def start(name, work, *pairs):
            works.append(work)
            checks.extend((name, t, want) for t, want in pairs)
        ops = {"sum": np.sum, "max": np.max, "min": np.min, "product": np.prod}
        if dtype != np.int64:
            ops["avg"] = np.mean
        for op, ref in ops.items():
            t = tg.tensor(data[r].copy())
            start(("all_reduce", op), dist.all_reduce(t, op=op, async_op=True), (t, ref(stacked, axis=0)))
        t = tg.tensor(data[r].copy())
        start(("broadcast",), dist.broadcast(t, src=1, async_op=True), (t, data[1]))
        t = tg.tensor(data[r].copy())
        start(("reduce",), dist.reduce(t, dst=0, async_op=True), (t, stacked.sum(0) if r == 0 else data[r]))
        outs = [tg.tensor(np.zeros(size, dtype)) for _ in range(n)]
        start(("all_gather",), dist.all_gather(outs, tg.tensor(data[r]), async_op=True), *zip(outs, data))
        big = tg.tensor(np.zeros(n * size, dtype))
        start(("all_gather_into_tensor",), dist.all_gather_into_tensor(big, tg.tensor(data[r]), async_op=True),
              (big, stacked.reshape(-1)))
        rows = [np.concatenate([np.roll(d, k) for k in range(n)]) for d in data]    # rank k's block k summed
        part = tg.tensor(np.zeros(size, dtype))
        start(("reduce_scatter_tensor",), dist.reduce_scatter_tensor(part, tg.tensor(rows[r]), async_op=True),
              (part, sum(np.roll(d, r) for d in data)))
        got = [tg.tensor(np.zeros(size, dtype)) for _ in range(n)]
        start(("gather",), dist.gather(tg.tensor(data[r]), got if r == 0 else None, dst=0, async_op=True),
              *(zip(got, data) if r == 0 else ()))
        one = tg.tensor(np.zeros(size, dtype))
        start(("scatter",), dist.scatter(one, [tg.tensor(d) for d in data] if r == 1 else None, src=1,
                                         async_op=True), (one, data[r]))
        while not works[0].is_completed():         # polled to completion, the rest waited for from the last
            pass
        for w in reversed(works):
            w.wait()
        if not all(w.is_completed() and w.wait() for w in works):
            bad.append(("completed",) + tag)
        for name, t, want in checks:
            if t.numpy().dtype != dtype or not np.array_equal(t.numpy(), np.asarray(want).astype(dtype)):
                bad.append(name + tag)
print("NONBLOCKING", r, bad, flush=True)

# a started all-reduce cannot complete before the other rank joins: rank 1 joins only after rank 0 has looked
t = tg.tensor([1.0 + r, 2.0])
if r == 0:
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    pending = (work.is_completed(), t._version[0])
    dist.send(tg.tensor([1.0]), dst=1)
    received = dist.irecv(tg.zeros(1), src=1)
else:
    dist.recv(tg.zeros(1), src=0)
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    pending = None
    received = dist.isend(tg.tensor([5.0]), dst=0)
result = work.result()
print("PENDING", r, pending, result[0] is t, t.tolist(), t._version[0], received.result()[0].tolist(), flush=True)

# it moves on in the background: this rank makes no MPI call until the sum is in the memory (MPI's own write,
# before wait() would have run)
import time
big = tg.ones(1_000_000, dtype=tg.float64)
work = dist.all_reduce(big, async_op=True)
deadline = time.monotonic() + 20
while not (big._array == 2).all() and time.monotonic() < deadline:
    time.sleep(0.01)
print("BACKGROUND", r, bool((big._array == 2).all()), work.is_completed(), flush=True)
"""


@needs_mpi
def test_nonblocking_collectives_match_numpy(tmp_path):
    """async_op=True: all_reduce (every op), broadcast, reduce, all_gather, all_gather_into_tensor,
    reduce_scatter_tensor, gather and scatter, all in flight at once, over float32/float64/int64 and 0/1/7/1000
    elements, equal NumPy's result once waited for; an all-reduce is not completed while the other rank has not
    joined it, and its tensor gets the result (and a new version) only at wait(); isend/irecv; a started
    all-reduce completes while the rank computes without calling MPI (the progress thread)."""
    lines = _run_ranks(tmp_path, NONBLOCKING)
    assert [line for line in lines if line.startswith("NONBLOCKING")] == [f"NONBLOCKING {r} []" for r in (0, 1)]
    assert [line for line in lines if line.startswith("PENDING")] == [
        "PENDING 0 (False, 0) True [1.5, 2.0] 1 [5.0]", "PENDING 1 None True [1.5, 2.0] 1 [5.0]"]
    assert [line for line in lines if line.startswith("BACKGROUND")] == [f"BACKGROUND {r} True True" for r in (0, 1)]
