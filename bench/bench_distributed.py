"""Data-parallel cost on this machine: the all-reduce of the FER net's gradient size (0.5 M float32), blocking and
non-blocking, and the FER training step at a global batch of 50 split over the ranks (medians): without
communication (no_sync), with every gradient in one bucket (its all-reduce starts when backward has ended: no
overlap), with DDP's default buckets (the fully-connected layers' 1.7 MB start while the convolutions' backward
runs), the same without the MPI progress thread, and with 0.25 MB buckets; and how long the end of backward waits
for the buckets. The configurations are interleaved, so a load that comes and goes hits all alike.

    python -m tinygrad_fer.distributed.run --nproc-per-node 2 bench/bench_distributed.py    # 2 ranks x 1 thread
    python -m tinygrad_fer.distributed.run --nproc-per-node 1 bench/bench_distributed.py    # 1 process x 2 threads
"""
import os
import sys
import time

import tinygrad_fer as tg
import tinygrad_fer.distributed as dist
from tinygrad_fer.distributed import _work
from tinygrad_fer.distributed._reducer import Reducer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import fer_net  # noqa: E402


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        dist.barrier()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def median(times):
    return sorted(times)[len(times) // 2]


def _timing_finalize():
    """Time spent at the end of backward waiting for the buckets' all-reduces (communication not overlapped)."""
    finalize, spent = Reducer._finalize, []

    def timed_finalize(self):
        t = time.perf_counter()
        finalize(self)
        spent.append(time.perf_counter() - t)
    Reducer._finalize = timed_finalize
    return spent


def main():
    dist.init_process_group("mpi")
    rank, ranks = dist.get_rank(), dist.get_world_size()
    grad = tg.zeros(500_000)
    for _ in range(3):
        dist.all_reduce(grad)
    reduce_s = median(timed(lambda: dist.all_reduce(grad), 21))
    ireduce_s = median(timed(lambda: dist.all_reduce(grad, async_op=True).wait(), 21))
    waits = _timing_finalize()
    batch = 50 // ranks
    x, y = tg.randn(batch, 3, 32, 32), tg.randint(0, 10, (batch,))
    # label: (bucket_cap_mb, background progress thread)
    configs = {"no communication (no_sync)": (None, True), "one bucket, no overlap": (100.0, True),
               "default buckets": (None, True), "default buckets, no progress thread": (None, False),
               "0.25 MB buckets": (0.25, True)}
    steps = {}
    for label, (cap, progress) in configs.items():
        tg.manual_seed(0)
        model = tg.nn.parallel.DistributedDataParallel(fer_net(tg), bucket_cap_mb=cap)
        opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(model=model, opt=opt, local=label.startswith("no comm"), progress=progress):
            _work._progress.enabled = progress
            opt.zero_grad()
            if local:
                with model.no_sync():
                    tg.nn.functional.cross_entropy(model(x), y).backward()
            else:
                tg.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        for _ in range(3):
            step()
        steps[label] = (step, [], len(model.reducer.buckets), [])
    for _ in range(4):
        for step, times, _, waited in steps.values():
            del waits[:]
            times += timed(step, 5)
            waited += waits
    if rank == 0:
        print(f"ranks {ranks}: all_reduce of 0.5M float32 {reduce_s * 1e3:.2f} ms ({2e6 / reduce_s / 1e9:.1f} GB/s), "
              f"non-blocking + wait {ireduce_s * 1e3:.2f} ms")
        for label, (_, times, buckets, waited) in steps.items():
            s = median(times)
            wait = f", {median(waited) * 1e3:.2f} ms of it waiting at the end of backward" if waited else ""
            print(f"  FER step at global batch {batch * ranks}, {label} ({buckets} bucket(s)): {s * 1e3:.1f} ms = "
                  f"{batch * ranks / s:.0f} img/s{wait}")


if __name__ == "__main__":
    main()
