"""tinygrad_fer.accelerator: torch.accelerator's device-agnostic questions. The engine's one accelerator type is
CUDA (through CuPy); without it there is none, and the calls that need a device raise as PyTorch's do."""
from . import cuda as _cuda
from .backend import device as _device

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    return _cuda.is_available()


def current_accelerator(check_available=False):
    """device('cuda') when CUDA is usable, else None (the engine has no accelerator it could name but not use)."""
    return _device("cuda") if _cuda.is_available() else None


def device_count():
    return _cuda.device_count() if _cuda.is_available() else 0


def _require():
    if not _cuda.is_available():
        raise RuntimeError(_NONE)


def current_device_index():
    _require()
    return _cuda.current_device()


current_device_idx = current_device_index


def synchronize(device=None):
    _require()
    _cuda.synchronize(device)


def empty_cache():
    if _cuda.is_available():
        _cuda.empty_cache()


def memory_allocated(device_index=None):
    _require()
    return _cuda.memory_allocated(device_index)


def memory_reserved(device_index=None):
    _require()
    return _cuda.memory_reserved(device_index)
