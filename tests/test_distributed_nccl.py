"""tinygrad_fer.distributed's 'nccl' backend (distributed/_nccl.py), two ways.

1. Emulated (runs here, needs only the `distributed` extra): 2 MPI ranks started with our launcher, each importing
   the stand-in CuPy of tests/nccl_emulation first, so tensors on "cuda" are NumPy arrays of a `cupy.ndarray`
   subclass on fake devices 0 and 1, and `cupyx.distributed.NCCLBackend` moves their bytes with mpi4py. What runs for
   real: the backend's whole logic (argument and op mapping, AVG, bool as uint8, contiguous copies and write-back,
   buffers, the stream/event ordering of async handles, object collectives, DDP's device buckets, backend=None's
   choice per device, the launcher's environment). The emulation logs which stream every NCCL call, event record
   and wait went to, and the tests check the order the code asks for.
2. Real GPUs (skipped with the reason where CuPy, a GPU or NCCL is missing): the same scripts without the stand-in.
   NCCL refuses two ranks of one communicator on one GPU (NVIDIA's docs: "Using the same CUDA device multiple times
   as different ranks of the same NCCL communicator is not supported"), so two ranks need two GPUs; on one GPU the
   collectives run on a world of one rank, and two ranks there must get our clear error.

Assumptions the emulation makes that were not checked on a GPU (CuPy's source was read, never run):
- cupyx.distributed's signatures and checks are those of CuPy 13-15's _nccl_comm.py: all_reduce(in, out, op,
  stream), reduce(in, out, root, op, stream) (out's pointer read on every rank, written on root), broadcast(buf,
  root, stream), all_gather(in, out, count, stream) and reduce_scatter(in, out, count, stream) with `count` the
  elements per rank, send/recv(buf, peer, stream), scatter/gather(in, out, root, stream) checking the (world, ...)
  buffer's first dimension on every rank; op names 'sum', 'prod', 'max', 'min'; no bool, no int16.
- NCCL runs a collective in place when the send and receive pointers are equal (all_reduce, reduce), as its docs say.
- stream=None means CuPy's current stream, which `with stream:` sets; Stream(non_blocking=True), Stream.record(),
  Stream.wait_event(), Event.done and Event.synchronize() behave as CUDA's streams and events. The emulation runs
  everything at enqueue time, so it cannot find a missing wait: it checks that the waits are asked for.
- rank 0's rendezvous store binds MASTER_PORT at MASTER_ADDR; the emulation only records host and port.
- NCCL's reduction order differs from NumPy's rank order: results here are exact values or compared with a tolerance.
"""
import os
import socket
import subprocess
import sys

import pytest

import tinygrad_fer.distributed as dist
from tinygrad_fer.backend_cuda import backend_cuda
from tinygrad_fer.distributed import _nccl

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATION = os.path.join(HERE, "nccl_emulation")
HAVE_MPI = dist.is_available() and os.path.exists(os.path.join(os.path.dirname(sys.executable), "mpiexec"))
needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="the 'distributed' extra (mpi4py, openmpi) is not installed")
GPU_REASON = None if _nccl.available() else (_nccl._why_not() if backend_cuda.available() else
                                             backend_cuda._probe()[1])
GPUS = backend_cuda.device_count() if GPU_REASON is None else 0
needs_gpu = pytest.mark.skipif(GPU_REASON is not None or not HAVE_MPI,
                               reason=f"no NCCL GPU: {GPU_REASON}" if GPU_REASON else "no MPI launcher")
needs_two_gpus = pytest.mark.skipif(GPUS < 2, reason=f"NCCL needs one GPU per rank: {GPUS} GPU(s) here")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(tmp_path, source, *args, ranks=2, emulate=True, env=None, expect_ok=True, timeout=240):
    """source on `ranks` ranks through `python -m tinygrad_fer.distributed.run`; the output's lines, sorted."""
    script = tmp_path / "job.py"
    prelude = f"import sys; sys.path.insert(0, {EMULATION!r})\n" if emulate else ""
    script.write_text(prelude + source)
    cmd = [sys.executable, "-m", "tinygrad_fer.distributed.run", "--nproc-per-node", str(ranks), "--master-port",
           str(_free_port()), str(script), *args]
    out = subprocess.run(cmd, env=dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                                       **(env or {})),
                         capture_output=True, text=True, timeout=timeout)
    if expect_ok:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out if not expect_ok else sorted(out.stdout.splitlines())


# Every collective against NumPy, on float32 / float64 / int64 / bool (and float16 where emulated), 0, 1 and 7
# elements, blocking and async, contiguous and not. Prints "OK rank checks" at the end.
COLLECTIVES = r"""
import sys
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
R = dist.ReduceOp
dist.init_process_group("nccl")
r, n = dist.get_rank(), dist.get_world_size()
assert dist.get_backend() == "nccl"
checks = 0


def value(rank, size, dtype, salt=0):
    v = (np.arange(size) * (rank + 2) + salt + rank) % 5 + 1
    return (v % 2 == 0) if dtype == bool else v.astype(dtype)


def cuda(a):
    return tg.tensor(a, device="cuda")


def same(t, want):
    global checks
    got = t.cpu().numpy()
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    tol = 1e-3 if got.dtype == np.float16 else 1e-6
    np.testing.assert_allclose(got.astype(np.float64), np.asarray(want).astype(np.float64), rtol=tol)
    checks += 1


def run(work, async_op):
    if async_op:
        assert work is not None and work.wait() and work.is_completed()
    else:
        assert work is None


reductions = {R.SUM: np.add, R.AVG: np.add, R.MAX: np.maximum, R.MIN: np.minimum, R.PRODUCT: np.multiply}
bool_ops = {R.SUM: np.logical_or, R.MAX: np.logical_or, R.MIN: np.logical_and, R.PRODUCT: np.logical_and}
dtypes = [np.float32, np.float64, np.int64, bool] + ([np.float16] if "emulate" in sys.argv else [])
for dtype in dtypes:
    for size in (0, 1, 7):
        everyone = [value(k, size, dtype) for k in range(n)]
        for async_op in (False, True):
            for op, f in (bool_ops if dtype == bool else reductions).items():
                if op == R.AVG and np.dtype(dtype).kind != "f":
                    continue
                want = f.reduce(np.stack(everyone), axis=0)
                if op == R.AVG:
                    want = (want / n).astype(dtype)
                t = cuda(everyone[r])
                v0 = t._version[0]
                run(dist.all_reduce(t, op=op, async_op=async_op), async_op)
                same(t, want)
                assert t._version[0] == v0 + 1
                t = cuda(everyone[r])
                run(dist.reduce(t, dst=n - 1, op=op, async_op=async_op), async_op)
                same(t, want if r == n - 1 else everyone[r])
                big = cuda(np.concatenate([value(k, size, dtype, 3) for k in range(n)]))
                out = cuda(np.zeros(size, dtype))
                run(dist.reduce_scatter_tensor(out, big, op=op, async_op=async_op), async_op)
                parts = np.stack([np.concatenate([value(k, size, dtype, 3) for k in range(n)]) for _ in range(n)])
                full = f.reduce(parts, axis=0)
                if op == R.AVG:
                    full = (full / n).astype(dtype)
                same(out, full[r * size:(r + 1) * size])
            t = cuda(everyone[r])
            run(dist.broadcast(t, src=n - 1, async_op=async_op), async_op)
            same(t, everyone[n - 1])
            lst = [cuda(np.zeros(size, dtype)) for _ in range(n)]
            run(dist.all_gather(lst, cuda(everyone[r]), async_op=async_op), async_op)
            for k in range(n):
                same(lst[k], everyone[k])
            out = cuda(np.zeros(n * size, dtype))
            run(dist.all_gather_into_tensor(out, cuda(everyone[r]), async_op=async_op), async_op)
            same(out, np.concatenate(everyone))
            got = [cuda(np.zeros(size, dtype)) for _ in range(n)]
            run(dist.gather(cuda(everyone[r]), got if r == 0 else None, dst=0, async_op=async_op), async_op)
            if r == 0:
                for k in range(n):
                    same(got[k], everyone[k])
            one = cuda(np.zeros(size, dtype))
            run(dist.scatter(one, [cuda(e) for e in everyone] if r == 0 else None, src=0, async_op=async_op),
                async_op)
            same(one, everyone[r])

# a non-contiguous tensor: reduced through a contiguous copy written back into its memory
base = np.arange(12, dtype=np.float32).reshape(3, 4)
m = cuda(base * (r + 1))
col = m[:, 1]
assert not col.is_contiguous()
dist.all_reduce(col)
want = base * (r + 1)
want[:, 1] = base[:, 1] * sum(k + 1 for k in range(n))
same(m, want)

# point to point in a ring (one rank: nothing to pair with)
if n > 1:
    nxt, prv = (r + 1) % n, (r - 1) % n
    box = cuda(np.zeros(3, np.float64))
    if r % 2 == 0:
        dist.send(cuda(np.full(3, 10.0 + r)), nxt)
        assert dist.recv(box, src=prv) == prv
    else:
        assert dist.recv(box, src=prv) == prv
        dist.send(cuda(np.full(3, 10.0 + r)), nxt)
    same(box, np.full(3, 10.0 + prv))
    box2 = cuda(np.zeros(2, np.int64))
    works = [dist.isend(cuda(np.full(2, r, np.int64)), nxt), dist.irecv(box2, src=prv)]
    for w in works:
        w.wait()
    same(box2, np.full(2, prv, np.int64))

objs = [None]
dist.broadcast_object_list(objs if r else [{"lr": 0.1, "tag": "x" * 300}], src=0)
if r:
    assert objs == [{"lr": 0.1, "tag": "x" * 300}]
got = []
dist.all_gather_object(got, {"rank": r, "pad": "y" * (r * 50)})
assert got == [{"rank": k, "pad": "y" * (k * 50)} for k in range(n)], got
assert dist.barrier() is None
dist.barrier(async_op=True).wait()
dist.destroy_process_group()
print("OK", r, checks)
"""

ERRORS = r"""
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("nccl")
r = dist.get_rank()


def fails(f, kind, text):
    try:
        f()
    except kind as e:
        assert text in str(e), str(e)
        print("RAISED", r, type(e).__name__, str(e))
        return
    raise AssertionError(f"no {kind.__name__} containing {text!r}")


fails(lambda: dist.all_reduce(tg.ones(2)), RuntimeError, "Tensors must be CUDA and dense")
fails(lambda: dist.broadcast(tg.ones(2), src=0), RuntimeError, "Tensors must be CUDA and dense")
fails(lambda: dist.all_reduce(tg.ones(2, device="cuda").long(), op=dist.ReduceOp.AVG), RuntimeError,
      "AVG needs a floating-point tensor")
fails(lambda: dist.all_reduce(tg.tensor([True], device="cuda"), op=dist.ReduceOp.AVG), TypeError,
      "Cannot use ReduceOp.AVG with boolean inputs")
fails(lambda: dist.all_reduce(tg.ones(2, device="cuda"), op="mean"), ValueError, "unknown reduce op")
fails(lambda: dist.recv(tg.ones(2, device="cuda")), RuntimeError, "cannot receive from any source")
fails(lambda: dist.all_gather([tg.ones(2, device="cuda")], tg.ones(2, device="cuda")), RuntimeError,
      "tensor_list must hold world_size=2 tensors")
fails(lambda: dist.init_process_group("nccl"), RuntimeError, "twice")
dist.barrier()
"""

# DDP on CUDA tensors: 2 ranks x B/2 equal 1 process x B; buckets small enough for several, their flat buffers on
# the device, all-reduced on the group's stream during backward (emulated: the log says so)
DDP = r"""
import sys
import numpy as np
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer import nn
from tinygrad_fer.nn.parallel import DistributedDataParallel as DDP
dist.init_process_group(None if "none" in sys.argv else "nccl")
r, n = dist.get_rank(), dist.get_world_size()
rng = np.random.default_rng(0)
B, steps = 8, 3
X = rng.standard_normal((steps, B, 6))
Y = rng.standard_normal((steps, B, 3))
init = [rng.standard_normal(s) * 0.3 for s in [(16, 6), (16,), (16, 16), (16,), (3, 16), (3,)]]


def net(device):
    m = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3)).double().to(device)
    with tg.no_grad():
        for p, w in zip(m.parameters(), init):
            p.copy_(tg.tensor(w, device=device))
    return m


def train(model, params, xs, ys, device):
    opt = tg.optim.SGD(params, lr=0.1, momentum=0.9)
    for x, y in zip(xs, ys):
        opt.zero_grad()
        loss = ((model(tg.tensor(x, device=device)) - tg.tensor(y, device=device)) ** 2).mean()
        loss.backward()
        opt.step()


ref = net("cpu")
train(ref, ref.parameters(), X, Y, "cpu")
mine = net("cuda")
ddp = DDP(mine, bucket_cap_mb=0.0005)
assert len(ddp.reducer.buckets) >= 3
assert all(type(b.flat).__module__.startswith("cupy") for b in ddp.reducer.buckets)
h = B // n
train(ddp, ddp.parameters(), X[:, r * h:(r + 1) * h], Y[:, r * h:(r + 1) * h], "cuda")
for a, b in zip(mine.parameters(), ref.parameters()):
    assert a.is_cuda
    np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)
if "emulate" in sys.argv:
    import cupy
    calls = [e for e in cupy.cuda.log if e[0] == "nccl" and e[2] == "all_reduce"]
    side = {e[1] for e in calls if e[1] != 0}
    assert len(side) == 1 and len(calls) >= steps * len(ddp.reducer.buckets), calls
print("DDP", r, dist.get_backend(), len(ddp.reducer.buckets))
"""


# ---- 1. emulated ------------------------------------------------------------------------------------------------
@needs_mpi
def test_emulated_nccl_every_collective_matches_numpy(tmp_path):
    lines = _launch(tmp_path, COLLECTIVES, "emulate")
    oks = [line.split() for line in lines if line.startswith("OK")]
    assert [o[1] for o in oks] == ["0", "1"] and all(int(o[2]) > 500 for o in oks), lines


ORDER = r"""
import numpy as np
import cupy
import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
dist.init_process_group("nccl")
from tinygrad_fer.distributed import _state
group = _state["cuda"]
comm = group.comm
print("RENDEZVOUS", comm.host, comm.port, os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"])
print("DEVICE", dist.get_rank(), cupy.cuda.runtime.getDevice(), os.environ["LOCAL_RANK"])
log = cupy.cuda.log
log.clear()
t = tg.ones(4, device="cuda")
dist.all_reduce(t)
assert log == [("nccl", 0, "all_reduce")], log   # blocking: on the current stream, nothing else
log.clear()
t = tg.ones(4, device="cuda")
w = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
side = group.stream.ptr
assert side != 0 and group.stream.non_blocking
(rec, s0, ev0), (wait, s1, ev1), (nccl, s2, name), (rec2, s3, ev2) = log
assert (rec, s0, wait, s1, ev1, nccl, s2, rec2, s3) == ("record", 0, "wait", side, ev0, "nccl", side, "record", side)
v = t._version[0]
log.clear()
w.wait()
assert log == [("wait", 0, ev2)] and t._version[0] == v + 1, log
assert t.tolist() == [1.0] * 4
log.clear()
dist.barrier()
assert log[-1] == ("sync", 0) and log[0] == ("nccl", 0, "all_reduce"), log
print("ORDER OK", dist.get_rank())
"""


@needs_mpi
def test_emulated_nccl_streams_rendezvous_and_devices(tmp_path):
    lines = _launch(tmp_path, "import os\n" + ORDER)
    assert [x for x in lines if x.startswith("ORDER OK")] == ["ORDER OK 0", "ORDER OK 1"], lines
    rdv = {tuple(x.split()[1:]) for x in lines if x.startswith("RENDEZVOUS")}
    assert len(rdv) == 1 and (lambda h, p, a, q: h == a == "127.0.0.1" and p == q)(*rdv.pop())
    assert sorted(x for x in lines if x.startswith("DEVICE")) == ["DEVICE 0 0 0", "DEVICE 1 1 1"]


@needs_mpi
def test_emulated_nccl_errors_like_torch(tmp_path):
    lines = _launch(tmp_path, ERRORS)
    raised = [x for x in lines if x.startswith("RAISED 0")]
    assert len(raised) == 8, lines


@needs_mpi
def test_emulated_nccl_two_ranks_on_one_gpu_is_refused(tmp_path):
    source = ("import tinygrad_fer.distributed as dist\ndist.init_process_group('nccl')\n")
    out = _launch(tmp_path, source, env={"FAKE_CUPY_DEVICES": "1"}, expect_ok=False)
    assert out.returncode != 0 and "needs one GPU per rank: 2 ranks on this node, 1 GPU(s)" in out.stderr


@needs_mpi
def test_emulated_ddp_on_cuda_two_ranks_equal_one_process(tmp_path):
    lines = _launch(tmp_path, DDP, "emulate")
    assert [x.split()[:3] for x in lines] == [["DDP", "0", "nccl"], ["DDP", "1", "nccl"]], lines


@needs_mpi
def test_emulated_backend_none_is_mpi_for_cpu_and_nccl_for_cuda(tmp_path):
    source = DDP + r"""
import cupy
cupy.cuda.log.clear()
c = tg.ones(3)
dist.all_reduce(c)
assert c.tolist() == [2.0] * 3 and not [e for e in cupy.cuda.log if e[0] == "nccl"]
g = tg.ones(3, device="cuda")
dist.all_reduce(g)
assert g.tolist() == [2.0] * 3 and [e for e in cupy.cuda.log if e[0] == "nccl"]
print("NONE OK", r)
"""
    lines = _launch(tmp_path, source, "emulate", "none")
    assert [x.split()[:3] for x in lines if x.startswith("DDP")] == [["DDP", "0", "cpu:mpi,cuda:nccl"],
                                                                     ["DDP", "1", "cpu:mpi,cuda:nccl"]], lines
    assert [x for x in lines if x.startswith("NONE")] == ["NONE OK 0", "NONE OK 1"]


@needs_mpi
def test_emulated_backend_none_keeps_mpi_for_cuda_when_ranks_outnumber_gpus(tmp_path):
    source = DDP.replace('print("DDP"', 'assert dist.get_backend() == "mpi"\nprint("DDP"')
    lines = _launch(tmp_path, source, "none", env={"FAKE_CUPY_DEVICES": "1"})
    assert [x.split()[:3] for x in lines] == [["DDP", "0", "mpi"], ["DDP", "1", "mpi"]], lines


# ---- without MPI or a GPU: errors before anything starts ----------------------------------------------------------
def test_nccl_without_cupy_says_what_is_missing(monkeypatch):
    monkeypatch.setattr(backend_cuda, "_status", (None, "CUDA requested but CuPy is not installed: pip install "
                                                        "'tinygrad_fer[cuda]'"))
    with pytest.raises(RuntimeError, match=r"the 'nccl' backend needs CuPy with NCCL and a CUDA GPU: CUDA requested "
                                           r"but CuPy is not installed"):
        dist.init_process_group("nccl")
    assert not dist.is_initialized() and not dist.is_nccl_available()


def test_nccl_rendezvous_reads_torchrun_variables(monkeypatch):
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.7")
    monkeypatch.setenv("MASTER_PORT", "29511")
    assert _nccl.rendezvous(None) == _nccl.rendezvous("env://") == ("10.0.0.7", 29511)
    assert _nccl.rendezvous("tcp://10.1.1.20:23456") == ("10.1.1.20", 23456)
    monkeypatch.delenv("MASTER_PORT")
    with pytest.raises(ValueError, match="environment variable MASTER_PORT expected, but not set"):
        _nccl.rendezvous(None)
    with pytest.raises(ValueError, match="init_method 'env://' or 'tcp://host:port'"):
        _nccl.rendezvous("file:///tmp/x")


def test_unknown_backend_names_both():
    with pytest.raises(RuntimeError, match="not available in tinygrad_fer \\(CPU: 'mpi', GPU: 'nccl'\\)"):
        dist.init_process_group("gloo")


# ---- 2. real GPUs ---------------------------------------------------------------------------------------------------
@needs_gpu
def test_gpu_nccl_every_collective_on_one_rank(tmp_path):
    lines = _launch(tmp_path, COLLECTIVES, ranks=1, emulate=False)
    assert [x.split()[:2] for x in lines if x.startswith("OK")] == [["OK", "0"]], lines


@needs_gpu
@needs_two_gpus
def test_gpu_nccl_every_collective_on_two_ranks(tmp_path):
    lines = _launch(tmp_path, COLLECTIVES, emulate=False)
    assert [x.split()[:2] for x in lines if x.startswith("OK")] == [["OK", "0"], ["OK", "1"]], lines


@needs_gpu
@needs_two_gpus
def test_gpu_ddp_two_ranks_equal_one_process(tmp_path):
    lines = _launch(tmp_path, DDP, emulate=False)
    assert [x.split()[:3] for x in lines] == [["DDP", "0", "nccl"], ["DDP", "1", "nccl"]], lines


@needs_gpu
def test_gpu_two_ranks_on_one_gpu_get_a_clear_error(tmp_path):
    out = _launch(tmp_path, "import tinygrad_fer.distributed as dist\ndist.init_process_group('nccl')\n",
                  emulate=False, env={"CUDA_VISIBLE_DEVICES": "0"}, expect_ok=False)
    assert out.returncode != 0 and "needs one GPU per rank: 2 ranks on this node, 1 GPU(s)" in out.stderr
