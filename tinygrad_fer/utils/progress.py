"""A progress bar: tqdm when it is installed, else a small text bar with the same calls used here
(iteration, set_postfix, update, close, write)."""
import sys
import time


class _SimpleBar:
    """Redraws one line on stderr at most every `mininterval` seconds (and at the end)."""

    def __init__(self, iterable=None, total=None, desc=None, disable=False, mininterval=0.5, file=None):
        self.iterable, self.desc, self.disable = iterable, desc or "", disable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.n, self.postfix = total, 0, ""
        self.file = file or sys.stderr
        self.mininterval, self._start, self._last = mininterval, time.perf_counter(), 0.0

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update(1)
        self.close()

    def __len__(self):
        return self.total or 0

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in items.items())

    def update(self, n=1):
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self.mininterval or (self.total and self.n >= self.total):
            self._last = now
            self._draw(now)

    def _draw(self, now):
        if self.disable:
            return
        elapsed = now - self._start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        if self.total:
            done = int(25 * self.n / self.total)
            bar = f"{100 * self.n / self.total:3.0f}%|{'#' * done:<25}| {self.n}/{self.total}"
        else:
            bar = f"{self.n}it"
        post = f", {self.postfix}" if self.postfix else ""
        print(f"\r{self.desc}: {bar} [{elapsed:.0f}s, {rate:.1f}it/s{post}]", end="", file=self.file, flush=True)

    def write(self, s):
        print(s, file=self.file if self.file is not sys.stderr else sys.stdout)

    def close(self):
        if not self.disable and self.n:
            self._draw(time.perf_counter())
            print(file=self.file, flush=True)
            self.n = 0   # closing twice prints once


def progress(iterable=None, total=None, desc=None, disable=False, **kwargs):
    """tqdm(iterable, total=..., desc=...) if tqdm is importable, else a minimal text bar. Extra keyword
    arguments go to tqdm only (e.g. leave=False, dynamic_ncols=True)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _SimpleBar(iterable, total=total, desc=desc, disable=disable)
    return tqdm(iterable, total=total, desc=desc, disable=disable, **kwargs)
