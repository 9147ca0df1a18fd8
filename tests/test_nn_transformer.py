"""Transformer, TransformerEncoder(Layer) and TransformerDecoder(Layer) against torch.nn's: reprs, state_dict
keys and shapes, and with torch's parameters (dropout 0) the outputs and every gradient, post-norm and
norm_first, masks and key padding, batch_first, gelu; the causal mask helper."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
import tinygrad_fer.nn as nn

D, H, FF = 4, 2, 6


def _pair(build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # PyTorch's nested-tensor notice
        theirs = build(torch).double()
    ours = build(tg).double()
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _check(ours, theirs, arrays, **kw):
    res = []
    for lib, m in ((tg, ours), (torch, theirs)):
        ts = [lib.tensor(a, requires_grad=True) for a in arrays]
        extra = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        out = m(*ts, **extra)
        (out * lib.tensor(np.random.default_rng(9).standard_normal(tuple(out.shape)))).sum().backward()
        res.append([out.detach().numpy()] + [t.grad.numpy() for t in ts] + [p.grad.numpy() for p in m.parameters()])
    for i, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=str(i))


R = np.random.default_rng(0)
SRC, TGT = R.standard_normal((5, 2, D)), R.standard_normal((3, 2, D))
PAD = np.array([[False] * 5, [False, False, False, True, True]])


@pytest.mark.parametrize("kw,call", [
    (dict(), dict()),
    (dict(norm_first=True, activation="gelu"), dict(src_key_padding_mask=PAD)),
    (dict(batch_first=True), dict()),
])
def test_encoder_layer_and_stack_like_torch(kw, call):
    src = SRC.transpose(1, 0, 2).copy() if kw.get("batch_first") else SRC
    ours, theirs = _pair(lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, **kw))
    _check(ours, theirs, [src], **call)
    ours, theirs = _pair(lambda lib: lib.nn.TransformerEncoder(
        lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, **kw), 2, norm=lib.nn.LayerNorm(D)))
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=tg.float64).numpy()
    _check(ours, theirs, [src], mask=mask, **call)


def test_decoder_and_full_transformer_like_torch():
    ours, theirs = _pair(lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0))
    _check(ours, theirs, [TGT, SRC], tgt_mask=np.triu(np.full((3, 3), -np.inf), 1), memory_key_padding_mask=PAD)
    ours, theirs = _pair(lambda lib: lib.nn.Transformer(D, H, 2, 1, FF, dropout=0.0))
    _check(ours, theirs, [SRC, TGT], tgt_mask=np.triu(np.full((3, 3), -np.inf), 1), src_key_padding_mask=PAD)


def test_square_subsequent_mask_and_errors():
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    for lib in (tg, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = lib.nn.Transformer(D, H, 1, 1, FF)
        with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
            t(lib.zeros((5, 2, D)), lib.zeros((3, 3, D)))
        with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
            t(lib.zeros((5, 2, 3)), lib.zeros((3, 2, 3)))
        with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
            lib.nn.TransformerEncoderLayer(D, H, activation="tanh")
