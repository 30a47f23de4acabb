"""Seaborn figures, drawn without pyplot and saved deterministically.

Figures are built on a bare :class:`matplotlib.figure.Figure` (never
``pyplot``), so nothing is shown or kept alive behind the notebook's back and
no ``<Figure size ...>`` repr lands in stored outputs. :func:`save_figure`
writes PNG and SVG with fixed metadata (no dates, fixed SVG hash salt) and shows
the PNG in the notebook.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from helpers import contract

#: rc settings for reproducible files: fixed SVG ids, text kept as paths.
_SAVE_RC = {"svg.hashsalt": "bonifacio-2022", "svg.fonttype": "path"}
_PNG_METADATA = {"Software": None}
_SVG_METADATA = {"Date": None, "Creator": None}
#: One colour per debulking category, stable across figures.
CATEGORY_PALETTE = dict(zip(contract.column("debulking_category").codes, sns.color_palette("colorblind", 4)))


@contextmanager
def house_style() -> Iterator[None]:
    """Seaborn's whitegrid style and notebook context, for the duration of a block only."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook", font_scale=0.9):
        yield


def new_figure(width: float = 7.0, height: float = 4.5, nrows: int = 1, ncols: int = 1, **kwargs):
    """A pyplot-free figure and its axes (inches)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def save_figure(fig: Figure, name: str, output_dir: str | Path, *, show: bool = True,
                dpi: int = 150) -> None:
    """Write ``figures/<name>.png`` and ``.svg`` under ``output_dir`` and show the PNG.

    Both files are byte-for-byte reproducible for the same data and package
    versions. The notebook output is a single ``image/png`` (nbval skips images).
    Returns nothing, so a notebook cell ending with it prints no repr.
    """
    folder = Path(output_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    with matplotlib.rc_context(_SAVE_RC):
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, metadata=_PNG_METADATA)
        png.write_bytes(buffer.getvalue())
        fig.savefig(svg, format="svg", metadata=_SVG_METADATA)
    if show:
        from IPython.display import display

        display({"image/png": base64.b64encode(buffer.getvalue()).decode("ascii")}, raw=True)


def category_label(code: str) -> str:
    """Display label of a debulking category code."""
    return contract.code_label("debulking_category", code)


def plot_blasts_before_after(cohort: pd.DataFrame, high_cutoff: float = 50,
                             low_cutoff: float = 20) -> Figure:
    """Each patient's bone-marrow blasts before and after debulking, by category.

    One panel per debulking category, one line per patient with both values;
    patients missing either value are left out (the title says how many).
    Dashed lines mark the blast cut-offs.
    """
    both = cohort.dropna(subset=["bmb_baseline_pct", "bmb_post_debulking_pct"])
    long = both.melt(id_vars=["patient_id", "debulking_category"],
                     value_vars=["bmb_baseline_pct", "bmb_post_debulking_pct"],
                     var_name="time", value_name="blasts")
    long["time"] = long["time"].map({"bmb_baseline_pct": "Before", "bmb_post_debulking_pct": "After"})
    categories = list(contract.column("debulking_category").codes)
    with house_style():
        fig, axes = new_figure(10, 3.6, ncols=len(categories), sharey=True)
        for ax, category in zip(axes, categories):
            part = long[long["debulking_category"] == category]
            if len(part):
                sns.lineplot(data=part, x="time", y="blasts", units="patient_id", estimator=None,
                             marker="o", color=CATEGORY_PALETTE[category], ax=ax, sort=False)
            n = part["patient_id"].nunique()
            ax.set_title(f"{category_label(category)}\n(n={n})", fontsize=9)
            ax.set_xlabel("")
            ax.set_xticks([0, 1], ["Before", "After"])
            ax.set_xlim(-0.3, 1.3)
            for cut in (low_cutoff, high_cutoff):
                ax.axhline(cut, color="grey", linestyle="--", linewidth=0.8)
        axes[0].set_ylabel("Bone marrow blasts (%)")
        axes[0].set_ylim(-3, 103)
        left_out = len(cohort) - len(both)
        fig.suptitle(f"Blasts before and after debulking ({len(both)} patients with both "
                     f"values; {left_out} without a post-debulking or baseline value left out)",
                     fontsize=10)
    return fig


def plot_forest(rows: pd.DataFrame, *, group: str = "group", label: str = "label",
                reference: float | None = None, reference_label: str = "",
                xlabel: str = "Rate (%) with exact 95% CI", title: str = "") -> Figure:
    """A forest plot of rates with confidence intervals, one row per line of ``rows``.

    Parameters
    ----------
    rows : DataFrame
        One row per estimate with ``estimate``, ``ci_low``, ``ci_high`` (proportions
        in [0, 1]), a row ``label`` and a ``group`` (rows are drawn top to bottom in
        the order given; a group's name heads its block). Rows whose estimate is
        missing (empty groups) are drawn as a label only.
    reference : float, optional
        A vertical reference line (proportion), e.g. the overall rate.
    """
    rows = rows.reset_index(drop=True)
    positions, ticks, tick_labels, headers, y = [], [], [], [], 0.0
    previous = object()
    for _, row in rows.iterrows():
        if row[group] != previous:
            ticks.append(y)
            tick_labels.append(str(row[group]))
            headers.append(len(ticks) - 1)
            y += 1
            previous = row[group]
        positions.append(y)
        ticks.append(y)
        tick_labels.append(str(row[label]))
        y += 1
    plot = rows.assign(y=positions, pct=100 * rows["estimate"],
                       lo=100 * rows["ci_low"], hi=100 * rows["ci_high"])
    with house_style():
        fig, ax = new_figure(7.5, 0.32 * y + 1.2)
        shown = plot.dropna(subset=["pct"])
        ax.hlines(shown["y"], shown["lo"], shown["hi"], color="0.35", linewidth=1.4)
        sns.scatterplot(data=shown, x="pct", y="y", hue=group, legend=False, s=45,
                        palette="colorblind", ax=ax, zorder=3)
        if reference is not None:
            ax.axvline(100 * reference, color="grey", linestyle="--", linewidth=0.9)
            if reference_label:
                ax.text(100 * reference, -0.9, reference_label, ha="center", va="bottom",
                        fontsize=8, color="grey")
        ax.set_yticks(ticks, tick_labels)
        for i in headers:
            ax.get_yticklabels()[i].set_fontweight("bold")
        ax.set_ylim(y, -1.2)
        ax.set_xlim(-2, 102)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("")
        if title:
            ax.set_title(title, fontsize=10)
    return fig

