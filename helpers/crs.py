"""Cytokine release syndrome (CRS): incidence, grades, debulking and blasts (paper section 3.3.1).

Builders for notebook 04. CRS is recorded as yes / no / not recorded
(``crs`` missing). The paper reports 5/34 (14.7%), i.e. it counted the patient
without a record as not having CRS, but its percentages among patients without
CRS fit 28 patients, i.e. there it left that patient out. Every builder here
therefore says which reading it uses. Inputs are never modified.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers import contract
from helpers.results import rate_key
from helpers.stats import proportion

#: Display labels of the three CRS record states, in display order.
CRS_STATUS_LABELS: tuple[str, str, str] = ("CRS", "No CRS", "Not recorded")
_CI_METHOD = "Clopper-Pearson exact 95% CI"


def _true(series: pd.Series) -> np.ndarray:
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def _false(series: pd.Series) -> np.ndarray:
    return (~series.astype("boolean")).fillna(False).to_numpy(dtype=bool)


def _row(key: str, label: str, k: int, n: int, method: str = "count; " + _CI_METHOD) -> dict:
    p = proportion(int(k), int(n))
    return {"key": key, "label": label, "numerator": p.numerator, "denominator": p.denominator,
            "estimate": p.estimate, "ci_low": p.ci_low, "ci_high": p.ci_high,
            "p_value": math.nan, "method": method, "unit": "proportion"}


def crs_status(cohort: pd.DataFrame) -> pd.Series:
    """Each patient's CRS record as an ordered categorical of :data:`CRS_STATUS_LABELS`."""
    crs = cohort["crs"].astype("boolean")
    status = np.select([_true(crs), _false(crs)], CRS_STATUS_LABELS[:2], default=CRS_STATUS_LABELS[2])
    return pd.Series(pd.Categorical(status, categories=CRS_STATUS_LABELS, ordered=True),
                     index=cohort.index, name="crs_status")


def crs_incidence(cohort: pd.DataFrame) -> pd.DataFrame:
    """CRS incidence under the two readings of a missing record, with exact 95 % CIs.

    Returns
    -------
    DataFrame
        Result rows (``results.csv`` schema without ``notebook``) plus ``reading``:

        * ``crs[all]`` -- CRS among all patients, a missing record counted as
          no CRS (the paper's 5/34 = 14.7%);
        * ``crs[crs_recorded=True]`` -- CRS among patients with a record;
        * ``n[crs_recorded=True]`` -- patients with a record, of all.
    """
    crs = _true(cohort["crs"])
    recorded = cohort["crs"].notna().to_numpy(dtype=bool)
    n_all = len(cohort)
    rows = [
        _row("crs[all]", "CRS, all patients (not recorded counted as no CRS)",
             crs.sum(), n_all, "proportion; " + _CI_METHOD)
        | {"reading": "all patients; not recorded = no CRS (the paper's 5/34)"},
        _row("crs[crs_recorded=True]", "CRS, among patients with a CRS record",
             crs.sum(), recorded.sum(), "proportion; " + _CI_METHOD)
        | {"reading": "patients with a record only"},
        _row("n[crs_recorded=True]", "Patients with CRS recorded (yes or no)",
             recorded.sum(), n_all) | {"reading": "all patients"},
    ]
    return pd.DataFrame(rows)


def crs_grades(cohort: pd.DataFrame, severe_from: int = 3) -> pd.DataFrame:
    """CRS grades (CTCAE v5): distribution among CRS patients and the count at or above ``severe_from``.

    Rows: ``n[crs=True&crs_grade=g]`` for g = 1..5 (share of CRS patients; zero
    counts kept), ``n[crs_grade=g]`` for each grade present (share of all
    patients, as the paper's "only one patient ... grade 3"), and
    ``crs_grade_ge{severe_from}[crs=True]`` (grade >= ``severe_from`` among CRS
    patients). A CRS patient without a grade would break the data contract, so
    none is expected; such a patient counts in no grade row.
    """
    grade = cohort["crs_grade"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    crs = _true(cohort["crs"])
    n_crs, n_all = int(crs.sum()), len(cohort)
    rows = []
    for g in range(1, 6):
        k = int((crs & (grade == g)).sum())
        rows.append(_row(rate_key("n", {"crs": True, "crs_grade": g}), f"CRS grade {g}, among CRS",
                         k, n_crs) | {"population": "CRS patients", "grade": str(g)})
    for g in sorted({int(v) for v in grade[~np.isnan(grade)]}):
        rows.append(_row(rate_key("n", {"crs_grade": g}), f"CRS grade {g}, of all patients",
                         int((grade == g).sum()), n_all) | {"population": "all patients",
                                                            "grade": str(g)})
    severe = int((crs & (grade >= severe_from)).sum())
    rows.append(_row(f"crs_grade_ge{severe_from}[crs=True]", f"CRS grade >= {severe_from}, among CRS",
                     severe, n_crs, "proportion; " + _CI_METHOD)
                | {"population": "CRS patients", "grade": f">={severe_from}"})
    return pd.DataFrame(rows)


def crs_by_category(cohort: pd.DataFrame) -> pd.DataFrame:
    """Debulking category of patients with and without CRS, under both readings of a missing record.

    Returns
    -------
    DataFrame
        One row per category (contract order) plus a total row, with counts
        ``CRS``, ``No CRS``, ``Not recorded`` and the shares (%, unrounded)
        ``% of CRS`` (denominator: CRS patients), ``% of no CRS, recorded``
        (denominator: patients recorded as no CRS -- the paper's 28) and
        ``% of no CRS, not recorded = no`` (denominator: all patients without
        CRS, i.e. including the one not recorded -- 29). ``category`` holds the code.
    """
    status = crs_status(cohort)
    categories = list(contract.column("debulking_category").codes)
    counts = pd.crosstab(cohort["debulking_category"].astype(str), status, dropna=False)
    counts = counts.reindex(index=categories, columns=list(CRS_STATUS_LABELS), fill_value=0)
    n_crs, n_no = counts["CRS"].sum(), counts["No CRS"].sum()
    n_no_or_missing = n_no + counts["Not recorded"].sum()
    table = pd.DataFrame({
        "category": categories,
        "Debulking": [contract.code_label("debulking_category", c) for c in categories],
        "CRS": counts["CRS"].to_numpy(), "No CRS": counts["No CRS"].to_numpy(),
        "Not recorded": counts["Not recorded"].to_numpy(),
    })
    table["% of CRS"] = 100 * table["CRS"] / n_crs if n_crs else np.nan
    table["% of no CRS, recorded"] = 100 * table["No CRS"] / n_no if n_no else np.nan
    table["% of no CRS, not recorded = no"] = (
        100 * (table["No CRS"] + table["Not recorded"]) / n_no_or_missing if n_no_or_missing else np.nan)
    total = {"category": "total", "Debulking": "Total", "CRS": n_crs, "No CRS": n_no,
             "Not recorded": counts["Not recorded"].sum(), "% of CRS": 100.0 if n_crs else np.nan,
             "% of no CRS, recorded": 100.0 if n_no else np.nan,
             "% of no CRS, not recorded = no": 100.0 if n_no_or_missing else np.nan}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def crs_by_category_results(cohort: pd.DataFrame) -> pd.DataFrame:
    """Result rows for :func:`crs_by_category`, keyed as the paper's figures.

    ``n[crs=True&debulking_category=c]`` (share of CRS patients),
    ``n[crs=False&debulking_category=c]`` (share of patients recorded without
    CRS) and ``n[crs_recorded=False&debulking_category=c]`` (where the missing
    records are).
    """
    from helpers.subgroups import count_by

    blocks = [count_by(cohort, "debulking_category", where={"crs": True}),
              count_by(cohort, "debulking_category", where={"crs": False}),
              count_by(cohort, "debulking_category", where={"crs_recorded": False})]
    return pd.concat(blocks, ignore_index=True)


def _truncate(value: float, digits: int = 1) -> float:
    factor = 10 ** digits
    return math.floor(value * factor + 1e-9) / factor


def _round_half_up(value: float, digits: int = 1) -> float:
    factor = 10 ** digits
    return math.floor(value * factor + 0.5 + 1e-9) / factor


def _printed_number(text: str) -> float:
    import re

    found = re.search(r"\d+(?:\.\d+)?", str(text))
    return float(found.group()) if found else math.nan


def printed_percentages_check(cohort: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Rebuild the paper's CRS-by-debulking percentages from counts and say how each was printed.

    For each debulking category and CRS status (yes / recorded no), the count
    comes from ``cohort``; the percentage is computed with the denominator of
    each reading (CRS patients; patients recorded without CRS; all patients
    without CRS, not recorded counted as no) and compared with the printed text
    of the published figure whose ``result_key`` is ``n[crs=...&debulking_category=...]``.

    Returns
    -------
    DataFrame
        One row per published figure: ``figure`` id, ``group``, ``category``,
        ``printed`` (text), ``n``, ``N`` (denominator of the recorded reading),
        ``exact %``, ``rounded`` and ``truncated`` (1 decimal), ``printed as``
        (``rounded``, ``truncated``, ``either`` or ``neither``), and for the
        no-CRS rows ``N if not recorded = no``, ``% if not recorded = no`` and
        ``fits printed if not recorded = no`` (whether that reading, rounded or
        truncated, gives the printed figure).
        Printed integers ("60%") are compared at the precision printed.
    """
    status = crs_status(cohort)
    category = cohort["debulking_category"].astype(str)
    by_key = published.dropna(subset=["result_key"]).set_index("result_key")
    rows = []
    for flag, name in ((True, "CRS"), (False, "No CRS")):
        in_group = (status == name).to_numpy()
        n_group = int(in_group.sum())
        n_alt = int(((status == "No CRS") | (status == "Not recorded")).sum())
        for code in contract.column("debulking_category").codes:
            key = rate_key("n", {"crs": flag, "debulking_category": code})
            if key not in by_key.index:
                continue
            fig = by_key.loc[key]
            k = int((in_group & (category == code).to_numpy()).sum())
            exact = 100 * k / n_group if n_group else math.nan
            if flag:
                alt = exact
            else:  # the patient without a record joins the no-CRS group
                in_alt = ((status == "No CRS") | (status == "Not recorded")).to_numpy()
                k_alt = int((in_alt & (category == code).to_numpy()).sum())
                alt = 100 * k_alt / n_alt if n_alt else math.nan
            printed_text = str(fig["printed"])
            printed = _printed_number(printed_text)
            digits = len(printed_text.split(".")[1].rstrip("%")) if "." in printed_text else 0
            rounded, truncated = _round_half_up(exact, digits), _truncate(exact, digits)
            hits = [name_ for name_, v in (("rounded", rounded), ("truncated", truncated))
                    if abs(v - printed) < 1e-9]
            rows.append({
                "figure": fig["id"], "group": name, "category": code, "printed": printed_text,
                "n": k, "N": n_group, "exact %": exact, "rounded": rounded, "truncated": truncated,
                "printed as": {0: "neither", 1: hits[0] if hits else "", 2: "either"}[len(hits)],
                "N if not recorded = no": n_alt if not flag else n_group,
                "% if not recorded = no": alt,
                "fits printed if not recorded = no": any(
                    abs(f(alt, digits) - printed) < 1e-9 for f in (_round_half_up, _truncate)),
            })
    return pd.DataFrame(rows)


def _blast_flags(cohort: pd.DataFrame, high_cutoff: float, low_cutoff: float):
    base = cohort["bmb_baseline_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    post = cohort["bmb_post_debulking_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return base, post, base >= high_cutoff, post < low_cutoff


def crs_blasts(cohort: pd.DataFrame, *, high_cutoff: float = 50, low_cutoff: float = 20) -> pd.DataFrame:
    """Blasts before and after debulking in patients with CRS, without CRS and not recorded.

    One row per CRS status: patients, with baseline blasts ``>= high_cutoff``,
    with post-debulking blasts ``< low_cutoff``, with both, and without a
    baseline / post-debulking value. A missing value never meets a cut-off.
    """
    status = crs_status(cohort)
    base, post, high, low = _blast_flags(cohort, high_cutoff, low_cutoff)
    rows = []
    for name in CRS_STATUS_LABELS:
        g = (status == name).to_numpy()
        rows.append({
            "CRS status": name, "Patients": int(g.sum()),
            f"Before >= {high_cutoff:g}%": int((g & high).sum()),
            f"After < {low_cutoff:g}%": int((g & low).sum()),
            "Both": int((g & high & low).sum()),
            "Before not available": int((g & np.isnan(base)).sum()),
            "After not available": int((g & np.isnan(post)).sum()),
        })
    return pd.DataFrame(rows)


def crs_blasts_results(cohort: pd.DataFrame, *, high_cutoff: float = 50,
                       low_cutoff: float = 20) -> pd.DataFrame:
    """Result rows: patients with blasts ``>= high_cutoff`` before and ``< low_cutoff`` after debulking.

    Keys ``n[crs=True&high_burden=True&bmb_post_group=<low>]`` (share of CRS
    patients; the paper: "all but one") and the same with ``crs=False`` (share
    of patients recorded without CRS). Missing values never meet a cut-off.
    """
    status = crs_status(cohort)
    _, _, high, low = _blast_flags(cohort, high_cutoff, low_cutoff)
    rows = []
    for name, flag in zip(CRS_STATUS_LABELS[:2], (True, False)):
        g = (status == name).to_numpy()
        key = rate_key("n", {"crs": flag, "high_burden": True, "bmb_post_group": f"<{low_cutoff:g}"})
        rows.append(_row(key, f"{name}: blasts >= {high_cutoff:g}% before and < {low_cutoff:g}% "
                              "after debulking", int((g & high & low).sum()), int(g.sum())))
    return pd.DataFrame(rows)


def crs_patients(cohort: pd.DataFrame) -> pd.DataFrame:
    """One line per patient with CRS: id, debulking, blasts before/after (%), grade."""
    part = cohort[_true(cohort["crs"])]
    return pd.DataFrame({
        "Patient": part["patient_id"].astype(str).to_numpy(),
        "Debulking": [contract.code_label("debulking_category", c) for c in part["debulking_category"]],
        "Blasts before (%)": part["bmb_baseline_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
        "Blasts after (%)": part["bmb_post_debulking_pct"].astype("Float64").to_numpy(
            dtype=float, na_value=np.nan),
        "Grade": part["crs_grade"].astype("Int64").astype(str).to_numpy(),
    })
