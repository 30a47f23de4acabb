"""Comparing the cohort's response rate with a historic comparator.

Two situations: the comparator reports counts (``compare_with_counts``: an
exact two-sample comparison) or only a rate treated as known
(``compare_with_rate``: an exact one-sample binomial test). Both add a
Bayesian reading, the posterior probability that the cohort's rate is higher,
computed by numerical integration under independent Beta priors.

Caveat for every comparison here: historic cohorts differ in definitions,
populations and eras; a p-value measures chance, not comparability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import integrate
from scipy import stats as sps

from helpers.stats import TestResult, boschloo_exact, fisher_exact, wilson_ci



@dataclass(frozen=True)
class TwoSampleComparison:
    """Cohort (1) versus comparator (2) from counts.

    ``risk_difference`` is p1 - p2 with a Newcombe hybrid-score interval;
    ``prob_cohort_higher`` is the posterior P(p1 > p2) under independent
    Beta(``prior``) priors.
    """

    fisher: TestResult
    boschloo: TestResult
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    rd_method: str
    prob_cohort_higher: float
    prior: tuple[float, float]


def newcombe_difference_ci(k1: int, n1: int, k2: int, n2: int,
                           confidence: float = 0.95) -> tuple[float, float, float]:
    """Risk difference p1 - p2 and Newcombe's hybrid score interval.

    Method 10 of Newcombe (1998), Stat Med 17:873-890: combines the Wilson
    score intervals (l_i, u_i) of each proportion,
    ``L = d - sqrt((p1-l1)^2 + (u2-p2)^2)``, ``U = d + sqrt((u1-p1)^2 + (p2-l2)^2)``.
    Needs n1, n2 > 0.
    """
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both groups need a positive denominator")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_ci(k1, n1, confidence)
    l2, u2 = wilson_ci(k2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, low, high


def prob_beta_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2).

    Numerical integration of ``pdf1(x) * cdf2(x)`` (adaptive quadrature, not
    Monte Carlo) over the central ``1 - 2e-15`` of X1's distribution, split at
    the means of both: with large counts the posteriors are narrow spikes that
    quadrature over all of [0, 1] can step over (it returned 0 for a
    certainty at n = 100,000).
    """
    low, high = sps.beta.ppf(1e-15, a1, b1), sps.beta.isf(1e-15, a1, b1)
    inside = [m for m in (a1 / (a1 + b1), a2 / (a2 + b2)) if low < m < high]
    value, _ = integrate.quad(lambda x: sps.beta.pdf(x, a1, b1) * sps.beta.cdf(x, a2, b2),
                              low, high, points=sorted(inside) or None,
                              epsabs=1e-12, epsrel=1e-10, limit=200)
    return float(min(1.0, max(0.0, value)))


def compare_with_counts(k1: int, n1: int, k2: int, n2: int, *,
                        prior: tuple[float, float] = (1.0, 1.0),
                        confidence: float = 0.95) -> TwoSampleComparison:
    """Compare the cohort's k1/n1 with a comparator's k2/n2.

    Fisher's exact and Boschloo's exact tests (two-sided) on the table
    ``[[k1, n1-k1], [k2, n2-k2]]`` (rows are the two samples), the risk
    difference with Newcombe's hybrid score interval, and the posterior
    P(p1 > p2) with independent ``Beta(*prior)`` priors updated by each
    group's counts. Hypothesis for the tests: two independent binomial
    samples with a common rate under H0. For large samples Boschloo's test
    becomes the asymptotic pooled z-test and its ``method`` says so
    (:data:`helpers.stats.UNCONDITIONAL_MAX_TABLES`).
    """
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    d, low, high = newcombe_difference_ci(k1, n1, k2, n2, confidence)
    a, b = prior
    prob = prob_beta_greater(a + k1, b + n1 - k1, a + k2, b + n2 - k2)
    return TwoSampleComparison(
        fisher=fisher_exact(table), boschloo=boschloo_exact(table),
        risk_difference=d, rd_ci_low=low, rd_ci_high=high,
        rd_method=f"Newcombe hybrid score {100 * confidence:g}% CI (method 10)",
        prob_cohort_higher=prob, prior=(float(a), float(b)))


@dataclass(frozen=True)
class OneSampleComparison:
    """Cohort k/n against a fixed reference rate ``reference_rate``."""

    binomial: TestResult
    prob_cohort_higher: float
    prior: tuple[float, float]
    reference_rate: float


def compare_with_rate(k: int, n: int, p0: float, *,
                      prior: tuple[float, float] = (1.0, 1.0)) -> OneSampleComparison:
    """Exact two-sided binomial test of k/n against p0, and posterior P(p > p0).

    The test is ``scipy.stats.binomtest`` (two-sided p-value: total probability
    of outcomes no more likely than the observed, R's ``binom.test`` rule);
    the posterior is ``Beta(prior[0] + k, prior[1] + n - k)``. Caveat: p0 is
    treated as known, ignoring the comparator's own sampling error.
    """
    res = sps.binomtest(k, n, p0, alternative="two-sided")
    a, b = prior
    prob = float(sps.beta.sf(p0, a + k, b + n - k))
    test = TestResult("Exact binomial test (two-sided)", "binomial", float(k / n),
                      float(res.pvalue), ((int(k), int(n - k)),))
    return OneSampleComparison(test, prob, (float(a), float(b)), float(p0))
