"""Registry entries of the 1-D and 3-D convolutions and pools (the 1-D samples are the 2-D ones on a plane of
height 1), max-unpooling and power-average pooling, with their samples."""
import numpy as np

from .draw import Sample
from .entry import OpInfo
from .samples import _adaptive_sample, conv_sample, pool_sample


def _one_d(sample2d):
    """A 2-D conv/pool sample made 1-D: the last axis of each image and of each filter, per-axis options scalars."""
    def sample(d, dt):
        args, kw = sample2d(d, dt)
        args = tuple(a[:, :, 0, :] if isinstance(a, np.ndarray) and a.ndim == 4 else a[-1] if isinstance(a, tuple)
                     else a for a in args)
        kw = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in kw.items()}
        return Sample(args, kw)
    return sample


def _more_conv1d():
    yield OpInfo("conv1d", _one_d(conv_sample()), namespace="F", module="Conv1d", scale=10)
    yield OpInfo("conv_transpose1d", _one_d(conv_sample(True)), namespace="F", module="ConvTranspose1d", scale=10)
    yield OpInfo("max_pool1d", _one_d(pool_sample(False)), namespace="F", module="MaxPool1d")
    yield OpInfo("avg_pool1d", _one_d(pool_sample(True)), namespace="F", module="AvgPool1d")
    yield OpInfo("adaptive_avg_pool1d", _one_d(_adaptive_sample), namespace="F", module="AdaptiveAvgPool1d")
    yield OpInfo("adaptive_max_pool1d", _one_d(_adaptive_sample), namespace="F", module="AdaptiveMaxPool1d")


def _conv3d_sample(transposed):
    def sample(d, dt):
        g = d.choice((1, 1, 2))
        cin, cout = g * d.int(1, 2), g * d.int(1, 2)
        k = tuple(d.int(1, 2) for _ in range(3))
        s, p, dil = d.int(1, 2), d.int(0, 1), d.int(1, 2)
        x = d.array((d.int(1, 2), cin) + tuple(d.int(dil * (k_ - 1) + 1, 4) for k_ in k), dt)
        w = d.array((cin, cout // g) + k if transposed else (cout, cin // g) + k, dt)
        kw = dict(stride=s, padding=p if not transposed else 0, dilation=dil, groups=g)
        if transposed:
            kw["output_padding"] = d.int(0, max(0, min(s, dil) - 1))
        return Sample((x, w, d.array((cout,), dt) if d.bool() else None), kw)
    return sample


def _pool3d_sample(avg):
    def sample(d, dt):
        k = d.int(1, 2)
        x = d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(k, 4) for _ in range(3)), dt)
        kw = dict(kernel_size=k, stride=d.int(1, 2), padding=d.int(0, k // 2), ceil_mode=d.bool())
        if avg:
            kw["count_include_pad"] = d.bool()
        return Sample((x,), kw)
    return sample


def _more_conv3d():
    yield OpInfo("conv3d", _conv3d_sample(False), namespace="F", module="Conv3d", scale=10)
    yield OpInfo("conv_transpose3d", _conv3d_sample(True), namespace="F", module="ConvTranspose3d", scale=10)
    yield OpInfo("max_pool3d", _pool3d_sample(False), namespace="F", module="MaxPool3d")
    yield OpInfo("avg_pool3d", _pool3d_sample(True), namespace="F", module="AvgPool3d")
    yield OpInfo("adaptive_avg_pool3d", lambda d, dt: (lambda x: Sample((x, tuple(d.int(1, n) for n in x.shape[2:]))))(
        d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(3)), dt)), namespace="F",
        module="AdaptiveAvgPool3d")
    yield OpInfo("adaptive_max_pool3d", lambda d, dt: (lambda x: Sample((x, tuple(d.int(1, n) for n in x.shape[2:]))))(
        d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(3)), dt)), namespace="F",
        module="AdaptiveMaxPool3d")


def _unpool_sample(n):
    def sample(d, dt):
        k = d.int(1, 2)
        size = tuple(d.int(1, 3) for _ in range(n))                     # the pooled input's spatial size
        out = tuple(s_ * k for s_ in size)                               # the default output size (stride k)
        lead = (d.int(1, 2), d.int(1, 2))
        x = d.array(lead + size, dt)
        rng = np.random.default_rng(d.seed())
        plane, count = int(np.prod(out)), int(np.prod(size))
        idx = np.stack([rng.choice(plane, count, replace=False) for _ in range(lead[0] * lead[1])])
        return Sample((x, idx.reshape(lead + size), k))
    return sample


def _lp_sample(n):
    def sample(d, dt):
        k = d.int(1, 2)
        x = d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(k, 4) for _ in range(n)), dt, 0.2, 2.0)
        return Sample((x, d.choice((1.0, 2.0, 3.0)), k), dict(stride=d.choice((None, 1)), ceil_mode=d.bool()))
    return sample


def _more_unpool_lp():
    for n in (1, 2, 3):
        yield OpInfo(f"max_unpool{n}d", _unpool_sample(n), namespace="F", module=f"MaxUnpool{n}d")
        yield OpInfo(f"lp_pool{n}d", _lp_sample(n), namespace="F", module=f"LPPool{n}d", scale=10)
