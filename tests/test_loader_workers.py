"""DataLoader(num_workers > 0): real worker processes building whole batches, the batches of num_workers=0,
worker_init_fn / get_worker_info / seeding, persistent workers, timeout, and worker errors surfacing in the main
process with their traceback (PyTorch's messages)."""
import os
import random
import signal
import time

import numpy as np
import pytest

import tinygrad_fer as tg
from tinygrad_fer.data import DataLoader, Dataset, TensorDataset
from tinygrad_fer.data import transforms as T
from tinygrad_fer.data.loader import get_worker_info


class Numbers(Dataset):
    def __init__(self, n=23):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2,), i, np.float32), i


class Pids(Numbers):
    def __getitem__(self, i):
        return os.getpid()


def as_lists(loader):
    out = []
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            out.append([b.numpy().tolist() if isinstance(b, tg.Tensor) else b for b in batch])
        else:
            out.append(batch.numpy().tolist())
    return out


@pytest.mark.parametrize("kwargs", [dict(batch_size=4), dict(batch_size=5, shuffle=True, generator=3),
                                    dict(batch_size=4, drop_last=True), dict(batch_size=None),
                                    dict(batch_size=3, collate_fn=lambda b: tg.tensor([x[1] * 2 for x in b]))])
def test_batches_identical_to_main_process(kwargs):
    want = as_lists(DataLoader(Numbers(), **kwargs))
    assert as_lists(DataLoader(Numbers(), num_workers=2, **kwargs)) == want
    assert as_lists(DataLoader(Numbers(), num_workers=3, prefetch_factor=1, **kwargs)) == want


def test_global_seed_shuffle_and_fast_path_identical():
    x = tg.tensor(np.arange(60, dtype=np.float32).reshape(30, 2))
    y = tg.tensor(np.arange(30))
    tg.manual_seed(11)
    want = as_lists(DataLoader(TensorDataset(x, y), batch_size=7, shuffle=True))
    tg.manual_seed(11)
    assert as_lists(DataLoader(TensorDataset(x, y), batch_size=7, shuffle=True, num_workers=2)) == want


def test_workers_are_processes_that_build_whole_batches():
    batches = as_lists(DataLoader(Pids(), batch_size=4, num_workers=2))
    assert all(len(set(b)) == 1 for b in batches)                      # one process per batch
    pids = [b[0] for b in batches]
    assert os.getpid() not in pids and len(set(pids)) == 2
    assert pids[0::2] == [pids[0]] * len(pids[0::2]) and pids[1::2] == [pids[1]] * len(pids[1::2])  # round robin


class InfoDataset(Numbers):
    def __getitem__(self, i):
        info = get_worker_info()
        return [info.id, info.num_workers, info.seed, random.randint(0, 10**9), int(tg.randint(0, 10**9, (1,)).item()),
                getattr(info.dataset, "marker", -1)]


def test_worker_init_fn_info_and_seeds():
    assert get_worker_info() is None
    ds = InfoDataset(8)

    def init(worker_id):
        get_worker_info().dataset.marker = 100 + worker_id
    tg.manual_seed(5)
    rows = list(DataLoader(ds, batch_size=None, num_workers=2, worker_init_fn=init))
    ids = [r[0] for r in rows]
    assert ids == [0, 1] * 4 and all(r[1] == 2 for r in rows)
    assert [r[5] for r in rows] == [100 + i for i in ids]                 # the worker's own copy of the dataset
    seeds = {r[0]: r[2] for r in rows}
    assert seeds[1] == seeds[0] + 1                                      # base_seed + worker id
    tg.manual_seed(5)
    again = list(DataLoader(ds, batch_size=None, num_workers=2, worker_init_fn=init))
    assert again == rows                       # Python's random and the engine's RNG are seeded per worker
    assert len({r[3] for r in rows}) == 8 and len({r[4] for r in rows}) == 8


def test_random_transforms_in_workers_are_reproducible():
    class Images(Numbers):
        def __getitem__(self, i):
            return T.RandomErasing(p=1.0, value="random")(np.zeros((1, 6, 6), np.float32)), i
    tg.manual_seed(2)
    a = as_lists(DataLoader(Images(10), batch_size=3, num_workers=2))
    tg.manual_seed(2)
    assert as_lists(DataLoader(Images(10), batch_size=3, num_workers=2)) == a


class Failing(Numbers):
    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        if i == 7:
            return {}["missing-key"]
        return i


def test_worker_exception_surfaces_with_traceback():
    it = iter(DataLoader(Failing(10), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1] and next(it).tolist() == [2, 3]
    with pytest.raises(ValueError) as err:
        next(it)
    msg = str(err.value)
    assert msg.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback (most recent call")
    assert "in __getitem__" in msg and "bad sample 5" in msg
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1") as err:
        next(it)
    assert "missing-key" in str(err.value)
    assert next(it).tolist() == [8, 9]           # the loader goes on, as PyTorch's does


def test_iterator_freed_by_the_garbage_collector_stops_its_workers():
    import gc
    it = iter(DataLoader(Numbers(10), batch_size=2, num_workers=2))
    next(it)
    workers = list(it.workers)
    cycle = [it]
    cycle.append(cycle)          # only the collector frees it, after the queues' own finalizers have run
    del it, cycle
    start = time.monotonic()
    gc.collect()
    for w in workers:
        w.join(timeout=3)
    assert not any(w.is_alive() for w in workers) and time.monotonic() - start < 2.5


def test_worker_init_fn_error_and_dead_worker():
    def init(worker_id):
        raise RuntimeError(f"no init for {worker_id}")
    with pytest.raises(RuntimeError, match="(?s)Caught RuntimeError in DataLoader worker process 0.*no init for 0"):
        list(DataLoader(Numbers(4), batch_size=2, num_workers=1, worker_init_fn=init))

    class Dies(Numbers):
        def __getitem__(self, i):
            os._exit(3)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly"):
        list(DataLoader(Dies(4), batch_size=2, num_workers=1))

    class Killed(Numbers):
        def __getitem__(self, i):
            os.kill(os.getpid(), signal.SIGTERM)
    # the way Numba's OpenMP layer ends a forked worker: the message says what to do about it
    with pytest.raises(RuntimeError, match=r"exited unexpectedly \(killed by a signal.*NUMBA_THREADING_LAYER"):
        list(DataLoader(Killed(4), batch_size=2, num_workers=1))


def test_timeout():
    class Slow(Numbers):
        def __getitem__(self, i):
            time.sleep(3)
            return i
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(DataLoader(Slow(2), batch_size=1, num_workers=1, timeout=0.5))
    assert time.monotonic() - start < 2.5


def test_persistent_workers_serve_every_epoch():
    loader = DataLoader(Pids(8), batch_size=2, num_workers=2, persistent_workers=True, pin_memory=True)
    first = {b[0] for b in as_lists(loader)}
    it = iter(loader)
    next(it)                                       # an abandoned epoch is drained before the next one
    second = {b[0] for b in as_lists(loader)}
    assert first == second and len(first) == 2
    loader._iterator.shutdown()
    fresh = DataLoader(Pids(8), batch_size=2, num_workers=2)
    assert {b[0] for b in as_lists(fresh)}.isdisjoint({b[0] for b in as_lists(fresh)})   # new workers each epoch


def test_argument_checks():
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(Numbers(), prefetch_factor=2)
    with pytest.raises(ValueError, match="prefetch_factor option should be a positive integer"):
        DataLoader(Numbers(), num_workers=2, prefetch_factor=0)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(Numbers(), num_workers=2, timeout=-1)
    assert DataLoader(Numbers(), persistent_workers=True).prefetch_factor is None     # accepted, as PyTorch 2.13
    assert DataLoader(Numbers(), num_workers=2).prefetch_factor == 2


# ---- IterableDataset: against torch.utils.data itself ---------------------------------------------------------

torch = pytest.importorskip("torch")


def make_stream(base, n, shard):
    class Stream(base):
        def __iter__(self):
            info = (torch.utils.data.get_worker_info() if base is torch.utils.data.IterableDataset
                    else get_worker_info())
            if shard and info is not None:        # each worker reads every num_workers-th item
                return iter(range(info.id, n, info.num_workers))
            return iter(range(n))

        def __len__(self):
            return n
    return Stream()


def flat(batches):
    return [b.tolist() if hasattr(b, "tolist") else b for b in batches]


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("kwargs", [dict(batch_size=2), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                                    dict(batch_size=2, collate_fn=lambda b: [x * 10 for x in b])])
@pytest.mark.parametrize("shard", [False, True])
def test_iterable_dataset_batches_match_torch(workers, kwargs, shard):
    from tinygrad_fer.data import IterableDataset
    ours = DataLoader(make_stream(IterableDataset, 7, shard), num_workers=workers, **kwargs)
    theirs = torch.utils.data.DataLoader(make_stream(torch.utils.data.IterableDataset, 7, shard),
                                         num_workers=workers, **kwargs)
    assert flat(ours) == flat(theirs)
    assert len(ours) == len(theirs)


def test_iterable_dataset_errors_chain_and_persistent():
    from tinygrad_fer.data import ChainDataset, IterableDataset
    stream = make_stream(IterableDataset, 5, False)
    for kw, name in ((dict(shuffle=True), "shuffle=True"), (dict(sampler=[0]), "sampler=[0]"),
                     (dict(batch_sampler=[[0]]), "batch_sampler=[[0]]")):
        with pytest.raises(ValueError, match=rf"DataLoader with IterableDataset: expected unspecified "
                                             rf"{name.split('=')[0]} option, but got {name.replace('[', '.')}"):
            DataLoader(stream, **kw)
    chained = stream + make_stream(IterableDataset, 2, False)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 2, 3, 4, 0, 1] and len(chained) == 7
    loader = DataLoader(make_stream(IterableDataset, 5, True), batch_size=2, num_workers=2, persistent_workers=True)
    assert flat(loader) == flat(loader) == [[0, 2], [1, 3], [4]]
    loader._iterator.shutdown()


def test_in_order_false_yields_every_batch():
    class SlowFirst(Numbers):
        def __getitem__(self, i):
            if i < 2:
                time.sleep(0.3)       # the first batch arrives last
            return i
    got = [b.tolist() for b in DataLoader(SlowFirst(8), batch_size=2, num_workers=2, in_order=False)]
    assert sorted(got) == [[0, 1], [2, 3], [4, 5], [6, 7]] and got[0] != [0, 1]
    assert [b.tolist() for b in DataLoader(SlowFirst(8), batch_size=2, num_workers=2)][0] == [0, 1]


def test_weighted_random_sampler_and_stack_dataset():
    from tinygrad_fer.data import StackDataset, WeightedRandomSampler
    s = WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=4000, generator=0)
    counts = np.bincount(list(s), minlength=3)
    assert len(s) == 4000 and counts[0] == 0 and abs(counts[2] / counts[1] - 3) < 0.3
    assert sorted(WeightedRandomSampler([1, 5, 0, 2], 3, replacement=False, generator=1)) == [0, 1, 3]
    ours = {}
    for kw in (dict(weights=[1, 2], num_samples=0), dict(weights=[1, 2], num_samples=2, replacement=1),
               dict(weights=[[1, 2]], num_samples=2), dict(weights=[1, 2], num_samples=2.0)):
        with pytest.raises(ValueError) as e:
            WeightedRandomSampler(**kw)
        with pytest.raises(ValueError) as t:
            torch.utils.data.WeightedRandomSampler(**kw)
        assert str(e.value) == str(t.value)
    for kw in (dict(weights=[1, -2], num_samples=2), dict(weights=[1, 2], num_samples=3, replacement=False),
               dict(weights=[0, 0], num_samples=3)):
        with pytest.raises(RuntimeError) as e:
            list(WeightedRandomSampler(**kw))
        with pytest.raises(RuntimeError) as t:
            list(torch.utils.data.WeightedRandomSampler(**kw))
        assert str(e.value) == str(t.value)
    loader = DataLoader(Numbers(6), batch_size=3, sampler=WeightedRandomSampler([0, 0, 1, 0, 0, 0], 6))
    assert [b[1].tolist() for b in loader] == [[2, 2, 2], [2, 2, 2]]
    st = StackDataset(tg.arange(3), tg.arange(3) * 2)
    assert len(st) == 3 and [int(v) for v in st[1]] == [1, 2]
    kw = StackDataset(a=[1, 2], b=["x", "y"])
    assert kw[1] == {"a": 2, "b": "y"}
    batch = next(iter(DataLoader(kw, batch_size=2)))
    assert batch["a"].tolist() == [1, 2] and batch["b"] == ["x", "y"]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset([1], [1, 2])
    with pytest.raises(ValueError, match="but both types are given"):
        StackDataset([1], b=[1])


class _TensorOps:
    """A dataset whose items are made with the engine's parallel kernels (ReLU over more elements than the
    single-thread threshold)."""
    def __len__(self):
        return 6

    def __getitem__(self, i):
        x = tg.arange(200 * 200, dtype=tg.float32).reshape(200, 200) - 20000.0 + i
        return tg.nn.functional.relu(x).sum()


def test_workers_run_tensor_ops_after_the_parent_ran_parallel_kernels():
    """Forked after the main process ran a parallel Numba kernel, a worker would be ended by Numba's OpenMP layer
    on its first one; workers use the reference kernels instead, with the same batches."""
    tg.nn.functional.relu(tg.randn(400, 400))
    want = [b.tolist() for b in DataLoader(_TensorOps(), batch_size=2)]
    got = [b.tolist() for b in DataLoader(_TensorOps(), batch_size=2, num_workers=2, timeout=30)]
    assert got == want
