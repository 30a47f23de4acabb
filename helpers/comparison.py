"""Comparing the cohort's response rate with a historic comparator.

Two situations: the comparator reports counts (``compare_with_counts``: an
exact two-sample comparison) or only a rate treated as known
(``compare_with_rate``: an exact one-sample binomial test). Both add a
Bayesian reading, the posterior probability that the cohort's rate is higher,
computed by numerical integration under independent Beta priors.
``exact_sample_size`` gives the cohort size an exact binomial test needs.

Caveat for every comparison here: historic cohorts differ in definitions,
populations and eras; a p-value measures chance, not comparability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate
from scipy import stats as sps

from helpers.stats import TestResult, boschloo_exact, fisher_exact, wilson_ci

#: R's ``binom.test`` / ``fisher.test`` tolerance for "as or less probable".
_RELATIVE_TOLERANCE = 1e-7
#: Sizes after a candidate that must all keep the target power for it to be "stable".
STABLE_WINDOW = 20


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


@dataclass(frozen=True)
class SampleSize:
    """Smallest cohort for an exact binomial test of p0 to reach the target power at p1.

    ``n`` is the first size with power >= target; because exact power is a
    saw-tooth in n, ``n_stable`` is the first size from which every size up
    to ``n_stable + STABLE_WINDOW`` (20) attains it. ``critical_low`` / ``critical_high`` are
    the largest / smallest success counts rejected at ``n`` (None when that
    side rejects nothing); ``achieved_alpha`` is the exact size of the test.
    """

    n: int
    n_stable: int
    achieved_power: float
    achieved_alpha: float
    critical_low: int | None
    critical_high: int | None
    p0: float
    p1: float
    alpha: float
    power: float
    two_sided: bool


def _rejection_region(n: int, p0: float, p1: float, alpha: float, two_sided: bool) -> np.ndarray:
    """Boolean mask over x = 0..n of the exact binomial test's rejection region."""
    pmf0 = sps.binom.pmf(np.arange(n + 1), n, p0)
    if two_sided:
        # p(x) = sum of pmf0(y) over y with pmf0(y) <= pmf0(x) * (1 + 1e-7)
        order = np.sort(pmf0)
        cumulative = np.cumsum(order)
        idx = np.searchsorted(order, pmf0 * (1 + _RELATIVE_TOLERANCE), side="right") - 1
        p_values = cumulative[idx]
    elif p1 > p0:
        p_values = sps.binom.sf(np.arange(n + 1) - 1, n, p0)  # P(X >= x)
    else:
        p_values = sps.binom.cdf(np.arange(n + 1), n, p0)  # P(X <= x)
    return p_values <= alpha


def _power(n: int, p0: float, p1: float, alpha: float, two_sided: bool) -> tuple[float, np.ndarray]:
    region = _rejection_region(n, p0, p1, alpha, two_sided)
    return float(sps.binom.pmf(np.arange(n + 1), n, p1)[region].sum()), region


def exact_binomial_power(n: int, p0: float, p1: float, *, alpha: float = 0.05,
                         two_sided: bool = True) -> float:
    """Power at p1 of the exact binomial test of H0: p = p0 with n patients.

    Rejection region from the exact null distribution, as in
    :func:`exact_sample_size`; the test's actual size is at most ``alpha``.
    """
    return _power(n, p0, p1, alpha, two_sided)[0]


def exact_sample_size(p0: float, p1: float, *, alpha: float = 0.05, power: float = 0.80,
                      two_sided: bool = True, n_max: int = 2000) -> SampleSize:
    """Smallest n at which the exact binomial test of H0: p = p0 has power >= ``power`` at p1.

    The rejection region comes from the exact null distribution Binom(n, p0)
    (two-sided: R's ``binom.test`` rule; one-sided: in the direction of p1).
    Raises ``ValueError`` if no n <= ``n_max`` reaches the target.
    """
    if not (0 < p0 < 1 and 0 < p1 < 1) or p0 == p1:
        raise ValueError("need 0 < p0, p1 < 1 and p0 != p1")
    cache: dict[int, float] = {}

    def reaches(m: int) -> bool:
        if m not in cache:
            cache[m] = _power(m, p0, p1, alpha, two_sided)[0]
        return cache[m] >= power

    n = next((m for m in range(1, n_max + 1) if reaches(m)), None)
    if n is None:
        raise ValueError(f"power {power} not reached with n <= {n_max}")
    n_stable = next((m for m in range(n, n_max + 1)
                     if all(reaches(j) for j in range(m, m + STABLE_WINDOW + 1))), None)
    if n_stable is None:
        raise ValueError(f"power {power} not reached stably with n <= {n_max}")
    achieved, region = _power(n, p0, p1, alpha, two_sided)
    x = np.arange(n + 1)
    mode = (n + 1) * p0
    lower = x[region & (x < mode)]
    upper = x[region & (x > mode)]
    size = float(sps.binom.pmf(x, n, p0)[region].sum())
    return SampleSize(n, n_stable, achieved, size,
                      int(lower.max()) if lower.size else None,
                      int(upper.min()) if upper.size else None,
                      float(p0), float(p1), float(alpha), float(power), bool(two_sided))
