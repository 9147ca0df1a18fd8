"""The handle of a non-blocking collective, and the thread that keeps such collectives moving.

Open MPI (without an asynchronous progress thread of its own) moves a non-blocking collective on only while some
thread of the rank is inside an MPI call: started and left alone during 20 ms of computation, a 2 MB Iallreduce had
not advanced at all, and the whole transfer waited for wait(). So while a Work is pending, a daemon thread tests it
(MPI_Test runs MPI's progress engine) every 0.2 ms until it has completed, then sleeps; MPI forbids two
threads completing one request at once, so each Work's lock keeps the thread's test and the caller's wait apart.
mpi4py initialises MPI with MPI_THREAD_MULTIPLE. The results are written into the tensors by the caller's thread,
at wait() or is_completed(). TINYGRAD_FER_MPI_PROGRESS=0 turns the thread off (progress then happens only in wait()
and is_completed())."""
import atexit
import os
import threading
import time
import weakref

_POLL_S = 0.0002


class _Progress:
    def __init__(self):
        # weak references (a Work nobody holds any more is not worth polling for) in a plain set, which tuple() copies
        # in one step while the other thread adds to it
        self.pending, self.wake, self.thread, self.stopped = set(), threading.Event(), None, False
        self.enabled = os.environ.get("TINYGRAD_FER_MPI_PROGRESS", "1") != "0"

    def add(self, work):
        self.pending.add(work._ref)
        if not self.enabled:
            return
        if self.thread is None:
            from mpi4py import MPI
            if MPI.Query_thread() != MPI.THREAD_MULTIPLE:
                return   # MPI initialised without thread support: progress only in wait() / is_completed()
            self.thread = threading.Thread(target=self._run, name="mpi-progress", daemon=True)
            self.thread.start()
            atexit.register(self.stop)   # Python's exit handlers run before mpi4py finalizes MPI
        self.wake.set()

    def _run(self):
        while True:
            self.wake.wait()
            self.wake.clear()
            while self.pending and self.enabled and not self.stopped:
                for ref in tuple(self.pending):
                    work = ref()
                    if work is not None and work._lock.acquire(blocking=False):   # else the caller waits on it
                        try:
                            done = work._request is None or work._request.Test()
                        finally:
                            work._lock.release()
                        if done:
                            self.pending.discard(ref)
                time.sleep(_POLL_S)
            if self.stopped:
                return

    def stop(self):
        self.stopped = True
        self.wake.set()
        if self.thread is not None:
            self.thread.join(1.0)


_progress = _Progress()


class Work:
    """What a collective returns with async_op=True (torch.distributed.Work): the MPI operation goes on in the
    background while the caller computes; the output tensors hold its result only once wait() has returned (or
    is_completed() has said True), as in PyTorch."""

    def __init__(self, request, finish=None, buffers=(), outputs=()):
        self._request, self._finish, self._buffers, self._outputs = request, finish, buffers, list(outputs)
        self._lock = threading.Lock()
        self._ref = weakref.ref(self, _progress.pending.discard)
        _progress.add(self)

    def wait(self, timeout=None):
        """Block until the operation has completed and its result is in the tensors. timeout (a timedelta or
        seconds): raise RuntimeError instead once it has passed (the operation stays pending)."""
        if self._request is None:
            return True
        if timeout is None:
            with self._lock:
                self._request.Wait()
        else:
            seconds = getattr(timeout, "total_seconds", lambda: float(timeout))()
            deadline = time.monotonic() + seconds
            while not self._test():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Work.wait: the collective did not complete within {seconds:g} s")
                time.sleep(_POLL_S)
        self._complete()
        return True

    def is_completed(self):
        """Whether the operation has completed, without blocking (MPI_Test)."""
        if self._request is not None and self._test():
            self._complete()
        return self._request is None

    def _test(self):
        with self._lock:
            return self._request.Test()

    def result(self):
        """The output tensors, after waiting for them."""
        self.wait()
        return list(self._outputs)

    def _complete(self):
        finish, self._request, self._finish, self._buffers = self._finish, None, None, ()
        _progress.pending.discard(self._ref)
        if finish is not None:
            finish()
