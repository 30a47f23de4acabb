"""Tests on contingency tables: Fisher's exact test (exact for any r x c table), Pearson
chi-square and Lancaster's mid-p, and the result object every test returns.

Orientation: rows are the groups compared, columns the outcome. ``scipy.stats.fisher_exact``
is used for 2 x 2 tables only: for larger tables scipy computes the p-value by Monte Carlo,
which is neither exact nor reproducible; those are enumerated here (network algorithm).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from scipy.special import gammaln

#: Relative tolerance of R's ``fisher.test`` for tables "as or less probable" than observed.
FISHER_RELATIVE_TOLERANCE = 1e-7

#: Work limit of the exact r x c enumeration, in cell vectors built (about a second and a
#: few hundred MB per 2 million), counted before anything is built so that an infeasible
#: table gives up in milliseconds; past it Fisher's test falls back to Pearson chi-square.
FISHER_WORK_BUDGET = 2e6

#: Most parts for which :func:`_composition_count` uses inclusion-exclusion (2**r terms).
_INCLUSION_EXCLUSION_PARTS = 6


@dataclass(frozen=True)
class TestResult:
    """Result of one test on one contingency table."""

    __test__ = False  # not a pytest test class despite the name

    method: str
    short: str
    statistic: float | None
    p_value: float
    table: tuple[tuple[int, ...], ...]
    statistic_name: str | None = None

    @property
    def replaced(self) -> bool:
        """Whether an asymptotic test stood in for the exact one (large n)."""
        return " in place of " in self.method

    def __str__(self) -> str:
        """``"Fisher's exact test: p = 0.022"``."""
        from helpers.narrative import p_text  # prose formatting; tests need none of it

        return f"{self.method}: {p_text(self.p_value)}"

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(str(self))

    def _repr_markdown_(self) -> str:
        return str(self)

    @property
    def name(self) -> str:
        """The test as run in a few words for prose, e.g. ``"Fisher"``."""
        if self.replaced:
            head, _, rest = self.method.partition(" in place of ")
            return f"{head} (in place of {rest.split(' (')[0]}, infeasible at this n)"
        return _SHORT_NAMES.get(self.short, self.method.split(" (")[0])


_SHORT_NAMES = {
    "fisher": "Fisher",
    "chi2": "Pearson chi-square",
    "chi2_yates": "Pearson chi-square with Yates' correction",
    "barnard": "Barnard",
    "boschloo": "Boschloo",
    "fisher_midp": "Fisher mid-p",
    "boschloo_fisher2": "Boschloo (two-sided Fisher statistic)",
    "fisher_midp_doubled": "Fisher mid-p (twice one-sided)",
}


def as_table(table) -> np.ndarray:
    """The table as int64; raises ValueError unless a non-empty 2-D array of counts."""
    arr = np.asarray(table)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError("a contingency table must be a non-empty 2-D array")
    if not np.all(np.equal(np.mod(arr, 1), 0)) or np.any(arr < 0):
        raise ValueError("a contingency table must hold non-negative integers")
    return arr.astype(np.int64)


def as_tuple(arr: np.ndarray) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in arr)


def two_by_two(table, test: str) -> np.ndarray:
    """The table as :func:`as_table`; raises ValueError unless it is 2 x 2."""
    arr = as_table(table)
    if arr.shape != (2, 2):
        raise ValueError(f"{test} needs a 2x2 table, got shape {arr.shape}")
    return arr


def degenerate_result(name: str, short: str, arr: np.ndarray) -> TestResult | None:
    """p = 1 when the table has a single non-empty row or column, else None."""
    reduced = _drop_empty(arr)
    if reduced.shape[0] < 2 or reduced.shape[1] < 2:
        return TestResult(
            name + " (single non-empty row or column, p = 1)", short, None, 1.0, as_tuple(arr)
        )
    return None


def _drop_empty(arr: np.ndarray) -> np.ndarray:
    """Drop all-zero rows and columns (they carry no information)."""
    arr = arr[arr.sum(axis=1) > 0]
    return arr[:, arr.sum(axis=0) > 0]


def _column_min_log_factorial(col_sum: int, caps: Sequence[int]) -> float:
    """Smallest sum of log(v_i!) over integer v with sum(v) = col_sum, 0 <= v_i <= caps[i]:
    log-factorial is convex, so the column spread as evenly as the caps allow."""
    remaining, total = col_sum, 0.0
    ordered = sorted(caps)
    for idx, cap in enumerate(ordered):
        left = len(ordered) - idx
        if cap * left <= remaining:  # every other cap is at least as large
            total += math.lgamma(cap + 1)
            remaining -= cap
            continue
        q, r = divmod(remaining, left)
        total += r * math.lgamma(q + 2) + (left - r) * math.lgamma(q + 1)
        return total
    return total


def _column_max_log_factorial(col_sum: int, caps: Sequence[int]) -> float:
    """Largest sum of log(v_i!) over the same set: the largest caps filled first (that vector
    majorises every feasible one, and a sum of a convex function is Schur-convex)."""
    remaining, total = col_sum, 0.0
    for cap in sorted(caps, reverse=True):
        take = min(cap, remaining)
        total += math.lgamma(take + 1)
        remaining -= take
        if remaining == 0:
            break
    return total


def _composition_array(total: int, caps: Sequence[int]) -> np.ndarray:
    """Every integer vector v with sum(v) == total and 0 <= v_i <= caps[i], one per row."""
    caps = np.asarray(caps, dtype=np.int64)
    rows = np.zeros((1, 0), dtype=np.int64)
    remaining = np.array([total], dtype=np.int64)
    for i in range(len(caps) - 1):
        rest = int(caps[i + 1 :].sum())
        lo = np.maximum(0, remaining - rest)
        hi = np.minimum(caps[i], remaining)
        lengths = np.maximum(hi - lo + 1, 0)
        parent = np.repeat(np.arange(len(remaining)), lengths)
        offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        values = lo[parent] + offset
        rows = np.column_stack([rows[parent], values])
        remaining = remaining[parent] - values
    return np.column_stack([rows, remaining])  # last part fits its cap by construction


class _EnumerationTooLarge(Exception):
    """Raised when the exact r x c enumeration exceeds its work budget."""


def _composition_count(total: int, caps: Sequence[int]) -> float:
    """Row count of :func:`_composition_array` without building it: inclusion-exclusion over
    the parts pushed past their caps (few parts), else a dynamic programme over partial sums."""
    total = int(total)
    caps = [int(c) for c in caps]
    if total < 0 or total > sum(caps):
        return 0.0
    r = len(caps)
    if r <= _INCLUSION_EXCLUSION_PARTS:
        count = 0
        for size in range(r + 1):
            for subset in itertools.combinations(caps, size):
                rest = total - sum(subset) - size
                if rest >= 0:
                    count += (-1) ** size * math.comb(rest + r - 1, r - 1)
        return float(count)
    counts = np.zeros(total + 1, dtype=float)
    counts[: min(caps[0], total) + 1] = 1.0
    for cap in caps[1:]:
        cum = np.cumsum(counts)
        shifted = np.zeros_like(cum)
        if cap + 1 <= total:
            shifted[cap + 1 :] = cum[: total - cap]
        counts = cum - shifted
    return float(counts[total])


def _charge(work: float, weight: float, total: int, caps: Sequence[int], budget: float) -> float:
    """``work`` plus ``weight`` times the number of vectors of ``(total, caps)``, counted
    without building them; raises ``_EnumerationTooLarge`` past ``budget``."""
    work += weight * _composition_count(total, caps)
    if work > budget:
        raise _EnumerationTooLarge
    return work


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of a 2-D array of non-negative integers, in no particular order
    (packed into one int64 each when that cannot overflow: much faster than ``np.unique``)."""
    base = int(rows.max(initial=0)) + 1
    if rows.shape[1] * math.log2(base) < 62:
        keys = rows @ (base ** np.arange(rows.shape[1] - 1, -1, -1, dtype=np.int64))
        return rows[np.unique(keys, return_index=True)[1]]
    return np.unique(rows, axis=0)


def _enumeration_work(row_sums: Sequence[int], col_sums: Sequence[int]) -> float:
    """Upper bound on the enumeration's work (unit of :data:`FISHER_WORK_BUDGET`), ignoring
    merging, pruning and row caps; chooses the cheaper orientation."""
    r = len(row_sums)
    paths = 1.0
    for c in col_sums[:-2]:
        paths *= math.comb(int(c) + r - 1, r - 1)
        if paths > 1e300:
            return math.inf
    return paths + paths * math.comb(int(col_sums[-2]) + r - 1, r - 1)


def _fisher_oriented(arr: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The orientation (table or its transpose) with less enumeration work, and
    its column sums in processing order (smallest first)."""
    options = [(a, sorted(int(v) for v in a.sum(axis=0))) for a in (arr, arr.T)]
    return min(options, key=lambda o: _enumeration_work(o[0].sum(axis=1), o[1]))


def _fisher_rxc_p_value(arr: np.ndarray, budget: float = math.inf) -> float:
    """Exact Fisher p-value (R's rule) for an r x c table, not 2 x 2, with positive margins.

    Network enumeration (after Mehta & Patel 1983) over columns, smallest first: a node is the
    sorted remaining row sums, with ``past`` (sum of log(n_ij!) so far) and a count per merged
    path. A node closes early, by exact per-column bounds, when every completion is at least as
    extreme (mass added in closed form) or none can be. Each stage's work is charged before it
    is built, so memory stays bounded by ``budget``.
    """
    arr, col_sums = _fisher_oriented(arr)
    row_sums = [int(v) for v in arr.sum(axis=1)]
    total = sum(row_sums)
    log_fact = gammaln(np.arange(total + 1, dtype=float) + 1.0)
    # log P(table) = const - sum log(n_ij!)
    const = float(log_fact[row_sums].sum() + log_fact[col_sums].sum() - log_fact[total])
    threshold = float(log_fact[arr].sum()) - math.log1p(FISHER_RELATIVE_TOLERANCE)
    slack = 1e-9  # keeps the early closes conservative against rounding

    n_cols = len(col_sums)
    p_value = 0.0
    work = 0.0
    # node: sorted remaining row sums -> {rounded past: [past, count]}
    nodes: dict[tuple[int, ...], dict[float, list[float]]] = {
        tuple(sorted(row_sums)): {0.0: [0.0, 1.0]}
    }

    for stage in range(n_cols - 2):
        col, rest = col_sums[stage], col_sums[stage:]
        # close what can be closed and charge the stage before building anything
        expand = []
        for state, pasts in nodes.items():
            low = sum(_column_min_log_factorial(c, state) for c in rest)
            high = sum(_column_max_log_factorial(c, state) for c in rest)
            # log of the sum over completions of prod 1/n_ij! = S!/(prod s_i! prod c_j!)
            log_mass = float(
                log_fact[sum(state)] - log_fact[list(state)].sum() - log_fact[rest].sum()
            )
            live = []
            for past, count in pasts.values():
                if past + low >= threshold + slack:
                    p_value += count * math.exp(const - past + log_mass)
                elif past + high >= threshold - slack:
                    live.append((past, count))
            if live:
                work = _charge(work, len(live), col, state, budget)
                expand.append((state, live))
        if stage == n_cols - 3 and expand:
            # The next step is the last one, which expands every node it gets, live
            # or not: its charge is known as soon as the next nodes' states are, so
            # charge it (on a copy of the tally) before merging anything.
            following = _unique_rows(
                np.concatenate(
                    [
                        np.sort(np.asarray(state) - _composition_array(col, state), axis=1)
                        for state, _ in expand
                    ]
                )
            )
            ahead = work
            for row in following.tolist():
                ahead = _charge(ahead, 1, col_sums[n_cols - 2], row, budget)
            del following
        next_nodes: dict[tuple[int, ...], dict[float, list[float]]] = {}
        for state, live in expand:
            cells = _composition_array(col, state)
            new_states = np.sort(np.asarray(state) - cells, axis=1)
            steps = log_fact[cells].sum(axis=1).tolist()
            for row, step in zip(new_states.tolist(), steps):
                bucket = next_nodes.setdefault(tuple(row), {})
                for past, count in live:
                    new_past = past + step
                    bucket.setdefault(round(new_past, 9), [new_past, 0.0])[1] += count
        nodes = next_nodes

    # last two columns: enumerate the first; the second is what is left
    col = col_sums[n_cols - 2]
    for state in nodes:
        work = _charge(work, 1, col, state, budget)
    for state, pasts in nodes.items():
        cells = _composition_array(col, state)
        left = np.asarray(state) - cells
        future = np.sort(log_fact[cells].sum(axis=1) + log_fact[left].sum(axis=1))
        # tail[j] = log sum_{k >= j} exp(-future[k]); tail[len] = -inf
        tail = np.append(np.logaddexp.accumulate((-future)[::-1])[::-1], -np.inf)
        past_values = np.array([v[0] for v in pasts.values()])
        counts = np.array([v[1] for v in pasts.values()])
        start = np.searchsorted(future, threshold - past_values, side="left")
        with np.errstate(under="ignore"):
            p_value += float(np.sum(counts * np.exp(const - past_values + tail[start])))
    return min(1.0, p_value)


def fisher_exact(table) -> TestResult:
    """Fisher's exact test of independence, two-sided, any r x c table (R's rule; all-zero rows
    and columns dropped, p = 1 when one row or column is left). 2 x 2 by scipy (statistic: odds
    ratio); past :data:`FISHER_WORK_BUDGET` Pearson chi-square's p, ``method`` saying so.
    """
    arr = as_table(table)
    reduced = _drop_empty(arr)
    if degenerate := degenerate_result("Fisher's exact test", "fisher", arr):
        return degenerate
    r, c = reduced.shape
    if (r, c) == (2, 2):
        res = sps.fisher_exact(reduced)
        return TestResult(
            "Fisher's exact test (2x2, two-sided)",
            "fisher",
            float(res.statistic),
            float(res.pvalue),
            as_tuple(arr),
            "sample odds ratio",
        )
    try:
        p = _fisher_rxc_p_value(reduced, budget=FISHER_WORK_BUDGET)
    except _EnumerationTooLarge:
        chi = chi_square(reduced)
        return TestResult(
            f"Pearson chi-square in place of Fisher's exact test ({r}x{c}, "
            f"asymptotic; exact enumeration infeasible at n={int(reduced.sum())})",
            "fisher",
            chi.statistic,
            chi.p_value,
            as_tuple(arr),
            "chi-square statistic",
        )
    return TestResult(
        f"Fisher's exact test ({r}x{c}, exact network/enumeration, two-sided)",
        "fisher",
        None,
        p,
        as_tuple(arr),
    )


def _hypergeometric_probs(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Log-probabilities and probabilities of every 2 x 2 table with the margins of ``arr``
    (top-left cell ascending), and the index of the observed table."""
    (a, b), (c, d) = arr.tolist()
    r1, c1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, r1 + c1 - n), min(r1, c1)
    logp = sps.hypergeom.logpmf(np.arange(lo, hi + 1), n, r1, c1)
    return logp, np.exp(logp), a - lo


def fisher_midp(table) -> TestResult:
    """Lancaster's mid-p of Fisher's test for a 2 x 2 table: Fisher's two-sided p minus half
    the observed table's probability. Not an exact-size test."""
    arr = two_by_two(table, "the mid-p test")
    name = "Fisher's exact test, mid-p (Lancaster 1961; 2x2, two-sided; not an exact-size test)"
    if degenerate := degenerate_result(name, "fisher_midp", arr):
        return degenerate
    logp, probs, observed = _hypergeometric_probs(arr)
    cutoff = logp[observed] + math.log1p(FISHER_RELATIVE_TOLERANCE)
    p_fisher = float(probs[logp <= cutoff].sum())
    p = min(1.0, p_fisher - 0.5 * float(probs[observed]))
    return TestResult(name, "fisher_midp", None, p, as_tuple(arr))


def fisher_midp_doubled(table) -> TestResult:
    """Fisher's mid-p for a 2 x 2 table as twice the smaller one-sided mid-p
    (``P(X < x) + P(X = x) / 2`` or the upper tail), at most 1."""
    arr = two_by_two(table, "the mid-p test")
    name = "Fisher's exact test, mid-p as twice the smaller one-sided mid-p (2x2; not an exact-size test)"
    if degenerate := degenerate_result(name, "fisher_midp_doubled", arr):
        return degenerate
    _, probs, observed = _hypergeometric_probs(arr)
    lower = float(probs[:observed].sum()) + 0.5 * float(probs[observed])
    upper = float(probs[observed + 1 :].sum()) + 0.5 * float(probs[observed])
    return TestResult(
        name, "fisher_midp_doubled", None, min(1.0, 2 * min(lower, upper)), as_tuple(arr)
    )


def chi_square(table, *, yates: bool = False) -> TestResult:
    """Pearson chi-square test of independence (asymptotic: poor when expected counts < 5).

    All-zero rows and columns are dropped; a single row or column left gives p = 1.
    """
    arr = as_table(table)
    reduced = _drop_empty(arr)
    name = "Pearson chi-square with Yates' correction" if yates else "Pearson chi-square"
    short = "chi2_yates" if yates else "chi2"
    if degenerate := degenerate_result(name, short, arr):
        return degenerate
    if yates and reduced.shape != (2, 2):
        raise ValueError("Yates' correction applies to 2x2 tables only")
    res = sps.chi2_contingency(reduced, correction=yates)
    return TestResult(
        name, short, float(res.statistic), float(res.pvalue), as_tuple(arr), "chi-square statistic"
    )
