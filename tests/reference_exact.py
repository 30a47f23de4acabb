"""Brute-force references for the exact tests and intervals, written from their definitions.

Shared by every test that checks an exact statistic; nothing here calls helpers.stats.

* Fisher's exact test, any r x c table: enumerate every table with the observed margins
  and add the probabilities of those no more probable than the observed one, with R's
  ``fisher.test`` tolerance ``relErr = 1 + 1e-7``.
* The exact two-sided binomial test: the same rule over the outcomes 0..n (R's ``binom.test``).
* Clopper-Pearson limits: beta quantiles, ``qbeta(a/2, k, n-k+1)`` and ``qbeta(1-a/2, k+1, n-k)``.
* 2 x 2 tables: the hypergeometric probabilities, Fisher's p (two- or one-sided) of every
  outcome of two binomial samples, and the unconditional exact tests (Barnard, Boschloo) as
  the largest probability of the rejection region over a dense grid of the common rate.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats as sps
from scipy.optimize import minimize_scalar

#: R's ``relErr`` in ``fisher.test`` and ``binom.test``.
R_RELATIVE_ERROR = 1 + 1e-7


def table_log_prob(table) -> float:
    """Log hypergeometric probability of a table given its margins."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table)]
    lf = lambda v: math.lgamma(v + 1)  # noqa: E731
    return (
        sum(map(lf, rows))
        + sum(map(lf, cols))
        - lf(sum(rows))
        - sum(lf(v) for r in table for v in r)
    )


def tables_with_margins(rows, cols):
    """Every table with the given row and column sums (all cells but the last row/column free)."""
    r, c = len(rows), len(cols)
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for cells in itertools.product(*ranges):
        inner = [list(cells[i * (c - 1) : (i + 1) * (c - 1)]) for i in range(r - 1)]
        table = []
        for i in range(r - 1):
            last = rows[i] - sum(inner[i])
            if last < 0:
                break
            table.append(inner[i] + [last])
        else:
            bottom = [cols[j] - sum(table[i][j] for i in range(r - 1)) for j in range(c)]
            if min(bottom) >= 0 and sum(bottom) == rows[-1]:
                yield table + [bottom]


def fisher_p(table) -> float:
    """Two-sided Fisher p of an r x c table of counts (empty rows and columns dropped; 1 if < 2 x 2)."""
    table = [list(map(int, r)) for r in table if sum(r) > 0]
    keep = [j for j in range(len(table[0])) if sum(r[j] for r in table)] if table else []
    table = [[r[j] for j in keep] for r in table]
    if len(table) < 2 or len(keep) < 2:
        return 1.0
    observed = math.exp(table_log_prob(table))
    rows, cols = [sum(r) for r in table], [sum(c) for c in zip(*table)]
    total = sum(
        p
        for t in tables_with_margins(rows, cols)
        if (p := math.exp(table_log_prob(t))) <= observed * R_RELATIVE_ERROR
    )
    return min(1.0, total)


def binomial_p(k: int, n: int, p0: float) -> float:
    """Exact two-sided binomial p of k events in n against p0 (R's binom.test rule)."""
    pmf = [math.comb(n, x) * p0**x * (1 - p0) ** (n - x) for x in range(n + 1)]
    return min(1.0, sum(p for p in pmf if p <= pmf[k] * R_RELATIVE_ERROR))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact limits from beta quantiles (0 and 1 at the edges)."""
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high


# --- 2 x 2 tables: Fisher's p of every outcome, and the unconditional tests ----------------------


def hypergeometric_2x2(table) -> dict[int, float]:
    """P(top-left cell = x) for every x the margins of a 2 x 2 table allow (math.comb)."""
    (a, b), (c, d) = table
    r1, r2, c1 = a + b, c + d, a + c
    total = math.comb(r1 + r2, c1)
    return {
        x: math.comb(r1, x) * math.comb(r2, c1 - x) / total
        for x in range(max(0, c1 - r2), min(r1, c1) + 1)
    }


def binomial_pmf(n: int, p: float) -> np.ndarray:
    """P(X = 0..n) for X ~ Binomial(n, p) (scipy's binomial distribution)."""
    return sps.binom.pmf(np.arange(n + 1), n, p)


def max_over_common_rate(region: np.ndarray, n1: int, n2: int) -> float:
    """sup over the common rate pi of P(table in region), the rows Binomial(n1, pi) and Binomial(n2, pi).

    ``region[x1, x2]`` is True for the tables counted. A grid of 2,001 rates, then a
    bounded search around the best of them.
    """
    region = np.asarray(region, dtype=float)

    def mass(pi: float) -> float:
        return float(binomial_pmf(n1, pi) @ region @ binomial_pmf(n2, pi))

    grid = np.linspace(0, 1, 2001)
    values = [mass(pi) for pi in grid]
    best = int(np.argmax(values))
    polish = minimize_scalar(
        lambda pi: -mass(pi),
        bounds=(grid[max(best - 1, 0)], grid[min(best + 1, 2000)]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return max(values[best], -polish.fun)


def fisher_p_by_outcome(n1: int, n2: int, alternative: str = "two-sided") -> np.ndarray:
    """Fisher's p of every outcome x1/n1 vs x2/n2 (``[x1, x2]``), table by table from the hypergeometric.

    For each column total the probabilities of its tables are listed; a table's p is the
    sum of those at most as probable ("two-sided", R's tolerance), or the lower or upper
    tail of the top-left cell ("less", "greater").
    """
    p = np.empty((n1 + 1, n2 + 1))
    for m in range(n1 + n2 + 1):
        a = np.arange(max(0, m - n2), min(n1, m) + 1)
        probs = np.array(
            [math.comb(n1, x) * math.comb(n2, m - x) for x in a], dtype=float
        ) / math.comb(n1 + n2, m)
        if alternative == "less":
            values = np.cumsum(probs)
        elif alternative == "greater":
            values = np.cumsum(probs[::-1])[::-1]
        else:
            values = np.array([probs[probs <= q * R_RELATIVE_ERROR].sum() for q in probs])
        p[a, m - a] = np.minimum(values, 1.0)
    return p


def unconditional_p(
    x1: int, n1: int, x2: int, n2: int, statistic: np.ndarray, relative_error: float = 1 + 1e-9
) -> float:
    """The unconditional exact p of x1/n1 vs x2/n2 for ``statistic[a, b]`` of every outcome, small = extreme.

    Every outcome with a statistic at most the observed one is in the rejection region.
    """
    return max_over_common_rate(statistic <= statistic[x1, x2] * relative_error, n1, n2)


def barnard_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Barnard's two-sided exact p with the pooled Wald statistic (Barnard 1947)."""

    def minus_abs_wald(a, n1, b, n2):
        pooled = (a + b) / (n1 + n2)
        if a / n1 == b / n2:
            return 0.0
        return -abs(a / n1 - b / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))

    observed = minus_abs_wald(x1, n1, x2, n2)
    region = np.array(
        [
            [minus_abs_wald(a, n1, b, n2) <= observed + 1e-12 for b in range(n2 + 1)]
            for a in range(n1 + 1)
        ]
    )
    return max_over_common_rate(region, n1, n2)


def boschloo_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Boschloo's two-sided exact p (Boschloo 1970): Fisher's one-sided p as the statistic, twice the smaller side."""
    sides = [
        unconditional_p(x1, n1, x2, n2, fisher_p_by_outcome(n1, n2, side))
        for side in ("less", "greater")
    ]
    return min(1.0, 2 * min(sides))
