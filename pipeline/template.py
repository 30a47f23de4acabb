"""Write the empty cohort template (CSV and .xlsx) from the data contract, so it cannot
drift from what ``python -m pipeline validate`` accepts; byte-for-byte deterministic.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from helpers import contract

#: Title of the sheet holding the table (the one the loader reads).
COHORT_SHEET = "Cohort"
#: Title of the sheet describing every column.
README_SHEET = "README"
#: Sheet rows (below the header) that get drop-down lists for coded columns.
VALIDATION_ROWS = 5000

_FIXED_TIME = (2022, 1, 1, 0, 0, 0)
_FIXED_STAMP = "2022-01-01T00:00:00Z"
_STAMPS = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def save_workbook(book, path: Path) -> None:
    """Save an openpyxl workbook with fixed zip and document timestamps (same content, same bytes)."""
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _STAMPS.sub(rb"\g<1>" + _FIXED_STAMP.encode() + rb"\g<2>", data)
            target.writestr(zipfile.ZipInfo(info.filename, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    Path(path).write_bytes(out.getvalue())


#: Columns every file has, in contract order.
REQUIRED_COLUMNS: tuple[contract.Column, ...] = tuple(
    c for c in contract.COLUMNS if c.name not in contract.OPTIONAL_COLUMNS
)
#: Columns a file may leave out (the centre and programme, then the follow-up), after the required ones.
OPTIONAL_BLOCK: tuple[contract.Column, ...] = (
    tuple(c for c in contract.COLUMNS if c.name in contract.OPTIONAL_COLUMNS)
    + contract.FOLLOW_UP_COLUMNS
)
#: Label rows of the README sheet above each block.
REQUIRED_LABEL = "Required columns: every file has them"
OPTIONAL_LABEL = (
    "Optional columns: a file may leave any of them out (delete the column or leave it blank); "
    "center gives outcomes by centre, the follow-up columns give survival"
)
#: Fill of the optional block's header cells on the cohort sheet.
OPTIONAL_FILL = "DDEBF7"


def template_columns() -> list[contract.Column]:
    """The template's columns: the required block, then the optional block."""
    return [*REQUIRED_COLUMNS, *OPTIONAL_BLOCK]


def readme_rows() -> list[list[str]]:
    """The README sheet: a label row per block, then one row per column of it (name, meaning,
    kind, whether a value is required, allowed values, code meanings)."""
    rows = [["column", "meaning", "kind", "value required", "allowed values", "code meanings"]]
    for label, block in ((REQUIRED_LABEL, REQUIRED_COLUMNS), (OPTIONAL_LABEL, OPTIONAL_BLOCK)):
        rows.append([label, "", "", "", "", ""])
        for col in block:
            meanings = "; ".join(
                f"{code} = {lab}" for code, lab in col.code_labels.items() if col.kind == "code"
            )
            rows.append(
                [
                    col.name,
                    col.meaning or col.label,
                    col.kind,
                    "no" if col.nullable else "yes",
                    col.allowed(),
                    meanings,
                ]
            )
    return rows


def write_template(folder) -> tuple[Path, Path]:
    """Write ``template.csv`` (the header: required columns, then optional ones) and
    ``template.xlsx`` (the same header with the optional block shaded and drop-down lists on
    sheet :data:`COHORT_SHEET`, the columns described block by block on :data:`README_SHEET`)
    into ``folder``, replacing existing ones."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / "template.csv", folder / "template.xlsx"
    columns = template_columns()
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([c.name for c in columns])
    csv_path.write_text(text.getvalue(), encoding="utf-8")

    book = Workbook()
    sheet = book.active
    sheet.title = COHORT_SHEET
    sheet.append([c.name for c in columns])
    sheet.freeze_panes = "A2"
    optional = {c.name for c in OPTIONAL_BLOCK}
    for i, col in enumerate(columns, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, len(col.name) + 2)
        if col.name in optional:
            cell = sheet.cell(row=1, column=i)
            cell.fill = PatternFill("solid", fgColor=OPTIONAL_FILL)
            cell.font = Font(italic=True)
            cell.comment = Comment(
                f"Optional column: {col.meaning or col.label}. A file may leave it out; "
                "see the README sheet.",
                "template",
            )
        if col.kind in ("code", "boolean"):  # a drop-down of the codes, or yes/no
            rule = DataValidation(
                type="list",
                formula1='"' + ",".join(col.codes or contract.YES_NO) + '"',
                allow_blank=col.nullable,
                showErrorMessage=True,
                errorTitle=col.name,
                error=f"{col.name}: {col.allowed()}",
            )
            rule.add(f"{letter}2:{letter}{VALIDATION_ROWS + 1}")
            sheet.add_data_validation(rule)
    readme = book.create_sheet(README_SHEET)
    for row in readme_rows():
        readme.append(row)
        if row[0] in (REQUIRED_LABEL, OPTIONAL_LABEL):
            readme.cell(row=readme.max_row, column=1).font = Font(bold=True)
            if row[0] == OPTIONAL_LABEL:
                readme.cell(row=readme.max_row, column=1).fill = PatternFill(
                    "solid", fgColor=OPTIONAL_FILL
                )
    for letter, width in zip("ABCDEF", (26, 60, 10, 10, 48, 70)):
        readme.column_dimensions[letter].width = width
    save_workbook(book, xlsx_path)
    return csv_path, xlsx_path
