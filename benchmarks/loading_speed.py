"""Micro-benchmark of the cohort loader: seconds to validate and to load a file.

``python -m benchmarks.loading_speed`` writes synthetic cohorts
(:func:`pipeline.synth.write_synthetic`, seed 0) of 34, 10,000 and 100,000
patients to a temporary folder, then times :func:`helpers.loading.validate_file`
and :func:`helpers.loading.load_cohort` on each and prints the best of
``--repeat`` runs (default 3) in seconds. One untimed warm-up call first pays
for lazy imports (pandera, openpyxl checks), so n = 34 shows the per-call cost.

Options: ``--sizes N ...``, ``--repeat R``, ``--seed S``. Not part of the test
suite (no timed tests); run it by hand. Nothing happens on import.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

DEFAULT_SIZES = (34, 10_000, 100_000)


def best_seconds(run: Callable[[], object], repeat: int) -> float:
    """The shortest wall time (s) of ``repeat`` calls of ``run``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: Sequence[str] | None = None) -> int:
    """Time validate_file and load_cohort at each size; print one line per size."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.loading_speed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from helpers.loading import load_cohort, validate_file
    from pipeline.synth import write_synthetic

    with tempfile.TemporaryDirectory(prefix="loading_speed_") as folder:
        paths = {
            n: write_synthetic(n, args.seed, Path(folder) / f"cohort_{n}.csv") for n in args.sizes
        }
        load_cohort(paths[min(paths)])  # warm-up: lazy imports are not the loader's cost
        print(f"{'n':>8}  {'validate_file (s)':>17}  {'load_cohort (s)':>15}")
        for n, path in paths.items():
            validate = best_seconds(lambda path=path: validate_file(path), args.repeat)
            load = best_seconds(lambda path=path: load_cohort(path), args.repeat)
            print(f"{n:>8,}  {validate:>17.3f}  {load:>15.3f}", flush=True)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):  # run as a file: make the repository importable
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
