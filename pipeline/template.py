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
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _STAMPS.sub(rb"\g<1>" + _FIXED_STAMP.encode() + rb"\g<2>", data)
            target.writestr(zipfile.ZipInfo(info.filename, _FIXED_TIME), data, zipfile.ZIP_DEFLATED)
    Path(path).write_bytes(out.getvalue())


def _allowed_values(col: contract.Column) -> list[str]:
    """The values a drop-down offers: the codes, or yes/no for booleans; empty for other kinds."""
    if col.kind == "code":
        return list(col.codes)
    if col.kind == "boolean":
        return ["yes", "no"]
    return []


def readme_rows() -> list[list[str]]:
    """The README sheet: one row per contract column (name, meaning, kind, required, allowed values)."""
    rows = [["column", "meaning", "kind", "required", "allowed values", "code meanings"]]
    for col in contract.COLUMNS:
        meanings = "; ".join(f"{code} = {label}" for code, label in col.code_labels.items()
                             if col.kind == "code")
        rows.append([col.name, col.meaning or col.label, col.kind, "no" if col.nullable else "yes",
                     col.allowed(), meanings])
    return rows


def write_template(folder) -> tuple[Path, Path]:
    """Write ``template.csv`` (the contract's header) and ``template.xlsx`` (header and
    drop-down lists on sheet :data:`COHORT_SHEET`, column descriptions on
    :data:`README_SHEET`) into ``folder``, replacing existing ones."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / "template.csv", folder / "template.xlsx"
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(contract.NAMES)
    csv_path.write_text(text.getvalue(), encoding="utf-8")

    book = Workbook()
    sheet = book.active
    sheet.title = COHORT_SHEET
    sheet.append(list(contract.NAMES))
    sheet.freeze_panes = "A2"
    for i, col in enumerate(contract.COLUMNS, start=1):
        letter = get_column_letter(i)
        sheet.column_dimensions[letter].width = max(12, len(col.name) + 2)
        values = _allowed_values(col)
        if values:
            rule = DataValidation(type="list", formula1='"' + ",".join(values) + '"',
                                  allow_blank=col.nullable, showErrorMessage=True,
                                  errorTitle=col.name, error=f"{col.name}: {col.allowed()}")
            rule.add(f"{letter}2:{letter}{VALIDATION_ROWS + 1}")
            sheet.add_data_validation(rule)
    readme = book.create_sheet(README_SHEET)
    for row in readme_rows():
        readme.append(row)
    for letter, width in zip("ABCDEF", (26, 60, 10, 10, 48, 70)):
        readme.column_dimensions[letter].width = width
    save_workbook(book, xlsx_path)
    return csv_path, xlsx_path
