"""The geometry of a 2-D sliding window (convolution, pooling, unfold/fold): one named type for the eight numbers.

Ops build a Window2d from their (h, w) pairs; kernels' Python wrappers take one and hand its fields to compiled code
as plain ints (`*win`, `win.kh`, ...). `window_taps`, the clipping of one window to the input along one axis, is a
scalar helper the Numba kernels compile in (see _jit.py).
"""
from typing import NamedTuple

from ._jit import inline


class Window2d(NamedTuple):
    """A kh x kw window moved by stride (sh, sw) over an input padded by (ph, pw) on each side, its taps dilation
    (dh, dw) apart."""
    kh: int
    kw: int
    sh: int = 1
    sw: int = 1
    ph: int = 0
    pw: int = 0
    dh: int = 1
    dw: int = 1

    @classmethod
    def of(cls, kernel_size, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        """From the (h, w) pairs ops hold."""
        return cls(kernel_size[0], kernel_size[1], stride[0], stride[1], padding[0], padding[1], dilation[0],
                   dilation[1])

    def out_size(self, h, w, ceil_mode=False):
        """(OH, OW): how many windows fit an h x w input (PyTorch's rule, see out_size)."""
        return (out_size(h, self.kh, self.sh, self.ph, self.dh, ceil_mode),
                out_size(w, self.kw, self.sw, self.pw, self.dw, ceil_mode))

    def span(self, oh, ow):
        """(rows, cols) of padded input that oh x ow windows reach, from the first window's first tap to the last
        window's last tap."""
        return (oh - 1) * self.sh + (self.kh - 1) * self.dh + 1, (ow - 1) * self.sw + (self.kw - 1) * self.dw + 1

    def transposed(self):
        """For a stride-1 convolution: the window of the stride-1 convolution that gives its input gradient (the
        output gradient padded by d * (k - 1) - p, against the flipped weights with input and output channels
        swapped). Its padding is negative where this one's exceeds d * (k - 1)."""
        return self._replace(ph=self.dh * (self.kh - 1) - self.ph, pw=self.dw * (self.kw - 1) - self.pw)


def out_size(size, k, s, p, d, ceil_mode=False):
    """Windows along one axis. With ceil_mode a last partial window counts when it starts inside the input or the
    left padding (PyTorch's rule)."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


@inline
def window_taps(start, d, k, size):
    """The taps [t0, t1) of a k-tap window with step d, its tap 0 at input coordinate start, that land inside
    [0, size). t0 may pass k (then t1 == t0): a max-pool window of only padding keeps PyTorch's index from it."""
    t0 = 0 if start >= 0 else (d - 1 - start) // d
    return t0, (max(t0, min(k, (size - 1 - start) // d + 1)) if size - 1 - start >= 0 else t0)
