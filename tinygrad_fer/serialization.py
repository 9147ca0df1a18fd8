"""save/load of checkpoints (state dicts, optimizer state, epoch counters...) without pickle.

Format: a NumPy .npz archive. Each tensor's array is one member ("t0", "t1", ...); the structure around them
(dicts, lists, tuples, numbers, strings, None) is JSON in the member "__structure__". Loading never unpickles
(np.load(allow_pickle=False)), so a checkpoint from an untrusted source cannot run code. Saving writes a temporary
file in the destination's directory and renames it over the destination, so a crash never leaves a half-written
checkpoint where a good one was; the temporary a killed save leaves behind is removed by the next save to the
same path (tinygrad_fer._atomic).
"""
import json
import os
from collections import OrderedDict

import numpy as np

from . import backend, dtypes
from ._atomic import atomic_write
from .tensor import Tensor

_STRUCT = "__structure__"
_FORMAT = "tinygrad_fer-npz-1"


def _encode(obj, arrays, memo):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if isinstance(obj, Tensor):
        from .nn.parameter import Parameter
        key = memo.get(id(obj))
        if key is None:  # a tensor reached twice is stored once
            key = memo[id(obj)] = f"t{len(arrays)}"
            arrays[key] = obj._be.to_numpy(obj._array)
        return {"__tensor__": key, "device": str(obj.device), "requires_grad": bool(obj.requires_grad),
                "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise TypeError("save: object arrays can't be saved without pickle")
        key = f"t{len(arrays)}"
        arrays[key] = obj
        return {"__ndarray__": key}
    if isinstance(obj, dtypes.DType):
        return {"__dtype__": obj.name}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, arrays, memo) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v, arrays, memo) for v in obj]
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"save: dict keys must be str, int, float, bool or None, got {type(k).__name__}")
        tag = "__odict__" if isinstance(obj, OrderedDict) else "__dict__"
        return {tag: [[_encode(k, arrays, memo), _encode(v, arrays, memo)] for k, v in obj.items()]}
    raise TypeError(f"save: can't save an object of type {type(obj).__name__} (supported: tensors, numpy arrays, "
                    "dicts, lists, tuples, numbers, strings, None)")


def save(obj, f, **_ignored):
    """Save obj (a state dict, or nested dicts/lists of them) to path f, atomically; or to a writable binary
    file object."""
    arrays = {}
    structure = json.dumps({"format": _FORMAT, "obj": _encode(obj, arrays, {})})
    members = dict(arrays)
    members[_STRUCT] = np.frombuffer(structure.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **members)
        return
    with atomic_write(os.fspath(f), suffix=".tmp") as fh:
        np.savez(fh, **members)


def _target_device(saved, map_location):
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        return map_location.get(saved, saved)
    if callable(map_location):
        return map_location(saved)
    return str(map_location)


def _decode(obj, arrays, map_location, cache):
    if isinstance(obj, list):
        return [_decode(v, arrays, map_location, cache) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        key = obj["__tensor__"]
        dev = _target_device(obj["device"], map_location)
        if (key, dev) not in cache:
            a = arrays[key]
            cache[(key, dev)] = a if backend.device(dev).type == "cpu" else backend.get(dev).asarray(a)
        t = Tensor(cache[(key, dev)])
        if obj.get("parameter"):
            from .nn.parameter import Parameter
            return Parameter(t, obj["requires_grad"])
        if obj["requires_grad"]:
            t.requires_grad_(True)
        return t
    if "__ndarray__" in obj:
        return arrays[obj["__ndarray__"]]
    if "__dtype__" in obj:
        return dtypes.to_dtype(obj["__dtype__"])
    if "__tuple__" in obj:
        return tuple(_decode(v, arrays, map_location, cache) for v in obj["__tuple__"])
    for tag, cls in (("__odict__", OrderedDict), ("__dict__", dict)):
        if tag in obj:
            return cls((_decode(k, arrays, map_location, cache), _decode(v, arrays, map_location, cache))
                       for k, v in obj[tag])
    raise ValueError(f"load: unknown entry in the checkpoint structure: {sorted(obj)}")


def load(f, map_location=None, weights_only=None, **_ignored):
    """Read what save wrote. map_location: None (devices as saved), a device or string, a dict mapping saved
    device strings to new ones, or a callable(saved_device_string) -> device."""
    name = f if not hasattr(f, "read") else getattr(f, "name", "<file object>")
    try:
        archive = np.load(f, allow_pickle=False)
    except ValueError as e:
        raise ValueError(f"load: {name} is not a tinygrad_fer checkpoint (it looks like pickled data, which is "
                         f"never loaded: {e})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"load: {name} is a single .npy array, not a tinygrad_fer checkpoint")
    with archive:
        if _STRUCT not in archive.files:
            raise ValueError(f"load: {name} is an .npz archive without a '{_STRUCT}' member: not a tinygrad_fer "
                             "checkpoint")
        try:
            arrays = {k: archive[k] for k in archive.files if k != _STRUCT}
        except ValueError as e:
            raise ValueError(f"load: {name} holds object (pickled) arrays, which are never loaded: {e}") from None
        meta = json.loads(bytes(archive[_STRUCT]).decode("utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise ValueError(f"load: {name} has an unknown checkpoint format {meta.get('format')!r}")
    return _decode(meta["obj"], arrays, map_location, {})
