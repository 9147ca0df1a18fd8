"""gradcheck and gradgradcheck: a backward rule against central differences, with torch.autograd's signatures."""
import numpy as np

from .. import dtypes, grad_mode
from ..tensor import Tensor, tensor


class GradcheckError(RuntimeError):
    """gradcheck found the analytical and the numerical gradient apart (PyTorch's name for it)."""


_NOT_HERE = {
    "check_batched_grad": "batched gradients need vmap, which tinygrad_fer does not have",
    "check_batched_forward_grad": "batched forward gradients need vmap and forward-mode AD, which tinygrad_fer "
                                  "does not have",
    "check_forward_ad": "forward-mode AD is not implemented in tinygrad_fer",
    "masked": "masked gradients are for sparse tensors, which tinygrad_fer does not have",
}

_NOT_REENTRANT = ("Backward is not reentrant, i.e., running backward with same input and grad_output multiple times "
                  "gives different values, although analytical gradient matches numerical gradient. The tolerance "
                  "for nondeterminism was {}.")


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _leaf(t):
    """The float64 leaf gradcheck differentiates for input t. A float64 input with its own writable,
    non-overlapping memory is used as it is (its layout is part of what is checked), perturbed in place and restored;
    any other gets a float64 copy (an element of a stride-0 dimension can't be perturbed alone)."""
    arr = t._array
    shared = (t.dtype is dtypes.float64 and getattr(arr.flags, "writeable", True)
              and not any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape)))
    x = t.detach() if shared else tensor(t.detach(), dtype=dtypes.float64, device=t.device)
    return x.requires_grad_(t.requires_grad)


def _vjp(out, r, xs, wrt):
    """The gradients of sum(out * r) with respect to xs[i] for i in wrt (zeros where backward gives none)."""
    for i in wrt:
        xs[i].grad = None
    out.backward(tensor(r, dtype=out.dtype, device=out.device), retain_graph=True)
    grads = []
    for i in wrt:
        g = xs[i].grad
        if g is None:
            grads.append(np.zeros(tuple(xs[i].shape)))
            continue
        grads.append(g.cpu().numpy().astype(np.float64))
        xs[i].grad = None
    return grads


def _projections(func, xs, rs):
    """sum(output * r) for each output that has an r, with grad mode off."""
    with grad_mode.no_grad():
        outs = _outputs(func(*xs))
    if len(outs) != len(rs):
        raise GradcheckError(f"func returned {len(outs)} outputs on perturbed inputs, {len(rs)} before")
    return [float((o.detach().cpu().numpy().astype(np.float64) * r).sum()) if r is not None else 0.0
            for o, r in zip(outs, rs)]


def _same(a, b, tol):
    with np.errstate(invalid="ignore"):
        return bool(((a == b) | (np.abs(a - b) <= tol) | (np.isnan(a) & np.isnan(b))).all())


def _closeness(analytical, numerical, atol, rtol):
    """Elementwise |analytical - numerical| <= atol + rtol * |numerical|, NaN never close; and the relative error."""
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.abs(analytical - numerical)
        ok = err <= atol + rtol * np.abs(numerical)
        rel = np.where(np.isnan(err), np.inf, err / np.maximum(np.abs(numerical), 1e-12))
    return ok, rel


def _where(i, k, n_outputs):
    return f"input {i}" if n_outputs == 1 else f"output {k} with respect to input {i}"


def _slow(func, xs, wrt, rs, analytic, targets, eps, atol, rtol, samples, rng):
    """Every (or `samples` random) entries of each input: d sum(output * R) / d entry, by central differences."""
    for pos, i in enumerate(wrt):
        x = xs[i]
        arr, shape = x._array, tuple(x.shape)
        size = x.numel()
        idxs = range(size) if samples is None else rng.choice(size, min(samples, size), replace=False)
        numeric = {k: np.zeros(shape) for k in targets}
        for j in idxs:
            idx = tuple(int(v) for v in np.unravel_index(j, shape))
            orig = arr[idx].item()
            try:
                arr[idx] = orig + eps
                fp = _projections(func, xs, rs)
                arr[idx] = orig - eps
                fm = _projections(func, xs, rs)
            finally:
                arr[idx] = orig
            for k in targets:
                numeric[k][idx] = (fp[k] - fm[k]) / (2 * eps)
        mask = None
        if samples is not None:
            mask = np.zeros(size, bool)
            mask[list(idxs)] = True
            mask = mask.reshape(shape)
        for k in targets:
            n = numeric[k]
            if k not in analytic:  # no output is differentiable: every numerical derivative must vanish
                ok, _ = _closeness(np.zeros(shape), n, atol, 0.0)
                if not ok.all():
                    idx = tuple(int(v) for v in np.unravel_index(int(np.argmax(~ok)), shape))
                    raise GradcheckError(
                        f"Numerical gradient for function expected to be zero: no output requires grad, yet output "
                        f"{k} changes with input {i} at index {idx} (numerical {n[idx]:.10g})")
                continue
            a = analytic[k][pos] if mask is None else np.where(mask, analytic[k][pos], 0.0)
            ok, rel = _closeness(a, n, atol, rtol)
            if ok.all():
                continue
            idx = tuple(int(v) for v in np.unravel_index(int(np.argmax(np.where(ok, -1.0, rel))), shape))
            name = "output" if len(analytic) == 1 else f"output {k}"
            raise GradcheckError(
                f"Jacobian mismatch for {_where(i, k, len(analytic))} at index {idx}: analytical {a[idx]:.10g}, "
                f"numerical {n[idx]:.10g}, relative error {rel[idx]:.3g} (allowed: |analytical - numerical| <= "
                f"{atol} + {rtol} * |numerical|). Both are the derivative of sum({name} * R), R a fixed random "
                f"array, with respect to input {i}{list(idx)}: analytical from backward, numerical from central "
                f"differences with eps={eps}.")


def _fast(func, xs, wrt, rs, analytic, targets, eps, atol, rtol, rng):
    """One random unit direction u per input: u . d sum(output * R) / d input, by central differences along u."""
    for pos, i in enumerate(wrt):
        x = xs[i]
        u = rng.standard_normal(tuple(x.shape))
        u /= max(float(np.linalg.norm(u)), 1e-300)
        arr = x._array
        orig, step = arr.copy(), tensor(eps * u, dtype=dtypes.float64, device=x.device)._array
        try:
            arr[...] = orig + step
            fp = _projections(func, xs, rs)
            arr[...] = orig - step
            fm = _projections(func, xs, rs)
        finally:
            arr[...] = orig
        for k in targets:
            n = (fp[k] - fm[k]) / (2 * eps)
            a = float((analytic[k][pos] * u).sum()) if k in analytic else 0.0
            ok, rel = _closeness(np.array(a), np.array(n), atol, rtol if k in analytic else 0.0)
            if ok:
                continue
            if k not in analytic:
                raise GradcheckError(f"Numerical gradient for function expected to be zero: no output requires "
                                     f"grad, yet output {k} changes with input {i} (fast mode, numerical {n:.10g})")
            raise GradcheckError(
                f"Jacobian mismatch for {_where(i, k, len(analytic))} in fast mode: analytical {a:.10g}, numerical "
                f"{n:.10g}, relative error {float(rel):.3g} (allowed: |analytical - numerical| <= {atol} + {rtol} * "
                f"|numerical|). Both are the derivative of sum(output * R), R a fixed random array, along a random "
                f"direction of input {i}; fast_mode=False names the entry.")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None, samples=None):
    """Check the gradients backward computes for func at inputs against central differences, as
    torch.autograd.gradcheck. Returns True; on a mismatch raises GradcheckError (a RuntimeError) naming the input,
    the entry and both values, or returns False with raise_exception=False.

    func takes the inputs (Tensors, and anything else passed through) and returns a Tensor or a tuple of them;
    the outputs that require grad are checked against every input that requires grad. For each such output a fixed
    random R (an all-ones one would hide a transposed gradient) gives the scalar sum(output * R): backward's
    gradient of it is compared entry by entry with (f(x + eps) - f(x - eps)) / (2 eps), and an entry fails when
    |analytical - numerical| > atol + rtol * |numerical|. backward runs twice per output and must agree with
    itself within nondet_tol. With fast_mode=True each input is perturbed along one random direction instead of
    entry by entry (2 evaluations of func per input). samples=k checks k random entries per input.

    Where this differs from PyTorch: floating inputs that are not float64 are checked on float64 copies
    (PyTorch checks them as given, and warns); float64 inputs are used as given, their layout included, perturbed
    in place and restored, or copied when they overlap themselves (a stride-0 dimension, which PyTorch refuses).
    PyTorch's slow mode builds whole Jacobians; this checks J^T R for a random R, entry by entry, so the report
    names the input entry. check_undefined_grad and check_grad_dtypes have nothing to check here (backward never
    receives an undefined gradient, and always gives a gradient its input's dtype); check_batched_grad,
    check_batched_forward_grad, check_forward_ad and masked need what tinygrad_fer does not have and raise
    NotImplementedError.
    """
    for name, value in (("check_batched_grad", check_batched_grad), ("check_forward_ad", check_forward_ad),
                        ("check_batched_forward_grad", check_batched_forward_grad), ("masked", masked)):
        if value:
            raise NotImplementedError(f"gradcheck({name}=True): {_NOT_HERE[name]}")
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have "
                         "requires_grad=True.")
    if not check_backward_ad:
        return True
    xs = [_leaf(t) if isinstance(t, Tensor) and t.is_floating_point() else t for t in inputs]
    wrt = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    try:
        _check(func, xs, wrt, eps, atol, rtol, nondet_tol, fast_mode, samples)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check(func, xs, wrt, eps, atol, rtol, nondet_tol, fast_mode, samples):
    rng = np.random.default_rng(0)
    with grad_mode.enable_grad():
        outs = _outputs(func(*xs))
    rs = [rng.standard_normal(tuple(o.shape)) if isinstance(o, Tensor) and o.is_floating_point() else None
          for o in outs]
    analytic = {}
    for k, o in enumerate(outs):
        if isinstance(o, Tensor) and o.requires_grad:
            first = _vjp(o, rs[k], xs, wrt)
            again = _vjp(o, rs[k], xs, wrt)
            if not all(_same(a, b, nondet_tol) for a, b in zip(first, again)):
                raise GradcheckError(_NOT_REENTRANT.format(nondet_tol))
            analytic[k] = first
    # with no differentiable output, every floating output must not depend on the inputs (as in PyTorch)
    targets = list(analytic) if analytic else [k for k, r in enumerate(rs) if r is not None]
    if fast_mode:
        _fast(func, xs, wrt, rs, analytic, targets, eps, atol, rtol, rng)
    else:
        _slow(func, xs, wrt, rs, analytic, targets, eps, atol, rtol, samples, rng)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Check second derivatives, as torch.autograd.gradgradcheck: gradcheck of the function
    (inputs, grad_outputs) -> the gradients of func's outputs with respect to its inputs, taken with
    create_graph=True. grad_outputs default to fixed random float64 tensors that require grad (so the check also
    covers how the gradients depend on them). gen_non_contig_grad_outputs=True makes them transposed views."""
    from ..autograd import grad
    for name, value in (("check_batched_grad", check_batched_grad), ("check_fwd_over_rev", check_fwd_over_rev),
                        ("masked", masked)):
        if value:
            raise NotImplementedError(f"gradgradcheck({name}=True): {_NOT_HERE.get(name, 'needs forward-mode AD')}")
    if not check_rev_over_rev:
        return True
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    n = len(inputs)
    if grad_outputs is None:
        with grad_mode.enable_grad():
            outs = [o for o in _outputs(func(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
        rng = np.random.default_rng(1)
        grad_outputs = []
        for o in outs:
            r = rng.standard_normal(tuple(o.shape)[::-1] if gen_non_contig_grad_outputs else tuple(o.shape))
            t = tensor(r, dtype=dtypes.float64, device=o.device)
            grad_outputs.append((t.T if gen_non_contig_grad_outputs and t.ndim > 1 else t).requires_grad_())
    grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        with grad_mode.enable_grad():  # gradcheck evaluates perturbed points with grad mode off
            outs = [o for o in _outputs(func(*xs)) if isinstance(o, Tensor) and o.requires_grad]
            wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            vs = [v.type(o.dtype) for o, v in zip(outs, vs)]
            gs = grad(outs, wrt, vs, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)
    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol, fast_mode=fast_mode)
