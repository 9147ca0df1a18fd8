"""CUDA backend: CuPy arrays, the hot kernels as CUDA C (cupy.RawModule).

CuPy is imported on first use, never with the package: `import tinygrad_fer` works without it, and asking for
'cuda' without CuPy or without a GPU raises one RuntimeError saying which of the two is missing.

CUDABackend overrides im2col, col2im (one thread per input pixel gathering every window over it: no atomics,
deterministic), the max-pool forward (arg-max with PyTorch's tie rule) and its backward (atomicAdd) for float32 and
float64; everything else (avg-pool, ReLU, the SGD step, other dtypes) is backend_base.Backend's default, the
reference kernel with CuPy as xp. The CUDA C is written as grid-stride loops behind two macros so that the same text
also compiles as plain C on the CPU: tests run a CUDABackend with NumPy arrays and that C (tests/cuda_emulation.py),
so the override checks of tests/test_kernels.py cover these kernels on a machine without a GPU.
"""
import functools

import numpy as np

from .backend_base import Backend


# ---- the CUDA C ----------------------------------------------------------------------------------
# Every kernel walks a flat index over its outputs with GRID_LOOP; on the GPU that is a grid-stride loop, in the
# CPU emulation (tests) a plain loop. T is the element type. All sizes are long long, so nothing overflows.
CUDA_PRELUDE = """
#define KERNEL extern "C" __global__ void
#define GRID_LOOP(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \\
                             i += (long long)blockDim.x * gridDim.x)
"""
KERNEL_SRC = r"""
KERNEL im2col_k(const T* x, T* cols, long long N, long long C, long long H, long long W, long long KH, long long KW,
                long long OH, long long OW, long long sh, long long sw, long long ph, long long pw, long long dh,
                long long dw) {
    /* cols (C, KH, KW, N, OH, OW): consecutive threads write consecutive ow, so the stores coalesce */
    long long total = C * KH * KW * N * OH * OW;
    GRID_LOOP(i, total) {
        long long ow = i % OW, t = i / OW;
        long long oh = t % OH; t /= OH;
        long long n = t % N; t /= N;
        long long kj = t % KW; t /= KW;
        long long ki = t % KH, c = t / KH;
        long long y = oh * sh - ph + ki * dh, xx = ow * sw - pw + kj * dw;
        cols[i] = (y >= 0 && y < H && xx >= 0 && xx < W) ? x[((n * C + c) * H + y) * W + xx] : (T)0;
    }
}

KERNEL col2im_k(const T* cols, T* out, long long N, long long C, long long H, long long W, long long KH, long long KW,
                long long OH, long long OW, long long sh, long long sw, long long ph, long long pw, long long dh,
                long long dw) {
    /* one thread per input pixel sums, in tap order, every window entry that came from it: no atomics, and the
       same sum order as kernels_ref's tap-by-tap slice adds */
    long long total = N * C * H * W;
    GRID_LOOP(i, total) {
        long long xx = i % W, t = i / W;
        long long y = t % H; t /= H;
        long long c = t % C, n = t / C;
        T s = (T)0;
        for (long long ki = 0; ki < KH; ++ki) {
            long long ty = y + ph - ki * dh;
            if (ty < 0) break;
            if (ty % sh != 0 || ty / sh >= OH) continue;
            long long oh = ty / sh;
            for (long long kj = 0; kj < KW; ++kj) {
                long long tx = xx + pw - kj * dw;
                if (tx < 0) break;
                if (tx % sw != 0 || tx / sw >= OW) continue;
                s += cols[((((c * KH + ki) * KW + kj) * N + n) * OH + oh) * OW + tx / sw];
            }
        }
        out[i] = s;
    }
}

KERNEL max_pool_k(const T* x, T* out, long long* idx, T ninf, long long NC, long long H, long long W, long long OH,
                  long long OW, long long KH, long long KW, long long sh, long long sw, long long ph, long long pw,
                  long long dh, long long dw) {
    /* PyTorch's scan: start at the first in-bounds tap, take a strictly greater value or any NaN, so the first
       maximum wins, or the last NaN; a window of only -inf keeps its first in-bounds pixel. */
    long long total = NC * OH * OW;
    GRID_LOOP(i, total) {
        long long ow = i % OW, t = i / OW;
        long long oh = t % OH, p = t / OH;
        const T* plane = x + p * H * W;
        long long y0 = oh * sh - ph, x0 = ow * sw - pw;
        long long i0 = y0 >= 0 ? 0 : (dh - 1 - y0) / dh, j0 = x0 >= 0 ? 0 : (dw - 1 - x0) / dw;
        long long fy = y0 + i0 * dh, fx = x0 + j0 * dw;
        if (fy >= H || fx >= W) {
            /* dilation stepped over the whole input (padding <= kernel / 2 allows it): kernels_ref's answer */
            out[i] = ninf;
            idx[i] = fy * W + fx;  // PyTorch's index for an all-padding window (outside the plane)
            continue;
        }
        long long bi = fy * W + fx;
        T best = plane[bi];
        for (long long ki = i0; ki < KH; ++ki) {
            long long y = y0 + ki * dh;
            if (y >= H) break;
            for (long long kj = j0; kj < KW; ++kj) {
                long long xx = x0 + kj * dw;
                if (xx >= W) break;
                T v = plane[y * W + xx];
                if (v > best || v != v) { best = v; bi = y * W + xx; }
            }
        }
        out[i] = best;
        idx[i] = bi;
    }
}

KERNEL max_pool_bwd_k(const T* g, const long long* idx, T* gx, long long total, long long OHW, long long HW) {
    /* gx arrives zeroed; overlapping windows may pick one pixel several times, hence the atomic add. An index
       outside the plane (a window with no input pixel in it) has nothing to send its gradient to. */
    GRID_LOOP(i, total) {
        long long j = idx[i];
        if (j >= 0 && j < HW) atomicAdd(gx + (i / OHW) * HW + j, g[i]);
    }
}
"""
_CTYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}
_THREADS = 256


class CUDABackend(Backend):
    """xp and launch: the array module and the kernel launcher, by default CuPy (bound on first need) and the GPU;
    tests pass NumPy and the CUDA C compiled for the CPU."""
    name = "cuda"
    block_bytes = 0     # the GPU wants one large launch, not a loop of small ones

    def __init__(self, xp=None, launch=None):
        self._status = None     # (cupy module or None, why it can't be used or None), computed once by _probe()
        self._cp = None         # cupy, once require() succeeded
        if xp is not None:
            self.xp = xp
        self._launch = launch or self._gpu_launch

    def __getattr__(self, attr):
        # xp and rng exist once require() has run; a CuPy array met before that (backend.of) gets here
        if attr in ("xp", "rng"):
            self.require()
            return vars(self)[attr]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {attr!r}")

    # ---- is there a GPU ----------------------------------------------------------------------------------------
    def _probe(self):
        if self._status is not None:
            return self._status
        try:
            import cupy
            n = cupy.cuda.runtime.getDeviceCount()
            reason = None if n > 0 else "the CUDA runtime reports 0 devices"
        except ImportError as e:
            if e.name == "cupy":
                self._status = (None, "CUDA requested but CuPy is not installed: pip install 'tinygrad_fer[cuda]'")
                return self._status
            cupy, reason = None, f"{type(e).__name__}: {e}"     # installed, but a library it loads is missing
        except Exception as e:  # CUDARuntimeError without a driver or a device, ...
            cupy, reason = None, f"{type(e).__name__}: {e}"
        self._status = (cupy, None) if reason is None else \
            (None, f"CuPy is installed but no CUDA GPU/driver was found: {reason}")
        return self._status

    def available(self):
        """True when CuPy imports and sees at least one device. Never raises."""
        try:
            return self._probe()[0] is not None
        except Exception:
            return False

    def require(self):
        """Raise one clear RuntimeError unless the backend can run; bind xp and rng on first success."""
        if self._cp is not None:
            return
        cupy, reason = self._probe()
        if cupy is None:
            raise RuntimeError(reason)
        self._cp = self.xp = cupy
        if "rng" not in vars(self):
            self.rng = _Generator(cupy, None)

    def device_count(self):
        cupy = self._probe()[0]
        return cupy.cuda.runtime.getDeviceCount() if cupy is not None else 0

    # ---- arrays ------------------------------------------------------------------------------------------------
    def to_numpy(self, a):
        return a.get()

    def data_ptr(self, a):
        return a.data.ptr

    def device_index(self, a):
        return a.device.id

    def new_rng(self, seed=None):
        self.require()
        return _Generator(self._cp, seed)

    def add_at(self, a, idx, v):
        import cupyx
        self.require()
        cp = self._cp
        # index arrays built on the host (lists in x[[0, 2]]) go to the device with the values
        idx = tuple(cp.asarray(i) if isinstance(i, np.ndarray) else i for i in idx) if isinstance(idx, tuple) else \
            cp.asarray(idx) if isinstance(idx, np.ndarray) else idx
        cupyx.scatter_add(a, idx, v)

    # ---- kernels -----------------------------------------------------------------------------------------------
    def _gpu_launch(self, kernel, dtype, total, *args):
        if total == 0:
            return
        self.require()      # binds _cp when the arrays were made by CuPy directly, not through this backend
        fn = _module(self._cp, _CTYPES[np.dtype(dtype)]).get_function(kernel)
        blocks = min((total + _THREADS - 1) // _THREADS, 1 << 20)     # the grid-stride loop covers the rest
        # ints go as long long; T scalars arrive as NumPy scalars of the array's dtype, which CuPy passes as such
        fn((blocks,), (_THREADS,), tuple(np.int64(a) if isinstance(a, (int, np.integer)) else a for a in args))

    def im2col(self, x, win):
        if x.dtype not in _CTYPES:
            return super().im2col(x, win)
        xp = self.xp
        n, c, h, w = x.shape
        oh, ow = win.out_size(h, w)
        x = xp.ascontiguousarray(x)
        cols = xp.empty((c, win.kh, win.kw, n, oh, ow), dtype=x.dtype)
        self._launch("im2col_k", x.dtype, cols.size, x, cols, n, c, h, w, win.kh, win.kw, oh, ow, *win[2:])
        return cols

    def col2im(self, cols, x_shape, win):
        if cols.dtype not in _CTYPES:
            return super().col2im(cols, x_shape, win)
        xp = self.xp
        n, c, h, w = x_shape
        cols = xp.ascontiguousarray(cols)
        out = xp.empty((n, c, h, w), dtype=cols.dtype)
        self._launch("col2im_k", cols.dtype, out.size, cols, out, n, c, h, w, win.kh, win.kw, cols.shape[4],
                     cols.shape[5], *win[2:])
        return out

    def max_pool2d(self, x, win, ceil_mode):
        if x.dtype not in _CTYPES:
            return super().max_pool2d(x, win, ceil_mode)
        xp = self.xp
        n, c, h, w = x.shape
        oh, ow = win.out_size(h, w, ceil_mode)
        x = xp.ascontiguousarray(x)
        out = xp.empty((n, c, oh, ow), dtype=x.dtype)
        idx = xp.empty((n, c, oh, ow), dtype=np.int64)
        self._launch("max_pool_k", x.dtype, out.size, x, out, idx, x.dtype.type(-np.inf), n * c, h, w, oh, ow, *win)
        return out, idx

    def max_pool2d_backward(self, grad_out, idx, x_shape):
        if grad_out.dtype not in _CTYPES:
            return super().max_pool2d_backward(grad_out, idx, x_shape)
        xp = self.xp
        n, c, h, w = x_shape
        g = xp.ascontiguousarray(grad_out)
        idx = xp.ascontiguousarray(idx, dtype=np.int64)
        gx = xp.zeros((n, c, h, w), dtype=g.dtype)
        self._launch("max_pool_bwd_k", g.dtype, g.size, g, idx, gx, g.size, g.shape[2] * g.shape[3], h * w)
        return gx


@functools.lru_cache(maxsize=None)
def _module(cupy, ctype):
    return cupy.RawModule(code=CUDA_PRELUDE + f"#define T {ctype}\n" + KERNEL_SRC)


class _Generator:
    """numpy.random.Generator's methods (the ones tensor.py calls) over cupy.random.RandomState (cuRAND):
    CuPy's own Generator has no normal() or permutation()."""

    def __init__(self, cupy, seed):
        self._rs = cupy.random.RandomState(seed)

    def random(self, size=None, dtype=np.float64):
        return self._rs.random_sample(size, dtype=dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        return self._rs.standard_normal(size, dtype=dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64):
        return self._rs.randint(low, high, size, dtype=dtype)

    def permutation(self, n):
        return self._rs.permutation(n)

    def uniform(self, low=0.0, high=1.0, size=None):
        return self._rs.uniform(low, high, size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        return self._rs.normal(loc, scale, size)


backend_cuda = CUDABackend()
