"""Finished runs made once per test session and shared by every pytest-xdist worker.

A finished run (``python -m pipeline run``) takes most of a minute, so tests that only
read one share it: :func:`shared` makes it once per session for all workers (a
file lock serialises them: the first makes it, the others wait and reuse it).
A shared run is read only: a test that must change one copies it first.
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_COHORT = ROOT / "data" / "reconstructed_cohort.csv"
#: Notebooks whose results count patients by subgroup (Table 1, response, CRS, survival).
COUNTING_NOTEBOOKS = (
    "01_cohort_description",
    "03_response_by_subgroup",
    "04_crs_analysis",
    "08_time_to_event",
)


def counting_notebooks(folder: Path) -> Path:
    """A copy of the notebooks that count patients, in ``folder/notebooks``, for ``--notebooks``."""
    notebooks = folder / "notebooks"
    notebooks.mkdir()
    for stem in COUNTING_NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{stem}.ipynb", notebooks)
    return notebooks


@functools.cache
def session_fork_server() -> str:
    """The socket of this test process's fork server (``pipeline.kernels``), started on first use
    and ending with the process: nbval's kernels and the shared runs fork from it, so the analysis
    packages are imported once per process (blank where kernels cannot be forked)."""
    from pipeline import kernels

    if not kernels.available():
        return ""
    server = kernels.ForkServer()
    atexit.register(server.close)
    return server.address


def with_session_fork_server() -> dict[str, str]:
    """This process's environment, naming :func:`session_fork_server` to the runs it starts."""
    from pipeline.kernels import SERVER_VARIABLE

    return {**os.environ, SERVER_VARIABLE: session_fork_server()}


def pipeline_command(*args: str) -> list[str]:
    """The command line ``python -m pipeline ARGS`` with this interpreter."""
    return [sys.executable, "-m", "pipeline", *args]


def run_cli(
    *args: str, cwd: Path = ROOT, timeout: int = 1800, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m pipeline ARGS`` in a process of its own, output captured."""
    return subprocess.run(
        pipeline_command(*args), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def session_folder(tmp_path_factory) -> Path:
    """A folder all xdist workers of this session see (their common parent), new each session."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared"
    folder.mkdir(exist_ok=True)
    return folder


def shared(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` once per session for all workers; returns the folder it filled.

    A failure is recorded, so the other workers fail at once with its message
    instead of repeating a long run.
    """
    root = session_folder(tmp_path_factory)
    folder, failure = root / name, root / f"{name}.failure"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if failure.exists():
            pytest.fail(f"making the shared {name} failed in another worker: {failure.read_text()}")
        if not folder.exists():
            try:
                make(folder)
            except BaseException as err:
                failure.write_text(f"{type(err).__name__}: {err}"[-5000:])
                raise
    return folder


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file below ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run_all(data: Path, out: Path, *options: str) -> None:
    """``python -m pipeline run`` of every notebook on ``data`` into ``out``, its kernels forked
    from :func:`session_fork_server`; fails the caller unless the run completes."""
    args = ("run", "--data", str(data), "--out", str(out), *options)
    done = run_cli(*args, env=with_session_fork_server())
    assert done.returncode == 0, done.stderr[-3000:]


def run_shipped(out: Path) -> None:
    """A run of every notebook on the shipped cohort into ``out``."""
    _run_all(SHIPPED_COHORT, out)


#: For runs whose tests never read the bootstrap or the sample-size search: 50 resamples and
#: cohorts up to 100 instead of 1,000 and 500 (about a fifth of a run's processor time).
LIGHT_SETTINGS = {"bootstrap_samples": 50, "power_n_max": 100}
#: The same as ``run -p`` options.
LIGHT = tuple(arg for name, value in LIGHT_SETTINGS.items() for arg in ("-p", name, str(value)))


#: A data file name and a study name that would run in a browser if a page inserted them as HTML.
HOSTILE_NAME = "<img src=x onerror=alert(42)>"
HOSTILE_STUDY = "<script>alert(42)</script>"


def followup_cohort(run: Path) -> Path:
    """The cohort file of the follow-up share run ``run``, named :data:`HOSTILE_NAME`."""
    return run.parent / f"{HOSTILE_NAME}.csv"


def hostile_comparators(run: Path) -> Path:
    """The comparator table of the follow-up share run ``run``: every study name prefixed by
    :data:`HOSTILE_STUDY`."""
    return run.parent / "hostile_comparators.csv"


def run_followup_share(out: Path) -> None:
    """A share run (``--share``) of a 40-patient synthetic cohort with follow-up, in ``out``.

    Someone else's data under a hostile name: the cohort file (:func:`followup_cohort`) is
    named by an HTML payload and the comparator table's study names carry a script tag
    (:func:`hostile_comparators`), both in ``out.parent``.
    """
    import pandas as pd

    cohort = followup_cohort(out)
    made = run_cli("synth", "--n", "40", "--seed", "3", "--follow-up", "--out", str(cohort))
    assert made.returncode == 0, made.stderr[-3000:]
    comparators = pd.read_csv(
        ROOT / "data" / "historic_comparators.csv", dtype=str, keep_default_na=False
    )
    comparators["study"] = HOSTILE_STUDY + comparators["study"]
    comparators.to_csv(hostile_comparators(out), index=False)
    comparator = ("-p", "comparator_file", str(hostile_comparators(out)))
    _run_all(cohort, out, "--share", "--workers", "1", *comparator, *LIGHT)


def run_shipped_share(out: Path) -> None:
    """A share run (``--share``) of every notebook on the shipped cohort into ``out``."""
    _run_all(SHIPPED_COHORT, out, "--share", "--workers", "1", *LIGHT)
