"""torch.distributed's process group and collectives, for data-parallel training: on MPI (mpi4py) for CPU tensors
and on NCCL (CuPy's cupyx.distributed) for CUDA tensors.

`init_process_group(backend)`: "mpi" (ranks from MPI, as `mpiexec -n N` starts them; or RANK / WORLD_SIZE checked
against it; CUDA tensors go through host copies), "nccl" (CUDA tensors only, one GPU per rank; _nccl.py), or None,
PyTorch's default: each tensor goes to its device's backend, MPI for CPU tensors and NCCL for CUDA tensors when CuPy
sees a GPU and NCCL (else MPI), the NCCL communicator made at the first CUDA collective as PyTorch makes it lazily.
Then `is_available`, `is_mpi_available`, `is_nccl_available`, `is_initialized`, `get_backend`, `get_rank`,
`get_world_size`, `barrier`, `destroy_process_group`, and the tensor collectives `all_reduce` (SUM, AVG, MAX, MIN,
PRODUCT), `reduce`, `broadcast`, `all_gather`, `all_gather_into_tensor`, `reduce_scatter_tensor`, `gather`,
`scatter`, `send`/`recv`, `isend`/`irecv`; object collectives `broadcast_object_list`, `all_gather_object`.
Collectives work in place on the tensors' memory, as PyTorch's, and bump their version counters. With
async_op=True they return a `Work`: the tensors hold the result once its wait() has returned (MPI: _work.py; NCCL:
on the caller's stream, see _nccl.py). mpi4py comes with the `distributed` extra, CuPy with `cuda`; without mpi4py
`is_available()` is False and init_process_group says how to install it.
"""
import os

from . import _nccl
from ._mpi import MPIGroup, ReduceOp, join
from ._work import Work

# backend: the name get_backend() answers; cpu / cuda: the group for tensors of that device (a function making it
# on first use, for the lazy NCCL communicator of backend=None); rank, size
_state = {"backend": None, "cpu": None, "cuda": None, "rank": None, "size": None}


def is_available():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


is_mpi_available = is_available


def is_nccl_available():
    """Whether the 'nccl' backend can run here: CuPy imports, sees a GPU and loads NCCL."""
    return _nccl.available()


def is_initialized():
    return _state["backend"] is not None


def _group(tensor=None):
    """The group a collective on tensor uses (tensor None: barrier and objects, the CPU side when there is one)."""
    if _state["backend"] is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    key = "cuda" if tensor is not None and not tensor.is_cpu else "cpu"
    if _state[key] is None:
        key = "cuda" if key == "cpu" else "cpu"
    g = _state[key]
    if callable(g):
        g = _state[key] = g()
    return g


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    name = backend.lower() if isinstance(backend, str) else backend
    if name not in (None, "mpi", "nccl"):
        raise RuntimeError(f"backend {backend!r} is not available in tinygrad_fer (CPU: 'mpi', GPU: 'nccl')")
    if _state["backend"] is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if name == "nccl" or (name is None and not is_available() and is_nccl_available()):
        _nccl.require()
        size = world_size if world_size != -1 else int(_nccl.env("WORLD_SIZE"))
        me = rank if rank != -1 else int(_nccl.env("RANK"))
        group = _nccl.NCCLGroup(size, me, *_nccl.rendezvous(init_method))
        _state.update(backend="nccl", cpu=None if name is None else group, cuda=group, rank=me, size=size)
        return
    if not is_available():
        raise RuntimeError("the 'mpi' backend needs mpi4py and an MPI: pip install 'tinygrad_fer[distributed]'")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    want_size = world_size if world_size != -1 else int(os.environ.get("WORLD_SIZE", comm.Get_size()))
    want_rank = rank if rank != -1 else int(os.environ.get("RANK", comm.Get_rank()))
    if (want_size, want_rank) != (comm.Get_size(), comm.Get_rank()):
        raise RuntimeError(f"world_size={want_size}, rank={want_rank} do not match MPI's {comm.Get_size()} ranks "
                           f"(this is rank {comm.Get_rank()}): start the job with mpiexec -n {want_size}")
    join(comm, timeout)
    group, cuda = MPIGroup(comm), None
    if name is None and _nccl_fits():
        host, port = _default_rendezvous(init_method)
        size, me = comm.Get_size(), comm.Get_rank()
        _nccl.use_local_device(me)   # now, so that the tensors made before the first collective are on it
        cuda = lambda: _nccl.NCCLGroup(size, me, host, port)   # noqa: E731
    _state.update(backend="mpi" if cuda is None else "cpu:mpi,cuda:nccl", cpu=group, cuda=cuda or group,
                  rank=comm.Get_rank(), size=comm.Get_size())


def _nccl_fits():
    """backend=None's choice for CUDA tensors: NCCL where it can run, one rank per GPU (else MPI's host copies)."""
    from ..backend_cuda import backend_cuda
    return is_nccl_available() and int(os.environ.get("LOCAL_WORLD_SIZE", 1)) <= backend_cuda.device_count()


def _default_rendezvous(init_method):
    """Where backend=None's NCCL store listens: init_method's tcp://host:port, else MASTER_ADDR / MASTER_PORT, with
    torchrun's defaults (mpiexec alone sets neither)."""
    if init_method is not None and init_method.startswith("tcp://"):
        return _nccl.rendezvous(init_method)
    return os.environ.get("MASTER_ADDR", "127.0.0.1"), int(os.environ.get("MASTER_PORT", 29500))


def destroy_process_group(group=None):
    for g in {id(g): g for g in (_state["cpu"], _state["cuda"]) if hasattr(g, "stop")}.values():
        g.stop()
    _state.update(backend=None, cpu=None, cuda=None, rank=None, size=None)


def get_backend(group=None):
    _group()
    return _state["backend"]


def get_rank(group=None):
    _group()
    return _state["rank"]


def get_world_size(group=None):
    _group()
    return _state["size"]


def barrier(group=None, async_op=False, device_ids=None):
    return _group().barrier(async_op=async_op)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's tensor becomes the reduction over all ranks (AVG: the sum divided by the world size)."""
    return _group(tensor).all_reduce(tensor, op, async_op=async_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    return _group(tensor).reduce(tensor, dst, op, async_op=async_op)


def broadcast(tensor, src, group=None, async_op=False):
    return _group(tensor).broadcast(tensor, src, async_op=async_op)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] gets rank i's tensor (every list entry must have the tensor's shape and dtype)."""
    return _group(tensor).all_gather(tensor_list, tensor, async_op=async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size * n, ...) gets every rank's input (n, ...) stacked along the first dimension."""
    return _group(output_tensor).all_gather_into_tensor(output_tensor, input_tensor, async_op=async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """The reduction over ranks of input (world_size * n, ...), rank i keeping rows [i n, (i + 1) n)."""
    return _group(output).reduce_scatter_tensor(output, input, op, async_op=async_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    return _group(tensor).gather(tensor, gather_list, dst, async_op=async_op)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    return _group(tensor).scatter(tensor, scatter_list, src, async_op=async_op)


def send(tensor, dst, group=None, tag=0):
    _group(tensor).send(tensor, dst, tag=tag)


def recv(tensor, src=None, group=None, tag=0):
    return _group(tensor).recv(tensor, src, tag=tag)


def isend(tensor, dst, group=None, tag=0):
    """send without waiting: the tensor must stay unchanged until the Work's wait()."""
    return _group(tensor).isend(tensor, dst, tag=tag)


def irecv(tensor, src=None, group=None, tag=0):
    return _group(tensor).irecv(tensor, src, tag=tag)


def broadcast_object_list(object_list, src=0, group=None, device=None):
    _group().broadcast_object_list(object_list, src)


def all_gather_object(object_list, obj, group=None):
    _group().all_gather_object(object_list, obj)


__all__ = ["ReduceOp", "is_available", "is_mpi_available", "is_nccl_available", "is_initialized",
           "init_process_group", "destroy_process_group", "get_backend", "get_rank", "get_world_size", "barrier",
           "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter_tensor",
           "gather", "scatter", "send", "recv", "isend", "irecv", "broadcast_object_list", "all_gather_object",
           "Work"]
