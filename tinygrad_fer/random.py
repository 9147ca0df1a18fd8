"""torch.random's names: the default stream's Generator, manual_seed (which returns it), seed, initial_seed.

`default_generator` is the stream rand/randn/randint/randperm/DataLoader/dropout draw from when given no
generator: the CPU backend's own rng, so seeding it here and through tinygrad_fer.manual_seed is one thing."""
import numpy as np

from .tensor import Generator, manual_seed as _seed_all, seed as _fresh_seed_all
from .backend import device as _device
from .backend_cpu import backend_cpu as _cpu


class _DefaultGenerator(Generator):
    def __init__(self):
        self.device = _device("cpu")
        self._seed = None

    @property
    def rng(self):
        return _cpu.rng

    def manual_seed(self, seed):
        seed = _check_seed(seed)
        _cpu.seed(seed)
        self._seed = seed
        return self

    def initial_seed(self):
        if self._seed is None:
            # never seeded by hand: the entropy NumPy drew, which re-creates the same stream as a seed
            self._seed = int(_cpu.rng.bit_generator.seed_seq.entropy)
        return self._seed

    def seed(self):
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def __repr__(self):
        return "<tinygrad_fer.Generator (default, cpu)>"


def _check_seed(seed):
    try:
        return int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed expected an int seed, got {type(seed).__name__}") from None


default_generator = _DefaultGenerator()


def manual_seed(seed):
    """Seed the default stream of every loaded backend (reproducible runs); returns default_generator, as
    torch.manual_seed does."""
    seed = _check_seed(seed)
    _seed_all(seed)
    default_generator._seed = seed
    return default_generator


def seed():
    """Seed every default stream from fresh entropy; returns the seed."""
    s = _fresh_seed_all()
    default_generator._seed = s
    return s


def initial_seed():
    return default_generator.initial_seed()
