"""Rates of a boolean outcome by the levels of a grouping, with exact intervals and the tests
run on their table, as result rows (:mod:`helpers.results` schema).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from helpers import results
from helpers.stats import TestResult, ci_method_label, proportion

#: Label of the level holding rows whose grouping value is missing.
MISSING_LEVEL = "missing"


@dataclass(frozen=True)
class RateTable:
    """Rates of ``outcome`` by ``by`` (None: overall) after the filter ``where``, with the tests run on them."""

    outcome: str
    by: str | None
    rates: pd.DataFrame
    tests: tuple[TestResult, ...]
    where: Mapping[str, object] | None = None


def _filter(cohort: pd.DataFrame, where: Mapping[str, object] | None) -> pd.DataFrame:
    """Rows where every ``column == value`` of ``where`` holds (missing never matches)."""
    if not where:
        return cohort
    keep = pd.Series(True, index=cohort.index)
    for column, value in where.items():
        keep &= (cohort[column] == value).fillna(False).astype(bool)
    return cohort.loc[keep]


def _levels(values: pd.Series) -> list[object]:
    """Levels in display order: categories, then [False, True] for booleans, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return list(values.cat.categories)
    present = values.dropna().unique().tolist()
    if set(present) <= {True, False}:
        return [False, True]
    return sorted(present, key=str)


def rate_by(
    cohort: pd.DataFrame,
    outcome: str,
    by: str | None = None,
    *,
    where: Mapping[str, object] | None = None,
    tests: Sequence[TestResult] = (),
) -> RateTable:
    """Proportion of ``outcome`` True in each level of ``by`` with exact CIs, and the given tests.

    A missing outcome is not evaluable (out of numerator and denominator); a missing ``by``
    forms a ``missing`` row. Levels: category order (empty ones kept), ``[False, True]``,
    else sorted text; ``by`` None gives one row ``all``. ``where`` (``column == value``)
    filters first. ``tests`` must come from the tested table (no missing row, no empty
    levels; columns events, non-events), else ValueError. Estimates are fractions.
    """
    population = _filter(cohort, where)
    evaluable = population.loc[population[outcome].notna()]
    event = evaluable[outcome].astype(bool)

    groups: list[tuple[str, str, pd.Series]] = []
    if by is None:
        groups.append(("all", "all", event))
    else:
        values = evaluable[by]
        is_missing = values.isna() | (values.astype(object) == MISSING_LEVEL)
        for level in _levels(population[by]):
            if level == MISSING_LEVEL:
                continue
            groups.append((by, str(level), event[(values == level).fillna(False) & ~is_missing]))
        # shown whenever the population has missing groups, even if none is evaluable
        all_values = population[by]
        if (all_values.isna() | (all_values.astype(object) == MISSING_LEVEL)).any():
            groups.append((by, MISSING_LEVEL, event[is_missing]))

    rows = []
    for group_var, level, flags in groups:
        k, n = int(flags.sum()), int(flags.size)
        prop = proportion(k, n)
        rows.append(
            {
                "measure": outcome,
                "group_var": group_var,
                "level": level,
                **prop.row_fields(),
            }
        )
    rates = pd.DataFrame(rows)
    tested = (
        rates[(rates["level"] != MISSING_LEVEL) & (rates["denominator"] > 0)]
        if by
        else rates.iloc[:0]
    )
    table = tuple((int(r.numerator), int(r.denominator - r.numerator)) for r in tested.itertuples())
    for test in tests:
        if tuple(map(tuple, test.table)) != table:
            raise ValueError(
                f"{test.short} was run on {test.table}, not on the {outcome} by {by} table {table}"
            )
    return RateTable(outcome, by, rates, tuple(tests), dict(where) if where else None)


def rate_table_results(rt: RateTable, *, label: str | None = None) -> pd.DataFrame:
    """Result rows of a RateTable: rates ``{outcome}[{where&}{by}={level}]``, tests
    ``{outcome}[{by}|{where}]~{test}`` (``estimate`` the test's statistic)."""
    where = dict(rt.where or {})
    text = label or rt.outcome
    rows = []
    for r in rt.rates.itertuples():
        filters = dict(where)
        if r.group_var != "all":
            filters[r.group_var] = r.level
        rows.append(
            {
                "key": results.rate_key(rt.outcome, filters),
                "label": f"{text}, {r.group_var}={r.level}" if r.group_var != "all" else text,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "p_value": math.nan,
                "method": ci_method_label("clopper-pearson"),
                "unit": "proportion",
            }
        )
    for test in rt.tests:
        rows.append(
            {
                "key": results.test_key(rt.outcome, rt.by, test.short, where or None),
                "label": f"{text} by {rt.by}",
                "numerator": math.nan,
                "denominator": math.nan,
                "estimate": test.statistic if test.statistic is not None else math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_value": test.p_value,
                "method": _test_method(test),
                "unit": "p-value",
            }
        )
    columns = [c for c in results.RESULT_COLUMNS if c != "notebook"]
    return pd.DataFrame(rows, columns=columns)


def _test_method(test: TestResult) -> str:
    """The test's method text, saying what the ``estimate`` column holds."""
    if test.statistic is None:
        return test.method + "; estimate: none (p-value row)"
    return f"{test.method}; estimate = {test.statistic_name or 'test statistic'}"


def count_by(
    cohort: pd.DataFrame, column: str, *, where: Mapping[str, object] | None = None
) -> pd.DataFrame:
    """Count and share (exact 95 % CI) of each level of ``column`` as result rows
    ``n[{where&}{column}={level}]`` plus ``level``; missing values form a ``missing`` level,
    always present and in the denominator."""
    population = _filter(cohort, where)
    values = population[column]
    is_missing = values.isna() | (values.astype(object) == MISSING_LEVEL)
    total = int(values.size)
    levels = [
        (str(lv), (values == lv).fillna(False) & ~is_missing)
        for lv in _levels(values)
        if lv != MISSING_LEVEL
    ]
    levels.append((MISSING_LEVEL, is_missing))
    rows = []
    for level, mask in levels:
        k = int(mask.sum())
        prop = proportion(k, total)
        filters = dict(where or {})
        filters[column] = level
        rows.append(
            {
                "key": results.rate_key("n", filters),
                "label": f"{column}={level}",
                **prop.row_fields(),
                "p_value": math.nan,
                "method": "count; share with " + ci_method_label("clopper-pearson"),
                "unit": "count",
                "level": level,
            }
        )
    columns = [c for c in results.RESULT_COLUMNS if c != "notebook"] + ["level"]
    return pd.DataFrame(rows, columns=columns)


def count_row(
    key: str,
    label: str,
    numerator: int,
    denominator: int,
    method: str = "count; Clopper-Pearson exact 95% CI",
) -> dict:
    """One result row (:mod:`helpers.results` schema): a count with its share and exact 95 % CI."""
    p = proportion(int(numerator), int(denominator))
    return {
        "key": key,
        "label": label,
        **p.row_fields(),
        "p_value": math.nan,
        "method": method,
        "unit": "proportion",
    }
