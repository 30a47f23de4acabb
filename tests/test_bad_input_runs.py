"""A run on a malformed cohort stops before any notebook, with the validate message.

Table-driven over the bad-input corpus (tests/bad_inputs/cases.csv): once
in-process (``run_analysis``, with papermill made to fail if it is ever
called), and once through the command line (``python -m pipeline run`` and
``python -m pipeline validate``) in one driver subprocess that loops over every
file, started from a folder outside the repository.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from run_inprocess import refuse_notebook_runs

from helpers.loading import validate_file
from pipeline.run import PipelineError, run_analysis

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = pd.read_csv(CORPUS / "cases.csv", dtype=str, keep_default_na=False)
INVALID = CASES.loc[CASES["accepted"] == "no", "file"].tolist()

# Runs both commands through pipeline.__main__.main for every file, capturing what
# each prints, with papermill.execute_notebook replaced by a function that records
# the call: the same code path as `python -m pipeline run`, one interpreter start.
_DRIVER = r"""
import contextlib, io, json, sys
import papermill
calls = []
papermill.execute_notebook = lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(
    AssertionError("a notebook was executed"))
from pipeline.__main__ import main
files, out_root = json.loads(sys.argv[1]), sys.argv[2]
found = {}
for i, name in enumerate(files):
    run_err, val_out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(run_err), contextlib.redirect_stdout(io.StringIO()):
        run_status = main(["run", "--data", name, "--out", f"{out_root}/run{i}"])
    with contextlib.redirect_stdout(val_out):
        val_status = main(["validate", name])
    found[name] = {"run_status": run_status, "run_stderr": run_err.getvalue(),
                   "validate_status": val_status, "validate_stdout": val_out.getvalue()}
print(json.dumps({"cases": found, "notebook_calls": len(calls)}))
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def no_notebook_may_run(monkeypatch):
    refuse_notebook_runs(monkeypatch)


@pytest.mark.parametrize("name", INVALID)
def test_a_run_on_a_malformed_file_exits_2_with_the_validate_report_and_writes_nothing(
    tmp_path, name, no_notebook_may_run
):
    bad = CORPUS / name
    before = digest(bad)
    out = tmp_path / "run"
    with pytest.raises(PipelineError) as caught:
        run_analysis(bad, out, progress=False)
    assert caught.value.exit_status == 2
    assert str(caught.value) == validate_file(bad).format()
    assert list(tmp_path.iterdir()) == []
    assert digest(bad) == before


@pytest.mark.slow
def test_the_run_command_on_every_malformed_file_prints_error_and_the_validate_report(tmp_path):
    before = {name: digest(CORPUS / name) for name in INVALID}
    workdir = tmp_path / "elsewhere"  # not the repository: the CLI must not depend on cwd
    workdir.mkdir()
    out_root = tmp_path / "runs"
    out_root.mkdir()
    files = [str(CORPUS / name) for name in INVALID]
    done = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(files), str(out_root)],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["notebook_calls"] == 0
    for path in files:
        case = found["cases"][path]
        assert case["validate_status"] == 2, path
        assert case["run_status"] == 2, path
        assert case["run_stderr"] == "error: " + case["validate_stdout"], path
    assert list(out_root.iterdir()) == [] and list(workdir.iterdir()) == []
    assert {name: digest(CORPUS / name) for name in INVALID} == before


def test_ten_megabytes_of_junk_is_refused_before_any_notebook(tmp_path, no_notebook_may_run):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * (10 * 1024 * 1024 // 256))
    before = digest(junk)
    with pytest.raises(PipelineError) as caught:
        run_analysis(junk, tmp_path / "run", progress=False)
    assert caught.value.exit_status == 2
    assert str(caught.value) == validate_file(junk).format()
    assert "junk.csv" in str(caught.value) and "binary" in str(caught.value)
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()
    assert digest(junk) == before
