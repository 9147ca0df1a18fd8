"""DataLoader: batches from a map-style dataset, in the main process.

Fast path: with the default collate_fn, a dataset offering `_batch_getter()` (TensorDataset, CIFAR10, MNIST,
Subsets of them) builds each batch with one fancy-index per array; otherwise samples are fetched one by one
and passed to collate_fn, exactly like PyTorch.

batch_transform (keyword only, not in PyTorch): a callable applied to every collated batch's inputs -- the
first field when the batch is a list/tuple (images of an (images, labels) batch), else the whole batch --
e.g. `DataLoader(ds, 128, shuffle=True, batch_transform=transforms.Compose([RandomCrop(32, 4),
RandomHorizontalFlip()]))`. This is how whole-batch augmentation runs after collation.
"""
import numpy as np

from .collate import default_collate, default_convert
from .sampler import BatchSampler, RandomSampler, SequentialSampler


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", batch_transform=None):
        # num_workers/pin_memory/timeout/prefetch... are accepted for source compatibility; loading runs in
        # this process (the fast path makes worker processes unnecessary for array-backed data)
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last, self.generator = dataset, batch_size, drop_last, generator
        self.sampler, self.batch_sampler, self.num_workers = sampler, batch_sampler, num_workers
        self._auto_collation = batch_sampler is not None
        self._custom_collate = collate_fn is not None
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)
        self.batch_transform = batch_transform
        if batch_transform is not None and not callable(batch_transform):
            raise TypeError(f"batch_transform must be callable, got {type(batch_transform).__name__}")

    def __len__(self):
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)

    def _apply_batch_transform(self, batch):
        if self.batch_transform is None:
            return batch
        if isinstance(batch, (list, tuple)) and not hasattr(batch, "_fields"):
            return type(batch)([self.batch_transform(batch[0]), *batch[1:]])
        return self.batch_transform(batch)

    def __iter__(self):
        ds = self.dataset
        if not self._auto_collation:
            for i in self.sampler:
                yield self._apply_batch_transform(self.collate_fn(ds[i]))
            return
        fast = None if self._custom_collate else getattr(ds, "_batch_getter", lambda: None)()
        batches = self.batch_sampler._batches() if isinstance(self.batch_sampler, BatchSampler) else self.batch_sampler
        for idx in batches:
            if fast is not None:
                batch = fast(np.asarray(idx, dtype=np.int64))
            else:
                batch = self.collate_fn([ds[i] for i in (idx.tolist() if isinstance(idx, np.ndarray) else idx)])
            yield self._apply_batch_transform(batch)
