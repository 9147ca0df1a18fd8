"""torch.optim.swa_utils against PyTorch: AveragedModel (SWA, EMA, custom averages, buffers), update_bn, SWALR."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tf
from tinygrad_fer.optim import swa_utils as swa
from tinygrad_fer.optim.swa_utils import SWALR, AveragedModel, update_bn

TSWA = torch.optim.swa_utils


def _pair(seed=0):
    """The same small net (Linear, BatchNorm1d, Linear) in both libraries."""
    ours = tf.nn.Sequential(tf.nn.Linear(3, 4), tf.nn.BatchNorm1d(4), tf.nn.ReLU(), tf.nn.Linear(4, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2)).double()
    rng = np.random.default_rng(seed)
    _set(ours, theirs, rng)
    return ours, theirs


def _set(ours, theirs, rng):
    with torch.no_grad(), tf.no_grad():
        for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values()):
            if "num_batches" in name:
                continue
            a = rng.standard_normal(q.shape) if "var" not in name else rng.random(q.shape) + 0.5
            p.copy_(tf.tensor(a))
            q.copy_(torch.tensor(a))


def _assert_same(ours, theirs, rtol=1e-12):
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b)
    for k in b:
        np.testing.assert_allclose(a[k].detach().numpy(), b[k].detach().numpy(), rtol=rtol, atol=1e-14, err_msg=k)


@pytest.mark.parametrize("kind", ["swa", "ema", "ema-fn", "custom", "buffers"])
def test_averaged_model_matches_torch(kind):
    ours, theirs = _pair()
    kw_o, kw_t = {}, {}
    if kind == "ema":
        kw_o, kw_t = dict(multi_avg_fn=swa.get_ema_multi_avg_fn(0.9)), dict(multi_avg_fn=TSWA.get_ema_multi_avg_fn(0.9))
    elif kind == "ema-fn":
        kw_o, kw_t = dict(avg_fn=swa.get_ema_avg_fn(0.8)), dict(avg_fn=TSWA.get_ema_avg_fn(0.8))
    elif kind == "custom":
        kw_o = kw_t = dict(avg_fn=lambda avg, p, n: avg * 0.5 + p * 0.5)
    elif kind == "buffers":
        kw_o = kw_t = dict(use_buffers=True)
    ao, at = AveragedModel(ours, **kw_o), TSWA.AveragedModel(theirs, **kw_t)
    _assert_same(ao, at)
    rng = np.random.default_rng(1)
    for _ in range(5):
        _set(ours, theirs, rng)
        ao.update_parameters(ours)
        at.update_parameters(theirs)
        _assert_same(ao, at)
    assert int(ao.n_averaged.item()) == 5
    x = np.random.default_rng(2).standard_normal((6, 3))
    ao.eval(), at.eval()
    np.testing.assert_allclose(ao(tf.tensor(x)).detach().numpy(), at(torch.tensor(x)).detach().numpy(), rtol=1e-12)


def test_swa_multi_avg_fn_matches_torch():
    ours, theirs = _pair()
    ao = AveragedModel(ours, multi_avg_fn=swa.get_swa_multi_avg_fn())
    at = TSWA.AveragedModel(theirs, multi_avg_fn=TSWA.get_swa_multi_avg_fn())
    rng = np.random.default_rng(3)
    for _ in range(4):
        _set(ours, theirs, rng)
        ao.update_parameters(ours)
        at.update_parameters(theirs)
    _assert_same(ao, at, rtol=1e-12)


def test_update_bn_matches_torch():
    ours, theirs = _pair()
    x = np.random.default_rng(4).standard_normal((20, 3)) * 2 + 1
    loader_o = tf.data.DataLoader(tf.data.TensorDataset(tf.tensor(x), tf.tensor(np.zeros(20))), batch_size=6)
    loader_t = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.zeros(20)),
                                           batch_size=6)
    ours.eval(), theirs.eval()
    update_bn(loader_o, ours)
    TSWA.update_bn(loader_t, theirs)
    _assert_same(ours, theirs, rtol=1e-10)
    assert ours[1].momentum == theirs[1].momentum == 0.1 and ours.training is theirs.training is False


@pytest.mark.parametrize("kw", [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=3, anneal_strategy="linear"),
                                dict(swa_lr=0.5, anneal_epochs=0)])
def test_swalr_matches_torch(kw):
    ps_o, ps_t = [tf.zeros(2, requires_grad=True) for _ in range(2)], [torch.zeros(2, requires_grad=True)
                                                                     for _ in range(2)]
    o = tf.optim.SGD([{"params": ps_o[:1]}, {"params": ps_o[1:], "lr": 0.3}], lr=0.1)
    t = torch.optim.SGD([{"params": ps_t[:1]}, {"params": ps_t[1:], "lr": 0.3}], lr=0.1)
    so, st = SWALR(o, **kw), TSWA.SWALR(t, **kw)
    assert so.get_last_lr() == st.get_last_lr()
    for _ in range(15):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr()
    assert set(so.state_dict()) == set(st.state_dict()) - {"_get_lr_called_within_step"}


def test_errors_match_torch():
    ours, theirs = _pair()
    o, t = tf.optim.SGD(ours.parameters(), lr=0.1), torch.optim.SGD(theirs.parameters(), lr=0.1)
    for f_o, f_t in [(lambda: swa.get_ema_avg_fn(1.5), lambda: TSWA.get_ema_avg_fn(1.5)),
                     (lambda: SWALR(o, 0.1, anneal_strategy="exp"), lambda: TSWA.SWALR(t, 0.1, anneal_strategy="exp")),
                     (lambda: SWALR(o, 0.1, anneal_epochs=-1), lambda: TSWA.SWALR(t, 0.1, anneal_epochs=-1))]:
        with pytest.raises(ValueError) as e:
            f_t()
        with pytest.raises(ValueError, match=str(e.value).replace("[", r"\[").replace("]", r"\]")):
            f_o()
