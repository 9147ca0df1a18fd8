"""The CUDA backend. Three parts:

1. Without a GPU (always run): the clear errors when CuPy or a device is missing (simulated either way), the
   cross-device error, tinygrad_fer.cuda's answers.
2. The CUDA C kernels compiled as plain C on the CPU (grid-stride loop -> plain loop, atomicAdd -> +=) against
   kernels_ref: checks every index computation and the tie rules without a GPU.
3. GPU only (skipped without one): the same kernels through CuPy, an op suite against PyTorch on the CPU, a whole
   convnet step, seeded RNG, Module.to('cuda') with an optimizer step.
"""
import ctypes
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
from tinygrad_fer import backend_cuda, kernels_ref
from tinygrad_fer.autograd import Function

from helpers import compare

CUDA_REASON = None if backend_cuda.available() else backend_cuda._probe()[1]
needs_cuda = pytest.mark.skipif(CUDA_REASON is not None, reason=f"no CUDA: {CUDA_REASON}")


# ---- 1. without a GPU -----------------------------------------------------------------------------------------
@pytest.fixture
def fresh_backend(monkeypatch):
    """backend_cuda as if never probed; its real state comes back afterwards."""
    monkeypatch.setattr(backend_cuda, "_status", None)
    monkeypatch.setattr(backend_cuda, "_cp", None)
    for attr in ("xp", "rng"):
        if attr in vars(backend_cuda):
            monkeypatch.delattr(backend_cuda, attr)
    return backend_cuda


def _fake_cupy(get_count):
    cupy = types.ModuleType("cupy")
    cupy.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=get_count))
    return cupy


class CUDARuntimeError(RuntimeError):
    pass


def _no_device():
    raise CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")


def _every_cuda_request():
    """Each public way of asking for 'cuda'."""
    cpu = tg.ones(2)
    return [lambda: tg.tensor([1.0], device="cuda"), lambda: tg.zeros(2, 3, device="cuda"),
            lambda: tg.randn(2, device="cuda"), lambda: tg.arange(3, device="cuda"),
            lambda: tg.full((2,), 1.0, device="cuda"), lambda: cpu.to("cuda"), lambda: cpu.cuda(),
            lambda: cpu.to(device="cuda:0"), lambda: tg.Generator(device="cuda")]


def test_missing_cupy_gives_one_clear_error(fresh_backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)       # `import cupy` now fails as if not installed
    assert not tg.cuda.is_available()
    assert tg.cuda.device_count() == 0
    for ask in _every_cuda_request():
        with pytest.raises(RuntimeError, match=r"CUDA requested but CuPy is not installed: pip install "
                                               r"'tinygrad_fer\[cuda\]'"):
            ask()
    with pytest.raises(RuntimeError, match="CuPy is not installed"):
        tg.cuda.get_device_name()
    tg.cuda.manual_seed(0)      # no-ops without a GPU, as in PyTorch
    tg.manual_seed(0)
    tg.cuda.empty_cache()


@pytest.mark.parametrize("get_count, why", [(_no_device, "cudaErrorNoDevice"), (lambda: 0, "0 devices")])
def test_cupy_without_device_gives_one_clear_error(fresh_backend, monkeypatch, get_count, why):
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(get_count))
    assert not tg.cuda.is_available()
    assert tg.cuda.device_count() == 0
    for ask in _every_cuda_request():
        with pytest.raises(RuntimeError, match=f"CuPy is installed but no CUDA GPU/driver was found: .*{why}"):
            ask()


def test_import_never_needs_cupy():
    code = ("import sys; sys.modules['cupy'] = None; import tinygrad_fer, tinygrad_fer.backend_cuda, "
            "tinygrad_fer.cuda as c; assert not c.is_available() and c.device_count() == 0; "
            "assert 'cupy' not in [m for m in sys.modules if sys.modules[m] is not None]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cpu_requests_never_probe_cuda(fresh_backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    t = tg.tensor([1.0, 2.0], device="cpu").to("cpu").cpu()
    assert t.device == tg.device("cpu") and not t.is_cuda
    assert backend_cuda._status is None


class _FakeCudaArray:
    """Just enough of a cupy.ndarray for Tensor and Function.apply to see a second device."""
    __module__ = "cupy._fake"
    shape, ndim, dtype, size = (2,), 1, np.dtype(np.float32), 2
    device = types.SimpleNamespace(id=0)


class _Identity(Function):
    raw = True

    @staticmethod
    def forward(ctx, a, b):
        return a

    @staticmethod
    def backward(ctx, g):
        return g, None


def test_cross_device_error_names_both_devices():
    gpu, cpu = tg.Tensor(_FakeCudaArray()), tg.ones(2)
    assert gpu.device == tg.device("cuda:0") and str(gpu.device) == "cuda:0"
    with pytest.raises(RuntimeError, match=r"^Expected all tensors to be on the same device, but found at least "
                                           r"two devices, cuda:0 and cpu!$"):
        _Identity.apply(gpu, cpu)
    with pytest.raises(RuntimeError, match=r"two devices, cpu and cuda:0!$"):
        _Identity.apply(cpu, gpu)


def test_device_fixture_covers_cpu(device):
    # the conftest fixture runs cpu always, cuda only where it can (skipped with the reason otherwise)
    t = tg.ones(3, device=device)
    assert t.device == tg.device(device)


# ---- 2. the CUDA C kernels compiled for the CPU ----------------------------------------------------------------
CPU_PRELUDE = """
#define KERNEL void
#define GRID_LOOP(i, n) for (long long i = 0; i < (n); ++i)
#define atomicAdd(p, v) (*(p) += (v))
"""
_libs = {}


def _cpu_lib(ctype, tmp_path_factory):
    if ctype not in _libs:
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            pytest.skip("no C compiler to emulate the CUDA kernels on the CPU")
        d = tmp_path_factory.mktemp("cuda_emul")
        src, lib = d / f"k_{ctype}.c", d / f"k_{ctype}.so"
        src.write_text(CPU_PRELUDE + f"#define T {ctype}\n" + backend_cuda.KERNEL_SRC)
        subprocess.run([cc, "-O1", "-std=c99", "-Wall", "-Werror", "-shared", "-fPIC", str(src), "-o", str(lib)],
                       check=True)
        _libs[ctype] = ctypes.CDLL(str(lib))
    return _libs[ctype]


@pytest.fixture(scope="module")
def cpu_launch(tmp_path_factory):
    def launch(kernel, dtype, total, *args):
        lib = _cpu_lib(backend_cuda._CTYPES[np.dtype(dtype)], tmp_path_factory)
        scalar = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}
        cargs = [ctypes.c_void_p(a.ctypes.data) if isinstance(a, np.ndarray) else
                 scalar[a.dtype](a) if isinstance(a, np.floating) else ctypes.c_longlong(int(a)) for a in args]
        getattr(lib, kernel)(*cargs)
    return launch


@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = (draw(st.integers(1, 3)) for _ in range(4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = max(1, (kh - 1) * dh + 1 - 2 * ph) + draw(st.integers(0, 6))
    w = max(1, (kw - 1) * dw + 1 - 2 * pw) + draw(st.integers(0, 6))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw)


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    ph, pw = draw(st.integers(0, kh // 2)), draw(st.integers(0, kw // 2))
    h = max(1, (kh - 1) * dh + 1 - 2 * ph) + draw(st.integers(0, 6))
    w = max(1, (kw - 1) * dw + 1 - 2 * pw) + draw(st.integers(0, 6))
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (n, c, h, w), (kh, kw, sh, sw, ph, pw, dh, dw, draw(st.booleans()))


DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@given(case=conv_case(), seed=st.integers(0, 2 ** 16))
def test_emulated_im2col_col2im_match_reference(cpu_launch, dtype, case, seed):
    shape, p = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    if seed % 2:
        x = np.asfortranarray(x)       # any strides in
    cols = backend_cuda._im2col(x, *p, xp=np, launch=cpu_launch)
    ref = kernels_ref.im2col(x, *p)
    assert cols.shape == ref.shape and cols.dtype == ref.dtype
    np.testing.assert_array_equal(cols, ref)
    g = rng.standard_normal(ref.shape).astype(dtype)
    out = backend_cuda._col2im(g, shape, *p, xp=np, launch=cpu_launch)
    want = kernels_ref.col2im(g, shape, *p)
    assert out.shape == want.shape and out.dtype == want.dtype
    np.testing.assert_array_equal(out, want)      # same tap order as the reference: bit for bit


def _pool_input(shape, dtype, rng, kind):
    if kind == "ties":          # few distinct values: ties everywhere, as after a ReLU
        return rng.integers(-1, 2, shape).clip(0).astype(dtype)
    x = rng.standard_normal(shape).astype(dtype)
    if kind == "nan_inf":
        m = rng.random(shape)
        x[m < 0.15] = np.nan
        x[(m >= 0.15) & (m < 0.5)] = -np.inf
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "ties", "nan_inf"])
@given(case=pool_case(), seed=st.integers(0, 2 ** 16))
@settings(max_examples=15)
def test_emulated_max_pool_matches_reference(cpu_launch, dtype, kind, case, seed):
    shape, p = case
    rng = np.random.default_rng(seed)
    x = _pool_input(shape, dtype, rng, kind)
    out, idx = backend_cuda._max_pool2d(x, *p, xp=np, launch=cpu_launch)
    ref_out, ref_idx = kernels_ref.max_pool2d(x, *p)
    assert out.shape == ref_out.shape and out.dtype == ref_out.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(idx, ref_idx)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = backend_cuda._max_pool2d_backward(g, idx, shape, xp=np, launch=cpu_launch)
    if ((idx < 0) | (idx >= shape[2] * shape[3])).any():
        return      # a window over padding only (dilation steps over the input): no pixel to send a gradient to
    np.testing.assert_allclose(gx, kernels_ref.max_pool2d_backward(g, ref_idx, shape), rtol=1e-6, atol=1e-6)


def test_emulated_max_pool_tie_rule_matches_torch(cpu_launch):
    # a ReLU output: whole windows of exact zeros, where PyTorch points at the first one
    x = np.maximum(np.random.default_rng(0).standard_normal((2, 3, 7, 7)), 0).astype(np.float32)
    x[0, 0, :3, :3] = 0.0
    out, idx = backend_cuda._max_pool2d(x, 3, 3, 2, 2, 1, 1, 1, 1, True, xp=np, launch=cpu_launch)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(out, t_out.numpy())
    np.testing.assert_array_equal(idx, t_idx.numpy())


# ---- 3. GPU only -----------------------------------------------------------------------------------------------
def _F():
    F = pytest.importorskip("tinygrad_fer.nn.functional")
    return F


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@given(case=conv_case(), seed=st.integers(0, 2 ** 16))
@settings(max_examples=10)
def test_gpu_im2col_col2im_match_reference(dtype, case, seed):
    cp = backend_cuda.xp
    shape, p = case
    rng = np.random.default_rng(seed)
    x = cp.asarray(rng.standard_normal(shape).astype(dtype))
    cols = backend_cuda.im2col(x, *p)
    np.testing.assert_array_equal(cp.asnumpy(cols), kernels_ref.im2col(cp.asnumpy(x), *p))
    g = rng.standard_normal(cols.shape).astype(dtype)
    out = backend_cuda.col2im(cp.asarray(g), shape, *p)
    assert out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(cp.asnumpy(out), kernels_ref.col2im(g, shape, *p))
    # the same sum twice: deterministic
    np.testing.assert_array_equal(cp.asnumpy(backend_cuda.col2im(cp.asarray(g), shape, *p)), cp.asnumpy(out))


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "ties", "nan_inf"])
@given(case=pool_case(), seed=st.integers(0, 2 ** 16))
@settings(max_examples=10)
def test_gpu_max_pool_matches_reference(dtype, kind, case, seed):
    cp = backend_cuda.xp
    shape, p = case
    rng = np.random.default_rng(seed)
    x = _pool_input(shape, dtype, rng, kind)
    out, idx = backend_cuda.max_pool2d(cp.asarray(x), *p)
    ref_out, ref_idx = kernels_ref.max_pool2d(x, *p)
    np.testing.assert_array_equal(cp.asnumpy(out), ref_out)
    np.testing.assert_array_equal(cp.asnumpy(idx), ref_idx)
    if ((ref_idx < 0) | (ref_idx >= shape[2] * shape[3])).any():
        return      # a window over padding only: no pixel to send a gradient to
    g = rng.standard_normal(ref_out.shape).astype(dtype)
    gx = backend_cuda.max_pool2d_backward(cp.asarray(g), idx, shape)
    np.testing.assert_allclose(cp.asnumpy(gx), kernels_ref.max_pool2d_backward(g, ref_idx, shape),
                               rtol=1e-6, atol=1e-6)


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
def test_gpu_reference_kernels_through_cupy(dtype):
    # avg-pool and the non-float fallbacks run kernels_ref with CuPy as xp
    cp = backend_cuda.xp
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6)).astype(dtype)
    for p in [(3, 3, 2, 2, 1, 1, True, False, None), (2, 3, 1, 2, 0, 1, False, True, 5)]:
        out = backend_cuda.avg_pool2d(cp.asarray(x), *p)
        np.testing.assert_allclose(cp.asnumpy(out), kernels_ref.avg_pool2d(x, *p), rtol=1e-6)
        g = np.random.default_rng(2).standard_normal(out.shape).astype(dtype)
        gx = backend_cuda.avg_pool2d_backward(cp.asarray(g), x.shape, *p)
        np.testing.assert_allclose(cp.asnumpy(gx), kernels_ref.avg_pool2d_backward(g, x.shape, *p), rtol=1e-6)


R = np.random.default_rng(7)
A34, B34, B4, M45 = (R.standard_normal(s) for s in [(3, 4), (3, 4), (4,), (4, 5)])
OPS = {
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [A34, B4]),
    "mul_div": (lambda a, b: a * b / (b * b + 1), lambda a, b: a * b / (b * b + 1), [A34, B34]),
    "exp_log_tanh": (lambda a: (a.exp() + 1).log().tanh(), lambda a: (a.exp() + 1).log().tanh(), [A34]),
    "relu_sigmoid": (lambda a: a.relu() * a.sigmoid(), lambda a: a.relu() * a.sigmoid(), [A34]),
    "sum_mean": (lambda a: a.sum(0) + a.mean(1, keepdim=True), lambda a: a.sum(0) + a.mean(1, keepdim=True), [A34]),
    "max_dim": (lambda a: a.max(1)[0], lambda a: a.max(1)[0], [A34]),
    "var": (lambda a: a.var(1), lambda a: a.var(1), [A34]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [A34, M45]),
    "index": (lambda a: a[[0, 2, 2], 1:], lambda a: a[[0, 2, 2], 1:], [A34]),
    "index_tensor": (lambda a: a[tg.tensor([2, 0], device=a.device)], lambda a: a[torch.tensor([2, 0])], [A34]),
    "softmax": (lambda a: tg.softmax(a, 1), lambda a: torch.softmax(a, 1), [A34]),
    "log_softmax": (lambda a: tg.log_softmax(a, 0), lambda a: torch.log_softmax(a, 0), [A34]),
    "movement": (lambda a: a.t().reshape(2, 6).flip(0), lambda a: a.t().reshape(2, 6).flip(0), [A34]),
}


# The suites below take the `device` fixture: on the CPU they check themselves, on a GPU they check CUDA.
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", sorted(OPS))
def test_device_ops_match_torch(device, op, dtype):
    ours, theirs, arrays = OPS[op]
    compare(ours, theirs, [a.astype(dtype) for a in arrays], device=device)


@pytest.mark.parametrize("dtype", DTYPES)
def test_device_conv_pool_loss_match_torch(device, dtype):
    F, tF = _F(), torch.nn.functional
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(2, 3, 9, 8), (4, 3, 3, 3), (4,)])
    compare(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
            lambda x, w, b: tF.conv2d(x, w, b, stride=2, padding=1), [x, w, b], device=device)
    compare(lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: tF.max_pool2d(x, 3, 2, 1), [x], device=device)
    compare(lambda x: F.max_pool2d(x.relu(), 2), lambda x: tF.max_pool2d(x.relu(), 2), [x], device=device)
    logits, target = rng.standard_normal((5, 4)).astype(dtype), rng.integers(0, 4, 5)
    compare(lambda a, t: F.cross_entropy(a, t), lambda a, t: tF.cross_entropy(a, t), [logits, target],
            device=device)


@needs_cuda
def test_gpu_device_moves_and_errors():
    x = tg.tensor([[1.0, -2.0], [3.0, 4.0]], requires_grad=True)
    y = x.cuda()
    assert y.is_cuda and y.device == tg.device("cuda:0") and y.device.type == "cuda"
    assert y.to("cuda") is y
    (y * y).sum().backward()                      # the gradient comes back through the move
    assert not x.grad.is_cuda
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    with pytest.raises(TypeError, match="cpu"):
        y.detach().numpy()
    with pytest.raises(RuntimeError, match=r"found at least two devices, cuda:0 and cpu!"):
        y + tg.ones(2)
    assert y.sum().item() == 6.0 and y.tolist() == [[1.0, -2.0], [3.0, 4.0]]
    a = tg.zeros(3, device="cuda")
    a.copy_(tg.tensor([1.0, 2.0, 3.0]))           # host -> device copy_
    assert a.cpu().tolist() == [1.0, 2.0, 3.0]


def test_device_seeded_rng_reproducible(device):
    def draw():
        return [t.cpu().numpy() for t in (tg.rand(3, 4, device=device), tg.randn(5, device=device, dtype=tg.float64),
                                          tg.randint(0, 10, (6,), device=device), tg.randperm(7, device=device),
                                          tg.empty(4, device=device).uniform_(-1, 1),
                                          tg.empty(4, device=device).normal_(2, 3))]
    tg.manual_seed(123)
    a = draw()
    tg.manual_seed(123)
    b = draw()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert a[0].dtype == np.float32 and a[1].dtype == np.float64 and a[2].dtype == np.int64
    g1, g2 = tg.Generator(device=device).manual_seed(5), tg.Generator(device=device).manual_seed(5)
    np.testing.assert_array_equal(tg.randn(8, generator=g1, device=device).cpu().numpy(),
                                  tg.randn(8, generator=g2, device=device).cpu().numpy())


@needs_cuda
def test_gpu_cuda_module_answers():
    assert tg.cuda.is_available() and tg.cuda.device_count() >= 1
    assert tg.cuda.current_device() == 0
    assert isinstance(tg.cuda.get_device_name(), str) and tg.cuda.get_device_name(0)
    x = tg.ones(1024, device="cuda")
    tg.cuda.synchronize()
    assert tg.cuda.memory_allocated() >= x.numel() * 4
    assert tg.cuda.memory_reserved() >= tg.cuda.memory_allocated()


def _small_convnets():
    nn, tnn = pytest.importorskip("tinygrad_fer.nn"), torch.nn

    def build(m):
        return m.Sequential(m.Conv2d(3, 8, 3, padding=1), m.BatchNorm2d(8), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(8, 8, 3, padding=1), m.ReLU(), m.Flatten(), m.Linear(8 * 4 * 4, 5))
    torch.manual_seed(0)
    theirs = build(tnn).double()
    ours = build(nn)
    for (_, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        with tg.no_grad():
            p.copy_(tg.tensor(q.detach().numpy()))
    return ours.to(tg.float64), theirs


def test_device_convnet_training_step_matches_torch(device):
    F = _F()
    optim = pytest.importorskip("tinygrad_fer.optim")
    ours, theirs = _small_convnets()
    ours = ours.to(device)
    assert all(p.device == tg.device(device) for p in ours.parameters())
    opt_a = optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(2):
        x, y = rng.standard_normal((4, 3, 8, 8)), rng.integers(0, 5, 4)
        la = F.cross_entropy(ours(tg.tensor(x, device=device)), tg.tensor(y, device=device))
        lb = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y))
        opt_a.zero_grad()
        opt_b.zero_grad()
        la.backward()
        lb.backward()
        np.testing.assert_allclose(la.item(), lb.item(), rtol=1e-7)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert p.grad.device == tg.device(device)
            np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-9)
        opt_a.step()
        opt_b.step()
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9)
    back = ours.to("cpu")
    assert not any(p.is_cuda for p in back.parameters())
