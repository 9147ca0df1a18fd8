"""Training-step speed, per-op overhead, memory and start-up: tinygrad_fer against PyTorch, in one run, 2 threads.

    python bench/bench_step.py            # all sections (about 3 minutes)
    python bench/bench_step.py --only step overhead
    python bench/bench_step.py --long     # also the 1,000-step memory-growth check
    python bench/bench_step.py --only step --threads 1 --cpu-time   # steadier on a busy machine (see timing.py)

Each figure is the median of repeated timings after warm-up, ours and PyTorch's called in turn; ratios > 1 mean
we are faster.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

THREADS = threads.pin_from_argv()

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
from models import fer_net, copy_weights  # noqa: E402
from timing import interleaved  # noqa: E402

CPU_TIME = "--cpu-time" in sys.argv


def step_fn(lib, model, batch, opt):
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(batch[0]), batch[1])
        loss.backward()
        opt.step()
    return step


def make_pair(batch_size, seed=0):
    import torch
    import tinygrad_fer as tg
    torch.set_num_threads(THREADS)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch_size, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, batch_size)
    ours, theirs = fer_net(tg), fer_net(torch)
    copy_weights(theirs, ours)
    o_opt = tg.optim.SGD(ours.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    t_opt = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    o_step = step_fn(tg, ours, (tg.tensor(x), tg.tensor(y)), o_opt)
    t_step = step_fn(torch, theirs, (torch.tensor(x), torch.tensor(y)), t_opt)
    return o_step, t_step


def flops_per_image():
    # forward multiply-adds of the FER net, x2 for FLOPs, x3 for forward + both gradients
    conv1 = 32 * 32 * 16 * 3 * 25
    conv2 = 15 * 15 * 32 * 16 * 25
    fc = 7 * 7 * 32 * 256 + 256 * 128 + 128 * 10
    return 2 * 3 * (conv1 + conv2 + fc)


_SGEMM_CHILD = r"""
import sys; sys.path.insert(0, {here!r})
import numpy as np
from timing import interleaved
a = np.random.default_rng(0).standard_normal((32, 400)).astype(np.float32)
b = np.random.default_rng(1).standard_normal((400, 11250)).astype(np.float32)
print(2 * 32 * 400 * 11250 / interleaved({{0: lambda: a @ b}}, 30, 5, {cpu!r})[0])
"""


def sgemm_rate():
    """NumPy's rate on back-to-back conv-shaped SGEMMs, measured in a child process with OpenBLAS's own thread
    timeout: the OPENBLAS_THREAD_TIMEOUT=4 our package sets (good for a step, where Numba kernels run between the
    GEMMs) wakes the BLAS workers for every call, which measured 70-80 instead of 120-130 GFLOP/s on this loop."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    r = subprocess.run([sys.executable, "-c", _SGEMM_CHILD.format(here=HERE, cpu=CPU_TIME)], capture_output=True,
                       text=True, check=True, env=env)
    return float(r.stdout)


def section_step(rows):
    rate = sgemm_rate()
    bound = rate / flops_per_image()
    rows.append(("NumPy SGEMM on a conv-shaped GEMM (32x400 @ 400x11250)", f"{rate / 1e9:.0f} GFLOP/s", "", ""))
    for bs in (50, 128):
        o, t = make_pair(bs)
        med = interleaved({"ours": o, "torch": t}, 20, 3, CPU_TIME)
        to, tt = med["ours"], med["torch"]
        rows.append((f"FER net SGD step, batch {bs} (images/s)", f"{bs / to:,.0f}", f"{bs / tt:,.0f}",
                     f"{tt / to:.2f}"))
        # the roofline: every FLOP at NumPy's SGEMM rate; the direct float32 convolutions run faster than
        # that SGEMM on these shapes, so more than 100% is possible
        rows.append((f"  fraction of the SGEMM roofline {bound:,.0f} images/s", f"{bs / to / bound:.0%}",
                     f"{bs / tt / bound:.0%}", ""))


def section_overhead(rows):
    import torch
    import tinygrad_fer as tg
    torch.set_num_threads(THREADS)

    def mlp(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 32)).astype(np.float32), rng.integers(0, 10, 16)
    steps = {}
    for lib in (tg, torch):
        m = mlp(lib)
        opt = lib.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        steps[lib.__name__] = step_fn(lib, m, (lib.tensor(x), lib.tensor(y)), opt)
    res = list(interleaved(steps, 200, 20, CPU_TIME).values())
    rows.append(("MLP step, batch 16, width 32 (us/step)", f"{res[0] * 1e6:.0f}", f"{res[1] * 1e6:.0f}",
                 f"{res[1] / res[0]:.2f}"))

    def chain(lib, n=1000):
        v = lib.ones(10, requires_grad=True)
        h = v
        for i in range(n):
            h = h * 1.0001 if i % 2 else h + 0.5
        h.sum().backward()
    res = [v / 1000 for v in interleaved({lib.__name__: lambda lib=lib: chain(lib) for lib in (tg, torch)}, 15,
                                           3, CPU_TIME).values()]
    rows.append(("1,000-op elementwise chain, fwd+bwd (us/op)", f"{res[0] * 1e6:.1f}", f"{res[1] * 1e6:.1f}",
                 f"{res[1] / res[0]:.2f}"))


_MEM_CHILD = r"""
import os, sys, numpy as np
sys.path.insert(0, {here!r})
lib_name, bs, steps = sys.argv[1], int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")]
if lib_name == "torch":
    import torch as lib; lib.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
else:
    import tinygrad_fer as lib
from models import fer_net
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
rng = np.random.default_rng(0)
x = lib.tensor(rng.standard_normal((bs, 3, 32, 32)).astype(np.float32)); y = lib.tensor(rng.integers(0, 10, bs))
m = fer_net(lib); opt = lib.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
model = rss()
# one batch-1 step loads what each library loads lazily (Numba's compiler and cached kernels: ~130 MB; PyTorch's
# kernels), so that what is measured above it is the step's own memory
opt.zero_grad(); lib.nn.functional.cross_entropy(m(x[:1]), y[:1]).backward(); opt.step()
base = rss()
out = []
done = 0
for target in steps:
    while done < target:
        opt.zero_grad(); lib.nn.functional.cross_entropy(m(x), y).backward(); opt.step(); done += 1
    out.append(rss())
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a child would report its parent's peak
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
print(model, base, peak, *out)
"""


def mem_run(lib, bs, steps):
    code = _MEM_CHILD.format(here=HERE)
    r = subprocess.run([sys.executable, "-c", code, lib, str(bs), ",".join(map(str, steps))], capture_output=True,
                       text=True, check=True, env=os.environ)
    return [int(v) for v in r.stdout.split()]


def section_memory(rows, long):
    mb = 1024 * 1024
    o, t = mem_run("tinygrad_fer", 128, [5]), mem_run("torch", 128, [5])
    rows.append(("Peak RSS of the process, 5 steps at batch 128 (MB)", f"{o[2] / mb:.0f}", f"{t[2] / mb:.0f}",
                 f"{t[2] / o[2]:.2f}"))
    rows.append(("  added by the first step (batch 1: lazy loading) (MB)", f"{(o[1] - o[0]) / mb:.0f}",
                 f"{(t[1] - t[0]) / mb:.0f}", ""))
    rows.append(("  added by the batch-128 steps on top (MB)", f"{(o[2] - o[1]) / mb:.0f}", f"{(t[2] - t[1]) / mb:.0f}",
                 f"{(t[2] - t[1]) / max(o[2] - o[1], 1):.2f}"))
    if long:
        o = mem_run("tinygrad_fer", 128, [100, 1000])
        rows.append(("RSS after 100 / 1,000 steps at batch 128 (MB)", f"{o[3] / mb:.0f} / {o[4] / mb:.0f}", "", ""))


def section_startup(rows):
    def timed(code):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=os.environ, capture_output=True)
        return time.perf_counter() - t
    base = min(timed("import numpy") for _ in range(3))
    imp = min(timed("import tinygrad_fer") for _ in range(3)) - base
    timp = min(timed("import torch") for _ in range(3)) - base
    rows.append(("Import time (s, above `import numpy`)", f"{imp:.2f}", f"{timp:.2f}", ""))
    first = (f"import sys, time; sys.path.insert(0, {HERE!r}); import numpy as np, tinygrad_fer as tg; "
             "from models import fer_net; m = fer_net(tg); x = tg.randn(50, 3, 32, 32); y = tg.randint(0, 10, (50,)); "
             "t = time.perf_counter(); tg.nn.functional.cross_entropy(m(x), y).backward(); "
             "print(time.perf_counter() - t)")
    runs = [float(subprocess.run([sys.executable, "-c", first], check=True, env=os.environ, capture_output=True,
                                 text=True).stdout) for _ in range(2)]
    rows.append(("First training step in a new process (s): first run / cached", f"{runs[0]:.2f} / {runs[1]:.2f}",
                 "", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=["step", "overhead", "memory", "startup"])
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--threads", type=int, default=2, help="for every library (read before they load)")
    ap.add_argument("--cpu-time", action="store_true", help="process CPU time instead of wall time")
    args = ap.parse_args()
    rows = []
    import platform
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, threads={THREADS}, "
          f"{'CPU' if CPU_TIME else 'wall'} time, load average {os.getloadavg()[0]:.2f}")
    if "step" in args.only:
        section_step(rows)
    if "overhead" in args.only:
        section_overhead(rows)
    if "memory" in args.only:
        section_memory(rows, args.long)
    if "startup" in args.only:
        section_startup(rows)
    w = max(len(r[0]) for r in rows)
    print(f"{'':{w}}  {'ours':>14}  {'PyTorch':>10}  {'ratio':>6}")
    for r in rows:
        print(f"{r[0]:{w}}  {r[1]:>14}  {r[2]:>10}  {r[3]:>6}")


if __name__ == "__main__":
    main()
