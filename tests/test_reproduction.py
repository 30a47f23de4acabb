"""Tests of helpers.reproduction: verdicts on the paper's printed figures.

Every case is constructed by hand; expected values were worked out on paper
(the arithmetic is written next to each case), never taken from the code.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pandas as pd
import pytest

from helpers import pvalues, rounding
from helpers import reproduction as rp


def figure(
    kind="proportion",
    printed="",
    numerator=None,
    denominator=None,
    value=math.nan,
    result_key="k[all]",
    note="",
    fid="f",
    location="Section 1",
):
    return {
        "id": fid,
        "location": location,
        "description": fid,
        "kind": kind,
        "numerator": numerator,
        "denominator": denominator,
        "printed": printed,
        "value": value,
        "result_key": result_key,
        "note": note,
    }


def result(
    numerator=None, denominator=None, estimate=math.nan, p_value=math.nan, key="k[all]", method=""
):
    return {
        "key": key,
        "numerator": numerator,
        "denominator": denominator,
        "estimate": estimate,
        "p_value": p_value,
        "method": method,
    }


# --- rounding rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, decimals, rule, expected",
    [
        (Fraction(1, 8) * 100, 0, "half_up", Fraction(13)),  # 12.5 -> 13
        (Fraction(1, 8) * 100, 0, "half_even", Fraction(12)),  # 12.5 -> 12 (12 is even)
        (Fraction(3, 8) * 100, 0, "half_even", Fraction(38)),  # 37.5 -> 38 (38 is even)
        (Fraction(15, 28) * 100, 1, "truncated", Fraction(535, 10)),  # 53.571 -> 53.5
        (Fraction(15, 28) * 100, 1, "half_up", Fraction(536, 10)),  # 53.571 -> 53.6
        (Fraction(6, 34) * 100, 1, "half_up", Fraction(176, 10)),  # 17.647 -> 17.6
        (Fraction(6, 34) * 100, 1, "double_rounded", Fraction(177, 10)),  # 17.647 -> 17.65 -> 17.7
        (Fraction(13, 16) * 100, 1, "half_up", Fraction(813, 10)),  # 81.25 -> 81.3
        (Fraction(13, 16) * 100, 1, "half_even", Fraction(812, 10)),  # 81.25 -> 81.2
    ],
)
def test_round_by_rule_gives_the_hand_rounded_value(value, decimals, rule, expected):
    assert rounding.round_by_rule(value, decimals, rule) == expected


def test_round_by_rule_rejects_an_unknown_rule():
    with pytest.raises(ValueError, match="unknown rounding rule"):
        rounding.round_by_rule(Fraction(1), 0, "banker")


# --- counts and percentages ------------------------------------------------------------


def test_equal_count_is_reproduced_exactly():
    v = rp.judge(figure("count", "n=7", 7, value=7), result(7, 34))
    assert (v.verdict, v.how, v.reason) == (rp.REPRODUCED, "exact", "")


def test_percentage_equal_to_the_fraction_is_reproduced_exactly():
    # 17/34 = 50% exactly
    v = rp.judge(figure(printed="17 (50%)", numerator=17, denominator=34, value=50), result(17, 34))
    assert v.verdict == rp.REPRODUCED and v.how == "exact"
    assert v.recomputed_text == "17/34 = 50.00%"


def test_percentage_rounded_both_ways_is_reproduced_up_to_rounding():
    # 2/34 = 5.882%: half-up and half-even give 5.9, truncation 5.8
    v = rp.judge(
        figure(printed="2 patients (5.9%)", numerator=2, denominator=34, value=5.9), result(2, 34)
    )
    assert v.verdict == rp.UP_TO_ROUNDING
    assert set(v.rules) == {"half_up", "half_even", "double_rounded"}
    assert v.how == "rounded to 1 decimal"


def test_tie_printed_half_up_is_named_half_up():
    # 13/16 = 81.25% exactly; printed 81.3 only under half-up (half-even gives 81.2)
    v = rp.judge(figure(printed="81.3%", numerator=13, denominator=16, value=81.3), result(13, 16))
    assert v.verdict == rp.UP_TO_ROUNDING
    assert "half_up" in v.rules and "half_even" not in v.rules
    assert "half-up" in v.how and "81.2" in v.how


def test_tie_printed_half_to_even_is_named_half_to_even():
    # 1/8 = 12.5%; printed 12%: half-even (12 is even) and truncation give 12, half-up 13
    v = rp.judge(figure(printed="12%", numerator=1, denominator=8, value=12), result(1, 8))
    assert v.verdict == rp.UP_TO_ROUNDING
    assert set(v.rules) == {"half_even", "truncated"}
    assert "half-to-even" in v.how and "13" in v.how


def test_truncated_percentage_is_reproduced_up_to_rounding_as_truncated():
    # 15/28 = 53.571%: truncated 53.5, rounded 53.6
    v = rp.judge(figure(printed="53.5%", numerator=15, denominator=28, value=53.5), result(15, 28))
    assert v.verdict == rp.UP_TO_ROUNDING
    assert v.rules == ("truncated",)
    assert v.how.startswith("truncated") and "53.6" in v.how


def test_double_rounded_percentage_is_named_rounded_twice():
    # 6/34 = 17.647% -> 17.65 -> 17.7; rounding once gives 17.6
    v = rp.judge(
        figure(printed="6 (17.7%)", numerator=6, denominator=34, value=17.7), result(6, 34)
    )
    assert v.verdict == rp.UP_TO_ROUNDING and v.rules == ("double_rounded",)
    assert "17.65" in v.how and "17.6" in v.how


def test_different_count_is_not_reproduced_and_says_which_count():
    v = rp.judge(figure(printed="67.6%", numerator=23, denominator=34, value=67.6), result(22, 34))
    assert v.verdict == rp.NOT_REPRODUCED
    assert v.reason == "count differs: paper 23, data 22"


def test_different_denominator_is_not_reproduced():
    # CRS: 5 of 34 printed, 5 of 33 recorded in the data
    v = rp.judge(
        figure(printed="14.7% (5 cases)", numerator=5, denominator=34, value=14.7), result(5, 33)
    )
    assert v.verdict == rp.NOT_REPRODUCED and "denominator differs" in v.reason
    assert "5/34" in v.reason and "5/33" in v.reason


def test_percentage_beyond_rounding_is_not_reproduced():
    # 5/34 = 14.706%: every rule gives 14.7, none 14.9
    v = rp.judge(figure(printed="14.9%", numerator=5, denominator=34, value=14.9), result(5, 34))
    assert v.verdict == rp.NOT_REPRODUCED
    assert "beyond rounding" in v.reason and "14.706" in v.reason


def test_fraction_without_a_printed_percentage_is_judged_on_counts():
    v = rp.judge(figure(printed="7 of 23", numerator=7, denominator=23), result(7, 23))
    assert v.verdict == rp.REPRODUCED


# --- summaries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "printed, estimate, verdict, rules",
    [
        ("45", 45.0, rp.REPRODUCED, ()),
        ("45", 45.5, rp.UP_TO_ROUNDING, ("truncated",)),  # half-up and half-even give 46
        ("8%", 8.4, rp.UP_TO_ROUNDING, ("half_up", "half_even", "truncated", "double_rounded")),
        ("69%", 70.0, rp.NOT_REPRODUCED, ()),
    ],
)
def test_median_is_compared_with_the_estimate_at_printed_precision(
    printed, estimate, verdict, rules
):
    v = rp.judge(
        figure("median", printed, value=float(printed.rstrip("%"))), result(estimate=estimate)
    )
    assert v.verdict == verdict and v.rules == rules


# --- p-values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "printed, p, verdict",
    [
        ("p=0.02", 0.0213, rp.UP_TO_ROUNDING),  # 0.0213 -> 0.02
        ("p=0.03", 0.026, rp.UP_TO_ROUNDING),  # 0.026 -> 0.03
        ("p=0.02", 0.04, rp.NOT_REPRODUCED),  # 0.04 -> 0.04
        ("p=0.02", 0.026, rp.NOT_REPRODUCED),  # would need truncation, not granted to p-values
        ("p<0.05", 0.01, rp.UP_TO_ROUNDING),  # below the printed bound
        ("p<0.05", 0.07, rp.NOT_REPRODUCED),
    ],
)
def test_p_value_is_reproduced_only_when_it_rounds_to_the_printed_value(printed, p, verdict):
    v = rp.judge(
        figure("p_value", printed, value=0.02, result_key="y[g]~fisher"),
        result(p_value=p, key="y[g]~fisher"),
    )
    assert v.verdict == verdict


def _judge_printed_p_003_against(chi2_p: float):
    """The verdict on a printed p=0.03 whose Fisher test gave 0.128, chi-square ``chi2_p``."""
    recorded = pd.DataFrame(
        [result(p_value=0.128, key="y[g]~fisher"), result(p_value=chi2_p, key="y[g]~chi2")]
    )
    return rp.judge(
        figure("p_value", "p=0.03", result_key="y[g]~fisher"),
        recorded.iloc[0].to_dict(),
        alternatives=pvalues.p_value_candidates("p=0.03", recorded, "y", "g"),
    )


def test_unmatched_p_value_says_when_no_recorded_test_prints_as_the_paper_value():
    # 0.128 -> 0.13 and 0.0431 -> 0.04 rounded, 0.12 and 0.04 truncated: none prints 0.03
    v = _judge_printed_p_003_against(0.0431)
    assert v.verdict == rp.NOT_REPRODUCED
    assert v.reason == (
        "p-value differs: printed 0.03, Fisher exact on g gives 0.1280; no recorded two-sided "
        "exact test prints as 0.03; no other recorded test prints as it, rounded or truncated"
    )


def test_unmatched_p_value_names_a_rounding_match_of_a_non_exact_test_as_a_possibility_only():
    # chi-square 0.0298 rounds to 0.03, but it is asymptotic: named, not accepted
    v = _judge_printed_p_003_against(0.0298)
    assert v.verdict == rp.NOT_REPRODUCED
    assert "no recorded two-sided exact test prints as 0.03" in v.reason
    assert (
        "possibilities, not accepted: chi-square on g 0.0298 when rounded [asymptotic]" in v.reason
    )


def test_unmatched_p_value_names_an_exact_test_of_another_grouping_that_rounds_to_it():
    # Barnard on the other grouping h: 0.0298 -> 0.03 rounded; the figure's own test stays unmatched
    recorded = pd.DataFrame(
        [
            result(p_value=0.128, key="y[g_group]~fisher"),
            result(p_value=0.0298, key="y[g_group2]~barnard"),
        ]
    )
    fig = figure("p_value", "p=0.03", result_key="y[g_group]~fisher")
    v = rp.judge(
        fig, recorded.iloc[0].to_dict(), alternatives=pvalues.figure_candidates(fig, recorded)
    )
    assert v.verdict == rp.NOT_REPRODUCED
    assert "rounded, an exact test prints as 0.03: Barnard exact on g_group2 0.0298" in v.reason


def test_p_value_verdict_detail_names_the_same_possibilities_as_the_hard_case_section():
    # The p = 0.03 case with the auditor's values: rounded half-up only mid-p 0.0325 gives 0.03;
    # truncated, Barnard 0.0366 gives 0.03 too (rounding gives 0.04); no exact test rounds to 0.03.
    pub = post_p_003()
    v = rp.judge_all(pub, post_results()).iloc[0]
    assert v["verdict"] == rp.NOT_REPRODUCED
    assert v["detail"] == (
        "p-value differs: printed 0.03, Fisher exact on Bone marrow blasts after debulking gives 0.1280; "
        "no recorded two-sided "
        "exact test prints as 0.03; possibilities, not accepted: Fisher mid-p on "
        "Bone marrow blasts after debulking (2 groups, high cut-off) 0.0325 when "
        "rounded [mid-p (not exact: its size can exceed alpha)] (two-sided as Fisher's two-sided p minus half "
        "the observed table's probability (Lancaster); as twice the smaller one-sided mid-p: not recorded); "
        "Barnard exact on Bone marrow blasts after debulking (2 groups, high cut-off) 0.0366 only if truncated [exact]"
    )
    text = pvalues.describe_candidates(
        "p=0.03", pvalues.figure_candidates(pub.iloc[0], post_results())
    )
    assert (
        "Fisher mid-p on Bone marrow blasts after debulking (2 groups, high cut-off)" in text
        and "Barnard exact on Bone marrow blasts after debulking (2 groups, high cut-off)" in text
    )


@pytest.mark.parametrize(
    "by, family",
    [
        ("bmb_post_group", "bmb_post"),
        ("bmb_post_split_low", "bmb_post"),
        ("bmb_post_split_high", "bmb_post"),
        ("high_burden", "high_burden"),
        ("lines_group", "lines"),
        ("lines_group3", "lines"),
    ],
)
def test_grouping_family_drops_only_a_trailing_group_or_split_suffix(by, family):
    assert pvalues.grouping_family(by) == family


def test_candidate_classes_sort_recorded_tests_by_how_they_print():
    # 0.0298 rounds to 0.03 (Fisher: exact hit; chi2: other hit); 0.0366 truncates to 0.03 only
    recorded = pd.DataFrame(
        [
            result(p_value=0.0298, key="y[g]~fisher"),
            result(p_value=0.0298, key="y[g]~chi2"),
            result(p_value=0.0366, key="y[g]~boschloo"),
        ]
    )
    classes = pvalues.classify_candidates(pvalues.p_value_candidates("p=0.03", recorded, "y", "g"))
    assert [r["test"] for r in classes.exact_hits] == ["fisher"]
    assert [r["test"] for r in classes.other_hits] == ["chi2"]
    assert [r["test"] for r in classes.truncated] == ["boschloo"]
    assert len(classes.recorded) == 3
    assert sorted(r["test"] for r in classes.not_recorded) == ["barnard", "chi2_yates"]


def test_p_value_candidates_list_missing_tests_as_not_recorded_without_computing():
    recorded = pd.DataFrame(
        [
            result(p_value=0.0216, key="any_cr[high_burden]~fisher"),
            result(p_value=0.5, key="any_cr[lines_group]~fisher"),
            result(p_value=0.07, key="any_cr[high_burden_alt|x=1]~chi2"),
        ]
    )
    cands = pvalues.p_value_candidates("p=0.02", recorded, "any_cr", "high_burden")
    assert set(cands["grouping"]) == {"high_burden", "high_burden_alt|x=1"}
    main = cands[cands["grouping"] == "high_burden"].set_index("test")
    assert main.loc["fisher", "status"] == "recorded" and bool(main.loc["fisher", "matches"])
    assert (main.drop(index="fisher")["status"] == "not recorded").all()
    assert main.drop(index="fisher")["p_value"].isna().all()
    assert len(cands) == 2 * len(pvalues.TESTS)


def test_p_value_without_a_recorded_value_is_not_recomputed():
    v = rp.judge(figure("p_value", "p=0.02", result_key="y[g]~fisher"), result(key="y[g]~fisher"))
    assert v.verdict == rp.NOT_RECOMPUTED and "not recorded" in v.reason


# --- figures that cannot be recomputed -----------------------------------------------


def test_external_figure_without_a_type_is_not_recomputed_with_its_note():
    v = rp.judge(figure("external", "36%", value=36, result_key="", note="historic rate"), None)
    assert v.verdict == rp.NOT_RECOMPUTED
    assert v.reason == "external: no cohort counterpart (historic rate)"


@pytest.mark.parametrize(
    "etype, cid, reason",
    [
        ("protocol", "", "external: dosing schedule, not a column of the data contract"),
        ("literature", "", "external: literature figure, no comparator row"),
        ("assay", "", "external: assay property, not a column of the data contract"),
        (
            "definition",
            "",
            "external: definition or cut-off, an input of the analysis rather than a result",
        ),
    ],
)
def test_external_figure_reason_comes_from_its_external_type(etype, cid, reason):
    fig = {
        **figure("external", "9 mcg/day", value=9, result_key=""),
        "external_type": etype,
        "comparator_id": cid,
    }
    v = rp.judge(fig, None)
    assert (v.verdict, v.reason) == (rp.NOT_RECOMPUTED, reason)


# --- figures that are sums of recorded counts ------------------------------------------


def test_sum_parts_split_only_at_a_plus_outside_brackets():
    assert rounding.sum_parts("n[r=a + b] + n[r=c]") == ("n[r=a + b]", "n[r=c]")
    assert rounding.sum_parts("n[r=a + b]") == ("n[r=a + b]",)
    assert rounding.sum_parts("") == ()


SUM_RESULTS = pd.DataFrame(
    [
        result(18, 34, key="n[cat=low]"),
        result(5, 34, key="n[cat=poly]"),
        result(1, 34, key="n[reg=v + p]"),
        result(1, 34, key="n[reg=s + p]"),
        result(4, 5, key="n[crs=True&g=1]"),
        result(0, 5, key="n[crs=True&g=2]"),
        result(3, 28, key="n[other=1]"),
    ]
)


@pytest.mark.parametrize(
    "fig, verdict, recomputed",
    [
        # Abstract: n=23 debulked with chemotherapy = 18 low-intensity + 5 polychemotherapy
        (
            figure("count", "n=23", 23, value=23, result_key="n[cat=low] + n[cat=poly]"),
            rp.REPRODUCED,
            "18 + 5 = 23",
        ),
        # Section 3.2: 2 TKI regimens with chemotherapy, 1 patient each; a level with " + " stays one key
        (
            figure("count", "2", 2, value=2, result_key="n[reg=v + p] + n[reg=s + p]"),
            rp.REPRODUCED,
            "1 + 1 = 2",
        ),
        # Section 3.3.1: grade 1-2 among the 5 CRS = 4 + 0 of 5 (80%)
        (
            figure("proportion", "", 4, 5, result_key="n[crs=True&g=1] + n[crs=True&g=2]"),
            rp.REPRODUCED,
            "(4 + 0)/5 = 80.00%",
        ),
        # a paper count of 22 against 18 + 5 = 23
        (
            figure("count", "n=22", 22, value=22, result_key="n[cat=low] + n[cat=poly]"),
            rp.NOT_REPRODUCED,
            "18 + 5 = 23",
        ),
    ],
)
def test_a_figure_keyed_by_a_sum_is_judged_against_the_summed_counts(fig, verdict, recomputed):
    v = rp.judge_all(pd.DataFrame([fig]), SUM_RESULTS).iloc[0]
    assert (v["verdict"], v["recomputed"]) == (verdict, recomputed)


def test_a_sum_with_a_missing_part_is_not_recomputed_and_says_how_many_parts_are_missing():
    fig = figure("count", "n=23", 23, value=23, result_key="n[cat=low] + n[cat=none]")
    v = rp.judge_all(pd.DataFrame([fig]), SUM_RESULTS).iloc[0]
    assert v["verdict"] == rp.NOT_RECOMPUTED
    assert v["detail"] == "no notebook recorded 1 of the 2 figures it adds up"


def test_a_sum_of_counts_with_different_denominators_has_no_denominator():
    by_key = {r["key"]: r for r in SUM_RESULTS.to_dict("records")}
    row, missing = rp.lookup_result(by_key, "n[cat=low] + n[other=1]")
    assert (row["numerator"], row["denominator"], missing) == (21, None, ())
    row, _ = rp.lookup_result(by_key, "n[cat=low] + n[cat=poly]")
    assert (row["numerator"], row["denominator"], row["terms"]) == (23, 34, (18, 5))


def test_figure_without_result_key_is_not_recomputed():
    v = rp.judge(figure("count", "n=23", 23, value=23, result_key="", note="no single key"), None)
    assert v.verdict == rp.NOT_RECOMPUTED and "no result key" in v.reason


def test_figure_whose_key_no_notebook_recorded_is_not_recomputed():
    v = rp.judge(figure("count", "7", 7, value=7, result_key="n[x=1]"), None)
    assert v.verdict == rp.NOT_RECOMPUTED and v.reason == "no notebook recorded it"


# --- all figures, summary, replication ---------------------------------------------------

PUBLISHED = pd.DataFrame(
    [
        figure("count", "34", 34, value=34, result_key="n[all]", fid="a", location="Abstract"),
        figure("proportion", "67.6%", 23, 34, 67.6, "any_cr[all]", fid="b", location="Abstract"),
        figure("proportion", "53.5%", 15, 28, 53.5, "n[c=1]", fid="c", location="Results"),
        figure(
            "p_value", "p=0.02", value=0.02, result_key="y[g]~fisher", fid="d", location="Results"
        ),
        figure("external", "36%", value=36, result_key="", fid="e", location="Discussion"),
    ]
)
RESULTS = pd.DataFrame(
    [
        result(34, 34, key="n[all]"),
        result(22, 34, key="any_cr[all]"),
        result(15, 28, key="n[c=1]"),
        result(p_value=0.0216, key="y[g]~fisher"),
    ]
)


def test_judge_all_gives_one_row_per_figure_with_hand_derived_verdicts():
    before = PUBLISHED.copy()
    v = rp.judge_all(PUBLISHED, RESULTS)
    pd.testing.assert_frame_equal(PUBLISHED, before)  # input untouched
    assert list(v.columns) == list(rp.VERDICT_COLUMNS)
    assert list(v["verdict"]) == [
        rp.REPRODUCED,
        rp.NOT_REPRODUCED,
        rp.UP_TO_ROUNDING,
        rp.UP_TO_ROUNDING,
        rp.NOT_RECOMPUTED,
    ]
    assert list(v["basis"]) == [
        "by construction (solver constraint)",
        "genuine finding (a constrained figure the analysis defines differently)",
        "counts by construction; printed rounding a genuine check",
        "genuine check (not a solver constraint)",
        "not checked",
    ]


def test_summary_counts_verdicts_by_location_and_in_total():
    s = rp.summary(rp.judge_all(PUBLISHED, RESULTS)).set_index("location")
    assert list(s.index) == ["Abstract", "Results", "Discussion", "All figures"]
    assert s.loc["Abstract", rp.REPRODUCED] == 1 and s.loc["Abstract", rp.NOT_REPRODUCED] == 1
    assert s.loc["Results", rp.UP_TO_ROUNDING] == 2
    assert s.loc["All figures"].to_dict() == {
        "figures": 5,
        rp.REPRODUCED: 1,
        rp.UP_TO_ROUNDING: 2,
        rp.NOT_REPRODUCED: 1,
        rp.NOT_RECOMPUTED: 1,
    }


def test_summary_results_record_each_verdict_count_with_all_figures_as_denominator():
    rows = rp.summary_results(rp.judge_all(PUBLISHED, RESULTS)).set_index("key")
    assert rows.loc["figures[all]", "numerator"] == 5
    assert rows.loc[f"figures[verdict={rp.UP_TO_ROUNDING}]", "numerator"] == 2
    assert rows.loc[f"figures[verdict={rp.UP_TO_ROUNDING}]", "estimate"] == pytest.approx(0.4)


def test_other_data_get_a_replication_view_not_failures():
    # a: the number of patients, a property of the sample: shown, not judged; b: paper 23/34 = 67.6%
    # lies inside the exact CI of 22/34 (R binom.test: 0.4653-0.8032); c: equal counts; d: both p
    # below 0.05.
    v = rp.judge_all(PUBLISHED, RESULTS, reconstructed=False)
    assert list(v["verdict"]) == [rp.SHOWN] + ["consistent with the paper"] * 3 + ["not recomputed"]
    assert set(v["basis"]) == {
        "your data vs the paper",
        "not checked",
        "property of the sample (shown, not judged)",
    }
    assert not v["verdict"].str.contains("not reproduced").any()
    s = rp.summary(v).set_index("location")
    assert s.loc["All figures", "consistent with the paper"] == 3


def test_replication_compares_rates_by_whether_the_papers_rate_is_inside_the_datas_exact_ci():
    # R binom.test(10, 100)$conf.int = 0.0490-0.1762: the paper's 23/34 = 67.6% is above it
    fig = figure(printed="67.6%", numerator=23, denominator=34, value=67.6)
    v = rp.judge_replication(fig, result(10, 100))
    assert v.verdict == rp.NOT_REPRODUCED and "above the data's 95% CI" in v.reason
    assert v.recomputed_text == "10/100 = 10.0% (95% CI 4.9–17.6%)"
    # R binom.test(65, 100)$conf.int = 0.5482-0.7427: 67.6% inside, though the counts differ
    v = rp.judge_replication(fig, result(65, 100))
    assert v.verdict == rp.REPRODUCED and "inside the data's 95% CI" in v.how
    assert "count differs" not in v.how + v.reason


def test_replication_compares_a_bare_count_as_a_share_of_the_whole_cohort_only():
    # paper 14 of its 34 patients = 41.2%; data 36/100, R binom.test CI 0.2664-0.4621: inside
    fig = figure("count", "14", 14, value=14, result_key="n[source=neuf]")
    v = rp.judge_replication(
        fig, result(36, 100, key="n[source=neuf]"), paper_total=34, data_total=100
    )
    assert v.verdict == rp.REPRODUCED and "14/34" in v.how
    # the data's denominator is a subgroup (40 of 100): no paper denominator to compare with
    v = rp.judge_replication(
        fig, result(36, 40, key="n[source=neuf]"), paper_total=34, data_total=100
    )
    assert v.verdict == rp.NOT_RECOMPUTED and "not compared" in v.reason


def test_replication_of_a_p_value_compares_significance_and_direction():
    fig = figure("p_value", "p=0.02", value=0.02, result_key="y[g]~fisher")
    paper = {"a": (12, 13), "b": (10, 20)}  # higher rate in a
    same = rp.judge_replication(
        fig,
        result(p_value=0.03, key="y[g]~fisher"),
        paper_groups=paper,
        data_groups={"a": (30, 36), "b": (38, 63)},
    )
    assert (
        same.verdict == rp.REPRODUCED
        and "higher rate in a in the paper, in a in the data" in same.how
    )
    weaker = rp.judge_replication(
        fig,
        result(p_value=0.08, key="y[g]~fisher"),
        paper_groups=paper,
        data_groups={"a": (30, 36), "b": (38, 63)},
    )
    assert weaker.verdict == rp.NOT_REPRODUCED and weaker.reason.startswith("significance differs")
    flipped = rp.judge_replication(
        fig,
        result(p_value=0.01, key="y[g]~fisher"),
        paper_groups=paper,
        data_groups={"a": (5, 20), "b": (15, 20)},
    )
    assert flipped.verdict == rp.NOT_REPRODUCED and flipped.reason.startswith("direction differs")
    # Fisher on 12/13, 10/20, 0/2 is 0.0056 (R: fisher.test(rbind(c(12, 1), c(10, 10), c(0, 2))))
    three_fig = figure("p_value", "p=0.006", value=0.006, result_key="y[g]~fisher")
    three = rp.judge_replication(
        three_fig,
        result(p_value=0.01, key="y[g]~fisher"),
        paper_groups={**paper, "c": (0, 2)},
        data_groups={**paper, "c": (0, 2)},
    )
    assert three.verdict == rp.REPRODUCED and "not two groups" in three.how


def test_a_printed_p_value_whose_test_is_not_known_is_not_compared_on_other_data():
    # The paper's p = 0.03 for CR by post-debulking blasts (14/18, 2/2, 0/2): Fisher's exact test on
    # the paper's own counts gives 0.1278 (R: fisher.test(rbind(c(14, 4), c(2, 0), c(0, 2)))$p.value
    # = 0.127819548872), so which test the paper ran is unknown and no verdict is given.
    fig = figure("p_value", "p=0.03", value=0.03, result_key="y[g]~fisher")
    paper = {"<20": (14, 18), "20-49": (2, 2), ">=50": (0, 2)}
    v = rp.judge_replication(
        fig,
        result(p_value=0.02, key="y[g]~fisher"),
        paper_groups=paper,
        data_groups={"<20": (140, 180), "20-49": (20, 25), ">=50": (3, 20)},
    )
    assert v.verdict == rp.NOT_RECOMPUTED
    assert v.reason == (
        "the paper's test is not known (Fisher exact on its own counts gives 0.1278, not the printed 0.03), "
        "so its p-value is not compared"
    )


def test_group_rates_reads_the_levels_behind_a_test_key_without_missing():
    counts = {
        "any_cr[g=<50]": (16, 20),
        "any_cr[g=>=50]": (0, 2),
        "any_cr[g=missing]": (7, 12),
        "any_cr[g2=x]": (1, 1),
        "any_cr[all]": (23, 34),
    }
    assert pvalues.group_rates(counts, "any_cr[g]~fisher") == {"<50": (16, 20), ">=50": (0, 2)}
    assert pvalues.group_rates(counts, "not a test key") == {}


COMPARATORS = pd.DataFrame(
    [
        {"id": "tower_full", "numerator": 91, "denominator": 271, "percent": 33.6},
        {"id": "alcantara", "numerator": 16, "denominator": 45, "percent": 35.6},
        {"id": "alcantara_mrd", "numerator": 14, "denominator": 16, "percent": 88.0},
        {"id": "tower_chemo", "numerator": None, "denominator": 134, "percent": 16.0},
    ]
)


@pytest.mark.parametrize(
    "printed, cid, verdict, rules",
    [
        # 91/271 = 33.58 -> 34 rounded (33.6 -> 34 rounded twice); truncation would give 33
        ("34%", "tower_full", rp.UP_TO_ROUNDING, ("half_up", "half_even", "double_rounded")),
        (
            "35.6%",
            "alcantara",
            rp.UP_TO_ROUNDING,
            ("half_up", "half_even", "double_rounded"),
        ),  # 35.556
        ("87.5%", "alcantara_mrd", rp.REPRODUCED, ()),  # 14/16 = 87.5 exactly
        ("16%", "tower_chemo", rp.REPRODUCED, ()),  # rate only: 16 as printed
        ("35.7%", "alcantara", rp.NOT_REPRODUCED, ()),  # 35.556: 35.6 rounded, 35.5 truncated
        ("15%", "tower_chemo", rp.NOT_REPRODUCED, ()),
    ],
)
def test_historic_rates_the_paper_quotes_are_judged_against_the_comparator_file(
    printed, cid, verdict, rules
):
    fig = {**figure("external", printed, result_key=""), "comparator_id": cid}
    row = COMPARATORS.set_index("id").loc[cid].to_dict() | {"id": cid}
    v = rp.judge(fig, None, comparator=row)
    assert v.verdict == verdict and v.rules == rules


def test_comparator_checks_are_genuine_in_both_views_and_unlinked_externals_stay_unchecked():
    pub = pd.DataFrame(
        [
            {**figure("external", "34%", result_key="", fid="t"), "comparator_id": "tower_full"},
            {**figure("external", "48%", result_key="", fid="u"), "comparator_id": ""},
        ]
    )
    for reconstructed in (True, False):
        v = rp.judge_all(pub, RESULTS, reconstructed=reconstructed, comparators=COMPARATORS)
        assert list(v["basis"]) == [rp.COMPARATOR_BASIS, "not checked"]
        assert v.loc[0, "result_key"] == "comparator[tower_full]"
    # without the comparator file the linked figure is not recomputed, and says why
    v = rp.judge_all(pub, RESULTS)
    assert v.loc[0, "verdict"] == rp.NOT_RECOMPUTED and "no comparator file" in v.loc[0, "detail"]


# --- the p = 0.03 candidates ----------------------------------------------------------------

# Auditor's independent values for CR by post-debulking blasts <50% (16/20) vs >=50% (0/2).
AUDITOR_HIGH_SPLIT = {
    "fisher": 0.0649,
    "chi2": 0.0154,
    "chi2_yates": 0.112,
    "barnard": 0.0366,
    "boschloo": 0.0527,
    "fisher_midp": 0.0325,
}


def post_results():
    rows = [
        result(14, 18, key="any_cr[bmb_post_group=<20]"),
        result(2, 2, key="any_cr[bmb_post_group=20-49]"),
        result(0, 2, key="any_cr[bmb_post_group=>=50]"),
        result(7, 12, key="any_cr[bmb_post_group=missing]"),
        result(p_value=0.128, key="any_cr[bmb_post_group]~fisher"),
        result(16, 20, key="any_cr[bmb_post_split_high=<50]"),
        result(0, 2, key="any_cr[bmb_post_split_high=>=50]"),
    ]
    rows += [
        result(p_value=p, key=f"any_cr[bmb_post_split_high]~{t}")
        for t, p in AUDITOR_HIGH_SPLIT.items()
    ]
    return pd.DataFrame(rows)


def post_p_003() -> pd.DataFrame:
    """The paper's p = 0.03 for CR by blasts after debulking, as a one-figure table."""
    return pd.DataFrame(
        [
            figure(
                "p_value",
                "p=0.03",
                value=0.03,
                result_key="any_cr[bmb_post_group]~fisher",
                fid="post",
            )
        ]
    )


def test_p_candidates_separate_rounding_matches_from_truncation_only_matches():
    cands = pvalues.p_value_candidates(
        "p=0.03",
        post_results(),
        "any_cr",
        "bmb_post",
        expected=pvalues.TESTS_WITH_MIDP,
        groupings=("bmb_post_group", "bmb_post_split_low", "bmb_post_split_high"),
    )
    high = cands[cands["grouping"] == "bmb_post_split_high"].set_index("test")
    # rounded half-up to 2 decimals: 0.06, 0.02, 0.11, 0.04, 0.05, 0.03 -> only mid-p prints 0.03
    assert list(high.index[high["matches"]]) == ["fisher_midp"]
    # truncated: 0.0366 -> 0.03 (Barnard) is the only truncation-only match
    assert list(high.index[high["truncation_only"]]) == ["barnard"]
    assert high.loc["barnard", "rounded"] == "0.04"
    assert high["split"].iloc[0] == "<50: 16/20 · ≥50: 0/2"
    # a grouping with nothing recorded yet is still listed, every test "not recorded"
    two = cands[cands["grouping"] == "bmb_post_split_low"]
    assert len(two) == len(pvalues.TESTS_WITH_MIDP) and set(two["status"]) == {"not recorded"}
    text = pvalues.describe_candidates("p=0.03", cands)
    assert (
        "no recorded two-sided exact test (Fisher, Barnard, Boschloo) on any grouping prints as p=0.03"
        in text
    )
    assert (
        "**Possibility, rounded, mid-p" in text
        and "Fisher mid-p on Bone marrow blasts after debulking (2 groups, high cut-off)" in text
    )
    assert (
        "**Possibility, only if truncated (exact):** Barnard exact on Bone marrow blasts after debulking (2 groups, high cut-off)"
        in text
    )


def test_p_candidates_for_a_three_group_table_mark_two_by_two_tests_not_applicable():
    cands = pvalues.p_value_candidates("p=0.03", post_results(), "any_cr", "bmb_post_group")
    assert set(cands.loc[cands["test"].isin(["barnard", "boschloo", "chi2_yates"]), "status"]) == {
        "not applicable (3x2 table)"
    }


def test_two_by_two_only_tests_on_a_three_group_table_are_not_applicable_not_missing():
    # post_results(): bmb_post_group has 3 non-missing levels (<20, 20-49, >=50) and no mid-p row
    cands = pvalues.p_value_candidates(
        "p=0.03", post_results(), "any_cr", "bmb_post", expected=pvalues.TESTS_WITH_MIDP
    )
    three = cands[cands["grouping"] == "bmb_post_group"].set_index("test")
    assert three.loc["fisher_midp", "status"] == "not applicable (3x2 table)"
    text = pvalues.describe_candidates("p=0.03", cands)
    missing_line = next(ln for ln in text.splitlines() if ln.startswith("- Not recorded"))
    assert missing_line == (
        "- Not recorded (not computed here): chi-square on Bone marrow blasts after debulking, Boschloo exact "
        "(two-sided Fisher statistic) on Bone marrow blasts after debulking (2 groups, high cut-off), Fisher mid-p (twice "
        "one-sided) on Bone marrow blasts after debulking (2 groups, high cut-off)."
    )
    assert (
        "- Not applicable (2 x 2 tables only): chi-square with Yates on Bone marrow blasts after debulking, "
        "Barnard exact on Bone marrow blasts after debulking, Boschloo exact on Bone marrow blasts after debulking, "
        "Fisher mid-p on Bone marrow blasts after debulking, Boschloo exact (two-sided Fisher statistic) on Bone marrow blasts after debulking, "
        "Fisher mid-p (twice one-sided) on Bone marrow blasts after debulking."
    ) in text


def test_the_papers_shares_without_crs_fit_28_patients_not_the_29_its_text_implies():
    from helpers.published import load_published_figures

    # the paper: CRS in 5 of 34 -> 29 without; the four non-CRS percentages fit only 28
    figures = load_published_figures()
    shares = figures[figures["population"] == "crs == 'no'"]
    fitting = rounding.denominators_fitting(
        dict(zip(shares["id"], shares["printed"])), range(1, 35)
    )
    assert fitting.loc[fitting["sums_to_denominator"], "denominator"].tolist() == [28]


def test_rounding_evidence_keeps_only_figures_that_discriminate_between_rules():
    pub = pd.DataFrame(
        [
            figure(printed="53.5%", numerator=15, denominator=28, result_key="n[a=1]", fid="trunc"),
            figure(
                printed="78%", numerator=14, denominator=18, result_key="n[a=2]", fid="round"
            ),  # 77.8
            figure(
                printed="67.6%", numerator=23, denominator=34, result_key="n[a=3]", fid="any"
            ),  # 67.65
            figure(printed="81.3%", numerator=13, denominator=16, result_key="n[a=4]", fid="tie"),
        ]
    )
    res = pd.DataFrame(
        [
            result(15, 28, key="n[a=1]"),
            result(14, 18, key="n[a=2]"),
            result(23, 34, key="n[a=3]"),
            result(13, 16, key="n[a=4]"),
        ]
    )
    ev = rounding.rounding_evidence(rp.judge_all(pub, res)).set_index("id")["evidence"].to_dict()
    assert ev == {
        "trunc": "truncation only",
        "round": "rounding only (truncation would differ)",
        "tie": "tie broken half-up",
    }


# --- the CRS denominators ----------------------------------------------------------------


def test_only_28_fits_the_four_non_crs_percentages():
    # 15/28 = 53.57 (53.5 truncated), 6/28 = 21.43, 4/28 = 14.29 (14.2 truncated),
    # 3/28 = 10.71; 15 + 6 + 4 + 3 = 28. For 29: 53.5% of 29 = 15.5, no integer near.
    printed = {"low": "53.5%", "ster": "21.4%", "poly": "14.2%", "tki": "10.7%"}
    table = rounding.denominators_fitting(printed, range(20, 35)).set_index("denominator")
    assert list(table.index[table["fits_all"]]) == [28]
    assert table.loc[28, ["low", "ster", "poly", "tki"]].tolist() == ["15", "6", "4", "3"]
    assert bool(table.loc[28, "sums_to_denominator"])
    assert table.loc[29, "low"] == ""


def test_two_by_two_only_tests_are_not_applicable_to_a_three_level_grouping():
    recorded = pd.DataFrame(
        [
            result(14, 18, key="any_cr[g=<20]"),
            result(2, 2, key="any_cr[g=20-49]"),
            result(0, 2, key="any_cr[g=>=50]"),
            result(7, 12, key="any_cr[g=missing]"),
            result(p_value=0.128, key="any_cr[g]~fisher"),
            result(p_value=0.043, key="any_cr[g]~chi2"),
        ]
    )
    cands = pvalues.p_value_candidates("p=0.03", recorded, "any_cr", "g").set_index("test")
    assert cands.loc["barnard", "status"] == "not applicable (3x2 table)"
    assert cands.loc["chi2_yates", "status"] == "not applicable (3x2 table)"
    assert not cands["matches"].any()  # 0.128 -> 0.13, 0.043 -> 0.04


def test_upstream_results_missing_raise_an_error_telling_to_run_01_to_05(tmp_path):
    (tmp_path / "results").mkdir()
    from helpers.results import result_frame

    result_frame([{"key": "n[all]"}], "01_x").to_csv(tmp_path / "results" / "01_x.csv", index=False)
    with pytest.raises(FileNotFoundError, match="02, 03, 04, 05.*run notebooks 01-05 first"):
        rp.read_upstream_results(tmp_path)
    assert len(rp.read_upstream_results(tmp_path, required=("01",))) == 1


def test_summary_results_cite_every_verdict_even_when_none_has_it():
    rows = rp.summary_results(rp.judge_all(PUBLISHED.iloc[:1], RESULTS)).set_index("key")
    assert rows.loc[f"figures[verdict={rp.NOT_REPRODUCED}]", "numerator"] == 0


# --- fitting numerators in closed form vs brute force ------------------------------------


def _fitting_by_brute_force(text: str, d: int, rules=rounding.RULES) -> tuple[int, ...]:
    """Every k in 0..d whose exact 100 k / d prints as ``text`` under a rule (Fraction arithmetic)."""
    shown = rounding.printed_percent(text)
    return tuple(
        k
        for k in range(d + 1)
        if Fraction(100 * k, d) == shown.value
        or rounding.matching_rules(Fraction(100 * k, d), shown.value, shown.decimals, rules)
    )


@pytest.mark.parametrize(
    "text",
    [
        "53.5%",
        "21.4%",
        "14.2%",
        "10.7%",
        "81.3%",
        "17.7%",
        "0%",
        "100%",
        "0.0%",
        "100.0%",
        "12.5%",
        "33%",
        "2.25%",
        "99.9%",
    ],
)
@pytest.mark.parametrize(
    "rules", [rounding.RULES, ("half_up",), ("half_even",), ("truncated",), ("double_rounded",), ()]
)
def test_fitting_numerators_equal_a_brute_force_scan_of_every_numerator(text, rules):
    for d in range(1, 70):
        assert rounding.fitting_numerators(text, d, rules) == _fitting_by_brute_force(
            text, d, rules
        ), d


def test_fitting_numerators_for_a_large_denominator_equal_a_brute_force_scan():
    assert rounding.fitting_numerators("53.5%", 20_000) == _fitting_by_brute_force("53.5%", 20_000)


def test_denominators_fitting_sums_agree_with_enumerating_every_choice_of_numerators():
    printed = {"low": "53.5%", "ster": "21.4%", "poly": "14.2%", "tki": "10.7%"}
    table = rounding.denominators_fitting(printed, range(1, 150)).set_index("denominator")
    for d in range(1, 150):
        fits = [_fitting_by_brute_force(t, d) for t in printed.values()]
        totals = {sum(choice) for choice in itertools.product(*fits)}
        assert bool(table.loc[d, "fits_all"]) == all(fits), d
        assert bool(table.loc[d, "sums_to_denominator"]) == (d in totals), d


def test_denominators_fitting_handles_a_hundred_thousand_candidates_and_writes_long_runs_as_ranges():
    printed = {"low": "53.5%", "ster": "21.4%"}
    table = rounding.denominators_fitting(printed, range(1, 100_001)).set_index("denominator")
    run = _fitting_by_brute_force("53.5%", 20_000)
    assert len(run) > rounding.LISTED_NUMERATORS_MAX
    assert table.loc[20_000, "low"] == f"{run[0]}–{run[-1]}"


def test_a_count_that_is_not_a_share_of_patients_is_not_replicated():
    # 7 centres in the paper, 5 distinct codes in other data: not a rate, nothing to compare
    v = rp.judge_replication(
        figure("count", "7", 7, value=7, result_key="center.distinct[all]"),
        result(5, None, key="center.distinct[all]"),
        paper_total=34,
        data_total=120,
    )
    assert v.verdict == rp.NOT_RECOMPUTED and "not a share of patients" in v.reason


def test_the_p_003_verdict_names_the_two_sided_convention_each_match_depends_on():
    # on 16/20 vs 0/2: Boschloo 0.0527 (scipy: twice the smaller one-sided p)
    # vs 0.0264 (two-sided Fisher p as statistic); mid-p 0.0325 (Lancaster) vs 0.0649 (doubled)
    rows = post_results()
    rows = pd.concat(
        [
            rows,
            pd.DataFrame(
                [
                    result(p_value=0.0264, key="any_cr[bmb_post_split_high]~boschloo_fisher2"),
                    result(p_value=0.0649, key="any_cr[bmb_post_split_high]~fisher_midp_doubled"),
                ]
            ),
        ],
        ignore_index=True,
    )
    pub = post_p_003()
    detail = rp.judge_all(pub, rows).iloc[0]["detail"]
    assert (
        "rounded, an exact test prints as 0.03: Boschloo exact (two-sided Fisher statistic) on "
        "Bone marrow blasts after debulking (2 groups, high cut-off) 0.0264 (two-sided as the two-sided Fisher p as statistic; as twice the "
        "smaller one-sided p (scipy's convention): 0.0527)"
    ) in detail
    assert "as twice the smaller one-sided mid-p: 0.0649" in detail
    text = pvalues.describe_candidates("p=0.03", pvalues.figure_candidates(pub.iloc[0], rows))
    assert (
        "- **Convention:** Fisher mid-p on Bone marrow blasts after debulking (2 groups, high cut-off) prints as p=0.03"
        in text
    )
    assert "it is 0.0649, which does not print as p=0.03" in text


def test_an_asymptotic_fallback_is_not_counted_as_an_exact_test():
    rows = pd.DataFrame(
        [
            result(p_value=0.128, key="y[g_group]~fisher"),
            result(
                p_value=0.0298,
                key="y[g_group2]~boschloo",
                method="pooled z-test (Pearson chi-square) in place of Boschloo's exact test (2x2, two-sided, "
                "asymptotic; exact infeasible at n=9000+9000: work 1 > 0)",
            ),
        ]
    )
    fig = figure("p_value", "p=0.03", result_key="y[g_group]~fisher")
    cands = pvalues.figure_candidates(fig, rows).set_index("key")
    assert cands.loc["y[g_group2]~boschloo", "test_kind"].startswith("asymptotic")
    assert cands.loc["y[g_group2]~boschloo", "test_name"] == (
        "pooled z-test (Pearson chi-square) in place of Boschloo exact"
    )
    v = rp.judge(fig, rows.iloc[0].to_dict(), alternatives=pvalues.figure_candidates(fig, rows))
    assert "no recorded two-sided exact test prints as 0.03" in v.reason


# (run cut-offs, result key, expected differences) against the paper's cut-offs
DEFINITION_CASES = [
    ({"bmb_high_cutoff": 50}, "any_cr[high_burden=True]", ()),
    (
        {"bmb_high_cutoff": 60},
        "any_cr[high_burden=True]",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    (
        {"bmb_high_cutoff": 60},
        "any_cr[high_burden]~fisher",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    (
        {"bmb_high_cutoff": 60},
        "any_cr[bmb_post_split_high]~boschloo",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    ({"bmb_high_cutoff": 60}, "any_cr[lines_group]~fisher", ()),
    ({"lines_cutoff": 3}, "any_cr[lines_group]~fisher", ("lines_cutoff 3 here, 2 in the paper",)),
    ({"age_cutoff": 60}, "n[age_group=<50]", ("age_cutoff 60 here, 50 in the paper",)),
    # the highest of three blast groups depends on the high cut-off only, the lowest on the low one
    (
        {"bmb_low_cutoff": 10, "bmb_high_cutoff": 60},
        "n[bmb_baseline_group=>=50]",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    ({"bmb_high_cutoff": 60}, "any_cr[bmb_post_group=<20]", ()),
    (
        {"bmb_low_cutoff": 10},
        "any_cr[bmb_post_group=<20]",
        ("bmb_low_cutoff 10 here, 20 in the paper",),
    ),
    (
        {"bmb_high_cutoff": 60},
        "any_cr[bmb_post_group=20-49]",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    # patients without a value are the same group at any cut-off
    ({"bmb_high_cutoff": 60, "bmb_low_cutoff": 10}, "mrd_negative[bmb_baseline_group=missing]", ()),
    (
        {"bmb_high_cutoff": 60},
        "any_cr[bmb_post_group]~fisher",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
    ({"bmb_high_cutoff": 60}, "any_cr[all]", ()),
    (
        {"bmb_high_cutoff": 60},
        "n[high_burden=True&debulking_category=tki]",
        ("bmb_high_cutoff 60 here, 50 in the paper",),
    ),
]


@pytest.mark.parametrize("run, key, expected", DEFINITION_CASES)
def test_definition_check_names_every_cut_off_the_run_sets_differently_from_the_paper(
    run, key, expected
):
    from helpers import published

    paper = published.paper_cutoffs(published.load_published_figures())
    assert paper == {
        "bmb_high_cutoff": 50,
        "age_cutoff": 50,
        "bmb_low_cutoff": 20,
        "lines_cutoff": 2,
    }
    assert published.definition_differences(published.cutoffs_used(key), run, paper) == expected


def test_a_figure_under_another_cut_off_is_a_different_definition_never_consistent():
    from helpers import published

    pub = (
        published.load_published_figures()
    )  # the whole file: its definition rows set the paper's cut-offs
    rows = pd.DataFrame(
        [
            result(10, 20, key="any_cr[high_burden=True]"),
            result(12, 13, key="any_cr[high_burden=False]"),
            result(p_value=0.0216, key="any_cr[high_burden]~fisher"),
            result(17, 20, key="any_cr[lines_group=<=2]"),
            result(6, 14, key="any_cr[lines_group=>2]"),
            result(p_value=0.023, key="any_cr[lines_group]~fisher"),
            result(34, 34, key="n[all]"),
        ]
    )
    for reconstructed in (True, False):
        v = rp.judge_all(
            pub,
            rows,
            reconstructed=reconstructed,
            cutoffs={"bmb_high_cutoff": 60, "lines_cutoff": 2},
        ).set_index("id")
        assert v.loc["s333_cr_bmb_baseline_ge50", "verdict"] == rp.DIFFERENT_DEFINITION
        assert v.loc["s333_p_cr_bmb_baseline", "verdict"] == rp.DIFFERENT_DEFINITION
        assert (
            v.loc["s333_p_cr_bmb_baseline", "detail"]
            == "not compared: bmb_high_cutoff 60 here, 50 in the paper"
        )
        assert v.loc["s333_p_cr_bmb_baseline", "basis"] == "not compared (different definition)"
        assert v.loc["s335_p_cr_lines", "verdict"] != rp.DIFFERENT_DEFINITION
    same = rp.judge_all(pub, rows, cutoffs={"bmb_high_cutoff": 50}).set_index("id")
    assert same.loc["s333_cr_bmb_baseline_ge50", "verdict"] == rp.REPRODUCED


def test_on_other_data_sample_properties_are_shown_not_judged():
    from helpers import published

    pub = published.load_published_figures()
    rows = pd.DataFrame(
        [
            result(50, 50, key="n[all]"),
            result(18, 50, key="n[source=neuf]"),
            result(9, key="center.distinct[all]"),
            result(37, 50, key="any_cr[all]"),
        ]
    )
    v = rp.judge_all(pub, rows, reconstructed=False, cutoffs={"bmb_high_cutoff": 50}).set_index(
        "id"
    )
    for fid in ("abs_n_patients", "s21_source_neuf", "abs_n_centres"):
        assert v.loc[fid, "verdict"] == rp.SHOWN, fid
        assert v.loc[fid, "basis"] == "property of the sample (shown, not judged)"
    assert v.loc["abs_cr_overall", "verdict"] == "consistent with the paper"
    shipped = rp.judge_all(pub, rows, reconstructed=True).set_index("id")
    assert shipped.loc["abs_n_patients", "verdict"] != rp.SHOWN


@pytest.mark.parametrize(
    "key, label, named",
    [
        ("y[g]~fisher", "y by g", "Fisher exact on g"),
        (
            "any_cr[lines_group]~fisher",
            "any_cr by lines_group",
            "Fisher exact on Previous treatment lines",
        ),
        (
            "any_cr[high_burden|ph_status=positive]~barnard",
            "any_cr by high_burden",
            "Barnard exact on High tumour burden (blasts before debulking), Ph status: Positive",
        ),
    ],
)
def test_a_differing_p_value_is_named_by_its_test_and_grouping_in_words_never_its_key(
    key, label, named
):
    row = result(p_value=0.128, key=key) | {"label": label}
    v = rp.judge(figure("p_value", "p=0.03", result_key=key), row)
    assert v.reason == f"p-value differs: printed 0.03, {named} gives 0.1280"
