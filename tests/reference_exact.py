"""Brute-force references for the exact tests and intervals, written from their definitions.

Shared by every test that checks an exact statistic; nothing here calls helpers.stats.

* Fisher's exact test, any r x c table: enumerate every table with the observed margins
  and add the probabilities of those no more probable than the observed one, with R's
  ``fisher.test`` tolerance ``relErr = 1 + 1e-7``.
* The exact two-sided binomial test: the same rule over the outcomes 0..n (R's ``binom.test``).
* Clopper-Pearson limits: beta quantiles, ``qbeta(a/2, k, n-k+1)`` and ``qbeta(1-a/2, k+1, n-k)``.
"""

from __future__ import annotations

import itertools
import math

from scipy import stats as sps

#: R's ``relErr`` in ``fisher.test`` and ``binom.test``.
R_RELATIVE_ERROR = 1 + 1e-7


def table_log_prob(table) -> float:
    """Log hypergeometric probability of a table given its margins."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table)]
    lf = lambda v: math.lgamma(v + 1)  # noqa: E731
    return (sum(map(lf, rows)) + sum(map(lf, cols)) - lf(sum(rows))
            - sum(lf(v) for r in table for v in r))


def tables_with_margins(rows, cols):
    """Every table with the given row and column sums (all cells but the last row/column free)."""
    r, c = len(rows), len(cols)
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    for cells in itertools.product(*ranges):
        inner = [list(cells[i * (c - 1):(i + 1) * (c - 1)]) for i in range(r - 1)]
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
    total = sum(p for t in tables_with_margins(rows, cols)
                if (p := math.exp(table_log_prob(t))) <= observed * R_RELATIVE_ERROR)
    return min(1.0, total)


def binomial_p(k: int, n: int, p0: float) -> float:
    """Exact two-sided binomial p of k events in n against p0 (R's binom.test rule)."""
    pmf = [math.comb(n, x) * p0 ** x * (1 - p0) ** (n - x) for x in range(n + 1)]
    return min(1.0, sum(p for p in pmf if p <= pmf[k] * R_RELATIVE_ERROR))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact limits from beta quantiles (0 and 1 at the edges)."""
    alpha = 1 - confidence
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high
