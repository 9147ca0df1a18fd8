"""The CUDA backend. Three parts:

1. Without a GPU (always run): the clear errors when CuPy or a device is missing (simulated either way), the
   cross-device error, tinygrad_fer.cuda's answers.
2. The CUDA C kernels compiled as plain C on the CPU (tests/cuda_emulation.py): PyTorch's tie rule. Their checks
   against the reference kernels are test_kernels.py's, which covers every override of every backend.
3. GPU only (skipped without one): the inherited reference kernels and col2im's determinism through CuPy, an op
   suite against PyTorch on the CPU, a whole convnet step, seeded RNG, Module.to('cuda') with an optimizer step.
"""
import subprocess
import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
from tinygrad_fer import kernels_ref
from tinygrad_fer.autograd import Function
from tinygrad_fer.backend_cuda import backend_cuda
from tinygrad_fer.window import Window2d

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
@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    sh, sw, dh, dw = (draw(st.integers(1, 3)) for _ in range(4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = max(1, (kh - 1) * dh + 1 - 2 * ph) + draw(st.integers(0, 6))
    w = max(1, (kw - 1) * dw + 1 - 2 * pw) + draw(st.integers(0, 6))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    return (n, c, h, w), Window2d(kh, kw, sh, sw, ph, pw, dh, dw)


DTYPES = [np.float32, np.float64]


def test_emulated_max_pool_tie_rule_matches_torch(emulated_cuda):
    # a ReLU output: whole windows of exact zeros, where PyTorch points at the first one
    x = np.maximum(np.random.default_rng(0).standard_normal((2, 3, 7, 7)), 0).astype(np.float32)
    x[0, 0, :3, :3] = 0.0
    out, idx = emulated_cuda.max_pool2d(x, Window2d(3, 3, 2, 2, 1, 1), True)
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
def test_gpu_col2im_is_deterministic(dtype, case, seed):
    # one thread per pixel sums its windows in tap order: the same bits every time, and kernels_ref's
    cp = backend_cuda.xp
    (n, c, h, w), win = case
    g = np.random.default_rng(seed).standard_normal((c, win.kh, win.kw, n) + win.out_size(h, w)).astype(dtype)
    out = backend_cuda.col2im(cp.asarray(g), (n, c, h, w), win)
    np.testing.assert_array_equal(cp.asnumpy(out), kernels_ref.col2im(g, (n, c, h, w), win))
    np.testing.assert_array_equal(cp.asnumpy(backend_cuda.col2im(cp.asarray(g), (n, c, h, w), win)), cp.asnumpy(out))


@needs_cuda
@pytest.mark.parametrize("dtype", DTYPES)
def test_gpu_reference_kernels_through_cupy(dtype):
    # what the CUDA backend inherits (avg-pool, ReLU, the SGD step) runs kernels_ref with CuPy as xp
    cp = backend_cuda.xp
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    for win, rest in [(Window2d(3, 3, 2, 2, 1, 1), (True, False, None)),
                      (Window2d(2, 3, 1, 2, 0, 1), (False, True, 5))]:
        out = backend_cuda.avg_pool2d(cp.asarray(x), win, *rest)
        np.testing.assert_allclose(cp.asnumpy(out), kernels_ref.avg_pool2d(x, win, *rest), rtol=1e-6)
        g = rng.standard_normal(out.shape).astype(dtype)
        gx = backend_cuda.avg_pool2d_backward(cp.asarray(g), x.shape, win, *rest)
        np.testing.assert_allclose(cp.asnumpy(gx), kernels_ref.avg_pool2d_backward(g, x.shape, win, *rest), rtol=1e-6)
    np.testing.assert_array_equal(cp.asnumpy(backend_cuda.relu(cp.asarray(x))), kernels_ref.relu(x))
    w, buf = (rng.standard_normal(5).astype(dtype) for _ in range(2))
    wd, bufd = cp.asarray(w), cp.asarray(buf)
    backend_cuda.sgd_momentum_(wd, cp.asarray(x.ravel()[:5]), bufd, 0.1, 0.9, 0.0, 1e-4, True, False)
    kernels_ref.sgd_momentum_(w, x.ravel()[:5], buf, 0.1, 0.9, 0.0, 1e-4, True, False)
    np.testing.assert_allclose(cp.asnumpy(wd), w, rtol=1e-6)
    np.testing.assert_allclose(cp.asnumpy(bufd), buf, rtol=1e-6)


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
