"""Figures of the response and CRS analyses (notebooks 03 and 04): they draw, every number comes from the data passed in."""

from __future__ import annotations

import textwrap

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from helpers import contract, suppression
from helpers.derived import CRS_STATES
from helpers.figures import (
    AGGREGATE_VIEW,
    blasts_long,
    blasts_median_iqr,
    house_style,
    new_figure,
    panel_note,
)
from helpers.parameters import default
from helpers.response import PatientFlow, burden_label
from helpers.suppression import NONE, Policy

#: Colours of the CRS record states (CRS, no CRS, not recorded).
CRS_PALETTE = dict(zip(CRS_STATES, ("#d55e00", "#0072b2", "#999999")))


def plot_cr_mrd_by_burden(
    cr_rates: pd.DataFrame,
    mrd_rates: pd.DataFrame,
    *,
    high_cutoff: float = 50,
    note: str = "",
    policy: Policy = NONE,
) -> Figure:
    """The paper's Figure 1: CR and complete MRD response by baseline blasts (< / >= cut-off).

    ``cr_rates``, ``mrd_rates``: ``rates`` of RateTables by ``high_burden`` (the
    ``missing`` level is left out); bars show %, labels n/N; ``note`` under the plot.
    A share run draws no bar whose rate is hidden (:meth:`Policy.rate_hidden`), its % shown as "–".
    """
    outcomes = {"CR (CR, CRp, CRi)": cr_rates, "Complete MRD response (of evaluable CR)": mrd_rates}
    long = pd.concat(
        [
            rates[rates["level"].astype(str) != "missing"].assign(outcome=name)
            for name, rates in outcomes.items()
        ],
        ignore_index=True,
    )
    long["group"] = [
        f"Blasts before debulking {burden_label(lv, high_cutoff)}" for lv in long["level"]
    ]
    long["pct"] = (100 * long["estimate"].astype(float)).fillna(0)  # an empty group draws no bar
    if policy.active:  # a share run: bar heights from the rounded counts
        long["pct"] = [
            100 * policy.rate(n, d)[0] if d else 0.0
            for n, d in zip(long["numerator"], long["denominator"])
        ]
    hidden = pd.Series(
        [policy.rate_hidden(n, d) for n, d in zip(long["numerator"], long["denominator"])],
        index=long.index,
    )
    # a share run draws no bar for a hidden count: its height would give it back
    long.loc[hidden, "pct"] = 0
    with house_style():
        fig, ax = new_figure(6.5, 4.6)
        sns.barplot(
            data=long,
            x="group",
            y="pct",
            hue="outcome",
            palette="colorblind",
            ax=ax,
            errorbar=None,
            hue_order=list(outcomes),
        )
        c, k = policy.count_text, policy.rate_count_text
        for container, name in zip(ax.containers, outcomes):
            part = long[long["outcome"] == name]
            ax.bar_label(
                container,
                labels=[
                    f"{k(n, d)}/{c(d)}\n(–)"
                    if hide
                    else f"{c(n)}/{c(d)}\n({p:.0f}%)"
                    if d
                    else f"{c(n)}/{c(d)}"
                    for n, d, p, hide in zip(
                        part["numerator"], part["denominator"], part["pct"], hidden[part.index]
                    )
                ],
                fontsize=8,
                padding=2,
            )
        ax.set_ylim(0, 125)  # room above 100% for the n/N labels; the axis itself ends at 100
        ax.set_yticks(range(0, 101, 20))
        ax.spines["left"].set_bounds(0, 100)
        ax.spines["top"].set_visible(False)
        ax.set_ylabel("Patients (%)")
        ax.set_xlabel("")
        ax.legend(title="", loc="upper right", fontsize=8)
        ax.set_title("CR and MRD response by bone marrow blasts before debulking", fontsize=10)
        if note:
            fig.text(
                0.01,
                0.0,
                textwrap.fill(note, 110),
                fontsize=7.5,
                ha="left",
                va="bottom",
                color="0.3",
            )
            fig.get_layout_engine().set(rect=(0, 0.07, 1, 0.93))
    return fig


_BOX_W, _BOX_H = 0.28, 0.11


def _box(ax, x: float, y: float, text: str, colour: str) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - _BOX_W / 2, y - _BOX_H / 2),
            _BOX_W,
            _BOX_H,
            boxstyle="round,pad=0.01",
            facecolor=colour,
            edgecolor="0.3",
            linewidth=0.9,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    gap = _BOX_H / 2 + 0.007
    ax.annotate(
        "",
        xy=(end[0], end[1] + gap),
        xytext=(start[0], start[1] - gap),
        arrowprops={"arrowstyle": "->", "color": "0.3", "linewidth": 0.9},
    )


def plot_patient_flow(flow: PatientFlow, *, policy: Policy = NONE) -> Figure:
    """Patient-flow diagram (treated -> cycles -> CR -> MRD assessed -> MRD response; HSCT) from ``flow``."""
    main, side, stop = "#dbe9f6", "#fde0c5", "#eeeeee"
    splits = [
        ("treated",),
        ("two", "one"),
        ("cr", "nocr"),
        ("mrd", "nomrd"),
        ("mrdneg", "mrdpos"),
        ("hsct",),
    ]
    n = {
        "treated": flow.treated,
        "two": flow.two_cycles,
        "one": flow.one_cycle,
        "cr": flow.cr,
        "nocr": flow.two_cycles - flow.cr_after_two_cycles,
        "mrd": flow.mrd_evaluable,
        "nomrd": flow.cr - flow.mrd_evaluable,
        "hsct": flow.hsct_after,
        "mrdneg": flow.mrd_negative,
        "mrdpos": flow.mrd_evaluable - flow.mrd_negative,
    }
    shown = {}
    # each split is one line: a share run protects a hidden count from its total
    for keys in splits:
        shown.update(policy.hide_small(pd.Series([n[k] for k in keys], index=list(keys))).map(str))
    # key: (centre, words, colour, the box its arrow comes from)
    steps = {
        "treated": ((0.4, 0.9), "Debulking, then blinatumomab", main, None),
        "two": ((0.4, 0.7), "Received 2 cycles", main, "treated"),
        "one": ((0.8, 0.7), "1 cycle only (progressed)", stop, "treated"),
        "cr": ((0.4, 0.5), "CR / CRp / CRi within 2 cycles", main, "two"),
        "nocr": ((0.8, 0.5), "No CR after 2 cycles", stop, "two"),
        "mrd": ((0.17, 0.3), "MRD assessed", main, "cr"),
        "nomrd": ((0.5, 0.3), "MRD not assessed", stop, "cr"),
        "hsct": ((0.83, 0.3), "HSCT after blinatumomab", side, "cr"),
        "mrdneg": ((0.17, 0.1), "Complete MRD response", main, "mrd"),
        "mrdpos": ((0.5, 0.1), "MRD positive", stop, "mrd"),
    }
    fig, ax = new_figure(7.5, 6.0)
    ax.set_xlim(0, 1)
    ax.set_ylim(0.02, 0.98)
    ax.axis("off")
    for key, ((x, y), words, colour, _) in steps.items():
        _box(ax, x, y, f"{words}\nn = {shown[key]}", colour)
    for centre, _, _, parent in steps.values():
        if parent:
            _arrow(ax, steps[parent][0], centre)
    ax.set_title("Patient flow (counts computed from the data)", fontsize=10)
    return fig


def plot_crs(
    cohort: pd.DataFrame,
    *,
    high_cutoff: float = default("bmb_high_cutoff"),
    low_cutoff: float = default("bmb_low_cutoff"),
    share_safe: bool = False,
    min_cell: int = default("min_cell"),
) -> Figure:
    """CRS by debulking category (left) and blasts before vs after debulking by CRS state (right):
    one point per distinct (before, after, state), patients without both values counted in the title."""
    if share_safe:
        return _crs_aggregate_view(cohort, high_cutoff, low_cutoff, min_cell)
    codes = list(contract.column("debulking_category").codes)
    labels = {c: textwrap.fill(contract.code_label("debulking_category", c), 18) for c in codes}
    frame = pd.DataFrame(
        {
            "Debulking": pd.Categorical(
                [labels[c] for c in cohort["debulking_category"].astype(str)],
                categories=[labels[c] for c in codes],
                ordered=True,
            ),
            "CRS": cohort["crs_status"].to_numpy(),
            "before": cohort["bmb_baseline_pct"]
            .astype("Float64")
            .to_numpy(dtype=float, na_value=float("nan")),
            "after": cohort["bmb_post_debulking_pct"]
            .astype("Float64")
            .to_numpy(dtype=float, na_value=float("nan")),
        }
    )
    both = frame.dropna(subset=["before", "after"])
    points = both.drop_duplicates(subset=["before", "after", "CRS"], keep="last")
    with house_style():
        fig, (left, right) = new_figure(10.5, 4.4, ncols=2, width_ratios=(1.1, 1))
        sns.countplot(
            data=frame,
            y="Debulking",
            hue="CRS",
            palette=CRS_PALETTE,
            ax=left,
            hue_order=list(CRS_PALETTE),
        )
        for container in left.containers:
            left.bar_label(container, fontsize=8, padding=2)
        left.set_xlabel("Patients")
        left.set_ylabel("")
        left.legend(title="", fontsize=8, loc="lower right")
        left.set_title("CRS by debulking category", fontsize=10)
        if points.empty:  # nothing to plot: say so in the panel
            panel_note(right, "No patient has blasts both before and after debulking", fontsize=9)
        else:
            sns.scatterplot(
                data=points,
                x="before",
                y="after",
                hue="CRS",
                style="CRS",
                palette=CRS_PALETTE,
                hue_order=list(CRS_PALETTE),
                s=55,
                ax=right,
            )
            right.legend(title="", fontsize=8, loc="upper left")
        _before_after_axes(right, high_cutoff, low_cutoff)
        right.set_title(
            f"Blasts before vs after debulking\n({len(both)} patients with both values; "
            f"{len(frame) - len(both)} left out)",
            fontsize=10,
        )
    return fig


def _before_after_axes(ax, high_cutoff: float, low_cutoff: float) -> None:
    ax.axvline(high_cutoff, color="grey", linestyle="--", linewidth=0.8)
    ax.axhline(low_cutoff, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlim(-3, 103)
    ax.set_ylim(-3, 103)
    ax.set_xlabel("Blasts before debulking (%)")
    ax.set_ylabel("Blasts after debulking (%)")


def _crs_aggregate_view(
    cohort: pd.DataFrame, high_cutoff: float, low_cutoff: float, min_cell: int
) -> Figure:
    """The share-run form of :func:`plot_crs`: bars only for counts of ``min_cell`` or more, and
    per CRS state of that size the median and interquartile range of blasts before and after."""
    codes = list(contract.column("debulking_category").codes)
    states = list(CRS_PALETTE)
    counts = pd.crosstab(
        cohort["debulking_category"].astype(str), cohort["crs_status"].astype(str)
    ).reindex(index=codes, columns=states, fill_value=0)
    policy = suppression.Policy.for_run(True, min_cell)
    labels = policy.hide_small(counts).astype(str)
    both = cohort.dropna(subset=["bmb_baseline_pct", "bmb_post_debulking_pct"])
    n_both = both["crs_status"].astype(str).value_counts().reindex(states, fill_value=0)
    # One row summing to the cohort: the left-out count is suppressed together with the groups.
    both_labels = policy.hide_small(
        pd.Series([*n_both, len(cohort) - len(both)], index=[*states, "left out"])
    ).astype(str)
    with house_style():
        fig, (left, right) = new_figure(10.5, 4.4, ncols=2, width_ratios=(1.1, 1))
        height = 0.8 / len(states)
        for j, state in enumerate(states):
            y = [i - 0.4 + height * (j + 0.5) for i in range(len(codes))]
            shown = [
                int(labels.loc[c, state]) if labels.loc[c, state].isdigit() else 0 for c in codes
            ]  # as labelled
            left.barh(y, shown, height=height, color=CRS_PALETTE[state], label=state)
            for y_, code, width in zip(y, codes, shown):
                left.text(width, y_, f" {labels.loc[code, state]}", va="center", fontsize=8)
        left.set_yticks(
            range(len(codes)),
            [textwrap.fill(contract.code_label("debulking_category", c), 18) for c in codes],
        )
        left.invert_yaxis()
        left.set_xlabel("Patients")
        left.legend(title="", fontsize=8, loc="lower right")
        left.set_title(
            f"CRS by debulking category\n{AGGREGATE_VIEW}: counts under {min_cell} not drawn",
            fontsize=10,
        )
        drawn = False
        for state in states:
            if n_both[state] < min_cell:
                continue
            part = both[both["crs_status"].astype(str) == state]
            summary = blasts_median_iqr(blasts_long(part, []))
            median, q1, q3 = (summary[c] for c in ("median", "q1", "q3"))
            right.errorbar(
                median["Before"],
                median["After"],
                fmt="o",
                color=CRS_PALETTE[state],
                xerr=[[median["Before"] - q1["Before"]], [q3["Before"] - median["Before"]]],
                yerr=[[median["After"] - q1["After"]], [q3["After"] - median["After"]]],
                capsize=3,
                label=f"{state} (n={both_labels[state]})",
            )
            drawn = True
        if drawn:
            right.legend(title="median and IQR", fontsize=8, title_fontsize=8, loc="upper left")
        else:
            panel_note(
                right,
                f"No CRS record group has {min_cell} or more patients\nwith blasts both before "
                "and after debulking",
                fontsize=9,
            )
        _before_after_axes(right, high_cutoff, low_cutoff)
        right.set_title(
            f"Blasts before vs after debulking\n{AGGREGATE_VIEW}: median and IQR per CRS record\n"
            f"with at least {min_cell} patients ({both_labels['left out']} without both values "
            "left out)",
            fontsize=9,
        )
    return fig
