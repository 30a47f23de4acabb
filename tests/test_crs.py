"""CRS builders (helpers.crs), notebook 04.

References: counts typed from the paper's section 3.3.1 (5 CRS of 34 = 14.7%, one grade 3,
60/0/20/20% of CRS patients and 53.5/21.4/14.2/10.7% of patients without CRS by
debulking category, "all but one" CRS patient with >=50% blasts before and <20% after),
hand counts on small constructed cohorts, the binomial definition of the Clopper-Pearson
limits, and a brute-force Fisher enumeration written here.
"""

from pathlib import Path

import pandas as pd
import pytest
from scipy import stats as sps

from helpers import crs, loading, published, subgroups

import reference_exact

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"

@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return loading.load_cohort(COHORT)


@pytest.fixture
def small(make_cohort) -> pd.DataFrame:
    # hand-counted: CRS T01 (grade 1, low-intensity), T02 (grade 3, tki);
    # no CRS T03 (steroids), T04 (low-intensity); not recorded T05 (steroids)
    return make_cohort([
        {"crs": "yes", "crs_grade": "1", "debulking_category": "low_intensity_chemo",
         "debulking_regimen": "vincristine", "bmb_baseline_pct": "70", "bmb_post_debulking_pct": "5"},
        {"crs": "yes", "crs_grade": "3", "debulking_category": "tki", "ph_status": "positive",
         "debulking_regimen": "ponatinib", "bmb_baseline_pct": "80", "bmb_post_debulking_pct": ""},
        {"crs": "no", "bmb_baseline_pct": "", "bmb_post_debulking_pct": "5"},
        {"crs": "no", "debulking_category": "low_intensity_chemo", "debulking_regimen": "vincristine",
         "bmb_baseline_pct": "50", "bmb_post_debulking_pct": "19.9"},
        {"crs": ""},
    ])


def test_crs_status_has_three_states(small):
    assert crs.crs_status(small).astype(str).tolist() == ["CRS", "CRS", "No CRS", "No CRS", "Not recorded"]


def test_crs_incidence_gives_both_readings_of_a_missing_record(small):
    rows = crs.crs_incidence(small).set_index("key")
    assert rows.loc["crs[all]", ["numerator", "denominator"]].tolist() == [2, 5]
    assert rows.loc["crs[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [2, 4]
    assert rows.loc["n[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [4, 5]


def test_crs_incidence_of_the_shipped_cohort_is_the_papers_5_of_34(cohort):
    rows = crs.crs_incidence(cohort).set_index("key")
    assert rows.loc["crs[all]", ["numerator", "denominator"]].tolist() == [5, 34]  # "14.7% (5 cases)"
    assert round(100 * rows.loc["crs[all]", "estimate"], 1) == 14.7
    assert rows.loc["crs[crs_recorded=True]", ["numerator", "denominator"]].tolist() == [5, 33]


def test_crs_incidence_interval_has_the_clopper_pearson_tail_probabilities(cohort):
    # definition: P(X >= 5 | p_low) = 0.025 and P(X <= 5 | p_high) = 0.025, X ~ Bin(34, p)
    row = crs.crs_incidence(cohort).set_index("key").loc["crs[all]"]
    assert sps.binom.sf(4, 34, row["ci_low"]) == pytest.approx(0.025, abs=1e-9)
    assert sps.binom.cdf(5, 34, row["ci_high"]) == pytest.approx(0.025, abs=1e-9)


def test_crs_grades_count_a_hand_built_cohort(small):
    rows = crs.crs_grades(small).set_index("key")
    assert rows.loc["n[crs=True&crs_grade=1]", ["numerator", "denominator"]].tolist() == [1, 2]
    assert rows.loc["n[crs=True&crs_grade=2]", "numerator"] == 0
    assert rows.loc["n[crs_grade=3]", ["numerator", "denominator"]].tolist() == [1, 5]
    assert rows.loc["crs_grade_ge3[crs=True]", ["numerator", "denominator"]].tolist() == [1, 2]
    assert "n[crs_grade=2]" not in rows.index  # only grades present among all patients


def test_crs_grades_of_the_shipped_cohort_have_one_grade_3(cohort):
    rows = crs.crs_grades(cohort).set_index("key")
    assert rows.loc["n[crs_grade=3]", "numerator"] == 1                  # "Only one patient ... grade 3"
    assert rows.loc["crs_grade_ge3[crs=True]", ["numerator", "denominator"]].tolist() == [1, 5]


def test_crs_by_category_counts_a_hand_built_cohort(small):
    table = crs.crs_by_category(small).set_index("category")
    assert table.loc["low_intensity_chemo", ["CRS", "No CRS", "Not recorded"]].tolist() == [1, 1, 0]
    assert table.loc["steroids", ["CRS", "No CRS", "Not recorded"]].tolist() == [0, 1, 1]
    assert table.loc["steroids", "% of no CRS, recorded"] == pytest.approx(50.0)          # 1/2
    assert table.loc["steroids", "% of no CRS, not recorded = no"] == pytest.approx(200 / 3)  # 2/3
    assert table.loc["total", ["CRS", "No CRS", "Not recorded"]].tolist() == [2, 2, 1]


@pytest.mark.parametrize("category, n_crs, n_no", [
    ("low_intensity_chemo", 3, 15), ("steroids", 0, 6), ("polychemotherapy", 1, 4), ("tki", 1, 3),
])
def test_crs_by_category_results_rebuild_the_papers_counts(cohort, category, n_crs, n_no):
    # paper: 60/0/20/20% of 5 CRS; 53.5/21.4/14.2/10.7% of patients without CRS -> x/28
    rows = crs.crs_by_category_results(cohort).set_index("key")[["numerator", "denominator"]]
    assert rows.loc[f"n[crs=True&debulking_category={category}]"].tolist() == [n_crs, 5]
    assert rows.loc[f"n[crs=False&debulking_category={category}]"].tolist() == [n_no, 28]


@pytest.mark.parametrize("figure, printed_as", [
    ("s331_nocrs_low_intensity_chemo", "truncated"),  # 15/28 = 53.57 printed 53.5
    ("s331_nocrs_polychemotherapy", "truncated"),     # 4/28 = 14.29 printed 14.2
    ("s331_nocrs_steroids", "either"),                # 6/28 = 21.43 printed 21.4
    ("s331_nocrs_tki", "either"),                     # 3/28 = 10.71 printed 10.7
    ("s331_crs_low_intensity_chemo", "either"),       # 3/5 = 60 printed 60
])
def test_printed_percentages_check_flags_truncation(cohort, figure, printed_as):
    check = crs.printed_percentages_check(cohort, published.load_published_figures()).set_index("figure")
    assert check.loc[figure, "printed as"] == printed_as


def test_printed_percentages_do_not_fit_29_patients_without_crs(cohort):
    check = crs.printed_percentages_check(cohort, published.load_published_figures())
    no_crs = check[check["group"] == "No CRS"]
    assert set(no_crs["N"]) == {28} and set(no_crs["N if not recorded = no"]) == {29}
    assert not no_crs["fits printed if not recorded = no"].any()


def test_printed_percentages_check_reads_a_constructed_published_table(small):
    figures = pd.DataFrame({
        "id": ["a", "b"],
        "result_key": ["n[crs=True&debulking_category=low_intensity_chemo]",
                       "n[crs=False&debulking_category=steroids]"],
        "printed": ["50%", "66.6%"],
    })
    check = crs.printed_percentages_check(small, figures).set_index("figure")
    assert check.loc["a", "printed as"] == "either"          # 1/2 = 50
    assert check.loc["b", "printed as"] == "neither"         # 1/2 = 50.0, not 66.6
    assert bool(check.loc["b", "fits printed if not recorded = no"])  # 2/3 = 66.67 truncates to 66.6


def test_crs_blasts_never_count_a_missing_value_as_meeting_a_cutoff(small):
    table = crs.crs_blasts(small).set_index("CRS status")
    # CRS: T01 70 -> 5 (both), T02 80 -> missing; no CRS: T03 missing -> 5, T04 50 -> 19.9 (both)
    counted = ["Before >= 50%", "After < 20%", "Both", "Before not available", "After not available"]
    assert table.loc["CRS", counted].tolist() == [2, 1, 1, 0, 1]
    assert table.loc["No CRS", counted].tolist() == [1, 2, 1, 1, 0]


def test_crs_blasts_of_the_shipped_cohort_have_all_but_one_crs_high_then_low(cohort):
    row = crs.crs_blasts_results(cohort).set_index("key").loc["n[crs=True&high_burden=True&bmb_post_group=<20]"]
    assert [row["numerator"], row["denominator"]] == [4, 5]


def test_fisher_test_of_crs_by_category_among_recorded_equals_brute_force(cohort):
    rt = subgroups.rate_by(cohort, "crs", "debulking_category", where={"crs_recorded": True})
    rows = subgroups.rate_table_results(rt).set_index("key")
    # CRS / no CRS per category, from the paper's counts: steroids 0/6, low 3/15, poly 1/4, tki 1/3
    expected = reference_exact.fisher_p([[0, 6], [3, 15], [1, 4], [1, 3]])
    p_value = rows.loc["crs[debulking_category|crs_recorded=True]~fisher", "p_value"]
    assert p_value == pytest.approx(expected, rel=1e-9)


def test_crs_builders_do_not_modify_the_cohort(cohort):
    before = cohort.copy()
    crs.crs_incidence(cohort)
    crs.crs_by_category(cohort)
    crs.crs_blasts(cohort)
    crs.crs_patients(cohort)
    pd.testing.assert_frame_equal(cohort, before)


def test_missing_as_no_shares_are_over_all_patients_without_crs(cohort):
    # paper counts: no CRS recorded 6/15/4/3 of 28, plus the unrecorded patient (steroids) -> x/29
    rows = crs.crs_by_category_results(cohort).set_index("key")[["numerator", "denominator"]]
    for category, n in (("steroids", 7), ("low_intensity_chemo", 15), ("polychemotherapy", 4), ("tki", 3)):
        assert rows.loc[f"n[crs_missing_as_no=False&debulking_category={category}]"].tolist() == [n, 29]


def test_fisher_test_with_a_missing_record_read_as_no_crs_equals_brute_force(cohort):
    # 34-patient reading: polychemotherapy 0/7... in category order of the table below
    rt = subgroups.rate_by(crs.with_crs_missing_as_no(cohort), crs.CRS_MISSING_AS_NO, "debulking_category")
    p_value = subgroups.rate_table_results(rt).set_index("key").loc[
        "crs_missing_as_no[debulking_category]~fisher", "p_value"]
    # steroids 0/7 (6 + the unrecorded), low 3/18, poly 1/5, tki 1/4 -> [[0,7],[3,15],[1,4],[1,3]]
    assert p_value == pytest.approx(reference_exact.fisher_p([[0, 7], [3, 15], [1, 4], [1, 3]]), rel=1e-9)
    assert p_value == pytest.approx(0.5997, abs=5e-5)


@pytest.mark.parametrize("key, n, d", [
    # hand counts of the small cohort (see crs_blasts test above): CRS 2, no CRS 2, not recorded 1
    # (T05 has the conftest defaults: 60% before, 10% after)
    ("n[crs=True&high_burden=True]", 2, 2), ("n[crs=True&bmb_post_group=<20]", 1, 2),
    ("n[crs=True&bmb_baseline_available=False]", 0, 2), ("n[crs=True&bmb_post_available=False]", 1, 2),
    ("n[crs=False&high_burden=True]", 1, 2), ("n[crs=False&bmb_post_group=<20]", 2, 2),
    ("n[crs=False&bmb_baseline_available=False]", 1, 2),
    ("n[crs_recorded=False&bmb_post_available=False]", 0, 1),
    ("n[crs_recorded=False&high_burden=True&bmb_post_group=<20]", 1, 1),
])
def test_crs_blasts_results_record_every_column_of_the_table(small, key, n, d):
    rows = crs.crs_blasts_results(small).set_index("key")
    assert rows.loc[key, ["numerator", "denominator"]].tolist() == [n, d]


def test_crs_blasts_of_the_shipped_cohort_match_the_table_counts(cohort):
    # before >= 50%: 5 of 5 CRS, 14 of 28 without; after < 20%: 4 of 5 and 14 of 28
    rows = crs.crs_blasts_results(cohort).set_index("key")
    assert rows.loc["n[crs=True&high_burden=True]", ["numerator", "denominator"]].tolist() == [5, 5]
    assert rows.loc["n[crs=False&high_burden=True]", ["numerator", "denominator"]].tolist() == [14, 28]
    assert rows.loc["n[crs=True&bmb_post_group=<20]", ["numerator", "denominator"]].tolist() == [4, 5]
    assert rows.loc["n[crs=False&bmb_post_group=<20]", ["numerator", "denominator"]].tolist() == [14, 28]


def test_crs_prose_is_computed_and_pluralised(small):
    from helpers import results

    rt = subgroups.rate_by(small, "crs", "debulking_category", where={"crs_recorded": True})
    rt_all = subgroups.rate_by(crs.with_crs_missing_as_no(small), crs.CRS_MISSING_AS_NO, "debulking_category")
    res = results.result_frame(
        [*crs.crs_incidence(small).drop(columns="reading").to_dict("records"),
         *crs.crs_grades(small).drop(columns=["population", "grade"]).to_dict("records"),
         *crs.crs_by_category_results(small).to_dict("records"),
         *subgroups.rate_table_results(rt).to_dict("records"),
         *subgroups.rate_table_results(rt_all).to_dict("records"),
         *crs.crs_blasts_results(small).to_dict("records")], notebook="04")
    text = crs.summary_text(res, crs.crs_by_category(small), pd.DataFrame(), severe_grade=3,
                            high_cutoff=50, low_cutoff=20)
    # hand counts: 2 CRS of 5; one (T02) grade 3; the unrecorded patient T05 had steroids
    assert "**2/5 (40.0%)**" in text and "1 patient had CRS of grade 3" in text
    assert "The 1 patient without a record had been debulked with: steroids (1)" in text
    assert "(s)" not in text
    meaning = crs.interpretation(res, pd.DataFrame(), severe_grade=3)
    # half of the 2 CRS cases were grade 3; post-debulking blasts missing for T02 only: 1/5
    assert "half of it was below grade 3" in meaning
    assert "missing for 1/5 (20.0%) patients" in meaning
