"""What a run may write, replace or refuse, checked before any notebook runs (in-process, fast).

A run only deletes or replaces what it made; ``--out`` that would destroy a
user's files is refused with exit status 2 and a one-line message, leaving
every file as it was; parameters outside their declared ranges are refused
the same way; a second run on the same ``--out`` fails at once.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from pathlib import Path

import pytest
from run_inprocess import keep_signal_handlers, refuse_notebook_runs

from helpers.parameters import (
    PARAMETER_RELATIONS,
    PARAMETER_RULES,
    ParameterError,
    check_parameters,
)
from pipeline.__main__ import main
from pipeline.parameters import declared_parameters, effective_parameters
from pipeline.run import PipelineError, list_notebooks, run_analysis
from pipeline.rundir import run_lock

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOKS = list_notebooks(ROOT / "notebooks")


@pytest.fixture(autouse=True)
def in_process_and_no_notebook_may_run(monkeypatch):
    keep_signal_handlers(monkeypatch)
    refuse_notebook_runs(monkeypatch)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with the hash of its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        found[rel] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return found


def refused(capsys, *argv: str) -> str:
    """Run ``python -m pipeline run ARGV`` in-process; return its one-line message (exit 2)."""
    status = main(["run", *argv])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def a_study_folder(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    (study / "drafts").mkdir(parents=True)
    (study / "notes.txt").write_text("my notes\n")
    (study / "drafts" / "d1.md").write_text("draft\n")
    shutil.copyfile(COHORT, study / "cohort.csv")
    return study


# --- --out that must never be written or replaced ---------------------------------------


def test_force_never_replaces_a_folder_holding_the_input_or_user_files(tmp_path, capsys):
    study = a_study_folder(tmp_path)
    before = snapshot(tmp_path)
    err = refused(capsys, "--data", str(study / "cohort.csv"), "--out", str(study), "--force")
    assert "holds the input file" in err
    err = refused(capsys, "--data", str(COHORT), "--out", str(study), "--force")
    assert "is not a run directory" in err and "notes" not in err
    assert snapshot(tmp_path) == before


def test_force_never_replaces_the_input_file_itself(tmp_path, capsys):
    study = a_study_folder(tmp_path)
    before = snapshot(tmp_path)
    data = str(study / "cohort.csv")
    err = refused(capsys, "--data", data, "--out", data, "--force")
    assert "is a file, not a folder" in err or "holds the input file" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("out", ["/", "/tmp", "/dev/null", "."])
def test_system_folders_files_and_the_current_folder_are_refused_as_out(
    tmp_path, monkeypatch, capsys, out
):
    monkeypatch.chdir(a_study_folder(tmp_path))
    before = snapshot(tmp_path)
    err = refused(capsys, "--data", str(COHORT), "--out", out, "--force")
    assert any(
        words in err for words in ("root folder", "not a run directory", "a file", "current folder")
    )
    assert snapshot(tmp_path) == before


def test_a_refused_run_leaves_a_users_old_failed_and_partial_siblings_untouched(tmp_path, capsys):
    out = tmp_path / "results"
    for name in ("results", "results.old", "results.failed", "results.partial"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mine.txt").write_text(name)
    before = snapshot(tmp_path)
    err = refused(capsys, "--data", str(COHORT), "--out", str(out))
    assert "already exists" in err
    shutil.rmtree(out)
    before = snapshot(tmp_path)
    err = refused(capsys, "--data", str(COHORT), "--out", str(out))
    assert "results.partial exists" in err and "left as it is" in err
    assert snapshot(tmp_path) == before


def test_a_users_old_folder_alone_is_never_renamed_into_place(tmp_path, capsys):
    (tmp_path / "results.old").mkdir()
    (tmp_path / "results.old" / "mine.txt").write_text("mine")
    before = snapshot(tmp_path)
    bad = ROOT / "tests" / "bad_inputs" / "age_17.csv"
    status = main(["run", "--data", str(bad), "--out", str(tmp_path / "results")])
    assert status == 2 and "age_years" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_a_second_run_on_the_same_out_fails_at_once_while_the_first_holds_the_lock(
    tmp_path, capsys
):
    out = tmp_path / "run"
    with run_lock(out):
        err = refused(capsys, "--data", str(COHORT), "--out", str(out))
        assert f"another run is writing {out}" in err
    assert list(tmp_path.iterdir()) == []  # the lock file goes with the run


def test_an_out_that_cannot_be_written_is_a_one_line_error(tmp_path, capsys):
    if not Path("/sys/class").is_dir():
        pytest.skip("needs Linux's /sys, where no one may create a folder")
    err = refused(capsys, "--data", str(COHORT), "--out", "/sys/helpers-run")
    assert "cannot write the run directory /sys/helpers-run" in err


# --- parameters: declared ranges, checked before anything runs -------------------------


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("age_cutoff", -5, False),
        ("age_cutoff", 0, True),
        ("age_cutoff", 120, True),
        ("age_cutoff", 121, False),
        ("severe_crs_grade", 0, False),
        ("severe_crs_grade", 1, True),
        ("severe_crs_grade", 5, True),
        ("severe_crs_grade", 6, False),
        ("bmb_high_cutoff", 101, False),
        ("bmb_low_cutoff", -1, False),
        ("bmb_low_cutoff", 0, True),
        ("lines_cutoff", -1, False),
        ("lines_cutoff", 0, True),
        ("lines_cutoff", 12, True),
        ("prior_a", 0.0, False),
        ("prior_a", 0.5, True),
        ("prior_b", -1.0, False),
        ("alpha", 0.0, False),
        ("alpha", 1.0, False),
        ("alpha", 0.05, True),
        ("power_target", 1.0, False),
        ("power_target", 0.9, True),
    ],
)
def test_each_numeric_parameter_has_a_declared_range(name, value, allowed):
    if allowed:
        check_parameters({name: value})
    else:
        with pytest.raises(ParameterError, match=f"parameter '{name}' = {value!r} is out of range"):
            check_parameters({name: value})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"bmb_low_cutoff": 60, "bmb_high_cutoff": 50},
            "'bmb_low_cutoff' = 60 must be below 'bmb_high_cutoff' = 50",
        ),
        ({"bmb_low_cutoff": 50, "bmb_high_cutoff": 50}, "'bmb_low_cutoff' = 50 must be below"),
        ({"alpha": 0.9, "power_target": 0.8}, "'alpha' = 0.9 must be below 'power_target' = 0.8"),
    ],
)
def test_related_parameters_must_keep_their_order(values, message):
    with pytest.raises(ParameterError, match=message):
        check_parameters(values)


def test_every_numeric_parameter_of_the_notebooks_has_a_rule_and_its_default_keeps_it():
    for nb in NOTEBOOKS:
        declared = declared_parameters(nb)
        for name, info in declared.items():
            if info["type"] in ("int", "float"):
                assert name in PARAMETER_RULES, f"{nb.name}: {name} has no declared range"
        check_parameters(effective_parameters(declared, {}), where=nb.name)
    names = set(PARAMETER_RULES)
    assert {n for pair in PARAMETER_RELATIONS for n in pair} <= names
    assert all(rule.low < rule.high or math.isinf(rule.high) for rule in PARAMETER_RULES.values())


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["-p", "age_cutoff", "-5"],
            "parameter 'age_cutoff' = -5 is out of range: the age cut-off in years must be in [0, 120]",
        ),
        (["-p", "severe_crs_grade", "0"], "parameter 'severe_crs_grade' = 0 is out of range"),
        (
            ["-p", "bmb_low_cutoff", "60"],
            "parameter 'bmb_low_cutoff' = 60 must be below 'bmb_high_cutoff' = 50",
        ),
        (
            ["-p", "bmb_low_cutoff", "40", "-p", "bmb_high_cutoff", "30"],
            "must be below 'bmb_high_cutoff' = 30",
        ),
    ],
)
def test_a_parameter_out_of_range_stops_the_run_before_any_notebook(
    tmp_path, capsys, argv, message
):
    err = refused(capsys, "--data", str(COHORT), "--out", str(tmp_path / "run"), *argv)
    assert message in err
    assert list(tmp_path.iterdir()) == []


def test_run_analysis_reports_a_parameter_out_of_range_as_bad_input(tmp_path):
    with pytest.raises(PipelineError) as caught:
        run_analysis(COHORT, tmp_path / "run", parameters=[("age_cutoff", "200")], progress=False)
    assert caught.value.exit_status == 2 and "age_cutoff" in str(caught.value)


# --- operating-system errors: one line, an exit status, never a traceback -----------------


def test_a_full_disk_while_writing_the_run_is_a_short_error_and_keeps_the_partial_run(
    tmp_path, monkeypatch, capsys
):
    import errno

    def full(source, target, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(shutil, "copyfile", full)
    status = main(["run", "--data", str(COHORT), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith(
        "error: copying the input files failed: OSError: No space left on device ("
    )
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.failed"]


def test_a_symbolic_link_as_out_is_refused_and_left_as_it_is_with_or_without_force(
    tmp_path, capsys
):
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    for force in ([], ["--force"]):
        err = refused(capsys, "--data", str(COHORT), "--out", str(link), *force)
        assert f"--out {link} is a symbolic link (to {target})" in err
    assert link.is_symlink() and os.readlink(link) == str(target) and list(target.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
