"""Fetching and unpacking dataset files: progress bar, MD5 check, atomic writes (temp file + rename), so an
interrupted run never leaves a file that looks complete."""
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request


def md5sum(path, chunk=1 << 20):
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


class _Progress:
    """tqdm when installed, else a plain text bar on stderr."""

    def __init__(self, total, desc):
        try:
            from tqdm import tqdm
            self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc)
        except ImportError:
            self._bar = None
        self.total, self.done, self.desc, self._shown = total, 0, desc, -1

    def update(self, n):
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        pct = int(100 * self.done / self.total) if self.total else -1
        if pct != self._shown:
            self._shown = pct
            bar = "#" * (pct // 4) if pct >= 0 else ""
            frac = f"{pct:3d}%" if pct >= 0 else f"{self.done >> 20} MiB"
            print(f"\r{self.desc} [{bar:<25}] {frac}", end="", file=sys.stderr, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()
        else:
            print(file=sys.stderr)


def download_url(url, path, md5=None, timeout=60):
    """Download url to path unless path already exists with the right MD5. Raises RuntimeError when the
    download fails (offline, HTTP error) or the MD5 does not match."""
    if os.path.isfile(path) and (md5 is None or md5sum(path) == md5):
        return path
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    bar = _Progress(int(resp.headers.get("Content-Length") or 0), os.path.basename(path))
                    try:
                        for block in iter(lambda: resp.read(1 << 16), b""):
                            out.write(block)
                            bar.update(len(block))
                    finally:
                        bar.close()
            except (urllib.error.URLError, OSError) as e:
                raise RuntimeError(f"could not download {url} to {path}: {e}") from e
        if md5 is not None and (got := md5sum(tmp)) != md5:
            raise RuntimeError(f"MD5 mismatch for {url}: expected {md5}, got {got} (corrupted or changed file)")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def extract_tar(archive, root, member_dir):
    """Extract archive into root, publishing root/member_dir only once it is complete (extract into a temp
    folder next to it, then rename)."""
    dest = os.path.join(root, member_dir)
    tmp = tempfile.mkdtemp(prefix=".extract-", dir=root)
    try:
        with tarfile.open(archive, "r:*") as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(tmp, filter="data")    # refuses absolute paths, '..' and devices
            else:  # pragma: no cover - Python < 3.11.4
                tar.extractall(tmp)
        src = os.path.join(tmp, member_dir)
        if not os.path.isdir(src):
            raise RuntimeError(f"{archive} does not contain the folder {member_dir}/")
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.replace(src, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
