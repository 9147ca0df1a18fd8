"""torch.nn.utils's names: gradient clipping, flattening parameters into one vector, parametrizations and weight
normalisation."""
from .clip_grad import clip_grad_norm_, clip_grad_value_  # noqa: F401
from .convert_parameters import parameters_to_vector, vector_to_parameters  # noqa: F401
from . import parametrize, parametrizations, rnn  # noqa: F401
from .weight_norm import weight_norm, remove_weight_norm  # noqa: F401
