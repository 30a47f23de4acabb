"""Tests of helpers.subgroups on a small hand-counted cohort."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers import results, stats, subgroups


@pytest.fixture
def cohort() -> pd.DataFrame:
    # Hand counts (outcome any_cr; NA = not evaluable):
    #   group "<20":   True, True, False        -> 2/3
    #   group "20-49": True                     -> 1/1
    #   group ">=50":  NA, False                -> 0/1 (NA excluded)
    #   group "x":     none                     -> 0/0
    #   missing group: True (None), False ("missing") -> 1/2
    return pd.DataFrame(
        {
            "any_cr": pd.array(
                [True, True, False, True, None, False, True, False], dtype="boolean"
            ),
            "grp": pd.Categorical(
                ["<20", "<20", "<20", "20-49", ">=50", ">=50", None, "missing"],
                categories=["<20", "20-49", ">=50", "x", "missing"],
            ),
            "high_burden": pd.array(
                [True, False, True, False, True, None, False, True], dtype="boolean"
            ),
            "crs_recorded": [True, True, True, True, True, True, False, False],
        }
    )


def test_rate_by_counts_levels_in_category_order_with_na_outcomes_excluded(cohort):
    rates = subgroups.rate_by(cohort, "any_cr", "grp").rates
    assert rates["level"].tolist() == ["<20", "20-49", ">=50", "x", "missing"]
    assert rates["numerator"].tolist() == [2, 1, 0, 0, 1]
    assert rates["denominator"].tolist() == [3, 1, 1, 0, 2]
    assert math.isnan(rates.loc[rates["level"] == "x", "estimate"].item())


def test_rate_by_gives_count_estimate_and_exact_interval(cohort):
    first = subgroups.rate_by(cohort, "any_cr", "grp").rates.iloc[0]
    # 2/3 exact 95% CI: lower solves P(X>=2|p)=0.025 -> 0.0943, upper 0.9916 (R binom.test(2, 3))
    assert (first["numerator"], first["denominator"]) == (2, 3)
    assert (first["estimate"], first["ci_low"], first["ci_high"]) == pytest.approx(
        (2 / 3, 0.0943, 0.9916), abs=5e-5
    )


def test_rate_by_accepts_only_tests_of_its_table_without_the_missing_row_and_empty_levels(cohort):
    # tested table: <20 (2, 1), 20-49 (1, 0), >=50 (0, 1); "x" is empty, the missing row is left out
    table = [[2, 1], [1, 0], [0, 1]]
    rt = subgroups.rate_by(cohort, "any_cr", "grp", tests=stats.all_tests(table))
    assert [t.short for t in rt.tests] == ["fisher", "chi2"]
    with pytest.raises(ValueError):
        subgroups.rate_by(cohort, "any_cr", "grp", tests=[stats.fisher_exact([*table, [1, 1]])])


def _cr_by_burden_where_crs_recorded(cohort) -> subgroups.RateTable:
    """CR by high_burden among patients with CRS recorded; Fisher's test of [[2, 0], [1, 1]]."""
    return subgroups.rate_by(
        cohort,
        "any_cr",
        "high_burden",
        where={"crs_recorded": True},
        tests=[stats.fisher_exact([[2, 0], [1, 1]])],
    )


def test_rate_by_orders_boolean_levels_false_then_true_and_applies_where(cohort):
    rt = _cr_by_burden_where_crs_recorded(cohort)
    rates = rt.rates
    # crs_recorded rows 0-5: high_burden False -> rows 1, 3 (True, True) = 2/2;
    # True -> rows 0, 2, 4 (True, False, NA) = 1/2; missing -> row 5 (False) = 0/1
    assert rates["level"].tolist() == ["False", "True", "missing"]
    assert rates["numerator"].tolist() == [2, 1, 0]
    assert rates["denominator"].tolist() == [2, 2, 1]
    # Fisher on [[2, 0], [1, 1]]: hypergeometric, margins 3 events / 4: p = 1 (hand: both tables
    # with x = 2 and x = 1 have probability 1/2)
    assert rt.tests[0].table == ((2, 0), (1, 1))
    assert rt.tests[0].p_value == pytest.approx(1.0)


def test_rate_by_without_grouping_gives_one_overall_row(cohort):
    rates = subgroups.rate_by(cohort, "any_cr").rates
    assert rates[["group_var", "level", "numerator", "denominator"]].values.tolist() == [
        ["all", "all", 4, 7]
    ]


def test_rate_table_results_builds_keys_from_filters(cohort):
    rt = _cr_by_burden_where_crs_recorded(cohort)
    rows = subgroups.rate_table_results(rt)
    assert rows["key"].tolist() == [
        "any_cr[crs_recorded=True&high_burden=False]",
        "any_cr[crs_recorded=True&high_burden=True]",
        "any_cr[crs_recorded=True&high_burden=missing]",
        "any_cr[high_burden|crs_recorded=True]~fisher",
    ]
    assert list(rows.columns) == [c for c in results.RESULT_COLUMNS if c != "notebook"]
    assert rows["method"].iloc[0] == "Clopper-Pearson exact 95% CI"
    assert (rows["unit"].iloc[:3] == "proportion").all()


def test_rate_table_results_without_filter_uses_plain_keys(cohort):
    table = [[2, 1], [1, 0], [0, 1]]
    rows = subgroups.rate_table_results(
        subgroups.rate_by(cohort, "any_cr", "grp", tests=[stats.fisher_exact(table)])
    )
    assert rows["key"].iloc[0] == "any_cr[grp=<20]"
    assert rows["key"].iloc[-1] == "any_cr[grp]~fisher"
    # Fisher by hand for [[2, 1], [1, 0], [0, 1]] (rows 3, 1, 1; columns 3, 2; n = 5):
    # P(table) = 3! 1! 1! 3! 2! / (5! prod cells!) = 0.6 / prod cells!. The four tables
    # with these margins have CR splits (3,0,0) -> 0.1, (2,1,0) -> 0.3 (observed),
    # (2,0,1) -> 0.3, (1,1,1) -> 0.3; all are <= 0.3, so p = 1.
    assert rows["p_value"].iloc[-1] == pytest.approx(1.0, abs=1e-12)


def test_count_row_gives_the_share_with_its_exact_interval():
    row = subgroups.count_row("n[x=1]", "x", 2, 3)
    # R binom.test(2, 3)$conf.int: 0.09429932 0.99159624
    assert (row["numerator"], row["denominator"]) == (2, 3)
    assert (round(row["ci_low"], 6), round(row["ci_high"], 6)) == (0.094299, 0.991596)


def test_count_by_keeps_missing_as_its_own_level(cohort):
    rows = subgroups.count_by(cohort, "high_burden")
    assert rows["key"].tolist() == [
        "n[high_burden=False]",
        "n[high_burden=True]",
        "n[high_burden=missing]",
    ]
    assert rows["numerator"].tolist() == [3, 4, 1]
    assert rows["denominator"].tolist() == [8, 8, 8]


def test_count_by_puts_filters_into_keys(cohort):
    rows = subgroups.count_by(cohort, "grp", where={"crs_recorded": True})
    assert rows["key"].iloc[0] == "n[crs_recorded=True&grp=<20]"
    assert rows["numerator"].tolist() == [3, 1, 2, 0, 0]
    assert rows["key"].iloc[-1] == "n[crs_recorded=True&grp=missing]"


def test_count_by_writes_a_zero_missing_row_when_nothing_is_missing():
    frame = pd.DataFrame({"high_burden": pd.array([True, False, True], dtype="boolean")})
    rows = subgroups.count_by(frame, "high_burden").set_index("key")
    assert rows.loc["n[high_burden=missing]", "numerator"] == 0
    assert rows.loc["n[high_burden=missing]", "denominator"] == 3
    assert rows.loc["n[high_burden=True]", "numerator"] == 2


def test_rate_table_results_say_what_the_estimate_of_a_test_row_holds():
    # 2/3 vs 0/2: odds ratio with a zero cell is infinite; Boschloo's statistic is a one-sided p
    frame = pd.DataFrame(
        {
            "any_cr": pd.array([True, True, False, False, False], dtype="boolean"),
            "g": ["a", "a", "a", "b", "b"],
        }
    )
    table = [[2, 1], [0, 2]]
    rt = subgroups.rate_by(
        frame,
        "any_cr",
        "g",
        tests=[stats.fisher_exact(table), stats.boschloo_exact(table), stats.fisher_midp(table)],
    )
    rows = subgroups.rate_table_results(rt).set_index("key")
    assert "estimate = sample odds ratio" in rows.loc["any_cr[g]~fisher", "method"]
    assert "one-sided" in rows.loc["any_cr[g]~boschloo", "method"]
    assert math.isnan(rows.loc["any_cr[g]~fisher_midp", "estimate"])
    # mid-p by hand: margins 3, 2 | 2, 3, C(5,2) = 10; P(top-left = 0, 1, 2) = 0.1, 0.6, 0.3;
    # observed 2 -> Fisher 0.1 + 0.3 = 0.4, mid-p 0.4 - 0.15 = 0.25
    assert rows.loc["any_cr[g]~fisher_midp", "p_value"] == pytest.approx(0.25, abs=1e-12)


def test_rate_by_does_not_modify_the_cohort(cohort):
    before = cohort.copy()
    subgroups.rate_by(cohort, "any_cr", "grp", where={"crs_recorded": True})
    pd.testing.assert_frame_equal(cohort, before)
