"""Notebook 04 (CRS) run in-process on the shipped and a hand-built cohort, and helpers.crs.

References: counts typed from the paper's section 3.3.1 (5 CRS of 34 = 14.7%, one grade 3,
60/0/20/20% of CRS patients and 53.5/21.4/14.2/10.7% of patients without CRS by
debulking category, "all but one" CRS patient with >=50% blasts before and <20% after),
hand counts on small constructed cohorts, the binomial definition of the Clopper-Pearson
limits, and a brute-force Fisher enumeration written here.
"""

from pathlib import Path

import matplotlib
import pandas as pd
import pytest
import reference_exact
from conftest import DEFAULT_PATIENT
from run_inprocess import execute
from scipy import stats as sps

from helpers import crs, published, response_figures

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"

# hand-counted: CRS T01 (grade 1, low-intensity), T02 (grade 3, tki);
# no CRS T03 (steroids), T04 (low-intensity); not recorded T05 (steroids)
SMALL = [
    {
        "crs": "yes",
        "crs_grade": "1",
        "debulking_category": "low_intensity_chemo",
        "debulking_regimen": "vincristine",
        "bmb_baseline_pct": "70",
        "bmb_post_debulking_pct": "5",
    },
    {
        "crs": "yes",
        "crs_grade": "3",
        "debulking_category": "tki",
        "ph_status": "positive",
        "debulking_regimen": "ponatinib",
        "bmb_baseline_pct": "80",
        "bmb_post_debulking_pct": "",
    },
    {"crs": "no", "bmb_baseline_pct": "", "bmb_post_debulking_pct": "5"},
    {
        "crs": "no",
        "debulking_category": "low_intensity_chemo",
        "debulking_regimen": "vincristine",
        "bmb_baseline_pct": "50",
        "bmb_post_debulking_pct": "19.9",
    },
    {"crs": ""},
]


@pytest.fixture(scope="module")
def shipped_run(tmp_path_factory) -> dict:
    """Notebook 04's namespace on the shipped cohort."""
    return execute(
        "04_crs_analysis", data_path=COHORT, output_dir=tmp_path_factory.mktemp("shipped")
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> dict:
    """Notebook 04's namespace on the hand-counted cohort SMALL."""
    folder = tmp_path_factory.mktemp("small")
    rows = [{"patient_id": f"T{i:02d}", **DEFAULT_PATIENT, **row} for i, row in enumerate(SMALL, 1)]
    pd.DataFrame(rows).to_csv(folder / "cohort.csv", index=False)
    return execute("04_crs_analysis", data_path=folder / "cohort.csv", output_dir=folder / "out")


@pytest.fixture(scope="module")
def cohort(shipped_run) -> pd.DataFrame:
    return shipped_run["cohort"]


@pytest.fixture(scope="module")
def small(small_run) -> pd.DataFrame:
    return small_run["cohort"]


def result(run: dict, key: str) -> list:
    return run["res"].set_index("key").loc[key, ["numerator", "denominator"]].tolist()


def test_crs_status_has_three_states(small):
    assert small["crs_status"].astype(str).tolist() == [
        "CRS",
        "CRS",
        "No CRS",
        "No CRS",
        "Not recorded",
    ]


def test_crs_incidence_gives_both_readings_of_a_missing_record(small_run):
    rows = small_run["incidence"].set_index("key")
    assert rows.loc["crs[all]", ["numerator", "denominator"]].tolist() == [2, 5]
    assert rows.loc["crs[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [2, 4]
    assert rows.loc["n[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [4, 5]


def test_crs_incidence_of_the_shipped_cohort_is_the_papers_5_of_34(shipped_run):
    rows = shipped_run["incidence"].set_index("key")
    assert rows.loc["crs[all]", ["numerator", "denominator"]].tolist() == [
        5,
        34,
    ]  # "14.7% (5 cases)"
    assert round(100 * rows.loc["crs[all]", "estimate"], 1) == 14.7
    assert rows.loc["crs[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [5, 33]


def test_crs_incidence_interval_has_the_clopper_pearson_tail_probabilities(shipped_run):
    # definition: P(X >= 5 | p_low) = 0.025 and P(X <= 5 | p_high) = 0.025, X ~ Bin(34, p)
    row = shipped_run["incidence"].set_index("key").loc["crs[all]"]
    assert sps.binom.sf(4, 34, row["ci_low"]) == pytest.approx(0.025, abs=1e-9)
    assert sps.binom.cdf(5, 34, row["ci_high"]) == pytest.approx(0.025, abs=1e-9)


def test_crs_grades_count_a_hand_built_cohort(small_run):
    rows = small_run["grades"].set_index("key")
    assert rows.loc["n[crs=True&crs_grade=1]", ["numerator", "denominator"]].tolist() == [1, 2]
    assert rows.loc["n[crs=True&crs_grade=2]", "numerator"] == 0
    assert rows.loc["n[crs_grade=3]", ["numerator", "denominator"]].tolist() == [1, 5]
    assert rows.loc["crs_grade_ge3[crs=True]", ["numerator", "denominator"]].tolist() == [1, 2]
    assert "n[crs_grade=2]" not in rows.index  # only grades present among all patients


def test_crs_grades_of_the_shipped_cohort_have_one_grade_3(shipped_run):
    rows = shipped_run["grades"].set_index("key")
    assert rows.loc["n[crs_grade=3]", "numerator"] == 1  # "Only one patient ... grade 3"
    assert rows.loc["crs_grade_ge3[crs=True]", ["numerator", "denominator"]].tolist() == [1, 5]


def test_crs_by_category_counts_a_hand_built_cohort(small_run):
    table = small_run["by_category"].set_index("Debulking")
    assert table.loc[
        "Low-intensity chemotherapy ± steroids", ["CRS", "No CRS", "Not recorded"]
    ].tolist() == [1, 1, 0]
    assert table.loc["Steroids", ["CRS", "No CRS", "Not recorded"]].tolist() == [0, 1, 1]
    assert table.loc["Steroids", "% of no CRS, recorded"] == pytest.approx(50.0)  # 1/2
    assert table.loc["Steroids", "% of no CRS, not recorded = no"] == pytest.approx(200 / 3)  # 2/3
    assert table.loc["Total", ["CRS", "No CRS", "Not recorded"]].tolist() == [2, 2, 1]


@pytest.mark.parametrize(
    "category, n_crs, n_no",
    [
        ("low_intensity_chemo", 3, 15),
        ("steroids", 0, 6),
        ("polychemotherapy", 1, 4),
        ("tki", 1, 3),
    ],
)
def test_crs_by_category_results_rebuild_the_papers_counts(shipped_run, category, n_crs, n_no):
    # paper: 60/0/20/20% of 5 CRS; 53.5/21.4/14.2/10.7% of patients without CRS -> x/28
    assert result(shipped_run, f"n[crs=True&debulking_category={category}]") == [n_crs, 5]
    assert result(shipped_run, f"n[crs=False&debulking_category={category}]") == [n_no, 28]


@pytest.mark.parametrize(
    "figure, printed_as",
    [
        ("s331_nocrs_low_intensity_chemo", "truncated"),  # 15/28 = 53.57 printed 53.5
        ("s331_nocrs_polychemotherapy", "truncated"),  # 4/28 = 14.29 printed 14.2
        ("s331_nocrs_steroids", "either"),  # 6/28 = 21.43 printed 21.4
        ("s331_nocrs_tki", "either"),  # 3/28 = 10.71 printed 10.7
        ("s331_crs_low_intensity_chemo", "either"),  # 3/5 = 60 printed 60
    ],
)
def test_printed_percentages_check_flags_truncation(cohort, figure, printed_as):
    check = crs.printed_percentages_check(cohort, published.load_published_figures()).set_index(
        "figure"
    )
    assert check.loc[figure, "printed as"] == printed_as


def test_printed_percentages_do_not_fit_29_patients_without_crs(cohort):
    check = crs.printed_percentages_check(cohort, published.load_published_figures())
    no_crs = check[check["group"] == "No CRS"]
    assert set(no_crs["N"]) == {28} and set(no_crs["N if not recorded = no"]) == {29}
    assert not no_crs["fits printed if not recorded = no"].any()


def test_printed_percentages_check_reads_a_constructed_published_table(small):
    figures = pd.DataFrame(
        {
            "id": ["a", "b"],
            "result_key": [
                "n[crs=True&debulking_category=low_intensity_chemo]",
                "n[crs=False&debulking_category=steroids]",
            ],
            "printed": ["50%", "66.6%"],
        }
    )
    check = crs.printed_percentages_check(small, figures).set_index("figure")
    assert check.loc["a", "printed as"] == "either"  # 1/2 = 50
    assert check.loc["b", "printed as"] == "neither"  # 1/2 = 50.0, not 66.6
    assert bool(
        check.loc["b", "fits printed if not recorded = no"]
    )  # 2/3 = 66.67 truncates to 66.6


def test_crs_blasts_never_count_a_missing_value_as_meeting_a_cutoff(small_run):
    table = small_run["blasts"].set_index("CRS status")
    # CRS: T01 70 -> 5 (both), T02 80 -> missing; no CRS: T03 missing -> 5, T04 50 -> 19.9 (both)
    counted = ["Before ≥ 50%", "After < 20%", "Both", "Before not available", "After not available"]
    assert table.loc["CRS", counted].tolist() == [2, 1, 1, 0, 1]
    assert table.loc["No CRS", counted].tolist() == [1, 2, 1, 1, 0]


def test_crs_blasts_of_the_shipped_cohort_have_all_but_one_crs_high_then_low(shipped_run):
    assert result(shipped_run, "n[crs=True&high_burden=True&bmb_post_group=<20]") == [4, 5]


def test_fisher_test_of_crs_by_category_among_recorded_equals_brute_force(shipped_run):
    # CRS / no CRS per category, from the paper's counts: steroids 0/6, low 3/15, poly 1/4, tki 1/3
    expected = reference_exact.fisher_p([[0, 6], [3, 15], [1, 4], [1, 3]])
    p_value = (
        shipped_run["res"]
        .set_index("key")
        .loc["crs[debulking_category|crs_recorded=True]~fisher", "p_value"]
    )
    assert p_value == pytest.approx(expected, rel=1e-9)


def test_missing_as_no_shares_are_over_all_patients_without_crs(shipped_run):
    # paper counts: no CRS recorded 6/15/4/3 of 28, plus the unrecorded patient (steroids) -> x/29
    for category, n in (
        ("steroids", 7),
        ("low_intensity_chemo", 15),
        ("polychemotherapy", 4),
        ("tki", 3),
    ):
        assert result(shipped_run, f"n[crs_missing_as_no=False&debulking_category={category}]") == [
            n,
            29,
        ]


def test_fisher_test_with_a_missing_record_read_as_no_crs_equals_brute_force(shipped_run):
    p_value = (
        shipped_run["res"]
        .set_index("key")
        .loc["crs_missing_as_no[debulking_category]~fisher", "p_value"]
    )
    # steroids 0/7 (6 + the unrecorded), low 3/18, poly 1/5, tki 1/4 -> [[0,7],[3,15],[1,4],[1,3]]
    assert p_value == pytest.approx(
        reference_exact.fisher_p([[0, 7], [3, 15], [1, 4], [1, 3]]), rel=1e-9
    )
    assert p_value == pytest.approx(0.5997, abs=5e-5)


@pytest.mark.parametrize(
    "key, n, d",
    [
        # hand counts of the small cohort (see crs_blasts test above): CRS 2, no CRS 2, not recorded 1
        # (T05 has the conftest defaults: 60% before, 10% after)
        ("n[crs=True&high_burden=True]", 2, 2),
        ("n[crs=True&bmb_post_group=<20]", 1, 2),
        ("n[crs=True&bmb_baseline_available=False]", 0, 2),
        ("n[crs=True&bmb_post_available=False]", 1, 2),
        ("n[crs=False&high_burden=True]", 1, 2),
        ("n[crs=False&bmb_post_group=<20]", 2, 2),
        ("n[crs=False&bmb_baseline_available=False]", 1, 2),
        ("n[crs_recorded=False&bmb_post_available=False]", 0, 1),
        ("n[crs_recorded=False&high_burden=True&bmb_post_group=<20]", 1, 1),
    ],
)
def test_crs_blasts_results_record_every_column_of_the_table(small_run, key, n, d):
    assert result(small_run, key) == [n, d]
    # the same count in plain pandas: the key's filters are columns of the loaded cohort
    cohort = small_run["cohort"]
    filters = dict(part.split("=", 1) for part in key[2:-1].split("&"))
    state = next(iter(filters))
    population = cohort[cohort[state].astype(str) == filters.pop(state)]
    hits = population[(population[list(filters)].astype(str) == pd.Series(filters)).all(axis=1)]
    assert (len(hits), len(population)) == (n, d)


def test_crs_blasts_of_the_shipped_cohort_match_the_table_counts(shipped_run):
    # before >= 50%: 5 of 5 CRS, 14 of 28 without; after < 20%: 4 of 5 and 14 of 28
    assert result(shipped_run, "n[crs=True&high_burden=True]") == [5, 5]
    assert result(shipped_run, "n[crs=False&high_burden=True]") == [14, 28]
    assert result(shipped_run, "n[crs=True&bmb_post_group=<20]") == [4, 5]
    assert result(shipped_run, "n[crs=False&bmb_post_group=<20]") == [14, 28]


def test_crs_prose_is_computed_from_the_hand_built_cohort(small_run):
    text = " ".join(small_run["_markdown"])
    # hand counts: 2 CRS of 5; one (T02) grade 3; the unrecorded patient T05 had steroids
    assert "**2/5 (40.0%)**" in text and "1 of 2 patients with CRS had grade 3 or higher" in text
    assert "The patient without a record had been debulked with: steroids (1)" in text
    assert "half of it was below grade 3" in text
    # post-debulking blasts missing for T02 only: 1/5
    assert "blasts after debulking are missing for 1/5 (20.0%) patients" in text


def test_the_crs_figure_says_so_when_no_patient_has_both_blast_values(small):
    frame = small.assign(bmb_post_debulking_pct=float("nan"))
    fig = response_figures.plot_crs(frame)
    assert "No patient has blasts both before and after debulking" in [
        t.get_text() for t in fig.axes[1].texts
    ]
