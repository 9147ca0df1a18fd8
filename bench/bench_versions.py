"""Two checkouts of tinygrad_fer, timed against each other (one thread, CPU time): did a change cost speed?

    git worktree add /tmp/before <commit>
    python bench/bench_versions.py /tmp/before . [--rounds 3]

Each round runs every checkout in a process of its own (`PYTHONPATH=<checkout>`, numpy imported first), in turn, and
prints the median of 7 timed repetitions after warm-up of: the FER net's SGD step at batch 50 (ms), an MLP
784-512-512-10 Adam step at batch 128 (ms), and a 250-step chain of 4 elementwise ops with its backward (us per op).
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import os
for v in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[v] = "1"
import numpy as np, time, json, sys
sys.path.insert(1, os.path.join(os.environ["CHECKOUT"], "bench"))
import tinygrad_fer as tg
assert tg.__file__.startswith(os.environ["CHECKOUT"] + os.sep), (tg.__file__, "is not from", os.environ["CHECKOUT"])
from tinygrad_fer import nn
import tinygrad_fer.nn.functional as F
from models import fer_net

x0 = tg.randn(16, 16, requires_grad=True)


def chain():
    x = x0
    for _ in range(250):
        x = (x * 1.0001 + 0.1).relu() - 0.05
    x.sum().backward()


m = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
opt = tg.optim.Adam(m.parameters())
xb, yb = tg.randn(128, 784), tg.randint(0, 10, (128,))


def mlp():
    opt.zero_grad()
    F.cross_entropy(m(xb), yb).backward()
    opt.step()


fer = fer_net(tg)
fo = tg.optim.SGD(fer.parameters(), lr=0.01, momentum=0.9)
xf, yf = tg.randn(50, 3, 32, 32), tg.randint(0, 10, (50,))


def fer_step():
    fo.zero_grad()
    F.cross_entropy(fer(xf), yf).backward()
    fo.step()


out = {}
for name, f, scale in (("fer_ms", fer_step, 1e3), ("mlp_ms", mlp, 1e3), ("chain_us_per_op", chain, 1e6 / 1000)):
    for _ in range(3):
        f()
    ts = []
    for _ in range(7):
        t = time.process_time()
        f()
        ts.append(time.process_time() - t)
    out[name] = round(sorted(ts)[3] * scale, 3)
print(json.dumps(out))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkouts", nargs="+")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for r in range(args.rounds):
        for c in args.checkouts:
            c = os.path.abspath(c)
            env = dict(os.environ, PYTHONPATH=c, CHECKOUT=c)
            # cwd: `python -c` puts the working directory first on sys.path, ahead of PYTHONPATH
            res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True,
                                 cwd=c)
            print(f"round {r + 1}  {c}: {json.loads(res.stdout.strip().splitlines()[-1])}", flush=True)


if __name__ == "__main__":
    main()
