"""nn.utils.parametrize, parametrizations.weight_norm and the hook-based weight_norm / remove_weight_norm against
PyTorch's: parameter names, state_dict keys, reprs, class swap and restore, values and gradients of g and v."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn


def _run(lib, m, x):
    xt = lib.tensor(x, requires_grad=True)
    y = m(xt)
    (y * lib.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))).sum().backward()
    return [y.detach().numpy(), xt.grad.numpy()] + [p.grad.numpy() for p in m.parameters()]


@pytest.mark.parametrize("make,shape,dim", [
    (lambda lib: lib.nn.Linear(3, 4), (2, 3), 0),
    (lambda lib: lib.nn.Linear(3, 4), (2, 3), 1),
    (lambda lib: lib.nn.Conv2d(2, 3, 3), (1, 2, 5, 5), 0),
    (lambda lib: lib.nn.Conv2d(2, 3, 3), (1, 2, 5, 5), None),
])
def test_parametrized_weight_norm_like_torch(make, shape, dim):
    theirs = torch.nn.utils.parametrizations.weight_norm(make(torch).double(), dim=dim)
    ours = nn.utils.parametrizations.weight_norm(make(tg).double(), dim=dim)
    assert repr(ours) == repr(theirs) and type(ours).__name__ == type(theirs).__name__
    assert isinstance(ours, type(make(tg)))
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    # right_inverse: g is the weight's norm, v the weight, so the weight is unchanged
    np.testing.assert_allclose(ours.weight.detach().numpy(), ours.parametrizations.weight.original1.detach().numpy(),
                               rtol=1e-12)
    ours.load_state_dict({k: tg.tensor(np.asarray(v.numpy() * (1.5 if "original0" in k else 1))) for k, v in
                          theirs.state_dict().items()})
    with torch.no_grad():
        theirs.parametrizations.weight.original0.mul_(1.5)
    x = np.random.default_rng(0).standard_normal(shape)
    for a, b in zip(_run(tg, ours, x), _run(torch, theirs, x)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for lib, m in ((tg, ours), (torch, theirs)):
        lib.nn.utils.parametrize.remove_parametrizations(m, "weight")
    assert repr(ours) == repr(theirs) and type(ours) is type(make(tg))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-10)


def test_parametrize_register_assign_cache_and_errors():
    class Symmetric(nn.Module):
        def forward(self, X):
            return X.triu() + X.triu(1).transpose(-1, -2)

        def right_inverse(self, A):
            return A.triu()

    m = nn.Linear(3, 3)
    nn.utils.parametrize.register_parametrization(m, "weight", Symmetric())
    assert nn.utils.parametrize.is_parametrized(m, "weight") and not nn.utils.parametrize.is_parametrized(m, "bias")
    w = m.weight.detach().numpy()
    np.testing.assert_array_equal(w, w.T)
    sym = np.array([[1.0, 2, 3], [2, 4, 5], [3, 5, 6]])
    m.weight = tg.tensor(sym, dtype=tg.float32)                # assigning goes through right_inverse
    np.testing.assert_array_equal(m.weight.detach().numpy(), sym)
    with nn.utils.parametrize.cached():
        assert m.weight is m.weight
    assert m.weight is not m.weight
    assert nn.utils.parametrize.type_before_parametrizations(m) is nn.Linear
    for lib in (tg, torch):
        lin = lib.nn.Linear(2, 2)
        with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with "
                                             "name 'nope'"):
            lib.nn.utils.parametrize.register_parametrization(lin, "nope", lib.nn.Identity())
        with pytest.raises(ValueError, match="does not have a parametrization on weight"):
            lib.nn.utils.parametrize.remove_parametrizations(lin, "weight")


def test_hook_based_weight_norm_like_torch():
    res = []
    for lib in (tg, torch):
        with pytest.warns(FutureWarning, match="weight_norm` is deprecated"):
            m = lib.nn.utils.weight_norm(lib.nn.Linear(3, 4).double())
        assert [n for n, _ in m.named_parameters()] == ["bias", "weight_g", "weight_v"]
        assert tuple(m.weight_g.shape) == (4, 1)
        with lib.no_grad():
            m.weight_v.copy_(lib.tensor(np.arange(12.0).reshape(4, 3) - 5))
            m.weight_g.copy_(lib.tensor([[1.0], [2.0], [0.5], [3.0]]))
            m.bias.zero_()
        res.append(_run(lib, m, np.random.default_rng(0).standard_normal((2, 3))))
        lib.nn.utils.remove_weight_norm(m)
        assert [n for n, _ in m.named_parameters()] == ["bias", "weight"]
        res[-1].append(m.weight.detach().numpy())
        with pytest.raises(ValueError, match="weight_norm of 'weight' not found in"):
            lib.nn.utils.remove_weight_norm(m)
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tuple(nn.utils.weight_norm(nn.Conv2d(2, 3, 3), dim=None).weight_g.shape) == ()
