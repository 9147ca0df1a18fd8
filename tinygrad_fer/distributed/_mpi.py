"""The 'mpi' backend: torch.distributed's collectives on MPI (mpi4py) over host arrays, for CPU tensors (CUDA tensors
go through host copies). With async_op=True they start MPI's non-blocking form (Iallreduce, Ibcast, ...) and return
a `Work` (_work.py). The group methods take the public functions' arguments less `group`."""
import numpy as np

from ._work import Work


class ReduceOp:
    SUM, AVG, MAX, MIN, PRODUCT = "sum", "avg", "max", "min", "product"


def join(comm, timeout):
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


class MPIGroup:
    name = "mpi"

    def __init__(self, comm):
        self.comm = comm

    def barrier(self, async_op=False):
        return _start(self.comm, "Barrier", (), lambda: None, async_op)

    def all_reduce(self, tensor, op=ReduceOp.SUM, async_op=False):
        """Every rank's tensor becomes the reduction over all ranks (AVG: the sum divided by the world size)."""
        from mpi4py import MPI
        comm = self.comm
        mpi_op = _mpi_op(op)
        buf, back = _host(tensor)
        if op == ReduceOp.AVG and buf.dtype.kind != "f":
            raise RuntimeError("all_reduce with AVG needs a floating-point tensor")

        def finish():
            _averaged(comm, op, buf)
            _done(tensor, back)
        return _start(comm, "Allreduce", (MPI.IN_PLACE, buf), finish, async_op, (buf,), [tensor], op=mpi_op)


    def reduce(self, tensor, dst, op=ReduceOp.SUM, async_op=False):
        comm = self.comm
        mpi_op = _mpi_op(op)
        buf, back = _host(tensor)
        root = comm.Get_rank() == dst
        out = np.empty_like(buf) if root else None

        def finish():
            if root:
                buf[...] = out / comm.Get_size() if op == ReduceOp.AVG else out
                _done(tensor, back)
        return _start(comm, "Reduce", (buf, out), finish, async_op, (buf, out), [tensor], op=mpi_op, root=dst)


    def broadcast(self, tensor, src, async_op=False):
        comm = self.comm
        buf, back = _host(tensor)
        return _start(comm, "Bcast", (buf,), lambda: _done(tensor, back), async_op, (buf,), [tensor], root=src)


    def all_gather(self, tensor_list, tensor, async_op=False):
        """tensor_list[i] gets rank i's tensor (every list entry must have the tensor's shape and dtype)."""
        comm = self.comm
        n = comm.Get_size()
        if len(tensor_list) != n:
            raise RuntimeError(f"all_gather: tensor_list must hold world_size={n} tensors, got {len(tensor_list)}")
        send, _ = _host(tensor)
        for i, t in enumerate(tensor_list):
            if tuple(t.shape) != send.shape:
                raise RuntimeError(f"all_gather: tensor_list[{i}] has shape {list(t.shape)}, the tensor "
                                   f"{list(send.shape)}")
        recv = np.empty((n,) + send.shape, send.dtype)

        def finish():
            for t, a in zip(tensor_list, recv):
                t._array[...] = t._be.asarray(a).astype(t._array.dtype)
                t._version[0] += 1
        return _start(comm, "Allgather", (send, recv), finish, async_op, (send, recv), tensor_list)


    def all_gather_into_tensor(self, output_tensor, input_tensor, async_op=False):
        """output_tensor (world_size * n, ...) gets every rank's input (n, ...) stacked along the first dimension."""
        comm = self.comm
        send, _ = _host(input_tensor)
        out, back = _host(output_tensor)
        if out.shape[0] != comm.Get_size() * send.shape[0] or out.shape[1:] != send.shape[1:]:
            raise RuntimeError(f"all_gather_into_tensor: output of shape {list(out.shape)} cannot hold "
                               f"{comm.Get_size()} inputs of shape {list(send.shape)}")
        return _start(comm, "Allgather", (send, out), lambda: _done(output_tensor, back), async_op, (send, out),
                      [output_tensor])


    def reduce_scatter_tensor(self, output, input, op=ReduceOp.SUM, async_op=False):
        """The reduction over ranks of input (world_size * n, ...), rank i keeping rows [i n, (i + 1) n)."""
        comm = self.comm
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


    def gather(self, tensor, gather_list=None, dst=0, async_op=False):
        comm = self.comm
        send, _ = _host(tensor)
        root = comm.Get_rank() == dst
        recv = np.empty((comm.Get_size(),) + send.shape, send.dtype) if root else None

        def finish():
            if root:
                for t, a in zip(gather_list, recv):
                    t._array[...] = t._be.asarray(a)
                    t._version[0] += 1
        return _start(comm, "Gather", (send, recv), finish, async_op, (send, recv), gather_list or [], root=dst)


    def scatter(self, tensor, scatter_list=None, src=0, async_op=False):
        comm = self.comm
        out, back = _host(tensor)
        send = np.stack([_host(t)[0] for t in scatter_list]) if comm.Get_rank() == src else None
        return _start(comm, "Scatter", (send, out), lambda: _done(tensor, back), async_op, (send, out), [tensor],
                      root=src)


    def send(self, tensor, dst, tag=0):
        self.comm.Send(_host(tensor)[0], dest=dst, tag=tag)


    def recv(self, tensor, src=None, tag=0):
        from mpi4py import MPI
        buf, back = _host(tensor)
        status = MPI.Status()
        self.comm.Recv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag, status=status)
        _done(tensor, back)
        return status.Get_source()


    def isend(self, tensor, dst, tag=0):
        """send without waiting: the tensor must stay unchanged until the Work's wait()."""
        buf, _ = _host(tensor)
        return Work(self.comm.Isend(buf, dest=dst, tag=tag), None, (buf,), [tensor])


    def irecv(self, tensor, src=None, tag=0):
        from mpi4py import MPI
        buf, back = _host(tensor)
        request = self.comm.Irecv(buf, source=MPI.ANY_SOURCE if src is None else src, tag=tag)
        return Work(request, lambda: _done(tensor, back), (buf,), [tensor])


    def broadcast_object_list(self, object_list, src=0):
        got = self.comm.bcast(object_list if self.comm.Get_rank() == src else None, root=src)
        object_list[:] = got


    def all_gather_object(self, object_list, obj):
        object_list[:] = self.comm.allgather(obj)
