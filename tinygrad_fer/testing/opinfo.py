"""The op registry: one entry per public op, from which the op tests are generated (the idea of PyTorch's OpInfo).

An entry names the op (function, Tensor method, in-place variant, aliases, nn module), its PyTorch counterpart, a
sample generator, the dtypes it is compared in, whether it is differentiable, its tolerance scale and any known
deviation from PyTorch with the reason. tests/test_ops.py runs every entry through the same checks: values, dtype
and every gradient against PyTorch under a random upstream gradient, non-contiguous inputs, a float64 numeric
gradcheck, the method and in-place spellings, and each dtype (same result as PyTorch, or both raise).

A sample generator is `sample(draw, dtype) -> Sample(args, kwargs)`: args are NumPy arrays (made tensors: float
ones are differentiated) or plain values, and `draw` gives random choices (Hypothesis in the property tests, a
seeded NumPy generator for gradcheck), so one generator serves both.
"""
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

F32, F64 = np.float32, np.float64
FLOATS = (F32, F64)


class Sample(NamedTuple):
    args: tuple
    kwargs: dict = {}


class Draw:
    """Random choices for sample generators; subclasses say where the randomness comes from."""

    def int(self, lo, hi):
        raise NotImplementedError

    def seed(self):
        return self.int(0, 2 ** 31 - 1)

    def bool(self):
        return self.int(0, 1) == 1

    def choice(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def shape(self, min_dims=0, max_dims=3, min_side=1, max_side=4):
        return tuple(self.int(min_side, max_side) for _ in range(self.int(min_dims, max_dims)))

    def array(self, shape, dtype=F64, lo=-3.0, hi=3.0, nice=None):
        """Uniform values; `nice` (drawn when None) rounds them to one decimal, so repeats and ties occur."""
        rng = np.random.default_rng(self.seed())
        a = rng.uniform(lo, hi, shape)
        if (self.bool() if nice is None else nice) and self.nice:
            a = np.clip(np.round(a, 1), lo, hi)
        return np.asarray(a).astype(dtype)

    def away_from_zero(self, shape, dtype=F64, lo=0.2, hi=3.0):
        sign = np.where(np.random.default_rng(self.seed()).random(shape) < 0.5, -1.0, 1.0)
        return np.asarray(self.array(shape, F64, lo, hi) * sign).astype(dtype)

    def labels(self, shape, classes):
        return np.random.default_rng(self.seed()).integers(0, classes, shape)

    nice = True


class RngDraw(Draw):
    """Seeded NumPy choices; no rounded values, so numeric gradients stay away from kinks and ties."""
    nice = False

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)

    def int(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))


class HypothesisDraw(Draw):
    def __init__(self, data):
        from hypothesis import strategies as st
        self._data, self._st = data, st

    def int(self, lo, hi):
        return self._data.draw(self._st.integers(lo, hi))


@dataclass(frozen=True)
class OpInfo:
    name: str
    sample: Callable
    call: Callable = None            # call(f, *args, **kwargs) adapts a sample to the op f (default: f(*args))
    namespace: str = "tg"            # "tg" (tinygrad_fer.<name>), "F" (nn.functional.<name>) or "Tensor" (a method)
    torch_name: str = None
    torch_namespace: str = None      # where PyTorch has it when that differs ("tg" means torch.<name>)
    method: bool = False             # also Tensor.<name>
    inplace: str = None              # Tensor.<inplace>, the in-place variant
    aliases: tuple = ()
    module: str = None               # the nn.Module class built on it
    dtypes: tuple = FLOATS
    grad: bool = True
    gradcheck: bool = True
    scale: float = 1.0               # tolerance multiplier (accumulated rounding)
    signed_zeros: bool = False
    constant_args: tuple = ()        # positions of float arrays that are not differentiated (running statistics)
    deviations: dict = field(default_factory=dict)   # check name -> reason it is skipped for this op

    def fn(self, lib, name=None):
        """The op in lib (tinygrad_fer or torch), under its name or the alias `name`."""
        ns = self.namespace
        if not lib.__name__.startswith("tinygrad_fer"):
            name, ns = name or self.torch_name or self.name, self.torch_namespace or ns
        name = name or self.name
        if ns == "Tensor":  # a method only
            f = lambda t, *a, **k: getattr(t, name)(*a, **k)  # noqa: E731
        else:
            f = getattr(lib.nn.functional if ns == "F" else lib, name)
        return f if self.call is None else (lambda *a, **k: self.call(f, *a, **k))


# ---- sample generators ---------------------------------------------------------------------------
def unary(lo=-3.0, hi=3.0, nonzero=False):
    def sample(d, dt):
        shape = d.shape()
        return Sample((d.away_from_zero(shape, dt, max(lo, 0.2), hi) if nonzero else d.array(shape, dt, lo, hi),))
    return sample


def _broadcast_pair(d):
    shape = d.shape(1, 3)
    other = list(shape[d.int(0, len(shape) - 1):])
    for i in range(len(other)):
        if d.bool():
            other[i] = 1
    return (shape, tuple(other)) if d.bool() else (tuple(other), shape)


def binary(lo=-3.0, hi=3.0, rhs=None, scalar=True):
    """Two broadcastable arrays (or an array and a Python number); rhs(d, shape, dt) draws the second operand."""
    def sample(d, dt):
        sa, sb = _broadcast_pair(d)
        a = d.array(sa, dt, lo, hi)
        if scalar and d.int(0, 4) == 0:
            return Sample((a, float(d.away_from_zero((), F64))))
        return Sample((a, rhs(d, sb, dt) if rhs else d.array(sb, dt, lo, hi)))
    return sample


def reduction(dim=True, keepdim=True, required=False, **extra):
    def sample(d, dt):
        shape = d.shape(1 if required else 0, 3)
        kw = dict(extra)
        if shape and (required or (dim and d.bool())):
            kw["dim"] = d.int(-len(shape), len(shape) - 1)
            if keepdim and d.bool():
                kw["keepdim"] = True
        return Sample((d.array(shape, dt),), kw)
    return sample


def image(channels=(1, 3), size=(3, 7)):
    def draw(d, dt):
        return d.array((d.int(1, 2), d.int(*channels), d.int(*size), d.int(*size)), dt)
    return draw


def conv_sample(transposed=False):
    def sample(d, dt):
        g = d.choice((1, 1, 2))
        cin, cout = g * d.int(1, 2), g * d.int(1, 2)
        k, s, p, dil = d.int(1, 3), d.int(1, 2), d.int(0, 1), d.int(1, 2)
        h = d.int(dil * (k - 1) + 1, 6)
        x = d.array((d.int(1, 2), cin, h, h + d.int(0, 1)), dt)
        w = d.array((cin, cout // g, k, k) if transposed else (cout, cin // g, k, k), dt)
        kw = dict(stride=s, padding=p if not transposed else 0, dilation=dil, groups=g)
        if transposed:
            kw["output_padding"] = d.int(0, max(0, min(s, dil) - 1))
        return Sample((x, w, d.array((cout,), dt) if d.bool() else None), kw)
    return sample


def pool_sample(avg):
    def sample(d, dt):
        k = d.int(1, 3)
        s, p = d.int(1, 2), d.int(0, k // 2)
        x = d.array((d.int(1, 2), d.int(1, 2), d.int(k, 6), d.int(k, 6)), dt)
        kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=d.bool())
        if avg:
            kw["count_include_pad"] = d.bool()
        else:
            kw["dilation"] = d.int(1, 2) if (k - 1) * 2 + 1 <= min(x.shape[2:]) else 1
        return Sample((x,), kw)
    return sample


def loss_sample(kind):
    def sample(d, dt):
        n, c = d.int(1, 4), d.int(2, 4)
        red = dict(reduction=d.choice(("mean", "sum", "none")))
        if kind == "classes":
            return Sample((d.array((n, c), dt), d.labels((n,), c)), red)
        if kind == "probs":
            shape = d.shape(1, 2)
            return Sample((d.array(shape, dt, 0.05, 0.95), d.array(shape, dt, 0.0, 1.0)), red)
        shape = d.shape(1, 3)
        return Sample((d.array(shape, dt), d.array(shape, dt)), red)
    return sample


def _list_call(f, *ts, **kw):
    return f(list(ts), **kw)


def _list_sample(stack):
    def sample(d, dt):
        shape = d.shape(1, 3)
        dim = d.int(-len(shape) - stack, len(shape) - 1 + stack)
        shapes = []
        for _ in range(d.int(1, 3)):
            s = list(shape)
            if not stack:
                s[dim] = d.int(0, 3)
            shapes.append(tuple(s))
        return Sample(tuple(d.array(s, dt) for s in shapes), dict(dim=dim))
    return sample


def _movement(kind):
    def sample(d, dt):
        shape = d.shape(1, 4)
        x = d.array(shape, dt)
        n = len(shape)
        if kind == "permute":
            return Sample((x, tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n))))
        if kind == "transpose":
            return Sample((x, d.int(-n, n - 1), d.int(-n, n - 1)))
        if kind == "flatten":
            a = d.int(0, n - 1)
            return Sample((x,), dict(start_dim=a, end_dim=d.int(a, n - 1)))
        if kind == "reshape":
            return Sample((x, (-1,) + shape[n - 1:] if d.bool() else tuple(reversed(shape))))
        if kind == "squeeze":
            x = x.reshape(shape[:1] + (1,) + shape[1:])
            return Sample((x,), dict(dim=d.int(-n - 1, n)) if d.bool() else {})
        if kind == "unsqueeze":
            return Sample((x, d.int(-n - 1, n)))
        if kind == "flip":
            return Sample((x, tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))}))))
        if kind == "split":
            dim = d.int(0, n - 1)
            return Sample((x, d.int(1, shape[dim])), dict(dim=dim))
        if kind == "chunk":
            return Sample((x, d.int(1, 3)), dict(dim=d.int(0, n - 1)))
        if kind == "unbind":
            return Sample((x,), dict(dim=d.int(0, n - 1)))
        if kind == "broadcast_to":
            return Sample((x, (d.int(1, 2),) + tuple(s if d.bool() else s for s in shape)))
        raise ValueError(kind)
    return sample


def _method_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x = d.array(shape, dt)
        if kind == "expand":
            src = tuple(1 if d.bool() else s for s in shape)
            return Sample((d.array(src, dt), *((d.int(1, 2),) if d.bool() else ()), *shape))
        if kind == "repeat":
            return Sample((x, *(d.int(1, 2) for _ in range(len(shape) + d.int(0, 1)))))
        return Sample((x, -1) if d.bool() else (x, *reversed(shape)))
    return sample


def _getitem_sample(d, dt):
    shape = d.shape(1, 3)
    x = d.array(shape, dt)
    kind = d.int(0, 3)
    if kind == 0:
        idx = tuple(slice(d.int(0, s - 1), None, d.int(1, 2)) for s in shape)
    elif kind == 1:
        idx = (d.int(-shape[0], shape[0] - 1), Ellipsis)
    elif kind == 2:
        idx = (d.labels((d.int(1, 4),), shape[0]),)                        # integer array, repeats allowed
    else:
        idx = (np.random.default_rng(d.seed()).random(shape) < 0.5,)      # boolean mask
    return Sample((x, idx))


def _matmul_sample(d, dt):
    k = d.int(1, 4)
    a_dims, b_dims = d.int(1, 3), d.int(1, 3)
    batch = d.shape(0, 1)
    a = (batch if a_dims == 3 else ()) + ((d.int(1, 3), k) if a_dims >= 2 else (k,))
    b = (batch if b_dims == 3 else ()) + ((k, d.int(1, 3)) if b_dims >= 2 else (k,))
    return Sample((d.array(a, dt), d.array(b, dt)))


def _fixed(*shapes, **kw):
    return lambda d, dt: Sample(tuple(d.array(s, dt) for s in shapes), kw)


def _index_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x = d.array(shape, dt)
        dim = d.int(0, len(shape) - 1)
        if kind == "index_select":
            return Sample((x, dim, d.labels((d.int(0, 4),), shape[dim])))
        if kind == "gather":
            idx_shape = tuple(d.int(1, s) for s in shape)
            return Sample((x, dim, d.labels(idx_shape, shape[dim])))
        mask = np.random.default_rng(d.seed()).random(shape) < 0.5
        return Sample((x, mask, float(d.int(-2, 2))))
    return sample


def _where_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    return Sample((np.random.default_rng(d.seed()).random(sa) < 0.5, d.array(sa, dt), d.array(sb, dt)))


def _batch_norm_sample(d, dt):
    c = d.int(1, 3)
    x = d.array((d.int(2, 3), c) + d.shape(0, 2, 2, 3), dt)
    stats = (d.array((c,), dt), d.array((c,), dt, 0.5, 2.0))
    return Sample((x, *stats, d.array((c,), dt), d.array((c,), dt)), dict(training=d.bool(), momentum=0.1, eps=1e-5))


def _linear_sample(d, dt):
    i, o = d.int(1, 4), d.int(1, 3)
    return Sample((d.array(d.shape(0, 2) + (i,), dt), d.array((o, i), dt), d.array((o,), dt) if d.bool() else None))


def _pad_sample(d, dt):
    x = d.array(d.shape(1, 3), dt)
    return Sample((x, tuple(d.int(0, 2) for _ in range(2 * d.int(1, min(2, x.ndim))))), dict(value=float(d.int(-1, 1))))


def _unfold_sample(d, dt):
    k = d.int(1, 3)
    return Sample((d.array((d.int(1, 2), d.int(1, 2), d.int(k, 5), d.int(k, 5)), dt),),
                  dict(kernel_size=k, stride=d.int(1, 2), padding=d.int(0, 1), dilation=1))


def _fold_sample(d, dt):
    k, s, size = d.int(1, 2), d.int(1, 2), (d.int(2, 5), d.int(2, 5))
    blocks = ((size[0] - k) // s + 1) * ((size[1] - k) // s + 1)
    return Sample((d.array((d.int(1, 2), d.int(1, 2) * k * k, blocks), dt),),
                  dict(output_size=size, kernel_size=k, stride=s))


def _adaptive_sample(d, dt):
    x = d.array((d.int(1, 2), d.int(1, 2), d.int(1, 7), d.int(1, 7)), dt)
    return Sample((x, (d.int(1, x.shape[2]), d.int(1, x.shape[3]))))


def _margin_sample(d, dt):
    n, c = d.int(1, 4), d.int(2, 4)
    return Sample((d.array((n, c), dt), d.labels((n,), c)), dict(p=d.choice((1, 2)), margin=1.0,
                                                                 reduction=d.choice(("mean", "sum", "none"))))


# ---- the registry --------------------------------------------------------------------------------
def _unaries():
    domains = dict(log=(0.1, 5.0), log2=(0.1, 5.0), sqrt=(0.1, 5.0), rsqrt=(0.1, 5.0), log1p=(-0.9, 5.0))
    for n in ("abs ceil cos exp expm1 floor log log1p log2 neg reciprocal round rsqrt sigmoid sign sin sqrt square "
              "tanh relu").split():
        lo, hi = domains.get(n, (-3.0, 3.0))
        yield OpInfo(n, unary(lo, hi, nonzero=n == "reciprocal"), method=True, inplace=n + "_",
                     aliases=dict(neg=("negative",)).get(n, ()), signed_zeros=n in ("neg", "abs", "relu"),
                     module=dict(relu="ReLU", sigmoid="Sigmoid", tanh="Tanh").get(n))


def _binaries():
    pos = lambda d, s, dt: d.array(s, dt, 0.2, 3.0)  # noqa: E731
    nonzero = lambda d, s, dt: d.away_from_zero(s, dt)  # noqa: E731
    yield OpInfo("add", binary(), method=True, inplace="add_")
    yield OpInfo("sub", binary(), method=True, inplace="sub_", aliases=("subtract",))
    yield OpInfo("mul", binary(), method=True, inplace="mul_", aliases=("multiply",))
    yield OpInfo("div", binary(rhs=nonzero), method=True, inplace="div_", aliases=("divide",))
    yield OpInfo("pow", binary(0.2, 3.0), method=True, inplace="pow_", scale=10)
    yield OpInfo("maximum", binary(scalar=False), method=True)
    yield OpInfo("minimum", binary(scalar=False), method=True)
    yield OpInfo("remainder", binary(rhs=nonzero), method=True, inplace="remainder_", gradcheck=False,
                 deviations=dict(gradcheck="piecewise: jumps where a/b crosses an integer"))
    yield OpInfo("fmod", binary(rhs=nonzero), method=True, inplace="fmod_", gradcheck=False,
                 deviations=dict(gradcheck="piecewise: jumps where a/b crosses an integer"))
    yield OpInfo("floor_divide", binary(rhs=pos), method=True, inplace="floor_divide_", grad=False)
    for n in "eq ne lt le gt ge".split():
        yield OpInfo(n, binary(), method=True, grad=False, inplace=n + "_",
                     aliases=dict(ne=("not_equal",), lt=("less",), le=("less_equal",), gt=("greater",),
                                  ge=("greater_equal",)).get(n, ()))
    for n in "logical_and logical_or logical_xor".split():
        yield OpInfo(n, binary(scalar=False), method=True, grad=False,
                     inplace=None if n == "logical_xor" else n + "_")
    yield OpInfo("logical_not", unary(), method=True, grad=False, inplace="logical_not_")
    for n in "isnan isinf isfinite".split():
        yield OpInfo(n, unary(), method=True, grad=False)
    yield OpInfo("where", _where_sample, gradcheck=True)
    yield OpInfo("clamp", lambda d, dt: Sample((d.array(d.shape(), dt),), dict(min=-1.0, max=d.choice((1.0, None)))),
                 method=True, inplace="clamp_", aliases=("clip",))


def _reductions():
    yield OpInfo("sum", reduction(), method=True)
    yield OpInfo("mean", reduction(), method=True)
    yield OpInfo("prod", reduction(), method=True, scale=10)
    for n in "amax amin".split():
        yield OpInfo(n, reduction(), method=True)
    for n in "max min".split():
        yield OpInfo(n, reduction(), method=True)
    for n in "argmax argmin".split():
        yield OpInfo(n, reduction(), method=True, grad=False)
    for n in "var std".split():
        yield OpInfo(n, reduction(), method=True, scale=10)
    yield OpInfo("logsumexp", reduction(required=True), method=True)
    for n in "softmax log_softmax".split():
        yield OpInfo(n, reduction(required=True, keepdim=False), method=True)
        yield OpInfo(n, reduction(required=True, keepdim=False), namespace="F",
                     module=dict(softmax="Softmax", log_softmax="LogSoftmax")[n])
    for n in "all any".split():
        yield OpInfo(n, reduction(), method=True, grad=False)


def _movements():
    for n in "permute transpose reshape squeeze unsqueeze flip split chunk unbind broadcast_to".split():
        yield OpInfo(n, _movement(n), method=True)
    yield OpInfo("flatten", _movement("flatten"), method=True, module="Flatten")
    yield OpInfo("unflatten", lambda d, dt: Sample((d.array((2, 6, d.int(1, 2)), dt), 1,
                                                    d.choice(((2, 3), (3, 2), (-1, 3), (6, 1), (1, -1))))),
                 namespace="F", torch_namespace="tg", module="Unflatten")
    yield OpInfo("t", lambda d, dt: Sample((d.array(d.shape(0, 2), dt),)), method=True)
    yield OpInfo("expand", _method_sample("expand"), namespace="Tensor")
    yield OpInfo("repeat", _method_sample("repeat"), namespace="Tensor")
    yield OpInfo("view", _method_sample("view"), namespace="Tensor",
                 deviations=dict(noncontiguous="view needs strides compatible with the new shape (PyTorch raises too)"))
    yield OpInfo("contiguous", lambda d, dt: Sample((d.array(d.shape(), dt),)), namespace="Tensor")
    yield OpInfo("__getitem__", _getitem_sample, namespace="Tensor")
    yield OpInfo("clone", unary(), method=True)
    yield OpInfo("cat", _list_sample(False), call=_list_call, aliases=("concat", "concatenate"))
    yield OpInfo("stack", _list_sample(True), call=_list_call)
    yield OpInfo("index_select", _index_sample("index_select"), method=True)
    yield OpInfo("gather", _index_sample("gather"), method=True)
    yield OpInfo("masked_fill", _index_sample("masked_fill"), method=True, inplace="masked_fill_")


def _linear_algebra():
    yield OpInfo("matmul", _matmul_sample, method=True)
    yield OpInfo("mm", _fixed((2, 3), (3, 4)), method=True)
    yield OpInfo("bmm", _fixed((2, 2, 3), (2, 3, 2)), method=True)
    yield OpInfo("dot", _fixed((4,), (4,)), method=True)
    yield OpInfo("linear", _linear_sample, namespace="F", module="Linear")


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


# Dtypes where we differ from PyTorch today (tests/test_ops.py::test_dtypes_like_torch fails when one is fixed, so
# the list only shrinks). The dtype tables of the tensor-op breadth issue (17) are where they go away.
_BOOL = "accepts bool input, which PyTorch refuses"
_INT = "accepts integer input, which PyTorch refuses"
_INT_FLOAT = "integer input gives a float result; PyTorch keeps the integer dtype"
_NO_INT = "refuses integer input, which PyTorch's CPU kernel computes"
_DTYPE_DEVIATIONS = {
    **{("tg", n): dict(bool=_BOOL) for n in "abs ceil floor round relu argmax argmin".split()},
    ("F", "relu"): dict(bool=_BOOL),
    **{("F", n): dict(bool=_BOOL, int64=_INT, int32=_INT) for n in "elu leaky_relu softplus silu".split()},
    **{(ns, n): dict(bool=_BOOL, int64=_INT, int32=_INT) for ns in ("tg", "F") for n in ("softmax", "log_softmax")},
    **{("tg", n): dict(bool=_BOOL) for n in "matmul mm bmm dot".split()},
    ("F", "linear"): dict(bool=_BOOL),
    ("tg", "square"): dict(bool="bool input gives bool; PyTorch promotes it to int64"),
    ("tg", "pow"): dict(bool=_BOOL),
    **{("F", n): dict(bool=_BOOL, int64=_INT_FLOAT, int32=_INT_FLOAT) for n in ("relu6", "hardtanh")},
    ("F", "logsigmoid"): dict(int64=_INT, int32=_INT),
    ("F", "conv2d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "conv_transpose2d"): dict(int64=_NO_INT),
    ("F", "avg_pool2d"): dict(int64=_NO_INT),
    ("F", "adaptive_max_pool2d"): dict(int64=_INT, int32=_INT),
    # the 1-D ops are the 2-D ones on a plane of height 1: the same dtype rules (PyTorch's 1-D kernels agree)
    ("F", "conv1d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "conv_transpose1d"): dict(int64=_NO_INT),
    ("F", "avg_pool1d"): dict(int64=_NO_INT),
    ("F", "max_pool1d"): dict(int64=_INT, int32=_INT),
    ("F", "adaptive_max_pool1d"): dict(int64=_INT, int32=_INT),
    ("F", "conv3d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "lp_pool3d"): dict(float16="accepts float16 (through avg_pool3d), which PyTorch's CPU kernel refuses"),
    ("F", "conv_transpose3d"): dict(int64=_NO_INT),
    ("F", "max_pool3d"): dict(int64=_NO_INT, int32=_NO_INT),
    ("F", "avg_pool3d"): dict(int64=_NO_INT, float16="accepts float16, which PyTorch's CPU kernel refuses"),
    ("F", "unfold"): dict(bool="refuses bool input, which PyTorch computes"),
    ("F", "fold"): dict(bool="refuses bool input, which PyTorch computes"),
    ("F", "batch_norm"): dict(int64=_INT, int32=_INT),
    ("F", "nll_loss"): dict(int64=_INT, int32=_INT),
    ("F", "multi_margin_loss"): dict(int64=_INT, int32=_INT, float16="accepts float16, which PyTorch's CPU kernel "
                                                                       "refuses"),
}


# ---- the tensor-op breadth issue's ops, one generator per family ----------------------------------------
def _nonfinite_sample(d, dt):
    """An array with some nan and infinite values (not in numeric gradient checks: RngDraw.nice is False)."""
    x = d.array(d.shape(), dt)
    if d.nice and x.size:
        flat = x.reshape(-1)
        for v in (np.nan, np.inf, -np.inf):
            if d.bool():
                flat[d.int(0, flat.size - 1)] = v
    kw = {k: float(d.int(-3, 3)) for k in ("nan", "posinf", "neginf") if d.bool()}
    return Sample((x,), kw)


def _lerp_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    w = d.array(d.choice((sa, sb, ())), dt, -0.5, 1.5) if d.bool() else float(d.choice((0.0, 0.25, 0.5, 0.75, 1.0)))
    return Sample((d.array(sa, dt), d.array(sb, dt), w))


def _clamp_tensor_sample(d, dt):
    sa, sb = _broadcast_pair(d)
    full = np.broadcast_shapes(sa, sb)  # PyTorch's backward fails when the bounds broadcast the input bigger
    lo = d.array(d.choice((sa, sb)), dt, -2.0, 0.5)
    hi = d.choice((d.array(d.choice((sa, sb)), dt, -0.5, 2.0), None))
    return Sample((d.array(full, dt), lo, hi)) if d.bool() else Sample((d.array(full, dt), None, d.array(sb, dt)))


def _more_elementwise():
    domains = dict(log10=(0.1, 5.0), asin=(-0.9, 0.9), acos=(-0.9, 0.9), atanh=(-0.9, 0.9), acosh=(1.1, 5.0),
                   erfinv=(-0.9, 0.9))
    aliases = dict(asin=("arcsin",), acos=("arccos",), atan=("arctan",), asinh=("arcsinh",), acosh=("arccosh",),
                   atanh=("arctanh",), trunc=("fix",))
    for n in ("log10 exp2 trunc frac sinh cosh asin acos atan asinh acosh atanh erf erfc erfinv sinc deg2rad "
              "rad2deg sgn").split():
        # sgn: PyTorch's gradient is a ZeroTensor, which the comparison cannot read (ours: zeros, as sign's)
        yield OpInfo(n, unary(*domains.get(n, (-3.0, 3.0))), method=True, inplace=n + "_", aliases=aliases.get(n, ()),
                     grad=n != "sgn")
    pos = lambda d, s, dt: d.array(s, dt, 0.2, 3.0)  # noqa: E731
    yield OpInfo("atan2", binary(scalar=False), method=True, inplace="atan2_", aliases=("arctan2",))
    yield OpInfo("hypot", binary(scalar=False), method=True, inplace="hypot_")
    yield OpInfo("copysign", binary(), method=True, inplace="copysign_", gradcheck=False,
                 deviations=dict(gradcheck="jumps where the magnitude operand crosses zero"))
    yield OpInfo("logaddexp", binary(scalar=False), method=True)
    yield OpInfo("logaddexp2", binary(scalar=False), method=True)
    yield OpInfo("xlogy", binary(rhs=pos, scalar=False), method=True, inplace="xlogy_")
    yield OpInfo("lerp", _lerp_sample, method=True, inplace="lerp_")
    yield OpInfo("nan_to_num", _nonfinite_sample, method=True, inplace="nan_to_num_")
    for n in ("isposinf", "isneginf"):
        yield OpInfo(n, lambda d, dt: Sample(_nonfinite_sample(d, dt).args), method=True, grad=False)
    yield OpInfo("clip", _clamp_tensor_sample, method=True, inplace="clip_")


def _with_nans(d, a):
    """a with about a quarter of its elements NaN (when drawn), for the NaN-ignoring reductions."""
    if a.size and d.bool():
        a = np.where(np.random.default_rng(d.seed()).random(a.shape) < 0.25, np.nan, a).astype(a.dtype)
    return a


def _order_sample(kind):
    """Samples for scans and order statistics; distinct values where the chosen index would be ambiguous."""
    def sample(d, dt):
        shape = d.shape(0 if kind in ("sort", "argsort", "median", "nanmedian") else 1, 3)
        x = d.array(shape, dt, nice=False if kind in ("topk", "kthvalue", "median", "nanmedian") else None)
        kw = {}
        if kind in ("nansum", "nanmean", "nanmedian"):
            x = _with_nans(d, x)
        n = len(shape)
        dim = d.int(-n, n - 1) if n else d.choice((0, -1))
        if kind in ("sort", "argsort"):
            return Sample((x,), dict(dim=dim, descending=d.bool(), stable=True))
        if kind == "topk":
            return Sample((x, d.int(0, shape[dim])), dict(dim=dim, largest=d.bool()))
        if kind == "kthvalue":
            return Sample((x, d.int(1, shape[dim])), dict(dim=dim, keepdim=d.bool()))
        if kind in ("median", "nanmedian"):
            return Sample((x,), dict(dim=dim, keepdim=d.bool()) if d.bool() else {})
        if kind == "diff":
            kw = dict(n=d.int(0, 2), dim=dim)
            extra = lambda: d.array(shape[:dim % n] + (d.int(1, 2),) + shape[dim % n + 1:], dt)  # noqa: E731
            args = (x, kw.pop("n"), kw.pop("dim"), extra() if d.bool() else None, extra() if d.bool() else None)
            return Sample(args)
        if kind == "norm":
            p = d.choice(("fro", 1, 2, 3, float("inf"), -float("inf")))
            if d.bool():
                kw = dict(dim=tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))})), keepdim=d.bool())
            return Sample((x, p), kw)
        if kind == "count_nonzero":
            x = np.where(np.random.default_rng(d.seed()).random(shape) < 0.3, 0, x).astype(dt)
            return Sample((x,), dict(dim=dim) if d.bool() else {})
        if kind in ("var_mean", "std_mean"):
            kw = dict(dim=dim, keepdim=d.bool()) if d.bool() else {}
            if d.bool():
                kw["correction"] = d.int(0, 1)
            return Sample((x,), kw)
        if kind in ("aminmax", "nansum", "nanmean"):
            return Sample((x,), dict(dim=dim, keepdim=d.bool()) if d.bool() else {})
        return Sample((x,), dict(dim=dim))
    return sample


def _more_reductions():
    for n in "cumsum cumprod".split():
        yield OpInfo(n, _order_sample(n), method=True, inplace=n + "_", scale=10)
    for n in "cummax cummin".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("logcumsumexp", _order_sample("logcumsumexp"), method=True,
                 deviations={"gradgrad": "its backward sums in log space with no recorded form yet: differentiating "
                                         "the gradient raises (PyTorch has a double backward)"})
    for n in "sort topk kthvalue median nanmedian".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("argsort", _order_sample("argsort"), method=True, grad=False)
    yield OpInfo("msort", lambda d, dt: Sample((d.array(d.shape(1, 3), dt),)), method=True)
    for n in "var_mean std_mean".split():
        yield OpInfo(n, _order_sample(n), scale=10)
    for n in "aminmax nansum nanmean".split():
        yield OpInfo(n, _order_sample(n), method=True)
    yield OpInfo("count_nonzero", _order_sample("count_nonzero"), method=True, grad=False)
    yield OpInfo("diff", _order_sample("diff"), method=True)
    yield OpInfo("trace", lambda d, dt: Sample((d.array(d.shape(2, 2), dt),)), method=True)
    yield OpInfo("norm", _order_sample("norm"), method=True, scale=10)
    yield OpInfo("dist", lambda d, dt: Sample((*binary(scalar=False)(d, dt).args, d.choice((1, 2, 3, float("inf"))))),
                 method=True, scale=10)


def _shaping_sample(kind):
    def sample(d, dt):
        shape = d.shape(2 if kind in ("tril", "rot90", "vsplit", "dsplit") else 1, 3)
        x, n = d.array(shape, dt), len(shape)
        dim = d.int(-n, n - 1)
        if kind == "tril":
            return Sample((x,), dict(diagonal=d.int(-2, 2)))
        if kind == "roll":
            if d.bool():
                return Sample((x, d.int(-5, 5)))
            dims = tuple(sorted({d.int(0, n - 1) for _ in range(d.int(1, n))}))
            return Sample((x, tuple(d.int(-5, 5) for _ in dims), dims))
        if kind == "movedim":
            src = tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n)[:d.int(1, n)])
            dst = tuple(int(i) for i in np.random.default_rng(d.seed()).permutation(n)[:len(src)])
            return Sample((x, src, dst) if len(src) > 1 or d.bool() else (x, src[0], dst[0]))
        if kind == "narrow":
            size = shape[dim]
            start = d.int(-size, size - 1)
            return Sample((x, dim, start, d.int(0, size - start % size)))
        if kind == "select":
            return Sample((x, dim, d.int(-shape[dim], shape[dim] - 1)))
        if kind == "tile":
            return Sample((x, tuple(d.int(1, 2) for _ in range(d.int(1, n + 1)))))
        if kind == "repeat_interleave":
            if d.bool():
                return Sample((x, d.int(0, 3)), dict(dim=dim) if d.bool() else {})
            return Sample((x, d.labels((shape[dim],), 3)), dict(dim=dim))
        if kind == "rot90":
            a = d.int(0, n - 1)
            return Sample((x,), dict(k=d.int(-5, 5), dims=(a, d.choice([i for i in range(n) if i != a]))))
        if kind == "tensor_split":
            sec = d.int(1, 4) if d.bool() else sorted(d.int(-1, shape[dim] + 1) for _ in range(d.int(1, 3)))
            return Sample((x, sec), dict(dim=dim))
        if kind in ("hsplit", "vsplit", "dsplit"):
            x = d.array(shape + (d.int(1, 4),) * (kind == "dsplit"), dt)
            size = x.shape[dict(hsplit=1 if n > 1 else 0, vsplit=0, dsplit=2)[kind]]
            return Sample((x, d.choice([k for k in range(1, size + 1) if size % k == 0]) if d.bool() else
                           [d.int(0, size)]))
        raise ValueError(kind)
    return sample


def _stack_like_sample(kind):
    def sample(d, dt):
        shape = list(d.shape(0, 3))
        n = len(shape)
        grow = dict(hstack=0 if n == 1 else 1, vstack=0, dstack=2, column_stack=1)[kind]
        shapes = []
        for _ in range(d.int(1, 3)):
            if grow < n and (n >= 2 or kind == "hstack"):
                shape[grow] = d.int(1, 3)
            shapes.append(tuple(shape))
        return Sample(tuple(d.array(s, dt) for s in shapes))
    return sample


def _diag_sample(kind):
    def sample(d, dt):
        if kind == "diag":
            return Sample((d.array(d.shape(1, 2), dt), d.int(-3, 3)))
        if kind == "diag_embed":
            x = d.array(d.shape(1, 2), dt)
            n = x.ndim + 1
            a = d.int(-n, n - 1)
            b = d.choice([i for i in range(-n, n) if i % n != a % n])
            return Sample((x,), dict(offset=d.int(-2, 2), dim1=a, dim2=b))
        x = d.array(d.shape(2, 4), dt)
        a = d.int(-x.ndim, x.ndim - 1)
        b = d.choice([i for i in range(-x.ndim, x.ndim) if i % x.ndim != a % x.ndim])
        return Sample((x,), dict(offset=d.int(-3, 3), dim1=a, dim2=b))
    return sample


def _inner_sample(d, dt):
    k = d.int(1, 3)
    a, b = d.shape(0, 2), d.shape(0, 2)
    if d.int(0, 4) == 0:
        return Sample((d.array((), dt), d.array(b, dt)))
    return Sample((d.array(a + (k,), dt), d.array(b + (k,), dt)))


def _tensordot_sample(d, dt):
    a = d.shape(1, 3)
    k = d.int(0, len(a))
    if d.bool():
        b = a[len(a) - k:] + d.shape(0, 2)
        return Sample((d.array(a, dt), d.array(b, dt)), dict(dims=k))
    da = [int(i) for i in np.random.default_rng(d.seed()).permutation(len(a))[:k]]
    b = d.shape(0, 2)
    db = []
    for i in da:
        db.append(d.int(0, len(b)))
        b = b[:db[-1]] + (a[i],) + b[db[-1]:]
        db = [j + (j >= db[-1] and n < len(db) - 1) for n, j in enumerate(db)]
    return Sample((d.array(a, dt), d.array(b, dt)), dict(dims=(da, db)))


def _scatter_sample(kind):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x, n = d.array(shape, dt), len(shape)
        dim = d.int(-n, n - 1)
        rng = np.random.default_rng(d.seed())
        if kind == "take":
            return Sample((x, rng.integers(-x.size, x.size, d.shape(0, 2))))
        if kind == "take_along_dim":
            if d.bool():
                return Sample((x, rng.integers(0, x.size, d.shape(1, 1))))
            idx = tuple(1 if d.bool() else s for s in shape)
            idx = idx[:dim % n] + (d.int(1, 3),) + idx[dim % n + 1:]
            return Sample((x, rng.integers(0, shape[dim], idx)), dict(dim=dim))
        if kind == "masked_select":
            mask_shape = tuple(1 if d.bool() else s for s in shape)[d.int(0, n):]
            return Sample((x, np.asarray(rng.random(mask_shape) < 0.5)))
        if kind in ("index_add", "index_fill"):
            idx = rng.integers(0, shape[dim], d.int(0, 4))
            if kind == "index_fill":
                return Sample((x, dim, idx, float(d.int(-2, 2))))
            src = d.array(shape[:dim % n] + (len(idx),) + shape[dim % n + 1:], dt)
            return Sample((x, dim, idx, src), dict(alpha=d.choice((1, 2))) if d.bool() else {})
        # scatter writes repeated positions in an unspecified order: distinct positions along dim keep it defined
        rows = d.int(1, shape[dim])
        idx_shape = tuple(d.int(1, s) for s in shape)
        idx_shape = idx_shape[:dim % n] + (rows if kind == "scatter" else d.int(1, 4),) + idx_shape[dim % n + 1:]
        if kind == "scatter":
            others = idx_shape[:dim % n] + idx_shape[dim % n + 1:]
            idx = np.moveaxis(np.argsort(rng.random(others + (shape[dim],)), axis=-1)[..., :rows], -1, dim % n)
        else:
            idx = rng.integers(0, shape[dim], idx_shape)
        src = d.array(idx_shape, dt)  # PyTorch's backward fails for a src larger than index
        if kind == "scatter" and d.bool():
            return Sample((x, dim, idx), dict(value=float(d.int(-2, 2))))
        return Sample((x, dim, idx, src))
    return sample


def _same_shapes_sample(d, dt):
    shape = d.shape(0, 3)
    return Sample(tuple(d.array(shape, dt) for _ in range(d.int(1, 3))))


def _more_shaping():
    for n in ("tril", "triu"):
        yield OpInfo(n, _shaping_sample("tril"), method=True, inplace=n + "_")
    yield OpInfo("roll", _shaping_sample("roll"), method=True)
    yield OpInfo("movedim", _shaping_sample("movedim"), method=True, aliases=("moveaxis",))
    for n in ("narrow", "select", "tile", "repeat_interleave", "rot90", "tensor_split", "hsplit", "vsplit",
              "dsplit"):
        yield OpInfo(n, _shaping_sample(n), method=True)
    for n in ("atleast_1d", "atleast_2d", "atleast_3d"):
        yield OpInfo(n, _same_shapes_sample)
    for n in ("hstack", "vstack", "dstack", "column_stack"):
        yield OpInfo(n, _stack_like_sample(n), call=_list_call)
    yield OpInfo("diagonal", _diag_sample("diagonal"), method=True)
    yield OpInfo("diag", _diag_sample("diag"), method=True)
    yield OpInfo("diag_embed", _diag_sample("diag_embed"), method=True)
    yield OpInfo("broadcast_tensors", lambda d, dt: Sample(tuple(d.array(s, dt) for s in _broadcast_pair(d))))
    yield OpInfo("meshgrid", lambda d, dt: Sample(tuple(d.array(d.shape(0, 1), dt) for _ in range(d.int(1, 3))),
                                                  dict(indexing=d.choice(("ij", "xy")))))
    yield OpInfo("outer", _fixed((3,), (4,)), method=True, aliases=("ger",))
    yield OpInfo("inner", _inner_sample, method=True, deviations=dict(dtypes=dict(bool=_BOOL)))
    yield OpInfo("kron", lambda d, dt: Sample((d.array(d.shape(0, 3), dt), d.array(d.shape(0, 3), dt))), method=True)
    yield OpInfo("tensordot", _tensordot_sample, deviations=dict(dtypes=dict(bool=_BOOL)))
    for n in ("take", "take_along_dim", "masked_select"):
        yield OpInfo(n, _scatter_sample(n), method=True)
    for n in ("scatter", "scatter_add", "index_add", "index_fill"):
        yield OpInfo(n, _scatter_sample(n), method=True, inplace=n + "_")


def _act_sample(lo=-3.0, hi=3.0, **choices):
    """One array (values in [lo, hi]) and each keyword drawn from its tuple of choices."""
    def sample(d, dt):
        return Sample((d.array(d.shape(), dt, lo, hi),), {k: d.choice(v) for k, v in choices.items()})
    return sample


def _activation_sample(kind):
    def sample(d, dt):
        shape = list(d.shape(1, 3))
        n = len(shape)
        if kind == "glu":
            dim = d.int(-n, n - 1)
            shape[dim] = 2 * d.int(1, 2)
            return Sample((d.array(tuple(shape), dt),), dict(dim=dim))
        if kind == "prelu":
            shape = tuple(d.shape(1, 4))
            c = shape[1] if len(shape) >= 2 and d.bool() else 1
            return Sample((d.array(shape, dt), d.array((c,), dt, 0.0, 0.5)))
        if kind == "threshold":
            return Sample((d.array(tuple(shape), dt), d.choice((-0.5, 0.0, 1.0)), d.choice((0.0, -2.0, 5.0))))
        return Sample((d.array(tuple(shape), dt),), dict(p=d.choice((1.0, 2.0, 3.0)), dim=d.int(-n, n - 1)))
    return sample


def _more_activations():
    ints = dict(int64=_INT, int32=_INT)
    yield OpInfo("gelu", _act_sample(approximate=("none", "tanh")), namespace="F", module="GELU")
    yield OpInfo("selu", unary(), namespace="F", module="SELU")
    yield OpInfo("celu", _act_sample(alpha=(0.5, 1.0, 2.0)), namespace="F", module="CELU")
    yield OpInfo("mish", unary(), namespace="F", module="Mish")
    yield OpInfo("hardswish", unary(-5.0, 5.0), namespace="F", module="Hardswish")
    yield OpInfo("hardsigmoid", unary(-5.0, 5.0), namespace="F", module="Hardsigmoid")
    yield OpInfo("softsign", unary(), namespace="F", module="Softsign")
    yield OpInfo("softmin", reduction(required=True, keepdim=False), namespace="F", module="Softmin")
    yield OpInfo("glu", _activation_sample("glu"), namespace="F", module="GLU")
    yield OpInfo("prelu", _activation_sample("prelu"), namespace="F", module="PReLU")
    yield OpInfo("threshold", _activation_sample("threshold"), namespace="F", module="Threshold")
    yield OpInfo("tanhshrink", unary(), namespace="F", module="Tanhshrink")
    yield OpInfo("softshrink", _act_sample(lambd=(0.0, 0.5, 1.0)), namespace="F", module="Softshrink")
    yield OpInfo("hardshrink", _act_sample(lambd=(0.0, 0.5, 1.0)), namespace="F", module="Hardshrink")
    yield OpInfo("normalize", _activation_sample("normalize"), namespace="F")


def _search_sample(kind):
    """Samples for the searching and counting ops: values on a coarse grid, so repeats, ties and zeros occur."""
    def sample(d, dt):
        shape = d.shape(0, 3)
        grid = lambda shp: np.asarray(np.round(d.array(shp, F64, -2.4, 2.4)), dt)  # noqa: E731  (-2 .. 2)
        if kind == "nonzero_static":
            return Sample((grid(shape),), dict(size=d.int(0, 6), fill_value=d.int(-2, 9)))
        if kind == "unravel_index":     # indices out of range and negative too: PyTorch wraps them
            sides = d.shape(0, 3)
            total = int(np.prod(sides))
            x = np.random.default_rng(d.seed()).integers(-total, 2 * total + 1, d.shape(0, 2))
            return Sample((x, sides[0] if len(sides) == 1 and d.bool() else sides))
        if kind in ("nonzero", "argwhere"):
            return Sample((grid(shape),), dict(as_tuple=d.bool()) if kind == "nonzero" and d.bool() else {})
        if kind in ("unique", "unique_consecutive"):
            kw = dict(return_inverse=d.bool(), return_counts=d.bool())
            if kind == "unique":
                kw["sorted"] = d.bool()
            if shape and d.bool():  # slices along dim: few columns of a coarse grid, so whole slices repeat
                shape = shape[:1] + tuple(min(s, 2) for s in shape[1:])
                x = np.asarray(np.round(d.array(shape, F64, -0.6, 0.6)), dt)
                return Sample((x,), dict(kw, dim=d.int(-len(shape), len(shape) - 1)))
            return Sample((grid(shape),), kw)
        if kind in ("searchsorted", "bucketize"):
            batch = d.shape(0, 2, max_side=3) if kind == "searchsorted" and d.bool() else ()
            bd = np.sort(d.array(batch + (d.int(0, 5),), dt), axis=-1)
            v = grid(batch + (d.int(0, 4),)) if batch else (grid(shape) if d.bool() else float(grid(())))
            kw = dict(out_int32=d.bool(), right=d.bool())
            if kind == "bucketize":
                return Sample((v, bd), kw)
            if d.bool():
                kw["side"] = "right" if kw.pop("right") else "left"
            sorter = None
            if d.bool():    # the same boundaries shuffled, with the order that sorts them back
                perm = np.argsort(np.random.default_rng(d.seed()).random(bd.shape), axis=-1)
                bd, sorter = np.take_along_axis(bd, perm, -1), perm.astype(np.int64)
            return Sample((bd, v, sorter), kw)
        if kind == "bincount":
            n = d.int(0, 6)
            x = d.labels((n,), d.int(1, 5)).astype(np.int64)
            return Sample((x, d.array((n,), dt) if d.bool() else None), dict(minlength=d.int(0, 6)))
        if kind == "histc":
            kw = dict(bins=d.int(1, 6))
            if d.bool():
                lo = d.int(-3, 1) / 2
                kw.update(min=lo, max=lo + d.int(0, 4))
            return Sample((d.array(shape, dt),), kw)
        if kind == "histogram":
            x, kw = d.array(shape, dt), dict(density=d.bool())
            if d.bool():    # explicit edges, some of them on the values' grid
                bins = np.sort(np.asarray(np.round(d.array((d.int(2, 5),), F64), 1), dt))
            else:
                bins = d.int(1, 6)
                if d.bool():
                    lo = d.int(-3, 1) / 2
                    kw["range"] = (lo, lo + d.int(0, 4))
            return Sample((x, bins, d.array(shape, dt, 0.0, 2.0) if d.bool() else None), kw)
        if kind == "histogramdd":
            x, kw = d.array((d.int(0, 5), d.int(1, 3)), dt), dict(density=d.bool())
            w = d.array(x.shape[:1], dt, 0.0, 2.0) if d.bool() else None
            if d.bool():    # a bins tensor per dimension
                edges = [np.sort(np.asarray(np.round(d.array((d.int(2, 4),), F64), 1), dt)) for _ in range(x.shape[1])]
                return Sample((x, w, *edges), kw)
            kw["bins"] = d.int(1, 4) if d.bool() else [d.int(1, 4) for _ in range(x.shape[1])]
            if d.bool():
                kw["range"] = [v for _ in range(x.shape[1]) for v in (-1.5, d.int(0, 3) - 0.5)]
            return Sample((x, w), kw)
        if kind == "isin":
            e, t = grid(shape), grid(d.shape(0, 2))
            if d.bool():
                e, t = (float(e.reshape(-1)[0]), t) if e.size and d.bool() else (e, float(grid(())))
            return Sample((e, t), dict(invert=d.bool()))
    return sample


def _searchsorted_call(f, sorted_sequence, input, sorter, **kw):
    return f(sorted_sequence, input, sorter=sorter, **kw)


def _histogram_call(f, input, bins, weight, **kw):
    return f(input, bins, weight=weight, **kw)


def _histogramdd_call(f, input, weight, *edges, **kw):
    kw = dict(kw, bins=list(edges)) if edges else kw
    hist, bin_edges = f(input, weight=weight, **kw)
    return (hist, *bin_edges)


def _more_search():
    for n in "nonzero nonzero_static argwhere unique unique_consecutive bincount histc".split():
        yield OpInfo(n, _search_sample(n), method=True, grad=False)
    yield OpInfo("searchsorted", _search_sample("searchsorted"), call=_searchsorted_call, grad=False)
    for n in "bucketize isin unravel_index".split():
        yield OpInfo(n, _search_sample(n), grad=False)
    # also a Tensor method, but its weight is keyword-only, which the generated spelling check cannot pass
    yield OpInfo("histogram", _search_sample("histogram"), call=_histogram_call, grad=False)
    yield OpInfo("histogramdd", _search_sample("histogramdd"), call=_histogramdd_call, grad=False)


# ---- einsum, scaled products, linalg, scatter_reduce and friends (issue 17) ----------------------------------
_EINSUMS = ("ij,jk->ik", "ij,jk,kl->il", "ii->i", "ii", "bij,bjk->bik", "...ij,...jk", "i,i->", "ij->ji",
            "iij,jk->ik", "ij,j", "i,j->ij", "bA,bc", "ijk,ikl,lm->jm", "ij,ij,ij->i", "a...,a->...", "ij,kl->")


def _einsum_sample(d, dt):
    eq = d.choice(_EINSUMS)
    lhs = eq.split("->")[0].split(",")
    sizes = {c: d.int(1, 3) for c in "".join(lhs).replace(".", "")}
    ell = d.shape(0, 2)
    ops = []
    for w in lhs:
        shape = []
        for part in w.split("..."):
            shape.append([1 if d.int(0, 5) == 0 else sizes[c] for c in part])  # a size-1 dim broadcasts
        shape = shape[0] + (list(ell[d.int(0, len(ell)):]) + shape[1] if len(shape) > 1 else [])
        ops.append(d.array(tuple(shape), dt))
    # a repeated label needs equal sizes within its operand
    ops = [a if len(set(w)) == len(w) or "." in w else
           d.array(tuple(sizes[c] for c in w), dt) for w, a in zip(lhs, ops)]
    return Sample((eq, *ops))


def _addmm_sample(kind):
    def sample(d, dt):
        n, k, p, b = d.int(1, 3), d.int(1, 3), d.int(1, 3), d.int(1, 3)
        a, c, out = {"addmm": ((n, k), (k, p), (n, p)), "addmv": ((n, k), (k,), (n,)), "addr": ((n,), (p,), (n, p)),
                     "baddbmm": ((b, n, k), (b, k, p), (b, n, p)), "addbmm": ((b, n, k), (b, k, p), (n, p))}[kind]
        inp = tuple(1 if d.bool() else s for s in out)[d.int(0, len(out)):]
        kw = {}
        if d.bool():
            kw = dict(beta=d.choice((0, 0.5, 2)), alpha=d.choice((1, -1.5, 3)))
        return Sample((d.array(inp, dt), d.array(a, dt), d.array(c, dt)), kw)
    return sample


def _more_linalg():
    yield OpInfo("einsum", _einsum_sample, scale=10)
    for n in ("addmm", "addmv", "addr", "baddbmm", "addbmm"):
        yield OpInfo(n, _addmm_sample(n), method=True, inplace=n + "_", scale=10)
    yield OpInfo("vdot", _fixed((4,), (4,)), method=True)
    yield from _linalg_entries()
    yield from _index_write_entries()


@dataclass(frozen=True)
class _Dotted(OpInfo):
    """An op of a submodule, named with its path (linalg.inv): each dot is an attribute step, in both libraries."""

    def fn(self, lib, name=None):
        f = lib
        for part in (name or self.name).split("."):
            f = getattr(f, part)
        return f if self.call is None else (lambda *a, **k: self.call(f, *a, **k))


def _square(d, dt, batch=True, n=None):
    """Random square matrices, strictly diagonally dominant (entries in [-1, 1], (n + 1) I added), so never
    singular and their inverses well-conditioned."""
    n = n or d.int(1, 4)
    a = d.array((d.shape(0, 2, max_side=3) if batch else ()) + (n, n), F64, -1.0, 1.0)
    return (a + (n + 1.0) * np.eye(n)).astype(dt)


def _spd_call(f, x, **kw):
    # x X^T + n I: a symmetric positive-definite function of the free matrix x, so the gradient check sees both
    # triangles (the factorizations read one)
    n = x.shape[-1]
    return f(x @ x.mT + n * x.new_ones(n).diag_embed(), **kw)


def _sym_call(f, x, **kw):
    return f((x + x.mT) / 2, **kw)


def _eigh_call(f, x, **kw):
    w, v = f((x + x.mT) / 2, **kw)
    return w, v * v[..., 0:1, :].sign()     # eigenvectors are defined up to sign: the first row's made positive


def _qr_call(f, x, *a, **kw):
    q, r = f(x, *a, **kw)
    d = r.diagonal(0, -2, -1).sign()        # Q and R are defined up to the signs of R's diagonal
    return q * d[..., None, :], r * d[..., :, None]


def _svd_call(f, x, *a, legacy=False, **kw):
    u, s, v = f(x, *a, **kw)
    k = s.shape[-1]
    u, v = u[..., :k], (v[..., :k] if legacy else v[..., :k, :].mT)   # columns past k are not unique
    sg = u[..., 0:1, :].sign()              # singular vectors are defined up to a shared sign
    return u * sg, s, v * sg


def _linalg_sample(kind):
    def sample(d, dt):
        if kind == "solve":
            a = _square(d, dt)
            n, batch = a.shape[-1], a.shape[:-2]
            form = d.int(0, 3)
            left = form <= 1 or d.bool()    # a vector B is a column: A on its left only
            if form == 0:
                b = (n,)
            elif form == 1 and batch:
                b = batch + (n,)
            else:
                k = d.int(1, 3)
                b = (batch[d.int(0, len(batch)):] if form == 2 else batch) + ((n, k) if left else (k, n))
            kw = {} if left else dict(left=False)
            if not left and len(b) == 1:
                kw = {}
            return Sample((a, d.array(b, dt)), kw)
        if kind in ("qr", "svd", "svdvals", "matrix_norm", "torch.svd"):
            # unrounded: ties (equal singular values, a rank-deficient R) make these gradients infinite
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4), d.int(1, 4)), dt, nice=False)
            m, n = a.shape[-2:]
            if kind == "qr":
                return Sample((a,), dict(mode="complete") if m <= n and d.bool() else {})
            if kind == "svd":
                return Sample((a,), dict(full_matrices=d.bool()))
            if kind == "torch.svd":
                return Sample((a,), dict(some=d.bool()))
            if kind == "matrix_norm":
                a = d.array(d.shape(2, 3, max_side=3), dt)
                d0 = d.int(-a.ndim, a.ndim - 1)
                d1 = d.choice([i for i in range(a.ndim) if i != d0 % a.ndim])
                return Sample((a,), dict(ord=d.choice(("fro", "nuc", 1, -1, 2, -2, float("inf"), -float("inf"))),
                                         dim=(d0, d1), keepdim=d.bool()))
            return Sample((a,))
        if kind == "vector_norm":
            a = d.array(d.shape(0, 3), dt)
            kw = dict(ord=d.choice((2, 1, 3, 0.5, float("inf"), -float("inf"), 0, -1)), keepdim=d.bool())
            if a.ndim and d.bool():
                kw["dim"] = d.int(-a.ndim, a.ndim - 1) if d.bool() else (0, a.ndim - 1) if a.ndim > 1 else (0,)
            return Sample((a,), kw)
        if kind == "norm":
            a = d.array(d.shape(1, 3), dt)
            form = d.int(0, 2)
            if form == 0:
                return Sample((a,))
            if form == 1 and a.ndim <= 2:
                return Sample((a,), dict(ord=d.choice((1, 2, float("inf")) if a.ndim == 1 else ("fro", "nuc", 1, 2))))
            return Sample((a,), dict(ord=d.choice((None, 1, 3)), dim=d.int(-a.ndim, a.ndim - 1)))
        if kind == "matrix_power":
            return Sample((_square(d, dt), d.int(-2, 3)))
        if kind == "multi_dot":
            sides = [d.int(1, 3) for _ in range(d.int(3, 5))]
            shapes = [(sides[i], sides[i + 1]) for i in range(len(sides) - 1)]
            if d.bool():
                shapes[0] = shapes[0][1:]
            if d.bool():
                shapes[-1] = shapes[-1][:1]
            return Sample(tuple(d.array(s, dt) for s in shapes))
        if kind == "vecdot":
            sa, sb = _broadcast_pair(d)
            n = d.int(1, 3)
            return Sample((d.array(sa + (n,), dt), d.array(sb + (n,), dt)))
        if kind == "uplo":
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4),) * 2, dt, nice=False)
            return Sample((a,), dict(UPLO=d.choice("LU")))
        if kind == "cholesky":
            return Sample((d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4),) * 2, dt),), dict(upper=d.bool()))
        return Sample((_square(d, dt),))
    return sample


def _index_write_sample(kind, reduces=("sum", "mean", "amax", "amin")):
    def sample(d, dt):
        shape = d.shape(1, 3)
        x, n = d.array(shape, dt), len(shape)
        rng = np.random.default_rng(d.seed())
        dim = d.int(-n, n - 1)
        dd = dim % n
        if kind == "scatter_reduce":
            idx_shape = tuple(d.int(1, s) for s in shape)
            idx_shape = idx_shape[:dd] + (d.int(1, 4),) + idx_shape[dd + 1:]
            idx = rng.integers(0, shape[dd], idx_shape)      # repeats: several values reduce into one place
            src = d.array(idx_shape, dt)     # PyTorch's backward fails for a src larger than index
            return Sample((x, dim, idx, src, d.choice(reduces)), dict(include_self=d.bool()))
        if kind == "index_reduce":
            idx = rng.integers(0, shape[dd], d.int(0, 4))       # repeats reduce several slices into one
            src = d.array(shape[:dd] + (len(idx),) + shape[dd + 1:], dt)
            return Sample((x, dim, idx, src, d.choice(reduces)), dict(include_self=d.bool()))
        if kind == "index_copy":
            idx = rng.permutation(shape[dd])[:d.int(0, shape[dd])]   # distinct: each slice written once
            return Sample((x, dim, idx, d.array(shape[:dd] + (len(idx),) + shape[dd + 1:], dt)))
        if kind == "masked_scatter":
            mask = np.asarray(rng.random(tuple(1 if d.bool() else s for s in shape)[d.int(0, n):]) < 0.5)
            count = int(np.broadcast_to(mask, shape).sum())
            return Sample((x, mask, d.array((count + d.int(0, 2),), dt)))
        if kind == "put":
            acc = d.bool()
            k = d.int(0, x.size)
            idx = rng.integers(-x.size, x.size, k) if acc else rng.permutation(x.size)[:k] - x.size * d.int(0, 1)
            return Sample((x, idx.reshape(d.choice(((k,), (1, k)))), d.array((k,), dt)), dict(accumulate=acc))
        if kind == "index_put":
            acc = d.bool()
            k = d.int(1, n)           # advanced indices on the first k dims
            if d.int(0, 3) == 0:      # a mask over them
                idx = (np.asarray(rng.random(shape[:k]) < 0.5),)
                rest = (int(idx[0].sum()),) + shape[k:]
            else:
                m = d.int(1, 4)
                flat = rng.integers(0, int(np.prod(shape[:k])), m) if acc else \
                    rng.permutation(int(np.prod(shape[:k])))[:min(m, int(np.prod(shape[:k])))]
                idx = np.unravel_index(flat, shape[:k])
                rest = (len(flat),) + shape[k:]
            vals = d.array(rest[d.int(0, len(rest)):], dt)    # broadcasts against the indexed part
            return Sample((x, vals, *idx), dict(accumulate=acc))
        if kind == "slice_scatter":
            start = d.int(0, shape[dd] - 1)
            step = d.int(1, 2)
            part = len(range(start, shape[dd], step))
            return Sample((x, d.array(shape[:dd] + (part,) + shape[dd + 1:], dt)),
                          dict(dim=dim, start=start, step=step))
        if kind == "select_scatter":
            return Sample((x, d.array(shape[:dd] + shape[dd + 1:], dt), dim, d.int(-shape[dd], shape[dd] - 1)))
        x = d.array(d.shape(2, 3), dt)
        a = d.int(-x.ndim, x.ndim - 1)
        b = d.choice([i for i in range(-x.ndim, x.ndim) if i % x.ndim != a % x.ndim])
        off = d.int(-2, 2)
        k = max(0, min(x.shape[a] + min(off, 0), x.shape[b] - max(off, 0)))
        rest = tuple(s for i, s in enumerate(x.shape) if i not in (a % x.ndim, b % x.ndim))
        return Sample((x, d.array(rest + (k,), dt)), dict(offset=off, dim1=a, dim2=b))
    return sample


def _quantile_sample(nan):
    def sample(d, dt):
        x = d.array(d.shape(0, 3, min_side=1), dt, nice=False)   # unrounded: a tie's gradient is the sort's choice
        if nan and d.nice:    # (not in the numeric gradient checks: a NaN output has no finite difference)
            x = _with_nans(d, x)
        q = float(d.choice((0.0, 0.25, 0.5, 0.9, 1.0))) if d.bool() else \
            np.random.default_rng(d.seed()).random(d.int(1, 3)).astype(dt)
        kw = dict(interpolation=d.choice(("linear", "lower", "higher", "midpoint", "nearest")), keepdim=d.bool())
        if x.ndim and d.bool():
            kw["dim"] = d.int(-x.ndim, x.ndim - 1)
        return Sample((x, q), kw)
    return sample


def _index_put_call(f, x, values, *idx, **kw):
    # out of place and in place alike: the in-place one on a copy, which the gradient goes through
    return f(x if f.__name__ != "<lambda>" else x * 1, tuple(idx), values, **kw)


def _index_write_entries():
    yield OpInfo("scatter_reduce", _index_write_sample("scatter_reduce"), method=True, inplace="scatter_reduce_")
    yield OpInfo("scatter_reduce", _index_write_sample("scatter_reduce", ("prod",)), namespace="Tensor",
                 deviations=dict(gradgrad="prod's rule is once differentiable here (multiply.at has no recorded form)"))
    yield OpInfo("index_reduce", _index_write_sample("index_reduce", ("mean", "amax", "amin")), method=True,
                 inplace="index_reduce_")
    yield OpInfo("index_reduce", _index_write_sample("index_reduce", ("prod",)), namespace="Tensor",
                 deviations=dict(gradgrad="prod's rule is once differentiable here (multiply.at has no recorded form)"))
    yield OpInfo("index_copy", _index_write_sample("index_copy"), method=True, inplace="index_copy_")
    yield OpInfo("masked_scatter", _index_write_sample("masked_scatter"), method=True, inplace="masked_scatter_")
    yield OpInfo("put", _index_write_sample("put"), method=True, inplace="put_")
    yield OpInfo("index_put", _index_write_sample("index_put"), call=_index_put_call)
    yield OpInfo("index_put", _index_write_sample("index_put"), call=_index_put_call, namespace="Tensor")
    yield OpInfo("index_put_", _index_write_sample("index_put"), call=_index_put_call, namespace="Tensor")
    for n in ("slice_scatter", "select_scatter", "diagonal_scatter"):
        yield OpInfo(n, _index_write_sample(n), method=True)
    yield OpInfo("quantile", _quantile_sample(False), method=True, constant_args=(1,))
    yield OpInfo("nanquantile", _quantile_sample(True), method=True, constant_args=(1,))


def _solver_sample(kind):
    def sample(d, dt):
        n = d.int(1, 4)
        batch = d.shape(0, 1, max_side=2)
        if kind in ("solve_triangular", "triangular_solve", "cholesky_solve", "cholesky_inverse"):
            upper = d.bool()
            low = np.tril(d.array(batch + (n, n), F64, -1.0, 1.0)) + (n + 1.0) * np.eye(n)
            a = (np.swapaxes(low, -1, -2) if upper else low).astype(dt)
            k = d.int(1, 3)
            if kind == "cholesky_inverse":
                return Sample((a,), dict(upper=upper))
            if kind == "cholesky_solve":
                return Sample((d.array(batch + (n, k), dt), a), dict(upper=upper))
            if kind == "triangular_solve":
                return Sample((d.array(batch + (n, k), dt), a), dict(upper=upper, transpose=d.bool(),
                                                                      unitriangular=d.bool()))
            left = d.bool()
            return Sample((a, d.array(batch + ((n, k) if left else (k, n)), dt)),
                          dict(upper=upper, left=left, unitriangular=d.bool()))
        # full-rank rectangular matrices with distinct singular values (unrounded)
        m = d.int(1, 4)
        a = d.array(batch + (m, n), dt, nice=False)
        if kind == "lstsq":
            return Sample((a, d.array(batch + (m, d.int(1, 2)), dt)))
        if kind == "cond":
            return Sample((a,), dict(p=d.choice((None, 2, -2, "nuc"))) if m == n else {})
        if kind == "cross":
            shape = list(d.shape(1, 3))
            dim = d.int(0, len(shape) - 1)
            shape[dim] = 3
            other = [1 if (i != dim and d.bool()) else s for i, s in enumerate(shape)]
            return Sample((d.array(tuple(shape), dt), d.array(tuple(other), dt)), dict(dim=dim - len(shape)))
        if kind == "vander":
            return Sample((d.array(d.shape(0, 1) + (d.int(2, 3),), dt),), dict(N=d.int(2, 4)) if d.bool() else {})
        if kind == "torch.vander":
            return Sample((d.array((n,), dt),), dict(N=d.int(1, 4), increasing=d.bool()))
        if kind == "chain_matmul":
            sides = [d.int(1, 3) for _ in range(d.int(2, 5))]
            return Sample(tuple(d.array((sides[i], sides[i + 1]), dt) for i in range(len(sides) - 1)))
        if kind == "matrix_exp":
            return Sample((d.array(batch + (n, n), dt, -1.5, 1.5),))
        if kind == "nuclear_norm":
            kw = dict(keepdim=d.bool())
            return Sample((a,), kw if not batch else dict(kw, dim=(0, 2)))
        if kind == "tensorinv":
            a = _square(d, dt, batch=False, n=6)
            if d.bool():
                return Sample((a.reshape((2, 3, 3, 2)),), dict(ind=2))
            return Sample((a.reshape((6, 2, 3)),), dict(ind=1))
        if kind == "tensorsolve":
            a = _square(d, dt, batch=False, n=6)
            return Sample((a.reshape((2, 3, 6)), d.array((2, 3), dt)))
        if kind == "ormqr":
            m = max(m, n)
            left = d.bool()
            other = d.array(batch + ((m, n + d.int(0, 1)) if left else (d.int(1, 3), m)), dt)
            return Sample((d.array(batch + (m, n), dt), d.array(batch + (n,), dt), other),
                          dict(left=left, transpose=d.bool()))
        if kind == "geqrf":
            return Sample((d.array(batch + (max(m, n), n), dt, nice=False),))
        if kind == "householder_product":
            m = max(m, n)
            k = d.int(0, n)
            return Sample((d.array(batch + (m, n), dt), d.array(batch + (k,), dt)))
        return Sample((a,))
    return sample


def _lu_sample(kind):
    def sample(d, dt):
        from ..ops.lu import _getrf
        if kind in ("lu_factor", "inv_ex", "solve_ex", "lu_solve", "torch.lu_solve"):
            a = _square(d, dt)
        else:
            a = d.array(d.shape(0, 1, max_side=2) + (d.int(1, 4), d.int(1, 4)), dt, nice=False)
        if kind == "solve_ex":
            return Sample((a, d.array(a.shape[:-1] + (d.int(1, 2),), dt)))
        if kind in ("lu_solve", "torch.lu_solve", "lu_unpack"):
            lu, piv, _ = _getrf(np, a)       # factors made here, so their own gradients are compared
            lu = lu.astype(dt)
            n = a.shape[-1]
            if kind == "lu_unpack":
                return Sample((lu, piv))
            if kind == "torch.lu_solve":
                return Sample((d.array(a.shape[:-2] + (n, d.int(1, 2)), dt), lu, piv))
            left = d.bool()
            b = d.array(a.shape[:-2] + ((n, d.int(1, 2)) if left else (d.int(1, 2), n)), dt)
            return Sample((lu, piv, b), dict(left=left, adjoint=d.bool()))
        return Sample((a,))
    return sample


def _distance_sample(kind):
    def sample(d, dt):
        m = d.int(1, 3)
        kw = dict(p=d.choice((0.0, 1.0, 2.0, 3.0, float("inf"))))
        if kind == "pdist":       # unrounded: no ties for the inf-norm, no zero distances
            return Sample((d.array((d.int(1, 4), m), dt, nice=False),), kw)
        batch = d.shape(0, 1, max_side=2)
        return Sample((d.array(batch + (d.int(1, 3), m), dt, nice=False), d.array(batch + (d.int(1, 3), m), dt,
                                                                                 nice=False)), kw)
    return sample


def _linalg_entries():
    sq = _linalg_sample("square")
    for n in ("inv", "det", "slogdet", "matrix_power", "solve", "svdvals", "vector_norm", "matrix_norm", "norm",
              "multi_dot", "vecdot"):
        kind = "square" if n in ("inv", "det", "slogdet") else n
        yield _Dotted("linalg." + n, _linalg_sample(kind), call=_list_call if n == "multi_dot" else None, scale=10)
    yield _Dotted("linalg.cholesky", _linalg_sample("cholesky"), call=_spd_call, scale=10)
    yield _Dotted("linalg.qr", _linalg_sample("qr"), call=_qr_call, scale=10)
    yield _Dotted("linalg.eigh", _linalg_sample("uplo"), call=_eigh_call, scale=100)
    yield _Dotted("linalg.eigvalsh", _linalg_sample("uplo"), call=_sym_call, scale=10)
    yield _Dotted("linalg.svd", _linalg_sample("svd"), call=_svd_call, scale=100)
    half_exp = dict(dtypes=dict(float16="PyTorch 2.13's CPU matrix_exp returns infinities in float16; ours refuses"))
    for n in ("solve_triangular", "pinv", "lstsq", "cond", "matrix_exp", "cross", "vander", "tensorinv", "tensorsolve",
              "householder_product"):
        yield _Dotted("linalg." + n, _solver_sample(n), scale=100 if n in ("pinv", "lstsq", "cond") else 10,
                      deviations=dict(half_exp) if n == "matrix_exp" else {})
    yield _Dotted("linalg.matrix_rank", _solver_sample("matrix_rank"), grad=False)
    for n in ("triangular_solve", "matrix_exp", "cross"):
        yield OpInfo(n, _solver_sample(n), method=True, scale=10,
                     deviations=dict(half_exp) if n == "matrix_exp" else {})
    # PyTorch's gradient treats the factor as a full matrix while the forward reads one triangle, so finite
    # differences (which see the triangle only) cannot check it; test_matches_torch does
    for n in ("cholesky_solve", "cholesky_inverse"):
        yield OpInfo(n, _solver_sample(n), method=True, scale=10, gradcheck=False)
    yield OpInfo("pinverse", _solver_sample("pinv"), method=True, scale=100)
    yield OpInfo("chain_matmul", _solver_sample("chain_matmul"), scale=10)
    yield OpInfo("orgqr", _solver_sample("householder_product"), method=True, scale=10)
    yield OpInfo("ormqr", _solver_sample("ormqr"), method=True, scale=10)
    yield OpInfo("geqrf", _solver_sample("geqrf"), method=True, grad=False, scale=10)
    # PyTorch 2.13's backward of torch.vander fails (an in-place cumprod): compared without gradients, and
    # tests/test_linalg.py checks ours numerically
    yield OpInfo("vander", _solver_sample("torch.vander"), grad=False)
    for n in ("lu_factor", "lu_factor_ex", "lu", "lu_solve", "inv_ex", "solve_ex"):
        yield _Dotted("linalg." + n, _lu_sample(n), scale=10)
    yield _Dotted("linalg.cholesky_ex", _linalg_sample("cholesky"), call=_spd_call, scale=10)
    yield OpInfo("lu", _lu_sample("lu"), method=True, scale=10)
    yield OpInfo("lu_unpack", _lu_sample("lu_unpack"))
    yield OpInfo("lu_solve", _lu_sample("torch.lu_solve"), method=True, scale=10)
    yield OpInfo("cdist", _distance_sample("cdist"), scale=10)
    yield OpInfo("frobenius_norm", lambda d, dt: Sample((d.array(d.shape(1, 3), dt),), dict(dim=-1, keepdim=d.bool())))
    yield OpInfo("nuclear_norm", _solver_sample("nuclear_norm"), scale=100)
    yield OpInfo("pdist", _distance_sample("pdist"), scale=10)
    # PyTorch's top-level spellings, also Tensor methods
    for n in ("det", "logdet", "slogdet", "inverse"):
        yield OpInfo(n, sq, method=True, scale=10)
    yield OpInfo("matrix_power", _linalg_sample("matrix_power"), method=True, scale=10)
    # (their Tensor methods as entries of their own: the call that makes the input symmetric or fixes the signs
    # must wrap the method too)
    qr_sample = lambda d, dt: Sample(_linalg_sample("qr")(d, dt).args)  # noqa: E731
    svd_call = lambda f, x, **kw: _svd_call(f, x, legacy=True, **kw)  # noqa: E731
    for ns in ("tg", "Tensor"):
        yield OpInfo("cholesky", _linalg_sample("cholesky"), call=_spd_call, namespace=ns, scale=10)
        yield OpInfo("qr", qr_sample, call=_qr_call, namespace=ns, scale=10)
        yield OpInfo("svd", _linalg_sample("torch.svd"), call=svd_call, namespace=ns, scale=100)


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
            return Sample((x,), kw)
        if kind in ("upsample_nearest", "upsample_bilinear"):
            x = d.array((d.int(1, 2), d.int(1, 2), d.int(1, 4), d.int(1, 4)), dt)
            return Sample((x,), dict(size=(d.int(1, 6), d.int(1, 6))) if d.bool() else dict(scale_factor=d.choice(
                (1.0, 2.0, 3.0))))
        if kind == "grid_sample":
            n = d.int(1, 2)
            x = d.array((n, d.int(1, 2), d.int(1, 4), d.int(1, 4)), dt)
            grid = d.array((n, d.int(1, 3), d.int(1, 3), 2), dt, -1.4, 1.4, nice=False)   # some points outside
            return Sample((x, grid), dict(mode=d.choice(("bilinear", "nearest", "bicubic")),
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


def _mode_sample(d, dt):
    shape = d.shape(1, 3, 1, 5)
    a = np.round(d.array(shape, dt, -2.0, 2.0, nice=False)).astype(dt)   # few distinct values: real modes
    return Sample((a,), dict(dim=d.int(-len(shape), len(shape) - 1), keepdim=d.bool()))


def _as_strided_sample(d, dt):
    size, stride = (d.int(1, 3), d.int(1, 3)), (d.int(0, 2), d.int(0, 2))
    reach = (size[0] - 1) * stride[0] + (size[1] - 1) * stride[1]     # the last element's distance from the first
    n = reach + 1 + d.int(0, 4)
    return Sample((d.array((n,), dt), size, stride, d.int(0, n - 1 - reach)))


def _int_binary(lo, hi):
    """Integer operands (bitwise ops refuse floats in both libraries)."""
    def sample(d, dt):
        sa, sb = _broadcast_pair(d)
        return Sample(tuple(np.round(d.array(s, F64, lo, hi, nice=False)).astype(np.int64) for s in (sa, sb)))
    return sample


def _one_d(sample2d):
    """A 2-D conv/pool sample made 1-D: the last axis of each image and of each filter, per-axis options scalars."""
    def sample(d, dt):
        args, kw = sample2d(d, dt)
        args = tuple(a[:, :, 0, :] if isinstance(a, np.ndarray) and a.ndim == 4 else a[-1] if isinstance(a, tuple)
                     else a for a in args)
        kw = {k: (v[-1] if isinstance(v, tuple) else v) for k, v in kw.items()}
        return Sample(args, kw)
    return sample


def _more_conv1d():
    yield OpInfo("conv1d", _one_d(conv_sample()), namespace="F", module="Conv1d", scale=10)
    yield OpInfo("conv_transpose1d", _one_d(conv_sample(True)), namespace="F", module="ConvTranspose1d", scale=10)
    yield OpInfo("max_pool1d", _one_d(pool_sample(False)), namespace="F", module="MaxPool1d")
    yield OpInfo("avg_pool1d", _one_d(pool_sample(True)), namespace="F", module="AvgPool1d")
    yield OpInfo("adaptive_avg_pool1d", _one_d(_adaptive_sample), namespace="F", module="AdaptiveAvgPool1d")
    yield OpInfo("adaptive_max_pool1d", _one_d(_adaptive_sample), namespace="F", module="AdaptiveMaxPool1d")


def _conv3d_sample(transposed):
    def sample(d, dt):
        g = d.choice((1, 1, 2))
        cin, cout = g * d.int(1, 2), g * d.int(1, 2)
        k = tuple(d.int(1, 2) for _ in range(3))
        s, p, dil = d.int(1, 2), d.int(0, 1), d.int(1, 2)
        x = d.array((d.int(1, 2), cin) + tuple(d.int(dil * (k_ - 1) + 1, 4) for k_ in k), dt)
        w = d.array((cin, cout // g) + k if transposed else (cout, cin // g) + k, dt)
        kw = dict(stride=s, padding=p if not transposed else 0, dilation=dil, groups=g)
        if transposed:
            kw["output_padding"] = d.int(0, max(0, min(s, dil) - 1))
        return Sample((x, w, d.array((cout,), dt) if d.bool() else None), kw)
    return sample


def _pool3d_sample(avg):
    def sample(d, dt):
        k = d.int(1, 2)
        x = d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(k, 4) for _ in range(3)), dt)
        kw = dict(kernel_size=k, stride=d.int(1, 2), padding=d.int(0, k // 2), ceil_mode=d.bool())
        if avg:
            kw["count_include_pad"] = d.bool()
        return Sample((x,), kw)
    return sample


def _more_conv3d():
    yield OpInfo("conv3d", _conv3d_sample(False), namespace="F", module="Conv3d", scale=10)
    yield OpInfo("conv_transpose3d", _conv3d_sample(True), namespace="F", module="ConvTranspose3d", scale=10)
    yield OpInfo("max_pool3d", _pool3d_sample(False), namespace="F", module="MaxPool3d")
    yield OpInfo("avg_pool3d", _pool3d_sample(True), namespace="F", module="AvgPool3d")
    yield OpInfo("adaptive_avg_pool3d", lambda d, dt: (lambda x: Sample((x, tuple(d.int(1, n) for n in x.shape[2:]))))(
        d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(3)), dt)), namespace="F",
        module="AdaptiveAvgPool3d")
    yield OpInfo("adaptive_max_pool3d", lambda d, dt: (lambda x: Sample((x, tuple(d.int(1, n) for n in x.shape[2:]))))(
        d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(1, 4) for _ in range(3)), dt)), namespace="F",
        module="AdaptiveMaxPool3d")


def _unpool_sample(n):
    def sample(d, dt):
        k = d.int(1, 2)
        size = tuple(d.int(1, 3) for _ in range(n))                     # the pooled input's spatial size
        out = tuple(s_ * k for s_ in size)                               # the default output size (stride k)
        lead = (d.int(1, 2), d.int(1, 2))
        x = d.array(lead + size, dt)
        rng = np.random.default_rng(d.seed())
        plane, count = int(np.prod(out)), int(np.prod(size))
        idx = np.stack([rng.choice(plane, count, replace=False) for _ in range(lead[0] * lead[1])])
        return Sample((x, idx.reshape(lead + size), k))
    return sample


def _lp_sample(n):
    def sample(d, dt):
        k = d.int(1, 2)
        x = d.array((d.int(1, 2), d.int(1, 2)) + tuple(d.int(k, 4) for _ in range(n)), dt, 0.2, 2.0)
        return Sample((x, d.choice((1.0, 2.0, 3.0)), k), dict(stride=d.choice((None, 1)), ceil_mode=d.bool()))
    return sample


def _more_unpool_lp():
    for n in (1, 2, 3):
        yield OpInfo(f"max_unpool{n}d", _unpool_sample(n), namespace="F", module=f"MaxUnpool{n}d")
        yield OpInfo(f"lp_pool{n}d", _lp_sample(n), namespace="F", module=f"LPPool{n}d", scale=10)


def _more_positions():
    """Bitwise ops (no gradient; float inputs raise in both libraries, so the per-dtype test carries them and
    tests/test_bitwise_positions.py the integer layouts), isclose, and ops made of computed positions."""
    for n in "bitwise_and bitwise_or bitwise_xor".split():
        yield OpInfo(n, _int_binary(-40, 40), method=True, grad=False)
    yield OpInfo("bitwise_not", lambda d, dt: Sample(_int_binary(-40, 40)(d, dt).args[:1]), method=True, grad=False)
    for n in "bitwise_left_shift bitwise_right_shift".split():
        yield OpInfo(n, _int_binary(-3, 70), method=True, grad=False)
    yield OpInfo("isclose", lambda d, dt: Sample((lambda a: (a, np.where(d.array(a.shape, F64) > 0, a,
                                                                         a + 1e-6)))(d.array(d.shape(), dt)),
                                                 dict(rtol=1e-5, atol=1e-7)), method=True, grad=False)
    yield OpInfo("mode", _mode_sample, method=True, gradcheck=False,
                 deviations=dict(gradcheck="piecewise: the mode and its position change when a tied element moves"))
    yield OpInfo("diagflat", lambda d, dt: Sample((d.array(d.shape(1, 2, 1, 3), dt),), dict(offset=d.int(-2, 2))),
                 method=True)
    yield OpInfo("cartesian_prod", lambda d, dt: Sample(tuple(d.array((d.int(1, 3),), dt) for _ in range(d.int(1, 3)))))
    yield OpInfo("as_strided", _as_strided_sample, method=True, deviations=dict(
        noncontiguous="addresses a contiguous tensor's own elements only (PyTorch: the storage under a view); a "
                      "strided input raises, telling to call .contiguous()"))


def _build():
    ops = [*_more_search(), *_unaries(), *_binaries(), *_reductions(), *_movements(), *_linear_algebra(), *_nn(),
           *_more_elementwise(), *_more_reductions(), *_more_shaping(), *_more_activations(), *_more_linalg(),
           *_more_nn(), *_more_positions(), *_more_conv1d(), *_more_conv3d(), *_more_unpool_lp()]
    reg = {(o.namespace, o.name): o for o in ops}
    for key, dts in _DTYPE_DEVIATIONS.items():
        reg[key].deviations["dtypes"] = dts
    return reg


REGISTRY = _build()
OPS = list(REGISTRY.values())

# public callables that are not ops with a gradient rule (creation, randomness, I/O, modes, predicates)
NOT_OPS = frozenset(
    "arange as_tensor empty empty_like eye from_numpy full full_like linspace ones ones_like zeros zeros_like rand "
    "rand_like randn randn_like randint randint_like randperm manual_seed seed load save get_default_dtype "
    "set_default_dtype is_grad_enabled is_inference_mode_enabled allclose equal tensor one_hot dropout "
    "dropout2d dropout1d dropout3d alpha_dropout feature_alpha_dropout gumbel_softmax normal is_tensor is_floating_point numel initial_seed set_num_threads get_num_threads "
    "set_default_device get_default_device tril_indices triu_indices".split())


# Tensor methods that are another spelling of a registered op (tests/test_ops.py checks they agree with it)
METHOD_ALIASES = {"clip_": "clamp_", "divide_": "div_", "swapaxes": "transpose", "swapdims": "transpose"}
# Tensor methods that are not ops with a gradient rule of their own, and where they are tested
NOT_OP_METHODS = {
    **dict.fromkeys(("copy_", "fill_", "zero_", "normal_", "uniform_"), "fills: tests/test_inplace.py"),
    **dict.fromkeys(("expand_as", "reshape_as", "view_as"), "another tensor's shape: expand / reshape / view"),
    "type": "a cast: tests/test_tensor.py", "allclose": "a Python bool", "equal": "a Python bool",
}


def markdown_table():
    """The docs' table of supported ops (docs/07), one row per family of entries."""
    rows = {}
    for o in OPS:
        where = {"tg": "`tinygrad_fer`", "F": "`nn.functional`", "Tensor": "`Tensor` methods"}[o.namespace]
        names = [o.name, *o.aliases]
        spelled = ", ".join(f"`{n}`" for n in names)
        if o.inplace:
            spelled += f" (`{o.inplace}`)"
        rows.setdefault(where, []).append(spelled + ("" if o.grad else "*"))
    lines = ["| namespace | ops (in-place variant; * no gradient) |", "|---|---|"]
    lines += [f"| {k} | {', '.join(v)} |" for k, v in rows.items()]
    return "\n".join(lines)


DOCS_MARKERS = ("<!-- ops table: generated by tinygrad_fer.testing.opinfo.markdown_table() -->", "<!-- end ops -->")


def write_docs_table(path):
    """Replace the table between DOCS_MARKERS in the markdown file at path with markdown_table()."""
    from .._atomic import atomic_write
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, end = DOCS_MARKERS
    if start not in text or end not in text:
        raise ValueError(f"{path} has no generated ops table (markers {start} ... {end})")
    head, rest = text.split(start, 1)
    new = head + start + "\n" + markdown_table() + "\n" + end + rest.split(end, 1)[1]
    with atomic_write(path, ".md") as f:
        f.write(new.encode("utf-8"))


if __name__ == "__main__":  # python -m tinygrad_fer.testing.opinfo docs/07-porting-from-pytorch.md
    import sys
    write_docs_table(sys.argv[1] if len(sys.argv) > 1 else "docs/07-porting-from-pytorch.md")
