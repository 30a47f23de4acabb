"""Barnard's and Boschloo's unconditional exact tests for 2 x 2 tables, two-sided.

Rows are two independent binomial samples (row totals fixed), columns the outcome; the
p-value is maximised over the common success probability. Boschloo's test comes in two
two-sided conventions: scipy's (twice the smaller one-sided p) and the two-sided Fisher p
as statistic (R's ``Exact::exact.test``); they can differ either way.

Not ``scipy.stats.barnard_exact``: it drops tables that tie the observed statistic exactly
but fall a few ulp short in floating point (3/16 against 8/17: 0.0913 for 0.1095). Here
statistics within :data:`STATISTIC_RELATIVE_TOLERANCE` tie, as in R's ``Exact`` package.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
from scipy import stats as sps
from scipy.optimize import minimize_scalar

from helpers.contingency import TestResult, as_tuple, degenerate_result, two_by_two
from helpers.power import fisher_p_values

#: Largest sample space, ``(n1 + 1) * (n2 + 1)`` tables, that Barnard's test and Boschloo's with
#: the two-sided Fisher statistic enumerate (the paper's largest is 35 x 272); beyond, Barnard's
#: test becomes the asymptotic pooled z-test.
UNCONDITIONAL_MAX_TABLES = 50_000

#: Work limit of Boschloo's test (boundary search), in binomial terms evaluated
#: (:func:`boschloo_work`); past it the asymptotic pooled z-test is used.
BOSCHLOO_WORK_BUDGET = 2e6

#: Statistics within this relative distance of the observed one count as tied with it.
STATISTIC_RELATIVE_TOLERANCE = 1e-12

#: Fewest points of the nuisance grid over (0, 1) before the local refinement of the maximum.
_NUISANCE_GRID = 400

#: Binomial terms evaluated at once on the grid (points x outcomes): bounds the memory of a
#: large arm (25,000 outcomes x 1,265 points would be gigabytes) at a few megabytes an array.
_TERMS_AT_ONCE = 2**18


def unconditional_is_feasible(n1: int, n2: int, test: str = "barnard") -> bool:
    """Whether Barnard's (or, ``test="boschloo"``, Boschloo's) exact test is run for row
    totals ``n1``, ``n2`` rather than the asymptotic pooled z-test."""
    if test == "boschloo":
        return boschloo_work(n1, n2) <= BOSCHLOO_WORK_BUDGET
    return (n1 + 1) * (n2 + 1) <= UNCONDITIONAL_MAX_TABLES


def boschloo_work(n1: int, n2: int) -> float:
    """Work of Boschloo's test for arms of ``n1`` and ``n2``, in binomial terms: (smaller arm
    + 1) x (nuisance grid + 10 local searches + log2 of the larger arm + 1)."""
    small, large = sorted((int(n1), int(n2)))
    return float((small + 1) * (_nuisance_grid(large) + 10 + math.ceil(math.log2(large + 2))))


def _nuisance_grid(n_large: int) -> int:
    """Grid points fine enough to resolve the larger arm's binomial spread (the function has
    one local maximum per outcome of the smaller arm)."""
    return max(_NUISANCE_GRID, math.ceil(8 * math.sqrt(n_large)))


def _maximise_over_nuisance(log_p, grid: int = _NUISANCE_GRID, outcomes: int = 1) -> float:
    """``max_pi exp(log_p(pi))`` over (0, 1): a grid, then a bounded local search around
    each of its ten highest local maxima. ``log_p`` maps an array of ``pi`` to an array,
    evaluating about ``outcomes`` binomial terms per value."""
    points = (np.arange(grid) + 0.5) / grid
    # a few vectorised calls, not one per point: scipy's per-call overhead would dominate
    step = max(1, _TERMS_AT_ONCE // outcomes)
    values = np.concatenate([log_p(points[i : i + step]) for i in range(0, grid, step)])
    padded = np.concatenate([[-np.inf], values, [-np.inf]])
    peaks = np.flatnonzero((values >= padded[:-2]) & (values >= padded[2:]))
    best = float(values.max())
    for i in peaks[np.argsort(values[peaks])[::-1][:10]]:
        low, high = max(points[i] - 1 / grid, 1e-12), min(points[i] + 1 / grid, 1 - 1e-12)
        local = minimize_scalar(
            lambda p: -float(log_p(np.array([p]))[0]),
            bounds=(low, high),
            method="bounded",
            options={"xatol": 1e-12},
        )
        best = max(best, -float(local.fun))
    return float(min(1.0, math.exp(best)))


def _boundary(n_outer: int, n_inner: int, ok, rising: bool) -> np.ndarray:
    """For each outer outcome 0..n_outer, by bisection over 0..n_inner: the largest inner
    outcome with ``ok`` (``rising``: ``ok`` holds up to a point; -1 for none), or the
    smallest (``ok`` holds from a point on; n_inner + 1 for none)."""
    outer = np.arange(n_outer + 1)
    lo, hi = np.full(n_outer + 1, -1), np.full(n_outer + 1, n_inner + 1)
    while np.any(hi - lo > 1):
        mid = np.clip((lo + hi) // 2, 0, n_inner)
        up = ok(outer, mid) == rising
        active = hi - lo > 1
        lo = np.where(active & up, mid, lo)
        hi = np.where(active & ~up, mid, hi)
    return lo if rising else hi


def _boschloo_less(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """One-sided Boschloo p-value for p1 < p2, and its statistic ``T(a, b) = P(X1 <= a | a + b)``.

    T rises with ``a`` and falls with ``b``, so the region ``T <= T_obs`` (within
    :data:`STATISTIC_RELATIVE_TOLERANCE`) is one tail of one arm per outcome of the smaller arm.
    """
    total = n1 + n2

    def stat(a, b):
        return sps.hypergeom.cdf(a, total, a + b, n1)

    threshold = float(stat(x1, x2)) * (1 + STATISTIC_RELATIVE_TOLERANCE)
    if n2 <= n1:  # for each b, the largest a in the region
        n_outer, edge = n2, _boundary(n2, n1, lambda b, a: stat(a, b) <= threshold, rising=True)
        log_tail = partial(sps.binom.logcdf, edge[:, None], n1)
    else:  # for each a, the smallest b in the region
        n_outer, edge = n1, _boundary(n1, n2, lambda a, b: stat(a, b) <= threshold, rising=False)
        log_tail = partial(sps.binom.logsf, edge[:, None] - 1, n2)
    outer = np.arange(n_outer + 1)[:, None]

    def log_p(pi):
        # a column of terms per value of pi; summed down each column in outcome order, as
        # one value at a time would be, so the p-value does not depend on how pi is batched
        with np.errstate(divide="ignore"):
            terms = sps.binom.logpmf(outer, n_outer, pi) + log_tail(pi)
        return np.logaddexp.reduce(terms, axis=0)

    grid = _nuisance_grid(max(n1, n2))
    return _maximise_over_nuisance(log_p, grid, 2 * (n_outer + 1)), threshold / (
        1 + STATISTIC_RELATIVE_TOLERANCE
    )


def _boschloo_by_boundaries(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Two-sided Boschloo p-value (twice the smaller one-sided p, at most 1) and that
    side's statistic."""
    less = _boschloo_less(x1, n1, x2, n2)
    greater = _boschloo_less(x2, n2, x1, n1)  # p1 > p2 is p2 < p1 with the rows swapped
    p, statistic = min(less, greater)
    return min(1.0, 2 * p), statistic


def boschloo_fisher_two_sided(table) -> TestResult:
    """Boschloo's test of a 2 x 2 table with the two-sided Fisher p as statistic (R's
    ``Exact::exact.test``): the region is every table whose Fisher p is at most the observed
    one, so every table is enumerated. NaN past :data:`UNCONDITIONAL_MAX_TABLES`, ``method`` saying so."""
    arr = two_by_two(table, "Boschloo's test")
    name = "Boschloo's exact test, two-sided Fisher p as statistic"
    if degenerate := degenerate_result(name, "boschloo_fisher2", arr):
        return degenerate
    (x1, f1), (x2, f2) = arr.tolist()
    n1, n2 = x1 + f1, x2 + f2
    if (n1 + 1) * (n2 + 1) > UNCONDITIONAL_MAX_TABLES:
        return TestResult(
            f"{name}: not computed ({(n1 + 1) * (n2 + 1):,} tables > {UNCONDITIONAL_MAX_TABLES:,})",
            "boschloo_fisher2",
            None,
            math.nan,
            as_tuple(arr),
        )
    fisher = fisher_p_values(n1, n2)
    observed = fisher[x1, x2]
    region = fisher <= observed * (1 + STATISTIC_RELATIVE_TOLERANCE)
    return TestResult(
        name,
        "boschloo_fisher2",
        float(observed),
        _region_probability(region),
        as_tuple(arr),
        "two-sided Fisher p-value",
    )


def _region_probability(region: np.ndarray) -> float:
    """Largest probability, over the common success probability, of the tables (x1, x2) with
    ``region[x1, x2]`` True, the rows Binomial(n1, pi) and Binomial(n2, pi)."""
    n1, n2 = region.shape[0] - 1, region.shape[1] - 1
    region = region.astype(float)
    a, b = np.arange(n1 + 1), np.arange(n2 + 1)

    def log_p(pi):
        # the binomial terms of every pi in one call; each mass as its own vector-matrix-vector
        # product, so the sums run in the same order whatever the batch of pi
        rows, columns = sps.binom.pmf(a, n1, pi[:, None]), sps.binom.pmf(b, n2, pi[:, None])
        masses = (r @ region @ c for r, c in zip(rows, columns, strict=True))
        return np.array([math.log(m) if m > 0 else -math.inf for m in masses])

    return _maximise_over_nuisance(log_p, _nuisance_grid(max(n1, n2)), n1 + n2 + 2)


def _barnard_by_enumeration(x1: int, n1: int, x2: int, n2: int) -> float:
    """Barnard's two-sided p: every table whose pooled |z| is at least the observed one
    (ties within the tolerance; z = 0 where the pooled variance is 0)."""
    a, b = np.arange(n1 + 1)[:, None], np.arange(n2 + 1)[None, :]
    pooled = (a + b) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(np.where(variance > 0, (a / n1 - b / n2) / np.sqrt(variance), 0.0))
    return _region_probability(z >= z[x1, x2] * (1 - STATISTIC_RELATIVE_TOLERANCE))


def _pooled_z(arr: np.ndarray) -> float:
    """Wald statistic with pooled variance, row 1 minus row 2 (Barnard's statistic)."""
    (a, b), (c, d) = arr.tolist()
    n1, n2 = a + b, c + d
    pooled = (a + c) / (n1 + n2)
    return (a / n1 - c / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))


_STATISTIC_NAMES = {
    "barnard": "Wald z with pooled variance (Barnard's statistic)",
    "boschloo": "one-sided Fisher p-value (Boschloo's statistic)",
}


def _unconditional(table, which: str) -> TestResult:
    name = {"barnard": "Barnard's exact test", "boschloo": "Boschloo's exact test"}[which]
    arr = two_by_two(table, f"{which} test")
    if degenerate := degenerate_result(name, which, arr):
        return degenerate
    n1, n2 = (int(v) for v in arr.sum(axis=1))
    if not unconditional_is_feasible(n1, n2, which):
        # both unconditional tests converge to the pooled z-test (= Pearson chi-square)
        z = _pooled_z(arr)
        p = float(2 * sps.norm.sf(abs(z)))
        limit = (
            f"{(n1 + 1) * (n2 + 1):,} tables > {UNCONDITIONAL_MAX_TABLES:,}"
            if which == "barnard"
            else f"work {boschloo_work(n1, n2):,.0f} > {BOSCHLOO_WORK_BUDGET:,.0f}"
        )
        return TestResult(
            f"pooled z-test (Pearson chi-square) in place of {name} (2x2, two-sided, "
            f"asymptotic; exact infeasible at n={n1}+{n2}: {limit})",
            which,
            z,
            p,
            as_tuple(arr),
            "Wald z with pooled variance",
        )
    (x1, _), (x2, _) = arr.tolist()
    if which == "barnard":
        p, statistic = _barnard_by_enumeration(x1, n1, x2, n2), _pooled_z(arr)
    else:
        p, statistic = _boschloo_by_boundaries(x1, n1, x2, n2)
    return TestResult(name, which, statistic, p, as_tuple(arr), _STATISTIC_NAMES[which])


def barnard_exact(table) -> TestResult:
    """Barnard's unconditional exact test of a 2 x 2 table, two-sided (Wald statistic with
    pooled variance, ties within :data:`STATISTIC_RELATIVE_TOLERANCE`). Past :data:`UNCONDITIONAL_MAX_TABLES` the asymptotic pooled
    z-test, ``short`` still ``"barnard"`` and ``method`` saying so."""
    return _unconditional(table, "barnard")


def boschloo_exact(table) -> TestResult:
    """Boschloo's unconditional exact test of a 2 x 2 table, two-sided as twice the smaller
    one-sided p (scipy's convention; by boundary search). Past :data:`BOSCHLOO_WORK_BUDGET` the asymptotic pooled z-test, ``short``
    still ``"boschloo"`` and ``method`` saying so."""
    return _unconditional(table, "boschloo")
