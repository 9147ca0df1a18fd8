"""Where ops live (issue 15): every Function subclass is in ops/, nn.functional re-exports the primitives and composes
the rest, activations with parameters are rows of the unary factory, and the ops' own `inplace` flags work."""
import ast
import pathlib

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer.nn import functional as F
from tinygrad_fer.ops import elementwise as ew

PKG = pathlib.Path(tg.__file__).parent


def test_every_function_subclass_lives_in_ops():
    outside = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("ops", "testing") or rel.name == "autograd.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).split(".")[-1] == "Function"
                                                      for b in node.bases):
                outside.append(f"{rel}:{node.name}")
    assert outside == []


@pytest.mark.parametrize("name", ["nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "batch_norm", "leaky_relu", "elu", "softplus", "sigmoid", "tanh", "conv2d",
                                  "max_pool2d", "linear", "pad"])
def test_functional_reexports_the_ops(name):
    fn = getattr(F, name)
    assert fn.__module__.startswith("tinygrad_fer.ops."), fn.__module__


@pytest.mark.parametrize("name,params", [("leaky_relu", (0.2,)), ("elu", (0.7,))])
def test_ops_activations_honour_inplace(name, params):
    x = tg.tensor([-2.0, -0.5, 0.0, 1.5])
    expect = getattr(torch.nn.functional, name)(torch.tensor(x.numpy()), *params).numpy()
    view = x[1:]
    out = getattr(ew, name)(x, *params, inplace=True)
    assert out is x
    np.testing.assert_allclose(x.numpy(), expect, rtol=1e-6)
    np.testing.assert_allclose(view.numpy(), expect[1:], rtol=1e-6)    # written through x's memory


def test_parametrised_activations_are_factory_rows():
    # one Function class per op from the unary factory; its parameters reach forward and backward
    for op, cls_name in ((ew._leaky_relu, "LeakyRelu"), (ew._elu, "Elu"), (ew._softplus, "Softplus"),
                         (ew.relu, "Relu"), (ew.exp, "Exp")):
        assert op.function.__name__ == cls_name
        assert op.function.forward.__qualname__ == ew.relu.function.forward.__qualname__
    x = tg.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    y = ew.softplus(x, 2.0, 1.0)
    assert type(y.grad_fn).__name__ == "Softplus"
    y.sum().backward()
    xt = torch.tensor([-1.0, 0.5, 3.0], requires_grad=True)
    torch.nn.functional.softplus(xt, 2.0, 1.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
