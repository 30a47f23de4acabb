"""Read one worksheet of an .xlsx workbook into rows of text cells.

Knows workbooks, not the contract (a ``looks_like_header`` function picks the sheet). The zip's
uncompressed size is checked before parsing, so a small file unpacking to gigabytes is refused
at once. Formulas without a stored value and merged cells are reported by A1 reference: a reader
would otherwise see blanks where the user sees values.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

#: Rows scanned at the top of each sheet to recognise the header.
HEADER_ROWS = 20

_CELL = re.compile(rb"<c\b([^>]*)>(.*?)</c>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_FORMULA = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_VALUE = re.compile(rb"<v\b[^>]*>([^<]+)</v>")
_MERGE = re.compile(rb'<mergeCell\b[^>]*\bref="([A-Z]{1,3})([0-9]+)(?::([A-Z]{1,3}[0-9]+))?"')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


class WorkbookError(Exception):
    """The workbook cannot be read as asked; ``row`` is a sheet row number when one is concerned."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.row = row


@dataclass(frozen=True)
class CellIssue:
    """A cell whose value cannot be read as shown: ``row`` and 0-based ``column`` of the sheet."""

    row: int
    column: int
    message: str


@dataclass
class Sheet:
    """The sheet that was read: its title, (sheet row, cell texts) rows, cell issues and notes."""

    title: str
    rows: list[tuple[int, list[str]]]
    issues: list[CellIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_sheet(
    path: Path,
    sheet: str | None,
    looks_like_header: Callable[[list[str]], bool],
    *,
    max_rows: int,
    max_bytes: int,
) -> Sheet:
    """The cohort sheet of an .xlsx file (only read) as text cells.

    ``sheet`` None: the visible sheet whose first rows pass ``looks_like_header`` (the active one
    when several do), else the only visible sheet. ``max_rows``: data rows allowed below the header;
    ``max_bytes``: the zip's uncompressed size. :class:`WorkbookError` when not a workbook, too
    large, no such sheet, or no single sheet to choose.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if unpacked > max_bytes:
                raise WorkbookError(
                    f"the workbook unpacks to {unpacked / 1e6:,.0f} MB, more than any cohort table "
                    f"(limit {max_bytes / 1e6:,.0f} MB uncompressed); is it the right file? "
                    "A very large cohort can be saved as 'CSV UTF-8'"
                )
            sheets = _sheet_list(archive)
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, ElementTree.ParseError) as exc:
        raise WorkbookError(f"the file cannot be read as an .xlsx workbook: {exc}") from None
    try:
        chosen, notes = _choose(book, sheets, sheet, looks_like_header)
        rows = _rows(book, chosen.title, max_rows)
    finally:
        book.close()
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(chosen.part) if chosen.part in archive.namelist() else b""
    issues = _merged_cells(xml, chosen.title) + _formulas_without_value(xml, chosen.title)
    return Sheet(chosen.title, rows, issues, notes)


@dataclass(frozen=True)
class _SheetEntry:
    title: str
    hidden: bool
    part: str  # the sheet's XML member in the zip


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_list(archive: zipfile.ZipFile) -> list[_SheetEntry]:
    """The workbook's sheets in tab order, from xl/workbook.xml and its relationships."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {
        r.get("Id"): r.get("Target", "") for r in rels.iter() if _local(r.tag) == "Relationship"
    }
    out = []
    for node in book.iter():
        if _local(node.tag) != "sheet":
            continue
        rid = node.get(_REL_NS) or next(
            (v for k, v in node.attrib.items() if _local(k) == "id"), ""
        )
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
        out.append(
            _SheetEntry(node.get("name", ""), node.get("state", "visible") != "visible", part)
        )
    if not out:
        raise WorkbookError("the workbook has no worksheets")
    return out


def _describe(sheets: list[_SheetEntry]) -> str:
    return ", ".join(repr(s.title) + (" (hidden)" if s.hidden else "") for s in sheets)


def _choose(
    book,
    sheets: list[_SheetEntry],
    wanted: str | None,
    looks_like_header: Callable[[list[str]], bool],
) -> tuple[_SheetEntry, list[str]]:
    """The sheet to read and notes about the choice (see :func:`read_sheet`)."""
    notes = []
    if wanted is not None:
        chosen = next((s for s in sheets if s.title == wanted), None)
        if chosen is None:
            raise WorkbookError(
                f"the workbook has no sheet named {wanted!r}; its sheets are {_describe(sheets)}"
            )
        if chosen.hidden:
            notes.append(
                f"sheet {chosen.title!r} is hidden in the workbook; it was read because it was named"
            )
        return chosen, notes
    tables = _sheets_with_header(book, sheets, looks_like_header)
    visible = [s for s in sheets if not s.hidden]
    shown = [s for s in visible if s.title in tables]
    hidden = [s for s in sheets if s.hidden and s.title in tables]
    active = getattr(book.active, "title", None)
    if len(shown) > 1:
        chosen = next((s for s in shown if s.title == active), None)
        if chosen is None:
            raise WorkbookError(
                f"{len(shown)} visible sheets hold the contract's column names "
                f"({_describe(shown)}) and neither is the active one; name the one to read "
                "with --sheet NAME"
            )
        others = ", ".join(repr(s.title) for s in shown if s is not chosen)
        notes.append(
            f"read the active sheet {chosen.title!r}; the workbook also has {others} with the "
            "contract's columns (name it with --sheet NAME to read it instead)"
        )
        return chosen, notes
    if shown:
        chosen = shown[0]
    elif len(visible) == 1 and not hidden:
        chosen = visible[0]  # its header problems are reported as for a one-sheet file
    else:
        where = (
            f"; the hidden sheet {hidden[0].title!r} has them: unhide it or name it with --sheet NAME"
            if hidden
            else "; name the sheet to read with --sheet NAME"
        )
        raise WorkbookError(
            f"no visible sheet has the contract's column names in its first rows "
            f"(sheets: {_describe(sheets)}){where}"
        )
    if len(sheets) > 1:
        notes.append(
            f"read sheet {chosen.title!r}, the only visible one with the contract's columns "
            f"(sheets: {_describe(sheets)})"
        )
    return chosen, notes


def _sheets_with_header(
    book, sheets: list[_SheetEntry], looks_like_header: Callable[[list[str]], bool]
) -> set[str]:
    """Titles of the sheets with a header row among their first :data:`HEADER_ROWS` rows."""
    found = set()
    for entry in sheets:
        if entry.title in book.sheetnames:
            rows = book[entry.title].iter_rows(max_row=HEADER_ROWS)
            if any(looks_like_header([cell_text(c) for c in row]) for row in rows):
                found.add(entry.title)
    return found


def _rows(book, title: str, max_rows: int) -> list[tuple[int, list[str]]]:
    """Every row of sheet ``title`` as (sheet row, cell texts); refuses more than ``max_rows`` + 1."""
    sheet = book[title]
    declared = sheet.max_row or 0  # from the sheet's <dimension>, before reading any row
    if declared > max_rows + 1:
        raise WorkbookError(
            f"sheet {title!r} has {declared:,} rows, more than the "
            f"{max_rows:,} a cohort table may have; is it the right file?"
        )
    rows = []
    for number, row in enumerate(sheet.iter_rows(min_row=1), start=1):
        if number > max_rows + 1:
            raise WorkbookError(
                f"sheet {title!r} has more than {max_rows:,} rows below the header, "
                "more than a cohort table may have; is it the right file?"
            )
        rows.append((number, [cell_text(c) for c in row]))
    return rows


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + letter - 64
    return index - 1


def _merged_cells(xml: bytes, title: str) -> list[CellIssue]:
    """One issue per merged range of the sheet, at its top-left cell."""
    if b"<mergeCell" not in xml:
        return []
    issues = []
    for letters, row, end in _MERGE.findall(xml):
        ref = (letters + row).decode() + (":" + end.decode() if end else "")
        issues.append(
            CellIssue(
                int(row),
                _column_index(letters),
                f"sheet {title!r}, cells {ref}: merged cells; unmerge them and type "
                "the value in every cell",
            )
        )
    return issues


def _formulas_without_value(xml: bytes, title: str) -> list[CellIssue]:
    """One issue per formula cell with no stored (cached) result."""
    if b"<f" not in xml:
        return []
    issues = []
    for attributes, inner in _CELL.findall(xml):
        formula = _FORMULA.search(inner)
        if formula is None or _VALUE.search(inner):
            continue
        ref = _REF.search(attributes)
        if ref is None:
            continue
        text = html.unescape((formula.group(1) or b"").decode("utf-8", "replace"))
        shown = f"formula ={text}" if text else "a formula"
        issues.append(
            CellIssue(
                int(ref.group(2)),
                _column_index(ref.group(1)),
                f"sheet {title!r}, cell {(ref.group(1) + ref.group(2)).decode()}: {shown} "
                "has no stored value; save the file in Excel or type the value",
            )
        )
    return issues


def cell_text(cell) -> str:
    """A workbook cell as the text a person sees (percent-formatted cells keep their '%')."""
    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if "%" in (getattr(cell, "number_format", "") or ""):
            return f"{value * 100:g}%"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)
