"""Optimizers and LR schedulers against torch.optim: same float64 parameters, same gradient sequence, every step."""
import copy
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tf
from tinygrad_fer import optim
from tinygrad_fer.optim import lr_scheduler as sched

SHAPES = [(3, 4), (5,), (2, 3, 2)]
RTOL, ATOL = 1e-10, 1e-13


def arr(t):
    return t.detach().numpy()


def make_params(seed=0, shapes=SHAPES, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [tf.tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    return ours, theirs


def set_grads(ours, theirs, rng, skip=()):
    """The same random gradient on both sides; parameters in `skip` get no gradient this step."""
    for i, (p, q) in enumerate(zip(ours, theirs)):
        if i in skip:
            p.grad, q.grad = None, None
            continue
        g = rng.standard_normal(p.shape).astype(arr(p).dtype)
        p.grad, q.grad = tf.tensor(g.copy()), torch.tensor(g.copy())


def assert_params_close(ours, theirs, rtol=RTOL, atol=ATOL, where=""):
    for i, (p, q) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(arr(p), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"param {i} {where}")


def run_both(ours_opt, theirs_opt, ours, theirs, steps=20, seed=1, skip_every=0, rtol=RTOL, atol=ATOL):
    rng = np.random.default_rng(seed)
    for k in range(steps):
        # optionally leave one parameter without a gradient now and then: it must be skipped, state untouched
        skip = {k % len(ours)} if skip_every and k % skip_every == 0 else ()
        set_grads(ours, theirs, rng, skip)
        ours_opt.step()
        theirs_opt.step()
        assert_params_close(ours, theirs, rtol, atol, where=f"after step {k + 1}")


def assert_state_close(ours_opt, theirs_opt, rtol=RTOL):
    """Same state_dict structure as PyTorch (state keyed by param index, same buffer names) and same values."""
    a, b = ours_opt.state_dict(), theirs_opt.state_dict()
    assert a["state"].keys() == b["state"].keys()
    for k in b["state"]:
        assert list(a["state"][k]) == list(b["state"][k])
        for name, tv in b["state"][k].items():
            ov = a["state"][k][name]
            assert isinstance(ov, tf.Tensor)
            np.testing.assert_allclose(arr(ov), tv.numpy(), rtol=rtol, atol=ATOL, err_msg=name)
    assert [g["params"] for g in a["param_groups"]] == [g["params"] for g in b["param_groups"]]
    for ga, gb in zip(a["param_groups"], b["param_groups"]):
        for key, val in ga.items():
            if key in gb and key != "params":
                assert val == gb[key], key


SGD_CASES = [
    {}, dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.5),
    dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, maximize=True),
    dict(lr=0.05, momentum=0.8, weight_decay=0.2, nesterov=True, maximize=True),
    dict(lr=0.05, momentum=0.7, dampening=0.3, weight_decay=0.05, maximize=True),
]
ADAM_CASES = [
    {}, dict(lr=0.01), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, amsgrad=True), dict(lr=0.01, maximize=True),
    dict(lr=0.02, betas=(0.3, 0.4), eps=1e-3),  # 1 - beta1 >= 0.5: lerp's other branch
    dict(lr=0.01, weight_decay=0.05, amsgrad=True, maximize=True),
]
RMSPROP_CASES = [
    {}, dict(lr=0.001, centered=True), dict(lr=0.001, momentum=0.9), dict(lr=0.001, weight_decay=0.1),
    dict(lr=0.001, maximize=True), dict(lr=0.001, alpha=0.3, centered=True),
    dict(lr=0.001, alpha=0.9, eps=1e-4, centered=True, momentum=0.5, weight_decay=0.05, maximize=True),
]
CASES = ([("SGD", kw) for kw in SGD_CASES] + [("Adam", kw) for kw in ADAM_CASES]
         + [("AdamW", kw) for kw in ADAM_CASES] + [("RMSprop", kw) for kw in RMSPROP_CASES])


def make_pair(name, kw, seed=0, dtype=np.float64):
    ours, theirs = make_params(seed, dtype=dtype)
    return ours, theirs, getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_matches_torch(name, kw):
    ours, theirs, o, t = make_pair(name, kw)
    run_both(o, t, ours, theirs, steps=20, skip_every=3)
    assert_state_close(o, t)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_float32_state_and_values(name, kw):
    ours, theirs, o, t = make_pair(name, kw, dtype=np.float32)
    run_both(o, t, ours, theirs, steps=10, rtol=1e-4, atol=1e-6)
    for p in ours:
        assert arr(p).dtype == np.float32
    for s in o.state.values():
        for key, v in s.items():
            assert arr(v).dtype == (np.float32 if key != "step" else t.state[theirs[0]].get(key).numpy().dtype)


@settings(max_examples=12)
@given(name=st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop"]),
       lr=st.floats(1e-4, 0.3), mom=st.floats(0.0, 0.99), damp=st.floats(0.0, 0.9), wd=st.floats(0.0, 0.5),
       b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.9999), alpha=st.floats(0.1, 0.999),
       flags=st.tuples(st.booleans(), st.booleans(), st.booleans()), seed=st.integers(0, 2 ** 16))
def test_random_hyperparameters(name, lr, mom, damp, wd, b1, b2, alpha, flags, seed):
    # (alpha near 0 with centered=True makes square_avg - grad_avg**2 a cancellation to exactly 0, whose sign then
    # depends on PyTorch's fused multiply-add: NaN there, 0 here; not a meaningful difference)
    if name == "SGD":
        nesterov = flags[0] and mom > 0
        kw = dict(lr=lr, momentum=mom, dampening=0.0 if nesterov else damp, weight_decay=wd, nesterov=nesterov,
                  maximize=flags[1])
    elif name in ("Adam", "AdamW"):
        kw = dict(lr=lr, betas=(b1, b2), eps=1e-6, weight_decay=wd, amsgrad=flags[0], maximize=flags[1])
    else:
        kw = dict(lr=lr * 0.1, alpha=alpha, eps=1e-6, weight_decay=wd, momentum=mom, centered=flags[0],
                  maximize=flags[1])
    ours, theirs, o, t = make_pair(name, kw, seed=seed)
    run_both(o, t, ours, theirs, steps=8, seed=seed + 1, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_param_groups_with_own_hyperparameters(name):
    ours, theirs = make_params(3)
    extra = {"SGD": dict(momentum=0.9), "Adam": dict(betas=(0.8, 0.99)), "RMSprop": dict(centered=True)}[name]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.05, **extra}]

    o = getattr(optim, name)(groups(ours), lr=0.01)
    t = getattr(torch.optim, name)(groups(theirs), lr=0.01)
    assert [g["lr"] for g in o.param_groups] == [0.01, 0.05]
    run_both(o, t, ours, theirs, steps=15)
    assert_state_close(o, t)


def test_add_param_group():
    ours, theirs = make_params(4)
    o, t = optim.SGD(ours[:2], lr=0.1, momentum=0.9), torch.optim.SGD(theirs[:2], lr=0.1, momentum=0.9)
    o.add_param_group({"params": ours[2], "lr": 0.3})
    t.add_param_group({"params": theirs[2], "lr": 0.3})
    assert o.param_groups[1]["momentum"] == 0.9 and o.param_groups[1]["params"] == [ours[2]]
    run_both(o, t, ours, theirs, steps=5)


def test_named_parameters():
    ours, _ = make_params()
    o = optim.SGD([("a", ours[0]), ("b", ours[1])], lr=0.1)
    assert o.param_groups[0]["param_names"] == ["a", "b"]
    assert o.state_dict()["param_groups"][0]["param_names"] == ["a", "b"]


def test_zero_grad():
    ours, _ = make_params()
    o = optim.SGD(ours, lr=0.1)
    for p in ours:
        p.grad = tf.tensor(np.ones(p.shape))
    o.zero_grad()
    assert all(p.grad is None for p in ours)
    for p in ours:
        p.grad = tf.tensor(np.ones(p.shape))
    before = [p.grad for p in ours]
    o.zero_grad(set_to_none=False)
    for p, g in zip(ours, before):
        assert p.grad is g  # zeroed in place, like PyTorch
        assert p.grad.shape == p.shape and not arr(p.grad).any()
    o.step()  # zero gradients: nothing moves
    np.testing.assert_array_equal(arr(ours[0]), arr(make_params()[0][0]))


def test_step_skips_params_without_grad_and_leaves_grad_untouched():
    ours, _ = make_params()
    o = optim.Adam(ours, lr=0.1, weight_decay=0.1, maximize=True)
    g = np.arange(12.0).reshape(3, 4)
    ours[0].grad = tf.tensor(g.copy())
    before = [arr(p).copy() for p in ours]
    o.step()
    np.testing.assert_array_equal(arr(ours[0].grad), g)  # weight decay / maximize never write into .grad
    assert not np.array_equal(arr(ours[0]), before[0])
    for p, b in zip(ours[1:], before[1:]):
        np.testing.assert_array_equal(arr(p), b)
    assert len(o.state) == 1 and ours[1] not in o.state


def test_step_with_closure():
    ours, theirs = make_params()
    o, t = optim.SGD(ours, lr=0.1, momentum=0.5), torch.optim.SGD(theirs, lr=0.1, momentum=0.5)
    w = np.random.default_rng(5).standard_normal((3, 4))

    def closure(opt, p, lib):
        def f():
            opt.zero_grad()
            loss = ((p * lib.tensor(w)) ** 2).sum()
            loss.backward()
            return loss
        return f

    for _ in range(5):
        lo = o.step(closure(o, ours[0], tf))
        lt = t.step(closure(t, theirs[0], torch))
        assert np.isclose(lo.item(), lt.item(), rtol=1e-12)
    assert_params_close(ours, theirs)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5))])
def test_state_dict_round_trip_resumes_identically(name, kw):
    ours, _ = make_params()
    o = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": 0.02}], **kw)
    rng = np.random.default_rng(7)
    grads = [[rng.standard_normal(p.shape) for p in ours] for _ in range(12)]

    def step(opt, params, gs):
        for p, g in zip(params, gs):
            p.grad = tf.tensor(g.copy())
        opt.step()

    for gs in grads[:6]:
        step(o, ours, gs)
    sd = o.state_dict()
    clone = [tf.tensor(arr(p).copy(), requires_grad=True) for p in ours]
    o2 = getattr(optim, name)([{"params": clone[:1]}, {"params": clone[1:]}], lr=123.0)  # lrs come from sd
    o2.load_state_dict(sd)
    assert [g["lr"] for g in o2.param_groups] == [g["lr"] for g in o.param_groups]
    assert [g["params"] for g in o2.param_groups] == [clone[:1], clone[1:]]
    assert o2.state_dict()["param_groups"] == sd["param_groups"]
    for gs in grads[6:]:
        step(o, ours, gs)
        step(o2, clone, gs)
        for p, q in zip(ours, clone):
            np.testing.assert_array_equal(arr(p), arr(q))


def test_load_state_dict_copies_buffers():
    ours, _ = make_params()
    o = optim.SGD(ours, lr=0.1, momentum=0.9)
    for p in ours:
        p.grad = tf.tensor(np.ones(p.shape))
    o.step()
    clone = [tf.tensor(arr(p).copy(), requires_grad=True) for p in ours]
    o2 = optim.SGD(clone, lr=0.1, momentum=0.9)
    o2.load_state_dict(o.state_dict())
    buf2 = arr(o2.state[clone[0]]["momentum_buffer"]).copy()
    o.step()
    np.testing.assert_array_equal(arr(o2.state[clone[0]]["momentum_buffer"]), buf2)


def test_adamw_keeps_decoupled_after_loading_adam_state():
    ours, _ = make_params()
    a, w = optim.Adam(ours), optim.AdamW(ours)
    w.load_state_dict(a.state_dict())
    assert w.param_groups[0]["decoupled_weight_decay"] is True


# ---- errors: same exception type and message as PyTorch ---------------------------------------------------------

def _both_raise(fn_ours, fn_theirs, same_message=True):
    with pytest.raises(Exception) as eo:
        fn_ours()
    with pytest.raises(Exception) as et:
        fn_theirs()
    assert type(eo.value) is type(et.value), (eo.value, et.value)
    if same_message:  # the first line: PyTorch sometimes appends advice
        assert str(eo.value.args[0]).split("\n")[0] == str(et.value.args[0]).split("\n")[0]


BAD_ARGS = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(momentum=-0.5)), ("SGD", dict(weight_decay=-1.0)),
    ("SGD", dict(nesterov=True)), ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1.0)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.9))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-0.1)), ("AdamW", dict(betas=(0.9, 1.5))),
    ("RMSprop", dict(lr=-1.0)), ("RMSprop", dict(alpha=-0.1)), ("RMSprop", dict(momentum=-0.1)),
    ("RMSprop", dict(eps=-1.0)), ("RMSprop", dict(weight_decay=-1.0)),
]


@pytest.mark.parametrize("name,kw", BAD_ARGS, ids=[f"{n}-{kw}" for n, kw in BAD_ARGS])
def test_invalid_hyperparameters(name, kw):
    ours, theirs = make_params()
    _both_raise(lambda: getattr(optim, name)(ours, **kw), lambda: getattr(torch.optim, name)(theirs, **kw))


def test_invalid_params():
    ours, theirs = make_params()
    # empty list, a bare tensor, a set, a non-tensor, a non-leaf, one parameter in two groups
    _both_raise(lambda: optim.SGD([]), lambda: torch.optim.SGD([]))
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(ours[0])
    _both_raise(lambda: optim.SGD({"params": set(ours[:1])}.values()), lambda: torch.optim.SGD(
        {"params": set(theirs[:1])}.values()))
    _both_raise(lambda: optim.SGD([{"params": set(ours[:1])}]), lambda: torch.optim.SGD([{"params": set(theirs[:1])}]))
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([np.zeros(3)])
    _both_raise(lambda: optim.SGD([ours[0] * 2]), lambda: torch.optim.SGD([theirs[0] * 2]))
    _both_raise(lambda: optim.SGD([{"params": ours[:2]}, {"params": ours[1:]}]),
                lambda: torch.optim.SGD([{"params": theirs[:2]}, {"params": theirs[1:]}]))
    _both_raise(lambda: optim.SGD(ours).add_param_group(ours[0]), lambda: torch.optim.SGD(theirs).add_param_group(
        theirs[0]), same_message=False)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([ours[0], ours[0]])


def test_required_default():
    ours, _ = make_params()

    class NeedsLr(optim.Optimizer):
        def __init__(self, params, lr=optim.required):
            super().__init__(params, dict(lr=lr))

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        NeedsLr(ours)
    assert NeedsLr([{"params": ours, "lr": 0.1}]).param_groups[0]["lr"] == 0.1


def test_load_state_dict_mismatch():
    ours, theirs = make_params()
    sd_o, sd_t = optim.SGD(ours).state_dict(), torch.optim.SGD(theirs).state_dict()
    _both_raise(lambda: optim.SGD([{"params": ours[:1]}, {"params": ours[1:]}]).load_state_dict(sd_o),
                lambda: torch.optim.SGD([{"params": theirs[:1]}, {"params": theirs[1:]}]).load_state_dict(sd_t))
    _both_raise(lambda: optim.SGD(ours[:2]).load_state_dict(sd_o),
                lambda: torch.optim.SGD(theirs[:2]).load_state_dict(sd_t))


def test_defaults_and_repr():
    ours, theirs = make_params()
    for name in ["SGD", "Adam", "AdamW", "RMSprop"]:
        go, gt = getattr(optim, name)(ours).param_groups[0], getattr(torch.optim, name)(theirs).param_groups[0]
        for key in go:
            if key != "params":
                assert go[key] == gt[key], (name, key)
    r = repr(optim.SGD(ours, lr=0.5))
    assert r.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.5\n" in r


# ---- schedulers ---------------------------------------------------------------------------------------------------

SCHEDULERS = [
    ("StepLR", dict(step_size=4, gamma=0.5)), ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[3, 7, 7, 20], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10)), ("CosineAnnealingLR", dict(T_max=7, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (e + 1))),
]


def _sched_pair(name, kw, lrs=(0.1, 0.02)):
    ours, theirs = make_params()
    o = optim.SGD([{"params": ours[:1], "lr": lrs[0]}, {"params": ours[1:], "lr": lrs[1]}])
    t = torch.optim.SGD([{"params": theirs[:1], "lr": lrs[0]}, {"params": theirs[1:], "lr": lrs[1]}])
    return o, t, getattr(sched, name)(o, **kw), getattr(torch.optim.lr_scheduler, name)(t, **kw)


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{n}-{kw}" for n, kw in SCHEDULERS])
def test_scheduler_matches_torch(name, kw):
    o, t, so, stt = _sched_pair(name, kw)
    assert [g["initial_lr"] for g in o.param_groups] == [0.1, 0.02]
    assert so.get_last_lr() == stt.get_last_lr() == [g["lr"] for g in o.param_groups]
    for _ in range(30):
        o.step()
        t.step()
        so.step()
        stt.step()
        assert so.get_last_lr() == stt.get_last_lr()  # exactly: same recursion, same float operations
        assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups]
    assert so.last_epoch == stt.last_epoch == 30


@pytest.mark.parametrize("name,kw", SCHEDULERS[:-1], ids=[f"{n}-{kw}" for n, kw in SCHEDULERS[:-1]])
def test_scheduler_state_dict_and_epoch_argument(name, kw):
    o, t, so, stt = _sched_pair(name, kw)
    for _ in range(5):
        o.step(), t.step()
        so.step(), stt.step()
    sd = so.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 5 and sd["base_lrs"] == stt.state_dict()["base_lrs"]
    o2, _, so2, _ = _sched_pair(name, kw)
    so2.load_state_dict(sd)
    for g, g2 in zip(o.param_groups, o2.param_groups):
        g2["lr"] = g["lr"]
    for _ in range(10):
        so.step()
        so2.step()
        assert so.get_last_lr() == so2.get_last_lr()
    with pytest.warns(UserWarning, match="epoch parameter"):
        so.step(epoch=13)
    with pytest.warns(UserWarning, match="epoch parameter"):
        stt.step(epoch=13)
    assert so.get_last_lr() == stt.get_last_lr()


def test_lambda_lr_per_group_and_state_dict():
    class Decay:
        def __init__(self, k):
            self.k = k

        def __call__(self, e):
            return self.k ** e

    o, t, so, stt = _sched_pair("LambdaLR", dict(lr_lambda=[Decay(0.9), lambda e: 1 + e]))
    for _ in range(10):
        o.step(), t.step()
        so.step(), stt.step()
        assert so.get_last_lr() == stt.get_last_lr()
    sd = so.state_dict()
    assert sd["lr_lambdas"] == [{"k": 0.9}, None]
    so.lr_lambdas[0].k = 0.5
    so.load_state_dict(sd)
    assert so.lr_lambdas[0].k == 0.9


def test_scheduler_errors():
    ours, theirs = make_params()
    o, t = optim.SGD(ours), torch.optim.SGD(theirs)
    _both_raise(lambda: sched.StepLR(object(), 3), lambda: torch.optim.lr_scheduler.StepLR(object(), 3))
    _both_raise(lambda: sched.StepLR(o, 3, last_epoch=4), lambda: torch.optim.lr_scheduler.StepLR(t, 3, last_epoch=4))
    _both_raise(lambda: sched.LambdaLR(o, [lambda e: 1, lambda e: 2]),
                lambda: torch.optim.lr_scheduler.LambdaLR(t, [lambda e: 1, lambda e: 2]))


def test_scheduler_warns_when_stepped_before_optimizer():
    o, t, so, stt = _sched_pair("StepLR", dict(step_size=2))
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        so.step()
    o2, _, so2, _ = _sched_pair("StepLR", dict(step_size=2))
    o2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        so2.step()
        sched.ExponentialLR(o2, 0.5)  # a second scheduler does not wrap step twice
    assert getattr(o2.step, "_counts_calls", False) and o2.step.__wrapped__ is optim.SGD.step


def test_resume_with_last_epoch():
    o, t, so, stt = _sched_pair("CosineAnnealingLR", dict(T_max=10))
    for _ in range(4):
        o.step(), t.step()
        so.step(), stt.step()
    so2 = sched.CosineAnnealingLR(o, T_max=10, last_epoch=so.last_epoch)
    st2 = torch.optim.lr_scheduler.CosineAnnealingLR(t, T_max=10, last_epoch=stt.last_epoch)
    for _ in range(8):
        so2.step()
        st2.step()
        assert so2.get_last_lr() == st2.get_last_lr()


def test_state_dict_survives_deepcopy():
    ours, _ = make_params()
    o = optim.Adam(ours, lr=0.01)
    for p in ours:
        p.grad = tf.tensor(np.ones(p.shape))
    o.step()
    sd = copy.deepcopy(o.state_dict())
    o2 = optim.Adam([tf.tensor(arr(p).copy(), requires_grad=True) for p in ours])
    o2.load_state_dict(sd)
    assert o2.param_groups[0]["lr"] == 0.01 and float(o2.state_dict()["state"][0]["step"].item()) == 1.0
