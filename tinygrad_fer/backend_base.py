"""The backend contract: one base class whose kernels default to the reference kernels (kernels_ref.py) on the
backend's own array module.

A backend (backend_cpu.CPUBackend, backend_cuda.CUDABackend) says what its arrays are (the abstract part: array module,
conversion, RNG, device identity) and overrides only the kernels it runs faster; every other kernel is the reference
on its `xp`. Ops reach the backend as `ctx.be` (Function.apply takes it from the inputs), `tensor._be`,
`backend.get(device)` or `backend.of(array)`, and call `be.xp.exp(x)`, `be.im2col(x, win)`, `be.rng`, ...
A new backend subclasses Backend; no op changes. tests/test_kernels.py finds every override of a kernel and checks it
against the default here on Hypothesis inputs (a new override without a sample generator fails that test).

Kernel conventions: inputs may have any strides; outputs are new contiguous arrays of the input's dtype; window
geometry comes as a window.Window2d. An override must take everything the default takes (falling back to
`super()` for what it was not built for: other dtypes, strides, ...).
"""
from abc import ABC, abstractmethod

from . import kernels_ref


class Backend(ABC):
    name = None         # the device type: 'cpu', 'cuda'
    # xp: the array module (numpy, cupy); every op is written against it. rng: the default random generator
    # (numpy.random.Generator's methods: random, standard_normal, integers, permutation, uniform, normal). Both are
    # instance attributes the subclass sets (CUDA binds them when CuPy is first needed).
    xp: object
    rng: object
    block_bytes = 0     # how many bytes of a convolution's im2col columns ops make at a time (0: all at once)

    # ---- arrays and devices ---------------------------------------------------------------------------------------
    def asarray(self, a, dtype=None):
        """An array on this backend from anything array-like (a copy only when needed)."""
        return self.xp.asarray(a, dtype=dtype)

    @abstractmethod
    def to_numpy(self, a):
        """A host NumPy array (no copy on the CPU)."""

    @abstractmethod
    def data_ptr(self, a):
        """The address of a's first element."""

    @abstractmethod
    def device_index(self, a):
        """Which device of this type holds a (None on the CPU, as torch.device('cpu').index)."""

    @abstractmethod
    def new_rng(self, seed=None):
        """A new generator like rng, seeded (or from fresh entropy)."""

    def seed(self, n):
        """Re-seed rng."""
        self.rng = self.new_rng(n)

    def add_at(self, a, idx, v):
        """Unbuffered scatter-add, a[idx] += v with repeated indices adding up (np.add.at's semantics)."""
        self.xp.add.at(a, idx, v)

    # ---- kernels (the defaults are kernels_ref's on self.xp) -------------------------------------------------------
    def direct_conv(self, x, w, stride, padding, dilation, groups):
        """Whether ops should convolve through conv2d / conv2d_weight_grad (stride 1, one group) rather than
        im2col + GEMM for this case: True where the backend has faster direct kernels."""
        return False

    def im2col(self, x, win):
        """x (N, C, H, W) -> cols (C, KH, KW, N, OH, OW), contiguous: a (C*KH*KW, N*OH*OW) matrix whose rows split
        by group into contiguous blocks, so forward is one GEMM per group (W_g @ cols_g), the weight gradient one
        GEMM with cols_g.T (a BLAS transpose flag, no copy), and only the small (M, N*OH*OW) output is transposed."""
        return kernels_ref.im2col(x, win, xp=self.xp)

    def col2im(self, cols, x_shape, win):
        """The adjoint of im2col: (C, KH, KW, N, OH, OW) -> (N, C, H, W), overlapping windows summed."""
        return kernels_ref.col2im(cols, x_shape, win, xp=self.xp)

    def conv2d(self, x, w, b, win):
        """One-group convolution of x (N, C, H, W) with w (M, C, KH, KW) plus b (M,) or None: (N, M, OH, OW)."""
        return kernels_ref.conv2d(x, w, b, win, xp=self.xp)

    def conv2d_weight_grad(self, x, grad, win):
        """conv2d's weight gradient (M, C, KH, KW) for its output gradient grad (N, M, OH, OW)."""
        return kernels_ref.conv2d_weight_grad(x, grad, win, xp=self.xp)

    def max_pool2d(self, x, win, ceil_mode):
        """(out, idx); idx int64, flat into H*W of its plane; PyTorch's choice: the first maximum in row-major window
        order, the last NaN if any; padding is -inf (a window of only -inf points at its first in-bounds pixel; one
        made only of padding, possible with dilation, gives -inf and PyTorch's out-of-plane index)."""
        return kernels_ref.max_pool2d(x, win, ceil_mode, xp=self.xp)

    def max_pool2d_backward(self, grad_out, idx, x_shape):
        """grad_x: each gradient sent to its idx (also serves adaptive max-pool); indices outside the plane skipped."""
        return kernels_ref.max_pool2d_backward(grad_out, idx, x_shape, xp=self.xp, add_at=self.add_at)

    def avg_pool2d(self, x, win, ceil_mode, count_include_pad, divisor_override=None):
        """Window means (win's dilation is 1); each sum starts at +0.0, as PyTorch's, so NaN and inf reach only their
        windows and an all -0.0 window gives +0.0."""
        return kernels_ref.avg_pool2d(x, win, ceil_mode, count_include_pad, divisor_override, xp=self.xp)

    def avg_pool2d_backward(self, grad_out, x_shape, win, ceil_mode, count_include_pad, divisor_override=None):
        return kernels_ref.avg_pool2d_backward(grad_out, x_shape, win, ceil_mode, count_include_pad,
                                               divisor_override, xp=self.xp)

    def erf(self, x, complement=False):
        """erf of a float array (erfc with complement)."""
        return kernels_ref.erf(x, complement, xp=self.xp)

    def sigmoid(self, x):
        """The logistic function of a float array, overflow-free."""
        return kernels_ref.sigmoid(x, xp=self.xp)

    def sigmoid_backward(self, grad, out):
        """grad * out * (1 - out): the gradient through the logistic function, from its output."""
        return kernels_ref.sigmoid_backward(grad, out)

    def relu(self, x):
        """max(x, 0) with PyTorch's -0.0 and NaN (both pass)."""
        return kernels_ref.relu(x, xp=self.xp)

    def relu_backward(self, grad, out):
        """grad where out > 0 or is NaN, else 0."""
        return kernels_ref.relu_backward(grad, out, xp=self.xp)

    def batch_norm_stats(self, x3):
        """Per-channel (mean, biased variance) of x3 (N, C, S), in x3's dtype (float64 sums)."""
        return kernels_ref.batch_norm_stats(x3, xp=self.xp)

    def batch_norm_apply(self, x3, mean, invstd, w, b):
        """(x - mean) * invstd * w + b per channel of x3 (N, C, S)."""
        return kernels_ref.batch_norm_apply(x3, mean, invstd, w, b, xp=self.xp)

    def batch_norm_backward(self, g3, x3, mean, invstd, w, training, need_x):
        """(gx or None, gw, gb) of BatchNorm over (N, C, S)."""
        return kernels_ref.batch_norm_backward(g3, x3, mean, invstd, w, training, need_x, xp=self.xp)

    def adam_(self, w, d, m, v, vmax, lr, beta1, beta2, eps, step):
        """An Adam step, in place on w, m, v (and vmax with amsgrad; else None) from the update gradient d."""
        kernels_ref.adam_(w, d, m, v, vmax, lr, beta1, beta2, eps, step, xp=self.xp)

    def sgd_momentum_(self, w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
        """An SGD step with a momentum buffer, in place on w and buf (optim.SGD after its first step)."""
        kernels_ref.sgd_momentum_(w, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, xp=self.xp)
