"""Survival and cumulative-incidence figures a clinician can paste: the test printed on the
plot, median lines, 95 % bands only where groups stay distinct, and under the axis the
numbers at risk and the cumulative events per group (both through the share-run
suppression). A share run draws no group of fewer than k patients and every other curve
from its rounded steps (:meth:`helpers.suppression.Policy.km_steps` and ``cif_steps``),
without censoring ticks. Times in months.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

from helpers import figures, narrative
from helpers.suppression import NONE, Policy

#: Most x ticks (and count columns) a figure draws.
MAX_TICKS = 10
#: Groups up to which 95 % bands are drawn by default (more overlap into one blur).
MAX_BANDED_GROUPS = 2
#: Line styles of the causes of a cumulative-incidence figure, in order.
CAUSE_STYLES = ("-", "--", ":")


def bands_default(n_groups: int) -> bool:
    """Whether 95 % bands are drawn by default for ``n_groups`` curves."""
    return n_groups <= MAX_BANDED_GROUPS


def annotation_text(
    p: float, hr: tuple[float, float, float] | None = None, test: str = "Log-rank"
) -> str:
    """``"Log-rank p = 0.012\\nHR 1.92 (95% CI 1.29–2.85)"``; the HR line only when given."""
    text = f"{test} {narrative.p_text(p)}"
    if hr is not None and not any(math.isnan(x) for x in hr):
        text += f"\nHR {hr[0]:.2f} (95% CI {hr[1]:.2f}–{hr[2]:.2f})"
    return text


def cumulative_events(durations, events, times: Sequence[float]) -> list[int]:
    """Events observed up to and including each time in ``times`` (months)."""
    durations, events = np.asarray(durations, dtype=float), np.asarray(events, dtype=bool)
    return [int((events & (durations <= t)).sum()) for t in times]


def _ticks(grid: Sequence[float]) -> list[float]:
    return list(grid)[:: math.ceil(len(grid) / MAX_TICKS)]


def _count_rows(
    axes,
    rows: Sequence[tuple[str, object, Sequence[int]]],
    ticks,
    x0: float,
    title: str,
    policy: Policy,
) -> None:
    """Rows of counts (label, colour, counts at ``ticks``) under a plot, left-aligned labels."""
    for i, (name, colour, counts) in enumerate(rows):
        axes.text(x0, i - 0.42, name, ha="left", va="center", color=colour, fontsize="x-small")
        for t, n in zip(ticks, counts):
            axes.text(
                t,
                i,
                narrative.count(n, policy=policy),
                ha="center",
                va="center",
                color=colour,
                fontsize="small",
            )
    axes.set(ylim=(len(rows) - 0.4, -0.7), xticks=[], yticks=[])
    axes.set_title(title, loc="left", fontsize="small")
    axes.grid(False)
    for side in ("top", "right", "left", "bottom"):
        axes.spines[side].set_visible(False)


def _counts_below(ax, risk, events, rows, ticks, x0: float, events_title: str, policy: Policy):
    """The numbers at risk and cumulative events under ``ax`` on its x-axis, labels from ``x0``;
    ``rows``: (label, colour, months, event codes with 0 = censored)."""
    from helpers.survival import at_risk

    at = [(n, c, at_risk(months, ticks)) for n, c, months, _ in rows]
    _count_rows(risk, at, ticks, x0, "Number at risk", policy)
    cumulative = [(n, c, cumulative_events(t, np.asarray(e) != 0, ticks)) for n, c, t, e in rows]
    _count_rows(events, cumulative, ticks, x0, events_title, policy)
    for axes in (risk, events):
        axes.set_xlim(ax.get_xlim())


def _annotate(ax, annotation: str, y: float, va: str) -> None:
    """``annotation`` (a test, :func:`annotation_text`) at the right of ``ax``, ``y`` in axes units."""
    if annotation:
        ax.text(0.98, y, annotation, transform=ax.transAxes, ha="right", va=va, fontsize="small")


def _layout(n_groups: int):
    height = 0.3 + 0.45 * n_groups
    return figures.new_figure(
        7.0, 4.4 + 0.9 * n_groups, nrows=3, gridspec_kw={"height_ratios": [4, height, height]}
    )


def plot_km(
    fits: Mapping[str, object],
    grid: Sequence[float],
    title: str,
    ylabel: str,
    *,
    annotation: str = "",
    bands: bool | None = None,
    xlabel: str = "Months from the start of blinatumomab",
    policy: Policy = NONE,
) -> Figure:
    """Kaplan-Meier curves (label -> lifelines fit) with censoring ticks, a dotted line to
    each reached median, ``annotation`` (e.g. :func:`annotation_text`) at the top right, and the
    numbers at risk and cumulative events on ``grid`` (months from 0). ``bands``: 95 %
    bands, by default only for up to :data:`MAX_BANDED_GROUPS` curves."""
    from helpers.survival import median_with_ci, rounded_steps

    fits = {name: fit for name, fit in fits.items() if not policy.hidden(len(fit.durations))}
    bands = bands_default(len(fits)) if bands is None else bands
    ticks = _ticks(grid)
    with figures.house_style():
        fig, (ax, risk, events) = _layout(len(fits))
        colours = sns.color_palette("colorblind", len(fits))
        pad = 0.04 * (grid[-1] - grid[0])
        for colour, (name, fit) in zip(colours, fits.items()):
            if policy.active:  # each step a multiple of 5 events; no patient's own time
                steps = rounded_steps(fit, policy=policy)
                ax.step(steps["time"], steps["survival"], where="post", color=colour, label=name)
                if bands:
                    ax.fill_between(
                        steps["time"],
                        steps["low"].fillna(steps["survival"]),
                        steps["high"].fillna(steps["survival"]),
                        step="post",
                        color=colour,
                        alpha=0.15,
                        linewidth=0,
                    )
            else:
                fit.plot_survival_function(
                    ax=ax,
                    ci_show=bands,
                    ci_alpha=0.15,
                    show_censors=True,
                    color=colour,
                    label=name,
                    censor_styles={"marker": "|", "ms": 6},
                )
            median = median_with_ci(fit, policy=policy)[0]
            if not math.isnan(median):
                ax.plot(
                    [grid[0] - pad, median, median], [0.5, 0.5, 0], color=colour, lw=0.8, ls=":"
                )
        ax.set(
            title=title,
            ylabel=ylabel,
            xlabel=xlabel,
            ylim=(0, 1.02),
            xlim=(grid[0] - pad, grid[-1] + pad),
            xticks=ticks,
        )
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="lower left", frameon=False, fontsize="small")
        _annotate(ax, annotation, 0.97, "top")
        rows = [(n, c, f.durations, f.event_observed) for c, (n, f) in zip(colours, fits.items())]
        _counts_below(ax, risk, events, rows, ticks, grid[0] - pad, "Cumulative events", policy)
    return fig


def plot_cif(
    curves: Mapping[str, Mapping[str, object]],
    data: Mapping[str, tuple[np.ndarray, np.ndarray]],
    grid: Sequence[float],
    title: str,
    *,
    annotation: str = "",
    policy: Policy = NONE,
) -> Figure:
    """Cumulative incidence curves: ``curves`` group -> cause name -> Aalen-Johansen fit
    (a colour per group, a line style per cause), ``data`` group -> (months, event codes
    with 0 = censored) for the numbers at risk and cumulative events (any cause) on
    ``grid``. Bands by default as :func:`plot_km`, counted in groups x causes."""
    one_group = len(curves) == 1  # before hiding: a hidden group's curves are still named as its
    curves = {g: by_cause for g, by_cause in curves.items() if not policy.hidden(len(data[g][0]))}
    n_curves = sum(len(c) for c in curves.values())
    bands = bands_default(n_curves)
    ticks = _ticks(grid)
    with figures.house_style():
        fig, (ax, risk, events) = _layout(len(curves))
        colours = sns.color_palette("colorblind", len(curves))
        pad = 0.04 * (grid[-1] - grid[0])
        for colour, (group, by_cause) in zip(colours, curves.items()):
            for style, (cause, fit) in zip(CAUSE_STYLES, by_cause.items()):
                name = cause if one_group else f"{cause}, {group}"
                if policy.active:  # rounded steps: each a multiple of 5 events
                    steps = policy.cif_steps(*data[group])
                    column = f"cif_{fit.source[2]}"
                    ax.step(
                        steps["time"],
                        steps[column] if column in steps else 0 * steps["time"],
                        where="post",
                        color=colour,
                        ls=style,
                        label=name,
                    )
                    continue
                curve = fit.cumulative_density_.iloc[:, 0]
                ax.step(
                    curve.index, curve.to_numpy(), where="post", color=colour, ls=style, label=name
                )
                if bands:
                    band = fit.confidence_interval_
                    ax.fill_between(
                        band.index,
                        band.min(axis=1),
                        band.max(axis=1),
                        step="post",
                        color=colour,
                        alpha=0.12,
                        lw=0,
                    )
        ax.set(
            title=title,
            ylabel="Cumulative incidence (proportion)",
            xlabel="Months from CR",
            ylim=(0, 1.02),
            xlim=(grid[0] - pad, grid[-1] + pad),
            xticks=ticks,
        )
        ax.legend(loc="upper left", frameon=False, fontsize="small")
        # incidence rises to the top right: the test sits above the low curves
        _annotate(ax, annotation, 0.3, "bottom")
        rows = [(g, c, *data[g]) for c, g in zip(colours, curves)]
        after_cr = "Cumulative events (relapse or death)"
        _counts_below(ax, risk, events, rows, ticks, grid[0] - pad, after_cr, policy)
    return fig


def caption(what: str, fits: Mapping[str, object], *, policy: Policy = NONE) -> str:
    """Figure caption of :func:`plot_km`: ``what``, each curve with its patients (through the
    share-run suppression) and what the lines, bands and rows below show."""
    bands = bands_default(len(fits))
    groups = "; ".join(
        f"{name} (n = {narrative.count(len(fit.durations), policy=policy)})"
        for name, fit in fits.items()
    )
    shaded = (
        "Shaded: pointwise 95% log(-log) intervals"
        if bands
        else "95% intervals in the table above, not drawn"
    )
    return (
        f"{what}: {groups}. {shaded}; dotted lines mark each median reached; numbers at risk and cumulative "
        "events below the axis."
    )


def cif_caption(
    what: str,
    data: Mapping[str, tuple[object, object]],
    bands: bool | None = None,
    *,
    policy: Policy = NONE,
) -> str:
    """Figure caption of :func:`plot_cif` (``data`` group -> (months, codes))."""
    bands = bands_default(2 * len(data)) if bands is None else bands
    groups = "; ".join(
        f"{name} (n = {narrative.count(len(months), policy=policy)})"
        for name, (months, _) in data.items()
    )
    shaded = (
        "Shaded: pointwise 95% intervals"
        if bands
        else "95% intervals in the table above, not drawn"
    )
    return f"{what}: {groups}. {shaded}; numbers at risk and cumulative events below the axis."
