"""Run unmodified PyTorch code on tinygrad_fer: an import hook that answers `import torch` (and torchvision) with
the engine's own modules.

    python -m tinygrad_fer.compat train.py --epochs 3        # a script, as `python train.py --epochs 3`

    import tinygrad_fer.compat; tinygrad_fer.compat.install()  # in a notebook, before the first `import torch`
    import torch, torch.nn as nn

The hook is a finder at the front of sys.meta_path; nothing is written to site-packages and nothing changes until
install() is called. Each aliased name (`torch.nn`, ...) is a thin module whose attributes are the engine module's
own objects (`torch.Tensor is tinygrad_fer.Tensor`), and assignments (`torch.backends.cudnn.benchmark = True`)
reach the engine module. A name the engine lacks raises AttributeError "torch.xyz is not implemented in
tinygrad_fer"; a torch submodule it lacks raises ModuleNotFoundError saying the same.
"""
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types

# the PyTorch module path -> the engine module that stands in for it
ALIASES = {
    "torch": "tinygrad_fer",
    "torch.nn": "tinygrad_fer.nn",
    "torch.nn.functional": "tinygrad_fer.nn.functional",
    "torch.nn.init": "tinygrad_fer.nn.init",
    "torch.nn.utils": "tinygrad_fer.nn.utils",
    "torch.nn.parallel": "tinygrad_fer.nn.parallel",
    "torch.nn.parameter": "tinygrad_fer.nn.parameter",
    "torch.optim": "tinygrad_fer.optim",
    "torch.optim.lr_scheduler": "tinygrad_fer.optim.lr_scheduler",
    "torch.optim.swa_utils": "tinygrad_fer.optim.swa_utils",
    "torch.utils": "tinygrad_fer.utils",
    "torch.utils.data": "tinygrad_fer.utils.data",
    "torch.utils.data.dataset": "tinygrad_fer.data.dataset",
    "torch.utils.data.sampler": "tinygrad_fer.data.sampler",
    "torch.utils.data.dataloader": "tinygrad_fer.data.loader",
    "torch.utils.data.distributed": "tinygrad_fer.data.sampler",
    "torch.distributed": "tinygrad_fer.distributed",
    "torch.autograd": "tinygrad_fer.autograd",
    "torch.cuda": "tinygrad_fer.cuda",
    "torch.linalg": "tinygrad_fer.linalg",
    "torch.random": "tinygrad_fer.random",
    "torch.testing": "tinygrad_fer.testing",
    "torch.accelerator": "tinygrad_fer.accelerator",
    "torch.backends": "tinygrad_fer.backends",
    "torch.backends.cudnn": "tinygrad_fer.backends.cudnn",
    "torch.backends.mps": "tinygrad_fer.backends.mps",
    "torchvision": "tinygrad_fer.vision",
    "torchvision.datasets": "tinygrad_fer.data.datasets",
    "torchvision.transforms": "tinygrad_fer.data.transforms",
    "torchvision.transforms.functional": "tinygrad_fer.data.transforms_functional",
    "torchvision.utils": "tinygrad_fer.vision.utils",
    "torchvision.models": "tinygrad_fer.models",
}
_ROOTS = ("torch", "torchvision")


def _root(name):
    return name.partition(".")[0]


class AliasModule(types.ModuleType):
    """`torch.<path>` as seen by a script: reads and writes go to the engine module; misses say what is missing."""

    def __init__(self, name, target):
        super().__init__(name, target.__doc__)
        self.__dict__["_target"] = target

    def __getattr__(self, attr):
        if attr == "__all__":   # `from torch import *`: the engine module's public names
            target = self.__dict__["_target"]
            return getattr(target, "__all__", [n for n in dir(target) if not n.startswith("_")])
        if attr == "__version__":   # the engine's own: a version check must not mistake it for PyTorch
            return getattr(self.__dict__["_target"], attr)
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        full = f"{self.__name__}.{attr}"
        if full in ALIASES:     # `torch.nn` used as an attribute before any `import torch.nn`
            try:
                return importlib.import_module(full)
            except ModuleNotFoundError:
                raise AttributeError(f"{full} is not implemented in tinygrad_fer") from None
        try:
            return getattr(self.__dict__["_target"], attr)
        except AttributeError:
            raise AttributeError(f"{full} is not implemented in tinygrad_fer") from None

    def __setattr__(self, attr, value):
        # the import system's own bookkeeping (__spec__, __path__, a submodule bound on its parent) stays here;
        # everything else is the script configuring the engine
        if (attr.startswith("__") and attr.endswith("__")) or isinstance(value, AliasModule):
            self.__dict__[attr] = value
        else:
            setattr(self.__dict__["_target"], attr, value)

    def __dir__(self):
        return sorted(set(dir(self.__dict__["_target"])) | set(self.__dict__) - {"_target"})

    def __repr__(self):
        return f"<module {self.__name__!r} (tinygrad_fer: {self.__dict__['_target'].__name__})>"


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        module = AliasModule(spec.name, importlib.import_module(ALIASES[spec.name]))
        # where the code lives: error messages ("cannot import name 'x' from 'torch' (...)") then point at it
        module.__file__ = getattr(module.__dict__["_target"], "__file__", None)
        return module

    def exec_module(self, module):
        pass


class AliasFinder(importlib.abc.MetaPathFinder):
    """Claims every `torch...` and `torchvision...` import: a known one gets its AliasModule, any other fails
    with a message that names the engine rather than a search path."""

    def find_spec(self, fullname, path=None, target=None):
        if _root(fullname) not in _ROOTS:
            return None
        if fullname not in ALIASES or importlib.util.find_spec(ALIASES[fullname]) is None:
            raise ModuleNotFoundError(f"No module named '{fullname}': {fullname} is not implemented in tinygrad_fer",
                                      name=fullname)
        is_pkg = any(other.startswith(fullname + ".") for other in ALIASES)
        return importlib.machinery.ModuleSpec(fullname, _Loader(), is_package=is_pkg)


_finder = None


def installed():
    """Whether the hook is active."""
    return _finder is not None and _finder in sys.meta_path


def install():
    """Make `import torch` / `import torchvision` give tinygrad_fer from now on. Must run before the real
    packages are imported: modules already holding the real torch would keep it."""
    global _finder
    if installed():
        return
    real = sorted(n for n, m in sys.modules.items()
                  if _root(n) in _ROOTS and m is not None and not isinstance(m, AliasModule))
    if real:
        raise RuntimeError(f"{real[0]} is already imported: call tinygrad_fer.compat.install() before the first "
                           "`import torch` (in a notebook: restart the kernel)")
    _finder = AliasFinder()
    sys.meta_path.insert(0, _finder)


def uninstall():
    """Remove the hook and forget the aliased modules (a later `import torch` finds the real one, if any)."""
    global _finder
    if _finder is not None and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    for name in [n for n, m in sys.modules.items() if isinstance(m, AliasModule)]:
        del sys.modules[name]
