"""Registry entries of nn.functional's activations beyond relu/sigmoid/tanh/elu/leaky_relu/softplus (gelu, selu,
celu, mish, the hard ones, the shrinks, glu, prelu, threshold, softmin, normalize), with their samples."""
from .deviations import _INT
from .draw import Sample
from .entry import OpInfo
from .samples import reduction, unary


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
