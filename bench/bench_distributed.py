"""Data-parallel cost on this machine: the all-reduce of the FER net's gradient size (0.5 M float32) and the FER
training step at a global batch of 50, split over the ranks (medians).

    python -m tinygrad_fer.distributed.run --nproc-per-node 2 bench/bench_distributed.py    # 2 ranks x 1 thread
    python -m tinygrad_fer.distributed.run --nproc-per-node 1 bench/bench_distributed.py    # 1 process x 2 threads
"""
import os
import sys
import time

import tinygrad_fer as tg
import tinygrad_fer.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from models import fer_net  # noqa: E402


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        dist.barrier()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[repeats // 2]


def main():
    dist.init_process_group("mpi")
    rank, ranks = dist.get_rank(), dist.get_world_size()
    grad = tg.zeros(500_000)
    for _ in range(3):
        dist.all_reduce(grad)
    reduce_s = median_time(lambda: dist.all_reduce(grad), 21)
    tg.manual_seed(0)
    model = tg.nn.parallel.DistributedDataParallel(fer_net(tg))
    opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = 50 // ranks
    x, y = tg.randn(batch, 3, 32, 32), tg.randint(0, 10, (batch,))

    def step():
        opt.zero_grad()
        tg.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    step_s = median_time(step, 15)
    if rank == 0:
        print(f"ranks {ranks}: all_reduce of 0.5M float32 {reduce_s * 1e3:.2f} ms ({2e6 / reduce_s / 1e9:.1f} GB/s); "
              f"FER step at global batch {batch * ranks}: {step_s * 1e3:.1f} ms = {batch * ranks / step_s:.0f} img/s")


if __name__ == "__main__":
    main()
