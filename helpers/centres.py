"""Comparing centres on one proportion: heterogeneity across centres and funnel-plot limits.

Heterogeneity has two measures. The exact r x 2 Fisher test comes from
:func:`helpers.contingency.fisher_exact`. The random-effects I² of the centres' log-odds
comes from statsmodels (``combine_effects``, DerSimonian-Laird). statsmodels gives no
interval for I², so the Higgins-Thompson (2002) test-based 95 % interval of H is written
here; it is the interval R's ``meta`` package reports.

Funnel-plot control limits are Spiegelhalter's (2005) exact binomial limits around a
target rate, with his interpolation between the discrete binomial quantiles. scipy gives
the quantiles; the interpolation is written here, because no library in the environment
has it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from helpers.contingency import TestResult, fisher_exact
from helpers.results import Key

#: Coverages of the funnel plot's control limits (about 2 and 3 standard deviations).
FUNNEL_COVERAGES: tuple[float, ...] = (0.95, 0.998)
#: Added to every cell of a centre with no event or no non-event before its log-odds are taken.
CONTINUITY = 0.5


@dataclass(frozen=True)
class Heterogeneity:
    """How much centres differ on one proportion.

    ``fisher``: exact test of the centres x (event, no event) table. ``i2`` (a fraction,
    0 to 1) with its 95 % CI, ``q`` (Cochran's Q) and ``tau2`` (between-centre variance of
    the log-odds) from a DerSimonian-Laird random-effects model. All are NaN when that
    model is not defined: fewer than two centres, or every patient with the same outcome.
    ``i2_low``/``i2_high`` are also NaN when the interval is not defined (two centres and
    Q at most 2).
    """

    fisher: TestResult
    centres: int
    q: float
    df: int
    i2: float
    i2_low: float
    i2_high: float
    tau2: float


def heterogeneity(events, totals) -> Heterogeneity:
    """Heterogeneity of the proportions ``events[i] / totals[i]`` across centres.

    Centres without patients are left out. Log-odds use :data:`CONTINUITY` in centres with
    0 or all events.
    """
    k = np.asarray(events, dtype=np.int64)
    n = np.asarray(totals, dtype=np.int64)
    keep = n > 0
    k, n = k[keep], n[keep]
    if np.any(k > n) or np.any(k < 0):
        raise ValueError("events must lie between 0 and the centre's number of patients")
    fisher = fisher_exact(np.column_stack([k, n - k])) if len(k) else None
    nan = math.nan
    if len(k) < 2 or k.sum() in (0, n.sum()):
        return Heterogeneity(fisher, len(k), nan, max(len(k) - 1, 0), nan, nan, nan, nan)
    from statsmodels.stats.meta_analysis import combine_effects

    edge = (k == 0) | (k == n)
    a = k + CONTINUITY * edge
    b = n - k + CONTINUITY * edge
    log_odds = np.log(a / b)
    variance = 1 / a + 1 / b
    # statsmodels' Knapp-Hartung variant and I² (unused here) divide by 0 at Q = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = combine_effects(log_odds, variance, method_re="dl")
    q, df = float(fit.q), len(k) - 1
    low, high = i2_interval(q, len(k))
    return Heterogeneity(
        fisher,
        len(k),
        q,
        df,
        max(0.0, (q - df) / q) if q > 0 else 0.0,
        low,
        high,
        max(0.0, float(fit.tau2)),
    )


def i2_interval(q: float, centres: int, confidence: float = 0.95) -> tuple[float, float]:
    """Higgins-Thompson (2002) interval of I² from Cochran's Q over ``centres`` studies:
    the interval of ln H (H² = Q / df) back-transformed, bounded below by 0; NaN when it is
    not defined (two centres with Q at most 2)."""
    df = centres - 1
    if df < 1 or q <= 0:
        return math.nan, math.nan
    z = sps.norm.ppf(0.5 + confidence / 2)
    if q > centres:
        se = 0.5 * (math.log(q) - math.log(df)) / (math.sqrt(2 * q) - math.sqrt(2 * centres - 3))
    elif centres > 2:
        se = math.sqrt(1 / (2 * (centres - 2)) * (1 - 1 / (3 * (centres - 2) ** 2)))
    else:
        return math.nan, math.nan
    log_h = 0.5 * math.log(q / df)

    def i2(h: float) -> float:
        return max(0.0, (h * h - 1) / (h * h))

    return i2(math.exp(log_h - z * se)), i2(math.exp(log_h + z * se))


def funnel_limits(target: float, n, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (fractions) of a proportion observed in ``n`` patients
    when the true rate is ``target``: exact binomial quantiles at (1 - coverage) / 2 and
    (1 + coverage) / 2, interpolated as Spiegelhalter (2005) does so the limits are smooth in n."""
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if not 0 <= target <= 1:
        raise ValueError(f"target rate {target} is not a proportion")
    out = []
    for p in ((1 - coverage) / 2, (1 + coverage) / 2):
        r = sps.binom.ppf(p, n, target)
        at, below = sps.binom.cdf(r, n, target), sps.binom.cdf(r - 1, n, target)
        step = at - below
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(step > 0, (at - p) / step, 0.0)
        out.append(np.clip((r - alpha) / n, 0, 1))
    return out[0], out[1]


def funnel_frame(rates: pd.DataFrame, target: float, coverages=FUNNEL_COVERAGES) -> pd.DataFrame:
    """Each centre's rate with the control limits at its own n and where it falls:
    ``rates`` has ``level``, ``numerator``, ``denominator``; adds ``estimate``, ``low_<c>``,
    ``high_<c>`` per coverage (e.g. ``low_95``) and ``outside`` (the widest limits it is
    outside of, e.g. ``"99.8% (above)"``, or ``""``): its exact one-sided binomial tail
    probability under ``target`` is below (1 - coverage) / 2."""
    frame = rates[["level", "numerator", "denominator"]].copy()
    frame = frame[frame["denominator"] > 0].reset_index(drop=True)
    frame["estimate"] = frame["numerator"] / frame["denominator"]
    frame["outside"] = ""
    for coverage in sorted(coverages):
        name = coverage_name(coverage)
        low, high = funnel_limits(target, frame["denominator"], coverage)
        frame[f"low_{name}"], frame[f"high_{name}"] = low, high
        # called outside by the exact tail probability: the interpolated limit of a discrete count
        # can sit just inside a rate (e.g. below 100 %) that chance alone gives often
        tail = (1 - coverage) / 2
        below = sps.binom.cdf(frame["numerator"], frame["denominator"], target) < tail
        above = sps.binom.sf(frame["numerator"] - 1, frame["denominator"], target) < tail
        where = np.where(below, f"{name}% (below)", np.where(above, f"{name}% (above)", ""))
        frame["outside"] = [w or o for w, o in zip(where, frame["outside"])]  # wider overwrite
    return frame


def coverage_name(coverage: float) -> str:
    """``"95"`` for 0.95, ``"99.8"`` for 0.998."""
    return f"{100 * coverage:g}"


def plot_funnel(
    points: pd.DataFrame,
    target: float,
    *,
    title: str,
    ylabel: str,
    coverages=FUNNEL_COVERAGES,
    max_n: int | None = None,
):
    """Seaborn funnel plot: each centre's rate (``points``: ``level``, ``denominator``,
    ``estimate``) against its number of patients, a dashed line at ``target`` and the exact
    control limits of ``coverages`` as curves; returns the figure."""
    import seaborn as sns

    from helpers.figures import house_style, new_figure

    top = int(max_n or (points["denominator"].max() if len(points) else 10))
    grid = np.arange(1, max(top, 2) * 1.1 + 1)
    with house_style():
        fig, ax = new_figure(7, 4.5)
        styles = {coverages[0]: "--", coverages[-1]: ":"}
        for coverage in coverages:
            low, high = funnel_limits(target, grid, coverage)
            label = f"{coverage_name(coverage)}% control limits"
            ax.plot(grid, 100 * low, styles.get(coverage, "-"), color="0.45", label=label)
            ax.plot(grid, 100 * high, styles.get(coverage, "-"), color="0.45")
        ax.axhline(
            100 * target, color="C3", linestyle="--", label=f"pooled rate {100 * target:.1f}%"
        )
        if len(points):
            sns.scatterplot(
                x=points["denominator"],
                y=100 * points["estimate"],
                ax=ax,
                s=60,
                color="C0",
                zorder=3,
                label="centre",
            )
            for row in points.itertuples():
                ax.annotate(
                    str(row.level),
                    (row.denominator, 100 * row.estimate),
                    textcoords="offset points",
                    xytext=(5, 4),
                    fontsize=8,
                )
        ax.set_xlim(0, grid[-1])
        ax.set_ylim(-2, 102)
        ax.set_xlabel("Patients in the centre")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
    return fig


def rates_by_centre(cohort: pd.DataFrame, outcome: str, by: str = "center"):
    """``(RateTable, Heterogeneity)``: the rate of ``outcome`` in each centre (patients without
    a centre as the ``missing`` level, not tested), with the exact Fisher test of the centres."""
    from helpers.subgroups import MISSING_LEVEL, rate_by

    first = rate_by(cohort, outcome, by)
    tested = first.rates[(first.rates["level"] != MISSING_LEVEL) & (first.rates["denominator"] > 0)]
    found = heterogeneity(tested["numerator"], tested["denominator"])
    tests = (found.fisher,) if found.fisher is not None else ()
    return rate_by(cohort, outcome, by, tests=tests), found


def heterogeneity_rows(
    outcome: str, found: Heterogeneity, label: str, by: str = "center"
) -> list[dict]:
    """Result rows of the random-effects model: ``{outcome}[{by}].i_squared`` (a fraction with its
    95 % CI; p of Cochran's Q) and ``{outcome}[{by}].tau_squared``; none when it is not defined."""
    if math.isnan(found.i2):
        return []
    method = (
        f"DerSimonian-Laird random effects on the centres' log-odds ({CONTINUITY} added to the cells of a "
        f"centre with no or only events), {found.centres} centres"
    )
    return [
        {
            "key": str(Key(outcome, by=by, part="i_squared")),
            "label": f"{label}: I² across centres",
            "estimate": found.i2,
            "ci_low": found.i2_low,
            "ci_high": found.i2_high,
            "p_value": float(sps.chi2.sf(found.q, found.df)),
            "method": f"{method}; I² = (Q - df) / Q, 95% CI Higgins-Thompson (2002); p: Cochran's Q = "
            f"{found.q:.3f} on {found.df} df",
            "unit": "fraction",
        },
        {
            "key": str(Key(outcome, by=by, part="tau_squared")),
            "label": f"{label}: between-centre variance of the log-odds",
            "estimate": found.tau2,
            "method": method,
            "unit": "log-odds squared",
        },
    ]
