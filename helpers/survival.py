"""Kaplan-Meier machinery for the time-to-event cells: values at a time, result rows, table, figure.

Fits come from lifelines' ``KaplanMeierFitter``. Its pointwise 95 % interval for
S(t) is the exponential Greenwood interval, computed on log(-log S(t)) (R's
``survfit(..., conf.type = "log-log")``); the median is the first time with
S(t) <= 0.5 and its interval the times where that band crosses 0.5
(Brookmeyer-Crowley). Times are in months. Nothing happens on import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import figures, narrative, suppression

KM_METHOD = "Kaplan-Meier; 95% CI exponential Greenwood on log(-log S)"
MEDIAN_METHOD = ("Kaplan-Meier median (first time S <= 0.5); 95% CI where the log(-log) band "
                 "crosses 0.5 (Brookmeyer-Crowley)")
AT_RISK_METHOD = "patients with follow-up of at least this many months"
#: ``fit_options`` of lifelines' ``CoxPHFitter`` and ``CoxTimeVaryingFitter``: by default
#: they stop once the Newton decrement is below 1e-7, which can leave the fourth digit of
#: a hazard ratio or its interval unsettled; with this they iterate until the
#: log-likelihood changes by less than 1e-9 (relative), as R's ``coxph`` does.
COX_FIT_OPTIONS = {"precision": 1e-12}
#: Most x ticks (and at-risk columns) :func:`plot_km` draws.
MAX_TICKS = 10


def at_risk(durations, times: Sequence[float]) -> list[int]:
    """Patients at risk at each time: those followed for at least that long (R's ``n.risk``).

    Parameters
    ----------
    durations : array-like of float
        Follow-up times (months); no missing values.
    times : sequence of float
        Months.

    Returns
    -------
    list of int
        One count per time, never increasing with time.
    """
    durations = np.asarray(durations, dtype=float)
    return [int((durations >= t).sum()) for t in times]


def survival_at(fit, t: float) -> tuple[float, float, float]:
    """S(t) and its 95 % interval from a fitted ``KaplanMeierFitter``.

    Parameters
    ----------
    fit : lifelines.KaplanMeierFitter
        Fitted.
    t : float
        Months.

    Returns
    -------
    tuple of float
        ``(estimate, low, high)``: the step function's value at ``t`` (right
        continuous); all NaN past the longest follow-up unless the curve has
        reached 0 (then 0 from there on). Where S(t) = 0 the log(-log)
        interval does not exist: NaN bounds (R gives NA).
    """
    curve = fit.survival_function_.iloc[:, 0]
    if t > float(np.max(fit.durations)) and curve.iloc[-1] > 0:
        return math.nan, math.nan, math.nan
    band = fit.confidence_interval_survival_function_
    i = int(curve.index.searchsorted(t, side="right")) - 1
    if curve.iloc[i] == 0:
        return 0.0, math.nan, math.nan
    return float(curve.iloc[i]), float(band.iloc[i, 0]), float(band.iloc[i, 1])


def median_with_ci(fit) -> tuple[float, float, float]:
    """Median survival and its 95 % interval; NaN where not reached.

    Parameters
    ----------
    fit : lifelines.KaplanMeierFitter
        Fitted.

    Returns
    -------
    tuple of float
        ``(median, low, high)`` in months.
    """
    from lifelines.utils import median_survival_times

    low, high = median_survival_times(fit.confidence_interval_).iloc[0]
    values = (float(fit.median_survival_time_), float(low), float(high))
    return tuple(math.nan if math.isinf(v) else v for v in values)


def km_rows(fit, key: str, label: str, times: Sequence[float], grid: Sequence[float]) -> list[dict]:
    """Result rows of one Kaplan-Meier curve: median, survival at ``times``, numbers at risk on ``grid``.

    Parameters
    ----------
    fit : lifelines.KaplanMeierFitter
        Fitted.
    key : str
        Key stem, e.g. ``km_os[high_burden=True]``; rows get ``.median``,
        ``.survival_6m``, ``.at_risk_12m``... appended.
    label : str
        Who the curve describes, e.g. ``"OS, high tumour burden"``.
    times : sequence of float
        Months at which survival is reported.
    grid : sequence of float
        Months at which the number at risk is reported.

    Returns
    -------
    list of dict
        Rows for :func:`helpers.results.result_frame`: the median row has
        numerator = events and denominator = patients; survival rows are
        proportions; at-risk rows count patients. Not estimable values are NaN.
    """
    n, events = len(fit.durations), int(np.sum(fit.event_observed))
    median, low, high = median_with_ci(fit)
    rows = [{"key": f"{key}.median", "label": f"{label}: median (months)", "numerator": events,
             "denominator": n, "estimate": median, "ci_low": low, "ci_high": high,
             "method": MEDIAN_METHOD, "unit": "months"}]
    for t in times:
        s, s_low, s_high = survival_at(fit, t)
        rows.append({"key": f"{key}.survival_{t:g}m", "label": f"{label}: survival at {t:g} months",
                     "denominator": n, "estimate": s, "ci_low": s_low, "ci_high": s_high,
                     "method": KM_METHOD, "unit": "proportion"})
    for t, count in zip(grid, at_risk(fit.durations, grid)):
        rows.append({"key": f"{key}.at_risk_{t:g}m", "label": f"{label}: at risk at {t:g} months",
                     "numerator": count, "denominator": n, "estimate": count,
                     "method": AT_RISK_METHOD, "unit": "patients"})
    return rows


def months_text(value: float, low: float, high: float) -> str:
    """``"9.6 months (95% CI 7.1–12.0)"``; ``"not reached"`` for NaN.

    Parameters
    ----------
    value, low, high : float
        Months; NaN where not reached (an upper limit is then open).

    Returns
    -------
    str
    """
    low_text, high_text = ("not reached" if math.isnan(x) else f"{x:.1f}" for x in (low, high))
    head = "not reached" if math.isnan(value) else f"{value:.1f} months"
    return f"{head} (95% CI {low_text}–{high_text})"


def km_table(fits: Mapping[str, object], times: Sequence[float]) -> pd.DataFrame:
    """One display row per curve: patients, events, median and survival at ``times``, with 95 % CIs.

    Parameters
    ----------
    fits : mapping of str to lifelines.KaplanMeierFitter
        Group label -> fitted curve, in display order.
    times : sequence of float
        Months.

    Returns
    -------
    DataFrame
        Columns ``Group``, ``Patients``, ``Events``, ``Median`` and one
        ``Survival at T months`` per time (percent with its interval, or
        ``not estimable`` past the longest follow-up; see :func:`survival_at`).
    """
    rows = []
    for name, fit in fits.items():
        n, events = len(fit.durations), int(np.sum(fit.event_observed))
        row = {"Group": name, "Patients": narrative.count(n) if suppression.hidden(n) else n,  # "<5" in a share run
               "Events": narrative.count(events) if suppression.hidden(events) else events,
               "Median": months_text(*median_with_ci(fit))}
        for t in times:
            s, low, high = survival_at(fit, t)
            row[f"Survival at {t:g} months"] = ("not estimable" if math.isnan(s)
                                                else f"{100 * s:.1f}% ({narrative.ci_text(low, high)})")
        rows.append(row)
    return pd.DataFrame(rows)


def plot_km(fits: Mapping[str, object], grid: Sequence[float], title: str, ylabel: str,
            xlabel: str = "Months from the start of blinatumomab") -> Figure:
    """Kaplan-Meier curves with 95 % bands and censoring ticks, numbers at risk underneath.

    Parameters
    ----------
    fits : mapping of str to lifelines.KaplanMeierFitter
        Group label -> fitted curve (one colour each, in order).
    grid : sequence of float
        Evenly spaced months, from 0 past the longest follow-up; the x ticks and
        the at-risk counts (:func:`at_risk`) use every point, or every k-th so
        that at most :data:`MAX_TICKS` are drawn.
    title, ylabel, xlabel : str
        Labels.

    Returns
    -------
    matplotlib.figure.Figure
        Two stacked axes on the same time scale: the curves, then the at-risk
        table (one row per group, labelled above its counts).
    """
    ticks = list(grid)[::math.ceil(len(grid) / MAX_TICKS)]
    with figures.house_style():
        fig, (ax, risk) = figures.new_figure(7.0, 4.4 + 0.45 * len(fits), nrows=2,
                                             gridspec_kw={"height_ratios": [4, 0.3 + 0.45 * len(fits)]})
        colours = sns.color_palette("colorblind", len(fits))
        for colour, (name, fit) in zip(colours, fits.items()):
            fit.plot_survival_function(ax=ax, ci_show=True, show_censors=True, color=colour, label=name,
                                       censor_styles={"marker": "|", "ms": 6})
        pad = 0.04 * (grid[-1] - grid[0])  # room for the at-risk counts at time 0
        ax.set(title=title, ylabel=ylabel, xlabel=xlabel, ylim=(0, 1.02), xlim=(grid[0] - pad, grid[-1] + pad),
               xticks=ticks)
        ax.legend(loc="best", frameon=False, fontsize="small")
        for row, (colour, (name, fit)) in enumerate(zip(colours, fits.items())):
            risk.text(grid[0] - pad, row - 0.42, name, ha="left", va="center", color=colour, fontsize="x-small")
            for t, count in zip(ticks, at_risk(fit.durations, ticks)):
                risk.text(t, row, narrative.count(count), ha="center", va="center", color=colour, fontsize="small")
        risk.set(ylim=(len(fits) - 0.4, -0.7), xlim=ax.get_xlim(), xticks=[], yticks=[])
        risk.set_title("Number at risk", loc="left", fontsize="small")
        risk.grid(False)
        for side in ("top", "right", "left", "bottom"):
            risk.spines[side].set_visible(False)
    return fig
