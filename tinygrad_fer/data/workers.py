"""DataLoader worker processes (num_workers > 0), as PyTorch's: each worker builds whole batches.

The main process hands out (batch number, indices) tasks round-robin, keeping prefetch_factor tasks in flight
per worker, and yields results in sampler order, so the batches are those num_workers=0 gives. A worker seeds
Python's `random` and the engine's global RNG with base_seed + worker id, sets `get_worker_info()`, then runs
worker_init_fn(worker id). An exception in a worker comes back to the main process and is raised there with the
worker's traceback in its message; a worker that dies, or a batch that takes longer than `timeout` seconds,
raises RuntimeError. With persistent_workers the processes serve every epoch; otherwise they exit at its end.

Workers are forked (on Linux, as PyTorch's), so datasets, lambdas and closures need not pickle. Numba's OpenMP
threading layer ends a process forked after its parent ran a parallel kernel as soon as it starts one itself, so a
worker runs the backend's reference (NumPy) kernels instead of the compiled ones: Tensor operations in
__getitem__, collate_fn or transforms work, at NumPy's speed.
"""
import itertools
import multiprocessing
import os
import queue
import random
import signal
import sys
import time
import traceback

import numpy as np

_POLL_S = 0.25         # how often a waiting side checks that the other side is still alive
# a worker's own Numba code (not the engine's kernels, which it no longer runs) can still meet GNU OpenMP's fork limit
_ABORT_HINT = (" (killed by a signal. If it printed 'fork() called from a process already using GNU OpenMP': "
               "Numba's OpenMP threading layer ends a forked process that starts a parallel region after its parent "
               "ran one; set NUMBA_THREADING_LAYER=workqueue before starting Python)")
_worker_info = None


class WorkerInfo:
    """What get_worker_info() returns inside a worker: id, num_workers, seed, dataset (the worker's copy)."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __setattr__(self, key, value):
        if key in self.__dict__:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(key, value)

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process, or None in the main process."""
    return _worker_info


class _KeyErrorMessage(str):
    # KeyError's str() is the repr of its argument; this keeps the traceback's line breaks readable
    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and formatted traceback."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exc = self.exc_type(msg)
        except Exception:
            # an exception class whose constructor needs more than a message
            raise RuntimeError(msg) from None
        raise exc


class Fetcher:
    """Index list -> finished batch: the loader's whole per-batch work, the same in the main process and in a
    worker (picklable, so it also travels to spawned workers; the fast batch getter is made where it runs)."""

    def __init__(self, dataset, auto_collation, collate_fn, custom_collate, batch_transform, batch_size=None,
                 drop_last=False):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.custom_collate, self.batch_transform = custom_collate, batch_transform
        self.batch_size, self.drop_last = batch_size, drop_last
        self._fast = False      # not looked up yet (None: the dataset has no fast path)
        self._stream, self._epoch = None, None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_fast"], state["_stream"], state["_epoch"] = False, None, None
        return state

    def next_batch(self, epoch):
        """The next batch of an IterableDataset's stream (a new stream for a new epoch); StopIteration at its
        end (a short last batch is dropped with drop_last)."""
        if self._epoch != epoch:
            self._stream, self._epoch = iter(self.dataset), epoch
        if not self.auto_collation:
            return self._transform(self.collate_fn(next(self._stream)))
        items = list(itertools.islice(self._stream, self.batch_size))
        if not items or (self.drop_last and len(items) < self.batch_size):
            raise StopIteration
        return self._transform(self.collate_fn(items))

    def _transform(self, batch):
        if self.batch_transform is None:
            return batch
        if isinstance(batch, (list, tuple)) and not hasattr(batch, "_fields"):
            return type(batch)([self.batch_transform(batch[0]), *batch[1:]])
        return self.batch_transform(batch)

    def __call__(self, idx):
        ds = self.dataset
        if not self.auto_collation:
            return self._transform(self.collate_fn(ds[idx]))
        if self._fast is False:
            self._fast = None if self.custom_collate else getattr(ds, "_batch_getter", lambda: None)()
        if self._fast is not None:
            return self._transform(self._fast(np.asarray(idx, dtype=np.int64)))
        return self._transform(self.collate_fn([ds[i] for i in (idx.tolist() if isinstance(idx, np.ndarray)
                                                                 else idx)]))


def _worker_loop(fetch, index_queue, result_queue, done_event, worker_id, num_workers, seed, init_fn, parent_pid):
    global _worker_info
    init_error = None
    try:
        import tinygrad_fer
        from ..backend_cpu import backend_cpu
        backend_cpu.use_reference_kernels()    # no compiled parallel kernels after fork (Numba's OpenMP aborts)
        random.seed(seed)
        tinygrad_fer.manual_seed(seed)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=fetch.dataset)
        if init_fn is not None:
            init_fn(worker_id)
    except Exception:
        init_error = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
    try:
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                # the main process is gone, or shut us down without a message reaching us (an iterator freed by
                # the garbage collector may find its queues already closed)
                if os.getppid() != parent_pid or done_event.is_set():
                    break
                continue
            if task is None:
                break
            batch_id, idx, epoch = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetch.next_batch(epoch) if idx is None else fetch(idx)
                except StopIteration:
                    data = _StreamEnd(worker_id)
                except Exception:
                    data = ExceptionWrapper(sys.exc_info(), f"in DataLoader worker process {worker_id}")
            result_queue.put((batch_id, data))
    except KeyboardInterrupt:
        pass
    # exit without waiting to flush results the main process will not read
    result_queue.cancel_join_thread()


class _StreamEnd:
    """A worker's IterableDataset stream is exhausted: it gets no more tasks this epoch."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


def _peek_seed(epoch):
    """A worker base seed that follows tinygrad_fer.manual_seed without drawing from the global RNG (a draw
    would shift a shuffle's permutation away from num_workers=0's)."""
    from ..backend_cpu import backend_cpu
    bits = backend_cpu.rng.bit_generator
    copy = type(bits)()
    copy.state = bits.state
    return int(np.random.Generator(copy).integers(0, 2**62)) + epoch


class MultiProcessIter:
    def __init__(self, loader, fetcher, batches):
        self.loader, self.n = loader, loader.num_workers
        ctx = loader.multiprocessing_context
        if ctx is None:
            ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
        elif isinstance(ctx, str):
            ctx = multiprocessing.get_context(ctx)
        self.prefetch = loader.prefetch_factor
        self.timeout = loader.timeout
        self.result_queue = ctx.Queue()
        self.done_event = ctx.Event()
        self._owner = os.getpid()
        self.iterable, self.epoch = batches is None, 0
        self._start_epoch(batches)
        seed = _peek_seed(loader._epochs_started)
        self.index_queues, self.workers = [], []
        for i in range(self.n):
            q = ctx.Queue()
            q.cancel_join_thread()
            p = ctx.Process(target=_worker_loop, daemon=True,
                            args=(fetcher, q, self.result_queue, self.done_event, i, self.n, seed + i,
                                  loader.worker_init_fn,
                                  os.getpid()))
            p.start()
            self.index_queues.append(q)
            self.workers.append(p)
        self._shut = False
        self._prime()

    def _start_epoch(self, batches):
        self.epoch += 1
        # an IterableDataset's tasks are "your next batch", to every worker until its stream ends
        self.tasks = ((i, None) for i in itertools.count()) if self.iterable else enumerate(batches)
        self.active = set(range(self.n))
        self.next_worker = itertools.cycle(range(self.n))
        self.sent = self.received = 0
        self.cache = {}
        # materialise the first tasks now: the sampler draws its permutation before anything else runs
        self.pending = list(itertools.islice(self.tasks, self.prefetch * self.n))

    def _prime(self):
        for _ in range(len(self.pending)):
            self._put()

    def _put(self):
        if not self.active:
            return
        if self.pending:
            task = self.pending.pop(0)
        else:
            task = next(self.tasks, None)
            if task is None:
                return
        worker = next(self.next_worker)
        while worker not in self.active:
            worker = next(self.next_worker)
        self.index_queues[worker].put((*task, self.epoch))
        self.sent += 1

    def reset(self, batches):
        """Next epoch on the same (persistent) workers; results of an abandoned epoch are drained first."""
        for _ in range(self.sent - self.received - len(self.cache)):
            self._get()
        self._start_epoch(batches)
        self._prime()

    def __iter__(self):
        return self

    def __next__(self):
        if not self.loader.in_order:
            return self._next_as_arrived()
        while True:
            if self.received in self.cache:
                data = self.cache.pop(self.received)
                self.received += 1
                if isinstance(data, _StreamEnd):
                    self.active.discard(data.worker_id)
                    self._put()
                    continue
                self._put()
                if isinstance(data, ExceptionWrapper):
                    data.reraise()
                return data
            if self.received == self.sent:
                if not self.loader.persistent_workers:
                    self.shutdown()
                raise StopIteration
            batch_id, data = self._get()
            self.cache[batch_id] = data

    def _next_as_arrived(self):
        while True:
            if self.received == self.sent:
                if not self.loader.persistent_workers:
                    self.shutdown()
                raise StopIteration
            _, data = self._get()
            self.received += 1
            if isinstance(data, _StreamEnd):
                self.active.discard(data.worker_id)
            self._put()
            if isinstance(data, ExceptionWrapper):
                data.reraise()
            if not isinstance(data, _StreamEnd):
                return data

    def _get(self):
        deadline = time.monotonic() + self.timeout if self.timeout > 0 else None
        while True:
            wait = _POLL_S if deadline is None else max(0.0, min(_POLL_S, deadline - time.monotonic()))
            try:
                return self.result_queue.get(timeout=wait)
            except queue.Empty:
                dead = [w for w in self.workers if not w.is_alive()]
                if dead:
                    self.shutdown(force=True)
                    msg = f"DataLoader worker (pid(s) {', '.join(str(w.pid) for w in dead)}) exited unexpectedly"
                    if any(w.exitcode in (-signal.SIGTERM, -signal.SIGABRT) for w in dead):
                        msg += _ABORT_HINT
                    raise RuntimeError(msg) from None
                if deadline is not None and time.monotonic() >= deadline:
                    self.shutdown(force=True)
                    raise RuntimeError(f"DataLoader timed out after {self.timeout} seconds") from None

    def shutdown(self, force=False):
        """Stop the workers: asked to exit after their current batch, or (force) terminated at once."""
        if getattr(self, "_shut", True) or os.getpid() != self._owner:
            # (a worker forked later holds a copy of this iterator: its collector must not stop our workers)
            return
        self._shut = True
        self.done_event.set()
        if force:
            for w in self.workers:
                w.terminate()
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self.index_queues:
            q.close()
        self.result_queue.cancel_join_thread()
        self.result_queue.close()

    def __del__(self):
        self.shutdown()
