"""Module hooks: the handles register_*hook return, the global hooks every module runs
(register_module_*_hook, as in torch.nn.modules.module), and Module.__call__'s path when any hook is registered."""
import warnings
from collections import OrderedDict

from .. import grad_mode
from ..ops.hooks import hook_tensors
from ..tensor import Tensor, zeros_like


class RemovableHandle:
    """What a register_*hook returns: `remove()` (or leaving a `with` block) unregisters the hook."""
    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict = hooks_dict
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dicts = () if extra_dict is None else (
            tuple(extra_dict) if isinstance(extra_dict, list) else (extra_dict,))

    def remove(self):
        for d in (self.hooks_dict,) + self.extra_dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# hooks that every module runs before its own (torch.nn.modules.module.register_module_*_hook)
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_forward_hooks_always_called = OrderedDict()
_global_backward_pre_hooks = OrderedDict()
_global_backward_hooks = OrderedDict()


def register_module_forward_pre_hook(hook):
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    handle = RemovableHandle(_global_forward_hooks,
                             extra_dict=[_global_forward_hooks_with_kwargs, _global_forward_hooks_always_called])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook):
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook):
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle


class BackwardHook:
    """One module call's full backward hooks, as torch.utils.hooks.BackwardHook: `setup_input_hook(args)` before
    forward, `setup_output_hook(result)` after it. On backward the pre-hooks see grad_output (aligned with the
    outputs, None where an output is not a tensor or got no gradient) and may replace it; then the hooks see
    (grad_input, grad_output), grad_input aligned with the positional arguments, and may replace grad_input."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks, self.user_pre_hooks = user_hooks, user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None  # positions of the hooked tensors; None: nothing hooked

    @staticmethod
    def _hook_args(args, on_grads):
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not index or not grad_mode._state.enabled:
            return args, None
        new = hook_tensors([args[i] for i in index], on_grads)
        out = list(args)
        for i, t in zip(index, new):
            out[i] = t
        return (tuple(out) if type(args) is tuple else type(args)(*out)), index

    @staticmethod
    def _pack(index, values, n):
        res = [None] * n
        for i, v in zip(index, values):
            res[i] = v
        return tuple(res)

    def setup_input_hook(self, args):
        # PyTorch sends every tensor argument through its hook node, and a tensor that gets no gradient there
        # (one that needs none, or that the outputs do not depend on) shows in grad_input as zeros
        self.input_tensors = [(i, a) for i, a in enumerate(args) if isinstance(a, Tensor)]
        args, self.input_index = self._hook_args(args, self._on_input_grads)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result):
        is_tuple = isinstance(result, tuple)
        out, self.output_index = self._hook_args(result if is_tuple else (result,), self._on_output_grads)
        self.n_outputs = len(out)
        return out if is_tuple else out[0]

    def _on_output_grads(self, grads):
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            r = hook(self.module, self.grad_outputs)
            if r is None:
                continue
            if len(r) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(r)}, but expected {len(self.grad_outputs)}")
            self.grad_outputs = r
        grad_outputs = self.grad_outputs
        if self.input_index is None:
            # no input needs a gradient: the hooks run from here, with every grad_input None
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                r = hook(self.module, grad_inputs, grad_outputs)
                if r is not None and not (isinstance(r, tuple) and all(g is None for g in r)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_index)

    def _on_input_grads(self, grads):
        if self.grad_outputs is None:
            return grads  # the gradient reached the inputs without passing through the outputs
        res = list(self._pack(self.input_index, grads, self.n_inputs))
        for i, t in self.input_tensors:
            if res[i] is None:
                res[i] = zeros_like(t)
        res = tuple(res)
        for hook in self.user_hooks:
            r = hook(self.module, res, self.grad_outputs)
            if r is None:
                continue
            if len(r) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(r)}, but expected {len(res)}")
            res = r
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_pre_hooks", "_backward_hooks")


def _forward_hook(hook, module, args, kwargs, result, pass_kwargs):
    r = hook(module, args, kwargs, result) if pass_kwargs else hook(module, args, result)
    return result if r is None else r


def _call_with_hooks(module, args, kwargs):
    """Module.__call__ with hooks, in PyTorch's order: forward pre-hooks, the input side of the backward hooks,
    forward, forward hooks, the output side of the backward hooks. When anything raises, the forward hooks
    registered with always_call=True that have not run yet still run (their own errors become warnings)."""
    result = None
    called = set()
    try:
        bw_pre = [*_global_backward_pre_hooks.values(), *module._backward_pre_hooks.values()]
        bw = [*_global_backward_hooks.values(), *module._backward_hooks.values()]
        pre_kwargs = module._forward_pre_hooks_with_kwargs
        for hid, hook in (*_global_forward_pre_hooks.items(), *module._forward_pre_hooks.items()):
            if hid in pre_kwargs:
                r = hook(module, args, kwargs)
                if r is not None:
                    if isinstance(r, tuple) and len(r) == 2:
                        args, kwargs = r
                    else:
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {r}.")
            else:
                r = hook(module, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        bw_hook = None
        if bw or bw_pre:
            bw_hook = BackwardHook(module, bw, bw_pre)
            args = bw_hook.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        always, with_kwargs = module._forward_hooks_always_called, module._forward_hooks_with_kwargs
        for hid, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            if hid in always or hid in _global_forward_hooks_always_called:
                called.add(hid)
            result = _forward_hook(hook, module, args, kwargs, result,
                                   hid in with_kwargs or hid in _global_forward_hooks_with_kwargs)
        if bw_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of "
                              f"Tensors but received {type(result)}")
            result = bw_hook.setup_output_hook(result)
        return result
    except Exception:
        # as PyTorch: a global hook is called without kwargs here even when registered with_kwargs
        for hooks, always, kw_ids, who in (
                (_global_forward_hooks, _global_forward_hooks_always_called, (), "global module"),
                (module._forward_hooks, module._forward_hooks_always_called, module._forward_hooks_with_kwargs,
                 "module")):
            for hid, hook in hooks.items():
                if hid in always and hid not in called:
                    try:
                        result = _forward_hook(hook, module, args, kwargs, result, hid in kw_ids)
                    except Exception as e:
                        warnings.warn(f"{who} forward hook with ``always_call=True`` raised an exception that was "
                                      f"silenced as another error was raised in forward: {e}")
        raise
