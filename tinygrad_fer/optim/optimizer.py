"""Optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict, as in torch.optim.

Subclasses update parameters on the raw backend arrays (`p._array`, `p.grad._array`, `p._be.xp`) with in-place
array ops: no graph is ever recorded and the same code runs on NumPy and CuPy. State buffers are kept as Tensors
wrapping backend arrays so that state_dict() looks like PyTorch's, and are updated through their `_array`.
"""
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import numpy as np

from tinygrad_fer.tensor import Tensor


class _RequiredParameter:
    """Marks a default that every param group must give itself (torch.optim.optimizer.required)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(o):
    t = type(o)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _is_leaf(t):
    leaf = getattr(t, "is_leaf", None)
    return (t._ctx is None) if leaf is None else leaf


def _check_adam_args(lr, eps, betas, weight_decay):
    """The Adam family's argument checks, with PyTorch's messages."""
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i in (0, 1):
        if not 0.0 <= betas[i] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {betas[i]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _step_tensor():
    # PyTorch keeps the step count as a float32 scalar on the host even for GPU params: reading it for the bias
    # corrections then costs no device sync.
    return Tensor(np.zeros((), dtype=np.float32))


def _zeros_state(p):
    return Tensor(p._be.xp.zeros_like(p._array))


def _count_step(state, p, *moments, **scalars):
    """Count a step in a parameter's state, making the state first (PyTorch's key order: the step count, the
    `scalars` made by their factories, the zeroed `moments`); the new step number."""
    if len(state) == 0:
        state["step"] = _step_tensor()
        for name, make in scalars.items():
            state[name] = make()
        for name in moments:
            state[name] = _zeros_state(p)
    step = state["step"]._array
    step += 1
    return float(step)


def _effective_grad(xp, p, g, maximize, weight_decay, out=None):
    """The gradient the update uses: negated when maximizing, plus L2 decay. Returns (array, owned): never writes
    into g (the user's .grad); writes into `out` (or a new array) only when the result must differ from g."""
    if weight_decay != 0:
        d = xp.multiply(p, weight_decay, out=out)
        if maximize:
            d -= g
        else:
            d += g
        return d, True
    if maximize:
        return xp.negative(g, out=out), True
    return g, False


class Optimizer:
    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        if defaults.get("differentiable"):
            # updates run on the raw arrays: there is no graph through a step to differentiate
            raise NotImplementedError(f"{type(self).__name__}(differentiable=True) is not implemented in "
                                      "tinygrad_fer")
        self.defaults = defaults
        self._scratch_bufs = {}
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.setdefault("_scratch_bufs", {})

    def _scratch(self, xp, w, slot=0):
        """A work array shaped like w, reused across parameters and steps: one buffer per (array type, device,
        dtype, slot), as large as the largest parameter. A fresh multi-megabyte temporary costs page faults on every
        step; this costs one extra copy of the largest parameter, once."""
        key = (type(w), str(getattr(w, "device", "")), w.dtype, slot)
        buf = self._scratch_bufs.get(key)
        if buf is None or buf.size < w.size:
            buf = self._scratch_bufs[key] = xp.empty(w.size, dtype=w.dtype)
        return buf[:w.size].reshape(w.shape)

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        # named parameters, as model.named_parameters() yields them
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}")
            if not (_is_leaf(p) or getattr(p, "retains_grad", False)):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g._ctx is not None or getattr(g, "requires_grad", False):
                        # torch detaches a grad that carries a graph (create_graph=True) before zeroing it
                        g = p.grad = Tensor(g._array)
                    g._array.fill(0)

    def step(self, closure=None):
        raise NotImplementedError

    def _grad(self, xp, w, g, group, weight_decay):
        """_effective_grad with the group's maximize, into this optimizer's scratch slot 1 when it must copy."""
        return _effective_grad(xp, w, g, group["maximize"], weight_decay,
                               self._scratch(xp, w, 1) if group["maximize"] or weight_decay else None)[0]

    def _decoupled_grad(self, xp, w, g, group):
        """The Adam family's weight decay: decoupled (w shrinks by lr * wd first) or L2 folded into the gradient."""
        wd = group["weight_decay"]
        if wd != 0 and group["decoupled_weight_decay"]:
            w *= 1 - group["lr"] * wd
        return self._grad(xp, w, g, group, 0 if group["decoupled_weight_decay"] else wd)

    def _closure_loss(self, closure):
        if closure is None:
            return None
        import tinygrad_fer  # the package imports optim, so the grad-mode helpers are looked up at call time
        with tinygrad_fer.enable_grad():
            return closure()

    def _params_with_grad(self, group):
        """(param, param array, grad array) for each parameter of the group that has a gradient. The
        caller updates the parameter in place: its version is bumped so that a graph saved before the step refuses
        to backpropagate through the stale values, as in PyTorch."""
        for p in group["params"]:
            if p.grad is not None:
                p._version[0] += 1
                yield p, p._array, p.grad._array

    # ---- state_dict ------------------------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {param index: {name: value}}, 'param_groups': [{..., 'params': [param indices]}]}. As in
        PyTorch the values are the live state Tensors, not copies."""
        index = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {key: _cast_state(p, val, key) for key, val in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})


def _cast_state(p, value, key):
    """A loaded state value as this optimizer's own copy: buffers move to the parameter's backend and (floating
    parameters) dtype; the step count stays a host scalar. Copies, so two optimizers never share buffers."""
    if isinstance(value, dict):
        return {k: _cast_state(p, v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(p, v, key) for v in value)
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if not isinstance(value, Tensor):
        return deepcopy(value)
    arr = value._array
    if key == "step":
        return Tensor(value._be.to_numpy(arr).copy())
    dtype = p._array.dtype if p._array.dtype.kind == "f" else arr.dtype
    if value._be is p._be:
        return Tensor(arr.astype(dtype, copy=True))
    return Tensor(p._be.asarray(value._be.to_numpy(arr), dtype))
