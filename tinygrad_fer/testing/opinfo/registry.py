"""The registry assembled: every family's entries in a fixed order (the generated test ids follow it), keyed by
(namespace, name) with the dtype deviations attached; the public callables and Tensor methods that are not ops
with a gradient rule, and the method spellings of registered ops."""
from .activations import _more_activations
from .bitwise_positions import _more_positions
from .conv_pool import _more_conv1d, _more_conv3d, _more_unpool_lp
from .deviations import _DTYPE_DEVIATIONS
from .elementwise import _binaries, _more_elementwise, _unaries
from .linalg import _linear_algebra, _more_linalg
from .nn import _more_nn, _nn
from .reductions import _more_reductions, _reductions
from .search import _more_search
from .shape import _more_shaping, _movements


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
# in-place function spellings (nn.functional's; those PyTorch also has as torch.<name> are there too) -> the registered
# op they write into their input (tests/test_ops.py checks they agree with it, tests/test_activations.py with PyTorch)
INPLACE_FUNCTIONS = {f"{n}_": ("F", n) for n in "relu elu celu selu leaky_relu rrelu threshold hardtanh".split()}
# Tensor methods that are not ops with a gradient rule of their own, and where they are tested
NOT_OP_METHODS = {
    **dict.fromkeys(("copy_", "fill_", "zero_", "normal_", "uniform_"), "fills: tests/test_inplace.py"),
    **dict.fromkeys(("expand_as", "reshape_as", "view_as"), "another tensor's shape: expand / reshape / view"),
    "type": "a cast: tests/test_tensor.py", "allclose": "a Python bool", "equal": "a Python bool",
}
