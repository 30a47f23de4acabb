"""Small-cell suppression: counts 1..k-1 hidden as "<k", secondary suppression where a total gives one back."""

import math

import pandas as pd
import pytest

from helpers import display, narrative, suppression, tables


@pytest.fixture
def k5():
    with suppression.counts_hidden_below(5):
        yield


@pytest.mark.parametrize("n, shown", [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (23, "23")])
def test_a_count_from_1_to_k_minus_1_is_shown_as_less_than_k_and_0_and_k_as_they_are(k5, n, shown):
    assert narrative.count(n) == shown


@pytest.mark.parametrize("k, d, text, ci", [
    (3, 30, "<5/30 (–)", "95% CI –"),
    (0, 3, "0/<5 (–)", "95% CI –"),
    (0, 30, "0/30 (0.0%)", "95% CI 0.0–11.6%"),
    (25, 30, "25/30 (83.3%)", "95% CI 0.0–11.6%"),
])
def test_the_rate_and_interval_of_a_hidden_count_are_dashes(k5, k, d, text, ci):
    assert narrative.n_of(k, d) == text
    assert narrative.ci_text(0.0, 0.1157, counts=(k, d)) == ci


def test_nothing_is_hidden_when_suppression_is_off():
    assert suppression.threshold() == 0
    assert narrative.n_of(3, 30) == "3/30 (10.0%)"
    counts = pd.Series([3, 10, 7])
    assert suppression.hide_small(counts) is counts


@pytest.mark.parametrize("counts, total_shown, hidden", [
    ([3, 10, 7], True, [True, False, True]),     # one small cell: the next smallest protects it
    ([3, 10, 7], False, [True, False, False]),   # no total shown: primary only
    ([3, 2, 10], True, [True, True, False]),     # two small cells protect each other
    ([3, 0, 10], True, [True, False, True]),     # 0 is never used as the protecting cell
    ([0, 10, 7], True, [False, False, False]),   # 0 is shown
    ([5, 10], True, [False, False]),             # k itself is shown
])
def test_a_frequency_table_with_a_total_hides_the_next_smallest_count_beside_a_lone_small_one(
        k5, counts, total_shown, hidden):
    assert suppression.line_mask(counts, total_shown) == hidden


def test_a_2x2_table_with_margins_hides_a_cell_in_every_line_of_a_small_one(k5):
    table = pd.DataFrame({"CR": [3, 10], "No CR": [8, 12]}, index=["high", "low"])
    shown = suppression.hide_small(table)
    assert shown.loc["high", "CR"] == "<5"
    assert shown.loc["high", "No CR"] == suppression.SECONDARY
    assert shown.loc["low", "CR"] == suppression.SECONDARY
    # every row and column holds 0 or at least 2 hidden cells, so no margin gives one back
    mask = suppression.table_mask(table)
    assert set(mask.sum(axis=0)) <= {0, 2} and set(mask.sum(axis=1)) <= {0, 2}


def test_an_r_x_c_table_hides_until_no_line_has_a_lone_hidden_cell(k5):
    table = pd.DataFrame({"CR": [3, 10, 12], "No CR": [8, 9, 20]}, index=["<20", "20-50", ">=50"])
    mask = suppression.table_mask(table)
    assert mask.to_numpy().sum() == 4
    assert not (mask.sum(axis=0) == 1).any() and not (mask.sum(axis=1) == 1).any()
    assert not mask.loc[">=50"].any()


def test_table1_hides_small_levels_and_protects_them_within_their_block(k5):
    counts = pd.DataFrame({
        "variable": ["sex"] * 2 + ["ph_status"] * 3,
        "characteristic": ["Sex"] * 2 + ["Ph"] * 3,
        "level": ["Male", "Female", "positive", "negative", tables.NOT_AVAILABLE],
        "numerator": [20, 10, 3, 21, 6], "denominator": [30] * 5,
    })
    shown = tables.table1(counts, pd.DataFrame(columns=["column", "characteristic", "summary"]))
    values = dict(zip(shown["Level"], shown["N=30 n (%)"]))
    assert values == {"Male": "20 (66.7%)", "Female": "10 (33.3%)", "positive": "<5 (–)",
                      "negative": "21 (70.0%)", tables.NOT_AVAILABLE: suppression.SECONDARY}


def test_a_shown_table_with_a_hidden_count_carries_the_footnote(k5):
    rows = pd.DataFrame({"group": ["a", "b"], "numerator": [3, 12], "denominator": [30, 30],
                         "ci_low": [0.02, 0.23], "ci_high": [0.27, 0.59]})
    shown = display.table(display.rate_cells(rows), "CR", footnote=display.COUNT_FOOTNOTE)
    assert list(shown.frame["n/N (%)"]) == ["<5/30 (–)", "12/30 (40.0%)"]
    assert list(shown.frame["95% CI"]) == ["–", "23.0–59.0%"]
    assert shown.footnote.startswith(display.COUNT_FOOTNOTE) and "<5: a count from 1 to 4" in shown.footnote
    clean = display.table(display.rate_cells(rows.iloc[[1]]), "CR", footnote=display.COUNT_FOOTNOTE)
    assert clean.footnote == display.COUNT_FOOTNOTE


def test_saved_result_rows_hide_the_count_and_blank_its_rate_but_keep_the_p_value(k5, tmp_path):
    rows = pd.DataFrame([
        {"key": "any_cr[g=a]", "numerator": 3, "denominator": 30, "estimate": 0.1, "ci_low": 0.02,
         "ci_high": 0.27, "p_value": math.nan},
        {"key": "any_cr[g]~fisher", "numerator": math.nan, "denominator": math.nan, "estimate": math.nan,
         "ci_low": math.nan, "ci_high": math.nan, "p_value": 0.04},
    ])
    (tmp_path / "results").mkdir()
    rows.to_csv(tmp_path / "results" / "03_x.csv", index=False)
    rows.to_csv(tmp_path / "results.csv", index=False)
    assert len(suppression.suppress_result_files(tmp_path, 5)) == 2
    back = pd.read_csv(tmp_path / "results.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "numerator"] == "<5" and back.loc[0, "denominator"] == "30"
    assert back.loc[0, "estimate"] == back.loc[0, "ci_low"] == ""
    assert back.loc[1, "p_value"] == "0.04"


@pytest.mark.parametrize("text, shown", [
    ("<20: 12/17 · >=50: 1/3", "<20: 12/17 · >=50: <5/<5"),
    ("4/30 = 13.3% (95% CI 3.8–30.7%)", "<5/30 (–)"),
    ("3/30 (10.0%), 95% CI 2.1–26.5%", "<5/30 (–)"),
    ("23/34 (67.6%), 95% CI 49.5–82.6%", "23/34 (67.6%), 95% CI 49.5–82.6%"),
    ("2 (9.1%)", "<5 (–)"),
    ("n = 3 and n=12", "n = <5 and n=12"),
    ("<5/30 (–); p = 0.021", "<5/30 (–); p = 0.021"),
])
def test_text_written_before_the_formatters_saw_it_has_its_small_counts_hidden(k5, text, shown):
    assert suppression.scrub(text) == shown


def test_a_printed_proportion_or_test_hides_small_counts_but_keeps_the_p_value(k5):
    from helpers import stats

    assert "numerator=<5" in suppression.printable(stats.proportion(3, 30))
    assert "estimate=–" in suppression.printable(stats.proportion(3, 30))
    big = stats.proportion(13, 30)
    assert suppression.printable(big) is big
    fisher = stats.fisher_exact(pd.DataFrame([[3, 10], [8, 12]]).to_numpy())
    text = suppression.printable(fisher)
    assert "'<5'" in text and f"p_value={fisher.p_value!r}" in text


def test_a_median_of_fewer_than_k_patients_is_not_shown_as_it_is_their_own_value(k5):
    rows = pd.DataFrame({"level": ["a", "b"], "n": [1, 12], "n_missing": [2, 0], "median": [48.0, 16.0],
                         "minimum": [48.0, 7.0], "maximum": [48.0, 26.0], "summary": ["48 (range 48-48)", "16"]})
    shown = suppression.tidy(rows)
    assert list(shown["n"]) == ["<5", 12] and list(shown["n_missing"]) == ["<5", 0]
    assert shown.loc[0, ["median", "minimum", "maximum", "summary"]].isna().all()
    assert shown.loc[1, "summary"] == "16"


@pytest.mark.parametrize(("counts", "labels"), [
    ([[0, 7, 12]], [["0", "7", "12"]]),  # nothing under 5: shown as they are
    ([[3, 10, 0, 7]], [["<5", "10", "0", "not shown"]]),  # 3 hidden; 7, the smallest other non-zero, too
    ([[3, 2, 6]], [["<5", "<5", "6"]]),  # two hidden cells: their sum is known, neither is
    ([[3, 10], [6, 8]], [["<5", "not shown"], ["not shown", "not shown"]]),  # 2 x 2, one small cell: all hidden
    ([[1, 5, 9], [20, 30, 40]], [["<5", "not shown", "9"], ["not shown", "not shown", "40"]]),  # row, then columns
])
def test_figure_labels_hide_small_counts_and_each_lone_hidden_cell_of_a_row_or_column(k5, counts, labels):
    assert suppression.hide_small(pd.DataFrame(counts)).astype(str).values.tolist() == labels


# A rate k/n is the line (k, n - k) with n shown: n - k from 1 to 4 would tell how many had no outcome.
@pytest.mark.parametrize("k, n, hidden, text", [
    (33, 34, True, "not shown/34 (–)"),   # 1 without the outcome
    (30, 34, True, "not shown/34 (–)"),   # 4 without
    (29, 34, False, "29/34 (85.3%)"),     # 5 without: shown
    (34, 34, False, "34/34 (100.0%)"),    # 0 without: shown
    (3, 30, True, "<5/30 (–)"),           # the count itself is small
    (0, 3, True, "0/<5 (–)"),             # the total is small
    (2, 4, True, "<5/<5 (–)"),
    ("<5", 30, True, "<5/30 (–)"),        # read back from a suppressed results file
])
def test_a_rate_whose_complement_is_from_1_to_k_minus_1_is_hidden_with_its_percentage_and_ci(k5, k, n, hidden, text):
    assert suppression.rate_hidden(k, n) is hidden
    assert narrative.n_of(k, n) == text
    assert (narrative.pct(k, n) == "–") is hidden
    assert (narrative.ci_text(0.8, 0.99, counts=(k, n)) == "95% CI –") is hidden
    cells = display.rate_cells(pd.DataFrame({"numerator": [k], "denominator": [n], "ci_low": [0.8],
                                             "ci_high": [0.99]}))
    assert cells.loc[0, "n/N (%)"] == text and (cells.loc[0, "95% CI"] == "–") is hidden


def test_nothing_is_hidden_for_a_small_complement_when_suppression_is_off():
    assert not suppression.rate_hidden(33, 34)
    assert narrative.n_of(33, 34) == "33/34 (97.1%)"


def test_saved_rate_rows_with_a_small_complement_show_the_count_as_not_shown_and_blank_the_rate(k5):
    rows = pd.DataFrame({"key": ["a", "b"], "numerator": [33, 20], "denominator": [34, 34],
                         "estimate": [33 / 34, 20 / 34], "ci_low": [0.85, 0.4], "ci_high": [0.99, 0.75]})
    shown = suppression.tidy(rows)
    assert list(shown["numerator"]) == [suppression.SECONDARY, 20] and list(shown["denominator"]) == [34, 34]
    assert shown.loc[0, ["estimate", "ci_low", "ci_high"]].isna().all() and shown.loc[1, "estimate"] == 20 / 34


@pytest.mark.parametrize("text, shown", [
    ("33/34 (97.1%)", "not shown/34 (–)"),
    ("CR 31/34 = 91.2% (95% CI 76.3–98.1%)", "CR not shown/34 (–)"),
    ("29/34 (85.3%)", "29/34 (85.3%)"),
])
def test_text_written_before_the_formatters_saw_it_hides_rates_with_a_small_complement(k5, text, shown):
    assert suppression.scrub(text) == shown


def test_a_printed_proportion_with_a_small_complement_hides_its_numerator_and_estimate(k5):
    from helpers import stats

    text = suppression.printable(stats.proportion(33, 34))
    assert "numerator=not shown" in text and "denominator=34" in text and "estimate=–" in text


def test_a_small_count_of_missing_values_is_hidden_even_when_its_median_is_shown(k5):
    rows = pd.DataFrame({"level": ["a"], "n": [12], "n_missing": [2], "median": [16.0]})
    shown = suppression.tidy(rows)
    assert list(shown["n_missing"]) == ["<5"] and shown.loc[0, "median"] == 16.0
