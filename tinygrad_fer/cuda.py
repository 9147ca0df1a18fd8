"""tinygrad_fer.cuda: torch.cuda's everyday questions. Answers without CuPy or a GPU instead of raising, except
where PyTorch raises too (naming a device that is not there)."""
from .backend_cuda import backend_cuda as _be


def is_available():
    return _be.available()


def device_count():
    try:
        return _be.device_count()
    except Exception:
        return 0


def _cupy():
    _be.require()
    return _be.xp


def current_device():
    return _cupy().cuda.runtime.getDevice()


def get_device_name(device=None):
    cp = _cupy()
    i = current_device() if device is None else _index(device)
    name = cp.cuda.runtime.getDeviceProperties(i)["name"]
    return name.decode() if isinstance(name, bytes) else name


def _index(device):
    if isinstance(device, int):
        return device
    from .backend import device as dev
    return dev(device).index or 0


def synchronize(device=None):
    cp = _cupy()
    if device is None:
        cp.cuda.Device().synchronize()
    else:
        cp.cuda.Device(_index(device)).synchronize()


def manual_seed(seed):
    """Seed the CUDA stream of random numbers; a no-op without a GPU, as in PyTorch."""
    if _be.available():
        _be.seed(int(seed))


manual_seed_all = manual_seed


def memory_allocated(device=None):
    """Bytes held by live arrays in CuPy's memory pool."""
    return _cupy().get_default_memory_pool().used_bytes()


def memory_reserved(device=None):
    """Bytes the pool holds from the driver (live arrays plus cached free blocks)."""
    return _cupy().get_default_memory_pool().total_bytes()


def empty_cache():
    """Give the pool's cached free blocks back to the driver."""
    if _be.available():
        _be.xp.get_default_memory_pool().free_all_blocks()
