"""A batch of centre-level runs against the same runs started one after another by hand.

``python -m benchmarks.batch [--centres 10] [--patients 50]`` writes a synthetic
cohort of ``centres x patients`` rows (each centre exactly ``patients``), then times

* **batch**: ``python -m pipeline batch FILE --by center --min-patients P --out DIR``
  (runs in parallel within the cores and memory);
* **loop**: a ``bash`` loop of ``python -m pipeline run --data SUBSET --out DIR --workers 1``
  over the same centre subsets, one after another.

Printed: the date and load average, both times, peak memory of the batch, the ratio
batch / (loop / cores used) against the target ``<= 1.5``, and the peak against
``< 2 GiB``. Peak memory is the summed RSS of the batch's whole process tree (batch,
run workers, kernels), sampled every 50 ms with psutil (a short spike between samples
can be missed); ``ru_maxrss`` of the children, the largest single process, is printed
beside it as a lower bound. Not part of the test suite; run it by hand (``make benchmark-batch``).
Nothing happens on import.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import REPO_ROOT, BenchmarkError, measure, pipeline_cli

RATIO_TARGET = 1.5
PEAK_TARGET_MIB = 2048.0


def centre_cohort(folder: Path, centres: int, patients: int, seed: int) -> Path:
    """A synthetic cohort whose ``center`` column gives each of ``centres`` centres ``patients`` rows."""
    import subprocess

    raw = folder / "raw.csv"
    subprocess.run(
        pipeline_cli(
            "synth", "--n", str(centres * patients), "--seed", str(seed), "--out", str(raw)
        ),
        check=True,
        cwd=REPO_ROOT,
    )
    with open(raw, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    at = rows[0].index("center")
    for i, row in enumerate(rows[1:]):
        row[at] = f"c{i // patients + 1:02d}"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path = folder / "centres.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.batch", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--centres", type=int, default=10)
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    jobs = min(cores, args.centres)
    load_before = os.getloadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        tmp = Path(tmp)
        data = centre_cohort(tmp, args.centres, args.patients, args.seed)
        try:
            batch = measure(
                pipeline_cli(
                    "batch",
                    str(data),
                    "--by",
                    "center",
                    "--min-patients",
                    str(args.patients),
                    "--jobs",
                    str(jobs),
                    "--out",
                    str(tmp / "batch"),
                ),
                REPO_ROOT,
                tmp / "batch.log",
            )
            subsets = sorted(
                (tmp / "batch" / "work").rglob("*.csv")
            )  # work/<file>/<file>-<centre>.csv
            if len(subsets) != args.centres:
                raise BenchmarkError(
                    f"the batch wrote {len(subsets)} centre subsets, not {args.centres}"
                )
            script = "set -e\n" + "".join(
                f"{shlex.quote(sys.executable)} -m pipeline run --data {shlex.quote(str(s))} "
                f"--out {shlex.quote(str(tmp / 'loop' / s.stem))} --workers 1\n"
                for s in subsets
            )
            loop = measure(["bash", "-c", script], REPO_ROOT, tmp / "loop.log")
        except BenchmarkError as err:
            print(f"benchmark failed: {err}", file=sys.stderr)
            return 1
    ratio = batch.seconds / (loop.seconds / jobs)
    load_after = os.getloadavg()
    print(
        f"started {started}; 1-minute load average {load_before[0]:.1f} before, {load_after[0]:.1f} after"
    )
    print(
        f"{args.centres} centres x {args.patients} patients, {jobs} runs at a time ({cores} cores)"
    )
    print(
        f"batch  {batch.seconds:8.1f} s   peak {batch.peak_mib:7.0f} MiB (process tree, sampled); "
        f"largest single process {batch.children_maxrss_mib:.0f} MiB"
    )
    print(f"loop   {loop.seconds:8.1f} s   peak {loop.peak_mib:7.0f} MiB (process tree, sampled)")
    print(
        f"batch / (loop / {jobs}) = {ratio:.2f}  (target <= {RATIO_TARGET}: "
        f"{'met' if ratio <= RATIO_TARGET else 'NOT met'})"
    )
    print(
        f"batch peak memory {batch.peak_mib:.0f} MiB  (target < {PEAK_TARGET_MIB:.0f}: "
        f"{'met' if batch.peak_mib < PEAK_TARGET_MIB else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
