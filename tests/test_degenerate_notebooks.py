"""Notebooks 01, 02 and 05 complete on valid but degenerate cohorts, and say when a section is
empty; all ten complete, in order, on an accepted variant file of eight patients.

Each cohort is derived from data/reconstructed_cohort.csv, passes the loader, and is run
through every code cell of the notebooks in this process (tests/run_inprocess.py; the
kernels of a real run are tested by the pipeline's tests); an exception anywhere fails
the test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from run_inprocess import execute

from helpers import loading

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOKS = ("01_cohort_description", "02_debulking_regimens", "05_historic_comparison")


def _shipped() -> pd.DataFrame:
    return pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)


def _no_cr(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(response="none", mrd_status="", hsct_after_blina="no")


def _all_cr(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(response="cr")


def _no_blasts(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(bmb_baseline_pct="", bmb_post_debulking_pct="")


def _one_category_some_centres_missing(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(
        debulking_category="steroids",
        debulking_regimen="dexamethasone",
        debulking_to_blina_days="",
        center=["", "", "C9"] + ["C8"] * (len(rows) - 3),
    )


ALL = NOTEBOOKS
#: name -> (cohort rows, notebooks run, sentences each notebook must print for its empty sections)
CASES = {
    "single_patient": (lambda: _shipped().iloc[:1], ALL, {}),
    "first_five": (lambda: _shipped().iloc[:5], ALL, {}),
    "no_cr": (
        lambda: _no_cr(_shipped()),
        ("05_historic_comparison",),
        {"05_historic_comparison": ["if the true rate were the observed"]},
    ),
    "all_cr": (
        lambda: _all_cr(_shipped()),
        ("05_historic_comparison",),
        {"05_historic_comparison": ["if the true rate were the observed"]},
    ),
    "no_blast_values": (
        lambda: _no_blasts(_shipped()),
        ALL,
        {
            "01_cohort_description": ["No patient has a blast count before debulking"],
            "02_debulking_regimens": [
                "No patient had a marrow assessment after debulking",
                "No patient had a high tumour burden before debulking",
                "No patient has blasts recorded both before and after debulking",
            ],
            "05_historic_comparison": ["no evaluable cohort patients"],
        },
    ),
    "one_category_some_centres_missing": (
        lambda: _one_category_some_centres_missing(_shipped().iloc[:6]),
        NOTEBOOKS[:2],
        {
            "02_debulking_regimens": [
                "No patient debulked with polychemotherapy has a recorded interval"
            ]
        },
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run every case through its notebooks once; name -> (output dir, {notebook: text shown})."""
    done = {}
    for name, (make, stems, _) in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        data = folder / f"{name}.csv"
        make().to_csv(data, index=False)
        loading.load_cohort(data)  # every case must be valid under the data contract
        texts = {}
        for stem in stems:
            run = execute(stem, data_path=data, output_dir=folder / "out")
            texts[stem] = "\n".join([*run["_markdown"], run["_printed"]])
        done[name] = (folder / "out", texts)
    return done


@pytest.mark.parametrize("case", CASES)
def test_notebooks_complete_on_a_degenerate_cohort_and_say_what_is_empty(runs, case):
    _, texts = runs[case]
    for stem, sentences in CASES[case][2].items():
        for sentence in sentences:
            assert sentence in texts[stem], f"{stem} on {case}: missing {sentence!r}"
    assert set(texts) == set(CASES[case][1])


@pytest.mark.parametrize("case", [c for c in CASES if NOTEBOOKS[0] in CASES[c][1]])
def test_results_count_every_patient_of_a_degenerate_cohort(runs, case):
    out, _ = runs[case]
    n = len(CASES[case][0]())
    res = pd.read_csv(out / "results" / "01_cohort_description.csv").set_index("key")
    assert res.loc["n[sex=male]", "denominator"] == n
    assert (
        res.loc["center.available[all]", "numerator"] + res.loc["center.missing[all]", "numerator"]
        == n
    )


def test_centres_count_distinct_codes_and_report_patients_without_one(runs):
    # six patients coded "", "", C9, C8, C8, C8: two distinct codes, four patients with a code
    res = pd.read_csv(
        runs["one_category_some_centres_missing"][0] / "results" / "01_cohort_description.csv"
    )
    res = res.set_index("key")
    assert res.loc["center.distinct[all]", "numerator"] == 2
    assert pd.isna(res.loc["center.distinct[all]", "denominator"])
    assert res.loc["center.available[all]", ["numerator", "denominator"]].tolist() == [4, 6]
    assert res.loc["center.missing[all]", ["numerator", "denominator"]].tolist() == [2, 6]


def test_two_or_more_previous_lines_are_counted_among_patients_with_a_recorded_number(runs):
    # the first five shipped patients have 1, 2, 1, 3, 3 previous lines: three with two or more
    res = pd.read_csv(runs["first_five"][0] / "results" / "01_cohort_description.csv").set_index(
        "key"
    )
    assert res.loc["prior_lines_ge2[all]", ["numerator", "denominator"]].tolist() == [3, 5]


def test_every_notebook_runs_in_order_on_an_accepted_variant_file_of_eight_patients(tmp_path):
    # mixed-case, padded codes the loader normalises; 8 patients leave subgroups empty
    variant = ROOT / "tests" / "bad_inputs" / "mixed_case_padded.csv"
    before = variant.read_bytes()
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for stem in stems:  # in order: notebook 06 reads what 01-05 wrote
        execute(stem, data_path=variant, output_dir=tmp_path)
    written = sorted(p.stem for p in (tmp_path / "results").glob("*.csv"))
    assert written == stems
    assert variant.read_bytes() == before
