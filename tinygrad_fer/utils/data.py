"""tinygrad_fer.utils.data: the data package under PyTorch's import path (torch.utils.data)."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
