"""Heterogeneity across centres and funnel-plot limits, against R.

R references (R 4.2, base stats only; no meta package), stored with their calls:

    k <- c(1, 10, 11); n <- c(10, 14, 16)
    fisher.test(cbind(k, n - k))$p.value                       # 0.00485702406448
    edge <- (k == 0) | (k == n); a <- k + 0.5 * edge; b <- n - k + 0.5 * edge
    y <- log(a / b); v <- 1 / a + 1 / b; w <- 1 / v
    Q <- sum(w * (y - sum(w * y) / sum(w))^2); df <- length(k) - 1  # 7.3202343442165
    tau2 <- max(0, (Q - df) / (sum(w) - sum(w^2) / sum(w)))        # 1.2358157493715
    I2 <- max(0, (Q - df) / Q)                                      # 0.7267847030635
    K <- length(k); se <- 0.5 * (log(Q) - log(df)) / (sqrt(2 * Q) - sqrt(2 * K - 3))
    H <- exp(0.5 * log(Q / df) + c(-1, 1) * qnorm(0.975) * se)
    pmax(0, (H^2 - 1) / H^2)                                         # 0.0798225925339 0.9188780360456
    lim <- function(p0, n, p) { r <- qbinom(p, n, p0); (r - (pbinom(r, n, p0) - p) / dbinom(r, n, p0)) / n }
    lim(22/40, c(5, 10, 14, 40), 0.025)   # 0.0116118662621 0.1895505366411 0.2453617019953 0.381470132859
    lim(22/40, c(5, 10, 14, 40), 0.975)   # 0.9006525883105 0.7977158053954 0.7733577584109 0.691410959693
    lim(22/40, c(5, 10, 14, 40), 0.001)   # -0.1891615438026 (plotted as 0) 0.0158465726065 0.0995439169594 0.293090982936
    lim(22/40, c(5, 10, 14, 40), 0.999)   # 0.9960261035324 0.9605203671624 0.9079032811927 0.773422788091
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from helpers import centres

N = [5, 10, 14, 40]


def test_three_centres_with_one_low_cr_rate_differ_by_fisher_and_i_squared_as_r_computes():
    h = centres.heterogeneity([1, 10, 11], [10, 14, 16])
    assert h.fisher.p_value == pytest.approx(0.00485702406448, rel=1e-9)
    assert h.fisher.table == ((1, 9), (10, 4), (11, 5))
    assert (h.q, h.tau2, h.i2) == pytest.approx(
        (7.3202343442165, 1.2358157493715, 0.7267847030635), rel=1e-9
    )
    assert (h.i2_low, h.i2_high) == pytest.approx((0.0798225925339, 0.9188780360456), rel=1e-9)
    assert (h.centres, h.df) == (3, 2)


@pytest.mark.parametrize(
    ("events", "totals", "why"),
    [
        ([3], [10], "one centre"),
        ([0, 0], [4, 6], "no event anywhere"),
        ([4, 6], [4, 6], "every patient an event"),
    ],
)
def test_i_squared_is_not_defined_for_one_centre_or_one_outcome_but_fisher_still_runs(
    events, totals, why
):
    h = centres.heterogeneity(events, totals)
    assert math.isnan(h.i2) and math.isnan(h.i2_low), why
    assert h.fisher.p_value == 1.0


def test_centres_without_patients_are_left_out_of_the_heterogeneity_test():
    assert centres.heterogeneity([1, 0, 10, 11], [10, 0, 14, 16]).centres == 3


def test_an_event_count_above_the_centre_total_is_refused():
    with pytest.raises(ValueError, match="between 0"):
        centres.heterogeneity([5, 3], [4, 6])


@pytest.mark.parametrize(
    ("coverage", "low", "high"),
    [
        (
            0.95,
            [0.0116118662621, 0.1895505366411, 0.2453617019953, 0.381470132859],
            [0.9006525883105, 0.7977158053954, 0.7733577584109, 0.691410959693],
        ),
        (
            0.998,
            [0.0, 0.0158465726065, 0.0995439169594, 0.293090982936],
            [0.9960261035324, 0.9605203671624, 0.9079032811927, 0.773422788091],
        ),
    ],
)
def test_funnel_limits_are_spiegelhalters_interpolated_exact_binomial_limits_as_r_computes(
    coverage, low, high
):
    got_low, got_high = centres.funnel_limits(22 / 40, N, coverage)
    assert list(got_low) == pytest.approx(low, rel=1e-9, abs=1e-12)
    assert list(got_high) == pytest.approx(high, rel=1e-9)


def test_a_centre_with_cr_1_of_10_falls_below_the_95_percent_limits_of_the_pooled_rate():
    rates = pd.DataFrame(
        {"level": ["C1", "C2", "C3"], "numerator": [1, 10, 11], "denominator": [10, 14, 16]}
    )
    frame = centres.funnel_frame(rates, 22 / 40)
    assert list(frame["outside"]) == ["95% (below)", "", ""]
    assert frame.loc[0, "low_95"] == pytest.approx(0.1895505366411, rel=1e-9)


def test_a_small_centre_with_every_patient_in_cr_is_not_called_above_the_limits():
    # R: 1 - pbinom(2, 3, 23/34) = 0.3095613678: 3/3 happens often by chance at the pooled rate
    rates = pd.DataFrame({"level": ["C1", "C2"], "numerator": [3, 20], "denominator": [3, 31]})
    assert list(centres.funnel_frame(rates, 23 / 34)["outside"]) == ["", ""]
