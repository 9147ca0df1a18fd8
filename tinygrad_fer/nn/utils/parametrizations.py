"""torch.nn.utils.parametrizations: weight_norm as a parametrization (original0 = g, original1 = v)."""
from .weight_norm import parametrized_weight_norm as weight_norm  # noqa: F401
