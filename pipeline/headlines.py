"""Headline results for the report's index, computed from ``results.csv``.

A headline whose keys are missing is left out rather than shown half-filled. A notebook
that cannot run its analysis on the data records :data:`AVAILABILITY_KEY` (or a key ending
in it) with estimate 0, its method or label saying why. The survival headlines are
declared whenever the data carry follow-up (:data:`FOLLOW_UP_KEY` with estimate 1): one
of their results that is missing is shown as not estimable, never left out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd

from helpers import suppression
from helpers.narrative import ci_text, n_of, p_text

#: Key of the row by which a notebook says whether its analysis ran on this data.
AVAILABILITY_KEY = "available[all]"
#: How such a row's method may start; the rest is the reason (otherwise its label is).
NOT_AVAILABLE = "not available for this data: "
#: Notebook 08's row saying whether the data carry follow-up.
FOLLOW_UP_KEY = "follow_up.available[all]"
#: Month at which the cumulative incidence of relapse is a headline.
CIR_MONTHS = 12


@dataclass(frozen=True)
class Headline:
    """One line of the index: title, computed text, the notebook prefix (``"03"``) and a
    regular expression for the section heading to link."""

    title: str
    text: str
    notebook: str
    section: str


def headline_results(results: pd.DataFrame, parameters: dict | None = None, *,
                     policy: suppression.Policy = suppression.NONE) -> list[Headline]:
    """The index's headline results (at most 12) in reading order, only those whose keys
    are all present (the survival ones whenever there is follow-up); ``parameters`` word the
    group labels (defaults 50 and 2); ``policy`` what they show of a count."""
    params = {"bmb_high_cutoff": 50, "lines_cutoff": 2, **(parameters or {})}
    rows = {row["key"]: row for row in results.to_dict("records")} if len(results) else {}
    out = []
    for build in (_cr, _mrd, _crs, _burden, _lines, _regimen, _os, _os_burden, _cir, _historic, _adjusted,
                  _reproduction):
        try:
            found = build(rows, params, policy)
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


def rate_text(row, policy: suppression.Policy = suppression.NONE) -> str:
    """``"23/34 (67.6%), 95% CI 49.5–82.6% (Clopper-Pearson exact)"`` from a proportion row,
    the interval's method from the row's ``method`` (none named when it has none)."""
    k, n = _count(row["numerator"]), _count(row["denominator"])
    method = _ci_method(row)
    ci = ci_text(_float(row['ci_low']), _float(row['ci_high']), counts=(k, n), policy=policy)
    return (f"{n_of(k, n, policy=policy)}, {ci}"
            + (f" ({method})" if method else ""))


def _ci_method(row) -> str:
    """``"Clopper-Pearson exact"`` from a row's method such as ``"count; Clopper-Pearson exact 95% CI"``;
    ``""`` when the row has none."""
    method = row.get("method")
    return re.sub(r"\s*\d+(\.\d+)?% CI.*$", "", method.split("; ")[-1]).strip() if isinstance(method, str) else ""


def _test_text(row) -> str:
    """``"Fisher's exact test, two-sided, p = 0.022"``, or the test that stood in for it (its
    row's method says so) where the exact one was infeasible."""
    method = row.get("method")
    name = "Fisher's exact test"
    if isinstance(method, str) and " in place of " in method:
        name = method.split(" in place of ")[0] + " (asymptotic; Fisher's exact test infeasible at this size)"
    return f"{name}, two-sided, {p_text(_float(row['p_value']))}"


def _count(value):
    """A count from results.csv: an int, or the text a share run writes in its place (``"<5"``,
    ``"not shown"``)."""
    return value if isinstance(value, str) and suppression.hidden_text(value) else int(value)


def _some(value) -> bool:
    """True for a count above 0, or a hidden count (a share run hides only counts of 1 or more)."""
    count = _count(value)
    return isinstance(count, str) or count > 0


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _short(row, policy: suppression.Policy) -> str:
    return n_of(_count(row["numerator"]), _count(row["denominator"]), policy=policy)


def _cr(rows, params, policy):
    return Headline("Complete remission (CR, CRp or CRi) within two cycles",
                    rate_text(rows["any_cr[all]"], policy), "03", "overall response")


def _mrd(rows, params, policy):
    return Headline("Complete MRD response among CR patients with an MRD result",
                    rate_text(rows["mrd_negative[all]"], policy), "03", "overall response")


def _crs(rows, params, policy):
    text = rate_text(rows["crs[all]"], policy)
    severe = rows.get("crs_grade_ge3[crs=True]")
    if severe is not None and _some(severe["denominator"]):
        text += f"; grade 3 or higher in {_short(severe, policy)} of the patients with CRS"
    return Headline("Cytokine release syndrome (CRS)", text, "04", "incidence|CRS")


def _contrast(rows, measure: str, var: str, levels: list[tuple[str, str]], policy) -> str:
    parts = [f"{label} {_short(rows[f'{measure}[{var}={level}]'], policy)}" for level, label in levels]
    test = rows[f"{measure}[{var}]~fisher"]
    return " vs ".join(parts) + f"; {_test_text(test)}"


def _burden(rows, params, policy):
    cut = params["bmb_high_cutoff"]
    text = _contrast(rows, "any_cr", "high_burden",
                     [("False", f"blasts <{cut}%:"), ("True", f"≥{cut}%:")], policy)
    return Headline("CR by marrow blasts before debulking", text, "03", "by subgroup")


def _lines(rows, params, policy):
    cut = params["lines_cutoff"]
    text = _contrast(rows, "any_cr", "lines_group",
                     [(f"<={cut}", f"≤{cut} previous lines:"), (f">{cut}", f">{cut}:")], policy)
    return Headline("CR by previous treatment lines", text, "03", "by subgroup")


def _regimen(rows, params, policy):
    from helpers import contract

    test = rows["any_cr[debulking_category]~fisher"]
    groups = []
    for code in contract.column("debulking_category").codes:
        row = rows.get(f"any_cr[debulking_category={code}]")
        if row is not None and _some(row["denominator"]):
            groups.append(f"{contract.code_label('debulking_category', code)} {_short(row, policy)}")
    return Headline("CR by debulking therapy",
                    "; ".join(groups) + f"; {_test_text(test)}",
                    "03", "by subgroup")


def _follow_up(rows) -> bool:
    row = rows.get(FOLLOW_UP_KEY)
    return row is not None and _float(row["estimate"]) == 1


def _months(row) -> str:
    value, low, high = (_float(row[c]) for c in ("estimate", "ci_low", "ci_high"))
    head = "not reached" if math.isnan(value) else f"{value:.1f} months"
    low_text, high_text = ("not reached" if math.isnan(x) else f"{x:.1f}" for x in (low, high))
    return f"{head} (95% CI {low_text}–{high_text})"


def _os(rows, params, policy):
    if not _follow_up(rows):
        return None
    median, follow = rows.get("km_os[all].median"), rows.get("follow_up.median[all]")
    if median is None:
        return Headline("Overall survival", "median not estimable on this data", "08", "Overall survival, all")
    text = f"median {_months(median)}; {_short(median, policy)} died"
    if follow is not None:
        text += f"; median follow-up {_months(follow)}"
    return Headline("Overall survival", text, "08", "Overall survival, all")


def _os_burden(rows, params, policy):
    if not _follow_up(rows):
        return None
    cut = params["bmb_high_cutoff"]
    hr = rows.get("cox_os[high_burden].hr")
    if hr is None:
        text = ("not estimable on this data (it needs patients with follow-up in both burden groups "
                "and a death in each)")
    else:
        text = (f"blasts ≥{cut}% vs <{cut}%: hazard ratio of death {_float(hr['estimate']):.2f} "
                f"(95% CI {_float(hr['ci_low']):.2f}–{_float(hr['ci_high']):.2f}), Cox, {p_text(_float(hr['p_value']))}")
    return Headline("Overall survival by marrow blasts before debulking", text, "08", "by tumour burden")


def _cir(rows, params, policy):
    if not _follow_up(rows):
        return None
    cir = rows.get(f"cir[any_cr=True].cif_{CIR_MONTHS}m")
    title = f"Cumulative incidence of relapse at {CIR_MONTHS} months from CR"
    section = "competing risks"
    if cir is None or math.isnan(_float(cir["estimate"])):
        return Headline(title, "not estimable on this data (it needs patients in CR with rfs_event_cause and "
                        f"follow-up to {CIR_MONTHS} months)", "08", section)
    text = f"{100 * _float(cir['estimate']):.1f}% ({ci_text(_float(cir['ci_low']), _float(cir['ci_high']))})"
    nrm = rows.get(f"nrm[any_cr=True].cif_{CIR_MONTHS}m")
    if nrm is not None and not math.isnan(_float(nrm["estimate"])):
        text += (f"; non-relapse mortality {100 * _float(nrm['estimate']):.1f}% "
                 f"({ci_text(_float(nrm['ci_low']), _float(nrm['ci_high']))})")
    return Headline(title, text + f"; {_count(cir['denominator'])} patients in CR", "08", section)


def _historic(rows, params, policy):
    own, other = rows["endpoint[cr_crh_cri]"], rows["comparator[tower_blina_cr_crh_cri]"]
    diff, test = rows["cmp[tower_cr_crh_cri].risk_difference"], rows["cmp[tower_cr_crh_cri]~fisher"]
    low, high = _float(diff["ci_low"]), _float(diff["ci_high"])
    interval = ("" if math.isnan(low) else
                f" (95% CI {100 * low:+.1f} to {100 * high:+.1f}" + (f", {_ci_method(diff)})" if _ci_method(diff) else ")"))
    comparator = str(other["label"]).split(":")[0]
    text = (f"this cohort {_short(own, policy)} vs {comparator} {_short(other, policy)}; difference "
            f"{100 * _float(diff['estimate']):+.1f} percentage points{interval}; "
            f"{_test_text(test)}")
    return Headline("CR/CRh/CRi against the TOWER trial (historic comparison)", text, "05", "comparisons")


def _adjusted(rows, params, policy):
    """The first population-adjusted (MAIC) comparison in the rows, beside its unadjusted twin."""
    key = next((k.removesuffix(".risk_difference") for k in rows
                if k.startswith("maic[") and k.endswith("].risk_difference")), None)
    if key is None:
        raise KeyError("maic[...].risk_difference")
    rate, diff, ess = rows[f"{key}.rate"], rows[f"{key}.risk_difference"], rows[f"{key}.ess"]
    plain, plain_diff = rows[f"{key}.unadjusted"], rows[f"{key}.unadjusted_risk_difference"]
    comparator = str(diff["label"]).rsplit(" minus ", 1)[1]
    text = (f"{str(rate['label']).split(', ', 1)[1]}: weighted {100 * _float(rate['estimate']):.1f}% "
            f"({ci_text(_float(rate['ci_low']), _float(rate['ci_high']))}), effective sample size "
            f"{_float(ess['estimate']):.1f} of {_count(ess['denominator'])}, vs {comparator}; difference "
            f"{_points(diff)}; unadjusted {_short(plain, policy)}, difference {_points(plain_diff)}")
    return Headline("CR/CRh/CRi against TOWER, adjusted for baseline (MAIC)", text, "09", "outcome")


def _points(row) -> str:
    low, high = _float(row["ci_low"]), _float(row["ci_high"])
    interval = "" if math.isnan(low) else f" (95% CI {100 * low:+.1f} to {100 * high:+.1f})"
    return f"{100 * _float(row['estimate']):+.1f} percentage points{interval}"


def _reproduction(rows, params, policy):
    replication = [(key, row) for key, row in rows.items() if key.startswith("replication[")]
    if replication:  # other data: the main endpoints beside the paper's, never a count of differing figures
        parts = [f"{str(row['label']).removeprefix('Replication: ')} {_difference_text(row)}"
                 for _, row in replication if not math.isnan(_float(row["estimate"]))]
        return Headline("The main endpoints beside the paper's (replication)",
                        "; ".join(parts) + " (data - paper in percentage points, Newcombe 95% CI; for the "
                        "burden contrast the data's own difference)", "06", "summary") if parts else None
    total = rows["figures[all]"]
    parts = [f"{_count(row['numerator'])} {key[len('figures[verdict='):-1]}"
             for key, row in rows.items() if key.startswith("figures[verdict=")]
    return Headline("Published figures recomputed from this data",
                    f"{_count(total['numerator'])} figures: " + ", ".join(parts), "06", "summary")


def _difference_text(row) -> str:
    """``"-5.9 (95% CI -25.1 to 14.0)"`` from a difference row (fractions)."""
    return (f"{100 * _float(row['estimate']):+.1f} (95% CI {100 * _float(row['ci_low']):+.1f} to "
            f"{100 * _float(row['ci_high']):+.1f})")
