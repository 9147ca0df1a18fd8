"""The 'nccl' backend: torch.distributed's collectives on CUDA tensors through CuPy's `cupyx.distributed` (NCCL).

One rank per GPU: NCCL does not support two ranks of one communicator on the same device ("Duplicate GPU
detected"), so each rank takes cuda:(LOCAL_RANK % device count) as its current device and a node may run at most as
many ranks as it has GPUs. Rank 0 holds cupyx's rendezvous store at MASTER_ADDR:MASTER_PORT (or init_method's
tcp://host:port), as torchrun's env:// rendezvous.

Streams, as PyTorch's ProcessGroupNCCL: a blocking collective is enqueued on the caller's current stream and
returns at once (later kernels on that stream see its result; the host waits only when it reads the result, e.g.
.item()). With async_op=True the collective runs on the group's own non-blocking stream, after an event recorded on
the current stream (so the inputs are ready), and the returned Work's wait() makes the current stream wait for it:
the host does not block, but everything enqueued after wait() sees the result. A blocking barrier() also blocks the
host, as PyTorch's. NCCL has no average and cupyx no 'avg': AVG is the sum and one division on the same stream; bool
travels as uint8 with SUM as MAX and PRODUCT as MIN (PyTorch's mapping). Object collectives pickle on the host and
move the bytes as uint8 device arrays.
"""
import os
import pickle
import time

import numpy as np

from ._mpi import ReduceOp

_OPS = {ReduceOp.SUM: "sum", ReduceOp.AVG: "sum", ReduceOp.MAX: "max", ReduceOp.MIN: "min",
        ReduceOp.PRODUCT: "prod"}
_BOOL_OPS = {ReduceOp.SUM: "max", ReduceOp.MAX: "max", ReduceOp.MIN: "min", ReduceOp.PRODUCT: "min"}


def available():
    """Whether CuPy imports, sees a GPU and can load NCCL. Never raises."""
    try:
        return _why_not() is None
    except Exception:
        return False


def _why_not():
    from ..backend_cuda import backend_cuda
    cupy, reason = backend_cuda._probe()
    if cupy is None:
        return reason
    from cupy.cuda import nccl
    if not nccl.available:
        return "CuPy cannot load NCCL (cupy.cuda.nccl.available is False): install NCCL for CuPy (see CuPy's " \
               "installation guide)"
    return None


def rendezvous(init_method):
    """(host, port) of rank 0's store: init_method 'tcp://host:port', or MASTER_ADDR / MASTER_PORT for env://."""
    if init_method not in (None, "env://"):
        if not init_method.startswith("tcp://"):
            raise ValueError(f"the 'nccl' backend takes init_method 'env://' or 'tcp://host:port', got "
                             f"{init_method!r}")
        host, _, port = init_method[len("tcp://"):].rstrip("/").rpartition(":")
        return host.strip("[]"), int(port)
    return env("MASTER_ADDR"), int(env("MASTER_PORT"))


def env(name):
    if name not in os.environ:
        raise ValueError(f"Error initializing torch.distributed using env:// rendezvous: environment variable {name} "
                         "expected, but not set")
    return os.environ[name]


def require():
    reason = _why_not()
    if reason is not None:
        raise RuntimeError(f"the 'nccl' backend needs CuPy with NCCL and a CUDA GPU: {reason}")


def use_local_device(rank):
    """Make cuda:(LOCAL_RANK % device count) the current device (so tensors made on "cuda" land there) and return
    its index. PyTorch leaves this to torch.cuda.set_device; doing it here saves every script that line."""
    import cupy
    count = cupy.cuda.runtime.getDeviceCount()
    local_size = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    if local_size > count:
        raise RuntimeError(f"the 'nccl' backend needs one GPU per rank: {local_size} ranks on this node, {count} "
                           "GPU(s) (NCCL does not support two ranks on one device; use the 'mpi' backend, which "
                           "stages CUDA tensors through the host)")
    device = int(os.environ.get("LOCAL_RANK", rank)) % count
    cupy.cuda.Device(device).use()
    return device


class NCCLGroup:
    name = "nccl"

    def __init__(self, world_size, rank, host, port):
        require()
        import cupy
        import cupyx.distributed
        self.cp, self.size, self.rank, self.device = cupy, world_size, rank, use_local_device(rank)
        self.comm = cupyx.distributed.init_process_group(world_size, rank, host=host, port=port)
        self.stream = cupy.cuda.Stream(non_blocking=True)   # async collectives; not ordered with the null stream

    def stop(self):
        self.comm.stop()   # rank 0's rendezvous store

    # ---- buffers and launching --------------------------------------------------------------------------------
    def _check(self, tensor):
        if tensor.is_cpu:
            raise RuntimeError("Tensors must be CUDA and dense")
        if tensor.device.index != self.device:
            raise RuntimeError(f"Tensor found on device {tensor.device} but the 'nccl' process group of rank "
                               f"{self.rank} uses cuda:{self.device}")

    def _buffer(self, tensor):
        """The tensor's memory as a contiguous device array NCCL can write into, bool seen as uint8 (cupyx has no
        bool), and the write-back step a copy needs (None when the buffer is the tensor's memory)."""
        self._check(tensor)
        a = tensor._array
        if a.flags.c_contiguous:
            return _wire(a), None
        buf = self.cp.ascontiguousarray(a)
        return _wire(buf), lambda: a.__setitem__(Ellipsis, buf)

    def _new(self, shape, like):
        return _wire(self.cp.empty(shape, dtype=like.dtype))

    def _run(self, body, async_op, outputs, keep=(), block=False):
        """body() enqueues the collective and its finishing steps (AVG's division, write-backs) on the current
        stream; with async_op on self.stream after the current stream's work so far, returned as a Work."""
        if not async_op:
            body()
            _bump(outputs)
            if block:
                self.cp.cuda.get_current_stream().synchronize()
            return None
        self.stream.wait_event(self.cp.cuda.get_current_stream().record())
        with self.stream:
            body()
        return CudaWork(self.cp, self.stream.record(), outputs, keep, block)

    def _average(self, op, buf):
        if op == ReduceOp.AVG:
            self.cp.divide(buf, self.size, out=buf)

    # ---- collectives ------------------------------------------------------------------------------------------
    def barrier(self, async_op=False):
        token = self.cp.zeros(1, dtype=np.float32)
        return self._run(lambda: self.comm.all_reduce(token, token, "sum"), async_op, (), (token,), block=True)

    def all_reduce(self, tensor, op=ReduceOp.SUM, async_op=False):
        buf, back = self._buffer(tensor)
        nccl_op = _nccl_op(op, tensor._array.dtype)

        def body():
            self.comm.all_reduce(buf, buf, nccl_op)
            self._average(op, buf)
            _call(back)
        return self._run(body, async_op, [tensor], (buf,))

    def reduce(self, tensor, dst, op=ReduceOp.SUM, async_op=False):
        buf, back = self._buffer(tensor)
        nccl_op, root = _nccl_op(op, tensor._array.dtype), self.rank == dst

        def body():
            self.comm.reduce(buf, buf, dst, nccl_op)   # in place: NCCL allows sendbuff == recvbuff
            if root:
                self._average(op, buf)
                _call(back)
        return self._run(body, async_op, [tensor] if root else [], (buf,))

    def broadcast(self, tensor, src, async_op=False):
        buf, back = self._buffer(tensor)

        def body():
            self.comm.broadcast(buf, src)
            _call(back)
        return self._run(body, async_op, [tensor], (buf,))

    def all_gather(self, tensor_list, tensor, async_op=False):
        n = self.size
        if len(tensor_list) != n:
            raise RuntimeError(f"all_gather: tensor_list must hold world_size={n} tensors, got {len(tensor_list)}")
        send, _ = self._buffer(tensor)
        for i, t in enumerate(tensor_list):
            self._check(t)
            if tuple(t.shape) != send.shape:
                raise RuntimeError(f"all_gather: tensor_list[{i}] has shape {list(t.shape)}, the tensor "
                                   f"{list(send.shape)}")
        recv = self.cp.empty((n,) + send.shape, dtype=tensor._array.dtype)

        def body():
            self.comm.all_gather(send, _wire(recv), send.size)
            for t, a in zip(tensor_list, recv):
                t._array[...] = a.astype(t._array.dtype, copy=False)
        return self._run(body, async_op, tensor_list, (send, recv))

    def all_gather_into_tensor(self, output_tensor, input_tensor, async_op=False):
        send, _ = self._buffer(input_tensor)
        out, back = self._buffer(output_tensor)
        if out.shape[0] != self.size * send.shape[0] or out.shape[1:] != send.shape[1:]:
            raise RuntimeError(f"all_gather_into_tensor: output of shape {list(out.shape)} cannot hold "
                               f"{self.size} inputs of shape {list(send.shape)}")

        def body():
            self.comm.all_gather(send, out, send.size)
            _call(back)
        return self._run(body, async_op, [output_tensor], (send, out))

    def reduce_scatter_tensor(self, output, input, op=ReduceOp.SUM, async_op=False):
        send, _ = self._buffer(input)
        out, back = self._buffer(output)
        nccl_op = _nccl_op(op, output._array.dtype)
        if send.shape[0] != self.size * out.shape[0]:
            raise RuntimeError(f"reduce_scatter_tensor: input of shape {list(send.shape)} is not world_size="
                               f"{self.size} times the output's {list(out.shape)}")

        def body():
            self.comm.reduce_scatter(send, out, out.size, nccl_op)
            self._average(op, out)
            _call(back)
        return self._run(body, async_op, [output], (send, out))

    def gather(self, tensor, gather_list=None, dst=0, async_op=False):
        send, _ = self._buffer(tensor)
        root = self.rank == dst
        outputs = list(gather_list or ()) if root else []
        for t in outputs:
            self._check(t)
        # cupyx checks the receive buffer's first dimension on every rank, so non-roots pass one too
        recv = self._new((self.size,) + send.shape, send)

        def body():
            self.comm.gather(send, recv, dst)
            if root:
                for t, a in zip(gather_list, recv):
                    t._array[...] = a.view(t._array.dtype)
        return self._run(body, async_op, outputs, (send, recv))

    def scatter(self, tensor, scatter_list=None, src=0, async_op=False):
        out, back = self._buffer(tensor)
        if self.rank == src:
            for t in scatter_list:
                self._check(t)
            send = _wire(self.cp.stack([t._array for t in scatter_list]))
        else:
            send = self._new((self.size,) + out.shape, out)   # checked by cupyx on every rank, read on src only

        def body():
            self.comm.scatter(send, out, src)
            _call(back)
        return self._run(body, async_op, [tensor], (send, out))

    def send(self, tensor, dst, tag=0):
        # NCCL has no tags (PyTorch's NCCL backend ignores them too): sends to one peer pair up in order
        buf, _ = self._buffer(tensor)
        self.comm.send(buf, dst)

    def recv(self, tensor, src=None, tag=0):
        buf, back = self._buffer(tensor)
        self._run(lambda: (self.comm.recv(buf, _peer(src)), _call(back)), False, [tensor])
        return src

    def isend(self, tensor, dst, tag=0):
        buf, _ = self._buffer(tensor)
        return self._run(lambda: self.comm.send(buf, dst), True, [], (buf,))

    def irecv(self, tensor, src=None, tag=0):
        buf, back = self._buffer(tensor)
        return self._run(lambda: (self.comm.recv(buf, _peer(src)), _call(back)), True, [tensor], (buf,))

    # ---- objects: pickled on the host, the bytes through NCCL as uint8 ------------------------------------------
    def broadcast_object_list(self, object_list, src=0):
        cp = self.cp
        data = pickle.dumps(list(object_list)) if self.rank == src else b""
        size = cp.array([len(data)], dtype=np.int64)
        self.comm.broadcast(size, src)
        n = int(size.get()[0])
        buf = cp.asarray(np.frombuffer(data, np.uint8)) if self.rank == src else cp.empty(n, dtype=np.uint8)
        self.comm.broadcast(buf, src)
        object_list[:] = pickle.loads(buf.get().tobytes())

    def all_gather_object(self, object_list, obj):
        cp = self.cp
        data = np.frombuffer(pickle.dumps(obj), np.uint8)
        sizes = cp.empty(self.size, dtype=np.int64)
        self.comm.all_gather(cp.array([data.size], dtype=np.int64), sizes, 1)
        sizes = sizes.get()
        padded = np.zeros(int(sizes.max()), np.uint8)
        padded[:data.size] = data
        everything = cp.empty((self.size, padded.size), dtype=np.uint8)
        self.comm.all_gather(cp.asarray(padded), everything, padded.size)
        rows = everything.get()
        object_list[:] = [pickle.loads(row[:k].tobytes()) for row, k in zip(rows, sizes)]


class CudaWork:
    """What an async_op=True collective of the 'nccl' backend returns (torch.distributed.Work): wait() makes the
    caller's current stream wait for the collective's event (the host goes on, as PyTorch's NCCL Work; a barrier's
    wait also blocks the host); is_completed() asks the event without blocking."""

    def __init__(self, cp, event, outputs, keep, block):
        self._cp, self._event, self._outputs, self._keep, self._block = cp, event, list(outputs), keep, block
        self._waited = False

    def wait(self, timeout=None):
        if self._waited:
            return True
        if timeout is not None:
            seconds = getattr(timeout, "total_seconds", lambda: float(timeout))()
            deadline = time.monotonic() + seconds
            while not self._event.done:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait: the collective did not complete within {seconds:g} s")
                time.sleep(0.0002)
        self._cp.cuda.get_current_stream().wait_event(self._event)
        if self._block:
            self._event.synchronize()
        _bump(self._outputs)
        # the buffers may go back to CuPy's pool now: later work on this stream is ordered after the collective
        self._waited, self._keep = True, ()
        return True

    def is_completed(self):
        if not self._waited and self._event.done:
            self.wait()
        return self._waited

    def result(self):
        self.wait()
        return list(self._outputs)


def _nccl_op(op, dtype):
    if op not in _OPS:
        raise ValueError(f"unknown reduce op {op!r}")
    if dtype == np.bool_:
        if op == ReduceOp.AVG:
            raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
        return _BOOL_OPS[op]
    if op == ReduceOp.AVG and dtype.kind != "f":
        raise RuntimeError("all_reduce with AVG needs a floating-point tensor")
    return _OPS[op]


def _wire(a):
    return a.view(np.uint8) if a.dtype == np.bool_ else a


def _call(f):
    if f is not None:
        f()


def _bump(tensors):
    for t in tensors:
        t._version[0] += 1


def _peer(src):
    if src is None:
        raise RuntimeError("the 'nccl' backend cannot receive from any source: give recv a src rank")
    return src
