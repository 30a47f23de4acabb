"""Competing risks after remission: cumulative incidence of relapse and of death in remission
(non-relapse mortality, NRM), and Gray's test between groups. Times in months.

The cumulative incidence functions (CIF) are lifelines' Aalen-Johansen estimates with its
95 % intervals (Collett's Greenwood-type variance, delta method on log(-log F)).
Gray's test is written here from Gray (1988), Ann. Stat. 16:1141-1154 (score of section 2,
variance of section 3 with its correction for tied times, weight (1 - F0(t-))^rho, rho = 0):
no maintained Python package implements it (lifelines and scikit-survival have none); the
tests hold R ``cmprsk::cuminc`` values it must equal.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.results import Key
from helpers.suppression import DASH, NONE, Policy

#: Event codes of a competing-risks outcome: censored, relapse, death in remission.
CENSORED, RELAPSE, DEATH = 0, 1, 2
CAUSE_CODES = {"relapse": RELAPSE, "death": DEATH}
CAUSE_NAMES = {RELAPSE: "Relapse", DEATH: "Non-relapse mortality"}
CIF_METHOD = (
    "Aalen-Johansen cumulative incidence (competing risks: relapse, death in remission); "
    "95% CI Greenwood-type variance, delta method on log(-log F) (lifelines)"
)
GRAY_METHOD = (
    "Gray's test (1988, rho = 0) of cumulative incidence between groups; estimate = chi-square"
)
#: lifelines separates event times of different causes that are tied by moving each event
#: time at random by up to this many months (far below the data's 0.1-month resolution);
#: censored times are moved later by 10 times it, so that, as in R, a censoring tied with an
#: event is counted after it, and a CIF read at t includes the events at t.
JITTER_MONTHS = 1e-6
_READ_AFTER = 1e-4


def event_codes(rfs_event: pd.Series, cause: pd.Series) -> pd.Series:
    """0 censored (``rfs_event`` False), 1 relapse, 2 death in remission; NA where an event
    has no recorded cause or ``rfs_event`` is missing."""
    codes = cause.astype("string").map(CAUSE_CODES).astype("Int64")
    event = rfs_event.astype("boolean")
    return codes.where(event.fillna(True), CENSORED).where(event.notna())


def fit_cif(months, codes, cause: int, label: str | None = None):
    """lifelines ``AalenJohansenFitter`` of ``cause`` (1 relapse, 2 death) with the other as
    competing risk; ``codes`` as :func:`event_codes` (no NA). Deterministic."""
    from lifelines import AalenJohansenFitter

    months = np.asarray(months, dtype=float)
    codes = np.asarray(codes, dtype=int)
    moved = np.where(codes == CENSORED, months + 10 * JITTER_MONTHS, months)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tied event times", category=Warning)
        fit = AalenJohansenFitter(jitter_level=JITTER_MONTHS, seed=0).fit(
            moved, codes, event_of_interest=cause, label=label or CAUSE_NAMES[cause]
        )
    fit.source = (months, codes, cause)  # the data as given: a share run reads its rounded steps
    return fit


def cif_at(fit, t: float, *, policy: Policy = NONE) -> tuple[float, float, float]:
    """F(t) with its 95 % interval (proportions); NaN past the longest follow-up, and for
    the bounds where F(t) is 0. A share run: F(t) of the rounded steps
    (:meth:`helpers.suppression.Policy.cif_steps`), no interval, all NaN for a hidden group."""
    if policy.active:
        months, codes, cause = fit.source
        steps = policy.cif_steps(months, codes)
        if not len(steps) or t > float(steps["time"].iloc[-1]) or f"cif_{cause}" not in steps:
            return math.nan, math.nan, math.nan
        row = steps.iloc[int(steps["time"].searchsorted(t, side="right")) - 1]
        return float(row[f"cif_{cause}"]), math.nan, math.nan
    curve = fit.cumulative_density_.iloc[:, 0]
    if t > float(np.max(fit.durations)):
        return math.nan, math.nan, math.nan
    i = int(curve.index.searchsorted(t + _READ_AFTER, side="right")) - 1
    value = float(curve.iloc[i])
    band = fit.confidence_interval_.iloc[i]
    if value == 0 or band.isna().any():
        return value, math.nan, math.nan
    return value, float(band.min()), float(band.max())


def gray_test(months, codes, groups, cause: int = RELAPSE) -> tuple[float, int, float]:
    """Gray's test that the cumulative incidence of ``cause`` is the same in every group:
    (chi-square, degrees of freedom = groups - 1, p). ``codes`` 0 censored, 1 and 2 the causes;
    no missing values. NaN statistic when fewer than two groups or no event of ``cause``."""
    months = np.asarray(months, dtype=float)
    codes = np.asarray(codes, dtype=int)
    levels, group = np.unique(np.asarray(groups), return_inverse=True)
    k = len(levels)
    if k < 2 or not (codes == cause).any():
        return math.nan, max(k - 1, 0), math.nan
    own = codes == cause
    other = (codes != cause) & (codes != CENSORED)
    at_risk = np.bincount(group, minlength=k).astype(float)
    surv = np.ones(k)  # all-cause Kaplan-Meier S_j(t-), per group
    incid = np.zeros(k)  # cumulative incidence F_j(t-) of the cause, per group
    pooled = 0.0  # pooled cumulative incidence F_0(t-)
    score = np.zeros(k)
    c = np.zeros((k, k))  # accumulated integrand of the F_0 term (Gray's section 3)
    var_direct = np.zeros((k, k))
    v_cross = np.zeros((k, k))  # column j: group j's variance terms with c
    v_own = np.zeros(k)
    for t in np.unique(months):
        here = months == t
        d_own = np.bincount(group[here & own], minlength=k).astype(float)
        d_other = np.bincount(group[here & other], minlength=k).astype(float)
        n_own = d_own.sum()
        if n_own + d_other.sum() > 0:
            live = at_risk > 0
            surv_after = np.where(
                live, surv * (at_risk - d_own - d_other) / np.where(live, at_risk, 1), surv
            )
            # at risk per unit of survival
            h = np.divide(at_risk, surv, out=np.zeros(k), where=live)
            r = h * (1 - incid)  # Gray's R_j(t)
            h_sum, r_sum = h.sum(), r.sum()
            weight = 1.0  # (1 - F_0(t-))^rho with rho = 0
            pooled_after = pooled + n_own / h_sum
            a = weight * (np.diag(h) - np.outer(h, h) / h_sum)
            c += a * n_own / (h_sum * (1 - pooled))
            score += np.where(live, weight * (d_own - n_own * r / r_sum), 0.0)
            if n_own > 0:
                for j in np.flatnonzero(live):
                    lost = 1 - (1 - pooled_after) / surv_after[j] if surv_after[j] > 0 else 1.0
                    ties = 1 - (n_own - 1) / (h_sum * surv[j] - 1) if n_own > 1 else 1.0
                    mass = ties * surv[j] * n_own / (h_sum * at_risk[j])
                    v_own[j] += lost**2 * mass
                    term = a[:, j] - lost * c[:, j]
                    v_cross[:, j] += term * lost * mass
                    var_direct += np.outer(term, term) * mass
            for j in np.flatnonzero(live & (d_other > 0) & (surv_after > 0)):
                kept = (1 - pooled_after) / surv_after[j]
                ties = 1 - (d_other[j] - 1) / (at_risk[j] - 1) if d_other[j] > 1 else 1.0
                mass = ties * surv[j] ** 2 * d_other[j] / at_risk[j] ** 2
                v_own[j] += kept**2 * mass
                v_cross[:, j] -= kept**2 * c[:, j] * mass
                var_direct += np.outer(kept * c[:, j], kept * c[:, j]) * mass
            incid = incid + np.where(live, surv * d_own / np.where(live, at_risk, 1), 0.0)
            surv, pooled = surv_after, pooled_after
        at_risk -= np.bincount(group[here], minlength=k)
    variance = var_direct + (c * v_own) @ c.T + c @ v_cross.T + v_cross @ c.T
    s, v = score[:-1], variance[:-1, :-1]
    # a group without an event at risk: no test (R's cuminc: none)
    if np.linalg.matrix_rank(v) < len(s):
        return math.nan, k - 1, math.nan
    statistic = float(s @ np.linalg.solve(v, s))
    return statistic, k - 1, float(stats.chi2.sf(statistic, k - 1))


def cif_rows(
    fit, key: str, label: str, times: Sequence[float], events: int, *, policy: Policy = NONE
) -> list[dict]:
    """Result rows ``{key}.cif_{t}m`` at ``times`` months (numerator = events of the cause,
    denominator = patients); NaN past the longest follow-up."""
    n = len(fit.durations)
    rows = []
    for t in times:
        value, low, high = cif_at(fit, t, policy=policy)
        rows.append(
            {
                "key": Key.part_of(key, f"cif_{t:g}m"),
                "label": f"{label} at {t:g} months",
                "numerator": events,
                "denominator": n,
                "estimate": value,
                "ci_low": low,
                "ci_high": high,
                "method": CIF_METHOD,
                "unit": "proportion",
            }
        )
    return rows


def cif_table(
    fits: Mapping[str, object],
    times: Sequence[float],
    events: Mapping[str, int],
    *,
    policy: Policy = NONE,
) -> pd.DataFrame:
    """One row per curve (label -> fit): patients, events and the incidence at ``times``
    months with 95 % CIs; counts go through the share-run suppression."""
    from helpers import narrative

    rows = []
    for name, fit in fits.items():
        n = len(fit.durations)
        small = policy.hidden(n)  # a share run: no incidence of a group below k
        row = {
            "Outcome": name,
            "Patients": narrative.count(n, policy=policy),
            "Events": narrative.count(events[name], policy=policy),
        }
        for t in times:
            value, low, high = cif_at(fit, t, policy=policy)
            row[f"At {t:g} months"] = (
                DASH
                if small
                else "not estimable"
                if math.isnan(value)
                else f"{100 * value:.1f}% (share run: no interval)"
                if policy.active
                else f"{100 * value:.1f}% ({narrative.ci_text(low, high, policy=policy)})"
            )
        rows.append(row)
    return pd.DataFrame(rows)
