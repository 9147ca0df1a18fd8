"""Training-step throughput of six nets as users run them: each library in a process of its own, a script that
imports numpy first, the default environment (both libraries left at this machine's thread count), random data,
rounds interleaved (ours, PyTorch, ours, ...), medians.

    python bench/bench_nets.py [--rounds 3] [--steps 20] [--nets fer:50,fer:128,resnet8:128,vgg:64,lenet:256,mlp:128]
    python bench/bench_nets.py --mixed      # the FER step with PyTorch training the same net in the same process
    python bench/bench_nets.py --checkout /tmp/before   # ours from another checkout (git worktree add ...)

Prints img/s for both and the ratio (ours / PyTorch). Adam for the MLP and ResNet-8, SGD with momentum otherwise.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import numpy as np
import json, sys, time
sys.path.insert(0, {here!r})
lib_name, net, batch, steps, mixed = {lib!r}, {net!r}, {batch}, {steps}, {mixed}
if mixed:   # a notebook comparing both: PyTorch loaded and training the same net between our steps
    import torch
    sys.path.insert(0, {here!r})
    from models import NETS as _N
    _tm = _N[net][0](torch)
    _to = torch.optim.SGD(_tm.parameters(), lr=0.01)
    _tx, _ty = torch.randn((batch,) + _N[net][1]), torch.randint(0, 10, (batch,))

    def torch_step():
        _to.zero_grad()
        torch.nn.functional.cross_entropy(_tm(_tx), _ty).backward()
        _to.step()
    torch_step()
if lib_name == "torch":
    import torch as lib
else:
    import tinygrad_fer as lib
    import os
    assert lib.__file__.startswith(os.environ.get("CHECKOUT", "")), (lib.__file__, "is not from --checkout")
from models import NETS
build, shape, opt_name = NETS[net]
lib.manual_seed(0)
model = build(lib)
params = list(model.parameters())
opt = lib.optim.Adam(params, lr=1e-3) if opt_name == "adam" else lib.optim.SGD(params, lr=0.01, momentum=0.9)
rng = np.random.default_rng(0)
x = lib.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
y = lib.tensor(rng.integers(0, 10, batch))
def step():
    opt.zero_grad()
    lib.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
for _ in range(3):
    step()
times = []
for _ in range(steps):
    if mixed:
        torch_step()     # untimed: its threads may still be spinning when ours start
    t = time.perf_counter()
    step()
    times.append(time.perf_counter() - t)
print(json.dumps(batch / sorted(times)[len(times) // 2]))
"""


def run(lib, net, batch, steps, mixed=False, checkout=None):
    code = CHILD.format(here=HERE, lib=lib, net=net, batch=batch, steps=steps, mixed=mixed)
    env = dict(os.environ)
    if checkout and lib == "ours":
        env["PYTHONPATH"] = env["CHECKOUT"] = os.path.abspath(checkout)
    # run from bench/: `python -c` puts the working directory first on sys.path, and started from a checkout's root
    # that checkout's tinygrad_fer would shadow --checkout's
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--nets", default="fer:50,fer:128,resnet8:128,vgg:64,lenet:256,mlp:128")
    ap.add_argument("--mixed", action="store_true", help="the FER step at batch 50 and 128, a PyTorch step of the "
                                                         "same net run in-process before each of ours")
    ap.add_argument("--checkout", help="run ours from this checkout (PYTHONPATH) instead of the installed one")
    a = ap.parse_args()
    cases = [("fer", 50), ("fer", 128)] if a.mixed else [(n.split(":")[0], int(n.split(":")[1]))
                                                          for n in a.nets.split(",")]
    got = {c: {"ours": [], "torch": []} for c in cases}
    for r in range(a.rounds):
        for c in cases:
            for lib in ("ours", "torch"):
                got[c][lib].append(run(lib, c[0], c[1], a.steps, a.mixed and lib == "ours", a.checkout))
        print(f"round {r + 1} done", file=sys.stderr)
    print(f"| net (batch){' with PyTorch in-process' if a.mixed else ''} | ours img/s | PyTorch img/s | ratio |")
    print("|---|---|---|---|")
    for (net, batch), v in got.items():
        o, t = statistics.median(v["ours"]), statistics.median(v["torch"])
        print(f"| {net} ({batch}) | {o:,.0f} | {t:,.0f} | {o / t:.2f} |")


if __name__ == "__main__":
    main()
