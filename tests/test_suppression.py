"""Disclosure control of share runs: counts 1..k-1 hidden as "<k", every other count rounded to a
multiple of 5, percentages and exact CIs computed from the rounded counts.

Reference intervals: R 4.2 ``binom.test(k, n)$conf.int`` (Clopper-Pearson), values in the tests.
"""

import math

import pandas as pd
import pytest

from helpers import display, narrative, suppression, tables

SHARE = suppression.Policy.for_run(True, 5)


def test_the_policy_of_a_run_is_explicit_and_an_internal_run_shows_everything():
    assert suppression.Policy.for_run(False, 5) == suppression.NONE
    assert not suppression.NONE.active
    assert suppression.Policy.for_run(True, 5) == suppression.Policy(k=5, base=suppression.ROUND_TO)
    # a larger k rounds to multiples of k: no difference of shown counts falls in 1..k-1
    assert suppression.Policy.for_run(True, 10) == suppression.Policy(k=10, base=10)
    assert (
        suppression.Policy.for_run(True, 10).text(14) == "10"
        and suppression.Policy.for_run(True, 10).text(9) == "<10"
    )
    assert suppression.Policy.for_run(True, 1).active  # min_cell 1 still rounds


@pytest.mark.parametrize(
    "n, shown",
    [
        (0, "0"),
        (1, "<5"),
        (4, "<5"),
        (5, "5"),
        (7, "5"),
        (8, "10"),
        (12, "10"),
        (13, "15"),
        (23, "25"),
        (271, "270"),
    ],
)
def test_a_count_from_1_to_k_minus_1_is_hidden_and_every_other_rounded_to_a_multiple_of_5(n, shown):
    assert narrative.count(n, policy=SHARE) == shown


@pytest.mark.parametrize(
    "k, d, text, ci",
    [
        # R: binom.test(10, 30)$conf.int = 0.1728742215 0.5281200448 (12/30 is shown as 10/30)
        (12, 30, "10/30 (33.3%)", "95% CI 17.3–52.8%"),
        # R: binom.test(25, 35)$conf.int = 0.5369553554 0.8536452547 (23/34 is shown as 25/35)
        (23, 34, "25/35 (71.4%)", "95% CI 53.7–85.4%"),
        # R: binom.test(35, 35)$conf.int = 0.8999675644 1 (33/34: one patient without the outcome)
        (33, 34, "35/35 (100.0%)", "95% CI 90.0–100.0%"),
        # R: binom.test(0, 30)$conf.int = 0 0.1157033082
        (0, 30, "0/30 (0.0%)", "95% CI 0.0–11.6%"),
        (3, 30, "<5/30 (–)", "95% CI –"),
        (0, 3, "0/<5 (–)", "95% CI –"),
        ("<5", 30, "<5/30 (–)", "95% CI –"),  # read back from a share run's results file
    ],
)
def test_a_rate_is_shown_from_its_rounded_counts_and_a_hidden_one_as_dashes(k, d, text, ci):
    assert narrative.n_of(k, d, policy=SHARE) == text
    assert (
        narrative.ci_text(0.01, 0.99, counts=(k, d), policy=SHARE) == ci
    )  # the interval given is not the one shown
    cells = display.rate_cells(
        pd.DataFrame({"numerator": [k], "denominator": [d], "ci_low": [0.01], "ci_high": [0.99]}),
        policy=SHARE,
    )
    assert cells.loc[0, "n/N (%)"] == text and cells.loc[0, "95% CI"] == ci.removeprefix("95% CI ")


def test_nothing_is_hidden_or_rounded_when_the_policy_shows_everything():
    assert narrative.n_of(3, 30) == "3/30 (10.0%)" and narrative.n_of(33, 34) == "33/34 (97.1%)"
    counts = pd.Series([3, 10, 7])
    assert suppression.NONE.hide_small(counts) is counts


def test_a_notebooks_helpers_bound_to_its_policy_show_counts_under_it_and_the_modules_do_not():
    bound_narrative, bound_display = SHARE.bind(narrative, display)
    assert bound_narrative.n_of(3, 30) == "<5/30 (–)" and narrative.n_of(3, 30) == "3/30 (10.0%)"
    assert bound_display.ci_cell(0.01, 0.99, counts=(3, 30)) == "–"
    assert bound_narrative.PAPER == narrative.PAPER  # constants pass through


@pytest.mark.parametrize(
    ("counts", "labels"),
    [
        ([[0, 7, 12]], [["0", "5", "10"]]),
        ([[3, 10, 0, 7]], [["<5", "10", "0", "5"]]),
        ([[3, 10], [6, 8]], [["<5", "10"], ["5", "10"]]),
    ],
)
def test_counts_of_a_table_or_figure_label_are_hidden_or_rounded_cell_by_cell(counts, labels):
    assert SHARE.hide_small(pd.DataFrame(counts)).astype(str).values.tolist() == labels
    assert SHARE.table_mask(pd.DataFrame(counts)).values.tolist() == [
        [label == "<5" for label in row] for row in labels
    ]


def test_table1_hides_small_levels_and_rounds_the_others_with_percentages_of_rounded_counts():
    counts = pd.DataFrame(
        {
            "variable": ["sex"] * 2 + ["ph_status"] * 3,
            "characteristic": ["Sex"] * 2 + ["Ph"] * 3,
            "level": ["Male", "Female", "positive", "negative", tables.NOT_AVAILABLE],
            "numerator": [20, 11, 3, 21, 7],
            "denominator": [31] * 5,
        }
    )
    shown = tables.table1(
        counts, pd.DataFrame(columns=["column", "characteristic", "summary"]), policy=SHARE
    )
    values = dict(zip(shown["Level"], shown["N=30 n (%)"]))
    assert values == {
        "Male": "20 (66.7%)",
        "Female": "10 (33.3%)",
        "positive": "<5 (–)",
        "negative": "20 (66.7%)",
        tables.NOT_AVAILABLE: "5 (16.7%)",
    }


def test_a_shown_table_of_a_share_run_carries_the_footnote():
    rows = pd.DataFrame(
        {
            "group": ["a", "b"],
            "numerator": [3, 12],
            "denominator": [30, 30],
            "ci_low": [0.02, 0.23],
            "ci_high": [0.27, 0.59],
        }
    )
    shown = display.table(
        display.rate_cells(rows, policy=SHARE), "CR", footnote=display.COUNT_FOOTNOTE, policy=SHARE
    )
    assert list(shown.frame["n/N (%)"]) == ["<5/30 (–)", "10/30 (33.3%)"]
    assert list(shown.frame["95% CI"]) == ["–", "17.3–52.8%"]
    assert (
        shown.footnote.startswith(display.COUNT_FOOTNOTE)
        and "<5: a count from 1 to 4" in shown.footnote
    )
    assert "rounded to the nearest multiple of 5" in shown.footnote


def test_saved_result_rows_are_hidden_or_rounded_with_rates_from_rounded_counts_and_p_values_kept(
    tmp_path,
):
    rows = pd.DataFrame(
        [
            {
                "key": "any_cr[g=a]",
                "numerator": 3,
                "denominator": 30,
                "estimate": 0.1,
                "ci_low": 0.02,
                "ci_high": 0.27,
                "p_value": math.nan,
                "unit": "proportion",
            },
            {
                "key": "any_cr[g=b]",
                "numerator": 12,
                "denominator": 31,
                "estimate": 12 / 31,
                "ci_low": 0.2,
                "ci_high": 0.6,
                "p_value": math.nan,
                "unit": "proportion",
            },
            {
                "key": "any_cr[g]~fisher",
                "numerator": math.nan,
                "denominator": math.nan,
                "estimate": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_value": 0.04,
                "unit": "p-value",
            },
            {
                "key": "os.at_risk_6m",
                "numerator": 13,
                "denominator": 31,
                "estimate": 13,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_value": math.nan,
                "unit": "patients",
            },
            {
                "key": "figures[verdict=match]",
                "numerator": 13,
                "denominator": 31,
                "estimate": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_value": math.nan,
                "unit": "figures",
            },
        ]
    )
    (tmp_path / "results").mkdir()
    rows.to_csv(tmp_path / "results" / "03_x.csv", index=False)
    rows.to_csv(tmp_path / "results.csv", index=False)
    assert len(suppression.suppress_result_files(tmp_path, SHARE)) == 2
    back = pd.read_csv(tmp_path / "results.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "numerator"] == "<5" and back.loc[0, "denominator"] == "30"
    assert back.loc[0, "estimate"] == back.loc[0, "ci_low"] == ""
    # R: binom.test(10, 30)$conf.int = 0.1728742215 0.5281200448
    assert (back.loc[1, "numerator"], back.loc[1, "denominator"]) == ("10", "30")
    assert [float(back.loc[1, c]) for c in ("estimate", "ci_low", "ci_high")] == pytest.approx(
        [1 / 3, 0.1728742215, 0.5281200448], abs=1e-9
    )
    assert back.loc[2, "p_value"] == "0.04"
    assert (back.loc[3, "numerator"], back.loc[3, "estimate"]) == (
        "15",
        "15",
    )  # at risk: count and estimate
    assert (back.loc[4, "numerator"], back.loc[4, "denominator"]) == (
        "13",
        "31",
    )  # the paper's figures, not patients


@pytest.mark.parametrize(
    "text, shown",
    [
        ("<20: 12/17 · >=50: 1/3", "<20: 10/15 · >=50: <5/<5"),
        ("4/30 = 13.3% (95% CI 3.8–30.7%)", "<5/30 (–), 95% CI –"),
        ("23/34 (67.6%), 95% CI 49.5–82.6%", "25/35 (71.4%), 95% CI 53.7–85.4%"),
        ("20/35 (57.1%)", "20/35 (57.1%)"),  # already as shown
        ("2 (9.1%)", "<5 (–)"),
        ("12 (30.0%)", "10 (–)"),  # a percentage without its total cannot be recomputed: not shown
        ("n = 3 and n=12", "n = <5 and n=10"),
        ("for the 39 of 40 patients with a value", "for the 40 of 40 patients with a value"),
        ("<5/30 (–); p = 0.021", "<5/30 (–); p = 0.021"),
    ],
)
def test_text_written_before_the_formatters_saw_it_shows_counts_as_the_policy_does(text, shown):
    assert SHARE.scrub(text) == shown


def test_a_printed_proportion_or_test_shows_rounded_counts_and_keeps_the_p_value():
    from helpers import stats

    assert str(stats.proportion(3, 30, policy=SHARE)) == "<5/30 (–; 95% CI –, Clopper-Pearson)"
    # 13/31 is shown as 15/30, its rate and interval those of 15/30 (R: binom.test(15, 30): 0.3130-0.6870)
    assert (
        str(stats.proportion(13, 31, policy=SHARE))
        == "15/30 (50.0%; 95% CI 31.3–68.7%, Clopper-Pearson)"
    )
    fisher = stats.fisher_exact(pd.DataFrame([[3, 10], [8, 12]]).to_numpy())
    assert str(fisher) == f"Fisher's exact test (2x2, two-sided): p = {fisher.p_value:.3f}"


def test_a_median_of_fewer_than_k_patients_is_not_shown_as_it_is_their_own_value():
    rows = pd.DataFrame(
        {
            "level": ["a", "b"],
            "n": [1, 12],
            "n_missing": [2, 0],
            "median": [48.0, 16.0],
            "minimum": [48.0, 7.0],
            "maximum": [48.0, 26.0],
            "summary": ["48 (range 48-48)", "16"],
        }
    )
    shown = SHARE.apply(rows)
    assert list(shown["n"]) == ["<5", 10] and list(shown["n_missing"]) == ["<5", 0]
    assert shown.loc[0, ["median", "minimum", "maximum", "summary"]].isna().all()
    assert shown.loc[1, "summary"] == "16"


def test_a_small_count_of_missing_values_is_hidden_even_when_its_median_is_shown():
    rows = pd.DataFrame({"level": ["a"], "n": [12], "n_missing": [2], "median": [16.0]})
    shown = SHARE.apply(rows)
    assert list(shown["n_missing"]) == ["<5"] and shown.loc[0, "median"] == 16.0


def test_a_share_runs_footnote_states_the_hidden_range_the_rounding_and_what_stays_exact():
    note = SHARE.footnote()
    assert "<5: a count from 1 to 4" in note
    assert (
        "rounded to the nearest multiple of 5" in note
        and "computed from the rounded counts" in note
    )
    assert "p-values and model estimates" in note
