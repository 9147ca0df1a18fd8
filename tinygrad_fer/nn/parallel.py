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
    """Data-parallel training over the process group: rank 0's parameters and buffers are broadcast at
    construction (and the buffers before every forward, with broadcast_buffers), and each parameter's gradient is
    averaged over the ranks by a gradient hook as backward produces it, in the same order on every rank (the graph
    is the same). One all-reduce per parameter for now (no buckets: bucket_cap_mb is accepted); every rank must use
    the same parameters in a step. `no_sync()` keeps the gradients local (gradient accumulation): the next synced
    pass averages the accumulated gradient, as PyTorch's."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        from .. import distributed as dist
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make sure to call "
                             "init_process_group.")
        self.module, self.broadcast_buffers, self.require_backward_grad_sync = module, broadcast_buffers, True
        self.device_ids, self.find_unused_parameters = device_ids, find_unused_parameters
        with grad_mode.no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=0)
        self._handles = [p.register_hook(self._averaging_hook(p)) for p in module.parameters() if p.requires_grad]

    def _averaging_hook(self, p):
        def hook(grad):
            if not self.require_backward_grad_sync:
                return None
            from .. import distributed as dist
            # what the ranks average is the whole gradient this step: this pass's plus what passes under
            # no_sync left in .grad; the hook returns what, added to .grad, makes it that average
            total = grad.clone() if p.grad is None else grad + p.grad
            dist.all_reduce(total, op=dist.ReduceOp.AVG)
            return total if p.grad is None else total - p.grad
        return hook

    def forward(self, *inputs, **kwargs):
        if self.broadcast_buffers and self.training:
            from .. import distributed as dist
            with grad_mode.no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, src=0)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        old, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old
