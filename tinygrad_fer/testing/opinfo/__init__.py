"""The op registry: one entry per public op, from which the op tests are generated (the idea of PyTorch's OpInfo).

An entry names the op (function, Tensor method, in-place variant, aliases, nn module), its PyTorch counterpart, a
sample generator, the dtypes it is compared in, whether it is differentiable, its tolerance scale and any known
deviation from PyTorch with the reason. tests/test_ops.py runs every entry through the same checks: values, dtype
and every gradient against PyTorch under a random upstream gradient, non-contiguous inputs, a float64 numeric
gradcheck, the method and in-place spellings, and each dtype (same result as PyTorch, or both raise).

A sample generator is `sample(draw, dtype) -> Sample(args, kwargs)`: args are NumPy arrays (made tensors: float
ones are differentiated) or plain values, and `draw` gives random choices (Hypothesis in the property tests, a
seeded NumPy generator for gradcheck), so one generator serves both.

Where it lives: `entry.py` (OpInfo), `draw.py` (Sample and the Draw sources), `samples.py` (the shared sample
generators), one module of entries per op family (`elementwise`, `reductions`, `search`, `shape`, `linalg`,
`index_write`, `activations`, `nn`, `conv_pool`, `bitwise_positions`), `deviations.py` (dtype deviations),
`registry.py` (the assembled REGISTRY and OPS) and `docs_table.py` (docs/07's generated table).
"""
from .docs_table import DOCS_MARKERS, markdown_table, write_docs_table
from .draw import F32, F64, FLOATS, Draw, HypothesisDraw, RngDraw, Sample
from .entry import OpInfo
from .registry import INPLACE_FUNCTIONS, METHOD_ALIASES, NOT_OP_METHODS, NOT_OPS, OPS, REGISTRY
from .samples import binary, conv_sample, image, loss_sample, pool_sample, reduction, unary

__all__ = ["OpInfo", "Sample", "Draw", "RngDraw", "HypothesisDraw", "F32", "F64", "FLOATS", "unary", "binary",
           "reduction", "image", "conv_sample", "pool_sample", "loss_sample", "REGISTRY", "OPS", "NOT_OPS",
           "METHOD_ALIASES", "INPLACE_FUNCTIONS", "NOT_OP_METHODS", "markdown_table", "DOCS_MARKERS",
           "write_docs_table"]
