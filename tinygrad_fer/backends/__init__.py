"""torch.backends' switches that scripts set: `cudnn` and `mps`. The engine uses neither library, so the switches
are accepted and remembered but change nothing (its kernels are deterministic already)."""
from . import cudnn, mps  # noqa: F401
