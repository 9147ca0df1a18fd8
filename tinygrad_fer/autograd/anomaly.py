"""Anomaly detection (torch.autograd.detect_anomaly / set_detect_anomaly): while it is on, every recorded op keeps
the stack where it was called, and a backward pass that produces a NaN gradient raises, naming the op's node and
where the forward op was created. Costs a stack capture per op: a debugging tool, off by default."""
import traceback
import warnings

_on = [False, True]   # enabled, check_nan


def is_anomaly_enabled():
    return _on[0]


def is_anomaly_check_nan_enabled():
    return _on[1]


class set_detect_anomaly:
    """Turns anomaly detection on or off, as a function call or a context manager (restoring the old state)."""

    def __init__(self, mode, check_nan=True):
        self.prev = tuple(_on)
        _on[0], _on[1] = bool(mode), bool(check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _on[0], _on[1] = self.prev


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self.prev = tuple(_on)
        _on[0], _on[1] = True, bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        _on[0], _on[1] = self.prev

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return wrapper


def forward_stack():
    """Where the op being recorded was called from (the caller's frames, this package's own left out)."""
    frames = traceback.extract_stack()[:-3]
    return [f for f in frames if "/tinygrad_fer/" not in f.filename.replace("\\", "/")] or frames


def check_gradient(node, i, g):
    """Raise if gradient g (an array) that node computed for its input i holds a NaN."""
    a = g._array if hasattr(g, "_array") else g
    if getattr(a, "dtype", None) is None or a.dtype.kind not in "fc" or not bool((a != a).any()):
        return
    where = getattr(node, "_trace", None)
    origin = ""
    if where:
        f = where[-1]
        origin = f" Its forward op was created at {f.filename}:{f.lineno} ({f.line})."
        warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                      + "".join(traceback.format_list(where)), stacklevel=3)
    raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{origin}")
