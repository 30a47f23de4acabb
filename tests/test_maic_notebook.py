"""Notebook 09 on the shipped cohort, on cohorts the adjustment cannot carry, and in a share run.

Each cohort is derived from data/reconstructed_cohort.csv, passes the loader, and runs through
every code cell in this process (tests/run_inprocess.py); an exception anywhere fails the test.
The degenerate cohorts must end in a sentence saying why, and in one results row saying the
comparison is not available (the report's notebook list shows it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from run_inprocess import execute

from helpers import loading

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOK = "09_population_adjusted_comparison"
KEY = "maic[tower_cr_crh_cri_phneg]"


def _shipped() -> pd.DataFrame:
    return pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)


def _run(tmp_path: Path, rows: pd.DataFrame, **parameters) -> tuple[str, pd.DataFrame]:
    data = tmp_path / "cohort.csv"
    rows.to_csv(data, index=False)
    loading.load_cohort(data)  # every case is valid under the data contract
    run = execute(
        NOTEBOOK, data_path=data, output_dir=tmp_path / "out", bootstrap_samples=40, **parameters
    )
    text = "\n".join([*run["_markdown"], run["_printed"]])
    return text, pd.read_csv(tmp_path / "out" / "results" / f"{NOTEBOOK}.csv").set_index("key")


def _men_transplanted(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(prior_hsct=(rows["sex"] == "male").map({True: "yes", False: "no"}))


@pytest.mark.parametrize(
    "make, parameters, sentence",
    [
        (
            lambda: _shipped().assign(ph_status="positive", debulking_category="tki"),
            {},
            "No patient of the population has every matched characteristic recorded",
        ),
        (lambda: _shipped().assign(sex="male"), {}, "Every patient has the same male sex"),
        (lambda: _shipped().assign(bmb_baseline_pct=""), {}, "No patient of the population"),
        (
            lambda: _men_transplanted(_shipped()),
            {"maic_characteristics": "male,prior_hsct"},
            "together lie outside what any positive weights",
        ),
        (
            _shipped,
            {"maic_pairing": "alcantara_cr_crh_phpos"},
            "ALCANTARA (blinatumomab arm) has no published age",
        ),
    ],
    ids=[
        "no Ph- patient",
        "no variation in sex",
        "no blast counts",
        "unreachable together",
        "no published baseline",
    ],
)
def test_a_cohort_the_adjustment_cannot_carry_ends_in_a_sentence_and_an_unavailable_row(
    tmp_path, make, parameters, sentence
):
    text, res = _run(tmp_path, make(), **parameters)
    assert "**No adjusted comparison:** " in text and sentence in text, text[-600:]
    row = res.loc["maic.available[all]"]
    assert row["estimate"] == 0 and row["method"].startswith("not available for this data: ")
    assert sentence in row["method"]
    assert not [k for k in res.index if k.startswith("maic[")]


def test_on_the_shipped_cohort_the_weighted_means_equal_towers_and_the_rows_are_written(tmp_path):
    text, res = _run(tmp_path, _shipped())
    for characteristic, trial in [
        ("age_mean", 40.8),
        ("prior_hsct", 94 / 271),
        ("blasts_ge50", 201 / 271),
    ]:
        assert res.loc[f"{KEY}.balance[{characteristic}].after", "estimate"] == pytest.approx(
            trial, abs=1e-9
        )
        assert res.loc[f"{KEY}.balance[{characteristic}].trial", "estimate"] == pytest.approx(
            trial, abs=1e-9
        )
    # the same values as tests/test_maic.py's R reference (optim BFGS on the 21 Ph- patients)
    assert res.loc[f"{KEY}.ess", "estimate"] == pytest.approx(9.45813804, rel=1e-7)
    assert res.loc[f"{KEY}.rate", "estimate"] == pytest.approx(0.61055086, rel=1e-7)
    assert res.loc[f"{KEY}.risk_difference", "estimate"] == pytest.approx(
        0.61055086 - 119 / 271, rel=1e-6
    )
    assert res.loc[f"{KEY}.unadjusted", ["numerator", "denominator"]].tolist() == [14, 21]
    assert "Effective sample size: 9.5" in text


def test_a_share_run_hides_small_counts_and_draws_bars_of_at_least_min_cell_patients(tmp_path):
    text, _ = _run(tmp_path, _shipped(), share_safe=True, min_cell=5)
    assert (
        not re.search(r"(?<!\d)4/21", text) and "<5/20" in text
    )  # first salvage: 4 of the 21 Ph- patients (21 shown rounded)
    assert "aggregate view (share run): bars of at least 5 patients" in text
    balance = pd.read_csv(tmp_path / "out" / "tables" / "maic_balance.csv")
    assert "<5/20 (–)" in balance["Cohort before"].tolist()


def test_a_share_run_records_the_counts_behind_the_balance_so_small_ones_are_hidden(tmp_path):
    _, res = _run(tmp_path, _shipped(), share_safe=True)
    before = res.loc[f"{KEY}.balance[salvage_first].before"]
    assert (before["numerator"], before["denominator"]) == (
        4,
        21,
    )  # suppress_result_files blanks its estimate
    assert res.loc[f"{KEY}.balance[male].before", "numerator"] == 13
