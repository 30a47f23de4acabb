"""Headline results for the report's index, from results.csv rows; missing keys leave a headline out."""

import pandas as pd
import pytest

from pipeline import headlines

# The shipped cohort's rows (paper, section 3.3: CR 23/34; blasts <50% 12/13 vs >=50% 10/20,
# p = 0.022; <=2 lines 17/20 vs >2 6/14, p = 0.023). CIs: R binom.test(23, 34)$conf.int.
ROWS = [
    ("any_cr[all]", 23, 34, 0.4947346991, 0.8261165725, None),
    ("any_cr[high_burden=False]", 12, 13, None, None, None),
    ("any_cr[high_burden=True]", 10, 20, None, None, None),
    ("any_cr[high_burden]~fisher", None, None, None, None, 0.02159081749),
    ("any_cr[lines_group=<=2]", 17, 20, None, None, None),
    ("any_cr[lines_group=>2]", 6, 14, None, None, None),
    ("any_cr[lines_group]~fisher", None, None, None, None, 0.02299468545),
]


def results(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["key", "numerator", "denominator", "ci_low", "ci_high", "p_value"]
                        ).assign(notebook="03_response_by_subgroup", label="", estimate=None)


@pytest.mark.parametrize(("title", "text"), [
    ("Complete remission (CR, CRp or CRi) within two cycles", "23/34 (67.6%), 95% CI 49.5–82.6%"),
    ("CR by marrow blasts before debulking",
     "blasts <50%: 12/13 (92.3%) vs ≥50%: 10/20 (50.0%); Fisher's exact test, two-sided, p = 0.022"),
    ("CR by previous treatment lines",
     "≤2 previous lines: 17/20 (85.0%) vs >2: 6/14 (42.9%); Fisher's exact test, two-sided, p = 0.023"),
])
def test_headlines_are_computed_from_the_results_rows(title, text):
    found = {h.title: h.text for h in headlines.headline_results(results())}
    assert found[title] == text


def test_a_headline_whose_keys_are_missing_is_left_out():
    found = headlines.headline_results(results(ROWS[:3]))
    assert [h.title for h in found] == ["Complete remission (CR, CRp or CRi) within two cycles"]


def test_group_labels_follow_the_cut_off_parameters():
    rows = [(k.replace("<=2", "<=3").replace(">2", ">3"), *rest) for k, *rest in ROWS]
    found = {h.title: h.text for h in headlines.headline_results(
        results(rows), {"bmb_high_cutoff": 40, "lines_cutoff": 3})}
    assert found["CR by marrow blasts before debulking"].startswith("blasts <40%: 12/13")
    assert found["CR by previous treatment lines"].startswith("≤3 previous lines: 17/20")


def test_a_notebook_says_it_is_not_available_for_the_data_with_one_row():
    rows = pd.DataFrame({"notebook": ["08_time_to_event"], "key": [headlines.AVAILABILITY_KEY],
                         "label": ["no follow-up dates in the data"], "estimate": [0]})
    assert headlines.not_available(rows, "08_time_to_event") == "no follow-up dates in the data"
    assert headlines.not_available(rows.assign(estimate=1), "08_time_to_event") is None
    assert headlines.not_available(results(), "03_response_by_subgroup") is None


def test_the_reproduction_headline_lists_every_verdict_the_results_hold():
    rows = pd.DataFrame({"key": ["figures[all]", "figures[verdict=consistent with the paper]",
                                 "figures[verdict=not recomputed]"], "numerator": [188, 160, 28]})
    found = {h.title: h.text for h in headlines.headline_results(rows)}
    assert found["Published figures recomputed from this data"] == \
        "188 figures: 160 consistent with the paper, 28 not recomputed"


def test_a_prefixed_availability_row_gives_its_method_as_the_reason():
    # Notebook 08's row when the file has no follow-up columns.
    rows = pd.DataFrame({"notebook": ["08_time_to_event"], "key": ["follow_up.available[all]"],
                         "label": ["Patients with follow-up (os_months given)"], "estimate": [0],
                         "method": ["not available for this data: no follow-up in the file"]})
    assert headlines.not_available(rows, "08_time_to_event") == "no follow-up in the file"
    assert headlines.not_available(rows.assign(estimate=1), "08_time_to_event") is None


def test_rates_and_the_historic_difference_name_their_interval_method_from_the_row():
    rows = results().assign(method=None)
    rows.loc[rows["key"] == "any_cr[all]", "method"] = "count; Clopper-Pearson exact 95% CI"
    historic = pd.DataFrame({
        "key": ["endpoint[cr_crh_cri]", "comparator[tower_blina_cr_crh_cri]", "cmp[tower_cr_crh_cri].risk_difference",
                "cmp[tower_cr_crh_cri]~fisher"],
        "label": ["", "TOWER blinatumomab: CR/CRh/CRi", "", ""], "numerator": [20, 119, None, None],
        "denominator": [34, 271, None, None], "estimate": [None, None, 0.149, None], "ci_low": [None, None, -0.03, None],
        "ci_high": [None, None, 0.31, None], "p_value": [None, None, None, 0.1],
        "method": [None, None, "Newcombe hybrid score 95% CI (method 10)", "Fisher's exact test (2x2, two-sided)"]})
    found = {h.title: h.text for h in headlines.headline_results(pd.concat([rows, historic]))}
    assert found["Complete remission (CR, CRp or CRi) within two cycles"] == \
        "23/34 (67.6%), 95% CI 49.5–82.6% (Clopper-Pearson exact)"
    assert "difference +14.9 percentage points (95% CI -3.0 to +31.0, Newcombe hybrid score); Fisher's exact test" in \
        found["CR/CRh/CRi against the TOWER trial (historic comparison)"]


def test_a_contrast_is_labelled_with_the_test_that_ran_when_chi_square_stood_in_for_fishers():
    # helpers.contingency.fisher_exact past its work budget (e.g. a 4 x 2 table at n = 20,000)
    rows = results().assign(method="Fisher's exact test (2x2, two-sided); estimate = sample odds ratio")
    rows.loc[rows["key"] == "any_cr[lines_group]~fisher", "method"] = (
        "Pearson chi-square in place of Fisher's exact test (2x2, asymptotic; exact enumeration infeasible at "
        "n=20000); estimate = chi-square statistic")
    found = {h.title: h.text for h in headlines.headline_results(rows)}
    assert found["CR by previous treatment lines"].endswith(
        "Pearson chi-square (asymptotic; Fisher's exact test infeasible at this size), two-sided, p = 0.023")
    assert found["CR by marrow blasts before debulking"].endswith("Fisher's exact test, two-sided, p = 0.022")


def test_the_adjusted_comparison_stands_beside_its_unadjusted_twin():
    # notebook 09's rows on the shipped cohort (results/09_population_adjusted_comparison.csv)
    key = "maic[tower_cr_crh_cri_phneg]"
    rows = pd.DataFrame([
        {"key": f"{key}.ess", "denominator": 21, "estimate": 9.458138, "label": "Effective sample size"},
        {"key": f"{key}.rate", "denominator": 21, "estimate": 0.6105509, "ci_low": 0.2893510, "ci_high": 0.8578803,
         "label": "CR/CRh/CRi, Ph− patients reweighted to TOWER"},
        {"key": f"{key}.risk_difference", "estimate": 0.1714365, "ci_low": -0.1545285, "ci_high": 0.4974014,
         "label": "CR/CRh/CRi, Ph− patients reweighted to TOWER, minus TOWER 119/271"},
        {"key": f"{key}.unadjusted", "numerator": 14, "denominator": 21, "label": "unweighted"},
        {"key": f"{key}.unadjusted_risk_difference", "estimate": 0.2275184, "ci_low": 0.0058, "ci_high": 0.3993,
         "label": "unweighted minus TOWER 119/271"},
    ]).assign(notebook="09_population_adjusted_comparison", p_value=None)
    found = {h.title: h for h in headlines.headline_results(rows)}
    headline = found["CR/CRh/CRi against TOWER, adjusted for baseline (MAIC)"]
    assert headline.notebook == "09"
    assert headline.text == (
        "Ph− patients reweighted to TOWER: weighted 61.1% (95% CI 28.9–85.8%), effective sample size 9.5 of 21, "
        "vs TOWER 119/271; difference +17.1 percentage points (95% CI -15.5 to +49.7); unadjusted 14/21 (66.7%), "
        "difference +22.8 percentage points (95% CI +0.6 to +39.9)")


# Notebook 08's rows on a cohort with follow-up (values as the notebook writes them).
SURVIVAL_ROWS = pd.DataFrame([
    ("follow_up.available[all]", 294, 300, 1.0, None, None, None),
    ("follow_up.median[all]", None, 294, 26.2, 21.3, 39.2, None),
    ("km_os[all].median", 230, 294, 9.7, 8.5, 10.9, None),
    ("cox_os[high_burden].hr", 221, 281, 1.5412, 1.1712, 2.0281, 0.00187),
    ("cir[any_cr=True].cif_12m", 147, 208, 0.6911, 0.6148, 0.7553, None),
    ("nrm[any_cr=True].cif_12m", 17, 208, 0.0759, 0.0433, 0.1204, None),
], columns=["key", "numerator", "denominator", "estimate", "ci_low", "ci_high", "p_value"]).assign(
    notebook="08_time_to_event", label="")


def _survival_headlines(rows: pd.DataFrame) -> dict[str, str]:
    return {h.title: h.text for h in headlines.headline_results(rows) if h.notebook == "08"}


def test_with_follow_up_the_main_findings_give_median_survival_the_burden_contrast_and_relapse_at_12_months():
    assert _survival_headlines(SURVIVAL_ROWS) == {
        "Overall survival": "median 9.7 months (95% CI 8.5–10.9); 230/294 (78.2%) died; median follow-up "
                            "26.2 months (95% CI 21.3–39.2)",
        "Overall survival by marrow blasts before debulking":
            "blasts ≥50% vs <50%: hazard ratio of death 1.54 (95% CI 1.17–2.03), Cox, p = 0.0019",
        "Cumulative incidence of relapse at 12 months from CR":
            "69.1% (95% CI 61.5–75.5%); non-relapse mortality 7.6% (95% CI 4.3–12.0%); 208 patients in CR",
    }


@pytest.mark.parametrize("missing, title", [
    ("cox_os[high_burden].hr", "Overall survival by marrow blasts before debulking"),
    ("cir[any_cr=True].cif_12m", "Cumulative incidence of relapse at 12 months from CR"),
    ("km_os[all].median", "Overall survival"),
])
def test_a_declared_survival_headline_whose_result_is_missing_says_not_estimable_instead_of_vanishing(missing, title):
    found = _survival_headlines(SURVIVAL_ROWS[SURVIVAL_ROWS["key"] != missing])
    assert "not estimable" in found[title]


def test_without_follow_up_there_is_no_survival_headline():
    rows = SURVIVAL_ROWS.iloc[:1].assign(numerator=0, estimate=0.0)
    assert _survival_headlines(rows) == {}


@pytest.mark.parametrize(("numerator", "denominator", "shown"), [
    # a shown count is rounded to a multiple of 5 (14 -> 15, 12 -> 10)
    ("not shown", "14", "not shown/15 (–), 95% CI –"),  # 13/14: its complement of 1 is hidden
    ("<5", "12", "<5/10 (–), 95% CI –"),
    ("0", "<5", "0/<5 (–), 95% CI –"),
])
def test_a_share_runs_hidden_counts_are_shown_as_hidden_not_read_as_numbers(numerator, denominator, shown):
    from helpers import suppression

    rows = [("any_cr[all]", numerator, denominator, None, None, None),
            ("crs[all]", "not shown", "14", None, None, None),
            ("crs_grade_ge3[crs=True]", "<5", "not shown", None, None, None)]
    got = {h.title: h.text for h in headlines.headline_results(results(rows),
                                                               policy=suppression.Policy.for_run(True, 5))}
    assert got["Complete remission (CR, CRp or CRi) within two cycles"] == shown
    assert got["Cytokine release syndrome (CRS)"].endswith("grade 3 or higher in <5/not shown (–) of the patients with CRS")
