"""The dtypes in which ops knowingly differ from PyTorch, entry by entry (the registry attaches them as the
`dtypes` deviation), and the reasons those tables and some entries share."""

# Dtypes where we differ from PyTorch today (tests/test_ops.py::test_dtypes_like_torch fails when one is fixed, so
# the list only shrinks). The dtype tables of the tensor-op breadth issue (17) are where they go away.
_BOOL = "accepts bool input, which PyTorch refuses"
_INT = "accepts integer input, which PyTorch refuses"
_NO_INT = "refuses integer input, which PyTorch's CPU kernel computes"
_DTYPE_DEVIATIONS = {
    **{("tg", n): dict(bool=_BOOL) for n in "abs ceil floor round relu argmax argmin".split()},
    **{("F", n): dict(bool=_BOOL, int64=_INT, int32=_INT) for n in "elu leaky_relu softplus silu".split()},
    **{(ns, n): dict(bool=_BOOL, int64=_INT, int32=_INT) for ns in ("tg", "F") for n in ("softmax", "log_softmax")},
    **{("tg", n): dict(bool=_BOOL) for n in "matmul mm bmm dot".split()},
    ("F", "linear"): dict(bool=_BOOL),
    ("tg", "square"): dict(bool="bool input gives bool; PyTorch promotes it to int64"),
    ("tg", "pow"): dict(bool=_BOOL),
    ("F", "logsigmoid"): dict(int64=_INT, int32=_INT),
    ("F", "conv2d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "conv_transpose2d"): dict(int64=_NO_INT),
    ("F", "avg_pool2d"): dict(int64=_NO_INT),
    ("F", "adaptive_max_pool2d"): dict(int64=_INT, int32=_INT),
    # the 1-D ops are the 2-D ones on a plane of height 1: the same dtype rules (PyTorch's 1-D kernels agree)
    ("F", "conv1d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "conv_transpose1d"): dict(int64=_NO_INT),
    ("F", "avg_pool1d"): dict(int64=_NO_INT),
    ("F", "max_pool1d"): dict(int64=_INT, int32=_INT),
    ("F", "adaptive_max_pool1d"): dict(int64=_INT, int32=_INT),
    ("F", "conv3d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "lp_pool3d"): dict(float16="accepts float16 (through avg_pool3d), which PyTorch's CPU kernel refuses"),
    ("F", "conv_transpose3d"): dict(int64=_NO_INT),
    ("F", "max_pool3d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "avg_pool3d"): dict(int64=_NO_INT, float16="accepts float16, which PyTorch's CPU kernel refuses"),
    ("F", "unfold"): dict(bool="refuses bool input, which PyTorch computes"),
    ("F", "fold"): dict(bool="refuses bool input, which PyTorch computes"),
    ("F", "batch_norm"): dict(int64=_INT, int32=_INT),
    ("F", "nll_loss"): dict(int64=_INT, int32=_INT),
    ("F", "multi_margin_loss"): dict(int64=_INT, int32=_INT, float16="accepts float16, which PyTorch's CPU kernel "
                                                                       "refuses"),
}
