"""The schedulers beyond StepLR & co. against torch.optim.lr_scheduler: the same lr (and momentum / beta1, for the
cyclic ones) after every step, to the last bit."""
import copy
import warnings

import pytest
import torch

from tinygrad_fer import optim
from tinygrad_fer.optim import lr_scheduler as sched
from test_optim import make_params

TS = torch.optim.lr_scheduler


def _opts(opt="SGD", lrs=(0.1, 0.02), **kw):
    ours, theirs = make_params()
    o = getattr(optim, opt)([{"params": ours[:1], "lr": lrs[0]}, {"params": ours[1:], "lr": lrs[1]}], **kw)
    t = getattr(torch.optim, opt)([{"params": theirs[:1], "lr": lrs[0]}, {"params": theirs[1:], "lr": lrs[1]}],
                                  **kw)
    return o, t


def _groups_equal(o, t, keys=("lr", "momentum", "betas", "initial_lr", "max_lr", "min_lr")):
    for go, gt in zip(o.param_groups, t.param_groups):
        for k in keys:
            assert (k in go) == (k in gt), k
            if k in gt:
                assert go[k] == gt[k], (k, go[k], gt[k])


SIMPLE = [
    # (ConstantLR with factor=0 divides by 0 at total_iters, in PyTorch too)
    ("ConstantLR", {}), ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("LinearLR", {}), ("LinearLR", dict(start_factor=0.1, end_factor=0.7, total_iters=9)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=4)),
    ("PolynomialLR", {}), ("PolynomialLR", dict(total_iters=12, power=0.9)), ("PolynomialLR", dict(power=2.5)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.95)), ("MultiplicativeLR", dict(lr_lambda=lambda e: 1 - 0.01 * e)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5)), ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=3, eta_min=0.001)),
]


@pytest.mark.parametrize("name,kw", SIMPLE, ids=[f"{n}-{kw}" for n, kw in SIMPLE])
def test_matches_torch(name, kw):
    o, t = _opts()
    so, st = getattr(sched, name)(o, **kw), getattr(TS, name)(t, **kw)
    assert so.get_last_lr() == st.get_last_lr()
    for _ in range(30):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr() == [g["lr"] for g in o.param_groups]
        assert so.last_epoch == st.last_epoch


CLOSED_FORM = [(n, kw) for n, kw in SIMPLE if n not in ("CosineAnnealingWarmRestarts", "MultiplicativeLR")]


@pytest.mark.parametrize("name,kw", CLOSED_FORM, ids=[f"{n}-{kw}" for n, kw in CLOSED_FORM])
def test_epoch_argument_uses_the_closed_form(name, kw):
    o, t = _opts()
    so, st = getattr(sched, name)(o, **kw), getattr(TS, name)(t, **kw)
    for epoch in (2, 7, 1, 20):
        with pytest.warns(UserWarning, match="epoch parameter"):
            so.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            st.step(epoch)
        assert so.get_last_lr() == st.get_last_lr()


def test_warm_restarts_fractional_epochs():
    o, t = _opts()
    so, st = sched.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), TS.CosineAnnealingWarmRestarts(t, T_0=3, T_mult=2)
    for i in range(60):
        e = i / 4
        so.step(e)
        st.step(e)
        assert so.get_last_lr() == st.get_last_lr() and (so.T_i, so.T_cur) == (st.T_i, st.T_cur)
    with pytest.raises(ValueError, match="Expected non-negative epoch"):
        so.step(-1)


CYCLIC = [
    ("SGD", dict(momentum=0.9), dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("SGD", dict(momentum=0.9), dict(base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=3, step_size_down=5,
                                     mode="triangular2")),
    ("SGD", dict(momentum=0.9), dict(base_lr=0.01, max_lr=0.2, step_size_up=2, mode="exp_range", gamma=0.9)),
    ("Adam", {}, dict(base_lr=0.001, max_lr=0.01, step_size_up=3, base_momentum=0.7, max_momentum=0.95)),
    ("SGD", {}, dict(base_lr=0.01, max_lr=0.1, step_size_up=4, cycle_momentum=False,
                     scale_fn=lambda x: 1 / (x + 1), scale_mode="iterations")),
]


@pytest.mark.parametrize("opt,okw,kw", CYCLIC)
def test_cyclic_lr(opt, okw, kw):
    o, t = _opts(opt, **okw)
    so, st = sched.CyclicLR(o, **kw), TS.CyclicLR(t, **kw)
    _groups_equal(o, t)
    for _ in range(40):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr()
        _groups_equal(o, t)


ONECYCLE = [
    ("SGD", dict(momentum=0.9), dict(max_lr=0.1, total_steps=30)),
    ("SGD", dict(momentum=0.9), dict(max_lr=[0.1, 0.3], epochs=3, steps_per_epoch=10, pct_start=0.25,
                                     anneal_strategy="linear")),
    ("SGD", dict(momentum=0.9), dict(max_lr=0.1, total_steps=30, three_phase=True, div_factor=10.0)),
    ("Adam", {}, dict(max_lr=0.01, total_steps=30, base_momentum=0.8, max_momentum=0.9, final_div_factor=100.0)),
    ("SGD", {}, dict(max_lr=0.05, total_steps=30, cycle_momentum=False)),
]


@pytest.mark.parametrize("opt,okw,kw", ONECYCLE)
def test_one_cycle_lr(opt, okw, kw):
    o, t = _opts(opt, **okw)
    so, st = sched.OneCycleLR(o, **kw), TS.OneCycleLR(t, **kw)
    _groups_equal(o, t)
    for _ in range(29):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr()
        _groups_equal(o, t)
    so.step(), st.step()        # step 30 of 30
    with pytest.raises(ValueError, match="Tried to step 31 times"):
        so.step()


def test_cyclic_errors_match_torch():
    o, t = _opts("Adagrad")      # neither momentum nor betas: cycle_momentum cannot work
    for ours, theirs in [(lambda: sched.CyclicLR(o, 0.01, 0.1), lambda: TS.CyclicLR(t, 0.01, 0.1)),
                         (lambda: sched.OneCycleLR(o, 0.1, 10), lambda: TS.OneCycleLR(t, 0.1, 10)),
                         (lambda: sched.OneCycleLR(o, 0.1), lambda: TS.OneCycleLR(t, 0.1)),
                         (lambda: sched.OneCycleLR(o, 0.1, 10, pct_start=1),
                          lambda: TS.OneCycleLR(t, 0.1, 10, pct_start=1)),
                         (lambda: sched.CyclicLR(o, [0.1], 0.2, cycle_momentum=False),
                          lambda: TS.CyclicLR(t, [0.1], 0.2, cycle_momentum=False))]:
        with pytest.raises(ValueError) as e:
            theirs()
        with pytest.raises(ValueError) as e2:
            ours()
        assert str(e2.value) == str(e.value)


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", patience=2, factor=0.5), dict(patience=1, cooldown=2),
                                dict(threshold_mode="abs", threshold=0.05, patience=0, min_lr=[0.005, 0.001]),
                                dict(mode="max", threshold_mode="abs", patience=1, eps=0.01)])
def test_reduce_lr_on_plateau(kw):
    o, t = _opts()
    so, st = sched.ReduceLROnPlateau(o, **kw), TS.ReduceLROnPlateau(t, **kw)
    metrics = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.89, 0.95, 0.97, 0.99, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75] * 3
    for m in metrics:
        o.step(), t.step()
        so.step(m)
        st.step(m)
        assert so.get_last_lr() == st.get_last_lr() == [g["lr"] for g in o.param_groups]
        assert (so.best, so.num_bad_epochs, so.cooldown_counter) == (st.best, st.num_bad_epochs, st.cooldown_counter)
    sd = so.state_dict()
    assert "optimizer" not in sd and set(sd) == set(st.state_dict())
    so2 = sched.ReduceLROnPlateau(o)
    so2.load_state_dict(sd)
    assert so2.best == so.best and so2.patience == so.patience


def test_reduce_lr_on_plateau_errors():
    o, t = _opts()
    for kw in (dict(factor=1.0), dict(mode="avg"), dict(threshold_mode="x"), dict(min_lr=[0.1])):
        with pytest.raises(ValueError) as e:
            TS.ReduceLROnPlateau(t, **kw)
        with pytest.raises(ValueError, match=str(e.value).replace("[", r"\[")):
            sched.ReduceLROnPlateau(o, **kw)


def _build_composite(lib, o, kind):
    S = sched if lib == "ours" else TS
    if kind == "sequential":
        return S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=4), S.ExponentialLR(o, 0.9),
                                  S.CosineAnnealingLR(o, T_max=6)], milestones=[4, 10])
    if kind == "sequential-nested":
        inner = S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.95)])
        return S.SequentialLR(o, [inner, S.StepLR(o, 3, 0.5)], milestones=[5])
    return S.ChainedScheduler([S.ConstantLR(o, factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9),
                               S.MultiStepLR(o, [8, 12], 0.5)])


@pytest.mark.parametrize("kind", ["sequential", "sequential-nested", "chained"])
def test_composite_schedulers(kind):
    o, t = _opts()
    so, st = _build_composite("ours", o, kind), _build_composite("torch", t, kind)
    assert so.get_last_lr() == st.get_last_lr()
    assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups]
    for i in range(25):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr(), i
        assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups]
    sd = copy.deepcopy(so.state_dict())
    assert set(sd) == set(st.state_dict()) and len(sd["_schedulers"]) == len(st.state_dict()["_schedulers"])
    epochs = [getattr(s, "last_epoch", None) for s in so._schedulers]
    so.step()
    so.load_state_dict(sd)
    assert [getattr(s, "last_epoch", None) for s in so._schedulers] == epochs


def test_composite_errors_match_torch():
    o, t = _opts()
    o2, t2 = _opts()
    cases = [(lambda: sched.SequentialLR(o, [], []), lambda: TS.SequentialLR(t, [], [])),
             (lambda: sched.SequentialLR(o, [sched.StepLR(o, 2)], [3]),
              lambda: TS.SequentialLR(t, [TS.StepLR(t, 2)], [3])),
             (lambda: sched.SequentialLR(o, [sched.StepLR(o2, 2)], []),
              lambda: TS.SequentialLR(t, [TS.StepLR(t2, 2)], [])),
             (lambda: sched.ChainedScheduler([sched.ReduceLROnPlateau(o)]),
              lambda: TS.ChainedScheduler([TS.ReduceLROnPlateau(t)])),
             (lambda: sched.ChainedScheduler([]), lambda: TS.ChainedScheduler([]))]
    for ours, theirs in cases:
        with pytest.raises(ValueError) as e:
            theirs()
        with pytest.raises(ValueError) as e2:
            ours()
        assert type(e2.value) is type(e.value)
        assert str(e2.value).split(" has ")[0] == str(e.value).split(" has ")[0]


def test_add_param_group_then_schedule():
    ours, theirs = make_params()
    o, t = optim.SGD(ours[:1], lr=0.1), torch.optim.SGD(theirs[:1], lr=0.1)
    o.add_param_group({"params": ours[1:], "lr": 0.05})
    t.add_param_group({"params": theirs[1:], "lr": 0.05})
    so, st = sched.LinearLR(o, 0.5, total_iters=3), TS.LinearLR(t, 0.5, total_iters=3)
    for _ in range(5):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr()


def test_multiplicative_lr_per_group_and_errors():
    o, t = _opts()
    so = sched.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 0.5 + e / 100])
    st = TS.MultiplicativeLR(t, [lambda e: 0.9, lambda e: 0.5 + e / 100])
    for _ in range(8):
        o.step(), t.step()
        so.step(), st.step()
        assert so.get_last_lr() == st.get_last_lr()
    assert so.state_dict()["lr_lambdas"] == [None, None]
    for bad in ([lambda e: 1.0], 3):
        with pytest.raises((ValueError, TypeError)) as e:
            TS.MultiplicativeLR(t, bad)
        with pytest.raises(type(e.value), match=str(e.value)):
            sched.MultiplicativeLR(o, bad)
