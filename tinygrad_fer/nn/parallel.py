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
