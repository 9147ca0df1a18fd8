"""DistributedDataParallel's gradient buckets, as PyTorch's Reducer: the parameters' gradients are copied into a few
flat buffers and each buffer is all-reduced (non-blocking) as soon as backward has produced every gradient in it,
so communication overlaps the rest of backward; at the end of backward the buckets are waited for in a fixed order
and the averages written back to each parameter's .grad.

Every rank must launch the same all-reduces in the same order (MPI pairs collectives by order): buckets launch in
bucket order, a bucket only after the ones before it, whatever order their gradients arrive in."""
import numpy as np

from .. import autograd, grad_mode
from ..tensor import Tensor

_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024   # PyTorch's: a small first bucket starts communication early
_DEFAULT_BUCKET_CAP_MB = 25


def _compute_bucket_assignment_by_size(tensors, size_limits):
    """Buckets of indices into tensors, taken in the given order: a bucket holds one dtype and closes once its bytes
    reach its limit (the first bucket of each dtype size_limits[0], the next size_limits[1], ..., the last limit
    repeating); buckets are ordered by the first tensor they hold."""
    open_buckets, buckets = {}, []
    for i, t in enumerate(tensors):
        dtype = t._array.dtype
        indices, size, k = open_buckets.get(dtype, ([], 0, 0))
        indices.append(i)
        size += t._array.size * dtype.itemsize
        if size >= size_limits[min(k, len(size_limits) - 1)]:
            buckets.append(indices)
            open_buckets[dtype] = ([], 0, k + 1)
        else:
            open_buckets[dtype] = (indices, size, k)
    buckets += [indices for indices, _, _ in open_buckets.values() if indices]
    return sorted(buckets, key=min)


class _Bucket:
    __slots__ = ("indices", "flat", "tensor", "views", "pending", "work")

    def __init__(self, indices, params):
        xp = params[indices[0]]._be.xp
        n = sum(params[i]._array.size for i in indices)
        self.indices = indices
        self.flat = xp.zeros(n, dtype=params[indices[0]]._array.dtype)
        self.tensor = Tensor(self.flat)
        self.views, offset = {}, 0
        for i in indices:
            size = params[i]._array.size
            self.views[i] = self.flat[offset:offset + size].reshape(params[i]._array.shape)
            offset += size
        self.pending, self.work = len(indices), None


class Reducer:
    """params: the parameters that require grad, in module.parameters() order; they are bucketed in reverse (the
    order backward produces their gradients in a net run front to back)."""

    def __init__(self, params, bucket_cap_mb=None, find_unused_parameters=False, gradient_as_bucket_view=False):
        self.params = params
        cap = int((_DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        # as PyTorch: the small first bucket only with the default cap; a cap the user chose holds for every bucket
        limits = [_DEFAULT_FIRST_BUCKET_BYTES, cap] if bucket_cap_mb is None else [cap]
        order = list(reversed(range(len(params))))
        picked = _compute_bucket_assignment_by_size([params[i] for i in order], limits)
        self.buckets = [_Bucket([order[j] for j in b], params) for b in picked]
        self.bucket_of = {i: b for b in self.buckets for i in b.indices}
        self.find_unused, self.as_view = find_unused_parameters, gradient_as_bucket_view
        self.expect_hooks, self.require_finalize, self.finalize_queued = False, False, False
        self.ready, self.unused, self.unused_marked, self.next_bucket = set(), [], False, 0
        self.used = np.zeros(len(params), np.int32)   # local use since the last synced pass (find_unused)
        self.handles = [p.register_post_accumulate_grad_hook(self._hook(i)) for i, p in enumerate(params)]

    @property
    def bucket_indices(self):
        return [list(b.indices) for b in self.buckets]

    # ---- forward: what the next backward must do --------------------------------------------------------------
    def prepare_for_forward(self):
        if self.require_finalize:
            self._raise_unfinished()

    def prepare_for_backward(self, outputs, sync):
        """Called after each forward under grad mode: `sync` when its backward must average (not under no_sync)."""
        self.expect_hooks = sync
        if not sync:
            return
        self.ready, self.unused_marked, self.next_bucket = set(), False, 0
        for b in self.buckets:
            b.pending, b.work = len(b.indices), None
        if self.find_unused:
            reached = _leaves_reached(outputs)
            self.unused = [i for i, p in enumerate(self.params) if id(p) not in reached]

    def _raise_unfinished(self):
        from . import get_rank
        missing = " ".join(str(i) for i in range(len(self.params)) if i not in self.ready)
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. This error "
            "indicates that your module has parameters that were not used in producing loss. You can enable unused "
            "parameter detection by passing the keyword argument `find_unused_parameters=True` to "
            "`tinygrad_fer.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
            "participate in calculating loss.\nIf you already have done the above, then the distributed data "
            "parallel module wasn't able to locate the output tensors in the return value of your module's "
            "`forward` function.\nParameter indices which did not receive grad for rank "
            f"{get_rank()}: {missing}")

    # ---- backward: a gradient is in .grad ------------------------------------------------------------------------
    def _hook(self, i):
        def hook(param):
            if self.find_unused:
                self.used[i] = 1   # also under no_sync: that local gradient is averaged at the next synced pass
            if not self.expect_hooks:
                return
            if i in self.ready:
                raise RuntimeError(
                    "Expected to mark a variable ready only once. This error is caused by reusing a parameter in "
                    "several backward passes after one forward, or using it outside the `forward` function. "
                    f"Parameter at index {i} has been marked as ready twice.")
            if not self.unused_marked:
                self.unused_marked = True
                for k in self.unused:
                    self._mark_ready(k)
            self._mark_ready(i)
        return hook

    def _mark_ready(self, i):
        self.ready.add(i)
        self.require_finalize = True
        if not self.finalize_queued:
            self.finalize_queued = True
            autograd.queue_callback(self._finalize)
        bucket = self.bucket_of[i]
        grad, view = self.params[i].grad, bucket.views[i]
        if grad is None:
            view[...] = 0   # an unused parameter adds nothing to the sum
        elif grad._array is not view:
            view[...] = grad._array
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self):
        from . import ReduceOp, all_reduce
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            b.work = all_reduce(b.tensor, op=ReduceOp.AVG, async_op=True)
            self.next_bucket += 1

    # ---- end of backward ---------------------------------------------------------------------------------------
    def _finalize(self):
        self.finalize_queued, self.expect_hooks = False, False
        if self.next_bucket < len(self.buckets):
            # some parameter got no gradient: the buckets from there on never started (on any rank, the graph being
            # the same); the started ones are waited for, .grad keeps the local gradients, the next forward raises
            for b in self.buckets[:self.next_bucket]:
                b.work.wait()
            return
        used = None
        if self.find_unused:
            from . import ReduceOp, all_reduce
            be = self.params[0]._be   # on the parameters' device: the 'nccl' backend takes CUDA tensors only
            used = Tensor(be.asarray(self.used.copy()))
            all_reduce(used, op=ReduceOp.MAX)
            used = be.to_numpy(used._array)
        with grad_mode.no_grad():
            for b in self.buckets:   # a fixed order: every rank ends the same way
                b.work.wait()
                for i in b.indices:
                    if used is not None and not used[i]:
                        continue   # unused on every rank: .grad stays as it was (None stays None), as PyTorch
                    self._write_grad(self.params[i], b.views[i])
        self.used[:] = 0
        self.require_finalize = False

    def _write_grad(self, p, view):
        if self.as_view:
            if p.grad is None or p.grad._array is not view:
                p.grad = Tensor(view)
        elif p.grad is None:
            p.grad = Tensor(view.copy())
        else:
            p.grad._array[...] = view
        p.grad._version[0] += 1


def _leaves_reached(outputs):
    """ids of the leaf tensors the graph of the output tensors (in nested tuples, lists, dicts) reaches."""
    from ..autograd import NOT_A_TENSOR, Function
    stack, seen, leaves = [], set(), set()

    def collect(o):
        if isinstance(o, Tensor):
            if o._ctx is not None:
                stack.append(o._ctx)
            elif o.requires_grad:
                leaves.add(id(o))
        elif isinstance(o, (tuple, list)):
            for x in o:
                collect(x)
        elif isinstance(o, dict):
            for x in o.values():
                collect(x)
    collect(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for e in node.edges:
            if isinstance(e, Function):
                stack.append(e)
            elif e is not None and e is not NOT_A_TENSOR:
                leaves.add(id(e))
    return leaves
