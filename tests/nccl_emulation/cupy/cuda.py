"""cupy.cuda's runtime, Device, Stream and Event, emulated (see the package docstring). `log` lists what happened:
("record", stream, event), ("wait", stream, event), ("nccl", stream, name) (appended by cupyx.distributed),
("sync", stream)."""
import itertools
import os
import types

log = []
_ids = itertools.count(1)
_current_device = [0]
_current_stream = {}   # device -> stack of streams made current with `with stream:`


def _device_count():
    return int(os.environ.get("FAKE_CUPY_DEVICES", "2"))


class _Runtime:
    @staticmethod
    def getDeviceCount():
        return _device_count()

    @staticmethod
    def getDevice():
        return _current_device[0]

    @staticmethod
    def getDeviceProperties(i):
        return {"name": b"Emulated GPU"}


runtime = _Runtime()


class Device:
    def __init__(self, device=None):
        self.id = _current_device[0] if device is None else int(device)
        if not 0 <= self.id < _device_count():
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")

    def use(self):
        _current_device[0] = self.id

    def synchronize(self):
        log.append(("sync", "device", self.id))


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.ptr = next(_ids)
        self.recorded_on = None

    @property
    def done(self):
        return True   # everything ran when it was enqueued

    def record(self, stream=None):
        stream = stream or get_current_stream()
        self.recorded_on = stream.ptr
        log.append(("record", stream.ptr, self.ptr))

    def synchronize(self):
        log.append(("sync", "event", self.ptr))


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, ptds=False, priority=None):
        self.ptr = 0 if null else next(_ids)
        self.non_blocking = non_blocking
        self.device_id = _current_device[0]

    def __enter__(self):
        _current_stream.setdefault(_current_device[0], []).append(self)
        return self

    def __exit__(self, *exc):
        _current_stream[_current_device[0]].pop()

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        log.append(("wait", self.ptr, event.ptr))

    def synchronize(self):
        log.append(("sync", self.ptr))


Stream.null = Stream(null=True)


def get_current_stream(device_id=-1):
    stack = _current_stream.get(_current_device[0])
    return stack[-1] if stack else Stream.null


stream = types.SimpleNamespace(get_current_stream=get_current_stream)
nccl = types.SimpleNamespace(available=True)
