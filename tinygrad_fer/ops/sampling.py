"""Sampling with tensor parameters: normal(mean_tensor, std_tensor). The package exports the function from
tensor.py (beside rand and randn); this module holds its node in the graph."""
import numpy as np

from .. import dtypes
from ..autograd import Function
from ..tensor import Tensor


class NormalSample(Function):
    """Samples of N(mean, std) for a tensor mean and/or std. PyTorch gives both a zero gradient (the samples are
    not reparameterised), so a graph through them is kept but carries nothing back."""
    raw = True
    double = "lift"

    @staticmethod
    def forward(ctx, mean, std, generator):
        xp = ctx.be.xp
        m, s = (xp.asarray(v) for v in (mean, std))
        # the tensors' dtype: a Python number beside one does not promote it (an integer mean stays an error)
        dt = dtypes.result_type(*(Tensor(v) for v in (mean, std) if not np.isscalar(v)))
        if not dt.is_floating_point:
            raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{dt.name}\'')
        if np.isscalar(std) and std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        if not np.isscalar(std) and s.size and bool((s < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        try:
            shape = np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise RuntimeError(f"The size of tensor a ({m.shape}) must match the size of tensor b ({s.shape}) "
                               "at a non-singleton dimension") from None
        rng = generator.rng if generator is not None else ctx.be.rng
        ctx.inputs = [(v.shape, v.dtype) if not np.isscalar(v) else None for v in (mean, std)]
        z = rng.standard_normal(shape).astype(dt.np, copy=False)
        return (z * s.astype(dt.np) + m.astype(dt.np)).astype(dt.np, copy=False)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.be.xp
        return (*(None if i is None else xp.zeros(i[0], dtype=i[1]) for i in ctx.inputs), None)
