"""Tables for readers: escaped, byte-stable notebook/HTML tables (pandas Styler, fixed id)
and the CSV and XLSX files spreadsheet users open."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from helpers.contract import readable
from helpers.narrative import ci_text, n_of, number_or_nan, p_text
from helpers.suppression import NONE, Policy

_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: Cell text for a value that is missing or not estimable.
MISSING = "–"
#: Cells of a column at most this long are kept on one line in the HTML table.
NOWRAP_WIDTH = 28
#: XLSX number format by tidy column name (proportions shown as percentages).
NUMBER_FORMATS: dict[str, str] = {
    "numerator": "0",
    "denominator": "0",
    "estimate": "0.0%",
    "ci_low": "0.0%",
    "ci_high": "0.0%",
    "p_value": "0.000",
}


#: XLSX header of a tidy column (the CSV keeps the column name for analysts).
XLSX_HEADERS: dict[str, str] = {
    "numerator": "n",
    "denominator": "N",
    "estimate": "Proportion",
    "ci_low": "95% CI, lower",
    "ci_high": "95% CI, upper",
    "p_value": "p",
    "characteristic": "Characteristic",
    "level": "Level",
    "label": "Label",
    "method": "Method",
    "unit": "Unit",
    "key": "Key",
}


def header_label(column: object) -> str:
    """A column header for readers: :data:`XLSX_HEADERS`, a contract column's label, else as written (≥/≤)."""
    from helpers import contract

    name = str(column)
    if name in XLSX_HEADERS:
        return XLSX_HEADERS[name]
    return readable(contract.label(name))


class Table:
    """A displayed table (cells as strings, human headers): HTML for JupyterLab and the report, aligned text elsewhere."""

    def __init__(
        self, frame: pd.DataFrame, title: str, footnote: str = "", table_id: str | None = None
    ):
        self.frame, self.title, self.footnote = frame, title, footnote
        # Untitled tables take their id from their cells, so two on one page differ.
        key = title or frame.to_csv(index=False)
        self.table_id = table_id or "t" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]

    def _repr_html_(self) -> str:
        styler = (
            self.frame.style.hide(axis="index")
            .format(escape="html", na_rep=MISSING)
            .format_index(escape="html", axis=1)
            .set_uuid(self.table_id)
            .set_table_styles(
                [
                    {"selector": "caption", "props": "text-align:left;font-weight:600;"},
                    {"selector": "th", "props": "text-align:left;"},
                    {"selector": "td", "props": "text-align:left;"},
                    # short cells (counts, "9.9–81.6") never break inside; long text wraps
                    *(
                        {"selector": f"td.col{j}", "props": "white-space:nowrap;"}
                        for j, column in enumerate(self.frame.columns)
                        if self.frame[column].astype(str).str.len().max() <= NOWRAP_WIDTH
                    ),
                ]
            )
        )
        if self.title:
            styler = styler.set_caption(self.title)
        html_table = styler.to_html()
        # Escape the caption ourselves: Styler writes it as given.
        html_table = html_table.replace(
            f"<caption>{self.title}</caption>", f"<caption>{_escape(self.title)}</caption>"
        )
        note = f'<p class="footnote">{_escape(self.footnote)}</p>' if self.footnote else ""
        return f'<div class="rich-table">{html_table}{note}</div>'

    def show(self) -> None:
        """Display the table in the notebook (HTML, with this text form as fallback)."""
        from IPython.display import display

        display(self)

    def __repr__(self) -> str:
        body = self.frame.to_string(index=False, na_rep=MISSING) if len(self.frame.columns) else ""
        return "\n".join(part for part in (self.title, body, self.footnote) if part)


def table(
    frame: pd.DataFrame,
    title: str,
    *,
    columns: Mapping[str, str] | None = None,
    formats: Mapping[str, Callable[[object], str]] | None = None,
    footnote: str = "",
    table_id: str | None = None,
    policy: Policy = NONE,
) -> Table:
    """A :class:`Table` from a tidy frame: ``columns`` ``{tidy column: header}`` in display order
    (default all), ``formats`` ``{tidy column: value -> str}`` (default :func:`cell_text`)."""
    columns = dict(columns) if columns is not None else {c: c for c in frame.columns}
    formats = formats or {}
    # scrub: a share run hides small counts also in text written before the table (no-op otherwise)
    shown = pd.DataFrame(
        {
            readable(str(header)): [
                readable(policy.scrub(formats.get(col, cell_text)(v))) for v in frame[col]
            ]
            for col, header in columns.items()
        }
    )
    return Table(shown, readable(title), readable(policy.with_note(footnote, shown)), table_id)


#: Footnote of a table of exact rates compared with Fisher's exact test.
FISHER_FOOTNOTE = (
    "n/N (%) with exact Clopper-Pearson 95% CI; p from Fisher's exact test, "
    "two-sided (exact also for tables larger than 2 x 2); patients without a "
    "value are shown but not tested."
)


#: Footnote of a table of counts with exact intervals.
COUNT_FOOTNOTE = "n/N (%) with exact Clopper-Pearson 95% CI."


def test_footnote(methods) -> str:
    """Footnote for rates compared by tests with these ``method`` texts; names any asymptotic
    test that replaced Fisher's, so a table never claims an exact test it did not run."""
    fallbacks = sorted({str(m) for m in methods if "asymptotic" in str(m)})
    if not fallbacks:
        return FISHER_FOOTNOTE
    return (
        "n/N (%) with exact Clopper-Pearson 95% CI; p from Fisher's exact test, two-sided, except: "
        + "; ".join(fallbacks)
        + ". Patients without a value are shown but not tested."
    )


def cell_text(value: object) -> str:
    """Default cell text: Yes/No for booleans, "–" for missing, whole numbers without decimals."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def rate_cells(frame: pd.DataFrame, *, policy: Policy = NONE) -> pd.DataFrame:
    """The frame's other columns, then ``n/N (%)``, ``95% CI`` and (with ``p_value``) ``p`` text
    from tidy rate rows (proportions in [0, 1]); "–" where missing or hidden in a share run."""
    out = frame.drop(
        columns=[
            c
            for c in ("numerator", "denominator", "estimate", "ci_low", "ci_high", "p_value")
            if c in frame.columns
        ]
    )
    out = out.assign(
        **{
            "n/N (%)": [
                MISSING
                if pd.isna(n) or pd.isna(d)
                else n_of(*(v if isinstance(v, str) else int(v) for v in (n, d)), policy=policy)
                for n, d in zip(frame["numerator"], frame["denominator"])
            ],  # "<5": read back from a share run
            "95% CI": [
                ci_cell(lo, hi, counts=(n, d), policy=policy)
                for lo, hi, n, d in zip(
                    frame["ci_low"], frame["ci_high"], frame["numerator"], frame["denominator"]
                )
            ],
        }
    )
    if "p_value" in frame.columns:
        out["p"] = [p_cell(p) for p in frame["p_value"]]
    return out


def ci_cell(
    low: object, high: object, *, counts: tuple | None = None, policy: Policy = NONE
) -> str:
    """``"49.5–82.6%"`` for a table cell under a "95% CI" header; "–" when not estimable or a count is hidden."""
    text = ci_text(number_or_nan(low), number_or_nan(high), counts=counts, policy=policy)
    return text.removeprefix("95% CI ") if text[:6] == "95% CI" and "–" in text else MISSING


def p_cell(p: object) -> str:
    """``"0.022"``, ``"<0.001"`` for a cell under a "p" header; "–" when not computed."""
    return p_text(number_or_nan(p), bare=True).replace("< ", "<")  # bare NaN is "–" too


def _escape(text: str) -> str:
    return html.escape(str(text), quote=True)


# --- files for spreadsheet users ---------------------------------------------------------

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: object) -> object:
    """Text starting with = + - @ tab or CR prefixed with ``'`` (shown, never evaluated); other values as given."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write the tidy numbers as CSV: UTF-8 with a byte-order mark (so Excel reads ``≥ ± –``),
    ``\\n`` line ends, no index; text that would start a formula gets a leading ``'``."""
    path = Path(path)
    safe = frame.copy()
    for position in range(safe.shape[1]):
        values = safe.iloc[:, position]
        if not (
            pd.api.types.is_numeric_dtype(values)
            or pd.api.types.is_bool_dtype(values)
            or pd.api.types.is_datetime64_any_dtype(values)
        ):
            safe.isetitem(position, values.astype(object).map(formula_safe))
    safe.columns = [formula_safe(c) for c in safe.columns]
    # Python's csv module leaves a lone CR unquoted when lines end in LF, and readers then
    # split the row there: text holding a CR gets every text cell quoted instead.
    has_cr = any(
        "\r" in str(v)
        for v in [*safe.columns, *safe.select_dtypes(exclude="number").to_numpy().ravel()]
    )
    safe.to_csv(
        path,
        index=False,
        lineterminator="\n",
        encoding="utf-8-sig",
        quoting=csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL,
    )
    return path


def write_xlsx(
    frame: pd.DataFrame,
    path: str | Path,
    title: str,
    *,
    footnote: str = "",
    number_formats: Mapping[str, str] = NUMBER_FORMATS,
) -> Path:
    """Write a byte-stable XLSX: bold title row, bold header in words (:func:`header_label`), widths,
    a footnote line when given; text with ≥/≤, booleans as Yes/No.

    ``number_formats`` apply to numeric columns only; a percentage format only
    when every value is a proportion in [0, 1].
    """
    from openpyxl import Workbook
    from openpyxl.styles import Border, Font, Side

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", "_", Path(path).stem)[:31] or "table"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([header_label(c) for c in frame.columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.border = Border(bottom=Side(style="thin"))
    for row in frame.itertuples(index=False):
        sheet.append([_xlsx_value(v) for v in row])
    for j, column in enumerate(frame.columns, start=1):
        letter = sheet.cell(row=2, column=j).column_letter
        fmt = number_formats.get(str(column))
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if fmt and "%" in fmt and not values.between(0, 1).all():
            fmt = None  # not a proportion (e.g. a median in the same column): leave as written
        if fmt and len(values) == frame[column].notna().sum():
            for (cell,) in sheet.iter_rows(min_row=3, min_col=j, max_col=j):
                cell.number_format = fmt
        longest = max([len(str(column))] + [len(cell_text(v)) for v in frame[column]])
        sheet.column_dimensions[letter].width = min(60, longest + 2)
    if footnote:
        sheet.append([])
        sheet.append([footnote])
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # text that starts with "=": kept as text, never a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    path = Path(path)
    path.write_bytes(fixed_zip_times(buffer.getvalue()))
    return path


def _xlsx_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return "Yes" if value else "No"
    if isinstance(value, str):
        return readable(value)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isinf(value):
        return str(value)
    return value


def fixed_zip_times(data: bytes) -> bytes:
    """Re-pack an Office file (XLSX, DOCX) with fixed zip entry times and document dates."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", b"2000-01-01T00:00:00Z", content
                )
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
    return out.getvalue()
