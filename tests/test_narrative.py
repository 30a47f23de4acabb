"""Prose built from results: percentages, intervals, p-values and placeholders."""

import pandas as pd
import pytest

from helpers import narrative


@pytest.mark.parametrize(
    "k, n, expected",
    [
        (23, 34, "67.6%"),  # paper, abstract
        (6, 34, "17.6%"),  # 17.647 -> 17.6 (the paper prints 17.7)
        (15, 28, "53.6%"),  # 53.571 -> 53.6 (the paper prints 53.5, truncated)
        (1, 8, "12.5%"),  # exact half stays 12.5
        (1, 16, "6.3%"),  # 6.25 rounds half away from zero, not to even
        (0, 0, "–"),
    ],
)
def test_pct_rounds_half_up_to_one_decimal(k, n, expected):
    assert narrative.pct(k, n) == expected


@pytest.mark.parametrize(
    "p, expected",
    [
        (0.0213, "p = 0.021"),
        (0.5, "p = 0.500"),
        (0.0049, "p = 0.0049"),
        (0.0004, "p < 0.001"),
    ],
)
def test_p_text_keeps_three_decimals_or_two_significant_digits_below_one_percent(p, expected):
    assert narrative.p_text(p) == expected


def test_fill_replaces_each_placeholder_with_the_formatted_result():
    results = pd.DataFrame(
        [
            {
                "key": "any_cr[all]",
                "numerator": 23,
                "denominator": 34,
                "estimate": 23 / 34,
                "ci_low": 0.495,
                "ci_high": 0.826,
                "p_value": float("nan"),
            },
            {
                "key": "age_years.median[all]",
                "numerator": float("nan"),
                "denominator": 34,
                "estimate": 45.0,
                "ci_low": float("nan"),
                "ci_high": float("nan"),
                "p_value": float("nan"),
            },
            {"key": "any_cr[lines_group]~fisher", "p_value": 0.0213},
        ]
    )
    text = narrative.fill(
        "CR [[any_cr[all]:n_of]] ([[any_cr[all]:ci]]); age [[age_years.median[all]:value]];"
        " [[any_cr[lines_group]~fisher:p]]",
        results,
    )
    assert text == "CR 23/34 (67.6%) (95% CI 49.5–82.6%); age 45; p = 0.021"


@pytest.mark.parametrize(
    "low, high, label, expected",
    [
        (0.4947347, 0.8261166, "95% CI ", "95% CI 49.5–82.6%"),
        (0.4947347, 0.8261166, "", "49.5–82.6"),
        (float("nan"), 0.5, "95% CI ", "95% CI not estimable"),
        (None, None, "", "–"),
    ],
)
def test_ci_text_writes_both_bounds_in_percent_or_says_not_estimable(low, high, label, expected):
    assert narrative.ci_text(low, high, label=label) == expected


@pytest.mark.parametrize(
    "p, expected", [(0.0023, "0.0023"), (0.0004, "< 0.001"), (0.25, "0.250"), (float("nan"), "–")]
)
def test_bare_p_text_is_the_same_number_without_the_p(p, expected):
    assert narrative.p_text(p, bare=True) == expected


@pytest.mark.parametrize(
    "value, expected", [(12.0, "12"), (47.5, "47.5"), (2.25, "2.3"), (float("nan"), "NA")]
)
def test_number_keeps_at_most_one_decimal_and_drops_trailing_zeros(value, expected):
    assert narrative.number(value) == expected


def test_show_filled_reads_a_named_placeholder_through_the_key_it_is_given(monkeypatch):
    from helpers.results import Key

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.append(objs))
    results = pd.DataFrame(
        [{"key": "maic[p].ess", "numerator": None, "denominator": 20, "estimate": 12.5}]
    )
    narrative.show_filled(
        "ESS [[ess:value]] of [[ess:N]]", results, {"ess": Key("maic", by="p", part="ess")}
    )
    assert shown == [({"text/markdown": "ESS 12.5 of 20"},)]


def test_fill_names_a_placeholder_key_that_has_no_result():
    with pytest.raises(KeyError, match="no result with key 'any_cr\\[nope\\]'"):
        narrative.fill("[[any_cr[nope]:n]]", pd.DataFrame({"key": ["any_cr[all]"]}))


@pytest.mark.parametrize(
    "k, n, expected",
    [
        (34, 34, "all"),
        (27, 34, "more than half"),
        (17, 34, "half"),
        (12, 34, "fewer than half"),
        (0, 34, "none"),
        (0, 0, "none (no patients)"),
        (1, 1, "all"),
        (1, 3, "fewer than half"),
    ],
)
def test_share_word_names_a_share_without_a_number_that_stays_true(k, n, expected):
    assert narrative.share_word(k, n) == expected


def test_share_word_refuses_a_count_larger_than_its_total():
    with pytest.raises(ValueError):
        narrative.share_word(5, 4)


def test_fill_writes_a_share_as_a_word():
    results = pd.DataFrame([{"key": "n[prior_hsct=True]", "numerator": 17, "denominator": 34}])
    assert (
        narrative.fill("[[n[prior_hsct=True]:share]] of the patients", results)
        == "half of the patients"
    )


@pytest.mark.parametrize(
    "n, singular, plural_form, expected",
    [
        (1, "patient", None, "1 patient"),
        (0, "patient", None, "0 patients"),
        (2, "CRS event", None, "2 CRS events"),
        (3, "analysis", "analyses", "3 analyses"),
    ],
)
def test_plural_puts_the_noun_in_the_number_of_the_count(n, singular, plural_form, expected):
    assert narrative.plural(n, singular, plural_form) == expected


@pytest.mark.parametrize(
    "row, fmt, expected",
    [
        ({"estimate": 0.6105508, "ci_low": 0.289, "ci_high": 0.858}, "percent", "61.1%"),
        ({"estimate": 0.1714365, "ci_low": -0.1545285, "ci_high": 0.4974014}, "points", "+17.1"),
        ({"estimate": -0.05, "ci_low": -0.1545285, "ci_high": 0.4974014}, "points", "-5.0"),
        (
            {"estimate": 0.17, "ci_low": -0.1545285, "ci_high": 0.4974014},
            "ci_points",
            "95% CI -15.5 to +49.7",
        ),
        (
            {"estimate": 0.17, "ci_low": float("nan"), "ci_high": 0.5},
            "ci_points",
            "95% CI not estimable",
        ),
    ],
)
def test_weighted_rates_and_differences_are_written_without_counts(row, fmt, expected):
    assert narrative.format_result(row, fmt) == expected


@pytest.mark.parametrize("rest, scope", [(False, "section"), (True, "notebook")])
def test_a_section_without_data_is_one_sentence_marked_for_the_report_to_collapse(
    monkeypatch, rest, scope
):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.append((objs, kw)))
    why = "No follow-up columns: add os_months and os_event to see survival."
    narrative.show_unavailable(why, rest_of_notebook=rest)
    assert shown == [
        (({"text/markdown": why},), {"raw": True, "metadata": {narrative.UNAVAILABLE: scope}})
    ]
