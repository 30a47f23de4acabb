"""The cohort's response rate against a historic comparator's counts (exact two-sample tests)
or known rate (exact binomial test), each with the posterior probability that the cohort's
rate is higher. Historic cohorts differ in definitions, populations and eras: a p-value
measures chance, not comparability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import integrate
from scipy import stats as sps

from helpers.stats import TestResult, boschloo_exact, fisher_exact, wilson_ci


@dataclass(frozen=True)
class TwoSampleComparison:
    """Cohort (1) versus comparator (2) from counts: risk difference p1 - p2 with its Newcombe
    interval, posterior P(p1 > p2) under independent Beta(``prior``) priors."""

    fisher: TestResult
    boschloo: TestResult
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    rd_method: str
    prob_cohort_higher: float
    prior: tuple[float, float]


def newcombe_difference_ci(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Risk difference p1 - p2 and Newcombe's hybrid score interval (method 10 of Newcombe 1998,
    Stat Med 17:873-890, from the Wilson intervals of each proportion); n1, n2 > 0."""
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
    """P(X1 > X2) for independent X1 ~ Beta(a1, b1), X2 ~ Beta(a2, b2), by quadrature of
    ``pdf1 * cdf2`` over the central ``1 - 2e-15`` of X1, split at both means: with large counts
    the posteriors are spikes that quadrature over all of [0, 1] can step over."""
    low, high = sps.beta.ppf(1e-15, a1, b1), sps.beta.isf(1e-15, a1, b1)
    inside = [m for m in (a1 / (a1 + b1), a2 / (a2 + b2)) if low < m < high]
    value, _ = integrate.quad(
        lambda x: sps.beta.pdf(x, a1, b1) * sps.beta.cdf(x, a2, b2),
        low,
        high,
        points=sorted(inside) or None,
        epsabs=1e-12,
        epsrel=1e-10,
        limit=200,
    )
    return float(min(1.0, max(0.0, value)))


def compare_with_counts(
    k1: int,
    n1: int,
    k2: int,
    n2: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    confidence: float = 0.95,
) -> TwoSampleComparison:
    """The cohort's k1/n1 against a comparator's k2/n2: two-sided Fisher and Boschloo tests of
    ``[[k1, n1-k1], [k2, n2-k2]]`` (for large samples Boschloo's ``method`` names the asymptotic
    test used), Newcombe's risk difference interval, posterior P(p1 > p2)."""
    table = [[k1, n1 - k1], [k2, n2 - k2]]
    d, low, high = newcombe_difference_ci(k1, n1, k2, n2, confidence)
    a, b = prior
    prob = prob_beta_greater(a + k1, b + n1 - k1, a + k2, b + n2 - k2)
    return TwoSampleComparison(
        fisher=fisher_exact(table),
        boschloo=boschloo_exact(table),
        risk_difference=d,
        rd_ci_low=low,
        rd_ci_high=high,
        rd_method=f"Newcombe hybrid score {100 * confidence:g}% CI (method 10)",
        prob_cohort_higher=prob,
        prior=(float(a), float(b)),
    )


@dataclass(frozen=True)
class OneSampleComparison:
    """Cohort k/n against a fixed reference rate ``reference_rate``."""

    binomial: TestResult
    prob_cohort_higher: float
    prior: tuple[float, float]
    reference_rate: float


def compare_with_rate(
    k: int, n: int, p0: float, *, prior: tuple[float, float] = (1.0, 1.0)
) -> OneSampleComparison:
    """Exact two-sided binomial test of k/n against p0 (R's ``binom.test`` rule) and posterior
    P(p > p0) under ``Beta(*prior)``; p0 is treated as known (its sampling error ignored)."""
    res = sps.binomtest(k, n, p0, alternative="two-sided")
    a, b = prior
    prob = float(sps.beta.sf(p0, a + k, b + n - k))
    test = TestResult(
        "Exact binomial test (two-sided)",
        "binomial",
        float(k / n),
        float(res.pvalue),
        ((int(k), int(n - k)),),
    )
    return OneSampleComparison(test, prob, (float(a), float(b)), float(p0))
