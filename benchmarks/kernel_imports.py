"""What each notebook's kernel imports, and how long that takes.

``python -m benchmarks.kernel_imports`` takes the import statements of each notebook's code
cells (those at the top level of a cell, in order; :func:`benchmarks.notebook_imports`),
runs them in a fresh interpreter ``--repeat`` times (default 5) and prints, per notebook, the
median wall time in seconds, that time over a bare ``python -c pass`` start (the ratio), and which of the heavy
packages the imports loaded. A package imported lazily inside a function is not counted: that
is the point of importing it there. Not part of the test suite; run it by hand, on a quiet
machine. Nothing happens on import.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Packages whose import is worth knowing about (module name, as shown).
HEAVY = (
    ("scipy.stats", "scipy.stats"),
    ("statsmodels.api", "statsmodels"),
    ("lifelines", "lifelines"),
    ("pandera", "pandera"),
    ("matplotlib.pyplot", "matplotlib"),
    ("seaborn", "seaborn"),
    ("docx", "python-docx"),
    ("openpyxl", "openpyxl"),
    ("ortools", "ortools"),
)


def timed(code: str) -> tuple[float, list[str]]:
    """Wall seconds of ``python -c code`` in the notebooks folder, and the heavy modules loaded."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {[m for m, _ in HEAVY]!r} if m in sys.modules]))"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT / "notebooks"
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return seconds, json.loads(done.stdout.splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    """Print one Markdown table row per notebook."""
    import nbformat

    from benchmarks import notebook_imports

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.kernel_imports", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    bare = statistics.median(timed("pass")[0] for _ in range(args.repeat))
    print(f"bare interpreter start: {bare:.2f} s (median of {args.repeat})")
    print("| notebook | import s | / bare start | heavy packages loaded |")
    print("|---|---|---|---|")
    names = dict(HEAVY)
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(notebook_imports(nbformat.read(str(notebook), as_version=4)))
        runs = [timed(code) for _ in range(args.repeat)]
        seconds = statistics.median(s for s, _ in runs)
        loaded = ", ".join(names[m] for m in runs[0][1]) or "none"
        print(f"| {notebook.stem} | {seconds:.2f} | {seconds / bare:.1f} | {loaded} |", flush=True)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file: make the repository importable
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
