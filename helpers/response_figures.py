"""Figures of the response and CRS analyses (notebooks 03 and 04): they draw, every number comes from the data passed in."""

from __future__ import annotations

import textwrap

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from helpers import contract, suppression
from helpers.figures import house_style, new_figure
from helpers.derived import CRS_STATES
from helpers.response import PatientFlow, burden_label

#: Colours of the CRS record states (CRS, no CRS, not recorded).
CRS_PALETTE = dict(zip(CRS_STATES, ("#d55e00", "#0072b2", "#999999")))


def plot_cr_mrd_by_burden(cr_rates: pd.DataFrame, mrd_rates: pd.DataFrame, *, high_cutoff: float = 50,
                          note: str = "") -> Figure:
    """The paper's Figure 1: CR and complete MRD response by baseline blasts (< / >= cut-off).

    ``cr_rates``, ``mrd_rates``: ``rates`` of RateTables by ``high_burden`` (the
    ``missing`` level is left out); bars show %, labels n/N; ``note`` under the plot.
    """
    outcomes = {"CR (CR, CRp, CRi)": cr_rates, "Complete MRD response (of evaluable CR)": mrd_rates}
    long = pd.concat([
        rates[rates["level"].astype(str) != "missing"].assign(outcome=name)
        for name, rates in outcomes.items()], ignore_index=True)
    long["group"] = [f"Blasts before debulking {burden_label(lv, high_cutoff)}" for lv in long["level"]]
    long["pct"] = (100 * long["estimate"].astype(float)).fillna(0)  # an empty group draws no bar
    hidden = long["numerator"].map(suppression.hidden) | long["denominator"].map(suppression.hidden)
    long.loc[hidden, "pct"] = 0  # a share run draws no bar for a hidden count: its height would give it back
    with house_style():
        fig, ax = new_figure(6.5, 4.6)
        sns.barplot(data=long, x="group", y="pct", hue="outcome", palette="colorblind", ax=ax,
                    errorbar=None, hue_order=list(outcomes))
        c = suppression.count_text
        for container, name in zip(ax.containers, outcomes):
            part = long[long["outcome"] == name]
            ax.bar_label(container, labels=[f"{c(n)}/{c(d)}\n(–)" if hide else f"{n}/{d}\n({p:.0f}%)" if d else f"{n}/{d}"
                                            for n, d, p, hide in zip(part["numerator"], part["denominator"],
                                                                     part["pct"], hidden[part.index])],
                         fontsize=8, padding=2)
        ax.set_ylim(0, 125)  # room above 100% for the n/N labels; the axis itself ends at 100
        ax.set_yticks(range(0, 101, 20))
        ax.spines["left"].set_bounds(0, 100)
        ax.spines["top"].set_visible(False)
        ax.set_ylabel("Patients (%)")
        ax.set_xlabel("")
        ax.legend(title="", loc="upper right", fontsize=8)
        ax.set_title("CR and MRD response by bone marrow blasts before debulking", fontsize=10)
        if note:
            fig.text(0.01, 0.0, textwrap.fill(note, 110), fontsize=7.5, ha="left", va="bottom",
                     color="0.3")
            fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    return fig


_BOX_W, _BOX_H = 0.28, 0.11


def _box(ax, x: float, y: float, text: str, colour: str) -> None:
    ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                boxstyle="round,pad=0.01", facecolor=colour, edgecolor="0.3",
                                linewidth=0.9))
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    gap = _BOX_H / 2 + 0.007
    ax.annotate("", xy=(end[0], end[1] + gap), xytext=(start[0], start[1] - gap),
                arrowprops={"arrowstyle": "->", "color": "0.3", "linewidth": 0.9})


def plot_patient_flow(flow: PatientFlow) -> Figure:
    """Patient-flow diagram (treated -> cycles -> CR -> MRD assessed -> MRD response; HSCT) from ``flow``."""
    main, side, stop = "#dbe9f6", "#fde0c5", "#eeeeee"
    c = suppression.count_text  # a share run shows counts 1..k-1 as "<k"
    steps = {
        "treated": ((0.4, 0.9), f"Debulking, then blinatumomab\nn = {c(flow.treated)}", main),
        "two": ((0.4, 0.7), f"Received 2 cycles\nn = {c(flow.two_cycles)}", main),
        "one": ((0.8, 0.7), f"1 cycle only (progressed)\nn = {c(flow.one_cycle)}", stop),
        "cr": ((0.4, 0.5), f"CR / CRp / CRi within 2 cycles\nn = {c(flow.cr)}", main),
        "nocr": ((0.8, 0.5), f"No CR after 2 cycles\nn = {c(flow.two_cycles - flow.cr_after_two_cycles)}",
                 stop),
        "mrd": ((0.17, 0.3), f"MRD assessed\nn = {c(flow.mrd_evaluable)}", main),
        "nomrd": ((0.5, 0.3), f"MRD not assessed\nn = {c(flow.cr - flow.mrd_evaluable)}", stop),
        "hsct": ((0.83, 0.3), f"HSCT after blinatumomab\nn = {c(flow.hsct_after)}", side),
        "mrdneg": ((0.17, 0.1), f"Complete MRD response\nn = {c(flow.mrd_negative)}", main),
        "mrdpos": ((0.5, 0.1), f"MRD positive\nn = {c(flow.mrd_evaluable - flow.mrd_negative)}", stop),
    }
    links = [("treated", "two"), ("treated", "one"), ("two", "cr"), ("two", "nocr"),
             ("cr", "mrd"), ("cr", "nomrd"), ("cr", "hsct"), ("mrd", "mrdneg"), ("mrd", "mrdpos")]
    fig, ax = new_figure(7.5, 6.0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0.02, 0.98)
    ax.axis("off")
    for (x, y), text, colour in steps.values():
        _box(ax, x, y, text, colour)
    for a, b in links:
        _arrow(ax, steps[a][0], steps[b][0])
    ax.set_title("Patient flow (counts computed from the data)", fontsize=10)
    return fig


def plot_crs(cohort: pd.DataFrame, *, high_cutoff: float = 50, low_cutoff: float = 20) -> Figure:
    """CRS by debulking category (left) and blasts before vs after debulking by CRS state (right).

    Uses the derived ``crs_status``. Right: one point per patient with both
    blast values (others counted in the title); patients with identical values
    and state are drawn once. Dashed lines mark the cut-offs.
    """
    codes = list(contract.column("debulking_category").codes)
    labels = {c: textwrap.fill(contract.code_label("debulking_category", c), 18) for c in codes}
    frame = pd.DataFrame({
        "Debulking": pd.Categorical([labels[c] for c in cohort["debulking_category"].astype(str)],
                                    categories=[labels[c] for c in codes], ordered=True),
        "CRS": cohort["crs_status"].to_numpy(),
        "before": cohort["bmb_baseline_pct"].astype("Float64").to_numpy(dtype=float, na_value=float("nan")),
        "after": cohort["bmb_post_debulking_pct"].astype("Float64").to_numpy(dtype=float,
                                                                             na_value=float("nan")),
    })
    both = frame.dropna(subset=["before", "after"])
    points = both.drop_duplicates(subset=["before", "after", "CRS"], keep="last")
    with house_style():
        fig, (left, right) = new_figure(10.5, 4.4, ncols=2, width_ratios=(1.1, 1))
        sns.countplot(data=frame, y="Debulking", hue="CRS", palette=CRS_PALETTE, ax=left,
                      hue_order=list(CRS_PALETTE))
        for container in left.containers:
            left.bar_label(container, fontsize=8, padding=2)
        left.set_xlabel("Patients")
        left.set_ylabel("")
        left.legend(title="", fontsize=8, loc="lower right")
        left.set_title("CRS by debulking category", fontsize=10)
        if points.empty:  # nothing to plot: say so in the panel
            right.text(0.5, 0.5, "No patient has blasts both before and after debulking",
                       ha="center", va="center", fontsize=9, transform=right.transAxes)
        else:
            sns.scatterplot(data=points, x="before", y="after", hue="CRS", style="CRS", palette=CRS_PALETTE,
                            hue_order=list(CRS_PALETTE), s=55, ax=right)
            right.legend(title="", fontsize=8, loc="upper left")
        right.axvline(high_cutoff, color="grey", linestyle="--", linewidth=0.8)
        right.axhline(low_cutoff, color="grey", linestyle="--", linewidth=0.8)
        right.set_xlim(-3, 103)
        right.set_ylim(-3, 103)
        right.set_xlabel("Blasts before debulking (%)")
        right.set_ylabel("Blasts after debulking (%)")
        right.set_title(f"Blasts before vs after debulking\n({len(both)} patients with both values; "
                        f"{len(frame) - len(both)} left out)", fontsize=10)
    return fig
