"""DataLoader: batches from a map-style dataset, in the main process or (num_workers > 0) in worker processes
that each build whole batches (tinygrad_fer/data/workers.py).

Fast path: with the default collate_fn, a dataset offering `_batch_getter()` (TensorDataset, CIFAR10, MNIST,
Subsets of them) builds each batch with one fancy-index per array; otherwise samples are fetched one by one
and passed to collate_fn, exactly like PyTorch.

batch_transform (keyword only, not in PyTorch): a callable applied to every collated batch's inputs -- the
first field when the batch is a list/tuple (images of an (images, labels) batch), else the whole batch --
e.g. `DataLoader(ds, 128, shuffle=True, batch_transform=transforms.Compose([RandomCrop(32, 4),
RandomHorizontalFlip()]))`. This is how whole-batch augmentation runs after collation.
"""
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .workers import Fetcher, MultiProcessIter, get_worker_info  # noqa: F401


class DataLoader:
    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, batch_transform=None):
        # pin_memory / pin_memory_device are accepted for source compatibility: there is no pinned host memory
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and (not isinstance(prefetch_factor, int) or prefetch_factor < 1):
            raise ValueError(f"prefetch_factor option should be a positive integer, got {prefetch_factor!r}")
        # persistent_workers with num_workers=0 is accepted and means nothing, as in PyTorch 2.13
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"worker_init_fn must be callable, got {type(worker_init_fn).__name__}")
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor, self.persistent_workers, self.pin_memory = prefetch_factor, persistent_workers, pin_memory
        self._iterator, self._epochs_started = None, 0
        self.in_order = in_order      # False: worker batches are yielded as they arrive, not in sampler order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            # a stream has no indices: items are grouped into batches in the order they come
            for name, value in (("shuffle", shuffle), ("sampler", sampler), ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified {name} option, but "
                                     f"got {name}={value}")
            if batch_size is None and drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                                 "drop_last")
            self._init_common(dataset, batch_size, drop_last, generator, None, None, num_workers, collate_fn,
                              batch_transform)
            self._auto_collation = batch_size is not None
            self._set_collate(collate_fn)
            return
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
        self._init_common(dataset, batch_size, drop_last, generator, sampler, batch_sampler, num_workers, collate_fn,
                          batch_transform)
        self._auto_collation = batch_sampler is not None
        self._set_collate(collate_fn)

    def _init_common(self, dataset, batch_size, drop_last, generator, sampler, batch_sampler, num_workers,
                     collate_fn, batch_transform):
        self.dataset, self.batch_size, self.drop_last, self.generator = dataset, batch_size, drop_last, generator
        self.sampler, self.batch_sampler, self.num_workers = sampler, batch_sampler, num_workers
        self.batch_transform = batch_transform
        if batch_transform is not None and not callable(batch_transform):
            raise TypeError(f"batch_transform must be callable, got {type(batch_transform).__name__}")

    def _set_collate(self, collate_fn):
        self._custom_collate = collate_fn is not None
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if self._auto_collation else default_convert)

    def __len__(self):
        if self._iterable:   # the stream's own length, in batches
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self._auto_collation else len(self.sampler)

    def _fetcher(self):
        return Fetcher(self.dataset, self._auto_collation, self.collate_fn, self._custom_collate,
                       self.batch_transform, self.batch_size, self.drop_last)

    def _batches(self):
        if self._iterable:
            return None
        if not self._auto_collation:
            return self.sampler
        return self.batch_sampler._batches() if isinstance(self.batch_sampler, BatchSampler) else self.batch_sampler

    def __iter__(self):
        if self.num_workers == 0:
            return self._single_process()
        self._epochs_started += 1
        if self.persistent_workers and self._iterator is not None:
            self._iterator.reset(self._batches())
            return self._iterator
        it = MultiProcessIter(self, self._fetcher(), self._batches())
        if self.persistent_workers:
            self._iterator = it
        return it

    def _single_process(self):
        fetch = self._fetcher()
        if self._iterable:
            while True:
                try:
                    batch = fetch.next_batch(0)
                except StopIteration:
                    return
                yield batch
        for idx in self._batches():
            yield fetch(idx)
