"""`OpInfo`, one registry entry: the op's names (function, method, in-place variant, aliases, nn module), its
PyTorch counterpart, sample generator, dtypes, differentiability, tolerance scale and known deviations, and how to
look the op up in either library."""
from dataclasses import dataclass, field
from typing import Callable

from .draw import FLOATS


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
