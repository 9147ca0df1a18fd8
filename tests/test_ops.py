"""Tests generated from the op registry (tinygrad_fer/testing/opinfo/): every entry gets the same checks."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import tinygrad_fer as tg
from tinygrad_fer.nn import functional as F
from tinygrad_fer.testing.opinfo import (DOCS_MARKERS, INPLACE_FUNCTIONS, METHOD_ALIASES, NOT_OPS, NOT_OP_METHODS,
                                         OPS, REGISTRY, HypothesisDraw, RngDraw, markdown_table)
from conftest import cuda_skip_reason
from helpers import compare, tol

IDS = [f"{o.namespace}.{o.name}" for o in OPS]
ERRORS = (RuntimeError, TypeError, ValueError, IndexError, NotImplementedError)


def _skip(op, check):
    if check in op.deviations:
        pytest.skip(op.deviations[check])


def _flags(op, args):
    return [isinstance(a, np.ndarray) and a.dtype.kind == "f" and op.grad and i not in op.constant_args
            for i, a in enumerate(args)]


def _call(op, lib, args, kw):
    return op.fn(lib)(*args, **kw)


def _cases(dtypes, devices=("cpu",), ops=None, check=None):
    """(device, op, dtype) parameters, the ones that cannot run marked skipped before Hypothesis starts (a skip
    raised inside thousands of @given runs grows Hypothesis's settings chain until it overflows the stack)."""
    cases = []
    for device in devices:
        for op, name in (ops or list(zip(OPS, IDS))):
            for dt in dtypes:
                why = (op.deviations[check] if check in op.deviations else
                       f"{op.name} is compared in {op.dtypes} only" if dt not in op.dtypes else
                       cuda_skip_reason() if device == "cuda" else None)
                cases.append(pytest.param(device, op, dt, id=f"{device}-{name}-{np.dtype(dt).name}",
                                          marks=[pytest.mark.skip(reason=why)] if why else []))
    return cases


@pytest.mark.parametrize("device,op,dtype", _cases((np.float32, np.float64), ("cpu", "cuda")))
@given(data=st.data())
def test_matches_torch(op, dtype, device, data):
    """Values, shape, dtype, and every input's gradient under a random upstream gradient, on each backend (CUDA where
    a GPU is present; PyTorch on the CPU stays the oracle)."""
    args, kw = op.sample(HypothesisDraw(data), dtype)
    compare(lambda *a: _call(op, tg, a, kw), lambda *a: _call(op, torch, a, kw), list(args), grad=op.grad,
            scale=op.scale, signed_zeros=op.signed_zeros, requires_grad=_flags(op, args),
            device=None if device == "cpu" else device)


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _run_layout(op, args, kw, layout):
    """Our outputs and input gradients with every array argument in the given memory layout."""
    def place(a):
        if not isinstance(a, np.ndarray) or a.ndim == 0 or layout == "contiguous":
            return a
        if layout == "strided":
            b = np.empty(a.shape + (2,), a.dtype)[..., 0]  # every other element of a wider buffer
        elif layout == "flipped":
            b = np.flip(np.empty(a.shape, a.dtype))        # negative strides on every axis
        else:
            b = np.empty(a.shape[::-1], a.dtype).T          # transposed (Fortran order)
        b[...] = a
        return b
    flags = _flags(op, args)
    ts = [tg.from_numpy(place(a)).requires_grad_(f) if isinstance(a, np.ndarray) else a for a, f in zip(args, flags)]
    outs = _outputs(_call(op, tg, ts, kw))
    rng = np.random.default_rng(0)
    diff = [o for o in outs if isinstance(o, tg.Tensor) and o.requires_grad]
    if diff:
        sum((o * tg.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in diff).backward()
    return [o.detach().numpy() for o in outs if isinstance(o, tg.Tensor)], \
        [t.grad.numpy() for t, f in zip(ts, flags) if f and t.grad is not None]


@pytest.mark.parametrize("op", [pytest.param(o, id=i, marks=[pytest.mark.skip(reason=o.deviations["noncontiguous"])]
                                             if "noncontiguous" in o.deviations else []) for o, i in zip(OPS, IDS)])
@given(data=st.data())
def test_noncontiguous_inputs(op, data):
    args, kw = op.sample(HypothesisDraw(data), np.float64)
    ref = _run_layout(op, args, kw, "contiguous")
    for layout in ("strided", "transposed", "flipped"):
        got = _run_layout(op, args, kw, layout)
        for a, b in zip(got[0] + got[1], ref[0] + ref[1]):
            np.testing.assert_allclose(a, b, equal_nan=True, err_msg=layout, **tol(np.float64, op.scale))


def _checked(op, seed):
    """The op's float outputs as one function of its tensors (several are summed with weights), at sample `seed`."""
    args, kw = op.sample(RngDraw(seed), np.float64)
    flags = _flags(op, args)
    ts = [tg.tensor(a, requires_grad=f) if isinstance(a, np.ndarray) else a for a, f in zip(args, flags)]

    def fn(*xs):
        outs = [o for o in _outputs(_call(op, tg, xs, kw)) if o.dtype.is_floating_point]
        return outs[0] if len(outs) == 1 else sum((o * (i + 1)).sum() for i, o in enumerate(outs))
    return fn, ts


GRAD_OPS = [o for o in OPS if o.grad]
GRAD_IDS = [i for i, o in zip(IDS, OPS) if o.grad]


@pytest.mark.parametrize("op", GRAD_OPS, ids=GRAD_IDS)
def test_gradcheck(op):
    _skip(op, "gradcheck")
    if not op.gradcheck:
        pytest.skip("no numeric gradient check for this op")
    for seed in range(3):
        fn, ts = _checked(op, seed)
        assert tg.autograd.gradcheck(fn, ts), (op.name, seed)


@pytest.mark.parametrize("op", GRAD_OPS, ids=GRAD_IDS)
def test_gradgradcheck(op):
    """Second derivatives against central differences of the first (float64); an op listed as not twice
    differentiable must say so when its gradient is differentiated, never give a silent zero."""
    if not op.gradcheck:
        pytest.skip("no numeric gradient check for this op")
    for seed in range(2):
        fn, ts = _checked(op, seed)
        if "gradgrad" in op.deviations:
            with pytest.raises(RuntimeError, match="does not support double backward"):
                tg.autograd.gradgradcheck(fn, ts)
            return
        assert tg.autograd.gradgradcheck(fn, ts), (op.name, seed)


def _second_order(lib, op, args, kw, flags, seed):
    """First derivatives taken with create_graph=True under a random upstream gradient v, then the gradient of
    their random projection with respect to the inputs and v: the same program in both libraries."""
    rng = np.random.default_rng(seed)
    xs = [lib.tensor(a, requires_grad=f) if isinstance(a, np.ndarray) else a for a, f in zip(args, flags)]
    outs = [o for o in _outputs(_call(op, lib, xs, kw)) if isinstance(o, lib.Tensor) and o.requires_grad]
    wrt = [x for x, f in zip(xs, flags) if f]
    vs = [lib.tensor(rng.standard_normal(tuple(o.shape)).astype(_dt(o)),
                     requires_grad=True) for o in outs]
    firsts = lib.autograd.grad(outs, wrt, vs, create_graph=True, allow_unused=True)
    proj = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)).astype(_dt(g)))).sum()
               for g in firsts if g is not None and g.requires_grad)
    seconds = [None] * (len(wrt) + len(vs))
    if not isinstance(proj, int):
        seconds = lib.autograd.grad(proj, wrt + vs, allow_unused=True)
    arr = lambda t: None if t is None else t.detach().numpy()  # noqa: E731
    return [arr(g) for g in firsts], [arr(g) for g in seconds]


def _dt(t):
    return np.float64 if "64" in str(t.dtype) else np.float32


class _OffKinks(HypothesisDraw):
    """Unrounded values: a second derivative at a kink (elu's 0, a tie) is a convention PyTorch itself does not
    keep consistently, while first derivatives there are compared with rounded values by test_matches_torch."""
    nice = False


@pytest.mark.parametrize("device,op,dtype", _cases((np.float32, np.float64), ops=list(zip(GRAD_OPS, GRAD_IDS)),
                                                   check="gradgrad"))
@settings(max_examples=8)
@given(data=st.data())
def test_double_backward_matches_torch(device, op, dtype, data):
    """Gradients taken with create_graph=True (the rule run on recorded tensors) and the gradients of those, against
    PyTorch's on the same program: this also checks that the graph-recording path of each rule agrees with its
    fast raw-array path, which test_matches_torch checks."""
    args, kw = op.sample(_OffKinks(data), dtype)
    flags = _flags(op, args)
    try:
        want = _second_order(torch, op, args, kw, flags, 0)
    except RuntimeError:   # PyTorch has no double backward for this sample: nothing to compare against
        return
    got = _second_order(tg, op, args, kw, flags, 0)
    for part, gs, ws in (("first", got[0], want[0]), ("second", got[1], want[1])):
        if part == "second" and any(w is not None and np.isnan(w).any() for w in want[0]):
            break   # past a NaN first derivative (var of one element) PyTorch may cut the graph: a convention
        for i, (g, w) in enumerate(zip(gs, ws)):
            if w is None or g is None:
                assert (g is None or not np.any(g)) and (w is None or not np.any(w)), (part, i)
                continue
            np.testing.assert_allclose(g, w.astype(g.dtype), equal_nan=True, err_msg=f"{part} derivative {i}",
                                       **tol(dtype, op.scale * (10 if part == "second" else 1)))


@pytest.mark.parametrize("op", [o for o in OPS if o.method or o.inplace or o.aliases],
                         ids=[i for i, o in zip(IDS, OPS) if o.method or o.inplace or o.aliases])
def test_spellings(op):
    """Tensor method, aliases and the in-place variant give the function's result (the in-place one in self)."""
    args, kw = op.sample(RngDraw(1), np.float64)
    ts = [tg.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    want = [o.numpy() for o in _outputs(_call(op, tg, ts, kw)) if isinstance(o, tg.Tensor)]

    def same(out):
        got = [o.numpy() for o in _outputs(out) if isinstance(o, tg.Tensor)]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    if op.method:
        same(getattr(ts[0], op.name)(*ts[1:], **kw))
    for alias in op.aliases:
        same(op.fn(tg, alias)(*ts, **kw))
    if op.inplace and want[0].shape == ts[0].shape and want[0].dtype == ts[0].numpy().dtype:
        x = ts[0].clone()
        assert getattr(x, op.inplace)(*ts[1:], **kw) is x
        same(x)


def _dtype_outcome(op, dt, base, kw):
    """None when ours matches PyTorch for inputs of dtype dt (same dtype and values, or both raise), else why not."""
    args = [(a > 0 if dt is np.bool_ else np.round(a * 2).astype(dt) if np.dtype(dt).kind == "i" else a.astype(dt))
            if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in base]

    def run(lib):
        return _outputs(_call(op, lib, [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in args], kw))
    try:
        want = run(torch)
    except ERRORS as e:
        try:
            run(tg)
        except ERRORS:
            return None
        return f"torch raises {type(e).__name__}, we do not"
    try:
        got = run(tg)
    except ERRORS as e:
        return f"we raise {type(e).__name__}: {e}"
    for g, w in zip(got, want):
        if not isinstance(w, torch.Tensor):
            continue
        if str(g.dtype).split(".")[-1] != str(w.dtype).split(".")[-1]:
            return f"dtype {g.dtype}, torch {w.dtype}"
        out_dt = g.numpy().dtype
        t = tol(out_dt if out_dt.kind == "f" else np.float64, op.scale)
        if not np.allclose(g.numpy().astype(np.float64), w.numpy().astype(np.float64), equal_nan=True, **t):
            return "values differ"
    return None


@pytest.mark.parametrize("op", OPS, ids=IDS)
def test_dtypes_like_torch(op):
    """Each dtype gives PyTorch's result dtype and values, or both libraries raise (known deviations listed in the
    entry, each with its reason)."""
    base, kw = op.sample(RngDraw(2), np.float64)
    known = op.deviations.get("dtypes", {})
    wrong = {np.dtype(dt).name: why for dt in (np.bool_, np.int64, np.int32, np.float16, np.float32, np.float64)
             if np.dtype(dt).name not in known and (why := _dtype_outcome(op, dt, base, kw))}
    assert not wrong, wrong
    fixed = [name for name in known if _dtype_outcome(op, np.dtype(name).type, base, kw) is None]
    assert not fixed, f"listed as deviations but matching PyTorch now: {fixed}"


def test_every_public_op_has_an_entry():
    named = {n for o in OPS for n in (o.name, *o.aliases)}
    public = [n for n in dir(tg) if not n.startswith("_") and callable(getattr(tg, n))
              and type(getattr(tg, n)).__name__ == "function"]
    public += [n for n in F.__all__ if n[0].islower()]
    missing = sorted(set(public) - named - set(INPLACE_FUNCTIONS) - NOT_OPS)
    assert not missing, f"public ops without a registry entry: {missing}"


def test_every_tensor_method_is_an_op_an_alias_or_listed():
    covered = {n for o in OPS for n in (o.name, *o.aliases, o.inplace) if n}
    methods = {n for base in tg.Tensor.__mro__[1:] if base is not object for n in vars(base)
               if not n.startswith("_") or n == "__getitem__"}
    missing = sorted(methods - covered - set(METHOD_ALIASES) - set(NOT_OP_METHODS))
    assert not missing, f"Tensor methods without a registry entry: {missing}"


@pytest.mark.parametrize("alias", sorted(METHOD_ALIASES))
def test_method_aliases(alias):
    target = METHOD_ALIASES[alias]
    op = next(o for o in OPS if target in (o.name, o.inplace))
    args, kw = op.sample(RngDraw(3), np.float64)
    a, b = (tg.tensor(args[0]), tg.tensor(args[0]))
    rest = [tg.tensor(x) if isinstance(x, np.ndarray) else x for x in args[1:]]
    np.testing.assert_array_equal(getattr(a, alias)(*rest, **kw).numpy(), getattr(b, target)(*rest, **kw).numpy())


@pytest.mark.parametrize("name", sorted(INPLACE_FUNCTIONS))
def test_inplace_functions(name):
    """F.relu_ & co. write their op's result into the input and return it; the names PyTorch also has as torch.*
    are the same objects there, as in PyTorch."""
    op = REGISTRY[INPLACE_FUNCTIONS[name]]
    args, kw = op.sample(RngDraw(4), np.float64)
    ts = [tg.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    want = op.fn(tg)(*ts, **kw).numpy()
    x = ts[0].clone()
    assert getattr(F, name)(x, *ts[1:], **kw) is x
    np.testing.assert_array_equal(x.numpy(), want)
    assert (getattr(tg, name, None) is getattr(F, name)) == hasattr(torch, name)


def test_named_modules_exist_as_in_torch():
    for op in OPS:
        if op.module:
            assert hasattr(tg.nn, op.module), f"{op.name}: nn.{op.module} is named in the registry but missing"
            assert hasattr(torch.nn, op.module), f"{op.name}: torch.nn has no {op.module}"


def test_docs_table_is_generated_from_the_registry():
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "docs", "07-porting-from-pytorch.md")
    text = open(path, encoding="utf-8").read()
    start, end = DOCS_MARKERS
    assert start in text and end in text, "docs/07 lost the generated ops table's markers"
    table = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert table == markdown_table(), \
        "docs/07's ops table differs from the registry: run python -m tinygrad_fer.testing.opinfo"
