"""Tests of the command line ``python -m helpers validate FILE``.

Contract (README / Makefile): the report is printed, the exit status is 0 for
a valid file and 2 for an invalid one, and the file is never changed.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "valid_small.csv"
CORPUS = ROOT / "tests" / "bad_inputs"
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"


def run_validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(("path", "status", "first_line"), [
    (VALID, 0, f"{VALID}: valid (8 patients)"),
    (CORPUS / "several_problems.csv", 2, f"{CORPUS / 'several_problems.csv'}: 4 problems in 8 rows"),
    (CORPUS / "semicolon.csv", 2, f"{CORPUS / 'semicolon.csv'}: 1 problem"),
])
def test_validate_command_prints_the_report_and_exits_0_when_valid_and_2_when_not(path, status, first_line):
    before = sha256(path)
    result = run_validate(path)
    assert result.returncode == status, result.stderr
    assert result.stdout.splitlines()[0] == first_line
    assert sha256(path) == before


def test_validate_command_names_the_line_patient_column_and_value_of_a_bad_cell():
    result = run_validate(CORPUS / "age_17.csv")
    assert result.returncode == 2
    assert "line 6 (patient P05), column age_years: '17' is not allowed" in result.stdout


def test_validate_command_accepts_the_shipped_reconstructed_cohort():
    before = sha256(SHIPPED)
    result = run_validate(SHIPPED)
    assert result.returncode == 0, result.stdout
    assert sha256(SHIPPED) == before


def test_an_interrupt_before_any_sub_command_starts_exits_130_without_a_traceback(monkeypatch, capsys):
    import helpers.__main__ as cli
    import helpers.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    # Keep the test process's own signal handlers; interrupt right after they would be set.
    monkeypatch.setattr(helpers.pipeline, "install_interrupt_handlers", lambda: None)
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["validate", str(VALID)]) == 130
    assert capsys.readouterr().err == "interrupted\n"
