"""Response to blinatumomab: patient flow, treatment delivery, HSCT after CR, subgroup rows.

Builders for notebook 03 (the paper's sections 3.3.1-3.3.5 and Figure 1). They
take a loaded cohort (:func:`helpers.loading.load_cohort`) and return new frames
or small frozen dataclasses; inputs are never modified. Rates and tests by
subgroup come from :func:`helpers.subgroups.rate_by`; this module arranges them
(combined CR/MRD table, forest-plot rows) and adds the counts that are specific
to the response analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers import contract
from helpers.narrative import fill, n_of, p_text, pct, plural, result_of
from helpers.results import rate_key
from helpers.stats import proportion

#: Name of the two-level post-debulking blast grouping split at the low cut-off
#: (``<low``, ``>=low``, ``missing``).
POST_SPLIT_COLUMN = "bmb_post_group2"

#: Name of the two-level post-debulking blast grouping split at the high cut-off
#: (``<high``, ``>=high``, ``missing``): the paper's "none of the 2 with >=50%".
POST_HIGH_SPLIT_COLUMN = "bmb_post_high"

#: Blast groupings whose level labels are percentages (shown with "%").
_BLAST_GROUPINGS = ("bmb_baseline_group", "bmb_post_group", POST_SPLIT_COLUMN, POST_HIGH_SPLIT_COLUMN)


# --- patient flow ----------------------------------------------------------------------

@dataclass(frozen=True)
class PatientFlow:
    """Patients at each step from treatment to transplant (counts of patients).

    Attributes
    ----------
    treated : int
        All patients (every patient received blinatumomab).
    two_cycles, one_cycle : int
        Patients by cycles received: ``blina_cycles >= 2`` and ``== 1``.
    one_cycle_without_cr : int
        Patients with one cycle and no CR (the paper: they progressed in cycle 1).
    cr : int
        Patients in CR, CRp or CRi within 2 cycles (``any_cr``).
    mrd_evaluable : int
        CR patients with an MRD result.
    mrd_negative : int
        CR patients with a complete MRD response.
    hsct_after : int
        CR patients transplanted after blinatumomab.
    """

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
        """CR patients among those with two cycles (CR with one cycle is not expected)."""
        return self.cr - (self.one_cycle - self.one_cycle_without_cr)


def _true(series: pd.Series) -> np.ndarray:
    """Boolean mask where ``series`` is True; missing counts as not True."""
    return series.astype("boolean").fillna(False).to_numpy(dtype=bool)


def patient_flow(cohort: pd.DataFrame) -> PatientFlow:
    """Count the patients at each step of the treatment flow (paper section 3.3.1).

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    PatientFlow
        Counts of patients. Missing ``mrd_status`` means not MRD-evaluable;
        missing booleans count as not True; ``hsct_after_blina`` is counted
        among CR patients only (the contract allows it only for them).
    """
    cycles = cohort["blina_cycles"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    cr = _true(cohort["any_cr"])
    one = cycles == 1
    return PatientFlow(
        treated=int(len(cohort)),
        two_cycles=int((cycles >= 2).sum()),
        one_cycle=int(one.sum()),
        one_cycle_without_cr=int((one & ~cr).sum()),
        cr=int(cr.sum()),
        mrd_evaluable=int((cr & _true(cohort["mrd_evaluable"])).sum()),
        mrd_negative=int((cr & _true(cohort["mrd_negative"])).sum()),
        hsct_after=int((cr & _true(cohort["hsct_after_blina"])).sum()),
    )


def _count_row(key: str, label: str, numerator: int, denominator: int) -> dict:
    p = proportion(int(numerator), int(denominator))
    return {"key": key, "label": label, "numerator": p.numerator, "denominator": p.denominator,
            "estimate": p.estimate, "ci_low": p.ci_low, "ci_high": p.ci_high,
            "method": "count; Clopper-Pearson exact 95% CI", "unit": "proportion"}


def flow_results(flow: PatientFlow) -> pd.DataFrame:
    """Result rows (``results.csv`` schema) for the flow steps not recorded elsewhere.

    Parameters
    ----------
    flow : PatientFlow
        From :func:`patient_flow`.

    Returns
    -------
    DataFrame
        Count rows (share with exact 95 % CI). Keys: ``n[all]`` (treated), ``response=none[blina_cycles=1]`` (one-cycle
    patients without CR), ``any_cr[blina_cycles=2]`` (CR among patients with
    two cycles; CR patients with one cycle would be left out of this row) and
    ``n[any_cr=True&mrd_evaluable=True]`` (MRD-evaluable among CR). Cycle
    counts, CR and MRD rates have their own rows (treatment delivery, rates).
    """
    rows = [
        _count_row("n[all]", "Patients treated with blinatumomab", flow.treated, flow.treated),
        _count_row("response=none[blina_cycles=1]", "No CR among patients with one cycle",
                   flow.one_cycle_without_cr, flow.one_cycle),
        _count_row("any_cr[blina_cycles=2]", "CR among patients with two cycles",
                   flow.cr_after_two_cycles, flow.two_cycles),
        _count_row(rate_key("n", {"any_cr": True, "mrd_evaluable": True}),
                   "MRD-evaluable among CR patients", flow.mrd_evaluable, flow.cr),
    ]
    return pd.DataFrame(rows)


# --- treatment delivery and HSCT -----------------------------------------------------

def treatment_delivery(cohort: pd.DataFrame) -> pd.DataFrame:
    """Patients by blinatumomab dose (full / full with interruption > 72 h / reduced) and cycles.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        Count rows as :func:`helpers.tables.count_rows` (keys
        ``n[blina_dose=full]``, ``n[blina_cycles=2]``...; shares of all
        patients, exact 95 % CI; missing values their own level).
    """
    from helpers.tables import count_rows

    return count_rows(cohort, ("blina_dose", "blina_cycles"))


def response_counts(cohort: pd.DataFrame) -> pd.DataFrame:
    """Patients by best response within 2 cycles (CR, CRp, CRi, no CR).

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        Count rows as :func:`helpers.tables.count_rows`, keys ``n[response=cr]``...
    """
    from helpers.tables import count_rows

    return count_rows(cohort, ("response",))


def hsct_after_cr(cohort: pd.DataFrame) -> pd.DataFrame:
    """HSCT after CR with blinatumomab, and prior HSCT among CR patients not transplanted.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    DataFrame
        Count rows (as :func:`helpers.tables.count_rows`) with ``population``,
        in three blocks:

    * ``n[hsct_after_blina=...]`` -- share of all patients (the contract allows
      a transplant after blinatumomab only for CR patients);
    * ``n[any_cr=True&hsct_after_blina=...]`` -- share of CR patients (the paper's 7/23);
    * ``n[any_cr=True&hsct_after_blina=False&prior_hsct=...]`` -- among CR patients
      not transplanted, whether they had a transplant before (the paper's 8 and 8).

    Missing values are their own level. Planned transplants and donor
    availability are not in the data (see :data:`HSCT_NOT_IN_DATA`).
    """
    from helpers.tables import count_rows

    blocks = [
        count_rows(cohort, ("hsct_after_blina",)).assign(population="All patients"),
        count_rows(cohort, ("hsct_after_blina",), where={"any_cr": True}).assign(
            population="CR patients"),
        count_rows(cohort, ("prior_hsct",), where={"any_cr": True, "hsct_after_blina": False}).assign(
            population="CR patients not transplanted after blinatumomab"),
    ]
    return pd.concat(blocks, ignore_index=True)


# --- groupings -------------------------------------------------------------------------

def _two_groups(values: np.ndarray, cutoff: float) -> pd.Categorical:
    labels = [f"<{cutoff:g}", f">={cutoff:g}", "missing"]
    group = np.select([values < cutoff, values >= cutoff], labels[:2], default="missing")
    return pd.Categorical(group, categories=labels, ordered=True)


def with_post_debulking_split(cohort: pd.DataFrame, cutoff: float = 20,
                              high_cutoff: float = 50) -> pd.DataFrame:
    """A copy of ``cohort`` with the post-debulking blasts split in two groups, twice.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.
    cutoff : float, default 20
        Low cut-off (% blasts) for :data:`POST_SPLIT_COLUMN`: levels
        ``<cutoff`` and ``>=cutoff`` (e.g. ``<20`` / ``>=20``, merging the
        paper's 20-49 % and >=50 % groups).
    high_cutoff : float, default 50
        High cut-off (% blasts) for :data:`POST_HIGH_SPLIT_COLUMN`: levels
        ``<high_cutoff`` and ``>=high_cutoff`` (merging the paper's <20 % and
        20-49 % groups).

    Returns
    -------
    DataFrame
        The copy with both columns added, ordered categoricals whose third
        level is ``missing`` (no post-debulking marrow done). They give the
        two 2 x 2 versions of the section 3.3.3 comparison.
    """
    values = cohort["bmb_post_debulking_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    out = cohort.copy()
    out[POST_SPLIT_COLUMN] = _two_groups(values, cutoff)
    out[POST_HIGH_SPLIT_COLUMN] = _two_groups(values, high_cutoff)
    return out


def burden_label(level: object, high_cutoff: float = 50) -> str:
    """Display label of a ``high_burden`` level.

    Parameters
    ----------
    level : object
        A boolean or its text (``"True"``/``"False"``, as in rate tables), or
        ``"missing"``.
    high_cutoff : float, default 50
        The blast cut-off (%).

    Returns
    -------
    str
        ``<50%`` (False), ``>=50%`` (True), ``Not available`` (missing), else
        the level as text.
    """
    if str(level) in ("True", "False"):
        return f">={high_cutoff:g}%" if str(level) == "True" else f"<{high_cutoff:g}%"
    if str(level) == "missing":
        return "Not available"
    return str(level)


def _level_label(var: str, level: object, high_cutoff: float) -> str:
    from helpers.tables import level_label

    if var == "high_burden":
        return burden_label(level, high_cutoff)
    if var in _BLAST_GROUPINGS and str(level) != "missing":
        text = str(level)
        return text if text.endswith("%") else f"{text}%"
    return level_label(var, level)


def _group_title(var: str) -> str:
    if var == POST_SPLIT_COLUMN:
        return contract.label("bmb_post_group") + " (2 groups, low cut-off)"
    if var == POST_HIGH_SPLIT_COLUMN:
        return contract.label("bmb_post_group") + " (2 groups, high cut-off)"
    return contract.label(var)


def _p_value(rate_table, test: str = "fisher") -> float:
    from helpers.subgroups import rate_table_results

    rows = rate_table_results(rate_table)
    hit = rows[rows["key"].str.endswith(f"~{test}")]
    return float(hit["p_value"].iloc[0]) if len(hit) else np.nan


# --- subgroup tables -------------------------------------------------------------------

#: Every test :func:`helpers.subgroups.rate_by` can run (2 x 2-only ones skipped on larger tables).
ALL_TESTS: tuple[str, ...] = ("fisher", "chi2", "chi2_yates", "barnard", "boschloo", "fisher_midp")


def column_list(columns: str | Sequence[str]) -> list[str]:
    """Column names from a comma-separated notebook parameter (or a list, unchanged).

    Parameters
    ----------
    columns : str or sequence of str
        ``"a, b"`` or ``["a", "b"]``; blanks are dropped.

    Returns
    -------
    list of str

    >>> column_list("age_group, lines_group")
    ['age_group', 'lines_group']
    """
    if isinstance(columns, str):
        return [c.strip() for c in columns.split(",") if c.strip()]
    return list(columns)


def subgroup_rates(cohort: pd.DataFrame, outcome: str, columns: str | Sequence[str], *,
                   all_tests_for: str | Sequence[str] = ()) -> list:
    """Rates of ``outcome`` by each grouping column, as :func:`helpers.subgroups.rate_by` tables.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort (with any derived groupings); not modified.
    outcome : str
        Boolean outcome column (``any_cr``, ``mrd_negative``...).
    columns : str or sequence of str
        Grouping columns (comma-separated text or a list).
    all_tests_for : str or sequence of str
        Columns that get every test of :data:`ALL_TESTS`.

    Returns
    -------
    list of RateTable
        One per column, in order. Fisher's exact test (r x c) across the
        levels for every column; for the columns in ``all_tests_for`` also
        chi-square, and for 2 x 2 tables Yates, Barnard, Boschloo and Fisher's
        mid-p. Missing outcome = not evaluable and a ``missing`` group level is
        shown but not tested (``rate_by``'s rules).
    """
    from helpers.subgroups import rate_by

    all_tests_for = column_list(all_tests_for)
    return [rate_by(cohort, outcome, by, tests=ALL_TESTS if by in all_tests_for else ("fisher",))
            for by in column_list(columns)]


def table_for(rate_tables: Sequence, column: str):
    """The rate table grouped by ``column``.

    Parameters
    ----------
    rate_tables : sequence of RateTable
    column : str

    Returns
    -------
    RateTable
        The first table with ``by == column``; ``KeyError`` naming it when absent.
    """
    for rt in rate_tables:
        if rt.by == column:
            return rt
    raise KeyError(f"no rate table grouped by {column!r}")


def rate_results(rate_tables: Sequence) -> pd.DataFrame:
    """Result rows of several rate tables, stacked.

    Parameters
    ----------
    rate_tables : sequence of RateTable

    Returns
    -------
    DataFrame
        :func:`helpers.subgroups.rate_table_results` of each, in order.
    """
    from helpers.subgroups import rate_table_results

    return pd.concat([rate_table_results(rt) for rt in rate_tables], ignore_index=True)


def p_values_by_test(rate_tables: Sequence, columns: Sequence[str] | None = None, *,
                     high_cutoff: float = 50, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every test run on each rate table, one column per test: which test gives which p-value.

    Parameters
    ----------
    rate_tables : sequence of RateTable
        From :func:`subgroup_rates`.
    columns : sequence of str, optional
        Grouping columns to include, in order (all tables when None).
    high_cutoff : float
        Blast cut-off, for the labels of ``high_burden``.
    published : DataFrame, optional
        The paper's figures (:func:`helpers.published.load_published_figures`);
        adds ``Paper`` with the printed p-value whose ``result_key`` is this
        comparison's test key.

    Returns
    -------
    DataFrame
        One row per table: ``Comparison`` (label), ``key`` (``outcome[by]``),
        ``Table`` (tested levels, events/patients), ``Paper`` (if given) and one
        p-value column per test short name (blank where the test does not apply).
    """
    if columns is not None:
        rate_tables = [table_for(rate_tables, c) for c in column_list(columns)]
    printed: dict[str, str] = {}
    if published is not None:
        for key, text in zip(published["result_key"], published["printed"]):
            if isinstance(key, str) and "~" in key:
                printed[key.split("~")[0]] = str(text)
    rows = []
    for rt in rate_tables:
        tested = rt.rates[(rt.rates["level"] != "missing") & (rt.rates["denominator"] > 0)]
        key = f"{rt.outcome}[{rt.by}]"
        row = {"Comparison": _group_title(rt.by), "key": key,
               "Table": " vs ".join(f"{_level_label(rt.by, lv, high_cutoff)}: {k}/{n}" for lv, k, n in
                                    zip(tested["level"], tested["numerator"], tested["denominator"]))}
        if published is not None:
            row["Paper"] = printed.get(key, "")
        row.update({t.short: t.p_value for t in rt.tests})
        rows.append(row)
    return pd.DataFrame(rows)


def response_table(cr_tables: Sequence, mrd_tables: Sequence, *, high_cutoff: float = 50) -> pd.DataFrame:
    """CR and complete MRD response side by side for each subgroup.

    Parameters
    ----------
    cr_tables, mrd_tables : sequence of RateTable
        From :func:`helpers.subgroups.rate_by` for ``any_cr`` and ``mrd_negative``,
        paired by position (same grouping variable).
    high_cutoff : float
        Blast cut-off, for the labels of ``high_burden``.

    Returns
    -------
    DataFrame
        One row per level: ``Subgroup`` (on the block's first row), ``Level``,
        ``CR n/N``, ``CR %``, ``CR 95% CI``, ``CR p`` and the same for MRD
        (among MRD-evaluable CR patients). The p-value is Fisher's exact test
        across the levels (as computed by ``rate_by``; missing levels are
        shown but are not part of the test), printed on the block's first row.
    """
    rows = []
    for cr, mrd in zip(cr_tables, mrd_tables, strict=True):
        if cr.by != mrd.by:
            raise ValueError(f"paired tables group by different variables: {cr.by} vs {mrd.by}")
        mrd_rates = mrd.rates.set_index(mrd.rates["level"].astype(str))
        p_cr, p_mrd = _p_value(cr), _p_value(mrd)
        for i, r in enumerate(cr.rates.itertuples(index=False)):
            m = mrd_rates.loc[str(r.level)] if str(r.level) in mrd_rates.index else None
            rows.append({
                "Subgroup": _group_title(cr.by) if i == 0 else "",
                "Level": _level_label(cr.by, r.level, high_cutoff),
                "CR n/N": f"{r.numerator}/{r.denominator}",
                "CR %": pct(r.numerator, r.denominator),
                "CR 95% CI": _ci(r.ci_low, r.ci_high),
                "CR p": p_text(p_cr) if i == 0 else "",
                "MRD- n/N": "" if m is None else f"{m['numerator']}/{m['denominator']}",
                "MRD- %": "" if m is None else pct(int(m["numerator"]), int(m["denominator"])),
                "MRD- 95% CI": "" if m is None else _ci(m["ci_low"], m["ci_high"]),
                "MRD- p": p_text(p_mrd) if i == 0 else "",
            })
    return pd.DataFrame(rows)


def _ci(low: float, high: float) -> str:
    return "–" if pd.isna(low) else f"{100 * low:.1f}–{100 * high:.1f}"


def forest_rows(rate_tables: Sequence, columns: Sequence[str] | None = None, *,
                include_missing: bool = False, high_cutoff: float = 50) -> pd.DataFrame:
    """Rows for :func:`helpers.figures.plot_forest`: one per subgroup level.

    Parameters
    ----------
    rate_tables : sequence of RateTable
    columns : sequence of str or str, optional
        Groupings to include, in that order (all when None).
    include_missing : bool, default False
        Keep the ``missing`` levels.
    high_cutoff : float, default 50
        Blast cut-off, for the labels of ``high_burden``.

    Returns
    -------
    DataFrame
        ``group`` (the grouping's label), ``label`` (level, with "%" for blast
        groups, and n/N), ``estimate``, ``ci_low``, ``ci_high`` (proportions,
        exact 95 % CI) and ``key``.
    """
    if columns is not None:
        by_column = {rt.by: rt for rt in rate_tables}
        rate_tables = [by_column[c] for c in column_list(columns)]
    rows = []
    for rt in rate_tables:
        for r in rt.rates.itertuples(index=False):
            if str(r.level) == "missing" and not include_missing:
                continue
            rows.append({
                "group": _group_title(rt.by),
                "label": f"{_level_label(rt.by, r.level, high_cutoff)} ({r.numerator}/{r.denominator})",
                "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                "key": rate_key(rt.outcome, {**(rt.where or {}), rt.by: r.level}),
            })
    return pd.DataFrame(rows)


# --- Figure 1 note -----------------------------------------------------------------------

@dataclass(frozen=True)
class BaselineCoverage:
    """What Figure 1 (response by baseline blasts) leaves out.

    Attributes
    ----------
    baseline_missing : int
        Patients without blasts before debulking (not in either bar group).
    cr_with_baseline : int
        CR patients with a baseline blast value.
    mrd_available : int
        Of those, patients with an MRD result (the MRD bars' denominators).
    """

    baseline_missing: int
    cr_with_baseline: int
    mrd_available: int

    @property
    def note(self) -> str:
        """The figure note, e.g. "Blasts before debulking not available for 1 patient; ..."."""
        patients = "patient" if self.baseline_missing == 1 else "patients"
        return (f"Blasts before debulking not available for {self.baseline_missing} {patients}. "
                f"MRD available for {self.mrd_available} of {self.cr_with_baseline} "
                "CR patients with blasts before debulking.")


def baseline_coverage(cohort: pd.DataFrame) -> BaselineCoverage:
    """Count the patients Figure 1 can show (baseline blasts known; MRD among CR).

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.

    Returns
    -------
    BaselineCoverage
        Missing blasts and missing booleans count as not available / not True.
    """
    known = cohort["bmb_baseline_pct"].notna().to_numpy(dtype=bool)
    cr = _true(cohort["any_cr"])
    return BaselineCoverage(
        baseline_missing=int((~known).sum()),
        cr_with_baseline=int((known & cr).sum()),
        mrd_available=int((known & cr & _true(cohort["mrd_evaluable"])).sum()),
    )


def coverage_results(coverage: BaselineCoverage) -> pd.DataFrame:
    """Result row for the Figure 1 note: MRD-evaluable among CR patients with baseline blasts.

    Parameters
    ----------
    coverage : BaselineCoverage

    Returns
    -------
    DataFrame
        One row, key ``mrd_evaluable[any_cr=True&bmb_baseline_available=True]``
        (the paper: 20 of 22), exact 95 % CI.
    """
    return pd.DataFrame([_count_row(
        "mrd_evaluable[any_cr=True&bmb_baseline_available=True]",
        "MRD available among CR patients with blasts before debulking",
        coverage.mrd_available, coverage.cr_with_baseline)])



# --- prose -----------------------------------------------------------------------------

def _direction(low_row: dict, high_row: dict) -> str:
    """"lower", "higher" or "the same": the second group's rate against the first's."""
    a = low_row["numerator"] / low_row["denominator"] if low_row["denominator"] else np.nan
    b = high_row["numerator"] / high_row["denominator"] if high_row["denominator"] else np.nan
    if np.isnan(a) or np.isnan(b):
        return "not comparable (a group is empty)"
    return "lower" if b < a else "higher" if b > a else "the same"


def _significance(p: float, alpha: float = 0.05) -> str:
    if np.isnan(p):
        return "not tested"
    return (f"below {alpha:g}" if p < alpha else f"not below {alpha:g}")


def summary_text(res: pd.DataFrame, *, age_cutoff: float, lines_cutoff: float,
                 low_cutoff: float, high_cutoff: float) -> str:
    """The results paragraph of notebook 03, every number from ``res``, plurals matched.

    Parameters
    ----------
    res : DataFrame
        Notebook 03's result rows (``results.csv`` schema).
    age_cutoff, lines_cutoff : float
        The age (years) and prior-lines cut-offs the groupings were built with.
    low_cutoff, high_cutoff : float
        The blast cut-offs (%).

    Returns
    -------
    str
        Markdown. Raises ``KeyError`` naming any result key that is missing.
    """
    from helpers.loading import group_labels
    lo, mid, hi = group_labels(low_cutoff, high_cutoff)
    one = result_of(res, "n[blina_cycles=1]")
    no_cr_one = result_of(res, "response=none[blina_cycles=1]")
    n_one, k_one = int(one["numerator"]), int(no_cr_one["numerator"])
    if n_one == 0:
        one_cycle = "none stopped after the first cycle"
    else:
        without = ("all of them" if k_one == n_one else "none of them" if k_one == 0
                   else f"{k_one} of them")
        one_cycle = f"{plural(n_one, 'patient')} stopped after the first cycle ({without} without CR)"
    n_lines = int(lines_cutoff)
    lines_word = "line" if lines_cutoff == 1 else "lines"
    hsct_no = int(result_of(res, "n[any_cr=True&hsct_after_blina=False]")["numerator"])
    template = f"""
[[n[blina_dose=full]:n_pct]] patients received the full dose without prolonged interruption,
[[n[blina_dose=full_interrupted]:n]] the full dose with an interruption over 72 h and
[[n[blina_dose=reduced]:n]] a reduced dose; [[n[blina_cycles=2]:n]] received two cycles and
{one_cycle}.

**[[any_cr[all]:n_of]]** reached a CR within two cycles ([[any_cr[all]:ci]]): CR with full
recovery [[n[response=cr]:n_pct]], CRp [[n[response=crp]:n_pct]], CRi [[n[response=cri]:n_pct]].
A complete MRD response was seen in [[mrd_negative[all]:n_of]] MRD-evaluable CR patients
([[mrd_negative[all]:ci]]). [[n[any_cr=True&hsct_after_blina=True]:n_of]] CR patients were
transplanted afterwards; of the {plural(hsct_no, 'CR patient')} who were not,
[[n[any_cr=True&hsct_after_blina=False&prior_hsct=True]:n]] had already had a transplant before
blinatumomab and [[n[any_cr=True&hsct_after_blina=False&prior_hsct=False]:n]] had not.

By debulking: CR [[any_cr[debulking_category=polychemotherapy]:n_of]] after polychemotherapy,
[[any_cr[debulking_category=low_intensity_chemo]:n_of]] after low-intensity chemotherapy,
[[any_cr[debulking_category=steroids]:n_of]] after steroids alone and
[[any_cr[debulking_category=tki]:n_of]] after a TKI (Fisher [[any_cr[debulking_category]~fisher:p]]).

By blasts before debulking: CR [[any_cr[high_burden=False]:n_of]] below {high_cutoff:g}% versus
[[any_cr[high_burden=True]:n_of]] at or above (Fisher [[any_cr[high_burden]~fisher:p]]);
complete MRD response [[mrd_negative[high_burden=False]:n_of]] and [[mrd_negative[high_burden=True]:n_of]].
After debulking: CR [[any_cr[bmb_post_group={lo}]:n_of]] below {low_cutoff:g}%,
[[any_cr[bmb_post_group={mid}]:n_of]] at {mid}% and [[any_cr[bmb_post_group={hi}]:n_of]] at or above
{high_cutoff:g}% (exact Fisher 3 x 2 [[any_cr[bmb_post_group]~fisher:p]], Pearson chi-square
[[any_cr[bmb_post_group]~chi2:p]]). Split at {low_cutoff:g}% only, Fisher gives
[[any_cr[{POST_SPLIT_COLUMN}]~fisher:p]]; split at {high_cutoff:g}% only
([[any_cr[{POST_HIGH_SPLIT_COLUMN}=<{high_cutoff:g}]:n_of]] vs
[[any_cr[{POST_HIGH_SPLIT_COLUMN}=>={high_cutoff:g}]:n_of]]), Fisher gives
[[any_cr[{POST_HIGH_SPLIT_COLUMN}]~fisher:p]] (Lancaster's mid-p: [[any_cr[{POST_HIGH_SPLIT_COLUMN}]~fisher_midp:p]]),
Barnard [[any_cr[{POST_HIGH_SPLIT_COLUMN}]~barnard:p]] and Boschloo
[[any_cr[{POST_HIGH_SPLIT_COLUMN}]~boschloo:p]].

By age: CR [[any_cr[age_group=<{age_cutoff:g}]:n_of]] under {age_cutoff:g} and
[[any_cr[age_group=>={age_cutoff:g}]:n_of]] at {age_cutoff:g} or older (Fisher [[any_cr[age_group]~fisher:p]]).
By prior lines: CR [[any_cr[lines_group=<={n_lines}]:n_of]] after at most {n_lines} {lines_word} and
[[any_cr[lines_group=>{n_lines}]:n_of]] after more (Fisher [[any_cr[lines_group]~fisher:p]]);
complete MRD response [[mrd_negative[lines_group=<={n_lines}]:n_of]] and
[[mrd_negative[lines_group=>{n_lines}]:n_of]].
"""
    return fill(template, res)


def interpretation(cr_tables: Sequence, mrd_tables: Sequence, res: pd.DataFrame, *,
                   lines_cutoff: float, high_cutoff: float, alpha: float = 0.05) -> str:
    """The "what it means" paragraph of notebook 03, true on any data and cut-offs.

    Every claim is computed: directions of the contrasts, which Fisher p-values
    fall below ``alpha``, the smallest group sizes and the widest interval. It
    does not compare with the paper (notebook 06 does).

    Parameters
    ----------
    cr_tables, mrd_tables : sequence of RateTable
        From :func:`subgroup_rates` for ``any_cr`` and ``mrd_negative``.
    res : DataFrame
        Notebook 03's result rows.
    lines_cutoff, high_cutoff : float
        Cut-offs of the prior-lines and baseline-blast groupings.
    alpha : float, default 0.05
        Level used for the words "below"/"not below".

    Returns
    -------
    str
        Markdown starting with "**What it means.**".
    """
    cr_all, mrd_all = result_of(res, "any_cr[all]"), result_of(res, "mrd_negative[all]")
    k, n = int(cr_all["numerator"]), int(cr_all["denominator"])
    mk, mn = int(mrd_all["numerator"]), int(mrd_all["denominator"])
    mrd_share = ("most" if 2 * mk > mn else "half" if 2 * mk == mn else "a minority") if mn else "none"
    parts = [f"**What it means.** {n_of(k, n)} patients reached a CR; of the CR patients with an MRD "
             f"result, {mrd_share} ({n_of(mk, mn) if mn else 'none evaluable'}) had a complete MRD response."]
    n_lines = int(lines_cutoff)
    for key_by, low_level, high_level, words in (
            ("high_burden", "False", "True", f"with blasts at or above {high_cutoff:g}% before debulking"),
            ("lines_group", f"<={n_lines}", f">{n_lines}",
             f"after more than {plural(n_lines, 'prior line')}")):
        a = result_of(res, f"any_cr[{key_by}={low_level}]")
        b = result_of(res, f"any_cr[{key_by}={high_level}]")
        p = float(result_of(res, f"any_cr[{key_by}]~fisher")["p_value"])
        parts.append(f"The CR rate {words} was {_direction(a, b)} "
                     f"({n_of(int(b['numerator']), int(b['denominator']))} against "
                     f"{n_of(int(a['numerator']), int(a['denominator']))}; Fisher {p_text(p)}, "
                     f"{_significance(p, alpha)}).")
    post = table_for(cr_tables, "bmb_post_group")
    sizes = post.rates[(post.rates["level"] != "missing")]["denominator"].astype(int).tolist()
    tests = {t.short: t.p_value for t in post.tests}
    if sizes and "fisher" in tests and "chi2" in tests:
        parts.append(f"After debulking the groups hold {', '.join(map(str, sizes))} patients; with groups "
                     f"this size the exact 3 x 2 Fisher test ({p_text(tests['fisher'])}) and the "
                     f"asymptotic chi-square ({p_text(tests['chi2'])}) "
                     f"{'disagree about' if (tests['fisher'] < alpha) != (tests['chi2'] < alpha) else 'agree on'} "
                     f"p < {alpha:g}; the two-group splits give every standard test side by side "
                     "(notebook 06 weighs them against the paper).")
    mrd_low = [_group_title(t.by) for t in mrd_tables
               if any(x.short == "fisher" and x.p_value < alpha for x in t.tests)]
    parts.append("Complete MRD response differed with Fisher p < "
                 f"{alpha:g} for: {', '.join(mrd_low)}." if mrd_low else
                 f"No subgroup comparison of complete MRD response had Fisher p < {alpha:g}.")
    tested = pd.concat([t.rates[t.rates["level"] != "missing"] for t in cr_tables], ignore_index=True)
    tested = tested[tested["denominator"] > 0]
    if len(tested):
        width = float((tested["ci_high"] - tested["ci_low"]).max()) * 100
        parts.append(f"Subgroups hold {int(tested['denominator'].min())} to "
                     f"{int(tested['denominator'].max())} patients and the widest CR interval spans "
                     f"{width:.0f} percentage points: these are descriptive contrasts, not adjusted effects.")
    return " ".join(parts)


#: What the data contract cannot show about HSCT after CR (no column for it).
HSCT_NOT_IN_DATA = ("The data contract has no column for a *planned* transplant or for donor "
                    "availability, so the paper's remark that a transplant was planned for one "
                    "further patient but no donor was available cannot be checked or counted here.")


def hsct_text(res: pd.DataFrame) -> str:
    """HSCT after CR in words, computed, with the limit of the data (:data:`HSCT_NOT_IN_DATA`).

    Parameters
    ----------
    res : DataFrame
        Result rows holding the ``n[any_cr=True&hsct_after_blina=...]`` and
        ``n[any_cr=True&hsct_after_blina=False&prior_hsct=...]`` counts
        (:func:`hsct_after_cr` via :func:`helpers.tables.count_results`).

    Returns
    -------
    str
        Markdown.
    """
    yes = result_of(res, "n[any_cr=True&hsct_after_blina=True]")
    no = int(result_of(res, "n[any_cr=True&hsct_after_blina=False]")["numerator"])
    prior = int(result_of(res, "n[any_cr=True&hsct_after_blina=False&prior_hsct=True]")["numerator"])
    never = int(result_of(res, "n[any_cr=True&hsct_after_blina=False&prior_hsct=False]")["numerator"])
    unknown = no - prior - never
    tail = f", and for {plural(unknown, 'patient')} prior HSCT is not recorded" if unknown else ""
    return (f"{n_of(int(yes['numerator']), int(yes['denominator']))} CR patients were transplanted after "
            f"blinatumomab. Of the {plural(no, 'CR patient')} not transplanted, {prior} had already had "
            f"a transplant before and {never} had not{tail}. " + HSCT_NOT_IN_DATA)
