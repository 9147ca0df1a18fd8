"""The loss modules of ops/loss_extra.py against torch.nn's: options, repr, every reduction (and the legacy
size_average/reduce pair), values and input gradients, and the errors and warnings PyTorch gives. (The functional
forms' values, gradients and second derivatives are checked from the op registry by tests/test_ops.py.)"""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn

R = np.random.default_rng(0)
X, Y = R.standard_normal((4, 3)), R.standard_normal((4, 3))
SIGN = np.where(R.random((4, 3)) < 0.5, -1.0, 1.0)
PROB = R.uniform(0.05, 1.0, (4, 3))
BITS = (R.random((4, 3)) < 0.5).astype(np.float64)
ROWSIGN = np.array([1.0, -1.0, -1.0, 1.0])

CASES = [  # module name, constructor keywords, inputs (float arrays are differentiated except the labels)
    ("SmoothL1Loss", dict(beta=0.5), (X, Y)),
    ("SmoothL1Loss", dict(beta=0.0), (X, Y)),
    ("HuberLoss", dict(delta=0.7), (X, Y)),
    ("KLDivLoss", dict(reduction="batchmean"), (X, PROB)),
    ("KLDivLoss", dict(log_target=True), (X, Y)),
    ("SoftMarginLoss", {}, (X, SIGN)),
    ("MultiLabelSoftMarginLoss", {}, (X, BITS)),
    ("HingeEmbeddingLoss", dict(margin=0.5), (X, SIGN)),
    ("MarginRankingLoss", dict(margin=0.2), (X, Y, SIGN)),
    ("CosineEmbeddingLoss", dict(margin=0.1), (X, Y, ROWSIGN)),
    ("TripletMarginLoss", dict(margin=0.5, p=1.0, swap=True), (X, Y, PROB)),
    ("TripletMarginLoss", {}, (X, Y, PROB)),
    ("PoissonNLLLoss", dict(full=True), (X, PROB * 3)),
    ("PoissonNLLLoss", dict(log_input=False, eps=1e-4), (PROB, Y * Y)),
    ("GaussianNLLLoss", dict(full=True), (X, Y, PROB)),
    ("GaussianNLLLoss", dict(eps=0.1), (X, Y, PROB[:, 0])),
    ("MultiLabelMarginLoss", {}, (X, np.array([[2, 0, -1], [1, 1, 2], [-1, 0, 1], [0, 1, 2]]))),
]
LABELS = {"SoftMarginLoss": 1, "HingeEmbeddingLoss": 1, "MultiLabelSoftMarginLoss": 1, "MarginRankingLoss": 2,
          "CosineEmbeddingLoss": 2}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "legacy"])
@pytest.mark.parametrize("name,kw,arrays", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_loss_module_like_torch(name, kw, arrays, reduction):
    if reduction == "legacy":    # size_average=False -> sum, where the module takes the pair
        extra = {} if name in ("HuberLoss", "GaussianNLLLoss") else dict(size_average=False)
    else:
        extra = {} if "reduction" in kw else dict(reduction=reduction)
    ours, theirs = getattr(nn, name)(**kw, **extra), getattr(torch.nn, name)(**kw, **extra)
    assert repr(ours) == repr(theirs) and ours.reduction == theirs.reduction
    for k in kw:
        assert getattr(ours, k if k != "p" else "p") == getattr(theirs, k)
    label = LABELS.get(name)
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        ts = [lib.tensor(a, requires_grad=i != label and a.dtype.kind == "f") for i, a in enumerate(arrays)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # KLDivLoss's 'mean' warns (tested below)
            out = m(*ts)
        g = np.random.default_rng(1).standard_normal(tuple(out.shape))
        (out * lib.tensor(g)).sum().backward()
        res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts if t.grad is not None])
    assert len(res[0]) == len(res[1])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gaussian_nll_loss_var_forms_and_errors():
    for lib in (tg, torch):
        F = lib.nn.functional
        x, y = lib.tensor(X), lib.tensor(Y)
        # a float var is one shared variance; below eps it is clamped (without touching var's gradient)
        np.testing.assert_allclose(F.gaussian_nll_loss(x, y, 0.25).numpy(),
                                   np.mean(0.5 * (np.log(0.25) + (X - Y) ** 2 / 0.25)), rtol=1e-12)
        v = lib.tensor(np.full((4, 1), 1e-9), requires_grad=True)
        F.gaussian_nll_loss(x, y, v, reduction="sum").backward()
        np.testing.assert_allclose(v.grad.numpy()[:, 0], (0.5 / 1e-6 - 0.5 * (X - Y) ** 2 / 1e-12).sum(1),
                                   rtol=1e-6)
        with pytest.raises(ValueError, match="var has negative entry/entries"):
            F.gaussian_nll_loss(x, y, lib.tensor(-PROB))
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(x, y, lib.ones((4, 2)))
        with pytest.raises(ValueError, match="bogus is not valid"):
            F.gaussian_nll_loss(x, y, lib.ones((4, 3)), reduction="bogus")


def test_loss_errors_and_warnings_like_torch():
    for lib in (tg, torch):
        F, x, y = lib.nn.functional, lib.tensor(X), lib.tensor(Y)
        with pytest.raises(RuntimeError, match="smooth_l1_loss does not support negative values for beta"):
            F.smooth_l1_loss(x, y, beta=-1.0)
        with pytest.raises(RuntimeError, match="huber_loss does not support non-positive values for delta"):
            F.huber_loss(x, y, delta=0.0)
        with pytest.raises(ValueError, match="Weights and input must have the same size"):
            F.huber_loss(x, y, weight=lib.ones(3))
        with pytest.warns(UserWarning, match="Using a target size"):
            F.smooth_l1_loss(x, lib.tensor(Y[:1]))
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F.kl_div(x, lib.tensor(PROB))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            F.kl_div(x, lib.tensor(PROB), reduction="batchmean")
        with pytest.raises(RuntimeError, match="kl_div: Integral inputs not supported"):
            F.kl_div(lib.tensor([1, 2]), lib.tensor([1, 2]), reduction="sum")
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
            F.soft_margin_loss(x, lib.tensor(SIGN, requires_grad=True))
        with pytest.raises(RuntimeError, match="margin_ranking_loss : All input tensors should have same "
                                               "dimension"):
            F.margin_ranking_loss(x, y, lib.tensor(ROWSIGN))
        with pytest.raises(RuntimeError, match="1D target tensor expects 2D input tensors"):
            F.cosine_embedding_loss(lib.tensor(X[0]), lib.tensor(Y[0]), lib.tensor(ROWSIGN))
        with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
            F.cosine_embedding_loss(x, y, lib.tensor(SIGN))
        with pytest.raises(RuntimeError, match="The anchor, positive, and negative tensors are expected to have "
                                               "the same number of dimensions"):
            F.triplet_margin_loss(x, y, lib.tensor(X[0]))
        with pytest.raises(ValueError, match="margin must be greater than 0, got -1"):
            F.triplet_margin_loss(x, y, x, margin=-1)
        with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0"):
            lib.nn.TripletMarginLoss(margin=0)


def test_unbatched_and_integer_forms_like_torch():
    for fn, args in (("cosine_embedding_loss", (X[0], Y[0], np.array(-1.0))),
                     ("triplet_margin_loss", (X[0], Y[0], PROB[0])),
                     ("pairwise_distance", (X, Y[0])),
                     ("hinge_embedding_loss", (np.array([[1, 2], [0, -1]]), np.array([[1, -1], [1, -1]])))):
        kw = dict(reduction="none", margin=0.5) if fn == "hinge_embedding_loss" else {}
        got = getattr(nn.functional, fn)(*[tg.tensor(a) for a in args], **kw)
        want = getattr(torch.nn.functional, fn)(*[torch.tensor(a) for a in args], **kw)
        assert got.dtype.name == str(want.dtype).split(".")[-1]
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_multilabel_margin_loss_errors_like_torch():
    for lib in (tg, torch):
        f = lib.nn.functional.multilabel_margin_loss
        with pytest.raises(RuntimeError, match="argument #2 'target' is out of range"):
            f(lib.tensor(X[:2]), lib.tensor([[0, 5, -1], [1, -1, 0]]))
        with pytest.raises(RuntimeError, match=r"inconsistent target size: \[2, 2\] for input of size: \[2, 3\]"):
            f(lib.tensor(X[:2]), lib.tensor([[0, 1], [1, -1]]))
        with pytest.raises(RuntimeError, match="expected scalar type Long but found Float"):
            f(lib.tensor(X[:2], dtype=lib.float32), lib.tensor(X[:2], dtype=lib.float32))
        with pytest.raises(RuntimeError, match="Expected non-empty vector or matrix with optional 0-dim batch size"):
            f(lib.zeros((2, 3, 2)), lib.zeros((2, 3, 2), dtype=lib.int64))


def test_cosine_similarity_module_and_small_norms():
    """Norms below eps are floored outside autograd: PyTorch's value and gradient there."""
    ours, theirs = nn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6)
    assert repr(ours) == repr(theirs) and (ours.dim, ours.eps) == (theirs.dim, theirs.eps)
    a, b = np.array([[1e-8, 1.0], [0.0, 2.0]]), np.array([[1.0, 1.0], [1.0, 0.0]])
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        x = lib.tensor(a, requires_grad=True)
        out = m(x, lib.tensor(b))
        out.sum().backward()
        res.append((out.detach().numpy(), x.grad.numpy()))
    for u, v in zip(*res):
        np.testing.assert_allclose(u, v, rtol=1e-10)


def test_pairwise_distance_module():
    ours, theirs = nn.PairwiseDistance(p=3.0, keepdim=True), torch.nn.PairwiseDistance(p=3.0, keepdim=True)
    assert repr(ours) == repr(theirs) and (ours.norm, ours.eps, ours.keepdim) == (theirs.norm, theirs.eps, True)
    np.testing.assert_allclose(ours(tg.tensor(X), tg.tensor(Y)).numpy(),
                               theirs(torch.tensor(X), torch.tensor(Y)).numpy(), rtol=1e-12)


def test_triplet_margin_with_distance_loss_and_nll_loss_2d_like_torch():
    ours, theirs = nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True), \
        torch.nn.TripletMarginWithDistanceLoss(margin=0.5, swap=True)
    assert repr(ours) == repr(theirs)
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        ts = [lib.tensor(a, requires_grad=True) for a in (X, Y, PROB)]
        out = m(*ts)
        out.backward()
        res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
        cos = lib.nn.TripletMarginWithDistanceLoss(
            distance_function=lambda a, b: 1 - lib.nn.functional.cosine_similarity(a, b), reduction="none")
        res[-1].append(cos(*(lib.tensor(a) for a in (X, Y, PROB))).numpy())
        with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
            lib.nn.functional.triplet_margin_with_distance_loss(ts[0], ts[1], ts[2], margin=0)
        with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated"):
            m2 = lib.nn.NLLLoss2d()
        res[-1].append(m2(lib.tensor(X).log_softmax(1).reshape(4, 3, 1, 1),
                          lib.tensor(np.array([[[0]], [[2]], [[1]], [[1]]]))).numpy())
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_ctc_loss_module_through_log_softmax_like_torch():
    """CTCLoss on log_softmax outputs: values and logits' gradients as PyTorch's, and that gradient is the true
    derivative (central differences); concatenated and padded targets agree; impossible alignments give inf or,
    with zero_infinity, zero."""
    r = np.random.default_rng(0)
    logits = r.standard_normal((6, 3, 5))
    padded = np.array([[1, 2, 2], [3, 4, 0], [2, 0, 0]])
    il, tl = [6, 5, 4], [3, 2, 1]
    res = []
    for lib in (tg, torch):
        m = lib.nn.CTCLoss(blank=0, zero_infinity=False)
        assert repr(m) == "CTCLoss()" and m.blank == 0 and m.reduction == "mean"
        x = lib.tensor(logits, requires_grad=True)
        loss = m(x.log_softmax(2), lib.tensor(padded), lib.tensor(il), lib.tensor(tl))
        loss.backward()
        cat = lib.nn.functional.ctc_loss(x.detach().log_softmax(2), lib.tensor([1, 2, 2, 3, 4, 2]), il, tl,
                                         reduction="none")
        impossible = lib.nn.functional.ctc_loss(x.detach().log_softmax(2), lib.tensor([[1, 1, 1]] * 3), [4, 4, 4],
                                                [3, 3, 3], reduction="none")
        zeroed = lib.nn.CTCLoss(zero_infinity=True, reduction="sum")(
            x.detach().log_softmax(2), lib.tensor([[1, 1, 1]] * 3), [4, 6, 4], [3, 3, 3])
        res.append([loss.detach().numpy(), x.grad.numpy(), cat.numpy(), impossible.numpy(), zeroed.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert np.isinf(res[0][3]).all()
    xt = tg.tensor(logits, requires_grad=True)
    assert tg.autograd.gradcheck(lambda z: nn.functional.ctc_loss(z.log_softmax(2), tg.tensor(padded), il, tl), [xt])
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="blank must be in label range"):
            lib.nn.functional.ctc_loss(lib.zeros((3, 1, 3)), lib.tensor([[1]]), [3], [1], blank=3)
        with pytest.raises(RuntimeError, match="Expected input_lengths to have value at most 3, but got value 4"):
            lib.nn.functional.ctc_loss(lib.zeros((3, 1, 3)), lib.tensor([[1]]), [4], [1])
