"""Map-style datasets as in torch.utils.data: Dataset, TensorDataset, Subset, ConcatDataset, random_split.

Fast path: a dataset whose samples live in whole arrays offers `_batch_getter()`, returning a function that
maps an index array to an already collated batch (one fancy-index per array instead of a Python loop over
samples), or None when it cannot (e.g. a per-sample transform). DataLoader uses it with the default collate.
"""
import bisect
import math

import numpy as np

from ._util import as_generator, is_tensor, rng_or_global, wrap


class Dataset:
    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset read as a stream (`__iter__`), not by index. Under DataLoader(num_workers=n) every worker
    iterates its own copy: split the stream with get_worker_info() (in __iter__ or worker_init_fn) so each item
    is read once."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """The IterableDatasets one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class TensorDataset(Dataset):
    """Sample i is tuple(t[i] for t in tensors); all tensors share their first dimension."""

    def __init__(self, *tensors):
        tensors = tuple(t if is_tensor(t) else wrap(np.asarray(t)) for t in tensors)
        sizes = [t.shape[0] if len(t.shape) else None for t in tensors]
        if not tensors or None in sizes or any(s != sizes[0] for s in sizes):
            raise ValueError(f"Size mismatch between tensors: TensorDataset needs tensors with the same first "
                             f"dimension, got shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _batch_getter(self):
        def fetch(idx):
            # indices go to each tensor's backend so a GPU tensor is gathered on the GPU
            return [wrap(t._array[t._be.asarray(idx)]) for t in self.tensors]
        return fetch


class StackDataset(Dataset):
    """Sample i gathers sample i of each dataset: a tuple (positional datasets) or a dict (keyword ones)."""

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via ``kwargs``) like "
                             "input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args if args else kwargs
        sizes = [len(d) for d in (args if args else kwargs.values())]
        if any(n != sizes[0] for n in sizes):
            raise ValueError("Size mismatch between datasets")
        self._length = sizes[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    def _batch_getter(self):
        inner = getattr(self.dataset, "_batch_getter", lambda: None)()
        if inner is None:
            return None
        mapping = np.asarray(self.indices, dtype=np.int64)
        return lambda idx: inner(mapping[idx])


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx += len(self)
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[d][idx - (self.cumulative_sizes[d - 1] if d else 0)]


def _split_lengths(lengths, n):
    """Integer lengths from lengths that are either counts or fractions summing to 1 (PyTorch's rule:
    floor each fraction, then hand the remainder out one by one, round-robin from the first split)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"Fraction lengths must lie in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        return counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"lengths must be non-negative integers or fractions summing to 1, got {lengths}")
    return [int(x) for x in lengths]


def random_split(dataset, lengths, generator=None):
    """Disjoint Subsets of the given lengths (counts, or fractions summing to 1) over a random permutation."""
    n = len(dataset)
    counts = _split_lengths(lengths, n)
    if sum(counts) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    perm = rng_or_global(as_generator(generator)).permutation(n).tolist()
    offsets = np.cumsum([0] + counts).tolist()
    return [Subset(dataset, perm[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
