"""Every parameter a run is given is checked before any notebook starts (in-process, no kernel).

Repeated ``-p`` names, text parameters holding lists (groupings, rates, months), the comparator
tables and their reference row, the share run's ``min_cell`` and the parameter file itself
(byte-order mark, a pipe) are refused with exit status 2 and one line naming the parameter or
file, the value and what is allowed; papermill is made to fail if it is ever called.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from run_inprocess import keep_signal_handlers, refuse_notebook_runs

from helpers.parameters import (
    ParameterError,
    check_parameters,
    groupings,
    read_params_file,
)
from pipeline.__main__ import main
from pipeline.parameters import coerce_parameters

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"


@pytest.fixture(autouse=True)
def in_process_and_no_notebook_may_run(monkeypatch):
    keep_signal_handlers(monkeypatch)
    refuse_notebook_runs(monkeypatch)


def refused(capsys, tmp_path, *argv: str) -> str:
    """``python -m pipeline run`` in-process on the shipped cohort; its one-line message (exit 2)."""
    status = main(["run", "--data", str(COHORT), "--out", str(tmp_path / "run"), *argv])
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "run.failed").exists()
    return err


def test_a_parameter_given_twice_is_refused_naming_both_values():
    declared = {"nb": {"bmb_high_cutoff": {"type": "int"}}}
    with pytest.raises(
        ParameterError,
        match=r"'bmb_high_cutoff' is given twice \(-p bmb_high_cutoff 40 and "
        r"-p bmb_high_cutoff 60\)",
    ):
        coerce_parameters([("bmb_high_cutoff", "40"), ("bmb_high_cutoff", "60")], declared)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"subgroup_columns": "nosuch"},
            "'nosuch' is not one of the grouping columns: source, sex,",
        ),
        ({"forest_columns": "x;y"}, "'x;y' is not one of the grouping columns"),
        ({"all_tests_for": "high_burden,"}, "a comma-separated list without empty items"),
        (
            {
                "subgroup_columns": "debulking_category,high_burden,bmb_post_group,lines_group,age_group",
                "forest_columns": "high_burden,sex",
            },
            "'sex' is not one of the groupings computed (subgroup_columns): debulking_category, high_burden,",
        ),
        (
            {"subgroup_columns": "sex,high_burden"},
            "it must include debulking_category, bmb_post_group, lines_group, age_group (notebook 03 reports them",
        ),
        ({"power_rates": "abc"}, "'abc' is not a number"),
        (
            {"power_rates": "0.5,1"},
            "'1' is out of range: each true CR rate of the power table must be in (0, 1)",
        ),
        ({"survival_months": "6;12"}, "'6;12' is not a number"),
        ({"survival_months": "-1"}, "'-1' is out of range"),
        ({"survival_months": "nan"}, "'nan' is out of range"),
        ({"min_cell": 1}, "'min_cell' = 1 is out of range: the smallest count a share run shows"),
    ],
)
def test_a_text_or_share_parameter_outside_what_is_allowed_is_refused_naming_value_and_allowed(
    values, message
):
    with pytest.raises(ParameterError, match="is (not allowed|out of range)") as caught:
        check_parameters(values, where="03_response_by_subgroup.ipynb")
    assert message in str(caught.value)
    assert str(caught.value).endswith("(03_response_by_subgroup.ipynb)")


@pytest.mark.parametrize(
    "values",
    [
        {
            "subgroup_columns": "debulking_category,high_burden,bmb_post_group, lines_group,age_group,sex",
            "forest_columns": "sex",
            "all_tests_for": "lines_group",
        },
        {"power_rates": "0.55,0.60,0.65,0.70", "survival_months": "6, 12, 24", "min_cell": 2},
    ],
)
def test_allowed_text_values_pass(values):
    check_parameters(values)


def test_the_groupings_are_the_coded_columns_and_derived_groups_not_the_outcomes_or_follow_up():
    names = groupings()
    assert {"sex", "debulking_category", "high_burden", "bmb_post_split_low", "lines_group"} <= set(
        names
    )
    assert not {
        "any_cr",
        "mrd_negative",
        "mrd_evaluable",
        "age_years",
        "patient_id",
        "os_event",
    } & set(names)


@pytest.mark.slow
def test_notebook_03_runs_with_every_allowed_grouping_at_once_and_reports_each_with_every_test(
    tmp_path,
):
    import pandas as pd
    from run_inprocess import execute

    from helpers.parameters import REPORTED_GROUPINGS

    names = groupings()
    every = ",".join(names)
    values = {
        "subgroup_columns": ",".join(dict.fromkeys([*REPORTED_GROUPINGS, *names])),
        "forest_columns": every,
        "all_tests_for": every,
    }
    check_parameters(values)
    run = execute("03_response_by_subgroup", output_dir=tmp_path, **values)
    keys = set(pd.read_csv(tmp_path / "results" / "03_response_by_subgroup.csv")["key"])
    for name in names:
        assert any(k.startswith(f"any_cr[{name}=") for k in keys), name
        assert {f"any_cr[{name}]~fisher", f"any_cr[{name}]~chi2"} <= keys, name
    assert run["_markdown"]


def _bad_comparators(tmp_path: Path) -> Path:
    path = tmp_path / "not_comparators.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["-p", "bmb_high_cutoff", "40", "-p", "bmb_high_cutoff", "60"],
            "'bmb_high_cutoff' is given twice",
        ),
        (
            ["-p", "subgroup_columns", "nosuch"],
            "parameter 'subgroup_columns' = 'nosuch' is not allowed",
        ),
        (["-p", "forest_columns", "x;y"], "parameter 'forest_columns' = 'x;y' is not allowed"),
        (
            ["-p", "power_rates", "abc"],
            "parameter 'power_rates' = 'abc' is not allowed: 'abc' is not a number",
        ),
        (
            ["-p", "reference_comparator", "nosuch"],
            "parameter 'reference_comparator' = 'nosuch' is not a row of historic_comparators.csv; allowed: ",
        ),
        (
            ["-p", "comparator_file", "BAD"],
            "comparator_file BAD: not a table of historic comparators",
        ),
        (["--share", "-p", "min_cell", "1"], "parameter 'min_cell' = 1 is out of range"),
    ],
)
def test_a_bad_parameter_stops_the_run_before_any_notebook_with_exit_status_2(
    tmp_path, capsys, argv, message
):
    bad = _bad_comparators(tmp_path)
    argv = [str(bad) if a == "BAD" else a for a in argv]
    message = message.replace("BAD", str(bad))
    assert message in refused(capsys, tmp_path, *argv)


def test_a_parameter_file_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "analysis.toml"
    path.write_bytes(b"\xef\xbb\xbfbmb_high_cutoff = 60\n")
    assert read_params_file(path) == {"bmb_high_cutoff": 60}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: os.mkfifo(p), "a pipe, socket or device, not a file"),
        (lambda p: p.mkdir(), "a folder, not a file"),
        (lambda p: p.write_bytes(b"alpha = 0.05\nlabel = '\xff'\n"), "not valid TOML in UTF-8"),
    ],
)
def test_a_parameter_file_that_is_not_a_readable_file_is_refused_at_once(
    tmp_path, capsys, make, message
):
    params = tmp_path / "params.toml"
    make(params)
    err = refused(capsys, tmp_path, "--params", str(params))
    assert f"parameter file {params}: {message}" in err


def test_a_batch_refuses_a_parameter_file_on_a_pipe_without_blocking(tmp_path, capsys):
    params = tmp_path / "params.toml"
    os.mkfifo(params)
    status = main(["batch", str(COHORT), "--out", str(tmp_path / "batch"), "--params", str(params)])
    err = capsys.readouterr().err
    assert status == 2 and f"parameter file {params}: a pipe, socket or device, not a file" in err
    assert not (tmp_path / "batch").exists()
