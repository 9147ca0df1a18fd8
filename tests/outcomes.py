"""The same outcome as PyTorch for the same code: the same exception (exact type, and message), or the same result
(shape, dtype, and the very values, NaNs and the signs of zeros included)."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg


def same_values(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape), f"shape {tuple(ours.shape)} != torch {tuple(theirs.shape)}"
    assert ours.dtype.name == str(theirs.dtype).split(".")[1], f"dtype {ours.dtype} != torch {theirs.dtype}"
    o, t = ours.detach().numpy(), theirs.detach().numpy()
    np.testing.assert_array_equal(o, t)  # NaN matches NaN
    if o.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(o[~np.isnan(o)]), np.signbit(t[~np.isnan(t)]), "signs of zeros")


def same_outcome(make, message=True):
    """make(module) runs one piece of code against tinygrad_fer and against torch; message=False compares only the
    exception's type (for messages that name dtypes in each library's own spelling)."""
    try:
        theirs = make(torch)
    except Exception as e:
        with pytest.raises(Exception) as ours:
            make(tg)
        assert type(ours.value) is type(e), f"we raised {type(ours.value).__name__}: {ours.value}; torch raised " \
                                            f"{type(e).__name__}: {e}"
        if message:
            assert str(ours.value) == str(e)
        return ours.value
    same_values(make(tg), theirs)
