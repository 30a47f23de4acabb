"""Descriptive tables (the paper's Tables 1 and 2), labelled from the data contract, and how
tables are saved (byte-stable CSV and XLSX) and shown."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers import contract, display, suppression
from helpers.narrative import count, n_of, number, pct
from helpers.results import RESULT_COLUMNS, rate_key
from helpers.suppression import NONE, Policy

#: Table 1 blocks, in the paper's order: (cohort column, row label).
TABLE1_VARIABLES: tuple[str, ...] = (
    "sex",
    "age_group",
    "disease_status",
    "lines_1_2_3plus",
    "prior_hsct",
    "bmb_baseline_group",
    "ph_status",
)
#: Continuous characteristics summarised as median (range) under Table 1.
TABLE1_SUMMARIES: tuple[str, ...] = ("age_years", "prior_lines", "bmb_baseline_pct")
#: Which Table 1 block each median (range) line belongs under.
SUMMARY_UNDER: dict[str, str] = {
    "age_years": "age_group",
    "prior_lines": "lines_1_2_3plus",
    "bmb_baseline_pct": "bmb_baseline_group",
}
#: Level shown instead of the code ``missing``.
NOT_AVAILABLE = "Not available"
#: Drug names and abbreviations printed with fixed capitals in the paper's Table 2
#: (matched case-insensitively as whole words in a regimen).
REGIMEN_SPELLINGS: dict[str, str] = {
    "hu": "HU",
    "6-mp": "6-MP",
    "hyper-cvad": "Hyper-CVAD",
    "fla-ida": "FLA-Ida",
    "peg-asparaginase": "PEG-asparaginase",
    "tki": "TKI",
}


def level_label(column: str, level: object) -> str:
    """Display label for one level of a contract column or derived grouping."""
    if str(level) == "missing":
        return NOT_AVAILABLE
    return contract.code_label(column, level)


def natural_order(column: str, levels) -> list:
    """``levels`` of a contract column in the contract's code order (yes before no), other values
    sorted as text, missing last: the order a reader expects, never by count."""
    col = contract.BY_NAME.get(column)
    codes = list(col.code_labels) if col is not None else []

    def rank(level) -> tuple:
        if (
            level is None
            or level is pd.NA
            or (isinstance(level, float) and pd.isna(level))
            or str(level) == "missing"
        ):
            return (2, 0, "")
        text = ("yes" if level else "no") if isinstance(level, bool) else str(level)
        return (0, codes.index(text), "") if text in codes else (1, 0, text)

    return sorted(levels, key=rank)


# --- counts and summaries ------------------------------------------------------------


def count_rows(
    cohort: pd.DataFrame, variables: Sequence[str] = TABLE1_VARIABLES, *, where: dict | None = None
) -> pd.DataFrame:
    """Count and share of every level of each variable, missing shown as its own level."""
    from helpers.subgroups import count_by

    blocks = []
    for var in variables:
        block = count_by(cohort, var, where=where)
        block = block.assign(
            characteristic=contract.label(var),
            variable=var,
            level=[level_label(var, lv) for lv in block["level"]],
        )
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def without_empty_missing(counts: pd.DataFrame) -> pd.DataFrame:
    """Count rows for display without an empty ``Not available`` level (result rows keep it, so
    its key exists on any data; shown on every block it would hide the one block with missing values)."""
    empty_missing = (counts["level"] == NOT_AVAILABLE) & (counts["numerator"] == 0)
    return counts.loc[~empty_missing].reset_index(drop=True)


def summary_rows(
    cohort: pd.DataFrame,
    columns: Sequence[str] = TABLE1_SUMMARIES,
    by: str | None = None,
    *,
    policy: Policy = NONE,
) -> pd.DataFrame:
    """Median and range of numeric columns, overall or within each level of ``by``."""
    groups = (
        [("all", cohort)]
        if by is None
        else [(level, cohort[cohort[by] == level]) for level in _levels(cohort[by])]
    )
    rows = []
    for col in columns:
        for level, part in groups:
            values = pd.to_numeric(part[col], errors="coerce").astype(float)
            present = values.dropna()
            median, low, high = present.median(), present.min(), present.max()
            filters = None if by is None else {by: level}
            rows.append(
                {
                    "key": rate_key(f"{col}.median", filters),
                    "column": col,
                    "characteristic": contract.label(col),
                    "level": "All" if by is None else level_label(by, level),
                    "filters": filters,
                    "n": len(present),
                    "n_missing": len(values) - len(present),
                    "median": median,
                    "minimum": low,
                    "maximum": high,
                    "summary": (
                        f"{number(median)} (range {number(low)}-{number(high)})"
                        if len(present) and not policy.hidden(len(present))
                        else "–"
                        if len(present)
                        else "not recorded"
                    ),
                }
            )
    return pd.DataFrame(rows)


def _levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().unique(), key=str)


def availability(cohort: pd.DataFrame, column: str) -> pd.DataFrame:
    """Patients with and without a recorded ``column``, as two count rows."""
    from helpers.stats import proportion

    recorded = int(cohort[column].notna().sum())
    rows = []
    for what, k in (("available", recorded), ("missing", len(cohort) - recorded)):
        p = proportion(k, int(len(cohort)))
        rows.append(
            {
                "key": rate_key(f"{column}.{what}"),
                "characteristic": contract.label(column),
                "variable": column,
                "level": "recorded" if what == "available" else NOT_AVAILABLE,
                **p.row_fields(),
            }
        )
    return pd.DataFrame(rows)


# --- display tables ------------------------------------------------------------------


def table1(counts: pd.DataFrame, summaries: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """The paper's Table 1: n (%) per level, with median (range) under its block."""
    n_total = int(counts["denominator"].max()) if len(counts) else 0
    header = f"N={count(n_total, policy=policy)} n (%)"
    counts = without_empty_missing(counts)
    # a share run: counts hidden or rounded, each percentage of the rounded counts (helpers.suppression)
    body = counts.assign(
        value=[
            f"{policy.rate_count_text(n, d)} ({pct(n, d, policy=policy)})"
            for n, d in zip(counts["numerator"], counts["denominator"])
        ]
    )
    rows, summaries = [], list(summaries.itertuples(index=False))
    for variable, block in body.groupby("variable", sort=False):
        rows += block[["characteristic", "level", "value"]].to_dict("records")
        rows += [
            {
                "characteristic": block["characteristic"].iloc[0],
                "level": "Median (range)",
                "value": s.summary,
            }
            for s in summaries
            if SUMMARY_UNDER.get(s.column) == variable
        ]
    rows += [
        {"characteristic": s.characteristic, "level": "Median (range)", "value": s.summary}
        for s in summaries
        if SUMMARY_UNDER.get(s.column) not in set(body["variable"])
    ]
    table = pd.DataFrame(rows, columns=["characteristic", "level", "value"])
    table["characteristic"] = table["characteristic"].where(
        table["characteristic"] != table["characteristic"].shift(), ""
    )
    return table.rename(
        columns={"characteristic": "Characteristic", "level": "Level", "value": header}
    )


def regimen_display(regimen: str) -> str:
    """A regimen as the paper prints it: first letter capital, abbreviations in capitals."""
    text = str(regimen)
    for word, spelling in REGIMEN_SPELLINGS.items():
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", spelling, text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


def table2(cohort: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """The paper's Table 2: patients per regimen within each debulking category.

    In a share run small counts are hidden within each category (its total is shown)
    and across the category totals (they add up to all patients).
    """
    total = len(cohort)
    rows = []
    col = contract.column("debulking_category")
    sizes = pd.Series(
        {c: int((cohort["debulking_category"] == c).sum()) for c in col.codes}, dtype=int
    )
    sizes = policy.hide_small(sizes[sizes > 0])
    for category in col.codes:
        part = cohort[cohort["debulking_category"] == category]
        counts = part["debulking_regimen"].value_counts()
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = policy.hide_small(pd.Series([int(n) for _, n in ordered], dtype=int))
        size = sizes.get(category, len(part))
        total_text = (
            n_of(len(part), total, policy=policy) if size == len(part) else f"{size}/{total} (–)"
        )
        for i, (regimen, _) in enumerate(ordered):
            rows.append(
                {
                    "Debulking therapy": col.code_labels[category] if i == 0 else "",
                    "Regimen": regimen_display(regimen),
                    "N": shown.iloc[i],
                    "Total, n/N (%)": total_text if i == 0 else "",
                    "category": category,
                    "regimen": regimen,
                }
            )
    return pd.DataFrame(
        rows, columns=["Debulking therapy", "Regimen", "N", "Total, n/N (%)", "category", "regimen"]
    )


# --- results rows --------------------------------------------------------------------


def count_results(counts: pd.DataFrame, label_prefix: str = "") -> pd.DataFrame:
    """Result rows (``results.csv`` schema) for count rows from :func:`count_rows`."""
    return pd.DataFrame(
        {
            "key": counts["key"],
            "label": [
                f"{label_prefix}{c}: {lv}"
                for c, lv in zip(counts["characteristic"], counts["level"])
            ],
            "numerator": counts["numerator"],
            "denominator": counts["denominator"],
            "estimate": counts["estimate"],
            "ci_low": counts["ci_low"],
            "ci_high": counts["ci_high"],
            "method": "count; Clopper-Pearson exact 95% CI",
            "unit": "proportion",
        }
    )


def summary_results(summaries: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """Result rows for median, minimum and maximum from :func:`summary_rows`."""
    rows = []
    for row in summaries.itertuples(index=False):
        for stat, value in (("median", row.median), ("min", row.minimum), ("max", row.maximum)):
            rows.append(
                {
                    "key": rate_key(f"{row.column}.{stat}", row.filters),
                    "label": f"{row.characteristic}, {stat} ({row.level}; n={count(row.n, policy=policy)}, "
                    f"{count(row.n_missing, policy=policy)} missing)",
                    "denominator": row.n,
                    "estimate": value,
                    "method": stat,
                    "unit": row.column,
                }
            )
    return pd.DataFrame(rows, columns=[c for c in RESULT_COLUMNS if c != "notebook"])


# --- saving and showing ----------------------------------------------------------------


def save_table(
    table: pd.DataFrame,
    name: str,
    output_dir: str | Path,
    *,
    title: str = "",
    footnote: str = "",
    policy: Policy = NONE,
) -> tuple[Path, Path]:
    """Write ``tables/<name>.csv`` and ``.xlsx`` under ``output_dir`` (:func:`helpers.display.write_csv`,
    :func:`helpers.display.write_xlsx`; ``title`` defaults to the name)."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / f"{name}.csv", folder / f"{name}.xlsx"
    table = policy.apply(table)  # a share run: hidden counts as "<5", their rate and CI blank
    if policy.k > 1:
        table = table.apply(
            lambda col: col if pd.api.types.is_numeric_dtype(col) else col.map(policy.scrub)
        )
    footnote = policy.with_note(footnote, table)
    display.write_csv(table, csv_path)
    display.write_xlsx(
        table, xlsx_path, title or name.replace("_", " ").capitalize(), footnote=footnote
    )
    return csv_path, xlsx_path


def save_and_show_counts(
    counts: pd.DataFrame,
    name: str,
    output_dir: str | Path,
    title: str,
    *,
    table_id: str | None = None,
    policy: Policy = NONE,
) -> None:
    """Save count rows as ``tables/<name>`` and show characteristic, level, ``n/N (%)`` and exact 95 % CI."""
    shown = without_empty_missing(counts).drop(columns="variable", errors="ignore")
    save_table(shown, name, output_dir, title=title, footnote=display.COUNT_FOOTNOTE, policy=policy)
    display.table(
        display.rate_cells(
            shown[["characteristic", "level", "numerator", "denominator", "ci_low", "ci_high"]],
            policy=policy,
        ),
        title,
        columns={
            "characteristic": "Characteristic",
            "level": "Level",
            "n/N (%)": "n/N (%)",
            "95% CI": "95% CI",
        },
        footnote=display.COUNT_FOOTNOTE,
        table_id=table_id,
        policy=policy,
    ).show()


def show_table(
    table: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    max_rows: int | None = None,
    policy: Policy = NONE,
) -> None:
    """Show a table of text cells as written; beyond ``max_rows`` the footnote says how many rows were left out."""
    view = table if columns is None else table.loc[:, list(columns)]
    footnote = ""
    if max_rows is not None and len(view) > max_rows:
        footnote = f"First {max_rows} of {len(view):,} rows shown."
        view = view.head(max_rows)
    display.table(view, "", footnote=footnote, policy=policy).show()


def table1_by(
    cohort: pd.DataFrame,
    by: str,
    *,
    missing_label: str,
    policy: Policy = NONE,
) -> pd.DataFrame:
    """Table 1 with one column per level of ``by`` (as tableone's ``groupby``): n (%) of the
    column's patients, a column ``missing_label`` for patients without a ``by`` value (when
    there are any) and the ``All patients`` column first; median (range) rows under each block.

    In a share run each block's counts are one table whose rows and columns add up to
    shown totals, so a small count and whatever would give it back are hidden; the groups'
    sizes are one line adding up to N, and a column whose size is hidden shows no count.
    """
    overall = "All patients"
    has_group = cohort[by].notna()
    groups = [(overall, cohort)] + [
        (str(level), cohort[has_group & (cohort[by].astype(str) == str(level))])
        for level in _levels(cohort[by])
    ]
    if (~has_group).any():
        groups.append((missing_label, cohort[~has_group]))
    sizes = {name: len(part) for name, part in groups}
    # the groups' sizes add up to the overall N: one hidden size is protected by the next smallest
    shown_sizes = {
        overall: sizes[overall],
        **policy.hide_small(
            pd.Series({name: n for name, n in sizes.items() if name != overall}, dtype=object)
        ).to_dict(),
    }
    headers = {name: f"{name} (N={count(n, policy=policy)})" for name, n in shown_sizes.items()}
    # a column whose N is hidden shows no count: its counts would add up to it
    closed = {name for name, n in shown_sizes.items() if policy.hidden(n)}
    rows = []
    for var in TABLE1_VARIABLES:
        overall_counts = without_empty_missing(count_rows(cohort, [var]))
        levels = list(overall_counts["level"])
        block = pd.DataFrame(
            {
                name: count_rows(part, [var])
                .set_index("level")["numerator"]
                .reindex(levels, fill_value=0)
                for name, part in groups
            }
        ).astype(int)
        shown = policy.hide_small(block)
        for level in levels:
            cells = {
                headers[name]: (
                    suppression.DASH
                    if name in closed
                    else f"{policy.count_text(shown.loc[level, name])}"
                    if policy.hidden(shown.loc[level, name])
                    else f"{block.loc[level, name]} ({pct(block.loc[level, name], sizes[name], policy=policy)})"
                )
                for name, _ in groups
            }
            rows.append({"Characteristic": contract.label(var), "Level": level, **cells})
        for column in (c for c in TABLE1_SUMMARIES if SUMMARY_UNDER.get(c) == var):
            cells = {
                headers[name]: suppression.DASH
                if name in closed
                else summary_rows(part, [column], policy=policy)["summary"].iloc[0]
                for name, part in groups
            }
            rows.append({"Characteristic": contract.label(var), "Level": "Median (range)", **cells})
    table = pd.DataFrame(rows)
    table["Characteristic"] = table["Characteristic"].where(
        table["Characteristic"] != table["Characteristic"].shift(), ""
    )
    return table
