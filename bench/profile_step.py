"""Where one training step's time goes: per autograd Function (forward and backward apart), then the optimizer
and the rest. Ours only; for PyTorch's side use torch.profiler.

    python bench/profile_step.py                      # the FER net, batch 50, 2 threads, wall time
    python bench/profile_step.py --batch 128 --threads 1 --cpu-time
    python bench/profile_step.py --net resnet8 --batch 128     # any net of bench/models.py NETS

Every Function's forward/backward is wrapped with a timer (a few microseconds each, so the "rest" row carries
that overhead too); the step itself is timed around the wrapped code.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import threads  # noqa: E402

THREADS = threads.pin_from_argv()

import argparse  # noqa: E402
import collections  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_fer as tg  # noqa: E402
from tinygrad_fer import autograd  # noqa: E402
from models import NETS  # noqa: E402
from timing import clock  # noqa: E402


def _subclasses(cls):
    for s in cls.__subclasses__():
        yield s
        yield from _subclasses(s)


def instrument(now):
    """Wrap every Function's forward and backward; returns the dict their times add up in."""
    acc = collections.defaultdict(float)

    def wrap(cls, name, key):
        fn = getattr(cls, name)

        def timed(ctx, *args, **kw):
            t = now()
            out = fn(ctx, *args, **kw)
            acc[key] += now() - t
            return out
        setattr(cls, name, staticmethod(timed))
    for cls in set(_subclasses(autograd.Function)):
        if "forward" in vars(cls):
            wrap(cls, "forward", f"{cls.__name__} forward")
        if "backward" in vars(cls):
            wrap(cls, "backward", f"{cls.__name__} backward")
    return acc


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--net", default="fer", choices=sorted(NETS))
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2, help="for every library (read before they load)")
    ap.add_argument("--cpu-time", action="store_true", help="process CPU time instead of wall time")
    a = ap.parse_args()
    now = clock(a.cpu_time)
    acc = instrument(now)
    build, shape, opt_name = NETS[a.net]
    model = build(tg)
    opt = tg.optim.Adam(model.parameters(), lr=1e-3) if opt_name == "adam" else \
        tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((a.batch,) + shape).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, a.batch))
    step_total = opt_total = 0.0
    for i in range(5 + a.steps):
        if i == 5:      # warm-up done (Numba compiled or loaded from its cache)
            acc.clear()
            step_total = opt_total = 0.0
        t0 = now()
        opt.zero_grad()
        tg.nn.functional.cross_entropy(model(x), y).backward()
        t1 = now()
        opt.step()
        t2 = now()
        step_total += t2 - t0
        opt_total += t2 - t1
    n = a.steps
    rows = sorted(acc.items(), key=lambda kv: -kv[1]) + [(f"optimizer step ({type(opt).__name__})", opt_total)]
    rows.append(("rest: Python, graph, zero_grad, timers", step_total - sum(v for _, v in rows)))
    print(f"{a.net}, batch {a.batch}, {THREADS} thread(s), {'CPU' if a.cpu_time else 'wall'} time, "
          f"mean of {n} steps: {step_total / n * 1e3:.2f} ms per step")
    for name, v in rows:
        print(f"  {name:40s} {v / n * 1e3:7.2f} ms  {v / step_total:6.1%}")


if __name__ == "__main__":
    main()
