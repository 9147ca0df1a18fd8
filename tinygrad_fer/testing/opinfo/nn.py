"""Registry entries of nn.functional's layers and losses: the first activations, 2-D convolution and pooling,
unfold/fold, pad, batch_norm and the classic losses; then the PyTorch-programs issue's layers (18): the other
normalisations, embeddings, resampling, attention, CTC and the remaining losses, with their samples."""
import numpy as np

from .draw import Sample
from .entry import OpInfo
from .samples import (_adaptive_sample, _batch_norm_sample, _fold_sample, _margin_sample, _pad_sample, _unfold_sample,
                      conv_sample, loss_sample, pool_sample, unary)


def _nn():
    act = dict(relu6=(-8.0, 8.0), elu=None, leaky_relu=None, softplus=None, silu=None, logsigmoid=None,
               relu=None, sigmoid=None, tanh=None)
    modules = dict(relu6="ReLU6", elu="ELU", leaky_relu="LeakyReLU", softplus="Softplus", silu="SiLU",
                   logsigmoid="LogSigmoid", relu="ReLU", sigmoid="Sigmoid", tanh="Tanh")
    for n, rng in act.items():
        yield OpInfo(n, unary(*(rng or (-3.0, 3.0))), namespace="F", module=modules[n], signed_zeros=n == "relu")
    yield OpInfo("hardtanh", lambda d, dt: Sample((d.array(d.shape(), dt),), dict(min_val=-1.0, max_val=d.choice(
        (1.0, 2.0)))), namespace="F")
    yield OpInfo("conv2d", conv_sample(), namespace="F", module="Conv2d", scale=10)
    yield OpInfo("conv_transpose2d", conv_sample(True), namespace="F", module="ConvTranspose2d", scale=10)
    yield OpInfo("max_pool2d", pool_sample(False), namespace="F", module="MaxPool2d")
    yield OpInfo("avg_pool2d", pool_sample(True), namespace="F", module="AvgPool2d")
    yield OpInfo("adaptive_avg_pool2d", _adaptive_sample, namespace="F", module="AdaptiveAvgPool2d")
    yield OpInfo("adaptive_max_pool2d", _adaptive_sample, namespace="F", module="AdaptiveMaxPool2d")
    yield OpInfo("unfold", _unfold_sample, namespace="F", module="Unfold")
    yield OpInfo("fold", _fold_sample, namespace="F", module="Fold")
    yield OpInfo("pad", _pad_sample, namespace="F")
    yield OpInfo("batch_norm", _batch_norm_sample, namespace="F", module="BatchNorm2d", scale=10, gradcheck=False,
                 constant_args=(1, 2),
                 deviations=dict(gradcheck="training mode updates the running statistics on every evaluation"))
    yield OpInfo("cross_entropy", loss_sample("classes"), namespace="F", module="CrossEntropyLoss")
    yield OpInfo("nll_loss", loss_sample("classes"), namespace="F", module="NLLLoss")
    yield OpInfo("mse_loss", loss_sample("pair"), namespace="F", module="MSELoss")
    yield OpInfo("l1_loss", loss_sample("pair"), namespace="F", module="L1Loss")
    yield OpInfo("binary_cross_entropy", loss_sample("probs"), namespace="F", module="BCELoss")
    yield OpInfo("binary_cross_entropy_with_logits", loss_sample("pair"), namespace="F", module="BCEWithLogitsLoss")
    yield OpInfo("multi_margin_loss", _margin_sample, namespace="F", module="MultiMarginLoss", gradcheck=False,
                 deviations=dict(gradcheck="piecewise linear: kinks where a margin term crosses zero"))


# ---- nn layers of the PyTorch-programs issue (18): normalisation, embedding, more losses ------------------------
def _norm_sample(kind):
    # unrounded values: a group of equal values has zero variance, where float32 rounding noise is magnified
    def sample(d, dt):
        affine = lambda shape: (d.array(shape, dt), d.array(shape, dt)) if d.bool() else (None, None)  # noqa: E731
        if kind == "layer_norm":
            shape = d.shape(1, 4, min_side=2)
            norm = shape[d.int(0, len(shape) - 1):]
            return Sample((d.array(shape, dt, nice=False), norm, *affine(norm)), dict(eps=d.choice((1e-5, 0.1))))
        if kind == "rms_norm":
            shape = d.shape(1, 4, min_side=2)
            norm = shape[d.int(0, len(shape) - 1):]
            return Sample((d.array(shape, dt, nice=False), norm, d.array(norm, dt) if d.bool() else None),
                          dict(eps=d.choice((None, 1e-5, 0.1))))
        if kind == "group_norm":
            g, c = d.int(1, 3), d.int(1, 2)
            x = d.array((d.int(1, 2), g * c) + d.shape(0, 2, 1, 3), dt, nice=False)
            if x.size // g == 1:    # one value per group: PyTorch refuses it (tests/test_nn_norm_embedding.py)
                x = np.concatenate([x, x + 1], axis=0)
            return Sample((x, g, *affine((g * c,))), dict(eps=d.choice((1e-5, 0.1))))
        if kind == "instance_norm":
            c, use_input_stats = d.int(1, 3), d.bool()
            x = d.array((d.int(1, 2), c, d.int(2, 4)) + d.shape(0, 1, 2, 3), dt, nice=False)
            stats = ((d.array((c,), dt), d.array((c,), dt, 0.5, 2.0)) if not use_input_stats or d.bool()
                     else (None, None))
            return Sample((x, *stats, *affine((c,))), dict(use_input_stats=use_input_stats, momentum=0.1, eps=1e-5))
        x = d.array((d.int(1, 2), d.int(1, 5)) + d.shape(1, 2, 1, 3), dt)
        return Sample((x, d.int(1, 4)), dict(alpha=d.choice((1e-4, 0.5)), beta=d.choice((0.75, 0.5)),
                                             k=d.choice((1.0, 2.0))))
    return sample


def _bilinear_sample(d, dt):
    batch, i1, i2, o = d.shape(0, 2), d.int(1, 3), d.int(1, 3), d.int(1, 3)
    return Sample((d.array(batch + (i1,), dt), d.array(batch + (i2,), dt), d.array((o, i1, i2), dt),
                   d.array((o,), dt) if d.bool() else None))


def _embedding_sample(d, dt):
    num, dim = d.int(1, 5), d.int(1, 3)
    kw = {}
    if d.bool():
        kw["padding_idx"] = d.int(-num, num - 1)
    # scale_grad_by_freq is compared in tests/test_nn_norm_embedding.py only: PyTorch's double backward leaves its
    # scaling out (ours keeps it, which gradgradcheck confirms), so the double-backward comparison would differ
    return Sample((d.labels(d.shape(0, 2), num), d.array((num, dim), dt)), kw)


def _weight_call(f, input, target, weight, **kw):
    return f(input, target, weight=weight, **kw)


def _loss_more_sample(kind):
    def sample(d, dt):
        red = d.choice(("mean", "sum", "none"))
        shape = d.shape(1, 3)
        x = d.array(shape, dt)
        sign = lambda shp: np.where(np.random.default_rng(d.seed()).random(shp) < 0.5, -1.0, 1.0).astype(dt)  # noqa
        if kind == "smooth_l1_loss":
            return Sample((x, d.array(shape, dt)), dict(reduction=red, beta=d.choice((0.0, 0.5, 1.0))))
        if kind == "huber_loss":
            w = d.array(shape, dt, 0.0, 2.0) if d.bool() else None    # keyword-only in use: see _weight_call
            return Sample((x, d.array(shape, dt), w), dict(reduction=red, delta=d.choice((0.5, 1.0, 2.0))))
        if kind == "kl_div":
            log_target = d.bool()
            t = d.array(shape, dt) if log_target else d.array(shape, dt, 0.05, 1.0)
            return Sample((x, t), dict(reduction=d.choice(("batchmean", "sum", "none", "mean")),
                                       log_target=log_target))
        if kind in ("soft_margin_loss", "hinge_embedding_loss"):
            kw = dict(margin=d.choice((0.5, 1.0, 2.0))) if kind == "hinge_embedding_loss" else {}
            return Sample((x, sign(shape)), dict(kw, reduction=red))
        if kind == "multilabel_soft_margin_loss":
            n, c = d.int(1, 3), d.int(1, 4)
            t = (np.random.default_rng(d.seed()).random((n, c)) < 0.5).astype(dt)
            return Sample((d.array((n, c), dt), t, d.array((c,), dt, 0.0, 2.0) if d.bool() else None),
                          dict(reduction=red))
        if kind == "margin_ranking_loss":
            return Sample((x, d.array(shape, dt), sign(shape)), dict(margin=d.choice((0.0, 0.5)), reduction=red))
        batch = (d.int(1, 3),) if d.bool() else ()
        # at least two features: the 2-norm of one value is |x|, whose second derivative PyTorch's float32 norm
        # rule leaves as rounding noise instead of 0
        vec = batch + (d.int(2, 4),)
        if kind == "cosine_embedding_loss":
            return Sample((d.array(vec, dt), d.array(vec, dt), sign(batch)),
                          dict(margin=d.choice((0.0, 0.5, -0.5)), reduction=red))
        if kind == "cosine_similarity":
            shape = d.shape(1, 3, min_side=2)
            dim = d.int(-len(shape), len(shape) - 1)
            other = tuple(1 if d.int(0, 3) == 0 else s for s in shape)
            return Sample((d.array(shape, dt, nice=False), d.array(other, dt, nice=False)),
                          dict(dim=dim, eps=d.choice((1e-8, 0.5))))
        if kind == "multilabel_margin_loss":
            n, c = d.int(1, 3), d.int(1, 4)
            rng = np.random.default_rng(d.seed())
            t = rng.integers(-1, c, (n, c))     # each row's list ends at its first -1; repeats count twice
            x = d.array((n, c), dt)
            return Sample((x[0], t[0]) if d.bool() else (x, t), dict(reduction=red))
        if kind == "pairwise_distance":
            return Sample((d.array(vec, dt), d.array(vec[-1:] if d.bool() else vec, dt)),
                          dict(p=d.choice((1.0, 2.0, 3.0)), keepdim=d.bool()))
        if kind == "triplet_margin_with_distance_loss":
            return Sample(tuple(d.array(vec, dt) for _ in range(3)),
                          dict(margin=d.choice((0.5, 1.0)), swap=d.bool(), reduction=red))
        if kind == "triplet_margin_loss":
            return Sample(tuple(d.array(vec, dt) for _ in range(3)),
                          dict(margin=d.choice((0.5, 1.0)), p=d.choice((1, 2)), swap=d.bool(), reduction=red))
        if kind == "poisson_nll_loss":
            log_input = d.bool()
            inp = x if log_input else d.array(shape, dt, 0.1, 3.0)
            return Sample((inp, d.array(shape, dt, 0.1, 3.0)), dict(log_input=log_input, full=d.bool(),
                                                                     reduction=red))
        vshape = d.choice((shape, shape[:-1], shape[:-1] + (1,)))
        return Sample((x, d.array(shape, dt), d.array(vshape, dt, 0.5, 2.0)), dict(full=d.bool(), reduction=red))
    return sample


def _resample_sample(kind):
    def sample(d, dt):
        if kind == "interpolate":
            mode = d.choice(("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear"))
            nd = dict(linear=1, bilinear=2, bicubic=2, trilinear=3).get(mode) or d.int(1, 3)
            x = d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 5) for _ in range(nd)), dt)
            kw = dict(mode=mode)
            if d.bool():
                kw["size"] = tuple(d.int(1, 7) for _ in range(nd)) if d.bool() else d.int(1, 7)
            else:
                # PyTorch's nearest (1-D, 3-D) and bicubic backward kernels take size shortcuts their forward ones
                # do not, so a scale factor that is not the size ratio gives gradients inconsistent with the
                # forward there (tests/test_nn_resample.py): those modes draw exact ratios
                odd = mode not in ("nearest", "bicubic")
                kw["scale_factor"] = d.choice((0.5, 1.0, 1.7, 2.0, 3.0, 1.3) if odd else (0.5, 1.0, 2.0, 3.0))
                kw["scale_factor"] = (kw["scale_factor"] if d.bool() or nd == 1 else
                                      tuple(d.choice((0.6, 1.5, 2.0, 2.5) if odd else (0.5, 2.0, 3.0))
                                            for _ in range(nd)))
                if any(int(n * s) < 1 for n, s in zip(x.shape[2:], np.broadcast_to(kw["scale_factor"], (nd,)))):
                    kw["scale_factor"] = 2.0
                if d.bool():
                    kw["recompute_scale_factor"] = d.bool()
            if mode in ("linear", "bilinear", "bicubic", "trilinear") and d.bool():
                kw["align_corners"] = d.bool()
            # PyTorch's antialiased kernel gives every row of a width-1 output the first row's value, and its
            # backward resamples a dim whose size a scale factor left unchanged while its forward leaves it alone
            # (tests/test_interpolate_antialias.py): the registry draws antialias away from both
            if "size" in kw:
                outs = np.broadcast_to(kw["size"], (nd,))
                kept = False
            else:
                scales = np.broadcast_to(kw["scale_factor"], (nd,))
                outs = [int(n * s) for n, s in zip(x.shape[2:], scales)]
                kept = any(o == n and s != 1 for o, n, s in zip(outs, x.shape[2:], scales))
            if mode in ("bilinear", "bicubic") and outs[-1] > 1 and not kept and d.bool():
                kw["antialias"] = True
            return Sample((x,), kw)
        if kind in ("upsample_nearest", "upsample_bilinear"):
            x = d.array((d.int(1, 2), d.int(1, 2), d.int(1, 4), d.int(1, 4)), dt)
            return Sample((x,), dict(size=(d.int(1, 6), d.int(1, 6))) if d.bool() else dict(scale_factor=d.choice(
                (1.0, 2.0, 3.0))))
        if kind == "grid_sample":
            n, k = d.int(1, 2), d.choice((2, 2, 3))     # 4-D and 5-D (volumetric) input
            x = d.array((n, d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(k)), dt)
            grid = d.array((n,) + tuple(d.int(1, 3) for _ in range(k)) + (k,), dt, -1.4, 1.4,
                           nice=False)   # some points outside
            modes = ("bilinear", "nearest", "bicubic") if k == 2 else ("bilinear", "nearest")
            return Sample((x, grid), dict(mode=d.choice(modes),
                                          padding_mode=d.choice(("zeros", "border", "reflection")),
                                          align_corners=d.bool()))
        if kind == "affine_grid":
            k = d.choice((2, 2, 3))
            n = d.int(1, 2)
            return Sample((d.array((n, k, k + 1), dt), (n, d.int(1, 3)) + tuple(d.int(1, 4) for _ in range(k))),
                          dict(align_corners=d.bool()))
        r = d.int(1, 3)
        if kind == "channel_shuffle":
            return Sample((d.array((d.int(1, 2), r * d.int(1, 3)) + d.shape(1, 2, max_side=3), dt), r))
        batch = d.shape(0, 2, max_side=2)
        if kind == "pixel_shuffle":
            return Sample((d.array(batch + (d.int(1, 2) * r * r, d.int(1, 3), d.int(1, 3)), dt), r))
        return Sample((d.array(batch + (d.int(1, 2), d.int(1, 2) * r, d.int(1, 2) * r), dt), r))
    return sample


def _embedding_bag_sample(d, dt):
    num, dim, mode = d.int(1, 5), d.int(1, 3), d.choice(("sum", "mean", "max"))
    kw = dict(mode=mode)
    if d.bool():
        kw["padding_idx"] = d.int(-num, num - 1)
    if d.bool():     # a 2-D batch of equal bags
        idx, offsets = d.labels((d.int(1, 3), d.int(1, 3)), num), None    # (PyTorch fails on empty rows)
    else:            # one run of indices cut into bags by offsets (empty bags too)
        idx = d.labels((d.int(0, 6),), num)
        offsets = np.sort(np.r_[0, np.random.default_rng(d.seed()).integers(0, idx.size + 1, d.int(0, 3))])
        if d.bool():
            kw["include_last_offset"] = True
            offsets = np.r_[offsets, idx.size]
    psw = d.array(idx.shape, dt) if mode == "sum" and d.bool() else None
    # unrounded weights: max mode's gradient goes to the first maximum, and ties between rows are PyTorch's choice
    return Sample((idx, d.array((num, dim), dt, nice=False), offsets, psw), kw)


def _embedding_bag_call(f, input, weight, offsets, per_sample_weights, **kw):
    return f(input, weight, offsets, per_sample_weights=per_sample_weights, **kw)


def _attention_sample(kind):
    def sample(d, dt):
        if kind == "sdpa":
            batch = d.shape(0, 2, max_side=2)
            L, S, e, ev = d.int(1, 4), d.int(1, 4), d.int(1, 4), d.int(1, 3)
            kw = {}
            mask = None
            choice = d.int(0, 3)
            if choice == 1:
                kw["is_causal"] = True
            elif choice == 2:     # where to attend; a row with nowhere gives zeros
                mask = np.random.default_rng(d.seed()).random((L, S)) < 0.7
            elif choice == 3:
                mask = d.array((L, S), dt)
            if d.bool():
                kw["scale"] = d.choice((0.3, 1.0))
            return Sample((d.array(batch + (L, e), dt), d.array(batch + (S, e), dt), d.array(batch + (S, ev), dt),
                           mask), kw)
        e, h = d.choice(((2, 1), (4, 2), (6, 3))), None
        e, h = e
        L, S, n = d.int(1, 3), d.int(1, 3), d.int(1, 2)
        # weights in [-1, 1]: with [-3, 3] the logits reach the hundreds and float32 rounding of the products
        # (either library's) shows in the attention weights
        w = [d.array(s, dt, -1.0, 1.0) for s in ((3 * e, e), (3 * e,), (e, e), (e,))]
        kpm = None
        if d.bool():
            kpm = np.random.default_rng(d.seed()).random((n, S)) < 0.3
            kpm[:, 0] = False   # PyTorch's softmax gives NaN rows where a query sees no key
        return Sample((d.array((L, n, e), dt), d.array((S, n, e), dt), d.array((S, n, e), dt), e, h, *w, kpm),
                      dict(need_weights=d.bool(), average_attn_weights=d.bool()))
    return sample


def _sdpa_call(f, q, k, v, attn_mask, **kw):
    return f(q, k, v, attn_mask=attn_mask, **kw)


def _mha_call(f, q, k, v, e, h, w_in, b_in, w_out, b_out, kpm, **kw):
    out, weights = f(q, k, v, e, h, w_in, b_in, None, None, False, 0.0, w_out, b_out, key_padding_mask=kpm, **kw)
    return out if weights is None else (out, weights)


def _ctc_sample(d, dt):
    T, N, C = d.int(1, 6), d.int(1, 3), d.int(2, 5)
    rng = np.random.default_rng(d.seed())
    tl = rng.integers(0, 4, N)
    il = rng.integers(max(1, T - 2), T + 1, N)
    targets = rng.integers(1, C, (N, max(int(tl.max()), 1)))     # 0 is the blank
    return Sample((d.array((T, N, C), dt, -3.0, 0.0), targets, [int(v) for v in il], [int(v) for v in tl]),
                  dict(reduction=d.choice(("mean", "sum", "none")), zero_infinity=d.bool()))


def _more_nn():
    yield OpInfo("layer_norm", _norm_sample("layer_norm"), namespace="F", module="LayerNorm", scale=10)
    yield OpInfo("group_norm", _norm_sample("group_norm"), namespace="F", module="GroupNorm", scale=10)
    yield OpInfo("instance_norm", _norm_sample("instance_norm"), namespace="F", module="InstanceNorm2d", scale=10,
                 constant_args=(1, 2))
    no_pool = "computes it (as float); PyTorch's average pooling has no kernel for this dtype"
    yield OpInfo("local_response_norm", _norm_sample("local_response_norm"), namespace="F",
                 module="LocalResponseNorm", scale=10, deviations=dict(dtypes=dict(bool=no_pool, int32=no_pool)))
    yield OpInfo("embedding", _embedding_sample, namespace="F", module="Embedding")
    yield OpInfo("rms_norm", _norm_sample("rms_norm"), namespace="F", module="RMSNorm", scale=10)
    yield OpInfo("ctc_loss", _ctc_sample, namespace="F", module="CTCLoss", scale=10, gradcheck=False, deviations=dict(
        gradcheck="PyTorch's rule: the gradient with respect to the logits whose log_softmax log_probs is, not the "
                  "derivative in log_probs itself", gradgrad="differentiable once, as PyTorch's"))
    # in evaluation (its functional default) rrelu is leaky_relu with the mean slope; training draws the slopes
    yield OpInfo("rrelu", lambda d, dt: Sample((d.array(d.shape(), dt),), dict(lower=d.choice((0.1, 0.125)),
                                                                               upper=d.choice((0.3, 0.5)))),
                 namespace="F", module="RReLU")
    yield OpInfo("bilinear", _bilinear_sample, namespace="F", module="Bilinear", scale=10)
    yield OpInfo("embedding_bag", _embedding_bag_sample, call=_embedding_bag_call, namespace="F",
                 module="EmbeddingBag")
    modules = dict(smooth_l1_loss="SmoothL1Loss", huber_loss="HuberLoss", kl_div="KLDivLoss",
                   soft_margin_loss="SoftMarginLoss", multilabel_soft_margin_loss="MultiLabelSoftMarginLoss",
                   hinge_embedding_loss="HingeEmbeddingLoss", margin_ranking_loss="MarginRankingLoss",
                   cosine_embedding_loss="CosineEmbeddingLoss", pairwise_distance="PairwiseDistance",
                   triplet_margin_loss="TripletMarginLoss", poisson_nll_loss="PoissonNLLLoss",
                   gaussian_nll_loss="GaussianNLLLoss", cosine_similarity="CosineSimilarity",
                   multilabel_margin_loss="MultiLabelMarginLoss",
                   triplet_margin_with_distance_loss="TripletMarginWithDistanceLoss")
    yield OpInfo("interpolate", _resample_sample("interpolate"), namespace="F", module="Upsample",
                 aliases=("upsample",), scale=10)
    yield OpInfo("pixel_shuffle", _resample_sample("pixel_shuffle"), namespace="F", module="PixelShuffle")
    yield OpInfo("pixel_unshuffle", _resample_sample("pixel_unshuffle"), namespace="F", module="PixelUnshuffle")
    yield OpInfo("channel_shuffle", _resample_sample("channel_shuffle"), namespace="F", module="ChannelShuffle")
    yield OpInfo("scaled_dot_product_attention", _attention_sample("sdpa"), call=_sdpa_call, namespace="F",
                 scale=10)
    yield OpInfo("multi_head_attention_forward", _attention_sample("mha"), call=_mha_call, namespace="F",
                 module="MultiheadAttention", scale=10)
    for n in ("upsample_nearest", "upsample_bilinear"):    # PyTorch's deprecated spellings of interpolate
        yield OpInfo(n, _resample_sample(n), namespace="F", scale=10)
    yield OpInfo("grid_sample", _resample_sample("grid_sample"), namespace="F", scale=10)
    yield OpInfo("affine_grid", _resample_sample("affine_grid"), namespace="F", deviations=dict(dtypes=dict(
        float16="computes float16 theta; PyTorch's CPU kernels have none for it")))
    for n, m in modules.items():
        yield OpInfo(n, _loss_more_sample(n), namespace="F", module=m, scale=10,
                     call=_weight_call if n == "huber_loss" else None,
                     constant_args=(1,) if n == "soft_margin_loss" else ())
