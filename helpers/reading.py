"""Read a cohort file (UTF-8 CSV, or a workbook via :mod:`helpers.workbook`) into raw text cells.

Whole-file problems (missing, binary, not UTF-8, wrong delimiter, header not on line 1, too
large) stop reading; problems of single rows or cells (ragged rows, unnamed or repeated column
names, formulas without a value) come with the frame. The file is only read.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import contract, workbook

#: Files larger than this are refused before parsing (a cohort is small).
MAX_FILE_BYTES = 100_000_000
#: Workbooks whose zip members unpack to more than this are refused before parsing
#: (about 60,000 rows of the contract's columns; openpyxl reads them in about a minute).
MAX_XLSX_UNPACKED_BYTES = 50_000_000
#: Data rows (patients) a file may hold; more are refused.
MAX_ROWS = 1_000_000
#: How far into a file to look for the header row.
HEADER_SEARCH_LINES = 20
#: Bytes inspected to tell text from binary content.
SNIFF_BYTES = 65_536
#: Column of the raw frame holding each row's line (sheet row) number.
LINE = "_line"

#: An OpenDocument file is a zip whose first member, ``mimetype``, holds this text uncompressed.
_ODF_MIMETYPE = b"application/vnd.oasis.opendocument"

_DELIMITERS = {",": "comma", ";": "';'", "\t": "tab", "|": "'|'"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF8_BOM = b"\xef\xbb\xbf"
_FILE_ALLOWED = (
    "a UTF-8, comma-separated CSV or .xlsx table with the contract's column names on line 1"
)


@dataclass(frozen=True)
class Problem:
    """One finding about a cohort file: ``line`` as a person sees the file (header = 1; .xlsx:
    the sheet row; None for the whole file), the value as written, what is allowed, in words;
    severity ``"error"`` or ``"warning"``."""

    line: int | None
    patient_id: str | None
    column: str | None
    value: str | None
    allowed: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else ""
        if self.patient_id:
            where += (" " if where else "") + f"(patient {self.patient_id})"
        if self.column:
            where += (", " if where else "") + f"column {self.column}"
        return f"{where}: {self.message}" if where else self.message


class UnreadableFile(Exception):
    """A whole-file problem that stops reading; ``problem`` says what and where."""

    def __init__(self, message: str, line: int | None = None, value: str | None = None):
        super().__init__(message)
        self.problem = Problem(line, None, None, value, _FILE_ALLOWED, message)


@dataclass
class RawFile:
    """What reading a file gave: the raw frame (None when unreadable), problems, notes, sheet read."""

    frame: pd.DataFrame | None
    problems: list[Problem]
    notes: list[str]
    sheet: str | None = None


def and_join(items) -> str:
    """``"2, 3 and 6"``."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def read_raw(path, sheet: str | None = None) -> RawFile:
    """A CSV or .xlsx file (only read) as raw text cells: one row per non-blank line, every cell
    a ``str`` as written, plus :data:`LINE`; whole-file problems are returned, not raised."""
    path = Path(path)
    try:
        if not path.exists():
            raise UnreadableFile(f"file not found: {path}")
        if not path.is_file():
            raise UnreadableFile(f"not a file: {path}")
        size = path.stat().st_size
        if size == 0:
            raise UnreadableFile(
                "the file is empty (0 bytes); expected a header line and one row per patient"
            )
        if size > MAX_FILE_BYTES:
            raise UnreadableFile(
                f"the file is {size / 1e6:.0f} MB, larger than any cohort table "
                f"(limit {MAX_FILE_BYTES / 1e6:.0f} MB); is it the right file?"
            )
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        is_xlsx_name = path.suffix.lower() in (".xlsx", ".xlsm")
        if head.startswith(_OLE_MAGIC):
            raise UnreadableFile(
                "this is an old-style Excel (.xls) or other OLE file; save it as .xlsx "
                "or as 'CSV UTF-8'"
            )
        if head.startswith(_ZIP_MAGIC) and _ODF_MIMETYPE in head[:100]:
            raise UnreadableFile(
                "this is an OpenDocument spreadsheet (.ods, LibreOffice or OpenOffice), which "
                "is not read: save it as .xlsx or as 'CSV UTF-8'"
            )
        if head.startswith(_ZIP_MAGIC):
            if not is_xlsx_name:
                raise UnreadableFile(
                    f"the file is named '{path.name}' but it is an Excel workbook "
                    "(zip) rather than CSV text; rename it to .xlsx or save it as 'CSV UTF-8'"
                )
            return _read_workbook(path, sheet)
        if is_xlsx_name:
            kind = "CSV text" if _looks_like_text(head) else "not a workbook at all"
            raise UnreadableFile(
                f"the file is named '{path.name}' but it is not an Excel workbook "
                f"({kind}); rename it to .csv or re-save it as .xlsx"
            )
        if sheet is not None:
            raise UnreadableFile(
                f"a sheet ({sheet!r}) was named, but the file is CSV text, which has no sheets"
            )
        text, notes = _csv_text(path.read_bytes())
        fast = _quote_free_frame(text)
        raw, problems = fast if fast is not None else _rows_to_frame(_csv_rows(text), notes)
        return RawFile(raw, problems, notes)
    except UnreadableFile as stop:
        return RawFile(None, [stop.problem], [])
    except OSError as exc:
        return RawFile(None, [UnreadableFile(f"cannot read the file: {exc}").problem], [])


def _read_workbook(path: Path, sheet: str | None) -> RawFile:
    try:
        found = workbook.read_sheet(
            path, sheet, looks_like_header, max_rows=MAX_ROWS, max_bytes=MAX_XLSX_UNPACKED_BYTES
        )
    except workbook.WorkbookError as exc:
        raise UnreadableFile(str(exc), line=exc.row) from None
    try:
        return _sheet_frame(found)
    except UnreadableFile as stop:
        return RawFile(None, [stop.problem], list(found.notes), found.title)


def _sheet_frame(found: workbook.Sheet) -> RawFile:
    """The raw frame of a sheet's rows, with its unreadable cells as problems."""
    rows, notes = found.rows, list(found.notes)
    candidates = [
        (n, {d: cells for d in _DELIMITERS}) for n, cells in rows if any(c.strip() for c in cells)
    ][:HEADER_SEARCH_LINES]
    if not candidates:
        raise UnreadableFile(
            f"sheet {found.title!r} is empty; expected a header row and one row per patient"
        )
    try:
        _check_header_position(candidates)
    except UnreadableFile as stop:
        # Same wording as for CSV, but a spreadsheet user thinks in rows.
        raise UnreadableFile(
            stop.problem.message.replace("line", "row"), line=stop.problem.line
        ) from None
    raw, problems = _rows_to_frame(rows, notes)
    header = next(cells for _, cells in rows if "".join(cells).strip())
    patients = (
        dict(zip(raw[LINE], raw["patient_id"].str.strip()))
        if "patient_id" in raw.columns and found.issues
        else {}
    )
    for issue in found.issues:
        name = header[issue.column].strip() if issue.column < len(header) else None
        problems.append(
            Problem(
                issue.row,
                patients.get(issue.row) or None,
                name or None,
                None,
                "a typed value in every cell",
                issue.message,
            )
        )
    return RawFile(raw, problems, notes, found.title)


def _looks_like_text(sample: bytes) -> bool:
    """Whether a byte sample is text: no NUL bytes and few control characters."""
    if not sample:
        return True
    if b"\x00" in sample:
        return False
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return control / len(sample) < 0.02


def _csv_text(data: bytes) -> tuple[str, list[str]]:
    """Decode CSV bytes and check that line 1 is a comma-separated contract header."""
    notes = []
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        raise UnreadableFile(
            "the file is UTF-16 text (Excel 'Unicode text'); re-save it as 'CSV UTF-8'"
        )
    offset = 0
    if data.startswith(_UTF8_BOM):
        offset = len(_UTF8_BOM)
        notes.append("a UTF-8 byte-order mark at the start of the file was ignored")
    if not _looks_like_text(data[:SNIFF_BYTES]):
        raise UnreadableFile(
            "the file does not look like a table: it holds binary content, not text; "
            "expected a UTF-8 CSV or an .xlsx workbook"
        )
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + offset
        line = data.count(b"\n", 0, at) + 1
        bad = data[at : at + 1]
        guess = bad.decode("cp1252", errors="replace")
        raise UnreadableFile(
            f"the file is not UTF-8 text: byte 0x{bad.hex().upper()} at byte offset {at} (line {line}) "
            f"cannot be decoded (in Latin-1/Windows-1252 it would be {guess!r}); "
            "re-save the file as UTF-8 (in Excel: 'CSV UTF-8')",
            line=line,
        ) from None
    if not text.strip():
        raise UnreadableFile(
            "the file holds only blank lines; expected a header line and one row per patient"
        )
    _check_header_position(_split_candidates(text))
    return text, notes


def _too_many_rows() -> UnreadableFile:
    return UnreadableFile(
        f"the file has more than {MAX_ROWS:,} rows below the header, more than a cohort "
        "table may have; is it the right file?"
    )


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Split CSV text into (line number, cells) rows, header first."""
    rows, last, filled, width = [], 0, 0, None
    file_lines = text.count("\n") + (not text.endswith("\n"))
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        for cells in reader:
            if cells and any("\n" in c or "\r" in c for c in cells):
                _check_spanning_cell(text, width, last + 1, reader.line_num, file_lines, cells)
            if width is None and "".join(cells).strip():
                width = len(cells)
            rows.append((last + 1, cells))
            last = reader.line_num
            filled += bool(cells)
            if filled > MAX_ROWS + 1:
                raise _too_many_rows()
    except csv.Error as exc:
        raise UnreadableFile(
            f"the file cannot be parsed as CSV near line {last + 1}: {exc}", line=last + 1
        ) from None
    return rows


def _check_spanning_cell(
    text: str, width: int | None, start: int, end: int, file_lines: int, cells: list[str]
) -> None:
    """Stop when a cell spanning lines is an unbalanced quote, not a quoted line break: it runs to
    the end of the file, or its row lacks the header's ``width`` cells (closed lines later)."""
    at_end = end >= file_lines and _open_quote_at_end(text)
    if not at_end and (width is None or len(cells) == width):
        return
    spanning = next(i for i, c in enumerate(cells) if "\n" in c or "\r" in c)
    opened = start + sum(c.count("\n") for c in cells[:spanning])
    if at_end:
        why = f"never closed, so everything from there to the end of the file (line {end}) would be one cell"
    else:
        why = (
            f"not closed on that line but on line {end}, so lines {opened} to {end} would be one cell "
            f"(the row would have {len(cells)} cells instead of {width})"
        )
    raise UnreadableFile(
        f'a quote (") opens a cell that is {why}; close the quote where the cell ends or remove it',
        line=opened,
    )


def _open_quote_at_end(text: str) -> bool:
    """Whether the file ends inside a quoted cell (the csv module then returns the rest as one cell)."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _quote_free_frame(text: str) -> tuple[pd.DataFrame, list[Problem]] | None:
    """What ``_rows_to_frame(_csv_rows(text))`` gives for a CSV without quotes whose rows all match
    the header, else None (the general path).

    Without quotes a cell never spans lines, so the text is split column-wise: no per-row lists,
    whose allocation and garbage collection dominate reading a large cohort.
    """
    if '"' in text or "\x00" in text:
        return None
    # The csv module ends a line at \r\n, \r or \n (io.StringIO, newline="").
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the line break ending the last line
    if not lines or max(map(len, lines)) > csv.field_size_limit():
        return None
    # Non-blank: some character is neither whitespace nor a comma (a leading
    # letter or digit settles it without building the comma-free copy).
    numbers = [
        n
        for n, line in enumerate(lines, start=1)
        if line[:1].isalnum() or line.replace(",", "").strip()
    ]
    if not numbers:
        return None
    if len(numbers) > MAX_ROWS + 1:
        raise _too_many_rows()
    header = [h.strip() for h in lines[numbers[0] - 1].split(",")]
    width = len(header)
    body = [lines[n - 1] for n in numbers[1:]]
    del lines
    if header[-1] == "" or set(map(str.count, body, itertools.repeat(","))) - {width - 1}:
        return None
    problems, keep = _header_problems(numbers[0], header)
    cells = ",".join(body).split(",") if body else []
    del body
    raw = pd.DataFrame(
        {header[i]: pd.Series(cells[i::width], dtype="str") for i in keep},
        index=pd.RangeIndex(len(numbers) - 1),
        copy=False,
    )
    raw[LINE] = pd.Series(numbers[1:], dtype="int64")
    return raw, problems


def _split_candidates(text: str) -> list[tuple[int, dict[str, list[str]]]]:
    """The first non-blank lines, each split by every candidate delimiter."""
    out = []
    for number, line in enumerate(text[:1_000_000].split("\n")[:200], start=1):
        if line.strip():
            out.append((number, {d: line.rstrip("\r").split(d) for d in _DELIMITERS}))
        if len(out) >= HEADER_SEARCH_LINES:
            break
    return out


def _check_header_position(candidates: list[tuple[int, dict[str, list[str]]]]) -> None:
    """Stop unless the first non-blank line is a comma-separated header of contract names."""
    best = (0, 0, ",")  # (recognised names, line, delimiter)
    for number, splits in candidates:
        for delim, cells in splits.items():
            score = sum(_recognised(c) for c in cells)
            if score > best[0]:
                best = (score, number, delim)
    score, number, delim = best
    if score == 0:
        first = candidates[0][1][","][0] if candidates else ""
        raise UnreadableFile(
            "the file does not look like a cohort table: none of the first lines holds the contract's "
            f"column names (line 1 starts {first[:60]!r}); expected a header such as "
            f"'{','.join(contract.NAMES[:4])},...' on line 1"
        )
    if delim != ",":
        raise UnreadableFile(
            f"the file looks like {_DELIMITERS[delim]}-separated; "
            "the contract requires commas between columns. Re-save it as comma-separated "
            "CSV (in Excel: 'CSV UTF-8 (comma delimited)')",
            line=number,
        )
    first_line = candidates[0][0]
    if number != first_line and score >= 3:
        raise UnreadableFile(
            f"the header must be on line 1, but the column names were found on line {number} "
            f"(line {first_line} holds {','.join(candidates[0][1][',']).rstrip(',')[:60]!r}); "
            "delete the rows above the header",
            line=number,
        )


def _rows_to_frame(
    rows: list[tuple[int, list[str]]], notes: list[str]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Header + data rows -> raw frame; reports header and ragged-row problems, appends to ``notes``."""
    # A row is blank when its joined cells are (whitespace is judged per character).
    rows = [row for row in rows if "".join(row[1]).strip()]
    if not rows:
        raise UnreadableFile(
            "the file holds no header line; expected a header line and one row per patient"
        )
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    lines = [number for number, _ in rows[1:]]
    body = [cells for _, cells in rows[1:]]
    del rows
    # Trailing unnamed columns empty in every row (every line ending in a comma) are a
    # spreadsheet artefact, not data.
    named = len(header)
    while named and header[named - 1] == "":
        named -= 1
    widest = max(map(len, body), default=0)
    every_line_longer = bool(body) and all(len(cells) == widest > named for cells in body)
    if (
        named
        and (len(header) > named or every_line_longer)
        and all(not "".join(cells[named:]).strip() for cells in body)
    ):
        notes.append(
            "the lines end with an empty, unnamed column (a trailing comma); it was ignored"
        )
        header = header[:named]
        body = [cells[:named] for cells in body]
    problems, keep = _header_problems(header_line, header)
    pid_at = header.index("patient_id") if "patient_id" in header else None
    width = len(header)
    for row in [r for r, cells in enumerate(body) if len(cells) != width]:
        cells = body[row]
        pid = cells[pid_at].strip() if pid_at is not None and pid_at < len(cells) else None
        problems.append(
            Problem(
                lines[row],
                pid or None,
                None,
                None,
                f"{width} cells per line",
                f"the line has {len(cells)} cells but the header has {width} "
                "columns (a stray or missing comma, or an unquoted comma in a value?)",
            )
        )
        body[row] = (cells + [""] * width)[:width]
    # Transpose rows to columns in one C-level pass (every row now has `width` cells).
    columns = list(zip(*body)) if body else [()] * width
    del body
    raw = pd.DataFrame(
        {header[i]: pd.Series(columns[i], dtype="str") for i in keep},
        index=pd.RangeIndex(len(lines)),
        copy=False,
    )
    raw[LINE] = pd.Series(lines, dtype="int64")
    return raw, problems


def _header_problems(header_line: int, header: list[str]) -> tuple[list[Problem], list[int]]:
    """Problems with the header's names, and the positions of the columns to keep (first of each name)."""
    problems: list[Problem] = []
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        seen.setdefault(name, []).append(i)
    for name, positions in seen.items():
        if name == "":
            for i in positions:
                problems.append(
                    Problem(
                        header_line,
                        None,
                        None,
                        "",
                        "a column name",
                        f"column {i + 1} has no name in the header",
                    )
                )
        elif len(positions) > 1:
            where = and_join(i + 1 for i in positions)
            problems.append(
                Problem(
                    header_line,
                    None,
                    name,
                    name,
                    "each column name once",
                    f"duplicate column name {name!r}: it appears {len(positions)} times "
                    f"in the header (columns {where}); each column must appear once",
                )
            )
    keep = sorted(positions[0] for name, positions in seen.items() if name != "")
    return problems, keep


def normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


_RECOGNISED = {c.name for c in contract.COLUMNS} | {
    normalise_name(c.label) for c in contract.COLUMNS
}


def _recognised(cell: str) -> bool:
    return normalise_name(cell.strip().lstrip("\ufeff")) in _RECOGNISED


def looks_like_header(cells: list[str]) -> bool:
    """Whether a row holds at least three of the contract's column names (or their labels)."""
    return sum(map(_recognised, cells)) >= 3
