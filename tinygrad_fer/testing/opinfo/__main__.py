"""`python -m tinygrad_fer.testing.opinfo [docs/07-porting-from-pytorch.md]`: regenerate the docs' ops table."""
import sys

from .docs_table import write_docs_table

write_docs_table(sys.argv[1] if len(sys.argv) > 1 else "docs/07-porting-from-pytorch.md")
