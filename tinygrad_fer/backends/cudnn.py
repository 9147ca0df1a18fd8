"""torch.backends.cudnn's flags. The engine does not call cuDNN (convolutions are im2col + GEMM, on CuPy too), so
is_available() is False and the flags, settable as in PyTorch, only record what the script asked for."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
