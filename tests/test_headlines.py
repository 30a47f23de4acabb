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


@pytest.mark.parametrize(("numerator", "denominator", "shown"), [
    ("not shown", "14", "not shown/14 (–), 95% CI –"),  # 13/14: its complement of 1 is hidden
    ("<5", "12", "<5/12 (–), 95% CI –"),
    ("0", "<5", "0/<5 (–), 95% CI –"),
])
def test_a_share_runs_hidden_counts_are_shown_as_hidden_not_read_as_numbers(numerator, denominator, shown):
    from helpers import suppression

    rows = [("any_cr[all]", numerator, denominator, None, None, None),
            ("crs[all]", "not shown", "14", None, None, None),
            ("crs_grade_ge3[crs=True]", "<5", "not shown", None, None, None)]
    with suppression.counts_hidden_below(5):
        got = {h.title: h.text for h in headlines.headline_results(results(rows))}
    assert got["Complete remission (CR, CRp or CRi) within two cycles"] == shown
    assert got["Cytokine release syndrome (CRS)"].endswith("grade 3 or higher in <5/not shown (–) of the patients with CRS")
