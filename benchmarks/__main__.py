"""``python -m benchmarks``: time the pipeline against its floor (see benchmarks/README.md)."""

import sys

from benchmarks import main

if __name__ == "__main__":
    sys.exit(main())
