"""Headline results for the report's index, computed from ``results.csv``.

A headline whose keys are missing is left out rather than shown half-filled. A notebook
that cannot run its analysis on the data records :data:`AVAILABILITY_KEY` (or a key ending
in it) with estimate 0, its method or label saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from helpers import suppression
from helpers.narrative import ci_text, n_of, p_text

#: Key of the row by which a notebook says whether its analysis ran on this data.
AVAILABILITY_KEY = "available[all]"
#: How such a row's method may start; the rest is the reason (otherwise its label is).
NOT_AVAILABLE = "not available for this data: "


@dataclass(frozen=True)
class Headline:
    """One line of the index: title, computed text, the notebook prefix (``"03"``) and a
    regular expression for the section heading to link."""

    title: str
    text: str
    notebook: str
    section: str


def headline_results(results: pd.DataFrame, parameters: dict | None = None) -> list[Headline]:
    """The index's headline results (at most 8) in reading order, only those whose keys
    are all present; ``parameters`` word the group labels (defaults 50 and 2)."""
    params = {"bmb_high_cutoff": 50, "lines_cutoff": 2, **(parameters or {})}
    rows = {row["key"]: row for row in results.to_dict("records")} if len(results) else {}
    out = []
    for build in (_cr, _mrd, _crs, _burden, _lines, _regimen, _historic, _reproduction):
        try:
            found = build(rows, params)
        except KeyError:
            continue
        if found:
            out.append(found)
    return out


def not_available(results: pd.DataFrame, notebook: str) -> str | None:
    """Why a notebook's analysis did not run on this data, or None when it did."""
    if not len(results) or "key" not in results:
        return None
    keys = results["key"].astype(str)
    hit = results[(results["notebook"] == notebook)
                  & ((keys == AVAILABILITY_KEY) | keys.str.endswith("." + AVAILABILITY_KEY))]
    if len(hit) and float(hit["estimate"].iloc[0]) == 0:
        method = str(hit["method"].iloc[0]) if "method" in hit and pd.notna(hit["method"].iloc[0]) else ""
        return method.removeprefix(NOT_AVAILABLE) if method.startswith(NOT_AVAILABLE) else str(hit["label"].iloc[0])
    return None


def rate_text(row) -> str:
    """``"23/34 (67.6%), 95% CI 49.5–82.6%"`` from a proportion row."""
    k, n = _count(row["numerator"]), _count(row["denominator"])
    return f"{n_of(k, n)}, {ci_text(_float(row['ci_low']), _float(row['ci_high']), counts=(k, n))}"


def _count(value):
    """A count from results.csv: an int, or the text a share run writes in its place (``"<5"``,
    ``"not shown"``)."""
    return value if isinstance(value, str) and suppression.hidden(value) else int(value)


def _some(value) -> bool:
    """True for a count above 0, or a hidden count (a share run hides only counts of 1 or more)."""
    count = _count(value)
    return isinstance(count, str) or count > 0


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _short(row) -> str:
    return n_of(_count(row["numerator"]), _count(row["denominator"]))


def _cr(rows, params):
    return Headline("Complete remission (CR, CRp or CRi) within two cycles",
                    rate_text(rows["any_cr[all]"]), "03", "overall response")


def _mrd(rows, params):
    return Headline("Complete MRD response among CR patients with an MRD result",
                    rate_text(rows["mrd_negative[all]"]), "03", "overall response")


def _crs(rows, params):
    text = rate_text(rows["crs[all]"])
    severe = rows.get("crs_grade_ge3[crs=True]")
    if severe is not None and _some(severe["denominator"]):
        text += f"; grade 3 or higher in {_short(severe)} of the patients with CRS"
    return Headline("Cytokine release syndrome (CRS)", text, "04", "incidence|CRS")


def _contrast(rows, measure: str, var: str, levels: list[tuple[str, str]]) -> str:
    parts = [f"{label} {_short(rows[f'{measure}[{var}={level}]'])}" for level, label in levels]
    test = rows[f"{measure}[{var}]~fisher"]
    return " vs ".join(parts) + f"; Fisher's exact test, two-sided, {p_text(_float(test['p_value']))}"


def _burden(rows, params):
    cut = params["bmb_high_cutoff"]
    text = _contrast(rows, "any_cr", "high_burden",
                     [("False", f"blasts <{cut}%:"), ("True", f"≥{cut}%:")])
    return Headline("CR by marrow blasts before debulking", text, "03", "by subgroup")


def _lines(rows, params):
    cut = params["lines_cutoff"]
    text = _contrast(rows, "any_cr", "lines_group",
                     [(f"<={cut}", f"≤{cut} previous lines:"), (f">{cut}", f">{cut}:")])
    return Headline("CR by previous treatment lines", text, "03", "by subgroup")


def _regimen(rows, params):
    from helpers import contract

    test = rows["any_cr[debulking_category]~fisher"]
    groups = []
    for code in contract.column("debulking_category").codes:
        row = rows.get(f"any_cr[debulking_category={code}]")
        if row is not None and _some(row["denominator"]):
            groups.append(f"{contract.code_label('debulking_category', code)} {_short(row)}")
    return Headline("CR by debulking therapy",
                    "; ".join(groups) + f"; Fisher's exact test, two-sided, {p_text(_float(test['p_value']))}",
                    "03", "by subgroup")


def _historic(rows, params):
    own, other = rows["endpoint[cr_crh_cri]"], rows["comparator[tower_blina_cr_crh_cri]"]
    diff, test = rows["cmp[tower_cr_crh_cri].risk_difference"], rows["cmp[tower_cr_crh_cri]~fisher"]
    low, high = _float(diff["ci_low"]), _float(diff["ci_high"])
    interval = ("" if math.isnan(low) else
                f" (95% CI {100 * low:+.1f} to {100 * high:+.1f})")
    comparator = str(other["label"]).split(":")[0]
    text = (f"this cohort {_short(own)} vs {comparator} {_short(other)}; difference "
            f"{100 * _float(diff['estimate']):+.1f} percentage points{interval}; "
            f"Fisher's exact test, two-sided, {p_text(_float(test['p_value']))}")
    return Headline("CR/CRh/CRi against the TOWER trial (historic comparison)", text, "05", "comparisons")


def _reproduction(rows, params):
    total = rows["figures[all]"]
    parts = [f"{_count(row['numerator'])} {key[len('figures[verdict='):-1]}"
             for key, row in rows.items() if key.startswith("figures[verdict=")]
    return Headline("Published figures recomputed from this data",
                    f"{_count(total['numerator'])} figures: " + ", ".join(parts), "06", "summary")
