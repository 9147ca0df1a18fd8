"""python -m tinygrad_fer.compat script.py [args...]   (or: -m package.module [args...])

Runs the script as `python script.py args...` would -- as __main__, with sys.argv = [script.py, args...] and the
script's folder first on sys.path -- with `import torch` / `import torchvision` answered by tinygrad_fer."""
import os
import runpy
import sys

from tinygrad_fer import compat

USAGE = ("usage: python -m tinygrad_fer.compat script.py [args...]\n"
         "       python -m tinygrad_fer.compat -m module [args...]")


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    compat.install()
    if argv[0] == "-m":
        if len(argv) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        sys.argv = argv[1:]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.exists(script):
        print(f"{sys.executable}: can't open file {os.path.abspath(script)!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        return 2
    sys.argv = list(argv)
    # `python script.py` puts the script's folder, not the caller's, first on the path
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
