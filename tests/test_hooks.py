"""Module hooks (forward pre / forward / full backward pre / full backward, per module and global), clip_grad_norm_ /
clip_grad_value_ / parameters_to_vector, and inference_mode, each run on the same program in PyTorch and here: the
same values, the same hook calls in the same order."""
import threading

import numpy as np
import pytest
import torch

import tinygrad_fer as tg
from tinygrad_fer import nn as tnn
from tinygrad_fer.nn import module as tmodule

LIBS = {"torch": (torch, torch.nn, torch.nn.modules.module), "tg": (tg, tnn, tmodule)}

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
B = np.array([0.1, -0.2], dtype=np.float32)
X = np.array([[1.0, 2.0, -1.0], [0.5, -0.5, 3.0]], dtype=np.float32)


def _v(t):
    """A hook argument as plain data: arrays for tensors, nested tuples kept, other values as they are."""
    if isinstance(t, (tuple, list)):
        return tuple(_v(x) for x in t)
    if isinstance(t, (torch.Tensor, tg.Tensor)):
        return np.array(t.detach().numpy())
    return t


def _close(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.allclose(a, b, rtol=1e-5, atol=1e-6))
    if isinstance(a, (tuple, list)) or isinstance(b, (tuple, list)):
        return (type(a) is type(b) and len(a) == len(b)) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def _same(a, b):
    assert _close(a, b), f"\ntorch: {a}\ntg:    {b}"


def _both(program):
    _same(program(*LIBS["torch"]), program(*LIBS["tg"]))


def _affine(lib, nn):
    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(lib.tensor(W))
            self.bias = nn.Parameter(lib.tensor(B))

        def forward(self, x):
            return x @ self.weight.t() + self.bias
    return Affine()


# ---- forward hooks ---------------------------------------------------------------------------------------------
def test_forward_hooks_order_prepend_and_results():
    def program(lib, nn, _):
        log = []
        m = _affine(lib, nn)
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre1", _v(args))))
        m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
        m.register_forward_pre_hook(lambda mod, args: log.append(("pre0", _v(args))), prepend=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("f1", _v(args), _v(out))))
        m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, out: log.append(("f0", _v(out))), prepend=True)
        m.register_forward_hook(lambda mod, args, out: log.append(("f2", _v(out))))
        log.append(("result", _v(m(lib.tensor(X)))))
        return log
    _both(program)


def test_forward_pre_hook_may_return_a_single_value():
    def program(lib, nn, _):
        m = nn.Identity()
        m.register_forward_pre_hook(lambda mod, args: args[0] + 5)  # not a tuple: becomes the only argument
        return _v(m(lib.tensor([1.0])))
    _both(program)


def test_forward_hooks_with_kwargs():
    def program(lib, nn, _):
        log = []

        class Scale(nn.Module):
            def forward(self, x, scale=1.0):
                return x * scale
        m = Scale()
        m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"scale": kwargs["scale"] + 1}),
                                    with_kwargs=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("f", kwargs, _v(out))),
                                with_kwargs=True)
        log.append(_v(m(lib.tensor([1.0, 2.0]), scale=2.0)))
        return log
    _both(program)


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_forward_pre_hook_with_kwargs_must_return_a_pair(lib):
    m = LIBS[lib][1].Identity()
    m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args"):
        m(LIBS[lib][0].tensor([1.0]))


def test_always_call_runs_when_forward_raises():
    def program(lib, nn, _):
        log = []

        class Boom(nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, args, out: log.append("plain"))
        m.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
        with pytest.raises(ValueError, match="boom"):
            m(lib.tensor([1.0]))
        return log
    _both(program)


def test_always_call_hook_error_is_a_warning_when_forward_raised():
    for lib, nn, _ in LIBS.values():
        class Boom(nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        m = Boom()
        m.register_forward_hook(lambda mod, args, out: 1 / 0, always_call=True)
        with pytest.warns(UserWarning, match="always_call=True``.*division by zero"), \
                pytest.raises(ValueError, match="boom"):
            m(lib.tensor([1.0]))


def test_handles_remove_and_work_as_context_managers():
    def program(lib, nn, _):
        log = []
        m = nn.Identity()
        h1 = m.register_forward_hook(lambda mod, a, o: log.append("h1"), with_kwargs=False, always_call=True)
        with m.register_forward_pre_hook(lambda mod, a: log.append("pre")):
            m(lib.tensor([1.0]))
        m(lib.tensor([1.0]))
        h1.remove()
        h1.remove()  # a second remove does nothing
        m(lib.tensor([1.0]))
        log.append(len(m._forward_hooks) + len(m._forward_hooks_always_called) + len(m._forward_pre_hooks))
        return log
    _both(program)


def test_global_forward_hooks_run_before_the_modules_own():
    def program(lib, nn, module_mod):
        log = []
        m = nn.Identity()
        m.register_forward_pre_hook(lambda mod, a: log.append("own pre"))
        m.register_forward_hook(lambda mod, a, o: log.append("own"))
        handles = [module_mod.register_module_forward_pre_hook(lambda mod, a: log.append("global pre")),
                   module_mod.register_module_forward_hook(lambda mod, a, k, o: log.append(("global", k)),
                                                           with_kwargs=True)]
        try:
            m(lib.tensor([1.0]))
        finally:
            for h in handles:
                h.remove()
        m(lib.tensor([1.0]))
        return log
    _both(program)


# ---- full backward hooks ---------------------------------------------------------------------------------------
def test_backward_hooks_see_grad_output_and_grad_input():
    def program(lib, nn, _):
        log = []
        m = _affine(lib, nn)
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _v(go))))
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _v(gi), _v(go))))
        m.register_forward_hook(lambda mod, a, o: log.append("forward hook"))
        x = lib.tensor(X, requires_grad=True)
        y = m(x)
        log.append("after forward")
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        log.append(("x.grad", _v(x.grad), "w.grad", _v(m.weight.grad)))
        return log
    _both(program)


def test_replacement_gradients_take_effect():
    def program(lib, nn, _):
        m = _affine(lib, nn)
        # the pre-hook's grad_output reaches the parameters and the input; the hook's grad_input only the input
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 100,))
        x = lib.tensor(X, requires_grad=True)
        m(x).pow(2).sum().backward()
        return _v((x.grad, m.weight.grad, m.bias.grad))
    _both(program)


def test_nested_modules_order_and_removal():
    def program(lib, nn, _):
        log = []
        inner = _affine(lib, nn)
        outer = nn.Sequential(inner, nn.Tanh())
        handles = []
        for name, mod in (("outer", outer), ("inner", inner), ("tanh", outer[1])):
            handles.append(mod.register_full_backward_pre_hook(
                lambda m, go, name=name: log.append((name, "pre", _v(go)))))
            handles.append(mod.register_full_backward_hook(
                lambda m, gi, go, name=name: log.append((name, "full", _v(gi)))))
        handles.append(inner.register_full_backward_hook(lambda m, gi, go: log.append("inner first"), prepend=True))
        x = lib.tensor(X, requires_grad=True)
        outer(x).sum().backward()
        for h in handles[2:]:
            h.remove()
        log.append("removed")
        outer(x).sum().backward()
        return log
    _both(program)


def test_several_inputs_and_outputs():
    def program(lib, nn, _):
        log = []

        class Two(nn.Module):
            def forward(self, a, n, b, idx, c):
                # c is unused: it requires grad but its gradient never comes
                return a * b * n, lib.tensor([1, 2]), (a + b).sum(), "text"
        m = Two()
        m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _v(go))))
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _v(gi), _v(go))))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])  # needs no grad: grad_input holds zeros for it, as in PyTorch
        c = lib.tensor([5.0, 6.0, 7.0], requires_grad=True)
        out = m(a, 2, b, lib.tensor([0, 1]), c)
        log.append(("requires_grad", [o.requires_grad if hasattr(o, "requires_grad") else None for o in out]))
        (out[0].sum() * 2).backward()  # the third output gets no gradient: None in grad_output
        log.append(_v(a.grad))
        return log
    _both(program)


def test_hook_sees_none_grad_input_when_no_input_requires_grad():
    def program(lib, nn, _):
        log = []
        m = _affine(lib, nn)
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", _v(gi), _v(go))))
        m(lib.tensor(X)).sum().backward()
        log.append(_v(m.bias.grad))
        return log
    _both(program)


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_backward_hook_errors(lib):
    libm, nn, _ = LIBS[lib]
    m = _affine(libm, nn)
    h = m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of grad_output, got 2, "
                                           "but expected 1"):
        m(libm.tensor(X, requires_grad=True)).sum().backward()
    h.remove()
    h = m.register_full_backward_hook(lambda mod, gi, go: (gi[0], None))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of grad_input, got 2, "
                                           "but expected 1"):
        m(libm.tensor(X, requires_grad=True)).sum().backward()
    h.remove()
    m.register_full_backward_hook(lambda mod, gi, go: (libm.ones(2, 3),))
    with pytest.raises(RuntimeError, match="where no input requires gradient should always return None"):
        m(libm.tensor(X)).sum().backward()


def test_backward_hooks_fire_again_with_retain_graph_and_global_hooks():
    def program(lib, nn, module_mod):
        log = []
        m = _affine(lib, nn)
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("own", _v(gi))))
        handles = [module_mod.register_module_full_backward_pre_hook(lambda mod, go: log.append(("gpre", _v(go)))),
                   module_mod.register_module_full_backward_hook(lambda mod, gi, go: log.append("global"))]
        try:
            x = lib.tensor(X, requires_grad=True)
            y = m(x).sum()
        finally:
            for h in handles:
                h.remove()
        y.backward(retain_graph=True)
        y.backward()
        log.append(_v(x.grad))
        return log
    _both(program)


def test_backward_hooks_need_grad_mode_at_call_time():
    def program(lib, nn, _):
        log = []
        m = _affine(lib, nn)
        m.register_full_backward_hook(lambda mod, gi, go: log.append("full"))
        with lib.no_grad():
            y = m(lib.tensor(X, requires_grad=True))
        log.append(y.requires_grad)
        return log
    _both(program)


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_backward_hook_warns_on_a_non_tensor_output(lib):
    libm, nn, _ = LIBS[lib]

    class ListOut(nn.Module):
        def forward(self, x):
            return [x * 2]
    m = ListOut()
    m.register_full_backward_hook(lambda mod, gi, go: None)
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple of Tensors"):
        m(libm.tensor([1.0], requires_grad=True))



@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_hooked_tensors_refuse_in_place_changes(lib):
    # the hooked input and output share memory with the caller's tensors: an in-place change there would rewrite
    # them behind the hooks (and the saved values) without a trace
    libm, nn, _ = LIBS[lib]
    msg = "Output 0 of BackwardHookFunction is a view and is being modified inplace"
    for m, use in ((nn.ReLU(inplace=True), lambda y: y), (nn.Tanh(), lambda y: y.mul_(2))):
        m.register_full_backward_hook(lambda *a: None)
        x = libm.tensor([1.0, -2.0], requires_grad=True) * 1
        with pytest.raises(RuntimeError, match=msg):
            use(m(x))


def test_no_hooks_path_is_plain_forward():
    # a module without hooks gives back what forward returns, with no extra graph node
    lin = tnn.Linear(3, 2)
    y = lin(tg.tensor(X, requires_grad=True))
    assert type(y.grad_fn).__module__ != "tinygrad_fer.ops.hooks"


# ---- nn.utils --------------------------------------------------------------------------------------------------
GRADS = [np.array([[0.5, -3.0], [2.0, 0.25]], dtype=np.float32), None, np.array([-1.5, 4.0, 0.0], dtype=np.float32)]


def _params(lib, nn, grads=GRADS, dtype=np.float32):
    params = []
    for g in grads:
        shape = (2,) if g is None else g.shape
        p = nn.Parameter(lib.tensor(np.ones(shape, dtype=dtype)))
        if g is not None:
            p.grad = lib.tensor(g.astype(dtype))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), float("-inf"), 0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm(norm_type, max_norm, dtype):
    def program(lib, nn, _):
        params = _params(lib, nn, dtype=dtype)
        total = nn.utils.clip_grad_norm_(iter(params), max_norm, norm_type=norm_type)
        return _v((total, [p.grad for p in params]))
    _both(program)


def test_clip_grad_norm_of_one_tensor_and_of_nothing():
    def program(lib, nn, _):
        p = _params(lib, nn)[0]
        with pytest.warns(UserWarning, match="empty generator"):
            empty = nn.utils.clip_grad_norm_((q for q in []), 1.0)
        return _v((nn.utils.clip_grad_norm_(p, 1.0, foreach=True), p.grad, empty,
                   nn.utils.clip_grad_norm_([], 1.0)))
    _both(program)


@pytest.mark.parametrize("lib", ["torch", "tg"])
def test_clip_grad_norm_non_finite(lib):
    libm, nn, _ = LIBS[lib]
    params = _params(libm, nn, grads=[np.array([1.0, np.nan], dtype=np.float32)])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite, so it cannot be clipped"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert np.isnan(float(nn.utils.clip_grad_norm_(params, 1.0)))
    assert np.isnan(params[0].grad.numpy()).all()


def test_clip_grad_value():
    def program(lib, nn, _):
        params = _params(lib, nn)
        r = nn.utils.clip_grad_value_(params, 1.25)
        one = _params(lib, nn)[0]
        nn.utils.clip_grad_value_(one, 0.3, foreach=False)
        return _v((r, [p.grad for p in params], one.grad))
    _both(program)


def test_parameters_to_vector_and_back():
    def program(lib, nn, _):
        params = [nn.Parameter(lib.tensor(W)), nn.Parameter(lib.tensor(B))]
        vec = nn.utils.parameters_to_vector(params)
        out = [_v(vec), vec.requires_grad]
        nn.utils.vector_to_parameters(lib.arange(8.0), params)
        out += [_v(p) for p in params] + [params[0].requires_grad]
        with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
            nn.utils.vector_to_parameters([1.0], params)
        return out
    _both(program)


# ---- inference_mode --------------------------------------------------------------------------------------------
def test_inference_mode_as_context_manager_and_decorator():
    def program(lib, nn, _):
        log = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)

        def state(tag):
            log.append((tag, lib.is_grad_enabled(), lib.is_inference_mode_enabled()))

        with lib.inference_mode():
            y = x * 2
            state("inside")
            with lib.inference_mode(False):
                state("nested off")
                log.append(("recorded", (x * 2).requires_grad))
            with lib.enable_grad():
                state("enable_grad")
        log.append(("y", y.requires_grad, y.grad_fn is None))
        state("after")
        with lib.no_grad(), lib.inference_mode(False):
            state("off under no_grad")

        @lib.inference_mode
        def bare():
            state("bare decorator")
            return (x * 3).requires_grad

        @lib.inference_mode()
        def called():
            state("called decorator")

        @lib.inference_mode(mode=False)
        def off():
            state("mode=False decorator")
        log += [bare(), bare.__name__, called(), off(), lib.inference_mode().mode,
                lib.inference_mode(False).clone().mode]
        with pytest.raises(ValueError):
            with lib.inference_mode():
                raise ValueError
        state("after an exception")
        return log
    _both(program)


def test_inference_mode_is_per_thread():
    def program(lib, nn, _):
        seen = []
        with lib.inference_mode():
            t = threading.Thread(target=lambda: seen.append((lib.is_grad_enabled(),
                                                             lib.is_inference_mode_enabled())))
            t.start()
            t.join()
            seen.append(lib.is_inference_mode_enabled())
        return seen
    _both(program)
