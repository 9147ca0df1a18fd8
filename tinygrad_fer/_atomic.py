"""Atomic file writes: the target is either the old file or the whole new one, never half of it.

The new content goes to a temporary file beside the target, named `.<target name>.<8 characters><suffix>`,
which is renamed over the target once complete. A process killed mid-write leaves that temporary behind, so
each write first removes the target's own stale temporaries (that exact name pattern only, never other files).
A temporary still being written by another process is not stale: its writer holds an exclusive flock on it
for the whole write, and cleanup skips any temporary it cannot lock. Where flock does not exist (Windows), the
system itself refuses to delete a file another process has open, which protects it the same way.
"""
import contextlib
import os
import re
import secrets

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

# tempfile.mkstemp's alphabet and length: temporaries from before this module used mkstemp, and are matched too
_TOKEN = "[a-z0-9_]{8}"


def _temp_pattern(base, suffix):
    return re.compile(r"\." + re.escape(base) + r"\." + _TOKEN + re.escape(suffix) + r"\Z")


def _try_lock(fd):
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _same_file(fd, name):
    try:
        st = os.stat(name)
    except FileNotFoundError:
        return False
    own = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (own.st_dev, own.st_ino)


def remove_stale_temps(path, suffix=".tmp"):
    """Delete the temporaries that killed writes of path left behind; returns the names removed."""
    folder = os.path.dirname(os.path.abspath(path))
    pattern = _temp_pattern(os.path.basename(path), suffix)
    removed = []
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return removed
    for name in names:
        if not pattern.match(name):
            continue
        full = os.path.join(folder, name)
        try:
            fd = os.open(full, os.O_RDONLY)
        except OSError:       # vanished (renamed into place), or not ours to open
            continue
        try:
            # the name must still be this file once locked: its writer may have renamed it into place meanwhile
            if _try_lock(fd) and _same_file(fd, full):
                os.unlink(full)
                removed.append(name)
        except OSError:       # Windows: another process has it open; or removed by a concurrent cleanup
            pass
        finally:
            os.close(fd)
    return removed


def _create_locked_temp(folder, base, suffix):
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(4)}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        # a concurrent cleanup may have locked and deleted it between creation and our lock: start again
        if _same_file(fd, tmp):
            return fd, tmp
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, suffix=".tmp"):
    """with atomic_write(path) as f: f.write(...) -- a binary file that replaces path only when the block
    completes; on an exception path is untouched and the temporary removed."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    remove_stale_temps(path, suffix)
    fd, tmp = _create_locked_temp(folder, os.path.basename(path), suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:
                os.replace(tmp, path)     # still under the lock: no cleanup can take the finished file for stale
        if fcntl is None:
            os.replace(tmp, path)         # Windows renames only closed files
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
