"""Tests of helpers.comparison against published values, closed forms,
Monte Carlo and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import reference_exact

from helpers import comparison


@pytest.mark.parametrize(
    "k1, n1, k2, n2, low, high",
    [
        # Newcombe RG, Stat Med 1998;17:873-890, Table II, method 10 (score, no CC):
        (56, 70, 48, 80, 0.0524, 0.3339),  # example (a)
        (9, 10, 3, 10, 0.1705, 0.8090),  # example (b)
        (5, 56, 0, 29, -0.0381, 0.1926),  # example (d)
    ],
)
def test_risk_difference_ci_matches_newcombe_1998_method_10(k1, n1, k2, n2, low, high):
    res = comparison.compare_with_counts(k1, n1, k2, n2)
    assert res.risk_difference == pytest.approx(k1 / n1 - k2 / n2)
    assert (round(res.rd_ci_low, 4), round(res.rd_ci_high, 4)) == (low, high)


def test_posterior_probability_matches_monte_carlo():
    res = comparison.compare_with_counts(23, 34, 119, 271)
    rng = np.random.default_rng(20220101)
    draws1 = rng.beta(1 + 23, 1 + 11, 200_000)
    draws2 = rng.beta(1 + 119, 1 + 152, 200_000)
    assert res.prob_cohort_higher == pytest.approx(np.mean(draws1 > draws2), abs=0.01)


def test_posterior_probability_matches_closed_form():
    # X1 ~ Beta(2, 1), X2 ~ Beta(1, 1): P(X1 > X2) = int_0^1 2x * x dx = 2/3
    assert comparison.prob_beta_greater(2, 1, 1, 1) == pytest.approx(2 / 3, abs=1e-10)
    # 1/1 vs 0/1 under uniform priors: Beta(2, 1) vs Beta(1, 2): int 2x (1 - (1-x)^2) dx = 5/6
    res = comparison.compare_with_counts(1, 1, 0, 1)
    assert res.prob_cohort_higher == pytest.approx(5 / 6, abs=1e-10)


def _prob_beta_greater_by_miller_sum(a1: int, b1: int, a2: int, b2: int) -> float:
    """P(X1 > X2) for integer a1 by the finite sum in E. Miller, "Formulas for Bayesian
    A/B testing" (2015): sum over i < a1 of B(a2 + i, b2 + b1) / ((b1 + i) B(1 + i, b1) B(a2, b2)),
    evaluated in logs."""
    from scipy.special import betaln

    i = np.arange(a1, dtype=float)
    terms = betaln(a2 + i, b2 + b1) - np.log(b1 + i) - betaln(1 + i, b1) - betaln(a2, b2)
    return float(np.exp(terms).sum())


@pytest.mark.parametrize(
    "a1, b1, a2, b2",
    [
        (24, 12, 120, 153),  # the cohort's 23/34 vs TOWER 119/271, uniform priors
        (1 + 6230, 1 + 3770, 34, 45),  # 62.3% of 10,000 vs Topp 2015 33/77
        (1 + 62300, 1 + 37700, 34, 45),  # the same rate in 100,000: a spike quadrature can miss
        (34, 45, 1 + 62300, 1 + 37700),  # and the other way round
        (1 + 50_000, 1 + 50_000, 1 + 500, 1 + 500),  # equal rates, very different sizes
    ],
)
def test_posterior_probability_matches_millers_closed_sum_at_every_size(a1, b1, a2, b2):
    expected = _prob_beta_greater_by_miller_sum(a1, b1, a2, b2)
    assert comparison.prob_beta_greater(a1, b1, a2, b2) == pytest.approx(expected, abs=1e-8)


def test_two_sample_tests_are_fisher_and_boschloo_on_the_counts():
    res = comparison.compare_with_counts(3, 4, 1, 4)
    # R ?fisher.test TeaTasting: p = 0.4857
    assert res.fisher.p_value == pytest.approx(0.4857, abs=5e-5)
    assert res.fisher.table == ((3, 1), (1, 3))
    assert res.boschloo.short == "boschloo"
    # Boschloo by brute-force enumeration of all 5 x 5 outcomes (grid over the common rate)
    assert res.boschloo.p_value == pytest.approx(reference_exact.boschloo_p(3, 4, 1, 4), abs=1e-4)


@pytest.mark.parametrize(
    "k1, n1, k2, n2, fisher, boschloo",
    [
        # auditor's independent values (3 decimals) for two pairings of notebook 05, where the
        # two tests fall on different sides of 0.05: Ph- cohort vs TOWER, cohort CR/CRh vs Topp 2015
        (14, 21, 119, 271, 0.067, 0.047),
        (21, 34, 81, 189, 0.060, 0.044),
    ],
)
def test_fisher_and_boschloo_match_independent_values_where_they_straddle_five_percent(
    k1, n1, k2, n2, fisher, boschloo
):
    res = comparison.compare_with_counts(k1, n1, k2, n2)
    assert res.fisher.p_value == pytest.approx(fisher, abs=5e-4)
    assert res.boschloo.p_value == pytest.approx(boschloo, abs=5e-4)
    assert res.fisher.p_value > 0.05 > res.boschloo.p_value


def test_binomial_test_matches_r_binom_test_documentation_example():
    # R ?binom.test: binom.test(682, 925, p = 0.75) -> p-value = 0.3825
    res = comparison.compare_with_rate(682, 925, 0.75)
    assert res.binomial.p_value == pytest.approx(0.3825, abs=5e-5)


def test_one_sample_posterior_matches_closed_form():
    # n/n successes, uniform prior: posterior Beta(n + 1, 1), P(p > p0) = 1 - p0^(n + 1)
    res = comparison.compare_with_rate(5, 5, 0.6)
    assert res.prob_cohort_higher == pytest.approx(1 - 0.6**6, abs=1e-12)
