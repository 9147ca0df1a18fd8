"""torch.set_num_threads / get_num_threads over the engine's parallel kernels (Numba's thread pool).

Numba sizes its pool once, when it starts (NUMBA_NUM_THREADS, by default the number of cores): a larger request
is capped there, and get_num_threads() reports the number actually in use. As with Numba, the setting belongs to
the calling thread. Numba is imported on first call: importing the package must not load it (tests/test_jit.py)."""


def set_num_threads(n):
    import numba
    if isinstance(n, bool) or not isinstance(n, int):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def get_num_threads():
    import numba
    return numba.get_num_threads()
