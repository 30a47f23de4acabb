"""Tests of the historic comparator data, pairings and comparison (notebook 05).

References used instead of the code under test:

* the comparator figures as printed in the sources (docs/historic-comparators.md),
  re-read here from the CSV text so the printed precision is known;
* the focal paper's section 3.3 counts (23/34 CR/CRp/CRi, 19 CR + 2 CRp, 17/21 MRD,
  10/20 with >= 50% blasts), for the shipped reconstructed cohort;
* brute force (tests/reference_exact.py): Fisher's two-sided p and the one-sample
  binomial p from their definitions; the posterior
  P(p1 > p2) by Monte Carlo with a fixed seed; exact power by running
  ``scipy.stats.binomtest`` on every possible outcome.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reference_exact
from scipy import stats as sps

from helpers import historic, historic_display, loading

ROOT = Path(__file__).resolve().parents[1]
COMPARATOR_FILE = ROOT / "data" / "historic_comparators.csv"
PAIRINGS_FILE = ROOT / "data" / "historic_pairings.csv"
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
FIXTURE = ROOT / "tests" / "fixtures" / "valid_small.csv"


def raw_rows() -> list[dict[str, str]]:
    with COMPARATOR_FILE.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def half_unit(text: str) -> float:
    """Half a unit of the last printed digit: the rounding slack of a printed number."""
    return 0.5 * 10 ** -decimals(text)


COUNTED = [r for r in raw_rows() if r["numerator"] and r["denominator"]]


@pytest.fixture(scope="module")
def comparators() -> pd.DataFrame:
    return historic.load_comparators(COMPARATOR_FILE)


@pytest.fixture(scope="module")
def pairings(comparators) -> pd.DataFrame:
    return historic.load_pairings(PAIRINGS_FILE, comparators)


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    """The shipped cohort, with the paper's cut-offs."""
    return loading.load_cohort(ROOT / "data" / "reconstructed_cohort.csv")


# --- the comparator file ---------------------------------------------------------------


def test_comparator_file_has_unique_ids_and_passes_its_own_checks():
    rows = raw_rows()
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert (
        historic.comparator_problems(pd.read_csv(COMPARATOR_FILE, dtype=str, keep_default_na=False))
        == []
    )


@pytest.mark.parametrize("row", COUNTED, ids=[r["id"] for r in COUNTED])
def test_numerator_never_exceeds_denominator(row):
    assert 0 <= int(row["numerator"]) <= int(row["denominator"])


@pytest.mark.parametrize(
    "row", [r for r in COUNTED if r["percent"]], ids=[r["id"] for r in COUNTED if r["percent"]]
)
def test_printed_percent_agrees_with_counts_to_its_printed_precision(row):
    exact = 100 * int(row["numerator"]) / int(row["denominator"])
    assert abs(exact - float(row["percent"])) <= half_unit(row["percent"]) + 1e-9


CI_ROWS = [r for r in COUNTED if r["ci_low"]]


@pytest.mark.parametrize("row", CI_ROWS, ids=[r["id"] for r in CI_ROWS])
def test_published_ci_matches_the_exact_ci_of_the_counts_within_0_2_points(row):
    # Clopper-Pearson limits from beta quantiles (Clopper & Pearson 1934), written out
    # here rather than taken from helpers.stats. Allowed gap: the printed rounding plus
    # 0.2 points (Topp 2015's 60/73, printed 72-90, is exactly 71.5-90.2).
    k, n = int(row["numerator"]), int(row["denominator"])
    low = 0.0 if k == 0 else 100 * sps.beta.ppf(0.025, k, n - k + 1)
    high = 100.0 if k == n else 100 * sps.beta.ppf(0.975, k + 1, n - k)
    assert abs(low - float(row["ci_low"])) <= half_unit(row["ci_low"]) + 0.2
    assert abs(high - float(row["ci_high"])) <= half_unit(row["ci_high"]) + 0.2


DERIVED = [r for r in raw_rows() if r["status"] == "derived"]


@pytest.mark.parametrize("row", DERIVED, ids=[r["id"] for r in DERIVED])
def test_derived_numerator_is_the_only_count_that_prints_as_the_published_percent(row):
    n, printed = int(row["denominator"]), row["percent"]
    fits = [
        k for k in range(n + 1) if abs(100 * k / n - float(printed)) <= half_unit(printed) + 1e-9
    ]
    assert fits == [int(row["numerator"])]


@pytest.mark.parametrize(
    "row",
    [r for r in raw_rows() if r["status"] == "percent_only"],
    ids=[r["id"] for r in raw_rows() if r["status"] == "percent_only"],
)
def test_rate_only_rows_carry_no_guessed_numerator(row):
    assert row["numerator"] == "" and row["percent"] != ""


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("id", "tower_blina_cr_crh_cri", "duplicate ids"),
        ("numerator", "300", "exceeds denominator"),
        ("status", "guessed", "not one of"),
        ("ci_low", "45", "does not enclose"),
    ],
)
def test_comparator_checks_reject_a_broken_row(column, value, message):
    raw = pd.read_csv(COMPARATOR_FILE, dtype=str, keep_default_na=False)
    broken = raw.copy()
    broken.loc[broken["id"] == "tower_blina_cr_full", column] = value
    assert any(message in p for p in historic.comparator_problems(broken))


# --- pairings --------------------------------------------------------------------------


def test_every_pairing_resolves_to_a_comparator_an_endpoint_and_cohort_columns(
    comparators, pairings
):
    cohort = loading.load_cohort(FIXTURE)
    assert historic.pairing_problems(pairings, comparators, tuple(cohort.columns)) == []
    assert set(pairings["comparator_id"]) <= set(comparators["id"])


@pytest.mark.parametrize(
    "population, expected",
    [
        ("all", {}),
        ("ph_status=positive", {"ph_status": "positive"}),
        ("high_burden=True&ph_status=negative", {"high_burden": True, "ph_status": "negative"}),
    ],
)
def test_population_text_parses_to_filters(population, expected):
    assert historic.parse_population(population) == expected


def test_unknown_comparator_or_endpoint_is_reported(comparators, pairings):
    broken = pairings.copy()
    broken.loc[0, "comparator_id"] = "tower_typo"
    broken.loc[1, "cohort_endpoint"] = "cr_anything"
    problems = historic.pairing_problems(broken, comparators)
    assert any("unknown comparator" in p for p in problems)
    assert any("unknown cohort endpoint" in p for p in problems)


def test_endpoint_columns_leave_the_cohort_untouched_and_keep_mrd_missing():
    cohort = loading.load_cohort(FIXTURE)
    before = cohort.copy()
    marked = historic.with_endpoint_columns(cohort)
    pd.testing.assert_frame_equal(cohort, before)
    assert (
        marked["endpoint.mrd_among_responders"].isna().sum() == cohort["mrd_negative"].isna().sum()
    )
    assert list(marked["endpoint.cr_full"]) == list(cohort["response"].astype(object) == "cr")


@pytest.mark.parametrize(
    "key, numerator, denominator",
    [
        ("endpoint[cr_crh_cri]", 23, 34),  # "Twenty-three of the 34 patients (67.6%)"
        ("endpoint[cr_full]", 19, 34),  # "CR with full recovery in 19 patients"
        ("endpoint[cr_crh]", 21, 34),  # 19 CR + 2 CRp
        ("endpoint[mrd_among_responders]", 17, 21),  # "81% (17/21)"
        ("endpoint[cr_crh_cri|high_burden=True]", 10, 20),  # ">=50% at baseline was 50% (10/20)"
    ],
)
def test_cohort_endpoints_on_the_shipped_cohort_match_the_paper(
    pairings, key, numerator, denominator
):
    rates = historic.cohort_endpoint_rates(loading.load_cohort(SHIPPED), pairings).set_index("key")
    assert (rates.loc[key, "numerator"], rates.loc[key, "denominator"]) == (numerator, denominator)


# --- comparisons against brute force ----------------------------------------------------


def compared_pairing(comparators, pairings, pairing_id: str, k: int, n: int) -> dict:
    """Run compare_pairings on one pairing with the cohort side set to k/n."""
    pair = pairings[pairings["pairing_id"] == pairing_id]
    cohort_rates = pd.DataFrame(
        [
            {
                "key": "x",
                "numerator": k,
                "denominator": n,
                "estimate": k / n,
                "ci_low": 0.0,
                "ci_high": 1.0,
                "cohort_endpoint": pair["cohort_endpoint"].iloc[0],
                "cohort_population": pair["cohort_population"].iloc[0],
            }
        ]
    )
    matched = historic.matched_pairings(cohort_rates, comparators, pair)
    return historic.compare_pairings(matched, prior=(1.0, 1.0)).iloc[0].to_dict()


def test_fisher_p_for_23_of_34_vs_tower_119_of_271_equals_the_hypergeometric_sum(
    comparators, pairings
):
    row = compared_pairing(comparators, pairings, "tower_cr_crh_cri", 23, 34)
    assert row["design"] == "two-sample" and row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(
        reference_exact.fisher_p([[23, 34 - 23], [119, 271 - 119]]), rel=1e-9
    )
    assert row["risk_difference"] == pytest.approx(23 / 34 - 119 / 271, abs=1e-12)


def test_posterior_probability_cohort_higher_agrees_with_monte_carlo(comparators, pairings):
    row = compared_pairing(comparators, pairings, "tower_cr_crh_cri", 23, 34)
    rng = np.random.default_rng(20220105)
    draws = 400_000
    cohort = rng.beta(1 + 23, 1 + 34 - 23, draws)
    tower = rng.beta(1 + 119, 1 + 271 - 119, draws)
    assert row["prob_cohort_higher"] == pytest.approx(float(np.mean(cohort > tower)), abs=0.01)


def test_rate_only_pairing_uses_the_exact_one_sample_binomial_test(comparators, pairings):
    row = compared_pairing(comparators, pairings, "yu_cr_high_burden", 10, 20)
    assert row["design"] == "one-sample" and row["test"] == "binomial"
    assert row["p_value"] == pytest.approx(reference_exact.binomial_p(10, 20, 0.33), rel=1e-9)
    # Beta(11, 11) posterior against the fixed 33%, by Monte Carlo
    rng = np.random.default_rng(7)
    assert row["prob_cohort_higher"] == pytest.approx(
        float(np.mean(rng.beta(11, 11, 400_000) > 0.33)), abs=0.01
    )


def test_empty_cohort_population_gives_no_statistics(comparators, pairings):
    pair = pairings[pairings["pairing_id"] == "alcantara_cr_crh_phpos"]
    cohort_rates = pd.DataFrame(
        [
            {
                "key": "x",
                "numerator": 0,
                "denominator": 0,
                "estimate": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "cohort_endpoint": "cr_crh",
                "cohort_population": "ph_status=positive",
            }
        ]
    )
    row = historic.compare_pairings(
        historic.matched_pairings(cohort_rates, comparators, pair)
    ).iloc[0]
    assert math.isnan(row["p_value"]) and math.isnan(row["prob_cohort_higher"])


def test_the_pairing_table_reads_each_pairing_in_words_and_flags_where_boschloo_disagrees(
    comparators, pairings
):
    # Fisher 0.067 vs Boschloo 0.047 for 14/21 vs TOWER 119/271 (auditor's values, and
    # test_comparison's brute force); 23/34 vs TOWER: both below 0.05 (Fisher 0.010).
    split = pd.DataFrame(
        [compared_pairing(comparators, pairings, "tower_cr_crh_cri_phneg", 14, 21)]
    )
    agree = pd.DataFrame([compared_pairing(comparators, pairings, "tower_cr_crh_cri", 23, 34)])
    both = pd.concat([split, agree], ignore_index=True)
    table = historic_display.summary_table(both).set_index("Pairing")
    phneg, allp = (
        table.loc["Ph− patients vs TOWER, CR/CRh/CRi"],
        table.loc["All patients vs TOWER, CR/CRh/CRi"],
    )
    assert (phneg["Primary test, p"], phneg["Boschloo p"]) == ("Fisher 0.067", "0.047")
    assert phneg["Reading"] == "not below 0.05; borderline; Boschloo disagrees"
    assert (allp["Primary test, p"], allp["Reading"]) == ("Fisher 0.010", "below 0.05")
    assert historic_display.summary_sentence(both) == (
        "Of 2 pairings tested, the primary test was below 0.05 in 1 (All patients vs TOWER, CR/CRh/CRi) "
        "and not below it in 1; 1 is borderline (test and difference interval disagree) and in 1 "
        "Boschloo's test falls on the other side of 0.05."
    )
    assert historic_display.summary_footnote().startswith(
        "Primary test: Fisher's exact test (two-sided, pre-specified)"
    )
    # at alpha 0.10 both Ph- p-values (0.067, 0.047) are below it: no disagreement
    assert (
        "Boschloo disagrees"
        not in historic_display.summary_table(both, alpha=0.10)["Reading"].str.cat()
    )


def test_the_methods_note_names_each_method_once(comparators, pairings):
    rows = pd.DataFrame(
        [
            compared_pairing(comparators, pairings, pid, 23, 34)
            for pid in ("tower_cr_crh_cri", "tower_cr_full", "topp_cr_full")
        ]
    )
    note = historic_display.methods_note(rows)
    pieces = note.rstrip(".").split("; ")
    assert len(pieces) == len(set(pieces))
    assert note.count("Boschloo's exact test") == 1 and "62 or 63 of 189" in note


def test_boschloo_row_says_asymptotic_when_the_cohort_is_too_large_for_the_exact_test(
    comparators, pairings
):
    # 600,000/1,000,000 vs TOWER 119/271: 272 rejection boundaries over a nuisance grid fine enough for
    # a million patients, past helpers.unconditional.BOSCHLOO_WORK_BUDGET
    row = compared_pairing(comparators, pairings, "tower_cr_crh_cri", 600_000, 1_000_000)
    rows = historic.comparison_results(pd.DataFrame([row])).set_index("key")
    method = rows.loc["cmp[tower_cr_crh_cri]~boschloo", "method"]
    assert "asymptotic; exact infeasible at n=1000000+271" in method
    # pooled z-test by hand: two-sided normal p of (p1 - p2) / pooled SE
    p = (600_000 + 119) / 1_000_271
    z = (0.6 - 119 / 271) / math.sqrt(p * (1 - p) * (1 / 1_000_000 + 1 / 271))
    assert rows.loc["cmp[tower_cr_crh_cri]~boschloo", "p_value"] == pytest.approx(
        math.erfc(abs(z) / math.sqrt(2)), rel=1e-9
    )


def test_boschloo_row_stays_exact_for_a_large_cohort_against_a_small_comparator(
    comparators, pairings
):
    # 600/1000 vs TOWER 119/271: 272,272 tables, but only 272 rejection boundaries to find.
    # Reference: scipy.stats.boschloo_exact(np.array([[600, 400], [119, 152]]).T).pvalue = 2.3939e-06
    row = compared_pairing(comparators, pairings, "tower_cr_crh_cri", 600, 1000)
    rows = historic.comparison_results(pd.DataFrame([row])).set_index("key")
    assert (
        rows.loc["cmp[tower_cr_crh_cri]~boschloo", "method"] == "Boschloo's exact test (two-sided)"
    )
    assert rows.loc["cmp[tower_cr_crh_cri]~boschloo", "p_value"] == pytest.approx(
        2.3939015e-06, rel=1e-5
    )


# (pairing, run cut-offs, expected definition text): the comparator file's cutoffs column
# against the run's parameters
PAIRING_DEFINITION_CASES = [
    ("yu_cr_high_burden", {"bmb_high_cutoff": 50}, ""),
    (
        "yu_cr_high_burden",
        {"bmb_high_cutoff": 60},
        "different definition (bmb_high_cutoff 60 here, 50 in Yu 2019 meta-analysis)",
    ),
    (
        "liu_cr_high_burden",
        {"bmb_high_cutoff": 40},
        "different definition (bmb_high_cutoff 40 here, 50 in Liu 2023 meta-analysis)",
    ),
    ("tower_cr_crh_cri", {"bmb_high_cutoff": 60}, ""),
]


@pytest.mark.parametrize("pairing_id, cutoffs, expected", PAIRING_DEFINITION_CASES)
def test_a_pairing_under_another_cut_off_is_a_different_definition_and_not_tested(
    cohort, comparators, pairings, pairing_id, cutoffs, expected
):
    pair = pairings[pairings["pairing_id"] == pairing_id]
    rates = historic.cohort_endpoint_rates(cohort, pair)
    compared = historic.compare_pairings(
        historic.matched_pairings(rates, comparators, pair, cutoffs)
    ).iloc[0]
    assert compared["definition"] == expected
    assert math.isnan(compared["p_value"]) is bool(expected)
    if expected:
        row = historic_display.summary_table(compared.to_frame().T).iloc[0]
        assert row["Reading"] == f"not compared: {expected}" and row["Primary test, p"] == "–"


def test_a_comparator_with_a_known_n_is_compared_two_sample_with_every_numerator_that_prints_as_it(
    cohort, comparators, pairings
):
    # Topp 2015 CR alone: 33% of 189 prints from 62/189 (32.8%) and 63/189 (33.3%)
    assert historic.printed_numerators(33, 189) == (62, 63)
    pair = pairings[pairings["pairing_id"] == "topp_cr_full"]
    rates = historic.cohort_endpoint_rates(cohort, pair)
    row = historic.compare_pairings(historic.matched_pairings(rates, comparators, pair)).iloc[0]
    assert row["design"] == "two-sample" and row["test"] == "fisher"
    k, n = int(row["cohort_k"]), int(row["cohort_n"])
    from scipy import stats as sps

    larger = max(sps.fisher_exact([[k, n - k], [k2, 189 - k2]]).pvalue for k2 in (62, 63))
    assert row["p_value"] == pytest.approx(larger, rel=1e-12)
    assert "62 or 63 of 189" in row["test_method"]


def test_a_difference_interval_excluding_zero_beside_p_above_alpha_is_explained_not_called_chance(
    cohort, comparators, pairings
):
    # cohort CR/CRp 21/34 vs Topp 2015 81/189: Newcombe 95% CI +0.7 to +34.8 points, Fisher p = 0.060
    pair = pairings[pairings["pairing_id"] == "topp_cr_crh"]
    rates = historic.cohort_endpoint_rates(cohort, pair)
    compared = historic.compare_pairings(historic.matched_pairings(rates, comparators, pair))
    row = historic_display.summary_table(compared).iloc[0]
    assert row["Reading"] == "not below 0.05; borderline; Boschloo disagrees"
    assert (row["Primary test, p"], row["Boschloo p"]) == ("Fisher 0.060", "0.044")
    assert row["Difference, points (95% CI)"] == "+18.9 (+0.7 to +34.8)"
    assert row["Pairing"] == "All patients vs Topp 2015 (MT103-211), CR/CRh"
    assert row["Comparator n/N (%; 95% CI)"].startswith("81/189 (42.9%")


def test_boschloo_row_keeps_the_exact_wording_at_the_papers_size(comparators, pairings):
    row = compared_pairing(comparators, pairings, "tower_cr_crh_cri", 23, 34)
    rows = historic.comparison_results(pd.DataFrame([row])).set_index("key")
    assert (
        rows.loc["cmp[tower_cr_crh_cri]~boschloo", "method"] == "Boschloo's exact test (two-sided)"
    )
