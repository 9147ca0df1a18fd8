"""default_collate / default_convert with PyTorch's rules: Tensors and numpy arrays are stacked, Python ints
become int64, floats float64, bools bool; strings stay lists; dicts, namedtuples and sequences are collated
field by field (a tuple or list of fields comes back as a list, as in PyTorch)."""
import collections.abc

import numpy as np

from ._util import is_tensor, wrap, xp_of

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _stack(arrays, what):
    first = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != first:
            raise RuntimeError(f"stack expects each {what} to be equal size, but got {list(first)} at entry 0 "
                               f"and {list(a.shape)} at entry {i}")
    return wrap(xp_of(arrays[0]).stack(arrays))


def default_collate(batch):
    elem = batch[0]
    if is_tensor(elem):
        # collation happens outside autograd: the data pipeline feeds leaves, it is not differentiated
        return _stack([t._array for t in batch], "tensor")
    if isinstance(elem, (np.ndarray, np.generic)) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind in "SUaO":
            raise TypeError(_ERR.format(elem.dtype))
        return _stack([np.asarray(a) for a in batch], "array")
    if isinstance(elem, bool):
        return wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, int):
        return wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, float):
        return wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            return type(elem)(out)
        except TypeError:
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(f)) for f in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(f)) for f in zip(*batch)]
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data):
    """What DataLoader(batch_size=None) yields: numpy arrays/scalars become Tensors, containers are walked,
    everything else is passed through."""
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "SUaO":
        return wrap(data)
    if isinstance(data, collections.abc.Mapping):
        return type(data)({k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (list, tuple)):
        return [default_convert(d) for d in data]     # tuples come back as lists, as in PyTorch
    return data
