"""Whether operations record the graph. Context managers that also work as decorators, as in PyTorch.

The mode is per thread (an evaluation thread under no_grad() must not stop a training thread from recording);
a new thread starts with recording on, as in PyTorch.
"""
import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled():
    return _state.enabled


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
