"""Tests of the command line ``python -m pipeline validate FILE`` and of its start-up.

Contract (README / Makefile): the report is printed, the exit status is 0 for
a valid file and 2 for an invalid one, and the file is never changed. Help,
usage errors and ``validate`` do not import the notebook machinery.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import pipeline.__main__ as cli

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "valid_small.csv"
CORPUS = ROOT / "tests" / "bad_inputs"
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOK_MACHINERY = (
    "pipeline.run",
    "nbformat",
    "papermill",
    "nbconvert",
    "jsonschema",
    "nbclient",
)


@pytest.fixture(autouse=True)
def keep_signal_handlers(monkeypatch):
    # main() installs the command line's handlers; the test process keeps its own.
    monkeypatch.setattr(cli, "install_interrupt_handlers", lambda: None)


def run_validate(path: Path, capsys) -> tuple[int, str]:
    status = cli.main(["validate", str(path)])
    return status, capsys.readouterr().out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("path", "status", "first_line"),
    [
        (VALID, 0, f"{VALID}: valid (8 patients)"),
        (
            CORPUS / "several_problems.csv",
            2,
            f"{CORPUS / 'several_problems.csv'}: 4 problems in 8 rows",
        ),
        (CORPUS / "semicolon.csv", 2, f"{CORPUS / 'semicolon.csv'}: 1 problem"),
    ],
)
def test_validate_command_prints_the_report_and_exits_0_when_valid_and_2_when_not(
    path, status, first_line, capsys
):
    before = sha256(path)
    found, out = run_validate(path, capsys)
    assert found == status
    assert out.splitlines()[0] == first_line
    assert sha256(path) == before


def test_validate_command_names_the_line_patient_column_and_value_of_a_bad_cell(capsys):
    status, out = run_validate(CORPUS / "age_17.csv", capsys)
    assert status == 2
    assert "line 6 (patient P05), column age_years: '17' is not allowed" in out


def test_validate_command_accepts_the_shipped_reconstructed_cohort(capsys):
    before = sha256(SHIPPED)
    status, out = run_validate(SHIPPED, capsys)
    assert status == 0, out
    assert sha256(SHIPPED) == before


def test_an_interrupt_before_any_sub_command_starts_exits_130_without_a_traceback(
    monkeypatch, capsys
):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["validate", str(VALID)]) == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize(
    ("argv", "status", "stream", "words"),
    [
        (["--help"], 0, "out", "usage: python -m pipeline"),
        (["run", "--help"], 0, "out", "--cell-timeout"),
        ([], 2, "err", "the following arguments are required"),
        (["validat"], 2, "err", "invalid choice: 'validat'"),
        (["run", "--workers", "0"], 2, "err", "must be at least 1, got 0"),
    ],
)
def test_help_and_usage_errors_return_their_status_from_main(argv, status, stream, words, capsys):
    assert cli.main(argv) == status
    assert words in getattr(capsys.readouterr(), stream)


def test_a_missing_file_is_a_one_line_error_not_a_traceback(tmp_path, capsys):
    status, out = run_validate(tmp_path / "nope.csv", capsys)
    assert status == 2 and "nope.csv" in out


_IMPORTS_OF = r"""
import contextlib, io, json, sys
from pipeline.__main__ import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


@pytest.mark.parametrize(
    ("argv", "status"),
    [(["--help"], 0), (["run", "--no-such-option"], 2), (["validate", str(SHIPPED)], 0)],
)
def test_help_usage_errors_and_validate_do_not_import_the_notebook_machinery(argv, status):
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_OF, *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["status"] == status
    assert [m for m in NOTEBOOK_MACHINERY if m in found["modules"]] == []
    if argv[0] != "validate":
        assert "pandas" not in found["modules"]


def test_a_reader_that_closes_the_pipe_early_ends_validate_quietly_without_a_traceback():
    # `validate FILE | head -c 10`: the report is longer than what the reader takes.
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "validate", str(CORPUS / "several_problems.csv")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(10)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    status = proc.wait(timeout=120)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert status in (0, 2, 141)


# --- validate FILE --fix-codes OUT ---------------------------------------------------------

# Accepted variants of tests/fixtures/valid_small.csv (tests/bad_inputs/make_corpus.py builds them
# from it): the normalised copy is that clean file byte for byte.
FIXES_TO_VALID = {
    "mixed_case_padded.csv": [  # make_corpus.py: upper/mixed case, padded codes, true/1, '18.0'
        "column sex: 'Male' -> 'male' on line 2",
        "column response: ' CR ' -> 'cr' on line 2",
        "column prior_hsct: 'YES' -> 'yes' on line 3",
        "column hsct_after_blina: 'False' -> 'no' on line 4",
        "column crs: '1' -> 'yes' on line 5",
        "column age_years: '18.0' -> '18' on line 6",
        "column source: ' PAAP' -> 'paap' on line 7",
        "column crs: 'TRUE' -> 'yes' on line 8",
    ],
    "bom.csv": [],
    "blank_lines.csv": [],
    "trailing_comma.csv": [],
    "valid.xlsx": [],
    "hidden_first_sheet.xlsx": [],
    "readme_then_cohort.xlsx": [],
}


def fix_codes(source: Path, out: Path, capsys) -> tuple[int, str, str]:
    status = cli.main(["validate", str(source), "--fix-codes", str(out)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(("name", "fixes"), FIXES_TO_VALID.items(), ids=list(FIXES_TO_VALID))
def test_fix_codes_writes_the_contract_form_of_each_accepted_variant_and_lists_every_change(
    name, fixes, tmp_path, capsys
):
    source, out = CORPUS / name, tmp_path / "fixed.csv"
    before = sha256(source)
    status, printed, _ = fix_codes(source, out, capsys)
    assert status == 0, printed
    assert out.read_bytes() == VALID.read_bytes()
    assert [line[4:] for line in printed.splitlines() if line.startswith("  - column ")] == fixes
    assert f"the copy validates: {out}: valid (8 patients)" in printed
    assert sha256(source) == before


@pytest.mark.parametrize(
    ("source", "out", "words"),
    [
        (VALID, "input", "never writes the input"),
        (VALID, "existing", "already exists"),
        (VALID, "fixed.xlsx", "name the copy with .csv"),
        (CORPUS / "unknown_code.csv", "fixed.csv", "nothing written"),
    ],
    ids=["out is the input", "out exists", "out not csv", "input invalid"],
)
def test_fix_codes_refuses_to_write_the_input_an_existing_file_or_a_copy_of_an_invalid_file(
    source, out, words, tmp_path, capsys
):
    work = tmp_path / source.name
    work.write_bytes(source.read_bytes())
    existing = tmp_path / "existing.csv"
    existing.write_text("keep me", encoding="utf-8")
    target = {"input": work, "existing": existing}.get(out, tmp_path / out)
    files_before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    status, printed, err = fix_codes(work, target, capsys)
    assert status == 2
    assert words in printed + err
    assert {
        p.name: p.read_bytes() for p in tmp_path.iterdir()
    } == files_before  # the input's bytes unchanged
