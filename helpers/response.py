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
from helpers.results import rate_key
from helpers.stats import proportion

#: Name of the two-level post-debulking blast grouping (``<low``, ``>=low``, ``missing``).
POST_SPLIT_COLUMN = "bmb_post_group2"


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

    Missing ``mrd_status`` means not MRD-evaluable; ``hsct_after_blina`` is
    counted among CR patients only (the contract allows it only for them).
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

    Keys: ``n[all]`` (treated), ``response=none[blina_cycles=1]`` (one-cycle
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

    Count rows as :func:`helpers.tables.count_rows` (keys ``n[blina_dose=full]``,
    ``n[blina_cycles=2]``...; shares of all patients, exact 95 % CI).
    """
    from helpers.tables import count_rows

    return count_rows(cohort, ("blina_dose", "blina_cycles"))


def response_counts(cohort: pd.DataFrame) -> pd.DataFrame:
    """Patients by best response within 2 cycles (CR, CRp, CRi, no CR); keys ``n[response=cr]``..."""
    from helpers.tables import count_rows

    return count_rows(cohort, ("response",))


def hsct_after_cr(cohort: pd.DataFrame) -> pd.DataFrame:
    """HSCT after CR with blinatumomab, and prior HSCT among CR patients not transplanted.

    Count rows (as :func:`helpers.tables.count_rows`), in three blocks:

    * ``n[hsct_after_blina=...]`` -- share of all patients (the contract allows
      a transplant after blinatumomab only for CR patients);
    * ``n[any_cr=True&hsct_after_blina=...]`` -- share of CR patients (the paper's 7/23);
    * ``n[any_cr=True&hsct_after_blina=False&prior_hsct=...]`` -- among CR patients
      not transplanted, whether they had a transplant before (the paper's 8 and 8).
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

def with_post_debulking_split(cohort: pd.DataFrame, cutoff: float = 20) -> pd.DataFrame:
    """A copy of ``cohort`` with :data:`POST_SPLIT_COLUMN`: post-debulking blasts in two groups.

    Levels ``<cutoff`` and ``>=cutoff`` (e.g. ``<20`` / ``>=20``, merging the
    paper's 20-49 % and >=50 % groups) and ``missing`` when no post-debulking
    marrow was done. Used for the 2 x 2 version of the section 3.3.3 comparison.
    """
    values = cohort["bmb_post_debulking_pct"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    labels = [f"<{cutoff:g}", f">={cutoff:g}", "missing"]
    group = np.select([values < cutoff, values >= cutoff], labels[:2], default="missing")
    out = cohort.copy()
    out[POST_SPLIT_COLUMN] = pd.Categorical(group, categories=labels, ordered=True)
    return out


def burden_label(level: object, high_cutoff: float = 50) -> str:
    """Display label of a ``high_burden`` level: ``<50%`` (False), ``>=50%`` (True), else as text.

    Accepts booleans or their text (``"True"``/``"False"``, as in rate tables).
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
    return level_label(var, level)


def _group_title(var: str) -> str:
    if var == POST_SPLIT_COLUMN:
        return contract.label("bmb_post_group") + " (2 groups)"
    return contract.label(var)


def _p_value(rate_table, test: str = "fisher") -> float:
    from helpers.subgroups import rate_table_results

    rows = rate_table_results(rate_table)
    hit = rows[rows["key"].str.endswith(f"~{test}")]
    return float(hit["p_value"].iloc[0]) if len(hit) else np.nan


# --- subgroup tables -------------------------------------------------------------------

#: Every test :func:`helpers.subgroups.rate_by` can run (2 x 2-only ones skipped on larger tables).
ALL_TESTS: tuple[str, ...] = ("fisher", "chi2", "chi2_yates", "barnard", "boschloo")


def column_list(columns: str | Sequence[str]) -> list[str]:
    """Column names from a comma-separated notebook parameter (or a list, unchanged).

    >>> column_list("age_group, lines_group")
    ['age_group', 'lines_group']
    """
    if isinstance(columns, str):
        return [c.strip() for c in columns.split(",") if c.strip()]
    return list(columns)


def subgroup_rates(cohort: pd.DataFrame, outcome: str, columns: str | Sequence[str], *,
                   all_tests_for: str | Sequence[str] = ()) -> list:
    """Rates of ``outcome`` by each grouping column, as :func:`helpers.subgroups.rate_by` tables.

    Fisher's exact test (r x c) across the levels for every column; for the
    columns in ``all_tests_for`` also chi-square, and for 2 x 2 tables Yates,
    Barnard and Boschloo (:data:`ALL_TESTS`). Missing outcome = not evaluable
    and a ``missing`` group level is shown but not tested (``rate_by``'s rules).
    """
    from helpers.subgroups import rate_by

    all_tests_for = column_list(all_tests_for)
    return [rate_by(cohort, outcome, by, tests=ALL_TESTS if by in all_tests_for else ("fisher",))
            for by in column_list(columns)]


def table_for(rate_tables: Sequence, column: str):
    """The rate table grouped by ``column`` (KeyError naming it when absent)."""
    for rt in rate_tables:
        if rt.by == column:
            return rt
    raise KeyError(f"no rate table grouped by {column!r}")


def rate_results(rate_tables: Sequence) -> pd.DataFrame:
    """Result rows of several rate tables (:func:`helpers.subgroups.rate_table_results`), stacked."""
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
    from helpers.narrative import p_text, pct

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

    Each row has ``group`` (the grouping's label), ``label`` (level and n/N),
    ``estimate``, ``ci_low``, ``ci_high`` (proportions, exact 95 % CI) and
    ``key``. Only the tables grouped by ``columns`` (all when None), in that
    order. Levels named ``missing`` are left out unless ``include_missing``.
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
    """Count the patients Figure 1 can show (baseline blasts known; MRD among CR)."""
    known = cohort["bmb_baseline_pct"].notna().to_numpy(dtype=bool)
    cr = _true(cohort["any_cr"])
    return BaselineCoverage(
        baseline_missing=int((~known).sum()),
        cr_with_baseline=int((known & cr).sum()),
        mrd_available=int((known & cr & _true(cohort["mrd_evaluable"])).sum()),
    )


def coverage_results(coverage: BaselineCoverage) -> pd.DataFrame:
    """Result row for the Figure 1 note: MRD-evaluable among CR patients with baseline blasts.

    Key ``mrd_evaluable[any_cr=True&bmb_baseline_available=True]`` (the paper: 20 of 22).
    """
    return pd.DataFrame([_count_row(
        "mrd_evaluable[any_cr=True&bmb_baseline_available=True]",
        "MRD available among CR patients with blasts before debulking",
        coverage.mrd_available, coverage.cr_with_baseline)])

