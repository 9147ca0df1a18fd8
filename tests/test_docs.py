"""The user guide (docs/*.md) is executable: its code runs and its stated outputs are checked.

Conventions (also described in docs/README.md):
- Every ```python block of a chapter runs, in order; the blocks of one file share one namespace (a fresh one per
  file), as in Python started in the repository root: that is the working directory and the first sys.path
  entry, and no folder of the repository below it (examples/, tests/, ...) is on sys.path. A chapter may not
  import the example scripts: code the docs and examples share lives in the package (tinygrad_fer.models).
  Blocks write files only into temporary folders.
- A block fenced ```python no-run is shown but not run: only for code that cannot run in CI (it needs a GPU or
  the real CIFAR-10 download).
- Outputs: an ```output block right after a ```python block holds lines that block prints. The test checks that
  they appear in the block's captured stdout as consecutive lines (trailing spaces ignored). Everything else a
  block claims is an `assert` inside it.
Separately: docs/make_figures.py writes valid PNGs (into a temporary folder), the images and chapter links the
Markdown references exist, and the committed docs/img/ holds every figure the script draws.
"""
import contextlib
import io
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
CHAPTERS = sorted(f for f in os.listdir(DOCS) if f.endswith(".md")) if os.path.isdir(DOCS) else []
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks(path):
    """[(kind, info, code, line)] for the fenced blocks of a Markdown file; kind is 'python', 'output' or other."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = []
    for m in FENCE.finditer(text):
        info = m.group(1).strip().split()
        line = text.count("\n", 0, m.start()) + 1
        out.append((info[0] if info else "", info[1:], m.group(2), line))
    return out


def runnable(path):
    """[(code, expected_output_lines or None, line)] for the python blocks that run."""
    bs = blocks(path)
    result = []
    for i, (kind, info, code, line) in enumerate(bs):
        if kind != "python" or "no-run" in info:
            continue
        expected = None
        if i + 1 < len(bs) and bs[i + 1][0] == "output":
            expected = [ln.rstrip() for ln in bs[i + 1][2].rstrip("\n").split("\n")]
        result.append((code, expected, line))
    return result


def _contains(lines, expected):
    n = len(expected)
    return any(lines[i:i + n] == expected for i in range(len(lines) - n + 1))


def _repo_scripts(names):
    """The modules among names loaded from a script folder of the repository (examples/, docs/, bench/): what a
    user's Python started in the root cannot import without changing sys.path. tests/ is left out: the docs
    import `tests.helpers` as a package from the root, and pytest imports the test modules by their bare names."""
    allowed = tuple(os.path.join(ROOT, d) + os.sep for d in ("tinygrad_fer", "tests"))
    found = []
    for name in names:
        file = os.path.abspath(getattr(sys.modules.get(name), "__file__", None) or os.sep)
        if file.startswith(ROOT + os.sep) and not file.startswith(allowed) and os.path.dirname(file) != ROOT:
            found.append(name)
    return found


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs(chapter, monkeypatch):
    path = os.path.join(DOCS, chapter)
    monkeypatch.chdir(ROOT)
    # sys.path as `python` started in the root has it: pytest puts tests/ there, and an earlier test may have
    # added examples/; blocks may add entries too, all undone afterwards
    monkeypatch.setattr(sys, "path", [ROOT] + [p for p in sys.path if os.path.dirname(os.path.abspath(p)) != ROOT])
    for name in _repo_scripts(list(sys.modules)):
        monkeypatch.delitem(sys.modules, name)      # e.g. train_cifar, imported by an earlier test
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_{chapter[:-3].replace('-', '_')}"}
    modules_before = set(sys.modules)
    try:
        _run_blocks(chapter, path, namespace)
        imported = _repo_scripts(set(sys.modules) - modules_before)
        assert not imported, (f"{chapter} imports {imported} from outside the package: a user's Python started "
                              f"in the repository root cannot; move shared code into tinygrad_fer (models/)")
    finally:
        for name in _repo_scripts(set(sys.modules) - modules_before):   # later tests load them afresh
            del sys.modules[name]


def _run_blocks(chapter, path, namespace):
    for code, expected, line in runnable(path):
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(code, f"{chapter}:{line}", "exec"), namespace)
        except BaseException as e:
            raise AssertionError(f"{chapter}, block at line {line} failed: {type(e).__name__}: {e}\n"
                                 f"--- stdout ---\n{buf.getvalue()}") from e
        if expected is not None:
            got = [ln.rstrip() for ln in buf.getvalue().split("\n")]
            assert _contains(got, expected), (f"{chapter}, block at line {line}: stated output not printed\n"
                                              f"--- expected ---\n" + "\n".join(expected) +
                                              "\n--- stdout ---\n" + buf.getvalue())


def test_every_chapter_is_indexed_and_links_resolve():
    assert "README.md" in CHAPTERS and len(CHAPTERS) >= 9
    with open(os.path.join(DOCS, "README.md"), encoding="utf-8") as f:
        index = f.read()
    for chapter in CHAPTERS:
        if chapter != "README.md":
            assert f"({chapter})" in index, f"{chapter} missing from docs/README.md"
    for chapter in CHAPTERS:
        with open(os.path.join(DOCS, chapter), encoding="utf-8") as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert os.path.exists(os.path.normpath(os.path.join(DOCS, target))), f"{chapter}: broken link {target}"


def test_no_run_blocks_are_rare():
    # no-run is for a GPU or the real dataset only; everything else is exercised above
    for chapter in CHAPTERS:
        for kind, info, code, line in blocks(os.path.join(DOCS, chapter)):
            if kind == "python" and "no-run" in info:
                assert re.search(r"cuda|download|train_cifar\.py|--data-dir", code), \
                    f"{chapter}:{line} is no-run but needs neither a GPU nor the dataset"


def _assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE, f"{path} is not a PNG"
    from PIL import Image       # the test extra installs Pillow and matplotlib: a missing one fails, not skips
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.size[0] > 200 and im.size[1] > 100


def test_make_figures_writes_pngs(tmp_path):
    sys.path.insert(0, DOCS)
    try:
        import make_figures
    finally:
        sys.path.remove(DOCS)
    written = make_figures.main(["--out", str(tmp_path)])
    assert sorted(os.path.basename(p) for p in written) == sorted(make_figures.FIGURES)
    for p in written:
        _assert_png(p)
    # the committed copies exist too, for every figure the script draws
    for name in make_figures.FIGURES:
        _assert_png(os.path.join(DOCS, "img", name))
