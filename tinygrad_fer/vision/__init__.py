"""torchvision's layout over the engine: `datasets` and `transforms` (tinygrad_fer.data's), `utils` (make_grid,
save_image)."""
from ..data import datasets, transforms  # noqa: F401
from . import utils  # noqa: F401
