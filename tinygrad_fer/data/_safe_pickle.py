"""Unpickling of dataset files that never runs code from the file.

A pickle can name any importable callable and have the loader call it, so `pickle.load` on a downloaded file
runs whatever that file asks for. The loader here resolves only the few globals that a pickled dict of lists,
strings, numbers and NumPy arrays needs (under NumPy 1.x's `numpy.core` and 2.x's `numpy._core` names) and
refuses every other one before anything is called.
"""
import importlib
import pickle

import numpy as np


class UnsafePickleError(pickle.UnpicklingError):
    """The file names a global outside the allowed set: it is not the data file it claims to be."""


def _latin1_encode(text, encoding="latin1"):
    # Python 3 pickles bytes under protocols 0-2 as _codecs.encode(text, 'latin1'); no other codec is needed
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode is only allowed as (str, 'latin1'), got encoding "
                                     f"{encoding!r} on a {type(text).__name__}")
    return text.encode("latin1")


def _numpy_core(module, name):
    # NumPy 2 renamed numpy.core to numpy._core; either spelling may appear in a file, whatever NumPy reads it
    for candidate in ("numpy._core." + module, "numpy.core." + module):
        try:
            return getattr(importlib.import_module(candidate), name)
        except (ImportError, AttributeError):
            continue
    raise pickle.UnpicklingError(f"this NumPy has no {module}.{name}")


def _resolvers():
    numpy_core = {("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer")}
    table = {("numpy", "ndarray"): lambda: np.ndarray, ("numpy", "dtype"): lambda: np.dtype,
             ("_codecs", "encode"): lambda: _latin1_encode}
    for module, name in numpy_core:
        for prefix in ("numpy.core.", "numpy._core."):
            table[(prefix + module, name)] = lambda module=module, name=name: _numpy_core(module, name)
    return table


_ALLOWED = _resolvers()


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source):
        super().__init__(file, encoding="latin1")   # Python 2 str (the official files) -> str, as torchvision
        self._source = source

    def find_class(self, module, name):
        resolve = _ALLOWED.get((module, name))
        if resolve is None:
            raise UnsafePickleError(
                f"{self._source}: refusing to unpickle the global '{module}.{name}'. A dataset file holds only "
                f"dicts, lists, strings, numbers and NumPy arrays, so this one is not what it claims to be; "
                f"loading it could run code, so nothing from it was executed.")
        return resolve()


def load(path):
    """The object pickled in the file at path, built without calling anything but the allowed globals.
    Raises UnsafePickleError (a pickle.UnpicklingError) naming the global and the file for anything else."""
    with open(path, "rb") as f:
        return _RestrictedUnpickler(f, path).load()
