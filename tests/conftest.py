import os

os.environ.setdefault("NUMBA_NUM_THREADS", "2")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.filter_too_much])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# ---- devices: tests that take the `device` fixture run on the CPU and, where CuPy sees a GPU, on CUDA -------------
import pytest  # noqa: E402

devices = ["cpu", "cuda"]


def cuda_skip_reason():
    """None when the CUDA backend can run, else why not (CuPy missing, or no GPU/driver)."""
    from tinygrad_fer.backend_cuda import backend_cuda
    return None if backend_cuda.available() else backend_cuda._probe()[1]


@pytest.fixture(params=devices)
def device(request):
    if request.param == "cuda" and cuda_skip_reason() is not None:
        pytest.skip(cuda_skip_reason())
    return request.param


@pytest.fixture(scope="session")
def emulated_cuda(tmp_path_factory):
    """A CUDABackend running its CUDA C on the CPU over NumPy arrays (tests/cuda_emulation.py)."""
    import cuda_emulation
    if cuda_emulation.compiler() is None:
        pytest.skip("no C compiler to emulate the CUDA kernels on the CPU")
    return cuda_emulation.emulated_backend(tmp_path_factory.mktemp("cuda_emulation"))
