"""scaled_dot_product_attention and multi_head_attention_forward, composed from matmul, softmax and masks (so
their gradients, and gradients of gradients, come from those ops). Mask conventions are PyTorch's: a bool mask
says where to attend in scaled_dot_product_attention and where not to in multi-head attention, a float mask is added to the scores, is_causal keeps the lower triangle; in
scaled_dot_product_attention a query row that may attend nowhere gives zeros (PyTorch's CPU kernel), in
multi_head_attention_forward with need_weights it gives NaN (PyTorch's explicit softmax)."""
import math

import numpy as np

from ..tensor import Tensor
from .dropout_extra import _keep
from .elementwise import where
from .matmul import linear, matmul
from .movement import cat, pad
from .reduce import softmax

_NEG = float("-inf")


def _dropout(w, p):
    keep = _keep(w, tuple(w.shape), p)
    return w * Tensor(keep / (1 - p)) if p < 1 else w * 0.0


def _repeat_heads(t, times):
    return t if times == 1 else t.repeat_interleave(times, -3)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v over the last two dims (queries L, keys S), any leading batch dims."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, not "
                            f"{type(t).__name__}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if enable_gqa and query.ndim >= 3:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk:
            raise RuntimeError(f"Number of heads in key and value must divide the number of heads in query, got "
                               f"{hk} and {hq}")
        key, value = _repeat_heads(key, hq // hk), _repeat_heads(value, hq // value.shape[-3])
    if is_causal and attn_mask is not None:   # PyTorch's documented rule (its no-grad CPU kernel combines them)
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    L, S = query.shape[-2], key.shape[-2]
    s = 1 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * s
    allowed = None                                   # where a query may attend (None: everywhere)
    if is_causal:
        allowed = Tensor(query._be.xp.asarray(np.tril(np.ones((L, S), dtype=bool))))
    bias = None
    if attn_mask is not None:
        if attn_mask.dtype.name == "bool":
            allowed = attn_mask
        else:
            bias = attn_mask
    if bias is not None:
        scores = scores + bias
    if allowed is not None:
        scores = where(allowed, scores, scores.new_zeros(()) + _NEG)
    # rows with no key to attend to: softmax over finite stand-ins, then zeros (no NaN reaches the gradients)
    dead = (scores == _NEG).all(-1, keepdim=True)
    w = softmax(where(dead, scores.new_zeros(()), scores), -1)
    w = where(dead, w.new_zeros(()), w)
    if dropout_p > 0:
        w = _dropout(w, dropout_p)
    return matmul(w, value)


def _canonical(mask, name, target):
    """A float mask to add to the scores. In multi-head attention a bool mask marks what may NOT be attended to
    (True -> -inf), the opposite of scaled_dot_product_attention's."""
    if mask is None:
        return None
    if mask.dtype.name == "bool":
        zeros = target.new_zeros(())
        return where(mask, zeros + _NEG, zeros).detach()
    if not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Sequence-first (L, N, E) inputs, or unbatched (L, E): projections, heads, masks, attention, output
    projection; returns (output, weights averaged over heads or per head, or None)."""
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward(static_k/static_v) is not implemented in "
                                  "tinygrad_fer")
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if use_separate_proj_weight:
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias.chunk(3)
        q, k, v = linear(query, q_proj_weight, bq), linear(key, k_proj_weight, bk), linear(value, v_proj_weight, bv)
    else:
        wq, wk, wv = in_proj_weight.chunk(3)
        bq, bk, bv = in_proj_bias.chunk(3) if in_proj_bias is not None else (None, None, None)
        q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)
    attn_mask = _canonical(attn_mask, "attn_mask", q)
    key_padding_mask = _canonical(key_padding_mask, "key_padding_mask", q)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, key.shape[0]):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, key.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.ndim != 3:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")
    if bias_k is not None:
        k = cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = cat([v, bias_v.expand(1, bsz, embed_dim)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:
        k = cat([k, k.new_zeros((bsz * num_heads, 1, head_dim))], 1)
        v = cat([v, v.new_zeros((bsz * num_heads, 1, head_dim))], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                                 f"{key_padding_mask.shape}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        scores = matmul(q * math.sqrt(1.0 / head_dim), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = scores + attn_mask
        w = softmax(scores, -1)
        if dropout_p > 0:
            w = _dropout(w, dropout_p)
        out = matmul(w, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        w = w.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            w = w.mean(1)
        if unbatched:
            out, w = out.squeeze(1), w.squeeze(0)
        return out, w
    if attn_mask is not None:
        attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len) if attn_mask.shape[0] != 1 else \
            attn_mask.unsqueeze(0)
    q, k, v = (t.reshape(bsz, num_heads, t.shape[1], head_dim) for t in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, False)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    return (out.squeeze(1) if unbatched else out), None


__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]
