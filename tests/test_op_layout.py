"""Where ops live (issue 15): every Function subclass is in ops/, nn.functional re-exports the primitives and composes
the rest, activations with parameters are rows of the unary factory, and the ops' own `inplace` flags work."""
import ast
import pathlib

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer.nn import functional as F
from tinygrad_fer.ops import activation_core as act, elementwise as ew

PKG = pathlib.Path(tg.__file__).parent


def test_every_function_subclass_lives_in_ops():
    outside = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] in ("ops", "testing", "autograd"):
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
    for op, cls_name in ((act._leaky_relu, "LeakyRelu"), (act._elu, "Elu"), (act._softplus, "Softplus"),
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


def test_conv_module_same_padding_is_the_functional_path():
    # nn.Conv2d(padding='same') hands the string to F.conv2d: one Conv2d node on the input; when the total padding
    # is odd (even kernel) the extra row/column goes at the bottom/right through a pad node before it (so a gradient
    # taken with create_graph differentiates through the padding too)
    torch.manual_seed(0)
    for k, d in ((4, 1), (3, 2), (2, 3)):
        ours = tg.nn.Conv2d(2, 3, k, padding="same", dilation=d)
        theirs = torch.nn.Conv2d(2, 3, k, padding="same", dilation=d)
        theirs.load_state_dict({n: torch.tensor(v.numpy()) for n, v in ours.state_dict().items()})
        x = np.random.default_rng(k).standard_normal((2, 2, 7, 6)).astype(np.float32)
        xt = tg.tensor(x, requires_grad=True)
        out = ours(xt)
        odd = d * (k - 1) % 2 == 1
        src = out.grad_fn.edges[0]
        assert type(out.grad_fn).__name__ == "Conv2d" and (src.edges[0] if odd else src) is xt
        np.testing.assert_allclose(out.detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("name,batched", [
    ("conv2d", lambda tg_: (tg_.randn(1, 2, 6, 5), tg_.randn(3, 2, 3, 3))),
    ("conv_transpose2d", lambda tg_: (tg_.randn(1, 2, 4, 5), tg_.randn(2, 3, 3, 3))),
    ("unfold", lambda tg_: (tg_.randn(1, 2, 5, 5), 3)),
    ("fold", lambda tg_: (tg_.randn(1, 8, 9), (4, 4), 2)),
    ("max_pool2d", lambda tg_: (tg_.randn(1, 2, 6, 5), 2)),
    ("avg_pool2d", lambda tg_: (tg_.randn(1, 2, 6, 5), 3, 2, 1)),
    ("adaptive_max_pool2d", lambda tg_: (tg_.randn(1, 2, 7, 5), (3, 2))),
])
def test_unbatched_inputs_run_as_a_batch_of_one(name, batched):
    # the one helper (ops/unbatched.py) on every Function that takes a batch: same values and gradients as the
    # batch of one, and the batch axis gone from outputs and gradient
    tg.manual_seed(3)
    x, *rest = batched(tg)
    fn = getattr(F, name)
    xb = x.detach().requires_grad_()
    x1 = x[0].detach().requires_grad_()
    out_b, out_1 = fn(xb, *rest), fn(x1, *rest)
    assert tuple(out_1.shape) == tuple(out_b.shape[1:])
    np.testing.assert_array_equal(out_1.detach().numpy(), out_b.detach().numpy()[0])
    g = np.random.default_rng(0).standard_normal(tuple(out_1.shape)).astype(np.float32)
    out_b.backward(tg.tensor(g[None]))
    out_1.backward(tg.tensor(g))
    assert tuple(x1.grad.shape) == tuple(x1.shape)
    np.testing.assert_array_equal(x1.grad.numpy(), xb.grad.numpy()[0])
    fn_cls = type(out_1.grad_fn)
    src = pathlib.Path(__import__(fn_cls.__module__, fromlist=["_"]).__file__).read_text()
    assert "x[None]" not in src and "grad[None]" not in src      # no Function repeats the helper's work
