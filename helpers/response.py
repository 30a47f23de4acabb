"""Response to blinatumomab: patient-flow counts and the display tables of notebook 03.

Inputs are a loaded cohort (:func:`helpers.loading.load_cohort`) or
:class:`helpers.subgroups.RateTable` objects; nothing is modified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import contract
from helpers.narrative import count, p_text, pct
from helpers.results import rate_key
from helpers.suppression import NONE, Policy

#: Groupings whose level labels are blast percentages (shown with "%").
_BLAST_GROUPINGS = (
    "bmb_baseline_group",
    "bmb_post_group",
    "bmb_post_split_low",
    "bmb_post_split_high",
)


@dataclass(frozen=True)
class PatientFlow:
    """Patients at each step from treatment to transplant; ``cr`` is CR, CRp or CRi within
    2 cycles, the MRD and HSCT counts are among them."""

    treated: int
    two_cycles: int
    one_cycle: int
    one_cycle_without_cr: int
    cr: int
    mrd_evaluable: int
    mrd_negative: int
    hsct_after: int

    @property
    def cr_after_two_cycles(self) -> int:
        """CR patients among those with two cycles."""
        return self.cr - (self.one_cycle - self.one_cycle_without_cr)


def burden_label(level: object, high_cutoff: float = 50) -> str:
    """``<50%`` / ``≥50%`` for a ``high_burden`` level (bool or its text), ``Not available`` for missing."""
    if str(level) in ("True", "False"):
        return f"≥{high_cutoff:g}%" if str(level) == "True" else f"<{high_cutoff:g}%"
    if str(level) == "missing":
        return "Not available"
    return str(level)


def level_label(var: str, level: object, high_cutoff: float = 50) -> str:
    """Display label of a grouping level (blast groups with "%", codes as their contract labels)."""
    from helpers.tables import level_label as contract_level_label

    if var == "high_burden":
        return burden_label(level, high_cutoff)
    if var in _BLAST_GROUPINGS and str(level) != "missing":
        text = contract.readable(str(level))
        return text if text.endswith("%") else f"{text}%"
    return contract_level_label(var, level)


def group_title(var: str) -> str:
    """Display title of a grouping column."""
    return contract.label(var)


def _int(value):
    return value if isinstance(value, str) else int(value)


def _fisher_p(rate_table) -> float:
    return next((t.p_value for t in rate_table.tests if t.short == "fisher"), np.nan)


def _ci(low: float, high: float, k, n, policy: Policy) -> str:
    _, low, high = policy.rate(k, n, low, high)  # a share run: hidden, or from the rounded counts
    return "–" if pd.isna(low) else f"{100 * low:.1f}–{100 * high:.1f}"


def _shown(rates: pd.DataFrame, policy: Policy) -> pd.DataFrame:
    """Numerators and denominators of one grouping as shown: in a share run small ones hidden, and within
    the grouping (whose levels add up to a total shown elsewhere) the next smallest too."""
    return pd.DataFrame(
        {
            c: policy.hide_small(rates[c].reset_index(drop=True))
            for c in ("numerator", "denominator")
        }
    )


def response_table(
    cr_tables: Sequence, mrd_tables: Sequence, *, high_cutoff: float = 50, policy: Policy = NONE
) -> pd.DataFrame:
    """CR and complete MRD response side by side, one row per level, Fisher p on each block's first row.

    ``cr_tables`` and ``mrd_tables`` are RateTables paired by position (same grouping).
    """
    rows = []
    for cr, mrd in zip(cr_tables, mrd_tables, strict=True):
        if cr.by != mrd.by:
            raise ValueError(f"paired tables group by different variables: {cr.by} vs {mrd.by}")
        mrd_rates = mrd.rates.set_index(mrd.rates["level"].astype(str))
        mrd_rates[["numerator", "denominator"]] = _shown(mrd_rates, policy).set_index(
            mrd_rates.index
        )
        cr_shown = _shown(cr.rates, policy)
        p_cr, p_mrd = _fisher_p(cr), _fisher_p(mrd)
        for i, r in enumerate(cr.rates.itertuples(index=False)):
            m = mrd_rates.loc[str(r.level)] if str(r.level) in mrd_rates.index else None
            k, n = cr_shown.loc[i, "numerator"], cr_shown.loc[i, "denominator"]
            rows.append(
                {
                    "Subgroup": group_title(cr.by) if i == 0 else "",
                    "Level": level_label(cr.by, r.level, high_cutoff),
                    "CR n/N": f"{count(k, policy=policy)}/{count(n, policy=policy)}",
                    "CR %": pct(k, n, policy=policy),
                    "CR 95% CI": _ci(r.ci_low, r.ci_high, k, n, policy),
                    "CR p": p_text(p_cr) if i == 0 else "",
                    "MRD- n/N": ""
                    if m is None
                    else (
                        f"{count(m['numerator'], policy=policy)}/"
                        f"{count(m['denominator'], policy=policy)}"
                    ),
                    "MRD- %": ""
                    if m is None
                    else pct(_int(m["numerator"]), _int(m["denominator"]), policy=policy),
                    "MRD- 95% CI": ""
                    if m is None
                    else _ci(m["ci_low"], m["ci_high"], m["numerator"], m["denominator"], policy),
                    "MRD- p": p_text(p_mrd) if i == 0 else "",
                }
            )
    return pd.DataFrame(rows)


def forest_rows(
    rate_tables: Sequence,
    *,
    include_missing: bool = False,
    high_cutoff: float = 50,
    policy: Policy = NONE,
) -> pd.DataFrame:
    """Rows for :func:`helpers.figures.plot_forest`: group, label (with n/N), estimate, ci_low, ci_high, key."""
    rows = []
    for rt in rate_tables:
        for r in rt.rates.itertuples(index=False):
            if str(r.level) == "missing" and not include_missing:
                continue
            # a share run draws no point for a hidden count, and the others from the rounded counts
            estimate, low, high = policy.rate(r.numerator, r.denominator, r.ci_low, r.ci_high)
            rows.append(
                {
                    "group": group_title(rt.by),
                    "label": (
                        f"{level_label(rt.by, r.level, high_cutoff)} "
                        f"({count(r.numerator, policy=policy)}/{count(r.denominator, policy=policy)})"
                    ),
                    "estimate": estimate,
                    "ci_low": low,
                    "ci_high": high,
                    "key": rate_key(rt.outcome, {**(rt.where or {}), rt.by: r.level}),
                }
            )
    return pd.DataFrame(rows, columns=["group", "label", "estimate", "ci_low", "ci_high", "key"])
