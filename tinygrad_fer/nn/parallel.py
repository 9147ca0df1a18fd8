"""torch.nn.parallel.DataParallel as PyTorch runs it without several GPUs: a pass-through wrapper. The engine
runs a model on one device, so the wrapper only keeps the wrapped module under `module` (state_dict keys gain
the 'module.' prefix, as in PyTorch, so checkpoints interchange)."""
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
