"""How much of PyTorch's public tensor API has a name here: torch.* functions, Tensor methods, nn.functional.

    python bench/api_coverage.py [--missing]

PyTorch's side: the public (no leading underscore) callables of `torch`, `torch.Tensor` and `torch.nn.functional`
that are not classes or modules. Ours: the same namespaces of tinygrad_fer. A name counts when it exists here; this
says nothing of whether it behaves the same (the op registry's tests check that for the ops in it).
"""
import argparse
import inspect
import sys


def public_callables(ns, methods=False):
    names = set()
    for n in dir(ns):
        if n.startswith("_"):
            continue
        try:
            v = getattr(ns, n)
        except Exception:
            continue
        if inspect.isclass(v) or inspect.ismodule(v) or not callable(v):
            continue
        names.add(n)
    return names


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--missing", action="store_true", help="list the PyTorch names we lack")
    args = ap.parse_args()
    import numpy  # noqa: F401  (as user scripts do)
    import torch
    import tinygrad_fer as tg
    pairs = [("torch.*", torch, tg), ("Tensor.*", torch.Tensor, tg.Tensor),
             ("nn.functional.*", torch.nn.functional, tg.nn.functional)]
    total_have = total = 0
    for label, theirs, ours in pairs:
        want = public_callables(theirs)
        have = want & (public_callables(ours) | {n for n in dir(ours) if not n.startswith("_")})
        total_have, total = total_have + len(have), total + len(want)
        print(f"{label:<18}{len(have):>5} of {len(want):<5} ({100 * len(have) / len(want):.0f}%)")
        if args.missing:
            print("  missing:", " ".join(sorted(want - have)))
    print(f"{'all':<18}{total_have:>5} of {total:<5} ({100 * total_have / total:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
