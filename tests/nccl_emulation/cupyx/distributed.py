"""cupyx.distributed for the emulated CuPy: init_process_group and NCCLBackend with CuPy's signatures and argument
checks (CuPy 13-15's cupyx/distributed/_init.py and _nccl_comm.py, read for this), the data moved by mpi4py between
the MPI ranks the test starts. NCCL works on raw memory: `count` elements from each array's first element, in memory
order, whatever the shapes; so does this (on byte views, so every NCCL dtype travels, float16 included), except that
it raises where real NCCL would read or write past a buffer's end. Reductions are NumPy's over the ranks' values in
rank order (NCCL's order is its own; the tests compare with a tolerance or use exact values). The rendezvous store
is not run: host and port are only recorded (`comm.host`, `comm.port`), and the ranks meet through MPI."""
import os

import numpy as np

import cupy

_DTYPES = set("bBiIlLqQefdFD")   # CuPy's _nccl_dtypes keys (dtype.char)
_OPS = {"sum": np.add, "prod": np.multiply, "max": np.maximum, "min": np.minimum}


def init_process_group(n_devices, rank, *, backend="nccl", host=None, port=None, use_mpi=False):
    if n_devices <= 0:
        raise ValueError(f"Invalid number of devices {n_devices}")
    if not (0 <= rank < n_devices):
        raise ValueError(f"Invalid number of rank {rank} {n_devices}")
    if backend != "nccl":
        raise ValueError(f"{backend} is not supported")
    if host is None:
        host = os.environ.get("CUPYX_DISTRIBUTED_HOST", "127.0.0.1")
    if port is None:
        port = int(os.environ.get("CUPYX_DISTRIBUTED_PORT", 13333))
    return NCCLBackend(n_devices, rank, host, port, use_mpi)


class NCCLBackend:
    def __init__(self, n_devices, rank, host="127.0.0.1", port=13333, use_mpi=False):
        from mpi4py import MPI
        self._comm = MPI.COMM_WORLD
        self._n_devices, self.rank, self.host, self.port = n_devices, rank, host, port
        if (n_devices, rank) != (self._comm.Get_size(), self._comm.Get_rank()):
            raise AssertionError(f"emulation: NCCL rank {rank} of {n_devices} on MPI rank "
                                 f"{self._comm.Get_rank()} of {self._comm.Get_size()}")
        devices = self._comm.allgather(cupy.cuda.runtime.getDevice())
        if len(set(devices)) != len(devices):   # ncclCommInitRank: "Duplicate GPU detected"
            raise RuntimeError("NCCL_ERROR_INVALID_USAGE: invalid usage (emulated: Duplicate GPU detected, "
                               f"devices {devices})")

    # ---- CuPy's checks ------------------------------------------------------------------------------------------
    def _check_contiguous(self, array):
        if not array.flags.c_contiguous and not array.flags.f_contiguous:
            raise RuntimeError("NCCL requires arrays to be either c- or f-contiguous")

    def _count(self, array, count=None):
        if array.dtype.char not in _DTYPES:
            raise TypeError(f"Unknown dtype {array.dtype} for NCCL")
        count = array.size if count is None else count
        return 2 * count if array.dtype.char in "FD" else count

    def _get_op(self, op, dtype_char):
        if op not in _OPS:
            raise RuntimeError(f"Unknown op {op} for NCCL")
        if dtype_char in "FD" and op != "sum":
            raise ValueError("Only nccl.SUM is supported for complex arrays")
        return _OPS[op]

    def _log(self, name, stream):
        s = cupy.cuda.get_current_stream() if stream is None else stream
        cupy.cuda.log.append(("nccl", s.ptr, name))

    # ---- raw memory ---------------------------------------------------------------------------------------------
    def _raw(self, array, count):
        """The first `count` NCCL elements of array's memory as a NumPy view (complex as two reals)."""
        flat = array.view(np.ndarray).ravel(order="K")
        if not np.shares_memory(flat, array.view(np.ndarray)) and array.size:
            raise AssertionError("emulation: a contiguous array's flat view is a copy")
        if flat.dtype.char in "FD":
            flat = flat.view(flat.real.dtype)
        if count > flat.size:
            raise AssertionError(f"emulation: NCCL would access {count} elements of a buffer of {flat.size}")
        return flat[:count]

    def _everyone(self, raw):
        """Every rank's raw values stacked (n, count), in rank order."""
        out = np.empty((self._n_devices,) + raw.shape, raw.dtype)
        self._comm.Allgather(np.ascontiguousarray(raw).view(np.uint8), out.view(np.uint8))
        return out

    # ---- the collectives ----------------------------------------------------------------------------------------
    def all_reduce(self, in_array, out_array, op="sum", stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        count = self._count(in_array)
        f = self._get_op(op, in_array.dtype.char)
        self._log("all_reduce", stream)
        result = f.reduce(self._everyone(self._raw(in_array, count)), axis=0)
        self._raw(out_array, count)[...] = result

    def reduce(self, in_array, out_array, root=0, op="sum", stream=None):
        self._check_contiguous(in_array)
        if self.rank == root:
            self._check_contiguous(out_array)
        count = self._count(in_array)
        f = self._get_op(op, in_array.dtype.char)
        self._log("reduce", stream)
        result = f.reduce(self._everyone(self._raw(in_array, count)), axis=0)
        if self.rank == root:
            self._raw(out_array, count)[...] = result

    def broadcast(self, in_out_array, root=0, stream=None):
        self._check_contiguous(in_out_array)
        raw = self._raw(in_out_array, self._count(in_out_array))
        self._log("broadcast", stream)
        got = np.ascontiguousarray(raw)
        self._comm.Bcast(got.view(np.uint8), root=root)
        raw[...] = got

    def reduce_scatter(self, in_array, out_array, count, op="sum", stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        count = self._count(in_array, count)
        f = self._get_op(op, in_array.dtype.char)
        self._log("reduce_scatter", stream)
        total = f.reduce(self._everyone(self._raw(in_array, self._n_devices * count)), axis=0)
        self._raw(out_array, count)[...] = total[self.rank * count:(self.rank + 1) * count]

    def all_gather(self, in_array, out_array, count, stream=None):
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        count = self._count(in_array, count)
        self._log("all_gather", stream)
        self._raw(out_array, self._n_devices * count)[...] = self._everyone(self._raw(in_array, count)).ravel()

    def send(self, array, peer, stream=None):
        self._check_contiguous(array)
        raw = self._raw(array, self._count(array))
        self._log("send", stream)
        self._comm.Send(np.ascontiguousarray(raw).view(np.uint8), dest=peer, tag=77)

    def recv(self, out_array, peer, stream=None):
        self._check_contiguous(out_array)
        raw = self._raw(out_array, self._count(out_array))
        self._log("recv", stream)
        got = np.empty_like(raw)
        self._comm.Recv(got.view(np.uint8), source=peer, tag=77)
        raw[...] = got

    def scatter(self, in_array, out_array, root=0, stream=None):
        if in_array.shape[0] != self._n_devices:
            raise RuntimeError(f"scatter requires in_array to have {self._n_devices}"
                               f"elements in its first dimension, found {in_array.shape}")
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        self._log("scatter", stream)
        count = self._count(out_array)
        rows = self._comm.scatter([np.array(r.view(np.ndarray)) for r in in_array] if self.rank == root else None,
                                  root=root)
        self._raw(out_array, count)[...] = self._raw(rows, self._count(rows))[:count]

    def gather(self, in_array, out_array, root=0, stream=None):
        if out_array.shape[0] != self._n_devices:
            raise RuntimeError(f"gather requires out_array to have {self._n_devices}"
                               f"elements in its first dimension, found {out_array.shape}")
        self._check_contiguous(in_array)
        self._check_contiguous(out_array)
        self._log("gather", stream)
        rows = self._comm.gather(np.array(in_array.view(np.ndarray)), root=root)
        if self.rank == root:
            for i, r in enumerate(rows):
                row = out_array[i]
                self._raw(row, self._count(row))[...] = self._raw(r, self._count(r))

    def barrier(self):
        self._comm.Barrier()

    def stop(self):
        pass
