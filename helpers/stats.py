"""Exact intervals and tests for small cohorts.

Proportions get exact Clopper-Pearson intervals (Wilson score on request);
contingency tables get Fisher's exact test, exact for any r x c table by
enumerating every table with the observed margins, plus Pearson chi-square and,
for 2 x 2 tables, Barnard's and Boschloo's unconditional exact tests and
Lancaster's mid-p version of Fisher's test.

Table orientation used throughout: **rows are the groups compared** (e.g. the
levels of a grouping variable) and **columns are the outcome** (e.g. event,
no event). Fisher's and Pearson's tests do not depend on the orientation;
Barnard's and Boschloo's tests do (they treat the row totals as the fixed
sample sizes of two independent binomials).

``scipy.stats.fisher_exact`` is used for 2 x 2 tables only: for larger tables
scipy 1.17 computes the p-value by Monte Carlo, which is neither exact nor
reproducible.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

#: Relative tolerance R's ``fisher.test`` uses when collecting tables "as or
#: less probable" than the observed one (``relErr <- 1 + 10^(-7)``).
FISHER_RELATIVE_TOLERANCE = 1e-7

#: Work limit of the exact r x c enumeration, in cell vectors materialised (about a
#: second and a few hundred MB per 2 million), counted before anything is allocated,
#: so a table that cannot finish gives up in milliseconds. Past it, Fisher's test
#: falls back to Pearson chi-square and says so.
FISHER_WORK_BUDGET = 2e6

#: Largest sample space, ``(n1 + 1) * (n2 + 1)`` tables, for which Barnard's exact
#: test (scipy) is computed and Boschloo's test is left to scipy (about 0.5 s here; the
#: paper's largest is 35 x 272). Above it Barnard's test becomes the asymptotic pooled
#: z-test and ``method`` says so; Boschloo's test is computed by boundary search
#: (:func:`_boschloo_by_boundaries`) while that is feasible.
UNCONDITIONAL_MAX_TABLES = 50_000

#: Work limit of Boschloo's test by boundary search, in binomial terms evaluated:
#: (smaller arm + 1) times the nuisance grid, plus the boundary search (smaller arm + 1
#: times log2 of the larger arm + 1). The smaller arm dominates, so 10,028/12,347 vs 14/16
#: is exact. Past it the asymptotic pooled z-test is used and ``method`` says so.
BOSCHLOO_WORK_BUDGET = 2e6

#: Fewest points of the nuisance grid over (0, 1) before the local refinement of the maximum.
_NUISANCE_GRID = 400

#: Largest sample space for the Boschloo variant with the two-sided Fisher statistic,
#: which enumerates every table (its rejection region need not be one tail per row).
BOSCHLOO_FISHER2_MAX_TABLES = UNCONDITIONAL_MAX_TABLES

#: Most parts (rows) for which :func:`_composition_count` counts by
#: inclusion-exclusion (2**r terms) rather than by dynamic programming.
_INCLUSION_EXCLUSION_PARTS = 6

_CI_METHOD_LABELS = {"clopper-pearson": "Clopper-Pearson exact", "wilson": "Wilson score"}


# ---------------------------------------------------------------- proportions

@dataclass(frozen=True)
class Proportion:
    """A proportion ``numerator / denominator`` with its confidence interval.

    ``estimate``, ``ci_low`` and ``ci_high`` are fractions in [0, 1] (NaN when
    the denominator is 0). ``method`` is ``"clopper-pearson"`` or ``"wilson"``.
    """

    numerator: int
    denominator: int
    estimate: float
    ci_low: float
    ci_high: float
    method: str
    confidence: float = 0.95

    @property
    def method_label(self) -> str:
        """``"Clopper-Pearson exact 95% CI"``."""
        return ci_method_label(self.method, self.confidence)


def _check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")


def exact_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper-Pearson exact confidence interval for a binomial proportion.

    Computed from beta quantiles: lower ``Beta(a/2; k, n-k+1)``, upper
    ``Beta(1-a/2; k+1, n-k)`` with ``a = 1 - confidence`` (as R's
    ``binom.test``). The lower limit is 0 when ``k == 0`` and the upper 1 when
    ``k == n``.
    """
    _check_counts(k, n)
    if n == 0:
        return (math.nan, math.nan)
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(sps.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(sps.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return (low, high)


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval (no continuity correction; Newcombe 1998 method 3)."""
    _check_counts(k, n)
    if n == 0:
        return (math.nan, math.nan)
    z = float(sps.norm.ppf(1 - (1 - confidence) / 2))
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom))


def proportion(k: int, n: int, *, method: str = "clopper-pearson",
               confidence: float = 0.95) -> Proportion:
    """Proportion ``k/n`` with a ``"clopper-pearson"`` (default) or ``"wilson"`` interval."""
    if method == "clopper-pearson":
        low, high = exact_ci(k, n, confidence)
    elif method == "wilson":
        low, high = wilson_ci(k, n, confidence)
    else:
        raise ValueError(f"unknown interval method {method!r}; use 'clopper-pearson' or 'wilson'")
    estimate = k / n if n else math.nan
    return Proportion(int(k), int(n), estimate, low, high, method, confidence)


def ci_method_label(method: str, confidence: float = 0.95) -> str:
    """Words for an interval method."""
    return f"{_CI_METHOD_LABELS[method]} {100 * confidence:g}% CI"


# ---------------------------------------------------------------- tests

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
        """Whether an asymptotic test stood in for the exact one requested (large n)."""
        return " in place of " in self.method

    @property
    def name(self) -> str:
        """The test as run, in a few words for prose: ``"Fisher"``, or for a fallback e.g.
        ``"Pearson chi-square (in place of Fisher's exact test, infeasible at this n)"``."""
        if self.replaced:
            head, _, rest = self.method.partition(" in place of ")
            return f"{head} (in place of {rest.split(' (')[0]}, infeasible at this n)"
        return _SHORT_NAMES.get(self.short, self.method.split(" (")[0])


_SHORT_NAMES = {"fisher": "Fisher", "chi2": "Pearson chi-square",
                "chi2_yates": "Pearson chi-square with Yates' correction", "barnard": "Barnard",
                "boschloo": "Boschloo", "fisher_midp": "Fisher mid-p",
                "boschloo_fisher2": "Boschloo (two-sided Fisher statistic)",
                "fisher_midp_doubled": "Fisher mid-p (twice one-sided)"}


def _as_table(table) -> np.ndarray:
    arr = np.asarray(table)
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError("a contingency table must be a non-empty 2-D array")
    if not np.all(np.equal(np.mod(arr, 1), 0)) or np.any(arr < 0):
        raise ValueError("a contingency table must hold non-negative integers")
    return arr.astype(np.int64)


def _as_tuple(arr: np.ndarray) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in row) for row in arr)


def _drop_empty(arr: np.ndarray) -> np.ndarray:
    """Drop all-zero rows and columns (they carry no information)."""
    arr = arr[arr.sum(axis=1) > 0]
    return arr[:, arr.sum(axis=0) > 0]


def _is_degenerate(reduced: np.ndarray) -> bool:
    return reduced.shape[0] < 2 or reduced.shape[1] < 2


def _column_min_log_factorial(col_sum: int, caps: Sequence[int]) -> float:
    """Smallest sum of log(v_i!) over integer v with sum(v) = col_sum, 0 <= v_i <= caps[i].

    Log-factorial is convex, so the minimum spreads the column as evenly as the
    caps allow (water-filling).
    """
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
    """Largest sum of log(v_i!) over the same set: fill the largest caps first.

    The greedy vector majorises every feasible vector, and a sum of a convex
    function is Schur-convex, so this is the exact maximum.
    """
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
        rest = int(caps[i + 1:].sum())
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
    """Number of integer vectors v with sum(v) == total and 0 <= v_i <= caps[i].

    The row count of :func:`_composition_array` for the same arguments,
    computed without building it. With at most :data:`_INCLUSION_EXCLUSION_PARTS`
    parts, by inclusion-exclusion over the parts pushed past their caps,
    ``sum_S (-1)^|S| comb(total - sum_{i in S}(caps[i] + 1) + r - 1, r - 1)``,
    in exact integers (a few ``math.comb`` calls: cheap enough to count every
    node of the enumeration before expanding it); with more parts, a dynamic
    programme over the parts (counts of each partial sum, extended one capped
    part at a time with cumulative sums), O(r * total). Returned as a float
    (exact below 2**53, ample for a budget check).
    """
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
    counts[:min(caps[0], total) + 1] = 1.0
    for cap in caps[1:]:
        cum = np.cumsum(counts)
        shifted = np.zeros_like(cum)
        if cap + 1 <= total:
            shifted[cap + 1:] = cum[:total - cap]
        counts = cum - shifted
    return float(counts[total])


def _charge(work: float, weight: float, total: int, caps: Sequence[int], budget: float) -> float:
    """``work`` plus ``weight`` times the number of vectors of ``(total, caps)``.

    The count comes from :func:`_composition_count`, so nothing is allocated;
    raises ``_EnumerationTooLarge`` when the sum passes ``budget``.
    """
    work += weight * _composition_count(total, caps)
    if work > budget:
        raise _EnumerationTooLarge
    return work


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    """The distinct rows of a 2-D array of non-negative integers (in no particular order).

    Rows are packed into one int64 each (mixed radix) when that cannot
    overflow, which is much faster than ``np.unique(rows, axis=0)``; otherwise
    that is used.
    """
    base = int(rows.max(initial=0)) + 1
    if rows.shape[1] * math.log2(base) < 62:
        keys = rows @ (base ** np.arange(rows.shape[1] - 1, -1, -1, dtype=np.int64))
        return rows[np.unique(keys, return_index=True)[1]]
    return np.unique(rows, axis=0)


def _enumeration_work(row_sums: Sequence[int], col_sums: Sequence[int]) -> float:
    """Upper bound on the enumeration's work (columns in processing order).

    Same unit as :data:`FISHER_WORK_BUDGET` (cell vectors materialised): the
    partial tables over all columns but the last two, plus the splits of the
    second-to-last column under each of them; merging, pruning and the row
    caps are ignored, so the real work is usually far smaller. Used to choose
    the cheaper orientation; the budget itself is enforced during the run.
    """
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
    """Exact Fisher p-value for an r x c table (not 2 x 2) with positive margins.

    Network-style enumeration (after Mehta & Patel 1983) over columns, smallest
    column first: a partial table is summarised by its remaining row sums
    (sorted, since rows are exchangeable for the rest of the table) and by
    ``past``, the sum of log(n_ij!) over the cells filled so far; partial
    tables sharing both are merged with a count. A node is closed early when
    every completion is at least as extreme as the observed table (its total
    probability is added in closed form) or when none can be (it is dropped),
    using exact per-column bounds on the remaining sum of log-factorials. The
    last two columns are enumerated together with numpy. The p-value is the
    sum of the probabilities of all tables with probability <= observed *
    (1 + 1e-7), R's ``fisher.test`` rule. Raises ``_EnumerationTooLarge``
    as soon as the work (cell vectors materialised) would pass ``budget``. The
    work of each stage (every live node's vectors, counted exactly with
    :func:`_composition_count`) is charged before any node of that stage is
    expanded, so an infeasible table gives up after counting, not after
    building up to a budget's worth of vectors, and memory stays bounded by the
    budget whatever the cohort size. The decision is the same as charging node
    by node while expanding: the budget is only passed earlier.
    """
    from scipy.special import gammaln

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
        tuple(sorted(row_sums)): {0.0: [0.0, 1.0]}}

    for stage in range(n_cols - 2):
        col, rest = col_sums[stage], col_sums[stage:]
        # First close what can be closed and charge the whole stage's expansions
        # to the budget, all before building anything: an infeasible table gives up
        # here, at the cost of counting (the same decision a node-by-node charge
        # would reach later, after building up to a budget's worth of vectors).
        expand = []
        for state, pasts in nodes.items():
            low = sum(_column_min_log_factorial(c, state) for c in rest)
            high = sum(_column_max_log_factorial(c, state) for c in rest)
            # log of the sum over completions of prod 1/n_ij! = S!/(prod s_i! prod c_j!)
            log_mass = float(log_fact[sum(state)] - log_fact[list(state)].sum()
                             - log_fact[rest].sum())
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
            following = _unique_rows(np.concatenate(
                [np.sort(np.asarray(state) - _composition_array(col, state), axis=1)
                 for state, _ in expand]))
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
                    key = round(new_past, 9)
                    if key in bucket:
                        bucket[key][1] += count
                    else:
                        bucket[key] = [new_past, count]
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
    """Fisher's exact test of independence, two-sided, for any r x c table.

    All-zero rows and columns are dropped first; a table left with a single
    row or column gives p = 1. A 2 x 2 table uses ``scipy.stats.fisher_exact``
    (exact hypergeometric sums; ``statistic`` is the sample odds ratio, not a
    test statistic). Larger tables are enumerated exactly (see
    :func:`_fisher_rxc_p_value`), with R's rule: p = total probability of
    tables with probability <= observed * (1 + 1e-7).

    When the enumeration would be infeasible (its work, counted before each
    allocation, would pass :data:`FISHER_WORK_BUDGET`, e.g. large cohorts) the
    p-value is Pearson chi-square's instead, ``short`` stays ``"fisher"`` so
    result keys are stable, and ``method`` says so.

    Hypotheses: margins fixed, H0 rows and columns independent.
    """
    arr = _as_table(table)
    reduced = _drop_empty(arr)
    if _is_degenerate(reduced):
        return TestResult("Fisher's exact test (single non-empty row or column, p = 1)",
                          "fisher", None, 1.0, _as_tuple(arr))
    r, c = reduced.shape
    if (r, c) == (2, 2):
        res = sps.fisher_exact(reduced)
        return TestResult("Fisher's exact test (2x2, two-sided)", "fisher",
                          float(res.statistic), float(res.pvalue), _as_tuple(arr),
                          "sample odds ratio")
    try:
        p = _fisher_rxc_p_value(reduced, budget=FISHER_WORK_BUDGET)
    except _EnumerationTooLarge:
        chi = chi_square(reduced)
        return TestResult(f"Pearson chi-square in place of Fisher's exact test ({r}x{c}, "
                          f"asymptotic; exact enumeration infeasible at n={int(reduced.sum())})",
                          "fisher", chi.statistic, chi.p_value, _as_tuple(arr),
                          "chi-square statistic")
    return TestResult(f"Fisher's exact test ({r}x{c}, exact network/enumeration, two-sided)",
                      "fisher", None, p, _as_tuple(arr))


def _hypergeometric_log_probs(arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Log-probabilities of every 2 x 2 table with the margins of ``arr`` (top-left cell
    from its minimum to its maximum), and the index of the observed table."""
    (a, b), (c, d) = (int(v) for v in arr[0]), (int(v) for v in arr[1])
    r1, c1, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, r1 + c1 - n), min(r1, c1)
    # top-left cell ~ hypergeometric: c1 draws from n, of which r1 are in row 1
    logp = sps.hypergeom.logpmf(np.arange(lo, hi + 1), n, r1, c1)
    return logp, a - lo


def fisher_midp(table) -> TestResult:
    """Lancaster's mid-p version of Fisher's exact test for a 2 x 2 table, two-sided.

    The two-sided mid-p is Fisher's two-sided p-value (total probability of
    the tables, margins fixed, as or less probable than the observed one,
    R's rule with relative tolerance :data:`FISHER_RELATIVE_TOLERANCE`) minus
    half the probability of the observed table (Lancaster 1961). It is *not*
    an exact-size test: its size can exceed the nominal level; it is often
    closer to the unconditional tests than Fisher's p is.
    """
    arr = _as_table(table)
    if arr.shape != (2, 2):
        raise ValueError(f"the mid-p test needs a 2x2 table, got shape {arr.shape}")
    name = "Fisher's exact test, mid-p (Lancaster 1961; 2x2, two-sided; not an exact-size test)"
    if _is_degenerate(_drop_empty(arr)):
        return TestResult(name + " (single non-empty row or column, p = 1)", "fisher_midp",
                          None, 1.0, _as_tuple(arr))
    logp, observed = _hypergeometric_log_probs(arr)
    probs = np.exp(logp)
    cutoff = logp[observed] + math.log1p(FISHER_RELATIVE_TOLERANCE)
    p_fisher = float(probs[logp <= cutoff].sum())
    p = min(1.0, p_fisher - 0.5 * float(probs[observed]))
    return TestResult(name, "fisher_midp", None, p, _as_tuple(arr))


def fisher_midp_doubled(table) -> TestResult:
    """Fisher's mid-p, two-sided as twice the smaller one-sided mid-p, for a 2 x 2 table.

    One-sided mid-p: ``P(X < x) + P(X = x) / 2`` (or the upper tail), X the top-left
    cell under the hypergeometric null; two-sided: twice the smaller, at most 1.
    :func:`fisher_midp` (this project's mid-p) subtracts half the observed table's
    probability from Fisher's two-sided p instead; the two differ when the
    hypergeometric distribution is skewed.
    """
    arr = _as_table(table)
    if arr.shape != (2, 2):
        raise ValueError(f"the mid-p test needs a 2x2 table, got shape {arr.shape}")
    name = "Fisher's exact test, mid-p as twice the smaller one-sided mid-p (2x2; not an exact-size test)"
    if _is_degenerate(_drop_empty(arr)):
        return TestResult(name + " (single non-empty row or column, p = 1)", "fisher_midp_doubled",
                          None, 1.0, _as_tuple(arr))
    logp, observed = _hypergeometric_log_probs(arr)
    probs = np.exp(logp)
    lower = float(probs[:observed].sum()) + 0.5 * float(probs[observed])
    upper = float(probs[observed + 1:].sum()) + 0.5 * float(probs[observed])
    return TestResult(name, "fisher_midp_doubled", None, min(1.0, 2 * min(lower, upper)),
                      _as_tuple(arr))


def chi_square(table, *, yates: bool = False) -> TestResult:
    """Pearson chi-square test of independence (asymptotic).

    All-zero rows and columns are dropped first; a degenerate table gives
    p = 1 with no statistic. Caveat: the chi-square approximation is poor
    when expected counts are small (< 5).
    """
    arr = _as_table(table)
    reduced = _drop_empty(arr)
    name = "Pearson chi-square with Yates' correction" if yates else "Pearson chi-square"
    short = "chi2_yates" if yates else "chi2"
    if yates and not _is_degenerate(reduced) and reduced.shape != (2, 2):
        raise ValueError("Yates' correction applies to 2x2 tables only")
    if _is_degenerate(reduced):
        return TestResult(name + " (single non-empty row or column, p = 1)", short,
                          None, 1.0, _as_tuple(arr))
    res = sps.chi2_contingency(reduced, correction=yates)
    return TestResult(name, short, float(res.statistic), float(res.pvalue), _as_tuple(arr),
                      "chi-square statistic")


def unconditional_is_feasible(n1: int, n2: int, test: str = "barnard") -> bool:
    """Whether Barnard's (``test="barnard"``) or Boschloo's exact test is run for row totals ``n1``, ``n2``.

    Barnard's test enumerates the whole sample space, ``(n1 + 1) * (n2 + 1)`` tables
    (:data:`UNCONDITIONAL_MAX_TABLES`); Boschloo's needs one rejection boundary per
    outcome of the smaller arm (:func:`boschloo_work`, :data:`BOSCHLOO_WORK_BUDGET`).
    """
    if test == "boschloo":
        return boschloo_work(n1, n2) <= BOSCHLOO_WORK_BUDGET
    return (n1 + 1) * (n2 + 1) <= UNCONDITIONAL_MAX_TABLES


def boschloo_work(n1: int, n2: int) -> float:
    """Work of Boschloo's test for arms of ``n1`` and ``n2`` patients, in binomial terms.

    The sample space while scipy computes it (up to :data:`UNCONDITIONAL_MAX_TABLES`
    tables); beyond, the boundary search's: (smaller arm + 1) x (nuisance grid + 10 local searches +
    log2 of the larger arm + 1), dominated by the smaller arm.
    """
    if (n1 + 1) * (n2 + 1) <= UNCONDITIONAL_MAX_TABLES:
        return float((n1 + 1) * (n2 + 1))
    small, large = sorted((int(n1), int(n2)))
    return float((small + 1) * (_nuisance_grid(large) + 10 + math.ceil(math.log2(large + 2))))


def _nuisance_grid(n_large: int) -> int:
    """Grid points for the nuisance maximisation: fine enough to resolve the larger arm's
    binomial spread (the function has one local maximum per outcome of the smaller arm)."""
    return max(_NUISANCE_GRID, math.ceil(8 * math.sqrt(n_large)))


def _maximise_over_nuisance(log_p, grid: int = _NUISANCE_GRID) -> float:
    """``max_pi exp(log_p(pi))`` over (0, 1): a grid, then a bounded local search around
    each of its ten highest local maxima (the function can have many)."""
    from scipy.optimize import minimize_scalar

    points = (np.arange(grid) + 0.5) / grid
    values = np.array([log_p(p) for p in points])
    padded = np.concatenate([[-np.inf], values, [-np.inf]])
    peaks = np.flatnonzero((values >= padded[:-2]) & (values >= padded[2:]))
    best = float(values.max())
    for i in peaks[np.argsort(values[peaks])[::-1][:10]]:
        low, high = max(points[i] - 1 / grid, 1e-12), min(points[i] + 1 / grid, 1 - 1e-12)
        local = minimize_scalar(lambda p: -log_p(p), bounds=(low, high), method="bounded",
                                options={"xatol": 1e-12})
        best = max(best, -float(local.fun))
    return float(min(1.0, math.exp(best)))


def _boschloo_less(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """One-sided Boschloo p-value for p1 < p2, by rejection boundaries, and its statistic.

    Statistic: Fisher's one-sided p ``T(a, b) = P(X1 <= a | a + b)`` (hypergeometric).
    ``T`` rises with ``a`` and falls with ``b``, so the tables at least as extreme as
    the observed one (``T <= T_obs``, scipy's relative tolerance 1e-13) are, for each
    outcome of the smaller arm, one tail of the other arm, found by bisection. The
    p-value is the largest probability of that region over the common success
    probability: ``sum_b P(X2 = b) P(X1 <= t(b))`` (or its transpose).
    """
    total = n1 + n2

    def stat(a, b):
        return sps.hypergeom.cdf(a, total, a + b, n1)

    threshold = float(stat(x1, x2)) * (1 + 1e-13)
    if n2 <= n1:  # for each b, the largest a with T(a, b) <= threshold (-1: none)
        outer = np.arange(n2 + 1)
        lo, hi = np.full(n2 + 1, -1), np.full(n2 + 1, n1 + 1)
        while np.any(hi - lo > 1):
            mid = np.clip((lo + hi) // 2, 0, n1)
            ok = stat(mid, outer) <= threshold
            active = hi - lo > 1
            lo = np.where(active & ok, mid, lo)
            hi = np.where(active & ~ok, mid, hi)
        edge = lo

        def log_p(pi):
            with np.errstate(divide="ignore"):
                terms = sps.binom.logpmf(outer, n2, pi) + sps.binom.logcdf(edge, n1, pi)
            return float(np.logaddexp.reduce(terms))
    else:  # for each a, the smallest b with T(a, b) <= threshold (n2 + 1: none)
        outer = np.arange(n1 + 1)
        lo, hi = np.full(n1 + 1, -1), np.full(n1 + 1, n2 + 1)
        while np.any(hi - lo > 1):
            mid = np.clip((lo + hi) // 2, 0, n2)
            ok = stat(outer, mid) <= threshold
            active = hi - lo > 1
            hi = np.where(active & ok, mid, hi)
            lo = np.where(active & ~ok, mid, lo)
        edge = hi

        def log_p(pi):
            with np.errstate(divide="ignore"):
                terms = sps.binom.logpmf(outer, n1, pi) + sps.binom.logsf(edge - 1, n2, pi)
            return float(np.logaddexp.reduce(terms))
    return _maximise_over_nuisance(log_p, _nuisance_grid(max(n1, n2))), threshold / (1 + 1e-13)


def _boschloo_by_boundaries(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Two-sided Boschloo p-value (scipy's convention: twice the smaller one-sided p, at most 1)
    and the statistic of that side, by :func:`_boschloo_less` on both sides."""
    less = _boschloo_less(x1, n1, x2, n2)
    greater = _boschloo_less(x2, n2, x1, n1)  # p1 > p2 is p2 < p1 with the rows swapped
    p, statistic = min(less, greater)
    return min(1.0, 2 * p), statistic


def _fisher_two_sided_all_tables(n1: int, n2: int) -> np.ndarray:
    """Fisher's two-sided p-value (R's rule, tolerance 1e-7) of every table with row totals
    ``n1``, ``n2``, as an ``(n1 + 1) x (n2 + 1)`` array indexed by the successes of each row."""
    out = np.empty((n1 + 1, n2 + 1))
    for s in range(n1 + n2 + 1):
        a = np.arange(max(0, s - n2), min(n1, s) + 1)
        logp = sps.hypergeom.logpmf(a, n1 + n2, s, n1)
        order = np.sort(logp)
        cumulative = np.cumsum(np.exp(order))
        upto = np.searchsorted(order, logp + math.log1p(FISHER_RELATIVE_TOLERANCE), side="right")
        out[a, s - a] = np.minimum(1.0, cumulative[upto - 1])
    return out


def boschloo_fisher_two_sided(table) -> TestResult:
    """Boschloo's test with the two-sided Fisher p-value as its statistic, for a 2 x 2 table.

    The other two-sided convention (e.g. R's ``Exact::exact.test(method = "boschloo")``
    with ``alternative = "two.sided"``): the rejection region is every table whose
    two-sided Fisher p is at most the observed one, and the p-value its largest
    probability over the common success probability. :func:`boschloo_exact` (scipy's
    convention) doubles the smaller one-sided p-value instead; the two can differ in
    either direction. Every table is enumerated, so only up to
    :data:`BOSCHLOO_FISHER2_MAX_TABLES`; beyond, the p-value is NaN and ``method`` says so.
    """
    arr = _as_table(table)
    if arr.shape != (2, 2):
        raise ValueError(f"Boschloo's test needs a 2x2 table, got shape {arr.shape}")
    name = "Boschloo's exact test, two-sided Fisher p as statistic"
    if _is_degenerate(_drop_empty(arr)):
        return TestResult(name + " (single non-empty row or column, p = 1)", "boschloo_fisher2",
                          None, 1.0, _as_tuple(arr))
    (x1, f1), (x2, f2) = arr.tolist()
    n1, n2 = x1 + f1, x2 + f2
    if (n1 + 1) * (n2 + 1) > BOSCHLOO_FISHER2_MAX_TABLES:
        return TestResult(f"{name}: not computed ({(n1 + 1) * (n2 + 1):,} tables > "
                          f"{BOSCHLOO_FISHER2_MAX_TABLES:,})", "boschloo_fisher2", None, math.nan,
                          _as_tuple(arr))
    fisher = _fisher_two_sided_all_tables(n1, n2)
    observed = fisher[x1, x2]
    region = (fisher <= observed * (1 + 1e-13)).astype(float)
    a, b = np.arange(n1 + 1), np.arange(n2 + 1)

    def log_p(pi):
        mass = sps.binom.pmf(a, n1, pi) @ region @ sps.binom.pmf(b, n2, pi)
        return math.log(mass) if mass > 0 else -math.inf

    return TestResult(name, "boschloo_fisher2", float(observed),
                      _maximise_over_nuisance(log_p, _nuisance_grid(max(n1, n2))),
                      _as_tuple(arr), "two-sided Fisher p-value")


def _pooled_z(arr: np.ndarray) -> float:
    """Wald statistic with pooled variance, row 1 minus row 2 (Barnard's statistic)."""
    (a, b), (c, d) = arr.tolist()
    n1, n2 = a + b, c + d
    pooled = (a + c) / (n1 + n2)
    return (a / n1 - c / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))


_STATISTIC_NAMES = {"barnard": "Wald z with pooled variance (Barnard's statistic)",
                    "boschloo": "one-sided Fisher p-value (Boschloo's statistic)"}


def _unconditional(table, which: str) -> TestResult:
    arr = _as_table(table)
    if arr.shape != (2, 2):
        raise ValueError(f"{which} test needs a 2x2 table, got shape {arr.shape}")
    name = {"barnard": "Barnard's exact test", "boschloo": "Boschloo's exact test"}[which]
    reduced = _drop_empty(arr)
    if _is_degenerate(reduced):
        return TestResult(name + " (single non-empty row or column, p = 1)", which,
                          None, 1.0, _as_tuple(arr))
    n1, n2 = (int(v) for v in arr.sum(axis=1))
    if not unconditional_is_feasible(n1, n2, which):
        # both unconditional tests converge to the pooled z-test (= Pearson chi-square)
        z = _pooled_z(arr)
        p = float(2 * sps.norm.sf(abs(z)))
        limit = (f"{(n1 + 1) * (n2 + 1):,} tables > {UNCONDITIONAL_MAX_TABLES:,}" if which == "barnard"
                 else f"work {boschloo_work(n1, n2):,.0f} > {BOSCHLOO_WORK_BUDGET:,.0f}")
        return TestResult(f"pooled z-test (Pearson chi-square) in place of {name} (2x2, two-sided, "
                          f"asymptotic; exact infeasible at n={n1}+{n2}: {limit})",
                          which, z, p, _as_tuple(arr), "Wald z with pooled variance")
    if which == "boschloo" and (n1 + 1) * (n2 + 1) > UNCONDITIONAL_MAX_TABLES:
        (x1, _), (x2, _) = arr.tolist()
        p, statistic = _boschloo_by_boundaries(x1, n1, x2, n2)
        return TestResult(name, which, statistic, p, _as_tuple(arr), _STATISTIC_NAMES[which])
    # scipy treats the columns as the two samples; ours are the rows.
    func = sps.barnard_exact if which == "barnard" else sps.boschloo_exact
    res = func(arr.T, alternative="two-sided")
    return TestResult(name, which, float(res.statistic), float(res.pvalue), _as_tuple(arr),
                      _STATISTIC_NAMES[which])


def barnard_exact(table) -> TestResult:
    """Barnard's unconditional exact test for a 2 x 2 table, two-sided.

    Rows are two independent binomial samples (row totals fixed), columns the
    outcome. Uses ``scipy.stats.barnard_exact`` (Wald statistic with pooled
    variance; p-value maximised over the nuisance common proportion).

    When the sample space exceeds :data:`UNCONDITIONAL_MAX_TABLES` (see
    :func:`unconditional_is_feasible`) the p-value is the asymptotic pooled
    z-test's (two-sided normal; the same statistic), ``short`` stays
    ``"barnard"`` and ``method`` says "asymptotic; exact infeasible at n=...".
    """
    return _unconditional(table, "barnard")


def boschloo_exact(table) -> TestResult:
    """Boschloo's unconditional exact test for a 2 x 2 table, two-sided.

    Rows are two independent binomial samples. Uses
    ``scipy.stats.boschloo_exact`` up to :data:`UNCONDITIONAL_MAX_TABLES` tables and
    the same test by rejection boundaries beyond (:func:`_boschloo_by_boundaries`);
    the two-sided p-value is twice the smaller one-sided p-value (capped at 1).
    :func:`boschloo_fisher_two_sided` gives the other convention.

    When even the boundary search would pass :data:`BOSCHLOO_WORK_BUDGET` the
    p-value is the asymptotic pooled z-test's (Boschloo's test converges to it),
    ``statistic`` is that z, ``short`` stays ``"boschloo"`` and ``method`` says
    "asymptotic; exact infeasible at n=...".
    """
    return _unconditional(table, "boschloo")


#: Every test by its result-key name, in display order.
TESTS = {
    "fisher": fisher_exact, "chi2": chi_square,
    "chi2_yates": lambda table: chi_square(table, yates=True),
    "barnard": barnard_exact, "boschloo": boschloo_exact, "fisher_midp": fisher_midp,
    "boschloo_fisher2": boschloo_fisher_two_sided, "fisher_midp_doubled": fisher_midp_doubled,
}
#: The other two-sided convention of a test (Boschloo's test: twice the smaller one-sided p,
#: or the two-sided Fisher p as statistic; mid-p: Fisher's p minus half the observed table's
#: probability, or twice the smaller one-sided mid-p), both ways round.
CONVENTION_PAIRS: dict[str, str] = {"boschloo": "boschloo_fisher2", "boschloo_fisher2": "boschloo",
                                    "fisher_midp": "fisher_midp_doubled",
                                    "fisher_midp_doubled": "fisher_midp"}
#: Tests computed for 2 x 2 tables only.
TWO_BY_TWO_ONLY: frozenset[str] = frozenset({"chi2_yates", "barnard", "boschloo", "fisher_midp",
                                             "boschloo_fisher2", "fisher_midp_doubled"})


def applicable_tests(table) -> tuple[str, ...]:
    """Names of the tests of :data:`TESTS` that apply to the table's shape."""
    two_by_two = _as_table(table).shape == (2, 2)
    return tuple(name for name in TESTS if two_by_two or name not in TWO_BY_TWO_ONLY)


def all_tests(table) -> tuple[TestResult, ...]:
    """Every applicable test of a table (:func:`applicable_tests`)."""
    return tuple(TESTS[name](table) for name in applicable_tests(table))
