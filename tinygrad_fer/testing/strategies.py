"""Hypothesis strategies for property tests of code written with tinygrad_fer.

    shapes(...)                 tensor shapes
    broadcastable_shapes(shape) shapes that broadcast with shape
    tensors(...)                Tensors of a dtype and shape, optionally non-contiguous, optionally with NaN / inf
    conv_geometries(...)        convolution / pooling parameters that give an output of at least 1 x 1

Needs Hypothesis (`pip install hypothesis`, or the project's test extra); the rest of tinygrad_fer.testing does not.
"""
try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as e:
    raise ImportError("tinygrad_fer.testing.strategies needs Hypothesis, which is not installed: run "
                      "`pip install hypothesis` (or install the project's test extra: `pip install -e \".[test]\"`)"
                      ) from e

import math
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..tensor import Tensor, tensor

# the memory layouts tensors() can give a tensor: a transposed view, every k-th element of a wider tensor, a view
# with a negative stride, and a dimension of stride 0 (one value repeated)
LAYOUTS = ("contiguous", "transposed", "stepped", "flipped", "expanded")


def shapes(min_dims=0, max_dims=4, min_side=1, max_side=6):
    """Tuples of min_dims..max_dims sides, each min_side..max_side."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


_shapes = shapes  # tensors() has an argument of that name

def broadcastable_shapes(shape, *, min_dims=0, max_dims=None, min_side=1, max_side=None):
    """Shapes that broadcast with shape (sides of 1 where shape has others, fewer or more leading dims)."""
    return hnp.broadcastable_shapes(tuple(shape), min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                    max_side=max_side)


def _elements(dt, edge_values):
    if dt is dtypes.bool_:
        return st.booleans()
    if not dt.is_floating_point:
        info = np.iinfo(dt.np)
        return st.integers(max(-9, int(info.min)), min(10, int(info.max)))
    finite = st.floats(-10, 10, width=8 * dt.itemsize)
    if not edge_values:
        return finite
    return st.one_of(finite, st.sampled_from([math.nan, math.inf, -math.inf, -0.0]))


def _filler(dt):
    """What fills the memory a strided view skips: a value that shows when a kernel reads it."""
    if dt.is_floating_point:
        return np.nan
    return True if dt is dtypes.bool_ else np.iinfo(dt.np).max


def _layouts_for(shape):
    big = [d for d, n in enumerate(shape) if n > 1]
    ok = ["contiguous"]
    if len(big) >= 2:
        ok.append("transposed")
    if big:
        ok += ["stepped", "flipped", "expanded"]
    return ok


@st.composite
def tensors(draw, dtype=None, shapes=None, elements=None, *, layouts=("contiguous",), edge_values=False,
            device=None, requires_grad=False):
    """Tensors of dtype (a dtype, or a strategy of dtypes; default: the default float dtype) and a shape from
    shapes (a strategy, or one shape; default: shapes()), with values from elements (a Hypothesis strategy;
    default: floats in [-10, 10], integers in [-9, 10], bools; with edge_values=True floats include NaN, +-inf and
    -0.0).

    layouts: the memory layouts to draw from, names of LAYOUTS ("contiguous", "transposed", "stepped", "flipped",
    "expanded"; LAYOUTS itself for all). A non-contiguous one holds the same kind of values as a contiguous one
    (an expanded tensor repeats its values along the expanded dimensions, and is read-only: one memory location
    stands for several elements, which PyTorch refuses to write too), and the memory a stepped view skips
    holds NaN (integers: the dtype's maximum), so a kernel that reads it shows. A layout the drawn shape can't have
    (transposing a vector) falls back to another that it can. The result is a leaf, requiring grad if asked.
    """
    unknown = set(layouts) - set(LAYOUTS)
    if unknown or not layouts:
        raise ValueError(f"layouts must be names among {LAYOUTS}, got {tuple(layouts)}")
    dt = draw(dtype) if isinstance(dtype, st.SearchStrategy) else dtype
    dt = dtypes.get_default_dtype() if dt is None else dtypes.to_dtype(dt)
    if shapes is None:
        shape = draw(_shapes())
    else:
        shape = tuple(draw(shapes) if isinstance(shapes, st.SearchStrategy) else shapes)
    elements = _elements(dt, edge_values) if elements is None else elements
    possible = [name for name in layouts if name in _layouts_for(shape)] or ["contiguous"]
    layout = draw(st.sampled_from(possible))
    big = [d for d, n in enumerate(shape) if n > 1]

    def values(shp):
        return draw(hnp.arrays(dt.np, shp, elements=elements))

    if layout == "contiguous":
        t = tensor(values(shape), dtype=dt, device=device)
    elif layout == "transposed":
        perm = draw(st.permutations(range(len(shape))))
        if [d for d in perm if d in big] == big:  # the sides > 1 kept their order: the view would be contiguous
            perm = list(range(len(shape)))
            i, j = big[0], big[1]
            perm[i], perm[j] = j, i
        base = tensor(values(tuple(shape[d] for d in perm)), dtype=dt, device=device)
        t = Tensor(base._array.transpose(tuple(np.argsort(perm))))
    elif layout == "stepped":
        d = draw(st.sampled_from(big))
        step, offset = draw(st.integers(2, 3)), draw(st.integers(0, 1))
        wide = list(shape)
        wide[d] = shape[d] * step + offset
        a = np.full(wide, _filler(dt), dtype=dt.np)
        cut = [slice(None)] * len(shape)
        cut[d] = slice(offset, None, step)
        a[tuple(cut)] = values(shape)
        t = Tensor(tensor(a, dtype=dt, device=device)._array[tuple(cut)])
    elif layout == "flipped":
        d = draw(st.sampled_from(big))
        flip = [slice(None)] * len(shape)
        flip[d] = slice(None, None, -1)
        t = Tensor(tensor(values(shape)[tuple(flip)], dtype=dt, device=device)._array[tuple(flip)])
    else:  # expanded
        dims = draw(st.sets(st.sampled_from(big), min_size=1))
        t = tensor(values(tuple(1 if d in dims else n for d, n in enumerate(shape))), dtype=dt,
                   device=device).expand(*shape).detach()
    if requires_grad:
        t.requires_grad_(True)
    return t


class ConvGeometry(NamedTuple):
    """One convolution's (or pooling's) parameters: input (N, C, H, W), out_channels, and (h, w) pairs."""
    input_shape: tuple
    out_channels: int
    kernel_size: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    groups: int

    @property
    def weight_shape(self):
        """conv2d's weight shape."""
        return (self.out_channels, self.input_shape[1] // self.groups) + tuple(self.kernel_size)

    @property
    def output_size(self):
        """(H_out, W_out) of conv2d (and of pooling without ceil_mode)."""
        return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in
                     zip(self.input_shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))

    @property
    def output_shape(self):
        return (self.input_shape[0], self.out_channels) + self.output_size

    def conv_kwargs(self):
        """stride, padding, dilation and groups, as conv2d takes them."""
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)


@st.composite
def conv_geometries(draw, *, pool=False, max_batch=3, max_group_channels=3, max_groups=3, max_kernel=4,
                    max_stride=4, max_padding=3, max_dilation=3, max_extra=6):
    """ConvGeometry values whose output is at least 1 x 1: kernel, stride, padding and dilation drawn per side
    (stride may exceed the kernel, padding differ between H and W), channels a multiple of groups, and H, W at
    least the dilated kernel minus the padding on both sides, up to max_extra more.

    pool=True draws pooling parameters instead: one group, out_channels = input channels, and padding at most half
    the kernel (PyTorch's limit for max_pool2d and avg_pool2d; avg_pool2d takes no dilation: max_dilation=1).
    """
    groups = 1 if pool else draw(st.integers(1, max_groups))
    cin = groups * draw(st.integers(1, max_group_channels))
    cout = cin if pool else groups * draw(st.integers(1, max_group_channels))
    k = tuple(draw(st.integers(1, max_kernel)) for _ in range(2))
    s = tuple(draw(st.integers(1, max_stride)) for _ in range(2))
    d = tuple(draw(st.integers(1, max_dilation)) for _ in range(2))
    p = tuple(draw(st.integers(0, min(max_padding, kk // 2) if pool else max_padding)) for kk in k)
    hw = tuple(draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), max(1, dd * (kk - 1) + 1 - 2 * pp) + max_extra))
               for kk, dd, pp in zip(k, d, p))
    n = draw(st.integers(1, max_batch))
    return ConvGeometry((n, cin) + hw, cout, k, s, p, d, groups)
