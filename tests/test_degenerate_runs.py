"""Degenerate but valid cohorts run notebooks 03, 04 and 08 to the end, saying so where there is nothing to show.

The corpus (tests/degenerate_cohorts.py) is run through every code cell of each
notebook in this process (no kernel, so the whole corpus takes seconds per
case), and one case goes through the real pipeline (papermill kernels,
``python -m pipeline run`` restricted to a folder holding the two notebooks).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from degenerate_cohorts import CASES, FOLLOW_UP_CASES, write_corpus
from run_inprocess import NOTEBOOKS, execute
from shared_runs import session_fork_server

from helpers.loading import validate_file
from pipeline.__main__ import main
from pipeline.kernels import SERVER_VARIABLE

pytestmark = pytest.mark.slow

NOTEBOOK_NAMES = ("03_response_by_subgroup", "04_crs_analysis")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("degenerate"))


@pytest.mark.parametrize("case", list(CASES))
def test_every_degenerate_cohort_is_valid(corpus, case):
    assert validate_file(corpus[case]).ok, validate_file(corpus[case]).format()


@pytest.mark.parametrize("notebook", NOTEBOOK_NAMES)
@pytest.mark.parametrize("case", list(CASES))
def test_a_degenerate_cohort_runs_the_notebook_to_its_results(corpus, case, notebook, tmp_path):
    run = execute(notebook, data_path=corpus[case], output_dir=tmp_path)
    written = pd.read_csv(tmp_path / "results" / f"{notebook}.csv")
    assert len(written) and written["key"].is_unique
    assert all("nan" not in text and "(s)" not in text for text in run["_markdown"])


def test_without_blast_values_notebook_03_says_figure_1_cannot_be_drawn(corpus, tmp_path):
    run = execute(
        "03_response_by_subgroup", data_path=corpus["no_blast_values"], output_dir=tmp_path
    )
    assert (
        "No patient has blasts before debulking recorded, so this figure cannot be drawn."
        in run["_markdown"]
    )
    assert not (tmp_path / "figures" / "figure1_response_by_baseline_blasts.png").exists()


def test_without_crs_notebook_04_says_there_are_no_grades(corpus, tmp_path):
    run = execute("04_crs_analysis", data_path=corpus["no_crs"], output_dir=tmp_path)
    assert "No patient had CRS, so there are no grades to show." in run["_markdown"]


def test_the_pipeline_runs_both_notebooks_on_a_single_patient_without_cr(
    corpus, tmp_path, monkeypatch
):
    monkeypatch.setenv(SERVER_VARIABLE, session_fork_server())  # kernels forked, as in a run
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in NOTEBOOK_NAMES:
        shutil.copy(NOTEBOOKS / f"{name}.ipynb", notebooks)
    out = tmp_path / "run"
    status = main(
        [
            "run",
            "--data",
            str(corpus["single_patient_no_cr"]),
            "--out",
            str(out),
            "--notebooks",
            str(notebooks),
            "--workers",
            "1",
        ]
    )
    assert status == 0
    for name in NOTEBOOK_NAMES:
        assert (out / "results" / f"{name}.csv").exists()


#: Follow-up case -> sentences notebook 08 must show for the models it leaves out.
NO_BURDEN_COX = (
    "No Cox model for tumour burden: it needs patients in both burden groups and a death in each."
)
NO_VARYING = "No time-varying model: it needs transplanted time, untransplanted time and a death."
LEFT_OUT = {
    "follow_up_no_deaths": [NO_BURDEN_COX, NO_VARYING],
    "follow_up_one_patient": [],
    "follow_up_three_patients": [NO_VARYING],
    "follow_up_centre_of_six": [NO_VARYING],
    "follow_up_centre_of_two": [NO_VARYING],
}


@pytest.fixture(scope="module")
def follow_up_corpus(tmp_path_factory) -> dict[str, Path]:
    return write_corpus(tmp_path_factory.mktemp("follow_up"), list(FOLLOW_UP_CASES))


@pytest.mark.parametrize("case", list(FOLLOW_UP_CASES))
def test_notebook_08_leaves_out_a_model_it_cannot_estimate_with_a_sentence_and_writes_its_results(
    follow_up_corpus, case, tmp_path
):
    assert validate_file(follow_up_corpus[case]).ok, validate_file(follow_up_corpus[case]).format()
    run = execute("08_time_to_event", data_path=follow_up_corpus[case], output_dir=tmp_path)
    shown = "\n".join([*run["_markdown"], run["_printed"]])
    for sentence in LEFT_OUT[case]:
        assert sentence in shown, f"missing {sentence!r}"
    written = pd.read_csv(tmp_path / "results" / "08_time_to_event.csv").set_index("key")
    followed = pd.read_csv(follow_up_corpus[case])["os_months"].notna().sum()
    assert written.loc["follow_up.available[all]", "numerator"] == followed
    if NO_BURDEN_COX in LEFT_OUT[case]:
        assert "cox_os[high_burden].hr" not in written.index
