"""Memory that kept losses hold: the `losses.append(loss)` pattern over the FER net's training steps.

    python bench/bench_kept_graph.py [--steps 50] [--batch 50]

Each library runs in a process of its own (a script that imports numpy first, default environment). Reported: the
resident set size (RSS) after the first step and after the last, and what the steps in between added, for a loop
that keeps every loss tensor (`losses.append(loss)`) and for one that keeps `loss.item()`. A kept loss should cost
what its graph's bookkeeping costs, not its activations.
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import numpy as np, sys, json
sys.path.insert(0, {here!r})
from models import fer_net
lib_name, steps, batch, keep = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "tensor"
if lib_name == "torch":
    import torch as lib
    lib.manual_seed(0)
else:
    import tinygrad_fer as lib
    lib.manual_seed(0)


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20


model = fer_net(lib)
opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
x = lib.tensor(rng.standard_normal((batch, 3, 32, 32)).astype(np.float32))
y = lib.tensor(rng.integers(0, 10, batch))
losses = []
first = None
for i in range(steps):
    opt.zero_grad()
    loss = lib.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss if keep else loss.item())
    if i == 0:
        first = rss_mib()
print(json.dumps({{"first": first, "last": rss_mib()}}))
"""


def run(lib, steps, batch, keep):
    code = CHILD.format(here=HERE)
    out = subprocess.run([sys.executable, "-c", code, lib, str(steps), str(batch), keep], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--batch", type=int, default=50)
    args = ap.parse_args()
    print(f"FER net, batch {args.batch}, {args.steps} steps; RSS in MiB")
    print(f"{'library':<14}{'kept':<8}{'after step 1':>14}{'after last':>12}{'added':>9}")
    for keep in ("tensor", "item"):
        for lib in ("tinygrad_fer", "torch"):
            r = run(lib, args.steps, args.batch, keep)
            print(f"{lib:<14}{keep:<8}{r['first']:>14.1f}{r['last']:>12.1f}{r['last'] - r['first']:>9.1f}")


if __name__ == "__main__":
    main()
