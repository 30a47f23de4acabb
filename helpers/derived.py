"""Derived variables: one table of name, clinician's meaning and the function computing it.

:func:`add_derived` applies them in order to the validated cohort (later ones see earlier
ones), each with the cut-offs its function names as keyword arguments. Listed in
docs/data-contract.md and shown in notebooks 03 and 04.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import contract

#: Cut-off parameters the derived variables may use (their defaults: helpers.parameters.SETTINGS).
CUTOFFS: tuple[str, ...] = ("age_cutoff", "bmb_high_cutoff", "bmb_low_cutoff", "lines_cutoff")

MISSING = "missing"

#: Display labels of the CRS record states, in display order.
CRS_STATES: tuple[str, str, str] = ("CRS", "No CRS", "Not recorded")


@dataclass(frozen=True)
class Derived:
    """One derived column: ``compute(cohort, **cut-offs)`` gives it; ``meaning`` is the clinician's
    wording, with ``{cut-off name}`` where a cut-off's value goes."""

    name: str
    meaning: str
    compute: Callable[..., pd.Series]

    @property
    def parameters(self) -> tuple[str, ...]:
        """The cut-offs the function takes, in :data:`CUTOFFS` order."""
        taken = inspect.signature(self.compute).parameters
        return tuple(p for p in CUTOFFS if p in taken)

    def describe(self, **cutoffs: float) -> str:
        """The meaning with the values of its cut-offs filled in."""
        return self.meaning.format(**{p: f"{cutoffs[p]:g}" for p in self.parameters})


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
    codes = np.select(
        [flag.fillna(False).to_numpy(dtype=bool), (~flag).fillna(False).to_numpy(dtype=bool)],
        [0, 1],
        default=2,
    )
    return _categorical(codes, list(CRS_STATES), crs.index)


def _flag(condition: pd.Series, where: pd.Series) -> pd.Series:
    """A nullable boolean: ``condition`` where ``where`` holds, NA elsewhere."""
    return condition.astype("boolean").where(where)


#: The derived variables, in the order they are computed.
DERIVED: tuple[Derived, ...] = (
    Derived(
        "age_group",
        "age under {age_cutoff} years, or {age_cutoff} years and older",
        lambda c, age_cutoff: split_below(c["age_years"], age_cutoff),
    ),
    Derived(
        "bmb_baseline_group",
        "marrow blasts before debulking: under {bmb_low_cutoff} %, {bmb_low_cutoff} % to under "
        "{bmb_high_cutoff} %, {bmb_high_cutoff} % or more, or not recorded",
        lambda c, bmb_low_cutoff, bmb_high_cutoff: blast_groups(
            c["bmb_baseline_pct"], bmb_low_cutoff, bmb_high_cutoff
        ),
    ),
    Derived(
        "high_burden",
        "high tumour burden: marrow blasts of {bmb_high_cutoff} % or more before debulking "
        "(not available without a value)",
        lambda c, bmb_high_cutoff: _flag(
            c["bmb_baseline_pct"] >= bmb_high_cutoff, c["bmb_baseline_pct"].notna()
        ),
    ),
    Derived(
        "bmb_baseline_available",
        "marrow blasts before debulking recorded",
        lambda c: c["bmb_baseline_pct"].notna(),
    ),
    Derived(
        "bmb_post_group",
        "marrow blasts after debulking: under {bmb_low_cutoff} %, {bmb_low_cutoff} % to under "
        "{bmb_high_cutoff} %, {bmb_high_cutoff} % or more, or not recorded",
        lambda c, bmb_low_cutoff, bmb_high_cutoff: blast_groups(
            c["bmb_post_debulking_pct"], bmb_low_cutoff, bmb_high_cutoff
        ),
    ),
    Derived(
        "bmb_post_split_low",
        "marrow blasts after debulking under {bmb_low_cutoff} %, or {bmb_low_cutoff} % or more",
        lambda c, bmb_low_cutoff: split_below(
            c["bmb_post_debulking_pct"], bmb_low_cutoff, missing_level=True
        ),
    ),
    Derived(
        "bmb_post_split_high",
        "marrow blasts after debulking under {bmb_high_cutoff} %, or {bmb_high_cutoff} % or more",
        lambda c, bmb_high_cutoff: split_below(
            c["bmb_post_debulking_pct"], bmb_high_cutoff, missing_level=True
        ),
    ),
    Derived(
        "bmb_post_available",
        "marrow blasts after debulking recorded",
        lambda c: c["bmb_post_debulking_pct"].notna(),
    ),
    Derived(
        "lines_group",
        "{lines_cutoff} or fewer previous treatment lines, or more",
        lambda c, lines_cutoff: split_at_most(c["prior_lines"], lines_cutoff),
    ),
    Derived(
        "lines_1_2_3plus",
        "previous treatment lines: 1, 2, or 3 and more (as in Table 1)",
        lambda c: one_two_three_plus(c["prior_lines"]),
    ),
    Derived(
        "any_cr",
        "complete remission (CR, CRp or CRi: full, partial or incomplete blood count "
        "recovery) within two cycles",
        lambda c: c["response"].isin(list(contract.CR_CODES)),
    ),
    Derived(
        "mrd_evaluable",
        "in complete remission and with an MRD result",
        lambda c: c["any_cr"] & c["mrd_status"].notna(),
    ),
    Derived(
        "mrd_negative",
        "complete MRD response (MRD negative); not available unless MRD-evaluable",
        lambda c: _flag(c["mrd_status"] == "negative", c["mrd_evaluable"]),
    ),
    Derived(
        "crs_recorded", "cytokine release syndrome recorded (yes or no)", lambda c: c["crs"].notna()
    ),
    Derived(
        "crs_missing_as_no",
        "cytokine release syndrome, a missing record read as none",
        lambda c: c["crs"].astype("boolean").fillna(False).astype("bool"),
    ),
    Derived(
        "crs_status",
        "cytokine release syndrome: CRS, no CRS, or not recorded",
        lambda c: crs_states(c["crs"]),
    ),
)

BY_NAME: dict[str, Derived] = {d.name: d for d in DERIVED}


def add_derived(
    cohort: pd.DataFrame,
    *,
    age_cutoff: float,
    bmb_high_cutoff: float,
    bmb_low_cutoff: float,
    lines_cutoff: float,
) -> pd.DataFrame:
    """A copy of a typed, validated cohort with every column of :data:`DERIVED` added.

    ``ValueError`` unless ``bmb_low_cutoff < bmb_high_cutoff``.
    """
    group_labels(bmb_low_cutoff, bmb_high_cutoff)
    cutoffs = {
        "age_cutoff": age_cutoff,
        "bmb_high_cutoff": bmb_high_cutoff,
        "bmb_low_cutoff": bmb_low_cutoff,
        "lines_cutoff": lines_cutoff,
    }
    out = cohort.copy()
    for d in DERIVED:
        out[d.name] = d.compute(out, **{p: cutoffs[p] for p in d.parameters})
    return out


def table(**cutoffs: float) -> pd.DataFrame:
    """The derived variables as a frame: name, meaning (with the values of ``cutoffs``, one per
    name of :data:`CUTOFFS`) and the cut-offs used with their values."""
    values = cutoffs
    return pd.DataFrame(
        {
            "name": [d.name for d in DERIVED],
            "meaning": [d.describe(**values) for d in DERIVED],
            "cut-offs": [", ".join(f"{p} = {values[p]:g}" for p in d.parameters) for d in DERIVED],
        }
    )
