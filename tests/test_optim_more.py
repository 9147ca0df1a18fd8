"""Adadelta, Adagrad, Adamax, NAdam, RAdam, ASGD and LBFGS against torch.optim: same float64 parameters, same
gradients, every step (the harness of tests/test_optim.py)."""
import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tf
from tinygrad_fer import optim
from test_optim import arr, assert_state_close, make_params, run_both

CASES = [
    ("Adadelta", {}), ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-4)), ("Adadelta", dict(weight_decay=0.1)),
    ("Adadelta", dict(lr=0.3, maximize=True, weight_decay=0.05)),
    ("Adagrad", {}), ("Adagrad", dict(lr=0.1, lr_decay=0.05)), ("Adagrad", dict(initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.05, weight_decay=0.1, eps=1e-3, maximize=True)),
    ("Adamax", {}), ("Adamax", dict(lr=0.01, betas=(0.3, 0.5))), ("Adamax", dict(weight_decay=0.1)),
    ("Adamax", dict(lr=0.02, maximize=True, weight_decay=0.05, eps=1e-3)),
    ("NAdam", {}), ("NAdam", dict(lr=0.01, momentum_decay=0.1)), ("NAdam", dict(weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.02, betas=(0.4, 0.6), maximize=True, weight_decay=0.02)),
    ("RAdam", {}), ("RAdam", dict(lr=0.01, betas=(0.9, 0.5))),  # small beta2: rho_t > 5 from step 1 on
    ("RAdam", dict(lr=0.01, weight_decay=0.1)), ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.02, betas=(0.3, 0.8), maximize=True, eps=1e-4)),
    ("ASGD", {}), ("ASGD", dict(lr=0.05, t0=5)), ("ASGD", dict(lr=0.1, lambd=0.01, alpha=0.5, t0=3, weight_decay=0.1)),
    ("ASGD", dict(lr=0.05, t0=0, maximize=True)),
    ("Rprop", {}), ("Rprop", dict(lr=0.1, etas=(0.3, 1.5))), ("Rprop", dict(step_sizes=(1e-3, 0.2), maximize=True)),
]


def make_pair(name, kw, seed=0, dtype=np.float64):
    ours, theirs = make_params(seed, dtype=dtype)
    return ours, theirs, getattr(optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{kw}" for n, kw in CASES])
def test_matches_torch(name, kw):
    ours, theirs, o, t = make_pair(name, kw)
    run_both(o, t, ours, theirs, steps=25, skip_every=3)
    assert_state_close(o, t)


@pytest.mark.parametrize("name", ["Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_float32_matches_torch(name):
    kw = dict(t0=3) if name == "ASGD" else {}
    ours, theirs, o, t = make_pair(name, dict(lr=0.01, **kw), dtype=np.float32)
    run_both(o, t, ours, theirs, steps=12, rtol=1e-5, atol=1e-6)
    assert all(arr(p).dtype == np.float32 for p in ours)
    for key, v in o.state[ours[0]].items():
        assert arr(v).dtype == t.state[theirs[0]][key].numpy().dtype, key


def _kwargs(name, lr, b1, b2, wd, rho, dec, flags):
    if name == "Adadelta":
        return dict(lr=lr * 10, rho=rho, weight_decay=wd, maximize=flags[0])
    if name == "Adagrad":
        return dict(lr=lr, lr_decay=dec, weight_decay=wd, initial_accumulator_value=rho, maximize=flags[0])
    if name == "Adamax":
        return dict(lr=lr, betas=(b1, b2), weight_decay=wd, maximize=flags[0])
    if name == "NAdam":
        return dict(lr=lr, betas=(b1, b2), weight_decay=wd, momentum_decay=dec, decoupled_weight_decay=flags[1],
                    maximize=flags[0])
    if name == "RAdam":
        return dict(lr=lr, betas=(b1, b2), weight_decay=wd, decoupled_weight_decay=flags[1], maximize=flags[0])
    if name == "Rprop":
        return dict(lr=lr, etas=(rho, 1.01 + b2), step_sizes=(dec * 1e-3, 0.5), maximize=flags[0])
    return dict(lr=lr, lambd=dec, alpha=rho, t0=int(b1 * 6), weight_decay=wd, maximize=flags[0])


@settings(max_examples=28, deadline=None)
@given(name=st.sampled_from(["Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"]),
       lr=st.floats(1e-4, 0.1), b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.9999), wd=st.floats(0.0, 0.5),
       rho=st.floats(0.05, 0.99), dec=st.floats(0.0, 0.2), flags=st.tuples(st.booleans(), st.booleans()),
       seed=st.integers(0, 2 ** 16))
def test_random_hyperparameters(name, lr, b1, b2, wd, rho, dec, flags, seed):
    kw = _kwargs(name, lr, b1, b2, wd, rho, dec, flags)
    ours, theirs, o, t = make_pair(name, kw, seed=seed)
    run_both(o, t, ours, theirs, steps=10, seed=seed + 1, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_defaults_match_torch(name):
    ours, theirs = make_params()
    go, gt = getattr(optim, name)(ours).param_groups[0], getattr(torch.optim, name)(theirs).param_groups[0]
    assert set(go) == set(gt)
    for key in go:
        if key != "params":
            assert go[key] == gt[key], key


@pytest.mark.parametrize("name,kw", [("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)),
                                     ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)),
                                     ("Adamax", dict(betas=(1.0, 0.9))), ("NAdam", dict(momentum_decay=-1)),
                                     ("RAdam", dict(betas=(0.9, 1.0))), ("ASGD", dict(weight_decay=-1)),
                                     ("Rprop", dict(etas=(0.5, 0.9)))])
def test_invalid_hyperparameters(name, kw):
    ours, theirs = make_params()
    with pytest.raises(ValueError) as theirs_err:
        getattr(torch.optim, name)(theirs, **kw)
    with pytest.raises(ValueError, match=str(theirs_err.value).replace("(", r"\(").replace(")", r"\)")):
        getattr(optim, name)(ours, **kw)


@pytest.mark.parametrize("name", ["Adagrad", "NAdam", "ASGD"])
def test_state_dict_round_trip(name):
    # loading casts the float32 scalars (NAdam's mu_product, ASGD's eta and mu) to the parameters' dtype, in
    # PyTorch too: both sides load, then step on
    kw = dict(lr=0.05, **(dict(t0=2) if name == "ASGD" else {}))
    ours, theirs, o, t = make_pair(name, kw)
    run_both(o, t, ours, theirs, steps=4)
    ours2, theirs2 = make_params(5)
    o2, t2 = getattr(optim, name)(ours2, **kw), getattr(torch.optim, name)(theirs2, **kw)
    o2.load_state_dict(copy.deepcopy(o.state_dict()))
    t2.load_state_dict(copy.deepcopy(t.state_dict()))
    for k, v in o2.state[ours2[0]].items():
        assert arr(v).dtype == t2.state[theirs2[0]][k].numpy().dtype, k
    run_both(o2, t2, ours2, theirs2, steps=6)
    assert_state_close(o2, t2)


def test_adagrad_state_exists_before_the_first_step_and_for_added_groups():
    ours, theirs = make_params()
    o = optim.Adagrad(ours[:2], initial_accumulator_value=0.25)
    t = torch.optim.Adagrad(theirs[:2], initial_accumulator_value=0.25)
    assert_state_close(o, t)
    o.add_param_group({"params": [ours[2]], "lr": 0.3})
    t.add_param_group({"params": [theirs[2]], "lr": 0.3})
    assert o.param_groups[1]["lr_decay"] == t.param_groups[1]["lr_decay"] == 0
    run_both(o, t, ours[:2], theirs[:2], steps=3)


# ---- LBFGS: step(closure), the closure evaluated as often as the method needs -------------------------------------

def _lbfgs_problem(lib, params, A, b):
    """A smooth, non-quadratic loss over the three parameters (least squares plus a quartic term)."""
    def loss_fn():
        x = lib.cat([p.reshape(-1) for p in params])
        r = lib.matmul(A, x) - b
        return (r * r).sum() + 0.1 * (x ** 4).sum() + (params[0] * params[1][:4].reshape(1, 4)).sum()
    return loss_fn


def _lbfgs_pair(kw, dtype=np.float64, seed=0):
    ours, theirs = make_params(seed, dtype=dtype)
    rng = np.random.default_rng(seed + 7)
    n = sum(p.numel() for p in theirs)
    A, b = rng.standard_normal((n + 3, n)).astype(dtype) * 0.5, rng.standard_normal(n + 3).astype(dtype)
    fo = _lbfgs_problem(tf, ours, tf.tensor(A), tf.tensor(b))
    ft = _lbfgs_problem(torch, theirs, torch.tensor(A), torch.tensor(b))
    o, t = optim.LBFGS(ours, **kw), torch.optim.LBFGS(theirs, **kw)
    counts = {"ours": 0, "theirs": 0}

    def closure_o():
        counts["ours"] += 1
        o.zero_grad()
        loss = fo()
        loss.backward()
        return loss

    def closure_t():
        counts["theirs"] += 1
        t.zero_grad()
        loss = ft()
        loss.backward()
        return loss
    return ours, theirs, o, t, closure_o, closure_t, counts


LBFGS_CASES = [dict(), dict(lr=0.5, max_iter=5), dict(history_size=3, max_iter=7),
               dict(line_search_fn="strong_wolfe"), dict(line_search_fn="strong_wolfe", history_size=2, max_iter=10),
               dict(lr=0.3, max_iter=4, max_eval=6, tolerance_change=1e-6)]


@pytest.mark.parametrize("kw", LBFGS_CASES, ids=[str(kw) for kw in LBFGS_CASES])
def test_lbfgs_matches_torch(kw):
    ours, theirs, o, t, co, ct, counts = _lbfgs_pair(kw)
    for k in range(4):
        lo, lt = o.step(co), t.step(ct)
        np.testing.assert_allclose(float(lo.item()), float(lt.item()), rtol=1e-9)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(arr(p), q.detach().numpy(), rtol=1e-8, atol=1e-10, err_msg=f"step {k}")
        assert counts["ours"] == counts["theirs"]
        so, st = o.state[ours[0]], t.state[theirs[0]]
        assert (so["func_evals"], so["n_iter"], len(so["old_dirs"])) == (st["func_evals"], st["n_iter"],
                                                                        len(st["old_dirs"]))


def test_lbfgs_float32_and_convergence():
    ours, theirs, o, t, co, ct, counts = _lbfgs_pair(dict(line_search_fn="strong_wolfe", max_iter=50),
                                                       dtype=np.float32)
    first = float(co().item())
    for _ in range(3):
        o.step(co)
        t.step(ct)
    for p, q in zip(ours, theirs):
        assert arr(p).dtype == np.float32
        np.testing.assert_allclose(arr(p), q.detach().numpy(), rtol=1e-3, atol=1e-4)
    assert float(co().item()) < first


def test_lbfgs_errors():
    ours, theirs = make_params()
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": ours[:1]}, {"params": ours[1:]}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS(ours, lr=-1)
    o = optim.LBFGS(ours, line_search_fn="backtracking")
    for p in ours:
        p.grad = tf.tensor(np.ones(p.shape))

    def closure():
        return tf.tensor(1.0)
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        o.step(closure)
    assert optim.LBFGS(ours).defaults == torch.optim.LBFGS(theirs).defaults


@pytest.mark.parametrize("name", ["Adadelta", "Adagrad", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_differentiable_steps_are_refused_and_capturable_accepted(name):
    ours, theirs = make_params()
    with pytest.raises(NotImplementedError, match=f"{name}\\(differentiable=True\\) is not implemented"):
        getattr(optim, name)(ours, differentiable=True)
    if name != "Adagrad":
        # capturable only changes how PyTorch stages the scalars for CUDA graphs: the values are the same
        o, t = getattr(optim, name)(ours, capturable=True), getattr(torch.optim, name)(theirs)
        run_both(o, t, ours, theirs, steps=3)
