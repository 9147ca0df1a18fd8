"""A stand-in for CuPy on a machine without a GPU, for the 'nccl' backend's tests (tests/test_distributed_nccl.py):
arrays are NumPy arrays of a subclass whose module is `cupy` (so tinygrad_fer's tensors take them for CUDA arrays
and run them on backend_cuda with this module as xp), on a fake device; `cupy.cuda` has the runtime, Device,
Stream and Event calls the engine and cupyx.distributed make. Work runs at once on the host: streams and events only
record what was enqueued where and what waited for what (`cuda.log`), so tests can check the ordering the code asks
for. Put this folder first on sys.path, before importing tinygrad_fer.

Not emulated: CuPy's refusal of implicit conversion to NumPy (np.asarray on these arrays works here), raw kernels
(cupy.RawModule: use nets without convolutions or max-pooling), memory pools beyond their counters.
"""
import types

import numpy as _np

from . import cuda  # noqa: F401


class ndarray(_np.ndarray):
    __module__ = "cupy"

    def __array_finalize__(self, obj):
        self._device = getattr(obj, "_device", None)
        if self._device is None:
            self._device = cuda.runtime.getDevice()

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        return _np.asarray(arr).view(type(self))   # CuPy gives 0-d arrays, never NumPy scalars

    def __getitem__(self, key):
        return _wrap(super().__getitem__(key))

    @property
    def device(self):
        return cuda.Device(self._device)

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.__array_interface__["data"][0])

    def get(self, stream=None):
        return _np.array(self.view(_np.ndarray))

    def item(self):
        return self.view(_np.ndarray).item()

    def tolist(self):
        return self.view(_np.ndarray).tolist()


def _wrap(x):
    if isinstance(x, ndarray):
        return x
    if type(x) is _np.ndarray:
        return x.view(ndarray)
    if isinstance(x, _np.generic):
        return _np.asarray(x).view(ndarray)
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _unwrap(x):
    if isinstance(x, ndarray):
        return x.view(_np.ndarray)
    if isinstance(x, (tuple, list)):
        return type(x)(_unwrap(v) for v in x)
    return x


def _function(f):
    def call(*args, **kwargs):
        return _wrap(f(*args, **kwargs))
    call.__name__ = getattr(f, "__name__", "function")
    return call


def __getattr__(name):
    attr = getattr(_np, name)
    if callable(attr) and not isinstance(attr, (type, _np.ufunc)):
        return _function(attr)
    return attr   # dtypes, constants, ufuncs (their results follow the inputs' subclass)


def asarray(a, dtype=None, order=None):
    if isinstance(a, ndarray) and (dtype is None or a.dtype == dtype):
        return a
    return _np.array(_unwrap(a), dtype=dtype, order=order or "K").view(ndarray)


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    return _np.array(_unwrap(a), dtype=dtype, copy=copy, order=order, ndmin=ndmin).view(ndarray)


def asnumpy(a, stream=None):
    return a.get() if isinstance(a, ndarray) else _np.asarray(a)


def get_array_module(*args):
    return __import__(__name__)


def get_default_memory_pool():
    return types.SimpleNamespace(used_bytes=lambda: 0, total_bytes=lambda: 0, free_all_blocks=lambda: None)


class _RandomState:
    def __init__(self, seed=None):
        self._rs = _np.random.RandomState(seed)

    def __getattr__(self, name):
        return _function(getattr(self._rs, name))

    def random_sample(self, size=None, dtype=_np.float64):
        return _wrap(self._rs.random_sample(size).astype(dtype))

    def standard_normal(self, size=None, dtype=_np.float64):
        return _wrap(self._rs.standard_normal(size).astype(dtype))

    def randint(self, low, high=None, size=None, dtype=_np.int64):
        return _wrap(self._rs.randint(low, high, size, dtype=dtype))


random = types.SimpleNamespace(RandomState=_RandomState)
__version__ = "0.0.0+emulated"
