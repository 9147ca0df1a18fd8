"""Timing shared by the CPU benchmarks: interleaved medians, on the wall clock or on process CPU time.

Interleaving (one call of each function per round) gives every contender the same machine noise. Process CPU time
(`--cpu-time`) measures the work done rather than the time it took; with one thread it stays steady on a loaded
machine, where wall time does not (with more threads it would also count passive-wait bookkeeping and spinning).
"""
import time

import numpy as np


def clock(cpu_time):
    return time.process_time if cpu_time else time.perf_counter


def interleaved(fns, repeats, warmup=3, cpu_time=False):
    """{name: median seconds per call} for the callables in `fns`, called in turn, `repeats` rounds."""
    now = clock(cpu_time)
    for _ in range(warmup):
        for f in fns.values():
            f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            t = now()
            f()
            times[k].append(now() - t)
    return {k: float(np.median(v)) for k, v in times.items()}
