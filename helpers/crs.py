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
from helpers.narrative import fill, n_of, p_text, plural, result_of
from helpers.results import rate_key
from helpers.stats import proportion

#: Display labels of the three CRS record states, in display order.
CRS_STATUS_LABELS: tuple[str, str, str] = ("CRS", "No CRS", "Not recorded")

#: Column added by :func:`with_crs_missing_as_no`: CRS with a missing record read as no CRS.
CRS_MISSING_AS_NO = "crs_missing_as_no"

#: Population filter (for result keys) selecting each CRS record state.
_STATUS_FILTERS = {"CRS": {"crs": True}, "No CRS": {"crs": False},
                   "Not recorded": {"crs_recorded": False}}
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
    """Each patient's CRS record as an ordered categorical of :data:`CRS_STATUS_LABELS`.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    Series
        ``"CRS"`` (``crs`` True), ``"No CRS"`` (False) or ``"Not recorded"``
        (missing), aligned with ``cohort``.
    """
    crs = cohort["crs"].astype("boolean")
    status = np.select([_true(crs), _false(crs)], CRS_STATUS_LABELS[:2], default=CRS_STATUS_LABELS[2])
    return pd.Series(pd.Categorical(status, categories=CRS_STATUS_LABELS, ordered=True),
                     index=cohort.index, name="crs_status")


def with_crs_missing_as_no(cohort: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``cohort`` with :data:`CRS_MISSING_AS_NO`: ``crs`` with a missing record as False.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        The copy, with the boolean column added (the paper's 5/34 reading).
    """
    out = cohort.copy()
    out[CRS_MISSING_AS_NO] = cohort["crs"].astype("boolean").fillna(False).astype(bool)
    return out


def crs_incidence(cohort: pd.DataFrame) -> pd.DataFrame:
    """CRS incidence under the two readings of a missing record, with exact 95 % CIs.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

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

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.
    severe_from : int, default 3
        CTCAE grade from which CRS counts as severe.

    Returns
    -------
    DataFrame
        Result rows (schema without ``notebook``) plus ``population`` and
        ``grade``; shares with exact 95 % CIs.
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

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

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

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        Count rows (:func:`helpers.subgroups.count_by`; every category and a
        ``missing`` level, zeros kept) in four blocks:
        ``n[crs=True&debulking_category=c]`` (share of CRS patients),
        ``n[crs=False&debulking_category=c]`` (share of patients recorded
        without CRS, the paper's 28), ``n[crs_missing_as_no=False&debulking_category=c]``
        (share of all patients without CRS when a missing record counts as no
        CRS, 29) and ``n[crs_recorded=False&debulking_category=c]`` (where the
        missing records are).
    """
    from helpers.subgroups import count_by

    read_as_no = with_crs_missing_as_no(cohort)
    blocks = [count_by(cohort, "debulking_category", where={"crs": True}),
              count_by(cohort, "debulking_category", where={"crs": False}),
              count_by(read_as_no, "debulking_category", where={CRS_MISSING_AS_NO: False}),
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

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.
    high_cutoff, low_cutoff : float
        Blast cut-offs (%).

    Returns
    -------
    DataFrame
        One row per CRS status: patients, with baseline blasts ``>= high_cutoff``,
        with post-debulking blasts ``< low_cutoff``, with both, and without a
        baseline / post-debulking value (counts). A missing value never meets
        a cut-off. Result rows: :func:`crs_blasts_results`.
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
    """Result rows for every count of :func:`crs_blasts`, as shares of each CRS state.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.
    high_cutoff, low_cutoff : float
        Blast cut-offs (%).

    Returns
    -------
    DataFrame
        Count rows (share with exact 95 % CI), denominator the patients in the
        state; the state is the key's first filter (``crs=True``,
        ``crs=False`` or ``crs_recorded=False``), e.g. for CRS:

        * ``n[crs=True&high_burden=True&bmb_post_group=<low>]`` -- both (the
          paper: "all but one");
        * ``n[crs=True&high_burden=True]`` -- blasts ``>= high_cutoff`` before;
        * ``n[crs=True&bmb_post_group=<low>]`` -- blasts ``< low_cutoff`` after;
        * ``n[crs=True&bmb_baseline_available=False]`` and
          ``n[crs=True&bmb_post_available=False]`` -- value not available.

        Missing values never meet a cut-off.
    """
    status = crs_status(cohort)
    base, post, high, low = _blast_flags(cohort, high_cutoff, low_cutoff)
    low_level = f"<{low_cutoff:g}"
    rows = []
    for name in CRS_STATUS_LABELS:
        g = (status == name).to_numpy()
        n = int(g.sum())
        state = _STATUS_FILTERS[name]
        for extra, mask, text in (
                ({"high_burden": True, "bmb_post_group": low_level}, high & low,
                 f"blasts >= {high_cutoff:g}% before and < {low_cutoff:g}% after debulking"),
                ({"high_burden": True}, high, f"blasts >= {high_cutoff:g}% before debulking"),
                ({"bmb_post_group": low_level}, low, f"blasts < {low_cutoff:g}% after debulking"),
                ({"bmb_baseline_available": False}, np.isnan(base), "blasts before debulking not available"),
                ({"bmb_post_available": False}, np.isnan(post), "blasts after debulking not available")):
            rows.append(_row(rate_key("n", {**state, **extra}), f"{name}: {text}",
                             int((g & mask).sum()), n))
    return pd.DataFrame(rows)


def crs_patients(cohort: pd.DataFrame) -> pd.DataFrame:
    """One line per patient with CRS: id, debulking, blasts before/after (%), grade.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        ``Patient``, ``Debulking`` (label), ``Blasts before (%)``, ``Blasts
        after (%)`` (NaN when not done) and ``Grade`` (text; ``<NA>`` if missing).
    """
    part = cohort[_true(cohort["crs"])]
    return pd.DataFrame({
        "Patient": part["patient_id"].astype(str).to_numpy(),
        "Debulking": [contract.code_label("debulking_category", c) for c in part["debulking_category"]],
        "Blasts before (%)": part["bmb_baseline_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan),
        "Blasts after (%)": part["bmb_post_debulking_pct"].astype("Float64").to_numpy(
            dtype=float, na_value=np.nan),
        "Grade": part["crs_grade"].astype("Int64").astype(str).to_numpy(),
    })


# --- prose -----------------------------------------------------------------------------

def _denominator_fit(printed_check: pd.DataFrame) -> dict:
    """How the paper's no-CRS percentages fit the two denominators (counts of figures)."""
    no = printed_check[printed_check["group"] == "No CRS"] if len(printed_check) else printed_check
    if not len(no):
        return {"m": 0}
    return {"m": len(no), "N": int(no["N"].iloc[0]), "N_alt": int(no["N if not recorded = no"].iloc[0]),
            "fit": int((no["printed as"] != "neither").sum()),
            "fit_alt": int(no["fits printed if not recorded = no"].astype(bool).sum()),
            "truncated": int((no["printed as"] == "truncated").sum())}


def _fit_sentence(fit: dict) -> str:
    if not fit["m"]:
        return ""
    trunc = (f"; {fit['truncated']} of them only when truncated rather than rounded"
             if fit["truncated"] else "")
    return (f"Of the paper's {plural(fit['m'], 'no-CRS percentage')}, {fit['fit']} fit the denominator "
            f"of patients *recorded* without CRS (N = {fit['N']}{trunc}) and {fit['fit_alt']} fit the one "
            f"with unrecorded patients counted as no CRS (N = {fit['N_alt']}).")


def summary_text(res: pd.DataFrame, by_category: pd.DataFrame, printed_check: pd.DataFrame, *,
                 severe_grade: int, high_cutoff: float, low_cutoff: float) -> str:
    """The results paragraph of notebook 04, every number from the results, plurals matched.

    Parameters
    ----------
    res : DataFrame
        Notebook 04's result rows (``results.csv`` schema).
    by_category : DataFrame
        From :func:`crs_by_category` (for the categories of unrecorded patients).
    printed_check : DataFrame
        From :func:`printed_percentages_check` (may be empty).
    severe_grade : int
        CTCAE grade from which CRS counts as severe.
    high_cutoff, low_cutoff : float
        Blast cut-offs (%).

    Returns
    -------
    str
        Markdown. Raises ``KeyError`` naming any result key that is missing.
    """
    severe = int(result_of(res, f"crs_grade_ge{severe_grade}[crs=True]")["numerator"])
    cats = by_category[by_category["category"] != "total"]
    unrecorded = cats[cats["Not recorded"] > 0]
    n_unrecorded = int(cats["Not recorded"].sum())
    if n_unrecorded:
        where = ", ".join(f"{lab.lower() if not lab.isupper() else lab} ({int(k)})"
                          for lab, k in zip(unrecorded["Debulking"], unrecorded["Not recorded"]))
        missing_text = (f"The {plural(n_unrecorded, 'patient')} without a record had been debulked with: "
                        f"{where}.")
    else:
        missing_text = "Every patient has a CRS record."
    lo = f"<{low_cutoff:g}"
    template = f"""
Clinically significant CRS occurred in **[[crs[all]:n_of]]** patients when a missing CRS record is
counted as no CRS ([[crs[all]:ci]]), or [[crs[crs_recorded=True]:n_of]] of the
[[n[crs_recorded=True]:n]] patients with a record ([[crs[crs_recorded=True]:ci]]).
{plural(severe, 'patient')} had CRS of grade {severe_grade} or higher.

Among patients with CRS, [[n[crs=True&debulking_category=low_intensity_chemo]:n_of]] had received
low-intensity chemotherapy, [[n[crs=True&debulking_category=steroids]:n_of]] steroids alone,
[[n[crs=True&debulking_category=polychemotherapy]:n_of]] polychemotherapy and
[[n[crs=True&debulking_category=tki]:n_of]] a TKI. Among patients recorded without CRS:
[[n[crs=False&debulking_category=low_intensity_chemo]:n_of]],
[[n[crs=False&debulking_category=steroids]:n_of]],
[[n[crs=False&debulking_category=polychemotherapy]:n_of]] and
[[n[crs=False&debulking_category=tki]:n_of]]; with unrecorded patients counted as no CRS:
[[n[{CRS_MISSING_AS_NO}=False&debulking_category=low_intensity_chemo]:n_of]],
[[n[{CRS_MISSING_AS_NO}=False&debulking_category=steroids]:n_of]],
[[n[{CRS_MISSING_AS_NO}=False&debulking_category=polychemotherapy]:n_of]] and
[[n[{CRS_MISSING_AS_NO}=False&debulking_category=tki]:n_of]]. {missing_text}
{_fit_sentence(_denominator_fit(printed_check))}
Fisher's exact test of CRS against the debulking category: among recorded patients
[[crs[debulking_category|crs_recorded=True]~fisher:p]]; over all patients, unrecorded counted as
no CRS, [[{CRS_MISSING_AS_NO}[debulking_category]~fisher:p]].

[[n[crs=True&high_burden=True&bmb_post_group={lo}]:n_of]] patients with CRS had blasts ≥ {high_cutoff:g}%
before and < {low_cutoff:g}% after debulking, against
[[n[crs=False&high_burden=True&bmb_post_group={lo}]:n_of]] of those recorded without CRS.
"""
    return fill(template, res)


def interpretation(res: pd.DataFrame, printed_check: pd.DataFrame, *, severe_grade: int,
                   alpha: float = 0.05) -> str:
    """The "what it means" paragraph of notebook 04, true on any data and cut-offs.

    Parameters
    ----------
    res : DataFrame
        Notebook 04's result rows.
    printed_check : DataFrame
        From :func:`printed_percentages_check` (may be empty).
    severe_grade : int
        CTCAE grade from which CRS counts as severe.
    alpha : float, default 0.05
        Level used for the words "below"/"not below".

    Returns
    -------
    str
        Markdown starting with "**What it means.**"; every number computed.
    """
    crs_all = result_of(res, "crs[all]")
    k, n = int(crs_all["numerator"]), int(crs_all["denominator"])
    severe = int(result_of(res, f"crs_grade_ge{severe_grade}[crs=True]")["numerator"])
    if k == 0:
        parts = ["**What it means.** No patient had CRS recorded, so nothing can be said about its "
                 "relation to debulking or blasts."]
    else:
        mild = ("all of it" if severe == 0 else "most of it" if 2 * severe < k
                else "half of it" if 2 * severe == k else "a minority of it")
        parts = [f"**What it means.** CRS occurred in {n_of(k, n)} patients; {mild} was below grade "
                 f"{severe_grade} ({severe} of {k} at grade {severe_grade} or higher)."]
        p_rec = float(result_of(res, "crs[debulking_category|crs_recorded=True]~fisher")["p_value"])
        p_all = float(result_of(res, f"{CRS_MISSING_AS_NO}[debulking_category]~fisher")["p_value"])
        both_high = p_rec >= alpha and p_all >= alpha
        parts.append(f"Fisher's test of CRS against the debulking category gives {p_text(p_rec)} among "
                     f"recorded patients and {p_text(p_all)} with unrecorded patients counted as no CRS"
                     + (f"; neither is below {alpha:g}" if both_high else "")
                     + (f", and with only {plural(k, 'CRS event')} such a test has little power to show "
                        "a difference." if both_high and k < 10 else "."))
    fit = _denominator_fit(printed_check)
    if fit["m"]:
        parts.append(_fit_sentence(fit))
    missing_post = sum(int(result_of(res, rate_key("n", {**state, "bmb_post_available": False}))["numerator"])
                       for state in _STATUS_FILTERS.values())
    parts.append("The blast profile of CRS patients is descriptive only: compare it with the patients "
                 f"without CRS above, and note that blasts after debulking are missing for "
                 f"{n_of(missing_post, n)} patients.")
    return " ".join(parts)
