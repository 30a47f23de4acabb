"""Notebook 10 (outcomes by centre) on small cohorts, run in-process: rates keyed by centre,
the heterogeneity test, the funnel plot, and one sentence when there is nothing to compare.

R references (R 4.2), the shipped cohort with its first 10 patients in centre RM, the next
14 in MI and the last 10 without a centre (CR: MI 8/14, RM 9/10, not recorded 6/10):

    fisher.test(rbind(c(8, 6), c(9, 1)))$p.value   # 0.171780736426
    binom.test(8, 14)$conf.int                     # 0.28860940 0.82338891
    binom.test(6, 10)$conf.int                     # 0.2623780766 0.8784477419
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from PIL import Image
from run_inprocess import execute

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOK = "10_outcomes_by_centre"


def cohort_with_centres(tmp_path: Path, centres: list[str]) -> Path:
    frame = pd.read_csv(SHIPPED, dtype=str, keep_default_na=False)
    frame["center"] = centres
    path = tmp_path / "cohort.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def two_centres(tmp_path_factory):
    folder = tmp_path_factory.mktemp("by-centre")
    data = cohort_with_centres(folder, ["RM"] * 10 + ["MI"] * 14 + [""] * 10)
    ns = execute(NOTEBOOK, data_path=data, output_dir=folder / "out", figures=True)
    rows = pd.read_csv(folder / "out" / "results" / f"{NOTEBOOK}.csv").set_index("key")
    return ns, rows, folder / "out"


@pytest.mark.parametrize(
    ("key", "numerator", "denominator", "low", "high"),
    [
        ("any_cr[center=MI]", 8, 14, 0.28860940, 0.82338891),
        ("any_cr[center=RM]", 9, 10, None, None),
        ("any_cr[center=missing]", 6, 10, 0.2623780766, 0.8784477419),
    ],
)
def test_cr_is_recorded_for_every_centre_and_for_the_patients_without_one(
    two_centres, key, numerator, denominator, low, high
):
    row = two_centres[1].loc[key]
    assert (row["numerator"], row["denominator"]) == (numerator, denominator)
    if low is not None:
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((low, high), rel=1e-7)


def test_the_centres_are_compared_by_fishers_exact_test_without_the_patients_lacking_a_centre(
    two_centres,
):
    rows = two_centres[1]
    assert rows.loc["any_cr[center]~fisher", "p_value"] == pytest.approx(0.171780736426, rel=1e-9)
    assert {"mrd_negative[center]~fisher", "crs[center]~fisher", "any_cr[center].i_squared"} <= set(
        rows.index
    )


def test_the_funnel_plot_and_the_tables_by_centre_are_written(two_centres):
    ns, _, out = two_centres
    alt = Image.open(out / "figures" / "funnel_cr_by_centre.png").text["Description"]
    assert "CR rate of 2 centres" in alt and "99.8%" in alt
    table = pd.read_csv(out / "tables" / "outcomes_by_centre.csv")
    assert "Centre not recorded" in set(table["Centre"]) and "All patients" in set(table["Centre"])
    assert list(ns["table1_centres"].columns[2:]) == [
        "All patients (N=34)",
        "MI (N=14)",
        "RM (N=10)",
        "Centre not recorded (N=10)",
    ]


@pytest.mark.parametrize(
    ("centres", "reason"),
    [
        ([""] * 34, "has no centre codes"),
        (["C1"] * 30 + [""] * 4, "names a single centre (C1)"),
    ],
)
def test_without_two_centres_the_notebook_says_why_in_one_sentence_and_records_it(
    tmp_path, centres, reason
):
    ns = execute(
        NOTEBOOK, data_path=cohort_with_centres(tmp_path, centres), output_dir=tmp_path / "out"
    )
    said = [m for m in ns["_markdown"] if "not available for this data" in m]
    assert len(said) == 1 and reason in said[0] and said[0].count(". ") == 0
    rows = pd.read_csv(tmp_path / "out" / "results" / f"{NOTEBOOK}.csv")
    assert list(rows["key"]) == ["by_centre.available[all]"] and rows["estimate"].iloc[0] == 0
    assert not (tmp_path / "out" / "figures").exists()


def test_a_share_run_hides_small_centres_counts_and_draws_only_the_rates_it_may_show(tmp_path):
    from helpers.figures import AGGREGATE_VIEW

    data = cohort_with_centres(tmp_path, ["RM"] * 10 + ["MI"] * 14 + ["TO"] * 3 + [""] * 7)
    ns = execute(
        NOTEBOOK,
        data_path=data,
        output_dir=tmp_path / "out",
        share_safe=True,
        min_cell=5,
        figures=True,
    )
    shown = pd.read_csv(
        tmp_path / "out" / "tables" / "outcomes_by_centre.csv", dtype=str, keep_default_na=False
    )
    cr = shown[shown.index < 5].set_index("Centre")[
        "n/N (%)"
    ]  # the CR block: all patients, then the centres
    # a share run hides counts 1-4 and rounds the others to a multiple of 5, rates from the rounded counts
    assert cr["TO"] == "<5/<5 (–)"  # a centre of 3 patients
    assert cr["RM"] == "10/10 (100.0%)"  # 9/10, rounded
    assert cr["MI"] == "10/15 (66.7%)"  # 8/14, rounded
    table1 = ns["table1_centres"]  # sizes 34, 14, 10, 3, 7
    assert list(table1.columns[2:]) == [
        "All patients (N=35)",
        "MI (N=15)",
        "RM (N=10)",
        "TO (N=<5)",
        "Centre not recorded (N=5)",
    ]
    assert set(table1["TO (N=<5)"]) == {"–"}
    alt = Image.open(tmp_path / "out" / "figures" / "funnel_cr_by_centre.png").text["Description"]
    assert AGGREGATE_VIEW in alt
    drawn = set(ns["drawn"]["level"])
    assert drawn == {"MI", "RM"}  # a centre below k is not drawn
