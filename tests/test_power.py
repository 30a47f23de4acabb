"""Exact power of the two-sided Fisher exact test (helpers.power) against brute force and R.

R references were computed on this machine (R 4.2.2) by enumerating every table
with ``fisher.test`` and summing the binomial probabilities of the rejected ones:

    pw <- function(n1, p1, n2 = 271, p2 = 119/271) {
      p <- matrix(0, n1 + 1, n2 + 1)
      for (a in 0:n1) for (b in 0:n2)
        p[a + 1, b + 1] <- fisher.test(matrix(c(a, n1 - a, b, n2 - b), 2))$p.value
      sum(outer(dbinom(0:n1, n1, p1), dbinom(0:n2, n2, p2)) * (p <= 0.05)) }
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from helpers import power

TOWER_N, TOWER_RATE = 271, 119 / 271  # TOWER blinatumomab arm, CR/CRh/CRi (the primary comparator)


def brute_force_power(n1: int, p1: float, n2: int, p2: float, alpha: float = 0.05) -> float:
    """Sum of Bin(x1; n1, p1) Bin(x2; n2, p2) over every table scipy's Fisher test rejects."""
    total = 0.0
    for x1 in range(n1 + 1):
        for x2 in range(n2 + 1):
            if sps.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue <= alpha:
                total += (
                    math.comb(n1, x1)
                    * p1**x1
                    * (1 - p1) ** (n1 - x1)
                    * math.comb(n2, x2)
                    * p2**x2
                    * (1 - p2) ** (n2 - x2)
                )
    return total


@pytest.mark.parametrize("n1, n2", [(0, 4), (1, 1), (5, 5), (7, 12), (20, 3), (9, 16)])
def test_p_value_of_every_table_matches_scipy_fisher_exact(n1, n2):
    p = power.fisher_p_values(n1, n2)
    expected = [
        [sps.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue for b in range(n2 + 1)]
        for a in range(n1 + 1)
    ]
    np.testing.assert_allclose(p, expected, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize(
    "n1, p1, n2, p2, alpha",
    [
        (10, 0.8, 12, 0.3, 0.05),
        (8, 0.5, 8, 0.5, 0.05),  # equal sizes: probability ties between mirror tables
        (15, 0.1, 6, 0.6, 0.10),
        (3, 0.9, 25, 0.2, 0.05),
    ],
)
def test_power_equals_brute_force_enumeration(n1, p1, n2, p2, alpha):
    assert power.fisher_power(n1, p1, n2, p2, alpha) == pytest.approx(
        brute_force_power(n1, p1, n2, p2, alpha), abs=1e-12
    )


@pytest.mark.parametrize(
    "n1, p1, expected",
    [
        # R enumeration (module docstring); the cohort's 23/34 against TOWER's 119/271.
        (34, 23 / 34, 0.737135056476),
        (34, 0.55, 0.211961309770),
        (34, 0.60, 0.402731461013),
        (34, 0.65, 0.626809706964),
        (34, 0.70, 0.820840460988),
        (40, 23 / 34, 0.791638738185),
        (41, 23 / 34, 0.807830766964),
        (32, 0.70, 0.787383461726),
        (33, 0.70, 0.804614644430),
    ],
)
def test_power_against_tower_matches_r_fisher_test_enumeration(n1, p1, expected):
    assert power.fisher_power(n1, p1, TOWER_N, TOWER_RATE) == pytest.approx(expected, abs=1e-10)


def test_power_at_the_cohort_size_is_0_737_and_41_patients_give_80_percent():
    # The design alternative is the observed 23/34; the comparator is fixed at 119/271.
    assert round(float(power.fisher_power(34, 23 / 34, TOWER_N, TOWER_RATE)), 3) == 0.737
    curve = power.power_by_size([23 / 34], TOWER_N, TOWER_RATE, target=0.80, n_max=100).iloc[:, 0]
    assert int(curve.index[curve >= 0.80][0]) == 41


@pytest.mark.parametrize("n1, rates", [(1500, [0.55, 0.70]), (400, [0.02, 0.98])])
def test_skipping_tables_of_negligible_probability_changes_power_by_less_than_1e_12(n1, rates):
    # Every table, summed as a matrix product over the full rejection region.
    reject = (power.fisher_p_values(n1, TOWER_N) <= 0.05).astype(float)
    first = sps.binom.pmf(np.arange(n1 + 1)[:, None], n1, np.array(rates)[None, :])
    second = sps.binom.pmf(np.arange(TOWER_N + 1), TOWER_N, TOWER_RATE)
    np.testing.assert_allclose(
        power.fisher_power(n1, rates, TOWER_N, TOWER_RATE), first.T @ reject @ second, atol=1e-12
    )


@pytest.mark.parametrize("n1, n2, rate", [(10, 10, 0.5), (34, 271, 119 / 271), (25, 7, 0.2)])
def test_under_equal_rates_the_rejection_probability_stays_below_alpha(n1, n2, rate):
    assert power.fisher_power(n1, rate, n2, rate, 0.05) <= 0.05


def test_power_by_size_stops_once_every_rate_has_reached_the_target():
    curve = power.power_by_size([0.65, 0.70], TOWER_N, TOWER_RATE, target=0.80, n_max=500)
    assert list(curve.columns) == [0.65, 0.70] and curve.index[0] == 1
    first = {rate: int(curve.index[curve[rate] >= 0.80][0]) for rate in curve.columns}
    # 0.70: 32 gives 0.787, 33 gives 0.805 (R enumeration above); 0.65 as in notebook 05's table
    assert first == {0.65: 56, 0.70: 33}
    assert curve.index[-1] == max(first.values())
    assert curve.loc[34, 0.70] == pytest.approx(0.820840460988, abs=1e-10)


def test_power_by_size_ends_at_n_max_when_the_target_is_out_of_reach():
    curve = power.power_by_size([0.45], TOWER_N, TOWER_RATE, n_max=30)
    assert curve.index[-1] == 30 and (curve[0.45] < 0.80).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: power.fisher_power(10, 1.2, 20, 0.4), "rates"),
        (lambda: power.fisher_power(10, 0.5, 20, 0.4, alpha=0), "alpha"),
        (lambda: power.fisher_p_values(-1, 3), "sample sizes"),
        (lambda: power.power_by_size([0.6], 20, 0.4, target=1.0), "target power"),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(call, message):
    with pytest.raises(ValueError, match=message):
        call()
