"""Searching and counting ops (ops/search.py): the errors and edge cases the generated registry samples don't reach."""
import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from helpers import raises_like

NAN = float("nan")


def _same(got, want):
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def test_unique_gives_every_nan_its_own_entry():
    x = np.array([3.0, 1.0, NAN, 1.0, NAN, 2.0, 3.0], np.float32)
    for f in ("unique", "unique_consecutive"):
        _same(getattr(tg, f)(tg.tensor(x), return_inverse=True, return_counts=True),
              getattr(torch, f)(torch.tensor(x), return_inverse=True, return_counts=True))


def test_unique_of_a_scalar_is_a_vector_and_its_inverse_a_scalar():
    _same(tg.unique(tg.tensor(5.0), return_inverse=True, return_counts=True),
          torch.unique(torch.tensor(5.0), return_inverse=True, return_counts=True))


@pytest.mark.parametrize("f", ["unique", "unique_consecutive"])
def test_unique_along_a_dim_of_empty_slices_or_a_scalar_fails_like_torch(f):
    for x in (np.zeros((3, 0)), np.array(3.0)):
        raises_like(lambda t: getattr(tg, f)(t, dim=0), lambda t: getattr(torch, f)(t, dim=0), x)
    _same(getattr(tg, f)(tg.tensor(np.zeros((0, 2))), dim=0, return_inverse=True, return_counts=True),
          getattr(torch, f)(torch.zeros((0, 2), dtype=torch.float64), dim=0, return_inverse=True, return_counts=True))


def test_nonzero_of_a_scalar():
    for v in (5.0, 0.0):
        _same(tg.nonzero(tg.tensor(v)), torch.nonzero(torch.tensor(v)))
        _same(tg.nonzero(tg.tensor(v), as_tuple=True), torch.nonzero(torch.tensor(v), as_tuple=True))


def test_searchsorted_nan_and_promotion_follow_torch():
    bd, v = np.array([1.0, NAN], np.float32), np.array([NAN, 5.0, 0.5], np.float32)
    for right in (False, True):
        _same(tg.searchsorted(tg.tensor(bd), tg.tensor(v), right=right),
              torch.searchsorted(torch.tensor(bd), torch.tensor(v), right=right))
    _same(tg.searchsorted(tg.tensor([1, 2]), 1.5), torch.searchsorted(torch.tensor([1, 2]), 1.5))
    _same(tg.bucketize(2.0, tg.tensor([1.0, 2.0, 3.0])), torch.bucketize(2.0, torch.tensor([1.0, 2.0, 3.0])))


SEARCH_ERRORS = [
    (lambda m, b, v, **k: m.searchsorted(b, v, **k), np.array([1.0, 2.0]), np.array([1.0]), dict(side="up")),
    (lambda m, b, v, **k: m.searchsorted(b, v, **k), np.array([1.0, 2.0]), np.array([1.0]),
     dict(side="left", right=True)),
    (lambda m, b, v, **k: m.searchsorted(b, v, **k), np.ones((2, 2)), np.array([1.0, 2.0]), {}),
    (lambda m, b, v, **k: m.searchsorted(b, v, **k), np.ones((2, 2)), 1.0, {}),
    (lambda m, b, v, **k: m.searchsorted(b, v, **k), np.array([True, False]), np.array([True]), {}),
    (lambda m, b, v, **k: m.bucketize(v, b, **k), np.ones((2, 2)), np.array([1.0]), {}),
]


@pytest.mark.parametrize("case", range(len(SEARCH_ERRORS)))
def test_searchsorted_rejects_what_torch_rejects(case):
    f, b, v, kw = SEARCH_ERRORS[case]
    raises_like(lambda b, v: f(tg, b, v, **kw), lambda b, v: f(torch, b, v, **kw), b, v)


@pytest.mark.parametrize("sorter", [np.array([1, 2], np.int64), np.array([1, 2, 5], np.int64),
                                    np.array([1, 2, 0], np.int32)])
def test_searchsorted_checks_the_sorter(sorter):
    raises_like(lambda b, s: tg.searchsorted(b, tg.tensor([1.5]), sorter=s),
                lambda b, s: torch.searchsorted(b, torch.tensor([1.5]), sorter=s), np.array([3.0, 1.0, 2.0]), sorter)


@pytest.mark.parametrize("x, kw", [(np.array([1.0, 2.0]), {}), (np.array([-1, 2]), {}), (np.array([[1, 2]]), {}),
                                   (np.array([True]), {}), (np.array([1, 2]), dict(minlength=-1)),
                                   (np.array([1, 2]), dict(weights=np.array([1.0])))])
def test_bincount_rejects_what_torch_rejects(x, kw):
    def run(lib):
        k = {n: lib.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()}
        return lambda t: lib.bincount(t, **k)
    raises_like(run(tg), run(torch), x)


def test_bincount_of_nothing_is_int64_zeros_whatever_the_weights():
    _same(tg.bincount(tg.tensor(np.zeros(0, np.int64)), tg.tensor([1.0]), minlength=2),
          torch.bincount(torch.tensor(np.zeros(0, np.int64)), torch.tensor([1.0]), minlength=2))


@pytest.mark.parametrize("x, kw", [(np.array([1, 2]), {}), (np.array([1.0, 2.0]), dict(bins=0)),
                                   (np.array([1.0, 2.0]), dict(bins=2.5)), (np.array([1.0, 2.0]), dict(min=3, max=1)),
                                   (np.array([1.0, np.inf]), {}), (np.array([1.0, NAN]), {})])
def test_histc_rejects_what_torch_rejects(x, kw):
    raises_like(lambda t: tg.histc(t, **kw), lambda t: torch.histc(t, **kw), x)


def test_histc_ignores_nan_and_out_of_range_values_and_widens_a_flat_range():
    x = np.array([1.0, 2.0, 1.0, 4.0, NAN, -1.0], np.float32)
    _same(tg.histc(tg.tensor(x), bins=4, min=0, max=3), torch.histc(torch.tensor(x), bins=4, min=0, max=3))
    _same(tg.histc(tg.tensor([2.0, 2.0]), bins=4), torch.histc(torch.tensor([2.0, 2.0]), bins=4))
    _same(tg.histc(tg.tensor(np.zeros(0, np.float32)), bins=3), torch.histc(torch.zeros(0), bins=3))


def test_isin_rejects_bool_and_two_scalars_like_torch():
    raises_like(lambda e, t: tg.isin(e, t), lambda e, t: torch.isin(e, t), np.array([1.0, 0.0]), np.array([True]))
    raises_like(lambda e, t: tg.isin(e, t), lambda e, t: torch.isin(e, t), 2, 2)


def test_isin_nan_is_in_nothing():
    e, t = np.array([NAN, 1.0]), np.array([NAN, 1.0])
    _same(tg.isin(tg.tensor(e), tg.tensor(t)), torch.isin(torch.tensor(e), torch.tensor(t)))


@pytest.mark.parametrize("x, bins, kw", [
    (np.array([1, 2]), 2, {}), (np.array([1.0, NAN]), 4, {}), (np.array([1.0, 2.0]), 4, dict(range=(3.0, 1.0))),
    (np.array([1.0, 2.0]), 4, dict(range=(1.0, np.inf))), (np.array([1.0, 2.0]), 0, {}),
    (np.array([1.0, 2.0]), np.array([1.0]), {}), (np.array([1.0, 2.0]), np.zeros(0), {}),
    (np.array([1.0, 2.0]), np.ones((1, 2)), {}), (np.array([1.0, 2.0], np.float32), np.array([0.0, 3.0]), {}),
    (np.array([1.0, 2.0], np.float16), 3, {}), (np.array([1.0, 2.0]), 2, dict(weight=np.ones(3))),
    (np.array([1.0, 2.0]), 2, dict(weight=np.ones(2, np.float32)))])
def test_histogram_rejects_what_torch_rejects(x, bins, kw):
    def run(lib):
        k = {n: lib.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()}
        return lambda t: lib.histogram(t, lib.tensor(bins) if isinstance(bins, np.ndarray) else bins, **k)
    raises_like(run(tg), run(torch), x)


@pytest.mark.parametrize("x, bins, kw", [
    (np.array([2.0, 2.0]), 4, {}), (np.zeros(0, np.float32), 4, {}), (np.array([0.0, 0.0]), 2, dict(density=True)),
    (np.array([5.0]), 2, dict(range=(0.0, 1.0), density=True)),
    (np.array([1.0, 2.0, 3.0], np.float16), 3, dict(range=(0.0, 3.0))),
    (np.array([1.0, 2.0], np.float16), np.array([0.0, 1.5, 3.0], np.float16), {}),
    (np.array([1.0, 2.0]), np.array([3.0, 1.5, 0.0]), {}),
    (np.linspace(-2, 2, 41), 7, dict(range=(-2.3, 1.7)))])
def test_histogram_edge_cases_match_torch(x, bins, kw):
    def run(lib):
        b = lib.tensor(bins) if isinstance(bins, np.ndarray) else bins
        return lib.histogram(lib.tensor(x), b, **kw)
    _same(tuple(run(tg)), tuple(run(torch)))


@pytest.mark.parametrize("idx, shape", [(np.array([1.0]), (2, 3)), (np.array([True]), 6), (np.array([1]), (2, -3)),
                                        (np.array([1]), (0, 3))])
def test_unravel_index_rejects_what_torch_rejects(idx, shape):
    raises_like(lambda t: tg.unravel_index(t, shape), lambda t: torch.unravel_index(t, shape), idx)


def test_unravel_index_of_a_scalar_and_of_no_shape():
    _same(tg.unravel_index(tg.tensor(4), (2, 3)), torch.unravel_index(torch.tensor(4), (2, 3)))
    assert tg.unravel_index(tg.tensor([0]), ()) == () == torch.unravel_index(torch.tensor([0]), ())


@pytest.mark.parametrize("size", [-1, 1.5])
def test_nonzero_static_needs_a_non_negative_int_size(size):
    raises_like(lambda t: tg.nonzero_static(t, size=size), lambda t: torch.nonzero_static(t, size=size),
                np.array([1.0, 0.0]))


@pytest.mark.parametrize("x, kw", [
    (np.ones((3, 2)), dict(bins=[2, 3, 4])), (np.ones((3, 2)), dict(bins=[2, 3], range=[0.0, 1.0])),
    (np.ones(2), dict(bins=2)), (np.array(1.0), dict(bins=2)), (np.ones((2, 3, 2)), dict(bins=2, weight=np.ones(6))),
    (np.ones((3, 2), np.int64), dict(bins=2)), (np.ones((3, 2), np.float16), dict(bins=2)),
    (np.ones((3, 2)), dict(bins=[2, 3], range=[0.0, 1.0, 2.0, np.nan]))])
def test_histogramdd_rejects_what_torch_rejects(x, kw):
    def run(lib):
        k = {n: lib.tensor(a) if isinstance(a, np.ndarray) else a for n, a in kw.items()}
        return lambda t: lib.histogramdd(t, **k)
    raises_like(run(tg), run(torch), x)


@pytest.mark.parametrize("x, kw", [
    (np.ones((2, 3, 2)), dict(bins=2, weight=np.arange(6.0).reshape(2, 3))), (np.zeros((0, 2)), dict(bins=2)),
    (np.array([[0.0, 1.0], [2.0, 3.0], [1.0, 1.0]]), dict(bins=[2, 3], range=[0.0, 2.0, 0.0, 3.0], density=True))])
def test_histogramdd_edge_cases_match_torch(x, kw):
    def run(lib):
        hist, edges = lib.histogramdd(lib.tensor(x), **{n: lib.tensor(a) if isinstance(a, np.ndarray) else a
                                                         for n, a in kw.items()})
        return (hist, *edges)
    _same(run(tg), run(torch))


def test_histogramdd_over_no_dimensions_counts_nothing():
    hist, edges = tg.histogramdd(tg.tensor(np.ones((3, 0))), bins=2)
    want, want_edges = torch.histogramdd(torch.ones((3, 0), dtype=torch.float64), bins=2)
    _same(hist, want)
    assert edges == () == want_edges
