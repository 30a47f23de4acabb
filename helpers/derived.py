"""Derived variables: one table of name, meaning and pandas expression, applied by :func:`add_derived`.

Expressions are evaluated in order on the validated cohort ``c`` (later ones see earlier
ones) with the cut-offs and grouping functions below in scope. Listed in
docs/data-contract.md and shown in notebooks 03 and 04.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import contract

#: Cut-off parameters the expressions may use, with their defaults.
CUTOFFS: dict[str, float] = {"age_cutoff": 50, "bmb_high_cutoff": 50, "bmb_low_cutoff": 20,
                             "lines_cutoff": 2}

MISSING = "missing"

#: Display labels of the CRS record states, in display order.
CRS_STATES: tuple[str, str, str] = ("CRS", "No CRS", "Not recorded")


@dataclass(frozen=True)
class Derived:
    """One derived column: ``expression`` is pandas code over the cohort ``c`` and the cut-offs."""

    name: str
    meaning: str
    expression: str

    @property
    def parameters(self) -> tuple[str, ...]:
        """The cut-offs the expression uses."""
        return tuple(p for p in CUTOFFS if p in self.expression)


def _numbers(values: pd.Series) -> np.ndarray:
    return values.astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def group_labels(low: float, high: float) -> tuple[str, str, str]:
    """Labels of the three blast groups, ``(20, 50)`` -> ``("<20", "20-49", ">=50")``
    (``low-<high`` for fractional cut-offs); ValueError unless ``low < high``."""
    if not low < high:
        raise ValueError(f"the low cut-off ({low}) must be below the high cut-off ({high})")
    if float(low).is_integer() and float(high).is_integer():
        middle = f"{low:g}-{high - 1:g}"
    else:
        middle = f"{low:g}-<{high:g}"
    return (f"<{low:g}", middle, f">={high:g}")


def _categorical(codes: np.ndarray, labels: list[str], index: pd.Index) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes, categories=labels, ordered=True), index=index)


def blast_groups(values: pd.Series, low: float, high: float) -> pd.Series:
    """``<low``, ``low-(high-1)``, ``>=high``, or ``missing`` (no value), ordered."""
    x = _numbers(values)
    codes = np.select([x < low, x < high, x >= high], [0, 1, 2], default=3)
    return _categorical(codes, [*group_labels(low, high), MISSING], values.index)


def split_below(values: pd.Series, cutoff: float, *, missing_level: bool = False) -> pd.Series:
    """``<cutoff`` or ``>=cutoff``; no value is NA, or the level ``missing`` if ``missing_level``."""
    x = _numbers(values)
    none = 2 if missing_level else -1
    codes = np.where(np.isnan(x), none, np.where(x < cutoff, 0, 1))
    labels = [f"<{cutoff:g}", f">={cutoff:g}"] + ([MISSING] if missing_level else [])
    return _categorical(codes, labels, values.index)


def split_at_most(values: pd.Series, cutoff: float) -> pd.Series:
    """``<=cutoff`` or ``>cutoff``; no value is NA."""
    x = _numbers(values)
    codes = np.where(np.isnan(x), -1, np.where(x <= cutoff, 0, 1))
    return _categorical(codes, [f"<={cutoff:g}", f">{cutoff:g}"], values.index)


def one_two_three_plus(values: pd.Series) -> pd.Series:
    """``1``, ``2`` or ``>=3``; anything else (or no value) is NA."""
    x = _numbers(values)
    codes = np.select([x == 1, x == 2, x >= 3], [0, 1, 2], default=-1)
    return _categorical(codes, ["1", "2", ">=3"], values.index)


def crs_states(crs: pd.Series) -> pd.Series:
    """``CRS`` (yes), ``No CRS`` (no) or ``Not recorded`` (missing), ordered."""
    flag = crs.astype("boolean")
    codes = np.select([flag.fillna(False).to_numpy(dtype=bool), (~flag).fillna(False).to_numpy(dtype=bool)],
                      [0, 1], default=2)
    return _categorical(codes, list(CRS_STATES), crs.index)


#: The derived variables, in the order they are computed.
DERIVED: tuple[Derived, ...] = (
    Derived("age_group", "age under the cut-off or at/above it (years)",
            'split_below(c["age_years"], age_cutoff)'),
    Derived("bmb_baseline_group", "marrow blasts before debulking in three groups (%)",
            'blast_groups(c["bmb_baseline_pct"], bmb_low_cutoff, bmb_high_cutoff)'),
    Derived("high_burden", "high tumour burden: blasts before debulking at/above the high cut-off; "
            "NA without a value",
            '(c["bmb_baseline_pct"] >= bmb_high_cutoff).astype("boolean")'
            '.where(c["bmb_baseline_pct"].notna())'),
    Derived("bmb_baseline_available", "blasts before debulking recorded",
            'c["bmb_baseline_pct"].notna()'),
    Derived("bmb_post_group", "marrow blasts after debulking in three groups (%)",
            'blast_groups(c["bmb_post_debulking_pct"], bmb_low_cutoff, bmb_high_cutoff)'),
    Derived("bmb_post_split_low", "blasts after debulking in two groups, split at the low cut-off",
            'split_below(c["bmb_post_debulking_pct"], bmb_low_cutoff, missing_level=True)'),
    Derived("bmb_post_split_high", "blasts after debulking in two groups, split at the high cut-off",
            'split_below(c["bmb_post_debulking_pct"], bmb_high_cutoff, missing_level=True)'),
    Derived("bmb_post_available", "blasts after debulking recorded",
            'c["bmb_post_debulking_pct"].notna()'),
    Derived("lines_group", "previous treatment lines up to the cut-off or above it",
            'split_at_most(c["prior_lines"], lines_cutoff)'),
    Derived("lines_1_2_3plus", "previous treatment lines as 1, 2 or 3 and more (Table 1)",
            'one_two_three_plus(c["prior_lines"])'),
    Derived("any_cr", "CR with full, partial or incomplete recovery (cr, crp, cri) within 2 cycles",
            'c["response"].isin(CR_CODES)'),
    Derived("mrd_evaluable", "in CR and with an MRD result",
            'c["any_cr"] & c["mrd_status"].notna()'),
    Derived("mrd_negative", "complete MRD response; NA unless MRD-evaluable",
            '(c["mrd_status"] == "negative").astype("boolean").where(c["mrd_evaluable"])'),
    Derived("crs_recorded", "CRS recorded (yes or no)", 'c["crs"].notna()'),
    Derived("crs_missing_as_no", "CRS, with a missing record read as no CRS",
            'c["crs"].astype("boolean").fillna(False).astype("bool")'),
    Derived("crs_status", "CRS record: CRS, No CRS or Not recorded", 'crs_states(c["crs"])'),
)

BY_NAME: dict[str, Derived] = {d.name: d for d in DERIVED}

_FUNCTIONS = {"split_below": split_below, "blast_groups": blast_groups, "split_at_most": split_at_most,
              "one_two_three_plus": one_two_three_plus, "crs_states": crs_states,
              "CR_CODES": list(contract.CR_CODES)}


def add_derived(cohort: pd.DataFrame, *, age_cutoff: float = 50, bmb_high_cutoff: float = 50,
                bmb_low_cutoff: float = 20, lines_cutoff: float = 2) -> pd.DataFrame:
    """A copy of a typed, validated cohort with every column of :data:`DERIVED` added.

    ``ValueError`` unless ``bmb_low_cutoff < bmb_high_cutoff``.
    """
    group_labels(bmb_low_cutoff, bmb_high_cutoff)
    scope = {**_FUNCTIONS, "age_cutoff": age_cutoff, "bmb_high_cutoff": bmb_high_cutoff,
             "bmb_low_cutoff": bmb_low_cutoff, "lines_cutoff": lines_cutoff}
    out = cohort.copy()
    for d in DERIVED:
        value = eval(d.expression, {"__builtins__": {}}, {**scope, "c": out})  # noqa: S307 - our own table
        out[d.name] = value
    return out


def table(**cutoffs: float) -> pd.DataFrame:
    """The derived variables as a frame: name, meaning, expression, cut-offs used (with values)."""
    values = {**CUTOFFS, **cutoffs}
    return pd.DataFrame({
        "name": [d.name for d in DERIVED],
        "meaning": [d.meaning for d in DERIVED],
        "expression": [d.expression for d in DERIVED],
        "cut-offs": [", ".join(f"{p} = {values[p]:g}" for p in d.parameters) for d in DERIVED],
    })
