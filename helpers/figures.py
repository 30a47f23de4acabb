"""Seaborn figures on a bare matplotlib Figure (never pyplot: nothing kept alive, no
``<Figure size ...>`` repr in stored outputs), saved as byte-stable PNG and SVG."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import matplotlib.text
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import contract, suppression
from helpers.parameters import default

#: rc settings for reproducible files: fixed SVG ids, text kept as paths.
_SAVE_RC = {"svg.hashsalt": "bonifacio-2022", "svg.fonttype": "path"}
_PNG_METADATA = {"Software": None}
_SVG_METADATA = {"Date": None, "Creator": None}
#: One colour per debulking category, stable across figures.
CATEGORY_PALETTE = dict(
    zip(contract.column("debulking_category").codes, sns.color_palette("colorblind", 4))
)
#: Most patients :func:`plot_blasts_before_after` draws one line each for; above it
#: the figure shows each category's median and interquartile range instead
#: (thousands of overlapping lines are unreadable and take minutes to draw).
MAX_PATIENT_LINES = 500
#: Words every figure of a share run carries in its title and alt text.
AGGREGATE_VIEW = "aggregate view (share run)"


@contextmanager
def house_style() -> Iterator[None]:
    """Seaborn's whitegrid style and notebook context, for the duration of a block only."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        yield


def new_figure(width: float = 7.0, height: float = 4.5, nrows: int = 1, ncols: int = 1, **kwargs):
    """A pyplot-free figure and its axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def save_figure(
    fig: Figure,
    name: str,
    output_dir: str | Path,
    *,
    alt: str,
    show: bool = True,
    policy: suppression.Policy = suppression.NONE,
) -> None:
    """Write ``figures/<name>.png`` and ``.svg`` under ``output_dir`` and show the PNG (one ``image/png`` output).

    ``alt`` (what the figure shows, for how many patients) is both files' ``Description`` and the image's alt text.
    """
    if not alt.strip():
        raise ValueError(f"figure {name!r}: alt text is empty; say what the figure shows and its n")
    alt = policy.scrub(alt)  # a share run: counts in the caption, labels and titles as shown
    for text in fig.findobj(matplotlib.text.Text):
        text.set_text(policy.scrub(text.get_text()))
    # tick labels are redrawn from these
    for axis in (a for ax in fig.axes for a in (ax.xaxis, ax.yaxis)):
        formatter = axis.get_major_formatter()
        if isinstance(formatter, matplotlib.ticker.FixedFormatter):
            formatter.seq = [policy.scrub(str(t)) for t in formatter.seq]
        elif isinstance(formatter, matplotlib.ticker.FuncFormatter):  # labels given with set_ticks
            formatter.func = lambda x, pos, f=formatter.func: policy.scrub(str(f(x, pos)))
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    with matplotlib.rc_context(_SAVE_RC):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=150, metadata={**_PNG_METADATA, "Description": alt})
        png.write_bytes(buffer.getvalue())
        text = io.StringIO()
        fig.savefig(text, format="svg", metadata={**_SVG_METADATA, "Description": alt})
        svg.write_text(_numbered_clip_ids(text.getvalue()), encoding="utf-8")
    if show:
        from IPython.display import display

        display(
            {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")},
            metadata={"image/png": {"alt": alt}},
            raw=True,
        )


def _numbered_clip_ids(svg: str) -> str:
    """The SVG with its clip-path ids numbered in order of definition (``clip1``...).

    matplotlib names a clip rectangle by a hash of its coordinates at full precision, whose
    last bits can differ between runs of the same figure; the file would then differ too.
    """
    names = {
        old: f"clip{i}" for i, old in enumerate(re.findall(r'<clipPath id="(p[0-9a-f]+)"', svg), 1)
    }
    if not names:
        return svg
    return re.sub(
        r'(?<=id=")p[0-9a-f]+(?=")|(?<=url\(#)p[0-9a-f]+(?=\))',
        lambda m: names.get(m.group(0), m.group(0)),
        svg,
    )


def binned_rates(
    x: pd.Series,
    outcome: pd.Series,
    min_cell: int = default("min_cell"),
    width: float = 10,
    *,
    policy: suppression.Policy = suppression.NONE,
) -> pd.DataFrame:
    """Share of ``outcome`` (``low``, ``high``, ``n``, ``events``, ``rate``) in bins of ``x`` of at least
    ``min_cell`` patients (in a share run ``rate`` is of the rounded counts).

    Bins of ``width`` from 0 join left to right until one holds ``min_cell``; a short last bin
    joins the one before. Edges are multiples of ``width`` (never a patient's value), the last
    capped at 100. Patients missing ``x`` or the outcome are left out.
    """
    frame = pd.DataFrame({"x": x.astype(float), "y": outcome.astype(float)}).dropna()
    cells = np.floor(frame["x"] / width).astype(int)
    per_cell = frame.groupby(cells)["y"].agg(["count", "sum"]).sort_index()
    bins, start, n, events = [], None, 0, 0.0
    for cell, row in per_cell.iterrows():
        start = cell if start is None else start
        n, events = n + int(row["count"]), events + float(row["sum"])
        if n >= min_cell:
            bins.append([start * width, (cell + 1) * width, n, events])
            start, n, events = None, 0, 0.0
    if n and bins:  # a short last bin joins the one before
        bins[-1][1:] = [(per_cell.index.max() + 1) * width, bins[-1][2] + n, bins[-1][3] + events]
    out = pd.DataFrame(bins, columns=["low", "high", "n", "events"])
    out["high"] = out["high"].clip(upper=100)
    out["events"] = out["events"].astype(int)
    out["rate"] = out["events"] / out["n"]
    if policy.active:  # a share run: each bin's share from its rounded counts
        out["rate"] = [policy.rate(k, n)[0] for k, n in zip(out["events"], out["n"])]
    return out


def plot_blasts_before_after(
    cohort: pd.DataFrame,
    high_cutoff: float = default("bmb_high_cutoff"),
    low_cutoff: float = default("bmb_low_cutoff"),
    *,
    max_lines: int = MAX_PATIENT_LINES,
    share_safe: bool = False,
    min_cell: int = default("min_cell"),
) -> Figure:
    """Bone-marrow blasts before and after debulking, one panel per category, dashed cut-offs.

    One line per patient with both values (the title counts those left out); above
    ``max_lines`` patients, or with ``share_safe``, each category's median and interquartile
    range (``share_safe``: only categories of ``min_cell`` or more, counts hidden as in a share run).
    """
    both = cohort.dropna(subset=["bmb_baseline_pct", "bmb_post_debulking_pct"])
    long = blasts_long(both, ["patient_id", "debulking_category"])
    categories = list(contract.column("debulking_category").codes)
    n = both["debulking_category"].astype(str).value_counts().reindex(categories, fill_value=0)
    left_out = len(cohort) - len(both)
    # One row summing to the cohort: a share run suppresses the left-out count with the categories.
    labels = (
        suppression.Policy.for_run(share_safe, min_cell)
        .hide_small(pd.Series([*n, left_out], index=[*categories, "left out"]))
        .astype(str)
    )
    per_patient = not share_safe and len(both) <= max_lines
    with house_style():
        fig, axes = new_figure(10, 3.6, ncols=len(categories), sharey=True)
        for ax, category in zip(axes, categories):
            part = long[long["debulking_category"] == category]
            if per_patient and len(part):
                sns.lineplot(
                    data=part,
                    x="time",
                    y="blasts",
                    units="patient_id",
                    estimator=None,
                    marker="o",
                    color=CATEGORY_PALETTE[category],
                    ax=ax,
                    sort=False,
                )
            elif n[category] and (n[category] >= min_cell or not share_safe):
                _draw_median_iqr(ax, part, CATEGORY_PALETTE[category])
            elif n[category]:  # a share run: no mark for fewer than min_cell patients
                panel_note(
                    ax, f"fewer than {min_cell} patients:\nnot drawn", fontsize=8, color="0.4"
                )
            _blasts_panel(ax, category, labels[category], low_cutoff, high_cutoff)
        axes[0].set_ylabel("Bone marrow blasts (%)")
        axes[0].set_ylim(-3, 103)
        if share_safe:
            title = (
                f"Blasts before and after debulking, {AGGREGATE_VIEW}: median and interquartile "
                f"range per category with at least {min_cell} patients\n({labels['left out']} "
                "without a post-debulking or baseline value left out)"
            )
        else:
            what = (
                "Blasts before and after debulking "
                if per_patient
                else "Blasts before and after debulking: median and interquartile range per "
                f"category, not one line per patient (more than {max_lines} patients)\n"
            )
            title = (
                f"{what}({len(both)} patients with both values; {left_out} without a "
                "post-debulking or baseline value left out)"
            )
        fig.suptitle(title, fontsize=10)
    return fig


def panel_note(ax, text: str, **style) -> None:
    """``text`` in the middle of a panel that has nothing to draw (``style``: font size, colour)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, **style)


def _blasts_panel(ax, category: str, n: object, low_cutoff: float, high_cutoff: float) -> None:
    ax.set_title(f"{contract.code_label('debulking_category', category)}\n(n={n})", fontsize=9)
    ax.set_xlabel("")
    ax.set_xticks([0, 1], ["Before", "After"])
    ax.set_xlim(-0.3, 1.3)
    for cut in (low_cutoff, high_cutoff):
        ax.axhline(cut, color="grey", linestyle="--", linewidth=0.8)


def blasts_long(both: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    long = both.melt(
        id_vars=ids,
        value_vars=["bmb_baseline_pct", "bmb_post_debulking_pct"],
        var_name="time",
        value_name="blasts",
    )
    long["time"] = long["time"].map(
        {"bmb_baseline_pct": "Before", "bmb_post_debulking_pct": "After"}
    )
    return long


def blasts_median_iqr(long: pd.DataFrame) -> pd.DataFrame:
    """Median and interquartile range of blasts at each time point."""
    grouped = long.groupby("time", sort=False)["blasts"]
    summary = pd.DataFrame(
        {"median": grouped.median(), "q1": grouped.quantile(0.25), "q3": grouped.quantile(0.75)}
    )
    return summary.reindex([t for t in ("Before", "After") if t in summary.index])


def _draw_median_iqr(ax, part: pd.DataFrame, colour) -> None:
    summary = blasts_median_iqr(part)
    x = [0 if t == "Before" else 1 for t in summary.index]
    ax.vlines(x, summary["q1"], summary["q3"], color=colour, linewidth=2.5, alpha=0.6)
    ax.plot(x, summary["median"], marker="o", color=colour)


def plot_forest(
    rows: pd.DataFrame,
    *,
    reference: float | None = None,
    reference_label: str = "",
    xlabel: str = "Rate (%) with exact 95% CI",
) -> Figure:
    """A forest plot of rates with confidence intervals, one row per line of ``rows``."""
    rows = rows.reset_index(drop=True)
    positions, ticks, tick_labels, headers, y = [], [], [], [], 0.0
    previous = object()
    for _, row in rows.iterrows():
        if row["group"] != previous:
            ticks.append(y)
            tick_labels.append(str(row["group"]))
            headers.append(len(ticks) - 1)
            y += 1
            previous = row["group"]
        positions.append(y)
        ticks.append(y)
        tick_labels.append(str(row["label"]))
        y += 1
    plot = rows.assign(
        y=positions, pct=100 * rows["estimate"], lo=100 * rows["ci_low"], hi=100 * rows["ci_high"]
    )
    longest = max((len(t) for t in tick_labels), default=0)
    with house_style():
        # labels take about 0.075 inch per character at this font size; the plot keeps 5 inches
        fig, ax = new_figure(5.5 + 0.075 * longest, 0.32 * y + 1.2)
        shown = plot.dropna(subset=["pct"])
        ax.hlines(shown["y"], shown["lo"], shown["hi"], color="0.35", linewidth=1.4)
        sns.scatterplot(
            data=shown,
            x="pct",
            y="y",
            hue="group",
            legend=False,
            s=45,
            palette="colorblind",
            ax=ax,
            zorder=3,
        )
        if reference is not None:
            ax.axvline(100 * reference, color="grey", linestyle="--", linewidth=0.9)
            if reference_label:
                ax.text(
                    100 * reference,
                    -0.9,
                    reference_label,
                    ha="center",
                    va="bottom",
                    fontsize=8,
                    color="grey",
                )
        ax.set_yticks(ticks, tick_labels)
        for i in headers:
            ax.get_yticklabels()[i].set_fontweight("bold")
        ax.set_ylim(y, -1.2)
        ax.set_xlim(-2, 102)
        ax.set_xticks(range(0, 101, 20))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("")
    return fig
