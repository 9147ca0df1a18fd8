"""The activations Tensor has as methods, rows of the unary factory: relu and sigmoid (backend kernels), tanh,
leaky_relu, elu, softplus. ops/activation.py has the rest of nn.functional's activations."""
from .. import kernels_ref
from .unary import _maybe_inplace, _unary


def _sigmoid_fwd(xp, x):
    if hasattr(xp, "sigmoid"):   # recorded tensors (a rule run under create_graph)
        return xp.sigmoid(x)
    return kernels_ref.sigmoid(x, xp=xp)


def _softplus_fwd(xp, x, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, x, xp.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)


def _softplus_bwd(xp, g, x, out, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, g, g * _sigmoid_fwd(xp, bx))


# ReLU runs over every CNN's biggest activations: a backend kernel, one fused pass each way
# (bench/README.md)
relu = _unary("relu", lambda be, x: be.relu(x), lambda be, g, x, o: be.relu_backward(g, o), float_only=False,
              kernel=True)
tanh = _unary("tanh", lambda xp, x: xp.tanh(x), lambda xp, g, x, o: g * (1 - o * o))
sigmoid = _unary("sigmoid", lambda be, x: be.sigmoid(x), lambda be, g, x, o: be.sigmoid_backward(g, o), kernel=True)
_leaky_relu = _unary("leaky_relu", lambda xp, x, slope: xp.where(x > 0, x, x * slope),
                     lambda xp, g, x, o, slope: xp.where(x > 0, g, g * slope), saves="x", n_params=1)
_elu = _unary("elu", lambda xp, x, alpha: xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0))),
              lambda xp, g, x, o, alpha: xp.where(x > 0, g, g * (o + alpha)), saves="both", n_params=1)
_softplus = _unary("softplus", _softplus_fwd, _softplus_bwd, saves="x", n_params=2)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(_leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_elu, input, inplace, alpha)


def softplus(input, beta=1.0, threshold=20.0):
    return _softplus(input, beta, threshold)
