"""Two executions on the same input give identical files.

nbval executes every notebook with its defaults (the shipped cohort, ``outputs/interactive``)
in this session; the session's pipeline run (``shipped_run``) executed them once more. Every
table, figure and results file the run wrote must equal, byte for byte, the one the nbval
execution wrote. conftest.py puts this module in nbval's group, after the notebooks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from conftest import SESSION_START

INTERACTIVE = Path(__file__).resolve().parents[1] / "outputs" / "interactive"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_notebooks_executed_by_nbval_wrote_every_file_of_the_pipeline_run_byte_for_byte(
    shipped_run, request
):
    if not request.config.getoption("nbval", default=False):
        pytest.skip("compares with the files nbval's execution writes: run with --nbval")
    started = request.config.stash[SESSION_START]
    written = [
        p.relative_to(shipped_run)
        for folder in ("tables", "figures", "results")
        for p in sorted((shipped_run / folder).rglob("*"))
        if p.is_file()
    ]
    assert written
    stale = [
        str(rel)
        for rel in written
        if not (INTERACTIVE / rel).is_file() or (INTERACTIVE / rel).stat().st_mtime < started
    ]
    assert stale == [], "not written by this session's nbval execution"
    assert [str(rel) for rel in written if _sha(shipped_run / rel) != _sha(INTERACTIVE / rel)] == []
