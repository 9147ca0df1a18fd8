"""One rank of tinygrad_fer.distributed.run: torchrun's environment from MPI's, then the script as __main__."""
import os
import runpy
import sys


def main():
    env = os.environ
    rank = env.get("OMPI_COMM_WORLD_RANK", env.get("PMI_RANK", "0"))
    size = env.get("OMPI_COMM_WORLD_SIZE", env.get("PMI_SIZE", "1"))
    env.update(RANK=rank, WORLD_SIZE=size, LOCAL_RANK=env.get("OMPI_COMM_WORLD_LOCAL_RANK", rank),
               LOCAL_WORLD_SIZE=env.get("OMPI_COMM_WORLD_LOCAL_SIZE", size))
    mode, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    sys.argv = [target, *args]
    try:
        if mode == "-m":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(target, run_name="__main__")
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if code:
            if not isinstance(e.code, int):
                print(e.code, file=sys.stderr)
            _abort(code)
        raise
    except BaseException:
        import traceback
        traceback.print_exc()
        _abort(1)


def _abort(code):
    """End every rank now: the others may be waiting for this one in a collective (a normal exit would finalize MPI
    and leave them there)."""
    sys.stderr.flush()
    sys.stdout.flush()
    if "mpi4py.MPI" in sys.modules:
        sys.modules["mpi4py.MPI"].COMM_WORLD.Abort(code)
    os._exit(code)


if __name__ == "__main__":
    main()
