"""A run on a malformed cohort stops before any notebook, with the validate message.

Table-driven over the bad-input corpus (tests/bad_inputs/cases.csv). Runs
in-process (one CLI run is covered in test_pipeline.py) to keep the suite fast.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from helpers.loading import validate_file
from helpers.pipeline import PipelineError, run_analysis

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
CASES = pd.read_csv(CORPUS / "cases.csv", dtype=str, keep_default_na=False)
INVALID = CASES.loc[CASES["accepted"] == "no", "file"].tolist()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", INVALID)
def test_a_run_on_a_malformed_file_exits_2_with_the_validate_report_and_writes_nothing(tmp_path, name):
    bad = CORPUS / name
    before = digest(bad)
    out = tmp_path / "run"
    with pytest.raises(PipelineError) as caught:
        run_analysis(bad, out, progress=False)
    assert caught.value.exit_status == 2
    assert str(caught.value) == validate_file(bad).format()
    assert list(tmp_path.iterdir()) == []
    assert digest(bad) == before


def test_ten_megabytes_of_junk_is_refused_before_any_notebook(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(bytes(range(256)) * (10 * 1024 * 1024 // 256))
    with pytest.raises(PipelineError) as caught:
        run_analysis(junk, tmp_path / "run", progress=False)
    assert caught.value.exit_status == 2 and "junk.csv" in str(caught.value)
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.partial").exists()
