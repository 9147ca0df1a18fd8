"""The weights of interpolate(..., antialias=True): PyTorch's separable antialiased resampling (the scheme of
Pillow's resize). Each output sample averages the input under a filter centred on its source position; when
downsampling by s the filter is stretched s times wider, so every input sample contributes, instead of the two or
four nearest ones aliasing the rest away. The taps of one output are renormalised to sum to one, which also makes
the image edges (where part of the filter falls outside) unbiased."""
import numpy as np


def _triangle(x):
    return np.maximum(1 - np.abs(x), 0)


def _keys_cubic(x):
    # Keys' cubic with a = -0.5 (not the -0.75 of plain bicubic): PyTorch's antialiased kernel uses Pillow's choice
    a, x = -0.5, np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x < 1, near, np.where(x < 2, far, 0))


def _lanczos3(x):
    return np.where(np.abs(x) < 3, np.sinc(x) * np.sinc(x / 3), 0)


# mode -> (the filter, its width in input samples when not stretched)
FILTERS = {"bilinear": (_triangle, 2), "bicubic": (_keys_cubic, 4), "lanczos": (_lanczos3, 6)}


def antialias_weight_matrix(mode, in_size, out_size, scale, dt):
    """(in, out) weights; `scale` is the source step per output step (interpolate's _scale)."""
    filt, width = FILTERS[mode]
    stretch = scale if scale >= 1 else dt(1)      # only a downsample widens the filter
    support = dt(width * 0.5) * stretch
    w = np.zeros((in_size, out_size), dtype=dt)
    for o in range(out_size):
        center = scale * dt(o + 0.5)
        # the window bounds truncate toward zero, as PyTorch's integer casts do
        lo = max(int(center - support + dt(0.5)), 0)
        hi = min(int(center + support + dt(0.5)), in_size)
        taps = filt((np.arange(lo, hi).astype(dt) - center + dt(0.5)) * (dt(1) / stretch)).astype(dt)
        total = taps.sum(dtype=dt)
        w[lo:hi, o] = taps / total if total != 0 else taps
    return w
