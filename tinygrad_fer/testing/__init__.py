"""Tools for testing code written with tinygrad_fer, the ones the project's own tests use (torch.testing's role).

    assert_close(actual, expected)   values equal within dtype-aware tolerances, or a message naming the worst element
    make_tensor(*shape, dtype=...)   a random tensor in a range, optionally non-contiguous
    gradcheck(func, inputs)          a backward rule (a custom Function's, say) against central differences
    gradgradcheck(func, inputs)      second derivatives (gradcheck of the gradients taken with create_graph=True)

Hypothesis strategies (shapes, broadcastable shapes, tensors, convolution geometries) are in
`tinygrad_fer.testing.strategies`, which needs Hypothesis installed; this module does not.
"""
from ._compare import assert_close
from ._gradcheck import GradcheckError, gradcheck, gradgradcheck
from ._make import make_tensor

__all__ = ["assert_close", "make_tensor", "gradcheck", "gradgradcheck", "GradcheckError"]
