"""MultiheadAttention and F.multi_head_attention_forward against torch.nn's: parameter names and shapes,
initialisation, every option (packed or separate projections, batch_first, key/value biases, zero attention,
bool and float masks, key padding, per-head weights, need_weights=False through scaled_dot_product_attention,
unbatched input), outputs, attention weights and every gradient with torch's parameters. (The functional
scaled_dot_product_attention is checked from the op registry by tests/test_ops.py.)"""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn

E, H, L, S, N = 6, 2, 4, 5, 3


def _pair(**kw):
    ours, theirs = nn.MultiheadAttention(E, H, **kw).double(), torch.nn.MultiheadAttention(E, H, **kw).double()
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(dict(ours.named_parameters())) == list(dict(theirs.named_parameters()))
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _masks(lib, kind):
    r = np.random.default_rng(5)
    if kind == "bool2d":
        m = r.random((L, S)) < 0.3
        m[:, 0] = False          # every query keeps a key: PyTorch's softmax would give NaN rows otherwise
        return dict(attn_mask=lib.tensor(m))
    if kind == "float3d":
        return dict(attn_mask=lib.tensor(r.standard_normal((N * H, L, S))))
    if kind == "padding":
        m = np.zeros((N, S), dtype=bool)
        m[1, 3:] = True
        return dict(key_padding_mask=lib.tensor(m))
    if kind == "both":
        return dict(attn_mask=lib.tensor(r.standard_normal((L, S))), key_padding_mask=lib.tensor(
            np.array([[False] * S, [False] * 3 + [True] * 2, [True] + [False] * 4])))
    return {}


@pytest.mark.parametrize("ctor,call,masks", [
    ({}, {}, None),
    (dict(batch_first=True), dict(average_attn_weights=False), "bool2d"),
    (dict(kdim=3, vdim=4), {}, "float3d"),
    (dict(add_bias_kv=True, add_zero_attn=True), {}, "padding"),
    (dict(bias=False), dict(need_weights=False), "both"),
    (dict(add_bias_kv=True), dict(need_weights=False), "bool2d"),
    ({}, dict(need_weights=False), None),
])
def test_multihead_attention_like_torch(ctor, call, masks):
    ours, theirs = _pair(**ctor)
    r = np.random.default_rng(1)
    kd, vd = ctor.get("kdim", E), ctor.get("vdim", E)
    shape = (lambda s, d: (N, s, d)) if ctor.get("batch_first") else (lambda s, d: (s, N, d))
    arrays = [r.standard_normal(shape(L, E)), r.standard_normal(shape(S, kd)), r.standard_normal(shape(S, vd))]
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        out, w = m(*ts, **_masks(lib, masks), **call)
        g = np.random.default_rng(2).standard_normal(tuple(out.shape))
        (out * lib.tensor(g)).sum().backward()
        res.append([out.detach().numpy(), None if w is None else w.detach().numpy()]
                   + [t.grad.numpy() for t in ts] + [p.grad.numpy() for p in m.parameters()])
    for i, (a, b) in enumerate(zip(*res)):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=str(i))


def test_multihead_attention_unbatched_and_self_attention():
    ours, theirs = _pair()
    x = np.random.default_rng(3).standard_normal((L, E))
    a = ours(tg.tensor(x), tg.tensor(x), tg.tensor(x))
    b = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x))
    for u, v in zip(a, b):
        np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), rtol=1e-10)


def test_multihead_attention_init_and_errors():
    tg.manual_seed(0)
    m = nn.MultiheadAttention(8, 2, add_bias_kv=True)
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (8 + 24))    # xavier_uniform over the packed (3E, E) weight
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    for lib in (tg, torch):
        with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
            lib.nn.MultiheadAttention(6, 4)
        with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
            lib.nn.MultiheadAttention(0, 1)
        m = lib.nn.MultiheadAttention(4, 2)
        x = lib.zeros((3, 1, 4))
        with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
            m(x, x, x, is_causal=True)
        with pytest.raises(RuntimeError, match="The shape of the 2D attn_mask is"):
            m(x, x, x, attn_mask=lib.zeros((2, 3)))


def test_sdpa_masks_causal_and_errors_like_torch():
    r = np.random.default_rng(0)
    q, k = r.standard_normal((2, 3, 4)), r.standard_normal((2, 5, 4))
    for kw in (dict(is_causal=True), dict(attn_mask=np.array([[True] * 5, [False] * 5, [True, False] * 2 + [True]])),
               dict(scale=0.1, attn_mask=r.standard_normal((3, 5)))):
        res = []
        for lib in (tg, torch):
            a, b = lib.tensor(q, requires_grad=True), lib.tensor(k, requires_grad=True)
            kk = {n: lib.tensor(v) if isinstance(v, np.ndarray) else v for n, v in kw.items()}
            out = lib.nn.functional.scaled_dot_product_attention(a, b, b, **kk)
            out.sum().backward()
            res.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
        for u, v in zip(*res):   # a row with no key gives zeros (PyTorch's CPU kernel), not NaN
            np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)
    for lib in (tg, torch):
        x = lib.zeros((2, 3, 4), requires_grad=True)
        with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
            lib.nn.functional.scaled_dot_product_attention(x, x, x, attn_mask=lib.ones((3, 3), dtype=lib.bool),
                                                           is_causal=True)
