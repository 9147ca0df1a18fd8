"""torch.distributed's process group and collectives on MPI (mpi4py), for data-parallel training on CPUs.

`init_process_group(backend="mpi")` (ranks from MPI, as `mpiexec -n N` starts them; or RANK / WORLD_SIZE checked
against it), `is_available`, `is_initialized`, `get_rank`, `get_world_size`, `barrier`, `destroy_process_group`, and
the tensor collectives `all_reduce` (SUM, AVG, MAX, MIN, PRODUCT), `reduce`, `broadcast`, `all_gather`,
`all_gather_into_tensor`, `reduce_scatter_tensor`, `gather`, `scatter`, `send`/`recv`, `isend`/`irecv`; object
collectives `broadcast_object_list`, `all_gather_object`.
Collectives work in place on the tensors' memory, as PyTorch's, and bump their version counters. With
async_op=True they start MPI's non-blocking form (Iallreduce, Ibcast, ...) and return a `Work`: the tensors hold
the result once its wait() has returned. mpi4py comes with the `distributed` extra; without it `is_available()` is
False and init_process_group says how to install it.
"""
import os

import numpy as np

from ._work import Work

_state = {"comm": None}


class ReduceOp:
    SUM, AVG, MAX, MIN, PRODUCT = "sum", "avg", "max", "min", "product"


def is_available():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_initialized():
    return _state["comm"] is not None


def _comm():
    if _state["comm"] is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _state["comm"]


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    if backend not in (None, "mpi"):
        raise RuntimeError(f"backend {backend!r} is not available in tinygrad_fer (CPU: 'mpi'; 'nccl' is not built "
                           "yet)")
    if _state["comm"] is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    if not is_available():
        raise RuntimeError("the 'mpi' backend needs mpi4py and an MPI: pip install 'tinygrad_fer[distributed]'")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    want_size = world_size if world_size != -1 else int(os.environ.get("WORLD_SIZE", comm.Get_size()))
    want_rank = rank if rank != -1 else int(os.environ.get("RANK", comm.Get_rank()))
    if (want_size, want_rank) != (comm.Get_size(), comm.Get_rank()):
        raise RuntimeError(f"world_size={want_size}, rank={want_rank} do not match MPI's {comm.Get_size()} ranks "
                           f"(this is rank {comm.Get_rank()}): start the job with mpiexec -n {want_size}")
    _join(comm, timeout)
    _state["comm"] = comm


def _join(comm, timeout):
    """Wait for every rank to reach init_process_group, at most `timeout` (a timedelta or seconds; PyTorch's
    default 30 minutes): MPI's own collectives never time out, so a rank that never comes would hang the rest."""
    import time
    seconds = 1800.0 if timeout is None else getattr(timeout, "total_seconds", lambda: float(timeout))()
    request, deadline = comm.Ibarrier(), time.monotonic() + seconds
    while not request.Test():
        if time.monotonic() > deadline:
            raise RuntimeError(f"rank {comm.Get_rank()}: timed out after {seconds:g} s waiting for the other "
                               f"{comm.Get_size() - 1} rank(s) to join init_process_group")
        time.sleep(0.001)


def destroy_process_group(group=None):
    _state["comm"] = None


def get_rank(group=None):
    return _comm().Get_rank()


def get_world_size(group=None):
    return _comm().Get_size()


def barrier(group=None, async_op=False, device_ids=None):
    comm = _comm()
    return _start(comm, "Barrier", (), lambda: None, async_op)


def _host(tensor):
    """The tensor's memory as a contiguous host array the collective can write into (and a write-back step)."""
    a = tensor._array
    if type(a) is np.ndarray and a.flags.c_contiguous:
        return a, None
    host = np.ascontiguousarray(tensor._be.to_numpy(a))
    return host, lambda: tensor._array.__setitem__(Ellipsis, tensor._be.asarray(host))


def _mpi_op(op):
    from mpi4py import MPI
    table = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.MAX: MPI.MAX, ReduceOp.MIN: MPI.MIN,
             ReduceOp.PRODUCT: MPI.PROD}
    if op not in table:
        raise ValueError(f"unknown reduce op {op!r}")
    return table[op]


def _done(tensor, back):
    if back is not None:
        back()
    tensor._version[0] += 1


def _start(comm, name, args, finish, async_op, buffers=(), outputs=(), **kwargs):
    """MPI's collective `name` (Allreduce, Bcast, ...) on args, then finish() (write-back, AVG's division); with
    async_op its non-blocking form (Iallreduce, Ibcast, ...) instead, handed over as a Work that runs finish() on
    completion and holds the buffers until then (MPI writes into them in the background)."""
    if not async_op:
        getattr(comm, name)(*args, **kwargs)
        finish()
        return None
    request = getattr(comm, "I" + name.lower())(*args, **kwargs)
    return Work(request, finish, buffers, outputs)


def _averaged(comm, op, buf):
    if op == ReduceOp.AVG:
        np.divide(buf, comm.Get_size(), out=buf)   # MPI has no average: the sum, then one division


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Every rank's tensor becomes the reduction over all ranks (AVG: the sum divided by the world size)."""
    from mpi4py import MPI
    comm = _comm()
    mpi_op = _mpi_op(op)
    buf, back = _host(tensor)
    if op == ReduceOp.AVG and buf.dtype.kind != "f":
        raise RuntimeError("all_reduce with AVG needs a floating-point tensor")

    def finish():
        _averaged(comm, op, buf)
        _done(tensor, back)
    return _start(comm, "Allreduce", (MPI.IN_PLACE, buf), finish, async_op, (buf,), [tensor], op=mpi_op)


def reduce(tensor, dst, op=ReduceOp.SUM, group=None, async_op=False):
    comm = _comm()
    mpi_op = _mpi_op(op)
    buf, back = _host(tensor)
    root = comm.Get_rank() == dst
    out = np.empty_like(buf) if root else None

    def finish():
        if root:
            buf[...] = out / comm.Get_size() if op == ReduceOp.AVG else out
            _done(tensor, back)
    return _start(comm, "Reduce", (buf, out), finish, async_op, (buf, out), [tensor], op=mpi_op, root=dst)


def broadcast(tensor, src, group=None, async_op=False):
    comm = _comm()
    buf, back = _host(tensor)
    return _start(comm, "Bcast", (buf,), lambda: _done(tensor, back), async_op, (buf,), [tensor], root=src)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] gets rank i's tensor (every list entry must have the tensor's shape and dtype)."""
    comm = _comm()
    n = comm.Get_size()
    if len(tensor_list) != n:
        raise RuntimeError(f"all_gather: tensor_list must hold world_size={n} tensors, got {len(tensor_list)}")
    send, _ = _host(tensor)
    for i, t in enumerate(tensor_list):
        if tuple(t.shape) != send.shape:
            raise RuntimeError(f"all_gather: tensor_list[{i}] has shape {list(t.shape)}, the tensor {list(send.shape)}")
    recv = np.empty((n,) + send.shape, send.dtype)

    def finish():
        for t, a in zip(tensor_list, recv):
            t._array[...] = t._be.asarray(a).astype(t._array.dtype)
            t._version[0] += 1
    return _start(comm, "Allgather", (send, recv), finish, async_op, (send, recv), tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """output_tensor (world_size * n, ...) gets every rank's input (n, ...) stacked along the first dimension."""
    comm = _comm()
    send, _ = _host(input_tensor)
    out, back = _host(output_tensor)
    if out.shape[0] != comm.Get_size() * send.shape[0] or out.shape[1:] != send.shape[1:]:
        raise RuntimeError(f"all_gather_into_tensor: output of shape {list(out.shape)} cannot hold "
                           f"{comm.Get_size()} inputs of shape {list(send.shape)}")
    return _start(comm, "Allgather", (send, out), lambda: _done(output_tensor, back), async_op, (send, out),
                  [output_tensor])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """The reduction over ranks of input (world_size * n, ...), rank i keeping rows [i n, (i + 1) n)."""
    comm = _comm()
    mpi_op = _mpi_op(op)
    send, _ = _host(input)
    out, back = _host(output)
    if send.shape[0] != comm.Get_size() * out.shape[0]:
        raise RuntimeError(f"reduce_scatter_tensor: input of shape {list(send.shape)} is not world_size="
                           f"{comm.Get_size()} times the output's {list(out.shape)}")

    def finish():
        _averaged(comm, op, out)
        _done(output, back)
    return _start(comm, "Reduce_scatter_block", (send, out), finish, async_op, (send, out), [output], op=mpi_op)


def gather(tensor, gather_list=None, dst=0, group=None, async_op=False):
    comm = _comm()
    send, _ = _host(tensor)
    root = comm.Get_rank() == dst
    recv = np.empty((comm.Get_size(),) + send.shape, send.dtype) if root else None

    def finish():
        if root:
            for t, a in zip(gather_list, recv):
                t._array[...] = t._be.asarray(a)
                t._version[0] += 1
    return _start(comm, "Gather", (send, recv), finish, async_op, (send, recv), gather_list or [], root=dst)


def scatter(tensor, scatter_list=None, src=0, group=None, async_op=False):
    comm = _comm()
    out, back = _host(tensor)
    send = np.stack([_host(t)[0] for t in scatter_list]) if comm.Get_rank() == src else None
    return _start(comm, "Scatter", (send, out), lambda: _done(tensor, back), async_op, (send, out), [tensor],
                  root=src)


def send(tensor, dst, group=None, tag=0):
    _comm().Send(_host(tensor)[0], dest=dst, tag=tag)


def recv(tensor, src=None, group=None, tag=0):
    from mpi4py import MPI
    buf, back = _host(tensor)
    status = MPI.Status()
    _comm().Recv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
    _done(tensor, back)
    return status.Get_source()


def isend(tensor, dst, group=None, tag=0):
    """send without waiting: the tensor must stay unchanged until the Work's wait()."""
    buf, _ = _host(tensor)
    return Work(_comm().Isend(buf, dest=dst, tag=tag), None, (buf,), [tensor])


def irecv(tensor, src=None, group=None, tag=0):
    from mpi4py import MPI
    buf, back = _host(tensor)
    request = _comm().Irecv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag)
    return Work(request, lambda: _done(tensor, back), (buf,), [tensor])


def broadcast_object_list(object_list, src=0, group=None, device=None):
    got = _comm().bcast(object_list if get_rank() == src else None, root=src)
    object_list[:] = got


def all_gather_object(object_list, obj, group=None):
    object_list[:] = _comm().allgather(obj)


__all__ = ["ReduceOp", "is_available", "is_initialized", "init_process_group", "destroy_process_group", "get_rank",
           "get_world_size", "barrier", "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter_tensor", "gather", "scatter", "send", "recv", "isend", "irecv", "broadcast_object_list",
           "all_gather_object", "Work"]
