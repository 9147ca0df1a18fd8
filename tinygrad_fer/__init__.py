"""tinygrad_fer: a small deep-learning engine you can read end to end.

A Tensor records the graph of the ops it takes part in; each op carries its backward rule; `loss.backward()` fills
`.grad`. Arrays live on the CPU backend (NumPy + Numba kernels) or the CUDA backend (CuPy).
"""
from . import _process_tuning  # noqa: F401  (first, before NumPy loads OpenBLAS: OpenMP, malloc, BLAS threads)
from math import pi, e, inf, nan  # noqa: F401  (PyTorch's constants are these Python floats)
from . import dtypes
from .backend import device, get_default_device, set_default_device
from .dtypes import (bool_ as bool, uint8, int8, int16, int32, int64, float16, float32, float64,  # noqa: F401
                     get_default_dtype, set_default_dtype)
from .dtypes import DType as dtype  # noqa: F401
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, inference_mode,  # noqa: F401
                        is_inference_mode_enabled)
from .tensor import (Tensor, Size, Generator, tensor, as_tensor, from_numpy, zeros, ones, empty, full,  # noqa: F401
                     arange, linspace, eye, rand, randn, randint, randperm, zeros_like, ones_like, empty_like,
                     full_like, rand_like, randn_like, randint_like, normal, is_tensor,
                     is_floating_point, numel)
from .random import default_generator, manual_seed, seed, initial_seed  # noqa: F401
from ._threads import set_num_threads, get_num_threads  # noqa: F401
from .legacy import *  # noqa: F401,F403  (FloatTensor, LongTensor, ...)
from . import autograd  # noqa: F401  (binds Tensor.backward's engine)
# each op module's __all__ names its public ops: a new op is exported where it is declared
from .ops.elementwise import *  # noqa: F401,F403
from .ops.reduce import *  # noqa: F401,F403
from .ops.movement import *  # noqa: F401,F403
from .ops.index import *  # noqa: F401,F403
from .ops.matmul import *  # noqa: F401,F403
from .ops.scan import *  # noqa: F401,F403
from .ops.search import *  # noqa: F401,F403
from .ops.sort import *  # noqa: F401,F403
from .ops.stats import *  # noqa: F401,F403
from .ops.shape import *  # noqa: F401,F403
from .ops.bitwise import *  # noqa: F401,F403
from .ops.positions import *  # noqa: F401,F403
from .ops.einsum import *  # noqa: F401,F403
from .ops.blas import *  # noqa: F401,F403
from .ops.linalg_api import *  # noqa: F401,F403
from .ops.index_write import *  # noqa: F401,F403
from .ops.quantile import *  # noqa: F401,F403
from .ops.distances import *  # noqa: F401,F403
from .ops.activation_inplace import *  # noqa: F401,F403
from . import linalg  # noqa: F401,E402
from . import _tensor_api  # noqa: F401,E402  (gives Tensor the op methods declared in ops/)
from .autograd import functional as _autograd_functional  # noqa: F401,E402  (autograd.functional)

# PyTorch's out= on the functions scripts most often call with it (the Tensor methods take none, as in PyTorch)
from .ops.out import accepts_out as _accepts_out  # noqa: E402
for _name in ("add", "sub", "mul", "div", "pow", "matmul", "mm", "bmm", "neg", "abs", "exp", "log", "sqrt", "sin",
              "cos", "tanh", "sigmoid", "clamp", "maximum", "minimum", "cat", "stack", "sum", "mean", "where"):
    globals()[_name] = _accepts_out(globals()[_name])
del _name
clip = clamp
concat = concatenate = cat
multiply, divide, subtract, negative = mul, div, sub, neg
greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne
float = float32
double = float64
long = int64
half = float16
int = int32
short = int16
__version__ = "0.1.0"
from . import cuda  # noqa: E402,F401
from . import optim, data  # noqa: E402,F401
from . import accelerator, backends, random  # noqa: E402,F401
from .utils import data as _utils_data  # noqa: E402,F401
from . import nn  # noqa: E402,F401
from .serialization import save, load  # noqa: E402,F401
