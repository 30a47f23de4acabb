"""Descriptive tables (the paper's Tables 1 and 2) and how tables are saved and shown.

Tables are built as a readable chain of small steps over a loaded cohort
(:func:`helpers.loading.load_cohort`). Labels come from the data contract
(:mod:`helpers.contract`), so a renamed code changes every table at once.
Saved tables are deterministic: CSV with ``\\n`` line endings, XLSX with fixed
timestamps, so two runs on the same input give identical bytes.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers import contract
from helpers.results import RESULT_COLUMNS, rate_key

#: Table 1 blocks, in the paper's order: (cohort column, row label).
TABLE1_VARIABLES: tuple[str, ...] = (
    "sex", "age_group", "disease_status", "lines_group3", "prior_hsct",
    "bmb_baseline_group", "ph_status",
)
#: Continuous characteristics summarised as median (range) under Table 1.
TABLE1_SUMMARIES: tuple[str, ...] = ("age_years", "prior_lines", "bmb_baseline_pct")
#: Which Table 1 block each median (range) line belongs under.
SUMMARY_UNDER: dict[str, str] = {"age_years": "age_group", "prior_lines": "lines_group3",
                                 "bmb_baseline_pct": "bmb_baseline_group"}
#: Level shown instead of the code ``missing``.
NOT_AVAILABLE = "Not available"
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: Drug names and abbreviations printed with fixed capitals in the paper's Table 2
#: (matched case-insensitively as whole words in a regimen).
REGIMEN_SPELLINGS: dict[str, str] = {
    "hu": "HU", "6-mp": "6-MP", "hyper-cvad": "Hyper-CVAD", "fla-ida": "FLA-Ida",
    "peg-asparaginase": "PEG-asparaginase", "tki": "TKI",
}


def level_label(column: str, level: object) -> str:
    """Display label for one level of a contract column or derived grouping.

    Parameters
    ----------
    column : str
        Contract column or derived grouping (e.g. ``"bmb_baseline_group"``).
    level : object
        A code of that column; ``"missing"`` stands for a missing value.

    Returns
    -------
    str
        The contract's label for the code, or ``"Not available"`` for ``"missing"``.
    """
    if str(level) == "missing":
        return NOT_AVAILABLE
    return contract.code_label(column, level)


# --- counts and summaries ------------------------------------------------------------

def count_rows(cohort: pd.DataFrame, variables: Sequence[str] = TABLE1_VARIABLES, *,
               where: dict | None = None) -> pd.DataFrame:
    """Count and share of every level of each variable, missing shown as its own level.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort (contract columns plus derived groupings).
    variables : sequence of str
        Columns to tabulate, in display order.
    where : dict, optional
        Restrict the population first (equality filters, e.g. ``{"high_burden": True}``);
        the filters become part of each key (``n[high_burden=True&var=level]``).

    Returns
    -------
    DataFrame
        One row per level with ``key`` (``n[var=level]``), ``characteristic``,
        ``level`` (display label), ``numerator``, ``denominator`` (all patients),
        ``estimate`` (share, 0-1) and exact 95 % CI bounds. Missing values are a
        level (``Not available``), never dropped.
    """
    from helpers.subgroups import count_by

    blocks = []
    for var in variables:
        block = count_by(cohort, var, where=where)
        block = block.assign(characteristic=contract.label(var), variable=var,
                             level=[level_label(var, lv) for lv in block["level"]])
        blocks.append(block)
    return pd.concat(blocks, ignore_index=True)


def without_empty_missing(counts: pd.DataFrame) -> pd.DataFrame:
    """Count rows for display: the ``Not available`` level left out when its count is 0.

    :func:`count_rows` always has a missing level, so that its result key exists
    on any data; a table that shows ``Not available 0`` on every block hides the
    one block where values are missing. Only display tables drop it; result rows
    keep it.

    Parameters
    ----------
    counts : DataFrame
        From :func:`count_rows` (``level`` display labels and ``numerator``).

    Returns
    -------
    DataFrame
        A new frame without the zero-count ``Not available`` rows (index reset);
        every other row, and a ``Not available`` row with patients, is kept.
    """
    empty_missing = (counts["level"] == NOT_AVAILABLE) & (counts["numerator"] == 0)
    return counts.loc[~empty_missing].reset_index(drop=True)


def summary_rows(cohort: pd.DataFrame, columns: Sequence[str] = TABLE1_SUMMARIES,
                 by: str | None = None) -> pd.DataFrame:
    """Median and range of numeric columns, overall or within each level of ``by``.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort.
    columns : sequence of str
        Numeric columns to summarise (in their own units: years, lines, % blasts, days).
    by : str, optional
        A grouping column; one row per level (all categories of a categorical,
        empty ones included). ``None`` summarises all patients together.

    Returns
    -------
    DataFrame
        One row per (column, level) with ``key`` (``col.median[...]``), ``column``,
        ``characteristic``, ``level``, ``filters``, ``n`` (patients with a value),
        ``n_missing``, ``median``, ``minimum``, ``maximum`` (NaN when ``n`` is 0) and
        ``summary`` text ("45 (range 20-75)", or "not recorded"). Missing values
        are left out of the median and counted in ``n_missing``.
    """
    from helpers.stats import median_range

    groups = [("all", cohort)] if by is None else [
        (level, cohort[cohort[by] == level]) for level in _levels(cohort[by])]
    rows = []
    for col in columns:
        for level, part in groups:
            mr = median_range(part[col])
            filters = None if by is None else {by: level}
            rows.append({
                "key": rate_key(f"{col}.median", filters),
                "column": col,
                "characteristic": contract.label(col),
                "level": "All" if by is None else level_label(by, level),
                "filters": filters,
                "n": mr.n, "n_missing": mr.n_missing, "median": mr.median,
                "minimum": mr.minimum, "maximum": mr.maximum,
                "summary": mr.format() if mr.n else "not recorded",
            })
    return pd.DataFrame(rows)


def _levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().unique(), key=str)


def availability(cohort: pd.DataFrame, column: str) -> pd.DataFrame:
    """Patients with and without a recorded ``column``, as two count rows.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort.
    column : str
        The column whose availability is counted (NaN/NA means not recorded).

    Returns
    -------
    DataFrame
        Two rows, keys ``{column}.available[all]`` and ``{column}.missing[all]``,
        with ``numerator``, ``denominator`` (every patient), ``estimate`` and exact
        95 % CI bounds.
    """
    from helpers.stats import proportion

    recorded = int(cohort[column].notna().sum())
    rows = []
    for what, k in (("available", recorded), ("missing", len(cohort) - recorded)):
        p = proportion(k, int(len(cohort)))
        rows.append({
            "key": rate_key(f"{column}.{what}"), "characteristic": contract.label(column),
            "variable": column, "level": "recorded" if what == "available" else NOT_AVAILABLE,
            "numerator": p.numerator, "denominator": p.denominator, "estimate": p.estimate,
            "ci_low": p.ci_low, "ci_high": p.ci_high,
        })
    return pd.DataFrame(rows)


def share_at_least(cohort: pd.DataFrame, column: str, threshold: float, key: str) -> pd.DataFrame:
    """Patients with ``column >= threshold`` among those with a value, as one count row.

    Used for "79% had received 2 or more prior therapies" (``prior_lines_ge2[all]``).

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort.
    column : str
        A numeric column.
    threshold : float
        Inclusive lower bound, in the column's unit.
    key : str
        The result key of the row.

    Returns
    -------
    DataFrame
        One row: ``key``, ``characteristic``, ``variable``, ``level`` (">= 2"),
        ``numerator``, ``denominator`` (patients with a value; missing values are
        left out), ``estimate`` and exact 95 % CI bounds.
    """
    from helpers.stats import proportion

    values = cohort[column].dropna()
    p = proportion(int((values >= threshold).sum()), int(len(values)))
    return pd.DataFrame([{
        "key": key, "characteristic": contract.label(column), "variable": column,
        "level": f">= {threshold:g}", "numerator": p.numerator, "denominator": p.denominator,
        "estimate": p.estimate, "ci_low": p.ci_low, "ci_high": p.ci_high,
    }])


def distinct_codes(cohort: pd.DataFrame, column: str) -> pd.DataFrame:
    """How many distinct codes a text column holds, and how many patients have none.

    Used for "patients from 7 Italian centres" (``center.distinct[all]``).

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort; not modified.
    column : str
        A text column of codes (e.g. ``"center"``).

    Returns
    -------
    DataFrame
        Result rows (``results.csv`` schema, without ``notebook``):
        ``{column}.distinct[all]`` -- ``numerator`` and ``estimate`` the number
        of distinct non-missing codes (codes are compared as given, after the
        loader's normalisation), ``denominator`` blank (codes are not a share of
        patients); then ``{column}.available[all]`` and ``{column}.missing[all]``
        (:func:`availability`: patients with and without a code, of all
        patients). A patient without a code is counted in the second pair and
        adds no code to the first.
    """
    codes = cohort[column].dropna().astype(str)
    n_codes = int(codes.nunique())
    distinct = pd.DataFrame([{
        "key": rate_key(f"{column}.distinct"),
        "label": f"{contract.label(column)}: distinct codes (missing codes not counted)",
        "numerator": n_codes, "estimate": float(n_codes),
        "method": "count of distinct non-missing codes", "unit": "codes",
    }])
    return pd.concat([distinct, count_results(availability(cohort, column))], ignore_index=True)


# --- display tables ------------------------------------------------------------------

def table1(counts: pd.DataFrame, summaries: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 1: n (%) per level, with median (range) under its block.

    Parameters
    ----------
    counts : DataFrame
        From :func:`count_rows`. A ``Not available`` level is shown only where
        patients have a missing value (:func:`without_empty_missing`), as in the
        paper's Table 1.
    summaries : DataFrame
        From :func:`summary_rows` (overall). A summary is placed at the end of the
        block of its grouping (:data:`SUMMARY_UNDER`, e.g. median age under the age
        groups); others follow at the end.

    Returns
    -------
    DataFrame
        Columns ``Characteristic``, ``Level``, ``N=<n> n (%)``; the characteristic
        is printed on its first row only, as in the paper.
    """
    n_total = int(counts["denominator"].max()) if len(counts) else 0
    header = f"N={n_total} n (%)"
    counts = without_empty_missing(counts)
    body = counts.assign(value=[f"{n} ({_pct(n, d)})" for n, d in
                                zip(counts["numerator"], counts["denominator"])])
    rows = []
    placed = set()
    for variable, block in body.groupby("variable", sort=False):
        rows += block[["characteristic", "level", "value"]].to_dict("records")
        for summary in summaries.itertuples(index=False):
            if SUMMARY_UNDER.get(summary.column) == variable:
                rows.append({"characteristic": block["characteristic"].iloc[0],
                             "level": "Median (range)", "value": summary.summary})
                placed.add(summary.column)
    for summary in summaries.itertuples(index=False):
        if summary.column not in placed:
            rows.append({"characteristic": summary.characteristic, "level": "Median (range)",
                         "value": summary.summary})
    table = pd.DataFrame(rows, columns=["characteristic", "level", "value"])
    table["characteristic"] = table["characteristic"].where(
        table["characteristic"] != table["characteristic"].shift(), "")
    return table.rename(columns={"characteristic": "Characteristic", "level": "Level",
                                 "value": header})


def regimen_display(regimen: str) -> str:
    """A regimen as the paper prints it: first letter capital, abbreviations in capitals.

    Parameters
    ----------
    regimen : str
        The regimen as recorded (``debulking_regimen``), e.g. ``"steroids + hu + 6-mp"``.

    Returns
    -------
    str
        E.g. ``"Steroids + HU + 6-MP"``: each whole word of :data:`REGIMEN_SPELLINGS`
        (any case) takes its fixed spelling, then the first character is capitalised;
        everything else is kept as recorded. The data are not changed.
    """
    import re

    text = str(regimen)
    for word, spelling in REGIMEN_SPELLINGS.items():
        text = re.sub(rf"(?<![\w-]){re.escape(word)}(?![\w-])", spelling, text, flags=re.IGNORECASE)
    return text[:1].upper() + text[1:]


def table2(cohort: pd.DataFrame) -> pd.DataFrame:
    """The paper's Table 2: patients per regimen within each debulking category.

    Parameters
    ----------
    cohort : DataFrame
        A loaded cohort (``debulking_category`` and ``debulking_regimen`` are never
        missing under the contract).

    Returns
    -------
    DataFrame
        One row per regimen given to at least one patient, categories in contract
        order and regimens by frequency within their category (ties by recorded
        name). Columns ``Debulking therapy`` (on the category's first row),
        ``Regimen`` (display spelling, :func:`regimen_display`), ``N`` and
        ``Total, n/N (%)`` (on the category's first row; N is all patients), plus
        the ``category`` and ``regimen`` codes as recorded, for lookups (drop them
        for display). A category with no patients has no row.
    """
    total = len(cohort)
    rows = []
    col = contract.column("debulking_category")
    for category in col.codes:
        part = cohort[cohort["debulking_category"] == category]
        counts = part["debulking_regimen"].value_counts()
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        for i, (regimen, n) in enumerate(ordered):
            rows.append({
                "Debulking therapy": col.code_labels[category] if i == 0 else "",
                "Regimen": regimen_display(regimen),
                "N": int(n),
                "Total, n/N (%)": (f"{len(part)}/{total} ({_pct(len(part), total)})"
                                   if i == 0 else ""),
                "category": category,
                "regimen": regimen,
            })
    return pd.DataFrame(rows, columns=["Debulking therapy", "Regimen", "N", "Total, n/N (%)",
                                       "category", "regimen"])


def _pct(n: int, d: int) -> str:
    from helpers.narrative import pct

    return pct(n, d)


def display_rates(rates: pd.DataFrame, group_label: str | None = None) -> pd.DataFrame:
    """A readable view of a rate table: level, n/N, %, exact 95 % CI (one line each).

    Parameters
    ----------
    rates : DataFrame
        Rate rows with ``group_var``, ``level``, ``numerator``, ``denominator``,
        ``ci_low`` and ``ci_high`` (proportions).
    group_label : str, optional
        Header of the level column; defaults to the contract label of ``group_var``.

    Returns
    -------
    DataFrame
        Text columns: level label, ``n/N``, ``%`` and ``95% CI (exact)`` in
        percent ("–" when the interval is missing, e.g. an empty group).
    """
    var = rates["group_var"].iloc[0] if len(rates) else ""
    view = pd.DataFrame({
        group_label or contract.label(var): [level_label(var, lv) for lv in rates["level"]],
        "n/N": [f"{n}/{d}" for n, d in zip(rates["numerator"], rates["denominator"])],
        "%": [_pct(n, d) for n, d in zip(rates["numerator"], rates["denominator"])],
        "95% CI (exact)": [("–" if pd.isna(lo) else f"{100 * lo:.1f}–{100 * hi:.1f}")
                           for lo, hi in zip(rates["ci_low"], rates["ci_high"])],
    })
    return view


# --- results rows --------------------------------------------------------------------

def count_results(counts: pd.DataFrame, label_prefix: str = "") -> pd.DataFrame:
    """Result rows (``results.csv`` schema) for count rows from :func:`count_rows`.

    Parameters
    ----------
    counts : DataFrame
        From :func:`count_rows`, :func:`availability` or :func:`share_at_least`.
    label_prefix : str, default ""
        Put before each label (e.g. the population: ``"Ph+ — "``).

    Returns
    -------
    DataFrame
        ``key``, ``label``, ``numerator``, ``denominator``, ``estimate`` (share,
        0-1), ``ci_low``, ``ci_high``, ``method`` and ``unit`` ("proportion").
    """
    return pd.DataFrame({
        "key": counts["key"],
        "label": [f"{label_prefix}{c}: {lv}" for c, lv in zip(counts["characteristic"], counts["level"])],
        "numerator": counts["numerator"], "denominator": counts["denominator"],
        "estimate": counts["estimate"], "ci_low": counts["ci_low"], "ci_high": counts["ci_high"],
        "method": "count; Clopper-Pearson exact 95% CI", "unit": "proportion",
    })


def summary_results(summaries: pd.DataFrame) -> pd.DataFrame:
    """Result rows for median, minimum and maximum from :func:`summary_rows`.

    Parameters
    ----------
    summaries : DataFrame
        From :func:`summary_rows`.

    Returns
    -------
    DataFrame
        Three rows per summary (keys ``col.median[...]``, ``col.min[...]``,
        ``col.max[...]``) in the results schema without ``notebook``;
        ``denominator`` is the number of patients with a value, ``estimate`` the
        statistic (NaN when no patient has a value), ``unit`` the column name.
    """
    rows = []
    for row in summaries.itertuples(index=False):
        for stat, value in (("median", row.median), ("min", row.minimum), ("max", row.maximum)):
            rows.append({
                "key": rate_key(f"{row.column}.{stat}", row.filters),
                "label": f"{row.characteristic}, {stat} ({row.level}; n={row.n}, "
                         f"{row.n_missing} missing)",
                "denominator": row.n, "estimate": value, "method": stat, "unit": row.column,
            })
    return pd.DataFrame(rows, columns=[c for c in RESULT_COLUMNS if c != "notebook"])


# --- saving and showing ----------------------------------------------------------------

def save_table(table: pd.DataFrame, name: str, output_dir: str | Path) -> tuple[Path, Path]:
    """Write ``tables/<name>.csv`` and ``tables/<name>.xlsx`` under ``output_dir``.

    Both are byte-for-byte reproducible: CSV uses ``\\n`` line endings; the XLSX
    has fixed document timestamps and zip entry times.

    Parameters
    ----------
    table : DataFrame
        Written without its index (missing values as empty cells). Text that
        would start a formula is kept as text: prefixed with ``'`` in the CSV
        (:func:`_csv_safe`), stored as a string in the XLSX.
    name : str
        File stem; the XLSX sheet takes its first 31 characters.
    output_dir : str or Path
        Run folder; ``tables/`` is created under it if needed.

    Returns
    -------
    tuple of Path
        The CSV and XLSX paths written.
    """
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / f"{name}.csv", folder / f"{name}.xlsx"
    _csv_safe(table).to_csv(csv_path, index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, index=False, sheet_name=name[:31])
        for row in writer.sheets[name[:31]].iter_rows():
            for cell in row:
                if cell.data_type == "f":  # text that starts with "=": kept as text
                    cell.data_type = "s"
    xlsx_path.write_bytes(_fixed_time_xlsx(buffer.getvalue()))
    return csv_path, xlsx_path


#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and headers starting with = + - @ tab or CR begin with ``'``.

    This is the OWASP rule against CSV injection: a spreadsheet opening the
    file shows the text instead of evaluating it. Numbers are left as they are.
    """
    def safe(value):
        return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value

    out = table.copy()
    for position in range(out.shape[1]):
        values = out.iloc[:, position]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values)):
            out.isetitem(position, values.astype(object).map(safe))
    out.columns = [safe(c) for c in out.columns]
    return out


#: Columns :func:`save_and_show_counts` prints by default.
COUNT_COLUMNS: tuple[str, ...] = ("level", "numerator", "denominator", "estimate", "ci_low", "ci_high")


def save_and_show_counts(counts: pd.DataFrame, name: str, output_dir: str | Path,
                         columns: Sequence[str] = COUNT_COLUMNS) -> None:
    """Save count rows as ``tables/<name>`` (CSV and XLSX) and print them.

    Parameters
    ----------
    counts : DataFrame
        From :func:`count_rows` or :func:`share_at_least`. An empty ``Not available``
        level is left out of both (:func:`without_empty_missing`); the internal
        ``variable`` column is not saved. The input is not modified.
    name : str
        File stem (see :func:`save_table`).
    output_dir : str or Path
        Run folder.
    columns : sequence of str, default :data:`COUNT_COLUMNS`
        Columns printed (the files keep every column: keys, labels, CIs, method).

    Returns
    -------
    None
        The files are written and the table printed.
    """
    shown = without_empty_missing(counts).drop(columns="variable", errors="ignore")
    save_table(shown, name, output_dir)
    show_table(shown, columns)


def _fixed_time_xlsx(data: bytes) -> bytes:
    """Re-pack an XLSX with fixed zip entry times and document timestamps."""
    import re

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2000-01-01T00:00:00Z", content)
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()


def show_table(table: pd.DataFrame, columns: Sequence[str] | None = None, *,
               max_rows: int | None = None) -> None:
    """Print a table as plain text (stable in stored notebook outputs, unlike HTML).

    Parameters
    ----------
    table : DataFrame
        The table; its index is not printed and missing values print as blanks.
    columns : sequence of str, optional
        Columns to show, in order; all by default.
    max_rows : int, optional
        Print at most this many rows, then a line saying how many were left
        out (for per-patient listings, which grow with the cohort). All rows
        by default.

    Returns
    -------
    None
        The table is printed.
    """
    view = table if columns is None else table.loc[:, list(columns)]
    if max_rows is not None and len(view) > max_rows:
        print(view.head(max_rows).to_string(index=False, na_rep=""))
        print(f"... and {len(view) - max_rows:,} more rows (first {max_rows} shown)")
        return
    print(view.to_string(index=False, na_rep=""))
