"""Whether operations record the graph. Context managers that also work as decorators, as in PyTorch.

The mode is per thread (an evaluation thread under no_grad() must not stop a training thread from recording);
a new thread starts with recording on, as in PyTorch.
"""
import functools
import threading


class _State(threading.local):
    enabled = True
    inference = False


_state = _State()


def is_grad_enabled():
    return _state.enabled


def is_inference_mode_enabled():
    return _state.inference


class _Mode:
    _value = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._value

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_Mode):
    _value = False


class enable_grad(_Mode):
    _value = True


class set_grad_enabled(_Mode):
    def __init__(self, mode):
        self._value = bool(mode)
        self._prev = _state.enabled
        _state.enabled = self._value  # takes effect when called as a function too, as in PyTorch

    def __enter__(self):
        pass

    def __call__(self, fn):
        _state.enabled = self._prev
        mode = self._value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class inference_mode:
    """Like no_grad for the code inside (PyTorch also skips view and version tracking there; here it is no_grad
    plus is_inference_mode_enabled()). inference_mode(False) turns recording back on, as in PyTorch. Works as
    `with inference_mode():`, `@inference_mode()` and bare `@inference_mode`."""

    def __new__(cls, mode=True):
        if mode is None or isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used as a bare decorator: mode is the function

    def __init__(self, mode=True):
        self.mode = mode

    def __enter__(self):
        self._prev = (_state.enabled, _state.inference)
        _state.enabled, _state.inference = not self.mode, bool(self.mode)

    def __exit__(self, *exc):
        _state.enabled, _state.inference = self._prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__(self.mode)
