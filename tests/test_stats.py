"""Tests of helpers.stats against independent references (R documentation
examples, published values, hand formulas and brute-force enumeration)."""

from __future__ import annotations

import collections
import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import reference_exact
from scipy import stats as sps

from helpers import contingency, stats, unconditional

# ---------------------------------------------------------------- references


def _binom_cdf(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


def _bisect(f, lo: float, hi: float) -> float:
    """Root of a monotone f on [lo, hi] by bisection."""
    flo = f(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if (f(mid) > 0) == (flo > 0):
            lo, flo = mid, f(mid)
        else:
            hi = mid
    return (lo + hi) / 2


def _clopper_pearson_by_bisection(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact limits from their definition: P(X >= k | low) = a/2, P(X <= k | high) = a/2."""
    low = 0.0 if k == 0 else _bisect(lambda p: (1 - _binom_cdf(k - 1, n, p)) - alpha / 2, 0, 1)
    high = 1.0 if k == n else _bisect(lambda p: _binom_cdf(k, n, p) - alpha / 2, 0, 1)
    return low, high


# ---------------------------------------------------------------- intervals


def test_exact_ci_matches_r_binom_test_documentation_example():
    # R ?binom.test: binom.test(682, 925, p = 0.75) -> 95% CI 0.7076683 0.7654066
    low, high = stats.exact_ci(682, 925)
    assert low == pytest.approx(0.7076683, abs=1e-7)
    assert high == pytest.approx(0.7654066, abs=1e-7)


@pytest.mark.parametrize("k, n", [(23, 34), (12, 13), (0, 7), (7, 7), (1, 2)])
def test_exact_ci_matches_bisection_on_binomial_cdf(k, n):
    # Independent method: solve the Clopper-Pearson tail equations directly
    # with exact binomial sums (math.comb), not beta quantiles.
    assert stats.exact_ci(k, n) == pytest.approx(_clopper_pearson_by_bisection(k, n), abs=1e-9)


@pytest.mark.parametrize("k, n", [(0, 5), (1, 1), (5, 5), (3, 34), (23, 34), (119, 271)])
def test_exact_ci_equals_the_beta_quantiles_of_the_shared_reference(k, n):
    assert stats.exact_ci(k, n) == pytest.approx(reference_exact.clopper_pearson(k, n), abs=1e-12)


def test_exact_ci_upper_limit_for_zero_events_is_closed_form():
    # For k = 0 the upper limit solves (1-p)^n = a/2: p = 1 - 0.025**(1/n).
    low, high = stats.exact_ci(0, 10)
    assert low == 0.0
    assert high == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-12)


def test_exact_ci_of_empty_denominator_is_nan():
    assert all(math.isnan(v) for v in stats.exact_ci(0, 0))
    assert math.isnan(stats.proportion(0, 0).estimate)


def test_wilson_ci_matches_newcombe_1998_published_example():
    # Newcombe RG, Stat Med 1998;17:857-872, Table I: 81/263 Wilson score 0.2553 to 0.3662.
    low, high = stats.wilson_ci(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)


def test_wilson_ci_matches_hand_formula():
    # Wilson (1927): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.959964
    k, n, z = 15, 148, 1.959963984540054
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    expected = ((centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n))
    assert stats.wilson_ci(k, n) == pytest.approx(expected, abs=1e-12)


def test_proportion_holds_the_share_and_the_exact_interval_of_r_binom_test():
    # R: binom.test(23, 34)$conf.int -> 0.4947347 0.8261166
    p = stats.proportion(23, 34)
    assert (p.numerator, p.denominator, p.estimate) == (23, 34, 23 / 34)
    assert (p.ci_low, p.ci_high) == pytest.approx((0.4947347, 0.8261166), abs=5e-8)
    assert p.method_label == "Clopper-Pearson exact 95% CI"


def test_proportion_rejects_unknown_method():
    with pytest.raises(ValueError):
        stats.proportion(1, 2, method="wald")


# ---------------------------------------------------------------- Fisher


def test_fisher_exact_matches_r_fisher_test_on_tea_tasting_table():
    # R ?fisher.test: TeaTasting matrix(c(3, 1, 1, 3)) -> p-value = 0.4857
    res = stats.fisher_exact([[3, 1], [1, 3]])
    assert res.p_value == pytest.approx(0.4857, abs=5e-5)
    assert res.short == "fisher"


def test_fisher_exact_matches_r_fisher_test_on_job_satisfaction_table():
    # R ?fisher.test: Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4)
    # fisher.test(Job) -> p-value = 0.7827
    job = np.array([1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11]).reshape(4, 4).T
    res = stats.fisher_exact(job)
    assert res.p_value == pytest.approx(0.7827, abs=5e-5)
    assert "exact" in res.method and "asymptotic" not in res.method


def test_fisher_exact_on_paper_post_debulking_blast_table_matches_brute_force():
    # Paper 3.3.3: CR 14/18 (<20% blasts), 2/2 (20-49%), 0/2 (>=50%).
    table = [[14, 4], [2, 0], [0, 2]]
    res = stats.fisher_exact(table)
    assert res.p_value == pytest.approx(reference_exact.fisher_p(table), rel=1e-9)
    assert res.method.startswith("Fisher's exact test (3x2")


def _drawn_tables(count: int, seed: int) -> list[list[list[int]]]:
    """``count`` tables of counts 0-6 drawn with a fixed seed, in shapes with at most 4 free
    cells (the brute force stays fast). With seed 2022, two of 40 have an empty row and two an
    empty column."""
    rng = np.random.default_rng(seed)
    shapes = [(2, 3), (3, 2), (3, 3), (2, 4), (4, 2), (2, 5)]
    return [rng.integers(0, 7, size=shapes[i % len(shapes)]).tolist() for i in range(count)]


@pytest.mark.parametrize("table", _drawn_tables(40, seed=2022))
def test_fisher_exact_rxc_matches_brute_force_enumeration(table):
    assert stats.fisher_exact(table).p_value == pytest.approx(
        reference_exact.fisher_p(table), rel=1e-8, abs=1e-12
    )


@pytest.mark.parametrize("table", [[[5, 0], [3, 0]], [[0, 0, 0], [4, 2, 1]], [[0, 0], [0, 0]]])
def test_fisher_exact_with_a_single_non_empty_row_or_column_gives_p_one(table):
    assert stats.fisher_exact(table).p_value == 1.0


def test_fisher_exact_drops_empty_rows_before_testing():
    # Same table as TeaTasting with an all-zero row added: same p-value.
    assert stats.fisher_exact([[3, 1], [0, 0], [1, 3]]).p_value == pytest.approx(
        0.4857142857, abs=1e-9
    )


def test_fisher_exact_falls_back_to_chi_square_for_huge_tables_and_says_so():
    table = [[12615, 4984], [12462, 9989], [12552, 14887], [12371, 20140]]
    res = stats.fisher_exact(table)
    assert "asymptotic; exact enumeration infeasible" in res.method
    assert res.p_value == stats.chi_square(table).p_value
    assert f"at n={sum(map(sum, table))}" in res.method


def _fisher_exact_counting_arrays(table, monkeypatch):
    """``stats.fisher_exact(table)`` and the lengths of the composition arrays it built."""
    built = []
    original = contingency._composition_array
    monkeypatch.setattr(
        contingency,
        "_composition_array",
        lambda total, caps: built.append(len(original(total, caps))) or original(total, caps),
    )
    return stats.fisher_exact(table), built


def test_fisher_exact_on_a_large_4x2_table_falls_back_before_allocating_its_tables(monkeypatch):
    # 61,995 patients: the exact enumeration would need ~2.85e11 tables (about 2 TiB of
    # cell vectors); the budget must stop it before any such array is built.
    table = [[10516, 2448], [26229, 6342], [7308, 1743], [5982, 1427]]
    res, built = _fisher_exact_counting_arrays(table, monkeypatch)
    assert "asymptotic" in res.method
    assert res.p_value == stats.chi_square(table).p_value
    assert all(n <= contingency.FISHER_WORK_BUDGET for n in built)


def test_an_infeasible_table_gives_up_after_building_only_its_first_column(monkeypatch):
    # CR by debulking category in a 100,000-patient synthetic cohort. Processed as
    # 2 rows (CR 68,049, no CR 31,951) x 4 columns, smallest column first: the first
    # column (11,990 patients) has 11,991 splits (0..11,990 with CR; both caps are
    # larger). Each of them would need 14,759 splits of the next column, so the
    # second stage alone (~1.8e8 vectors) is past the budget and must be refused
    # before any of it is built.
    table = [[14212, 6628], [35752, 16660], [9954, 4804], [8131, 3859]]
    res, built = _fisher_exact_counting_arrays(table, monkeypatch)
    assert "asymptotic; exact enumeration infeasible" in res.method
    assert res.p_value == stats.chi_square(table).p_value
    assert built == [11991]


def _total_work(table, monkeypatch):
    """Work the enumeration charges for ``table`` with no budget: its final tally."""
    tallies = []
    original = contingency._charge
    monkeypatch.setattr(
        contingency,
        "_charge",
        lambda work, *args: tallies.append(original(work, *args)) or tallies[-1],
    )
    p = contingency._fisher_rxc_p_value(np.asarray(table))
    monkeypatch.setattr(contingency, "_charge", original)
    return max(tallies), p


@pytest.mark.parametrize(
    "table",
    [
        [[14, 4], [2, 0], [0, 2]],
        [[3, 5, 2], [4, 1, 6], [2, 2, 3]],
        [[40, 12], [31, 20], [9, 17], [22, 30]],
        [[6, 2, 9, 1], [3, 8, 2, 7]],
    ],
)
def test_the_enumeration_gives_up_exactly_when_its_work_passes_the_budget(table, monkeypatch):
    # Charging ahead (a whole stage, or the last step's nodes) must only move the
    # decision earlier: with the budget equal to the total work the p-value is the
    # unbudgeted one; one vector less and it gives up.
    work, p = _total_work(table, monkeypatch)
    assert contingency._fisher_rxc_p_value(np.asarray(table), budget=work) == p
    with pytest.raises(contingency._EnumerationTooLarge):
        contingency._fisher_rxc_p_value(np.asarray(table), budget=work - 1)


def test_a_10000_patient_table_falls_back_without_merging_the_stage_before_the_last(monkeypatch):
    # 2 x 4 when processed (CR 6,877 / no CR 3,123; columns 1,220, 1,464, 2,082, 5,234):
    # the second stage fits the budget (at most 1,221 x 1,465 ~ 1.79e6 vectors) but the
    # last step (every state left x up to 2,083 splits) does not, so the second stage's
    # partial tables must never be merged (that merge is what took seconds).
    table = [[1414, 668], [3620, 1614], [974, 490], [869, 351]]
    merged = []
    monkeypatch.setattr(
        contingency, "round", lambda x, d: merged.append(x) or round(x, d), raising=False
    )
    res = stats.fisher_exact(table)
    assert "asymptotic; exact enumeration infeasible" in res.method
    assert len(merged) == 1221  # the first column's splits only: 0..1,220 with CR


@pytest.mark.parametrize("parts_by_inclusion_exclusion", [0, 6])
@pytest.mark.parametrize(
    "total, caps", [(5, [1, 2, 3, 1, 2, 0, 3, 1]), (9, [3] * 7), (0, [2] * 7), (4, [2, 2, 2])]
)
def test_composition_count_by_either_method_equals_brute_force(
    monkeypatch, parts_by_inclusion_exclusion, total, caps
):
    monkeypatch.setattr(contingency, "_INCLUSION_EXCLUSION_PARTS", parts_by_inclusion_exclusion)
    brute = sum(1 for v in itertools.product(*(range(c + 1) for c in caps)) if sum(v) == total)
    assert contingency._composition_count(total, caps) == brute


@pytest.mark.parametrize(
    "total, caps, expected",
    [
        # by hand: v1 + v2 + v3 = 4 with v_i <= 2: (2,2,0) x3 perms, (2,1,1) x3, -> 6
        (4, [2, 2, 2], 6),
        # uncapped stars and bars: C(5 + 2, 2) = 21
        (5, [5, 5, 5], 21),
        # nothing fits: 7 > 2 + 3
        (7, [2, 3], 0),
        # a single part takes everything if its cap allows
        (3, [3], 1),
    ],
)
def test_composition_count_matches_hand_counts(total, caps, expected):
    assert contingency._composition_count(total, caps) == expected
    assert len(contingency._composition_array(total, caps)) == expected if expected else True


def _every_cap_vector(parts: int, largest: int) -> list[tuple[int, ...]]:
    return list(itertools.product(range(largest + 1), repeat=parts))


def _drawn_vectors(count: int, seed: int, largest: int) -> list[np.ndarray]:
    """``count`` vectors of 4 or 5 values 0-``largest`` drawn with a fixed seed."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, largest + 1, size=4 + i % 2) for i in range(count)]


@pytest.mark.parametrize(
    "caps_list",
    [
        # every cap vector of 1 to 3 parts with caps 0-4 ...
        [caps for parts in (1, 2, 3) for caps in _every_cap_vector(parts, 4)],
        # ... and 30 of 4 or 5 parts with caps 0-7, drawn with a fixed seed
        [tuple(caps.tolist()) for caps in _drawn_vectors(30, seed=7, largest=7)],
    ],
    ids=["every small cap vector", "drawn larger cap vectors"],
)
def test_composition_count_equals_the_number_of_vectors_by_brute_force(caps_list):
    for caps in caps_list:
        vectors = collections.Counter(map(sum, itertools.product(*(range(c + 1) for c in caps))))
        for total in range(sum(caps) + 2):  # every reachable total and one past the largest
            assert contingency._composition_count(total, list(caps)) == vectors[total], (
                caps,
                total,
            )


@pytest.mark.parametrize(
    "table, expected",
    [
        # Paper 3.3.3, split at 50%: 16/20 vs 0/2. Margins 20, 2 | 16, 6; C(22,6) = 74613.
        # P(obs) = C(20,16)/74613 = 4845/74613 = 0.064935; it is the least likely table, so
        # Fisher p = 0.064935 and mid-p = 0.064935 / 2 = 0.032468.
        ([[16, 4], [0, 2]], 4845 / 74613 / 2),
        # Split at 20%: 14/18 vs 2/4. Table probabilities (x 74613) 153, 3264, 18360, 34272, 18564;
        # observed 18360 -> Fisher (153 + 3264 + 18360) / 74613, mid-p (153 + 3264 + 9180) / 74613.
        ([[14, 4], [2, 2]], 12597 / 74613),
    ],
)
def test_fisher_midp_is_fisher_p_minus_half_the_observed_table_probability(table, expected):
    res = stats.fisher_midp(table)
    assert res.p_value == pytest.approx(expected, rel=1e-9)
    assert res.short == "fisher_midp" and "mid-p" in res.method and res.statistic is None


def test_fisher_midp_matches_hand_hypergeometric_sums_on_every_2x2_table_of_counts_0_to_5():
    for cells in itertools.product(range(6), repeat=4):
        table = [list(cells[:2]), list(cells[2:])]
        if min(sum(cells[:2]), sum(cells[2:]), cells[0] + cells[2], cells[1] + cells[3]) == 0:
            assert stats.fisher_midp(table).p_value == 1.0, table
            continue
        probs = reference_exact.hypergeometric_2x2(table)
        observed = probs[cells[0]]
        fisher = sum(p for p in probs.values() if p <= observed * (1 + 1e-7))
        assert stats.fisher_midp(table).p_value == pytest.approx(
            fisher - observed / 2, rel=1e-9, abs=1e-12
        ), table


def test_fisher_midp_refuses_tables_that_are_not_2x2():
    with pytest.raises(ValueError):
        stats.fisher_midp([[1, 2], [3, 4], [5, 6]])


@pytest.mark.parametrize(
    "func, expected",
    [
        # independent references for 16/20 vs 0/2 computed by an auditor
        (stats.fisher_exact, 0.0649),
        (lambda t: stats.chi_square(t), 0.0154),
        (lambda t: stats.chi_square(t, yates=True), 0.112),
        (stats.barnard_exact, 0.0366),
        (stats.boschloo_exact, 0.0527),
    ],
)
def test_standard_tests_on_the_high_post_debulking_split_match_audit_references(func, expected):
    assert func([[16, 4], [0, 2]]).p_value == pytest.approx(expected, abs=6e-4)


def test_every_test_with_a_statistic_names_what_the_statistic_is():
    for res in stats.all_tests([[16, 4], [0, 2]]):
        assert (res.statistic is None) == (res.statistic_name is None), res.short
    assert stats.fisher_exact([[16, 4], [0, 2]]).statistic_name == "sample odds ratio"
    assert "one-sided" in stats.boschloo_exact([[16, 4], [0, 2]]).statistic_name


# ---------------------------------------------------------------- chi-square


def _chi_square_by_hand(table, yates):
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table)]
    n = sum(rows)
    x = 0.0
    for i, row in enumerate(table):
        for j, obs in enumerate(row):
            exp = rows[i] * cols[j] / n
            diff = abs(obs - exp) - (0.5 if yates else 0.0)
            x += diff * diff / exp
    return x


@pytest.mark.parametrize("yates", [False, True])
def test_chi_square_2x2_matches_hand_computation(yates):
    table = [[12, 1], [10, 10]]
    x = _chi_square_by_hand(table, yates)
    res = stats.chi_square(table, yates=yates)
    assert res.statistic == pytest.approx(x, rel=1e-12)
    # df = 1: P(chi2_1 > x) = erfc(sqrt(x / 2))
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-10)


def test_chi_square_3x2_matches_hand_computation():
    table = [[14, 4], [2, 0], [0, 2]]
    x = _chi_square_by_hand(table, False)
    res = stats.chi_square(table)
    assert res.statistic == pytest.approx(x, rel=1e-12)
    assert res.p_value == pytest.approx(math.exp(-x / 2), rel=1e-10)  # df = 2: P = e^(-x/2)


def test_chi_square_refuses_yates_correction_beyond_2x2():
    with pytest.raises(ValueError):
        stats.chi_square([[14, 4], [2, 1], [0, 2]], yates=True)


# ---------------------------------------------------------------- Barnard / Boschloo

# Tables from the scipy docs' examples (vaccine trial, Chan 1998; job satisfaction,
# Saari 2004), with rows as the two samples, and the paper's lines-of-therapy table.
UNCONDITIONAL_CASES = [(7, 15, 12, 15), (74, 117, 31, 63), (17, 20, 6, 14)]


@pytest.mark.parametrize("x1, n1, x2, n2", UNCONDITIONAL_CASES)
def test_barnard_exact_matches_brute_force_maximisation_over_nuisance(x1, n1, x2, n2):
    res = stats.barnard_exact([[x1, n1 - x1], [x2, n2 - x2]])
    assert res.p_value == pytest.approx(reference_exact.barnard_p(x1, n1, x2, n2), abs=2e-4)


@pytest.mark.parametrize("x1, n1, x2, n2", UNCONDITIONAL_CASES)
def test_boschloo_exact_matches_brute_force_maximisation_over_nuisance(x1, n1, x2, n2):
    res = stats.boschloo_exact([[x1, n1 - x1], [x2, n2 - x2]])
    assert res.p_value == pytest.approx(reference_exact.boschloo_p(x1, n1, x2, n2), abs=2e-4)


def _pooled_wald_by_hand(x1, n1, x2, n2) -> float:
    """Barnard's statistic (Barnard 1947): difference in proportions over its pooled SE."""
    p = (x1 + x2) / (n1 + n2)
    return (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))


# (x1, n1, x2, n2): the paper's largest two-sample table (cohort 23/34 vs TOWER
# 119/271) and the docs' examples stay exact; cohorts of 1,000 and 100,000 do not.
@pytest.mark.parametrize("x1, n1, x2, n2", [*UNCONDITIONAL_CASES, (23, 34, 119, 271)])
@pytest.mark.parametrize(
    "test, name",
    [
        (stats.barnard_exact, "Barnard's exact test"),
        (stats.boschloo_exact, "Boschloo's exact test"),
    ],
)
def test_unconditional_tests_stay_exact_at_the_papers_sizes(test, name, x1, n1, x2, n2):
    assert stats.unconditional_is_feasible(n1, n2)
    assert test([[x1, n1 - x1], [x2, n2 - x2]]).method == name


@pytest.mark.parametrize(
    "x1, n1, x2, n2, test, name",
    [
        (300, 500, 250, 500, stats.barnard_exact, "Barnard's exact test"),
        (600, 1000, 119, 271, stats.barnard_exact, "Barnard's exact test"),
        (30000, 50000, 29500, 50000, stats.barnard_exact, "Barnard's exact test"),
        (6000, 10000, 5000, 10000, stats.boschloo_exact, "Boschloo's exact test"),
        (30000, 50000, 29500, 50000, stats.boschloo_exact, "Boschloo's exact test"),
    ],
)
def test_unconditional_tests_on_large_tables_are_asymptotic_pooled_z_and_say_so(
    test, name, x1, n1, x2, n2
):
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    res = test(table)
    assert not stats.unconditional_is_feasible(
        n1, n2, "boschloo" if "Boschloo" in name else "barnard"
    )
    assert f"in place of {name}" in res.method
    assert f"asymptotic; exact infeasible at n={n1}+{n2}" in res.method
    z = _pooled_wald_by_hand(x1, n1, x2, n2)
    assert res.statistic == pytest.approx(z, rel=1e-12)
    # two-sided normal p of the pooled z = uncorrected Pearson chi-square p (z^2 = X^2)
    assert z * z == pytest.approx(_chi_square_by_hand(table, yates=False), rel=1e-9)
    assert res.p_value == pytest.approx(math.erfc(abs(z) / math.sqrt(2)), rel=1e-9)


def test_unconditional_switch_happens_just_past_the_sample_space_bound():
    root = math.isqrt(unconditional.UNCONDITIONAL_MAX_TABLES)
    # (root)^2 <= bound < (root + 1)^2 tables, i.e. rows of root - 1 and root patients
    assert stats.unconditional_is_feasible(root - 1, root - 1)
    assert not stats.unconditional_is_feasible(root, root)
    assert stats.barnard_exact([[5, root - 6], [9, root - 10]]).method == "Barnard's exact test"


# Ties: tables whose statistic equals the observed one in exact arithmetic but falls a few
# ulp short in floating point belong to the rejection region. References computed in
# R 4.2.2 (base R only; no Exact package), the region decided in integer arithmetic:
#   a <- rep(0:n1, n2 + 1); b <- rep(0:n2, each = n1 + 1)
#   num <- (a * n2 - b * n1)^2 * (n1 + n2); den <- n1 * n2 * (a + b) * (n1 + n2 - a - b)
#   region <- ifelse(den == 0, num[k] == 0, num * den[k] >= num[k] * den)  # z^2 >= z_obs^2, k observed
#   f <- function(p) sum(dbinom(a, n1, p) * dbinom(b, n2, p) * region)
#   the maximum of f over seq(0, 1, length = 10001), refined by optimize(tol = 1e-12)
# and for Boschloo's test with the two-sided Fisher p as statistic, region <- p <= p[k] * (1 + 1e-7)
# with p the fisher.test p-value of every table.
BARNARD_TIES = [
    # the shipped cohort at bmb_high_cutoff 60: CR 3/16 against 8/17 (scipy: 0.0912764896)
    (3, 16, 8, 17, 0.1094780118),
    # scipy's documentation example, 7/15 against 12/15 (scipy: 0.0681534327)
    (7, 15, 12, 15, 0.06821830932),
    # the shipped cohort at 50, 1/13 against 10/20: no table ties, scipy agrees
    (1, 13, 10, 20, 0.01242754632),
]


def _exact_barnard_ties(x1, n1, x2, n2) -> int:
    """Tables other than the observed one whose squared pooled z equals the observed one exactly."""

    def z_squared(a, b):
        den = n1 * n2 * (a + b) * (n1 + n2 - a - b)
        return Fraction((a * n2 - b * n1) ** 2 * (n1 + n2), den) if den else Fraction(0)

    observed = z_squared(x1, x2)
    return sum(z_squared(a, b) == observed for a in range(n1 + 1) for b in range(n2 + 1)) - 1


@pytest.mark.parametrize("x1, n1, x2, n2, r_value", BARNARD_TIES)
def test_barnard_counts_tables_that_tie_the_observed_statistic_as_r_integer_arithmetic_does(
    x1, n1, x2, n2, r_value
):
    res = stats.barnard_exact([[x1, n1 - x1], [x2, n2 - x2]])
    assert res.p_value == pytest.approx(r_value, rel=1e-8)


def test_the_shipped_cohort_at_sixty_has_tables_tying_barnards_statistic_that_scipy_drops():
    assert _exact_barnard_ties(3, 16, 8, 17) >= 1
    scipy_p = sps.barnard_exact(np.array([[3, 13], [8, 9]]).T).pvalue
    assert scipy_p == pytest.approx(0.0912764896, rel=1e-8)  # the flaw this module avoids


def test_boschloo_with_the_two_sided_fisher_statistic_counts_exact_ties():
    # 1/13 against 10/20 (the shipped cohort at 50): the table 12/13 against 10/20 has the same
    # Fisher p, 13393/620310, exactly; in floating point it comes out 1.6e-13 above.
    res = stats.boschloo_fisher_two_sided([[1, 12], [10, 10]])
    assert res.statistic == pytest.approx(13393 / 620310, rel=1e-12)
    assert res.p_value == pytest.approx(0.01242754632, rel=1e-8)  # R, as above
    assert stats.boschloo_fisher_two_sided([[3, 13], [8, 9]]).p_value == pytest.approx(
        0.1066862062, rel=1e-8
    )


def test_exact_barnard_statistic_is_the_pooled_wald_statistic_of_row_one_minus_row_two():
    # same sign convention on both sides of the switch
    for x1, n1, x2, n2 in UNCONDITIONAL_CASES:
        res = stats.barnard_exact([[x1, n1 - x1], [x2, n2 - x2]])
        assert res.statistic == pytest.approx(_pooled_wald_by_hand(x1, n1, x2, n2), rel=1e-9)


def test_unconditional_tests_refuse_tables_that_are_not_2x2():
    with pytest.raises(ValueError):
        stats.barnard_exact([[1, 2], [3, 4], [5, 6]])


def test_all_tests_lists_every_test_applicable_to_the_shape():
    assert [t.short for t in stats.all_tests([[12, 1], [10, 10]])] == [
        "fisher",
        "chi2",
        "chi2_yates",
        "barnard",
        "boschloo",
        "fisher_midp",
        "boschloo_fisher2",
        "fisher_midp_doubled",
    ]
    assert [t.short for t in stats.all_tests([[14, 4], [2, 0], [0, 2]])] == ["fisher", "chi2"]


# --- the two two-sided conventions of Boschloo's test and of the mid-p -------------------


def _fisher_two_sided_p(a, n1, b, n2):
    return sps.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue


def _fisher_less_p(a, n1, b, n2):
    return sps.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="less").pvalue


def _fisher_greater_p(a, n1, b, n2):
    return sps.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="greater").pvalue


# (cells, scipy's convention, two-sided Fisher statistic), to four decimals, each also
# checked against the brute force below;
# cohort Ph- 14/21 vs TOWER 119/271, cohort CR/CRp 21/34 vs Topp 2015 81/189, CR by
# post-debulking blasts <50 % (16/20) vs >=50 % (0/2).
BOSCHLOO_CONVENTION_CASES = [
    ([[14, 7], [119, 152]], 0.0466, 0.0590),
    ([[21, 13], [81, 108]], 0.0439, 0.0529),
    ([[16, 4], [0, 2]], 0.0527, 0.0264),
]


@pytest.mark.parametrize("cells, doubled, fisher_statistic", BOSCHLOO_CONVENTION_CASES)
def test_boschloo_two_sided_conventions_give_the_reference_values_and_match_brute_force(
    cells, doubled, fisher_statistic
):
    (x1, f1), (x2, f2) = cells
    n1, n2 = x1 + f1, x2 + f2
    scipy_way = stats.boschloo_exact(cells)
    other_way = stats.boschloo_fisher_two_sided(cells)
    assert scipy_way.p_value == pytest.approx(doubled, abs=5e-5)
    assert other_way.p_value == pytest.approx(fisher_statistic, abs=5e-5)
    assert (
        other_way.short == "boschloo_fisher2"
        and "two-sided Fisher p as statistic" in other_way.method
    )
    # Fisher's p of every outcome from the hypergeometric, agreeing with scipy.stats.fisher_exact
    # table by table on the observed row
    by_outcome = {
        side: reference_exact.fisher_p_by_outcome(n1, n2, side)
        for side in ("two-sided", "less", "greater")
    }
    for side, scipy_p in (
        ("two-sided", _fisher_two_sided_p),
        ("less", _fisher_less_p),
        ("greater", _fisher_greater_p),
    ):
        assert by_outcome[side][x1] == pytest.approx(
            [scipy_p(x1, n1, b, n2) for b in range(n2 + 1)], rel=1e-9
        )
    brute_two, brute_less, brute_greater = (
        reference_exact.unconditional_p(x1, n1, x2, n2, by_outcome[side])
        for side in ("two-sided", "less", "greater")
    )
    assert other_way.p_value == pytest.approx(brute_two, abs=1e-6)
    assert scipy_way.p_value == pytest.approx(min(1, 2 * min(brute_less, brute_greater)), abs=1e-6)


@pytest.mark.parametrize(
    "x1, n1, x2, n2", [(15, 21, 119, 271), (3, 12, 9, 11), (16, 20, 0, 2), (60, 400, 2, 3)]
)
def test_boschloo_by_rejection_boundaries_equals_scipys_enumeration(x1, n1, x2, n2):
    # the boundary search (used past scipy's range) on tables scipy still handles
    p, _ = unconditional._boschloo_by_boundaries(x1, n1, x2, n2)
    ref = sps.boschloo_exact(
        np.array([[x1, n1 - x1], [x2, n2 - x2]]).T, alternative="two-sided"
    ).pvalue
    assert p == pytest.approx(ref, abs=2e-6)


def test_boschloo_at_twenty_thousand_patients_is_exact_when_the_smaller_arm_is_small():
    # 10028/12347 vs 14/16: 209,916 tables, but only 17 rejection boundaries to find.
    # Reference: scipy.stats.boschloo_exact(np.array([[10028, 2319], [14, 2]]).T) = 0.7347274140
    # (27 s on this machine).
    table = [[10028, 12347 - 10028], [14, 2]]
    assert (12347 + 1) * (16 + 1) > unconditional.UNCONDITIONAL_MAX_TABLES
    assert stats.unconditional_is_feasible(12347, 16, "boschloo")
    res = stats.boschloo_exact(table)
    assert res.method == "Boschloo's exact test"
    assert res.p_value == pytest.approx(0.7347274140, abs=1e-8)


@pytest.mark.parametrize(
    "n1, n2, feasible",
    [(12347, 16, True), (100_000, 30, True), (10_000, 10_000, False), (3000, 17_000, False)],
)
def test_boschloo_falls_back_to_the_z_test_only_when_the_smaller_arm_makes_the_work_too_large(
    n1, n2, feasible
):
    assert stats.unconditional_is_feasible(n1, n2, "boschloo") is feasible
    assert (unconditional.boschloo_work(n1, n2) <= unconditional.BOSCHLOO_WORK_BUDGET) is feasible
    if not feasible:
        res = stats.boschloo_exact([[n1 // 2, n1 - n1 // 2], [n2 // 3, n2 - n2 // 3]])
        assert "in place of Boschloo's exact test" in res.method and "asymptotic" in res.method


def test_boschloo_work_is_dominated_by_the_smaller_arm():
    assert unconditional.boschloo_work(100_000, 16) < unconditional.boschloo_work(1000, 1000)
    assert unconditional.boschloo_work(16, 100_000) == unconditional.boschloo_work(100_000, 16)


# Fisher's two-sided p for 16/20 vs 0/2 is 0.0606 - P(observed)/2 = 0.0325 (the project's
# mid-p); one-sided mid-ps 0.0325 (lower) and 0.9675: twice the smaller, 0.0649.
@pytest.mark.parametrize("cells, lancaster, doubled", [([[16, 4], [0, 2]], 0.0325, 0.0649)])
def test_mid_p_conventions_differ_and_are_both_reported(cells, lancaster, doubled):
    assert stats.fisher_midp(cells).p_value == pytest.approx(lancaster, abs=5e-5)
    res = stats.fisher_midp_doubled(cells)
    assert res.p_value == pytest.approx(doubled, abs=5e-5) and res.short == "fisher_midp_doubled"
    # the hypergeometric top-left cell: margins 22 patients, 20 in row 1, 16 events
    probs = reference_exact.hypergeometric_2x2(cells)
    assert sorted(probs) == [14, 15, 16]
    lower = probs[14] + probs[15] + probs[16] / 2
    upper = probs[16] / 2
    assert res.p_value == pytest.approx(2 * min(lower, upper), rel=1e-12)


def test_convention_pairs_name_each_others_variant():
    for a, b in stats.CONVENTION_PAIRS.items():
        assert stats.CONVENTION_PAIRS[b] == a and a in stats.TESTS and a in stats.TWO_BY_TWO_ONLY


def test_a_fallback_names_itself_and_an_exact_test_keeps_its_short_name():
    # the 10,000-patient 4 x 2 table above: the exact enumeration is past FISHER_WORK_BUDGET
    big = stats.fisher_exact([[1414, 668], [3620, 1614], [974, 490], [869, 351]])
    assert big.replaced
    assert big.name == "Pearson chi-square (in place of Fisher's exact test, infeasible at this n)"
    small = stats.fisher_exact([[12, 1], [10, 10]])
    assert not small.replaced and small.name == "Fisher"
    z = stats.boschloo_exact([[6000, 4000], [5000, 5000]])
    assert (
        z.name
        == "pooled z-test (Pearson chi-square) (in place of Boschloo's exact test, infeasible at this n)"
    )


# Clopper-Pearson limits from R 4.2: binom.test(15, 34)$conf.int -> 0.2718502 0.6211424;
# binom.test(0, 12)$conf.int -> 0.0000000 0.2646485; binom.test(33, 34)$conf.int -> 0.8467323 0.9992556
@pytest.mark.parametrize(
    ("k", "n", "shown"),
    [
        (15, 34, "15/34 (44.1%; 95% CI 27.2–62.1%, Clopper-Pearson)"),
        (0, 12, "0/12 (0.0%; 95% CI 0.0–26.5%, Clopper-Pearson)"),
        (33, 34, "33/34 (97.1%; 95% CI 84.7–99.9%, Clopper-Pearson)"),
        (0, 0, "0/0 (–; 95% CI not estimable, Clopper-Pearson)"),
    ],
)
def test_a_proportion_reads_as_a_clinician_writes_it(k, n, shown):
    result = stats.proportion(k, n)
    assert str(result) == shown and result._repr_markdown_() == shown


# A share run rounds a shown count to a multiple of 5 and reads rate and interval from the rounded
# counts; R 4.2: binom.test(15, 30)$conf.int -> 0.3129703 0.6870297
def test_a_proportion_in_a_share_run_hides_a_small_count_and_rounds_the_others():
    from helpers import suppression

    share = suppression.Policy.for_run(True, 5)
    assert str(stats.proportion(3, 30, policy=share)) == "<5/30 (–; 95% CI –, Clopper-Pearson)"
    assert (
        str(stats.proportion(13, 30, policy=share))
        == "15/30 (50.0%; 95% CI 31.3–68.7%, Clopper-Pearson)"
    )


# R 4.2: fisher.test(matrix(c(12, 10, 1, 10), 2))$p.value -> 0.02159082
def test_a_test_result_reads_as_its_method_and_p_value():
    result = stats.fisher_exact([[12, 1], [10, 10]])
    assert str(result) == "Fisher's exact test (2x2, two-sided): p = 0.022"
