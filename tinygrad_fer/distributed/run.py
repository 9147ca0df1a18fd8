"""The launcher, with torchrun's flags: `python -m tinygrad_fer.distributed.run --nproc-per-node N script.py args`.

The MPI backend needs its ranks started by MPI, so this runs `mpiexec -n N` (Open MPI's, from the `distributed`
extra) over a small bootstrap that gives each rank torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK,
LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT) from MPI's own and then runs the script as __main__. Several machines:
`--hostfile FILE` (MPI's format: one host per line, `slots=K`), with --nproc-per-node ranks on each host. If a rank
fails, mpiexec ends the whole job with a non-zero exit status (Open MPI aborts the other ranks, also those waiting in
a collective), so a failed rank never leaves the job hanging. Each rank gets its share of the cores as its thread
count (OMP/NUMBA/OPENBLAS_NUM_THREADS, unless set), as torchrun limits OMP_NUM_THREADS.
"""
import argparse
import os
import shutil
import subprocess
import sys


def _parser():
    ap = argparse.ArgumentParser(prog="python -m tinygrad_fer.distributed.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1)
    ap.add_argument("--nnodes", type=int, default=1, help="with MPI, give the hosts with --hostfile")
    ap.add_argument("--node-rank", "--node_rank", type=int, default=0, help="accepted for torchrun's sake")
    ap.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    ap.add_argument("--master-port", "--master_port", type=int, default=29500)
    ap.add_argument("--hostfile", help="MPI hostfile for several machines")
    ap.add_argument("-m", "--module", action="store_true", help="the target is a module, as python -m")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    return ap


def _mpiexec():
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    path = here if os.path.exists(here) else shutil.which("mpiexec")
    if path is None:
        raise SystemExit("tinygrad_fer.distributed.run needs mpiexec: pip install 'tinygrad_fer[distributed]'")
    return path


def main(argv=None):
    a = _parser().parse_args(argv)
    if a.nnodes > 1 and not a.hostfile:
        raise SystemExit("--nnodes > 1 needs --hostfile with the MPI backend (MPI starts every node's ranks itself)")
    n = a.nproc_per_node * a.nnodes
    # each rank's share of the cores, as torchrun does: ranks that each start a full thread pool oversubscribe the
    # machine (2 ranks x 2 threads on 2 cores ran a FER step 10x slower than 2 x 1)
    threads = max(1, (os.cpu_count() or 1) // a.nproc_per_node)
    cmd = [_mpiexec(), "-n", str(n), "--oversubscribe"]
    if threads > 1:
        cmd += ["--bind-to", "none"]    # MPI binds each rank to one core by default
    if a.hostfile:
        cmd += ["--hostfile", a.hostfile, "--map-by", f"ppr:{a.nproc_per_node}:node"]
    cmd += [sys.executable, "-m", "tinygrad_fer.distributed._rank", "-m" if a.module else "--", a.script, *a.args]
    env = dict(os.environ, MASTER_ADDR=a.master_addr, MASTER_PORT=str(a.master_port))
    for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"):   # a user's own setting wins
        env.setdefault(var, str(threads))
    if hasattr(os, "geteuid") and os.geteuid() == 0:   # Open MPI refuses root unless told twice
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return subprocess.call(cmd, env=env)


if __name__ == "__main__":
    sys.exit(main())
