"""nn.AdaptiveLogSoftmaxWithLoss against torch.nn's: layout (repr, state_dict), the (output, loss) tuple and every
parameter's and the input's gradient with torch's weights, log_prob, predict in its three branches, unbatched
input, and PyTorch's argument errors."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn

CONFIGS = [  # in_features, n_classes, cutoffs, div_value, head_bias
    (8, 10, [3, 6], 4.0, False),
    (16, 20, [4, 10, 15], 2.0, True),
    (6, 5, [1], 1.5, False),
]


def _pair(config, dt):
    torch.manual_seed(0)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(*config, dtype=getattr(torch, dt))
    with torch.no_grad():   # zero-width tails stay as they are; every other weight gets spread out
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    ours = nn.AdaptiveLogSoftmaxWithLoss(*config, dtype=getattr(tg, dt))
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _tol(dt):
    return dict(rtol=1e-5, atol=1e-5) if dt == "float32" else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS)
def test_forward_loss_and_gradients_match_torch(config, dt):
    ours, theirs = _pair(config, dt)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, config[0])).astype(dt)
    target = rng.integers(0, config[1], 9)
    target[:2] = [0, config[1] - 1]     # the shortlist and the last cluster both present
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = ours(xo, tg.tensor(target)), theirs(xt, torch.tensor(target))
    assert type(got).__name__ == "_ASMoutput" and got._fields == ("output", "loss")
    for g, w in zip(got, want):
        assert g.dtype.name == dt and tuple(g.shape) == tuple(w.shape)
        np.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), **_tol(dt))
    weights = rng.standard_normal(9).astype(dt)    # a non-uniform upstream gradient through both outputs
    (got.loss * 3 + (got.output * tg.tensor(weights)).sum()).backward()
    (want.loss * 3 + (want.output * torch.tensor(weights)).sum()).backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **_tol(dt))
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        if q.numel():
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=name, **_tol(dt))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_targets_only_in_the_shortlist_or_one_cluster_and_int32(dt):
    ours, theirs = _pair(CONFIGS[1], dt)
    x = np.random.default_rng(2).standard_normal((4, 16)).astype(dt)
    for target in ([0, 1, 2, 3], [12, 11, 14, 10], [19, 19, 15, 16]):
        for itype in ("int64", "int32"):
            got = ours(tg.tensor(x), tg.tensor(np.array(target, itype)))
            want = theirs(torch.tensor(x), torch.tensor(np.array(target, itype)))
            np.testing.assert_allclose(got.output.detach().numpy(), want.output.detach().numpy(), **_tol(dt))
            np.testing.assert_allclose(got.loss.item(), want.loss.item(), **_tol(dt))


@pytest.mark.parametrize("dt", ["float32", "float64"])
def test_unbatched_input(dt):
    ours, theirs = _pair(CONFIGS[0], dt)
    x = np.random.default_rng(3).standard_normal(8).astype(dt)
    for t in (1, 7):
        xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        got, want = ours(xo, tg.tensor(t)), theirs(xt, torch.tensor(t))
        assert tuple(got.output.shape) == () == tuple(want.output.shape)
        np.testing.assert_allclose(got.output.item(), want.output.item(), **_tol(dt))
        got.loss.backward()
        want.loss.backward()
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **_tol(dt))


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize("config", CONFIGS)
def test_log_prob_matches_torch_and_sums_to_one(config, dt):
    ours, theirs = _pair(config, dt)
    x = np.random.default_rng(4).standard_normal((7, config[0])).astype(dt)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, want = ours.log_prob(xo), theirs.log_prob(xt)
    assert tuple(got.shape) == (7, config[1]) and got.dtype.name == dt
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), **_tol(dt))
    np.testing.assert_allclose(np.exp(got.detach().numpy()).sum(1), 1.0, rtol=1e-5)
    g = np.random.default_rng(5).standard_normal((7, config[1])).astype(dt)
    (got * tg.tensor(g)).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), **_tol(dt))


def test_predict_in_each_branch():
    """predict takes three paths (all rows in the shortlist, none, some): each equals log_prob's argmax."""
    ours, theirs = _pair(CONFIGS[1], "float64")
    rng = np.random.default_rng(6)
    x = rng.standard_normal((200, 16))
    head = theirs.head(torch.tensor(x)).argmax(1).numpy()
    short, rare = np.flatnonzero(head < 4), np.flatnonzero(head >= 4)
    assert len(short) and len(rare)
    for rows in (short, rare, np.arange(200)):
        got = ours.predict(tg.tensor(x[rows]))
        want = theirs.predict(torch.tensor(x[rows]))
        assert got.dtype.name == "int64"
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(got.numpy(), ours.log_prob(tg.tensor(x[rows])).argmax(1).numpy())


def test_parameters_are_initialised_as_torchs():
    m = nn.AdaptiveLogSoftmaxWithLoss(64, 100, [10, 50], head_bias=True)
    bound = 1 / 8   # kaiming_uniform(a=sqrt(5)) on fan_in 64, as Linear
    assert float(m.head.weight.abs().max()) <= bound and float(m.head.bias.abs().max()) <= bound
    assert tuple(m.tail[1][0].weight.shape) == (4, 64) and tuple(m.tail[1][1].weight.shape) == (50, 4)
    before = m.head.weight.detach().numpy().copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.head.weight.detach().numpy())


def _same_error(make_ours, make_theirs):
    with pytest.raises(Exception) as want:
        make_theirs()
    with pytest.raises(type(want.value)) as got:
        make_ours()
    assert str(got.value) == str(want.value).replace("torch.Size", "tinygrad_fer.Size")


@pytest.mark.parametrize("args", [(8, 10, []), (8, 10, [3, 3]), (8, 10, [6, 3]), (8, 10, [0, 3]),
                                  (8, 10, [3, 10]), (8, 10, [2.5])])
def test_bad_cutoffs_raise_torchs_errors(args):
    _same_error(lambda: nn.AdaptiveLogSoftmaxWithLoss(*args), lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(*args))


@pytest.mark.parametrize("shapes", [((4, 8), [0, 1, 2]), ((2, 4, 8), [0, 1]), ((8,), [0, 1]), ((2, 8), 3),
                                    ((2, 8), [[1, 2], [3, 4]]), ((3, 8), [0, 10, 2]), ((3, 8), [-1, 0, 2]),
                                    ((2, 8), [0.0, 1.0])])
def test_bad_inputs_raise_torchs_errors(shapes):
    ours, theirs = _pair(CONFIGS[0], "float32")
    shape, target = shapes
    x = np.zeros(shape, np.float32)
    _same_error(lambda: ours(tg.tensor(x), tg.tensor(target)), lambda: theirs(torch.tensor(x), torch.tensor(target)))
