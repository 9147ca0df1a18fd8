"""torch.nn.parallel: DataParallel as PyTorch runs it without several GPUs (a pass-through wrapper: the engine runs
a model on one device), and DistributedDataParallel over tinygrad_fer.distributed. Both keep the wrapped module
under `module`, so state_dict keys gain the 'module.' prefix, as in PyTorch, and checkpoints interchange."""
import contextlib

from .. import grad_mode
from .module import Module


class DataParallel(Module):
    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """The functional form: module(*inputs, **module_kwargs) on the one device. (PyTorch's raises on a machine
    without GPUs; scripts call it only when asked for several GPUs, which then run as one.)"""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))


class DistributedDataParallel(Module):
    """Data-parallel training over the process group, as PyTorch's: rank 0's parameters and buffers are broadcast
    at construction (and the buffers before every forward, with broadcast_buffers). Gradients are averaged in
    buckets (distributed/_reducer.py): the parameters, in reverse order, fill flat buffers of at most bucket_cap_mb
    MiB each (default 25, the first 1 MiB), one dtype per bucket; as backward finishes a parameter's gradient it is
    copied into its bucket, and a bucket whose gradients are all in starts its non-blocking all-reduce while
    backward goes on. At the end of backward the buckets are waited for in order and each .grad gets the average.

    `no_sync()` around the forward (and backward) keeps the gradients local: the next synced pass averages the
    whole accumulated gradient, as PyTorch's. Every parameter must get a gradient in each synced pass, or the
    next forward raises PyTorch's "Expected to have finished reduction in the prior iteration"; with
    find_unused_parameters=True the forward's graph is searched for the parameters it does not reach, which then
    count as zero in the average (and a parameter no rank used keeps its .grad, None staying None); without it,
    every rank must use the same parameters (the all-reduces pair up by order). gradient_as_bucket_view=True makes
    each .grad a view into its bucket (no copy back). state_dict keys carry the 'module.' prefix."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        from .. import distributed as dist
        from ..distributed._reducer import Reducer
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        self.module, self.broadcast_buffers, self.require_backward_grad_sync = module, broadcast_buffers, True
        self.device_ids, self.find_unused_parameters = device_ids, find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        with grad_mode.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        self.reducer = Reducer(params, bucket_cap_mb, find_unused_parameters, gradient_as_bucket_view)
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)

    def forward(self, *inputs, **kwargs):
        if grad_mode.is_grad_enabled():
            self.reducer.prepare_for_forward()
        if self.broadcast_buffers and self.training:
            from .. import distributed as dist
            with grad_mode.no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, src=0)
        out = self.module(*inputs, **kwargs)
        if grad_mode.is_grad_enabled():
            self.reducer.prepare_for_backward(out, self.require_backward_grad_sync)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        old, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
