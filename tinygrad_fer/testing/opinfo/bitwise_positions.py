"""Registry entries of the bitwise ops, isclose, and the ops made of computed positions (mode, diagflat,
cartesian_prod, as_strided), with their samples."""
import numpy as np

from .draw import F64, Sample
from .entry import OpInfo
from .samples import _broadcast_pair


def _mode_sample(d, dt):
    shape = d.shape(1, 3, 1, 5)
    a = np.round(d.array(shape, dt, -2.0, 2.0, nice=False)).astype(dt)   # few distinct values: real modes
    return Sample((a,), dict(dim=d.int(-len(shape), len(shape) - 1), keepdim=d.bool()))


def _as_strided_sample(d, dt):
    size, stride = (d.int(1, 3), d.int(1, 3)), (d.int(0, 2), d.int(0, 2))
    reach = (size[0] - 1) * stride[0] + (size[1] - 1) * stride[1]     # the last element's distance from the first
    n = reach + 1 + d.int(0, 4)
    return Sample((d.array((n,), dt), size, stride, d.int(0, n - 1 - reach)))


def _int_binary(lo, hi):
    """Integer operands (bitwise ops refuse floats in both libraries)."""
    def sample(d, dt):
        sa, sb = _broadcast_pair(d)
        return Sample(tuple(np.round(d.array(s, F64, lo, hi, nice=False)).astype(np.int64) for s in (sa, sb)))
    return sample


def _more_positions():
    """Bitwise ops (no gradient; float inputs raise in both libraries, so the per-dtype test carries them and
    tests/test_bitwise_positions.py the integer layouts), isclose, and ops made of computed positions."""
    for n in "bitwise_and bitwise_or bitwise_xor".split():
        yield OpInfo(n, _int_binary(-40, 40), method=True, grad=False)
    yield OpInfo("bitwise_not", lambda d, dt: Sample(_int_binary(-40, 40)(d, dt).args[:1]), method=True, grad=False)
    for n in "bitwise_left_shift bitwise_right_shift".split():
        yield OpInfo(n, _int_binary(-3, 70), method=True, grad=False)
    yield OpInfo("isclose", lambda d, dt: Sample((lambda a: (a, np.where(d.array(a.shape, F64) > 0, a,
                                                                         a + 1e-6)))(d.array(d.shape(), dt)),
                                                 dict(rtol=1e-5, atol=1e-7)), method=True, grad=False)
    yield OpInfo("mode", _mode_sample, method=True, gradcheck=False,
                 deviations=dict(gradcheck="piecewise: the mode and its position change when a tied element moves"))
    yield OpInfo("diagflat", lambda d, dt: Sample((d.array(d.shape(1, 2, 1, 3), dt),), dict(offset=d.int(-2, 2))),
                 method=True)
    yield OpInfo("cartesian_prod", lambda d, dt: Sample(tuple(d.array((d.int(1, 3),), dt) for _ in range(d.int(1, 3)))))
    yield OpInfo("as_strided", _as_strided_sample, method=True, deviations=dict(
        noncontiguous="addresses a contiguous tensor's own elements only (PyTorch: the storage under a view); a "
                      "strided input raises, telling to call .contiguous()"))
