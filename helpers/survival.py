"""Kaplan-Meier values at a time, result rows and table, from lifelines fits (figures:
:mod:`helpers.survival_figures`).

Intervals for S(t): exponential Greenwood on log(-log S) (R's ``conf.type = "log-log"``),
none where S(t) is 1 (no event yet) or 0. Median and its interval by R's ``print.survfit``
rule (:func:`median_with_ci`). Times in months.

A share run (an active :class:`helpers.suppression.Policy` passed as ``policy``) shows no curve, median or survival of a
group of fewer than k patients, and draws and reads every other curve from its rounded steps
(:meth:`helpers.suppression.Policy.km_steps`: whole months, multiples of 5 events), its
interval the log(-log) Greenwood band of those rounded counts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers import narrative, suppression
from helpers.narrative import months_text
from helpers.results import Key
from helpers.suppression import NONE, Policy

KM_METHOD = "Kaplan-Meier; 95% CI exponential Greenwood on log(-log S)"
MEDIAN_METHOD = (
    "Kaplan-Meier median: first time S <= 0.5, the midpoint of a stretch where S is exactly 0.5 "
    "(R's print.survfit); 95% CI where the log(-log) band crosses 0.5 by the same rule "
    "(Brookmeyer-Crowley), not reached where it never does"
)
#: S within this of 1/2 is 1/2 (R's tolerance): floating point can put an exact half a few ulp above.
HALF_TOLERANCE = math.sqrt(np.finfo(float).eps)
AT_RISK_METHOD = "patients with follow-up of at least this many months"
#: ``fit_options`` of lifelines' Cox fitters: their default stop can leave the fourth digit
#: of a hazard ratio unsettled; this iterates to R's ``coxph`` precision.
COX_FIT_OPTIONS = {"precision": 1e-12}


def at_risk(durations, times: Sequence[float]) -> list[int]:
    """Patients followed for at least each time in ``times`` (months; R's ``n.risk``)."""
    durations = np.asarray(durations, dtype=float)
    return [int((durations >= t).sum()) for t in times]


def survival_at(fit, t: float, *, policy: Policy = NONE) -> tuple[float, float, float]:
    """S(t) with its 95 % interval at ``t`` months (right-continuous). All NaN past the
    longest follow-up unless the curve reached 0; the bounds are NaN where S(t) is 0 (R: NA)
    or 1 (no event yet: the log(-log) interval has no width to give). A share run: of the
    rounded steps, NaN for a hidden group."""
    if policy.active:
        return _steps_at(rounded_steps(fit, policy=policy), t)
    curve = fit.survival_function_.iloc[:, 0]
    if t > float(np.max(fit.durations)) and curve.iloc[-1] > 0:
        return math.nan, math.nan, math.nan
    band = fit.confidence_interval_survival_function_
    i = int(curve.index.searchsorted(t, side="right")) - 1
    if curve.iloc[i] in (0, 1):
        return float(curve.iloc[i]), math.nan, math.nan
    return float(curve.iloc[i]), float(band.iloc[i, 0]), float(band.iloc[i, 1])


def _time_at_half(times: np.ndarray, values: np.ndarray) -> float:
    """R's ``print.survfit`` median of a step function: the first time it is <= 1/2, or the
    midpoint of that time and the next drop when it is 1/2 there; NaN values skipped."""
    keep = ~np.isnan(values) & (values < 0.5 + HALF_TOLERANCE)
    if not keep.any():
        return math.nan
    times, values = times[keep], values[keep]
    lower = np.flatnonzero(values < values[0] - HALF_TOLERANCE)
    if abs(values[0] - 0.5) < HALF_TOLERANCE and len(lower):
        return float((times[0] + times[lower[0]]) / 2)
    return float(times[0])


def median_with_ci(fit, *, policy: Policy = NONE) -> tuple[float, float, float]:
    """(median, low, high) survival in months (R's ``print.survfit``): where the curve, its
    lower and its upper band reach 1/2 (no band where S = 0); NaN where not reached. A share
    run: of the rounded steps."""
    if policy.active:
        steps = rounded_steps(fit, policy=policy)
        times = steps["time"].to_numpy(dtype=float)
        return (
            tuple(
                _time_at_half(times, steps[c].to_numpy(dtype=float))
                for c in ("survival", "low", "high")
            )
            if len(steps)
            else (math.nan,) * 3
        )
    curve, times = (
        fit.survival_function_.iloc[:, 0].to_numpy(),
        fit.survival_function_.index.to_numpy(dtype=float),
    )
    band = fit.confidence_interval_survival_function_.to_numpy(dtype=float).copy()
    band[curve == 0] = math.nan
    return (
        _time_at_half(times, curve),
        _time_at_half(times, band[:, 0]),
        _time_at_half(times, band[:, 1]),
    )


def rounded_steps(fit, *, policy: Policy) -> pd.DataFrame:
    """:meth:`helpers.suppression.Policy.km_steps` of a fit, with the log(-log) Greenwood band
    (``low``, ``high``) of the rounded at-risk and event counts; empty for a hidden group."""
    steps = policy.km_steps(fit.durations, fit.event_observed)
    risk, died = steps["at_risk"].astype(float), steps["events"].astype(float)
    terms = np.where(
        (risk > died) & (risk > 0), died / (risk * (risk - died)).where(risk > died, 1), 0.0
    )
    variance = np.cumsum(terms)
    s = steps["survival"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        half = 1.959963984540054 * np.sqrt(variance) / np.abs(np.log(s))
        low, high = s ** np.exp(half), s ** np.exp(-half)
    usable = (s > 0) & (s < 1)
    # R: NA at 0 and 1
    return steps.assign(low=np.where(usable, low, np.nan), high=np.where(usable, high, np.nan))


def _steps_at(steps: pd.DataFrame, t: float) -> tuple[float, float, float]:
    if not len(steps) or t > float(steps["time"].iloc[-1]):
        return math.nan, math.nan, math.nan
    row = steps.iloc[int(steps["time"].searchsorted(t, side="right")) - 1]
    return float(row["survival"]), float(row["low"]), float(row["high"])


def km_rows(
    fit,
    key: str,
    label: str,
    times: Sequence[float],
    grid: Sequence[float],
    *,
    policy: Policy = NONE,
) -> list[dict]:
    """Result rows of one curve: ``{key}.median`` (numerator = events), ``.survival_{t}m``
    at ``times`` and ``.at_risk_{t}m`` on ``grid`` (months); not estimable values NaN."""
    n, events = len(fit.durations), int(np.sum(fit.event_observed))
    median, low, high = median_with_ci(fit, policy=policy)
    rows = [
        {
            "key": Key.part_of(key, "median"),
            "label": f"{label}: median (months)",
            "numerator": events,
            "denominator": n,
            "estimate": median,
            "ci_low": low,
            "ci_high": high,
            "method": MEDIAN_METHOD,
            "unit": "months",
        }
    ]
    for t in times:
        s, s_low, s_high = survival_at(fit, t, policy=policy)
        rows.append(
            {
                "key": Key.part_of(key, f"survival_{t:g}m"),
                "label": f"{label}: survival at {t:g} months",
                "denominator": n,
                "estimate": s,
                "ci_low": s_low,
                "ci_high": s_high,
                "method": KM_METHOD,
                "unit": "proportion",
            }
        )
    for t, count in zip(grid, at_risk(fit.durations, grid)):
        rows.append(
            {
                "key": Key.part_of(key, f"at_risk_{t:g}m"),
                "label": f"{label}: at risk at {t:g} months",
                "numerator": count,
                "denominator": n,
                "estimate": count,
                "method": AT_RISK_METHOD,
                "unit": "patients",
            }
        )
    return rows


def km_table(
    fits: Mapping[str, object], times: Sequence[float], *, policy: Policy = NONE
) -> pd.DataFrame:
    """One row per curve (label -> fit, in order): patients, events, median and survival
    at ``times`` months with 95 % CIs, ``not estimable`` past the longest follow-up."""
    rows = []
    for name, fit in fits.items():
        n, events = len(fit.durations), int(np.sum(fit.event_observed))
        small = policy.hidden(n)  # a share run: no median or survival of a group below k
        row = {
            "Group": name,
            # "<5" or rounded in a share run
            "Patients": narrative.count(n, policy=policy) if policy.active else n,
            "Events": narrative.count(events, policy=policy) if policy.active else events,
            "Median": suppression.DASH
            if small
            else months_text(*median_with_ci(fit, policy=policy)),
        }
        for t in times:
            s, low, high = survival_at(fit, t, policy=policy)
            # S of 1 or 0: no interval
            none = "no event yet" if s == 1 else "every patient had the event"
            row[f"Survival at {t:g} months"] = (
                suppression.DASH
                if small
                else "not estimable"
                if math.isnan(s)
                else f"{100 * s:.1f}% (no interval: {none})"
                if math.isnan(low)
                else f"{100 * s:.1f}% ({narrative.ci_text(low, high, policy=policy)})"
            )
        rows.append(row)
    return pd.DataFrame(rows)
