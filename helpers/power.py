"""Exact power and sample size of the two-sided Fisher exact test of two proportions.

x1 of n1 (cohort, true rate p1) against x2 of n2 (comparator, p2); a table is rejected when its
R ``fisher.test`` p-value is at most ``alpha``. Power is the exact rejection probability summed
over all tables: no normal approximation, no simulation. It is not monotone in n1 (saw-tooth),
so the smallest n1 reaching a target can be followed by an n1 + 1 that misses it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.special import gammaln

from helpers.contingency import FISHER_RELATIVE_TOLERANCE
from helpers.parameters import default

#: Spacing of the sort key between tables with different totals, in units of log
#: probability: wider than the range of any log probability kept (>= -1000).
_KEY_SPACING = 2048.0

#: Tables handled at once: memory stays near 100 MB whatever the sample sizes.
_BLOCK_TABLES = 1_000_000

#: Binomial tail probability below which counts are skipped in the power sum (on
#: each side, per rate), so large samples cost little; power is exact to 1e-12.
_NEGLIGIBLE = 1e-13


def _log_choose(log_factorial: np.ndarray, n: int, k: np.ndarray) -> np.ndarray:
    """log C(n, k), from ``log_factorial[i] = gammaln(i + 1)``."""
    return log_factorial[n] - log_factorial[k] - log_factorial[n - k]


def _blocks(n1: int, n2: int, totals: np.ndarray | None = None):
    """(x1, x2, two-sided Fisher p) of every table whose total x1 + x2 is in ``totals`` (default: all).

    Yields blocks of whole totals, since a p-value needs every table with its total.
    """
    if n1 < 0 or n2 < 0:
        raise ValueError(f"sample sizes must be >= 0, got n1={n1}, n2={n2}")
    totals = np.arange(n1 + n2 + 1) if totals is None else totals
    log_factorial = gammaln(np.arange(n1 + n2 + 1) + 1)  # looked up, not recomputed per table
    width = min(n1, n2) + 1  # most tables with one total
    step = max(1, _BLOCK_TABLES // width)
    for first in range(0, len(totals), step):
        block = totals[first : first + step]
        low = np.maximum(0, block - n2)
        offset = np.arange(width)
        valid = offset[None, :] <= (np.minimum(n1, block) - low)[:, None]
        x1 = (low[:, None] + offset[None, :])[valid]
        row = np.broadcast_to(np.arange(len(block))[:, None], valid.shape)[valid]
        x2 = block[row] - x1
        # Hypergeometric probability of each table given its total; below e^-745 it is 0 anyway.
        log_prob = np.maximum(
            _log_choose(log_factorial, n1, x1)
            + _log_choose(log_factorial, n2, x2)
            - _log_choose(log_factorial, n1 + n2, x1 + x2),
            -1000.0,
        )
        # One sort orders the tables by total, then by probability within a total.
        key = row * _KEY_SPACING + log_prob
        order = np.argsort(key)
        ordered = key[order]
        cumulative = np.concatenate(([0.0], np.cumsum(np.exp(log_prob[order]))))
        # p-value: from the first table with the same total to the last one no more probable.
        end = np.searchsorted(ordered, ordered + np.log1p(FISHER_RELATIVE_TOLERANCE), side="right")
        start = np.concatenate(([0], np.cumsum(valid.sum(axis=1))))[row[order]]
        p = np.empty_like(log_prob)
        p[order] = np.minimum(cumulative[end] - cumulative[start], 1.0)
        yield x1, x2, p


def _likely(n: int, rates: np.ndarray) -> np.ndarray:
    """Counts 0..n outside which every rate in ``rates`` puts less than 1e-13 probability."""
    counts = np.arange(n + 1)
    low = sps.binom.ppf(_NEGLIGIBLE, n, rates.reshape(-1, 1))
    high = sps.binom.isf(_NEGLIGIBLE, n, rates.reshape(-1, 1))
    return ((counts >= low) & (counts <= high)).any(axis=0)


def fisher_p_values(n1: int, n2: int) -> np.ndarray:
    """Two-sided Fisher exact p-values, shape (n1 + 1, n2 + 1): ``[x1, x2]`` is x1/n1 against x2/n2."""
    p = np.empty((n1 + 1, n2 + 1))
    for x1, x2, block in _blocks(n1, n2):
        p[x1, x2] = block
    return p


def _check(rates: np.ndarray, p2: float, alpha: float) -> None:
    if np.any((rates < 0) | (rates > 1)) or not 0 <= p2 <= 1:
        raise ValueError("true rates must lie in [0, 1]")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


def fisher_power(n1: int, p1, n2: int, p2: float, alpha: float = default("alpha")) -> np.ndarray:
    """Exact power of the two-sided Fisher test (reject at p <= alpha), x1 ~ Bin(n1, p1) against
    x2 ~ Bin(n2, p2); one value per rate in ``p1`` (0-d for a single rate)."""
    rates = np.asarray(p1, dtype=float)
    _check(rates, p2, alpha)
    first = sps.binom.pmf(np.arange(n1 + 1)[:, None], n1, rates.reshape(1, -1))
    second = sps.binom.pmf(np.arange(n2 + 1), n2, p2)
    # Only totals that a likely x1 and a likely x2 can make (the rest weigh < 1e-12 together).
    totals = np.flatnonzero(np.convolve(_likely(n1, rates), _likely(n2, np.array([p2]))) > 0)
    power = np.zeros(rates.size)
    for x1, x2, p in _blocks(n1, n2, totals):
        rejected = p <= alpha
        power += second[x2[rejected]] @ first[x1[rejected]]
    return power.reshape(rates.shape)


def power_by_size(
    rates: Sequence[float],
    n2: int,
    p2: float,
    *,
    alpha: float = default("alpha"),
    target: float = 0.80,
    n_max: int = 1000,
    n_min: int = 1,
) -> pd.DataFrame:
    """Exact power (index ``n``, one column per rate) for first-sample sizes n_min, n_min + 1, ...

    Stops at the first size by which every rate has reached ``target`` once, or at ``n_max``.
    """
    if not 0 < target < 1:
        raise ValueError(f"target power must be between 0 and 1, got {target}")
    rates = [float(r) for r in rates]
    _check(np.asarray(rates), p2, alpha)
    rows, reached = {}, np.zeros(len(rates), dtype=bool)
    for n in range(max(n_min, 1), n_max + 1):
        rows[n] = fisher_power(n, rates, n2, p2, alpha)
        reached |= rows[n] >= target
        if reached.all():
            break
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=rates)
    frame.index.name = "n"
    return frame
