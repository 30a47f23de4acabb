"""Read, validate and normalise a cohort file against the data contract.

The contract (columns, kinds, codes, bounds) lives in :mod:`helpers.contract`;
this module turns it into a pandera schema plus a small table of cross-column
rules, so every check is derived from one place. Validation never stops at the
first problem: it collects every one and reports them together, each naming
the line of the file (as a person sees it, header = line 1), the patient, the
column, the value as written and what is allowed.

Reading never writes to the file. Typical use::

    report = validate_file("data/cohort.csv")   # never raises for bad content
    cohort = load_cohort("data/cohort.csv")     # raises CohortValidationError
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers import contract

#: Files larger than this are refused before parsing (a cohort is small).
MAX_FILE_BYTES = 100_000_000
#: How far into a file to look for the header row.
HEADER_SEARCH_LINES = 20
#: Bytes inspected to tell text from binary content.
SNIFF_BYTES = 65_536

_LINE = "_line"
_BOOLEAN_WORDS = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False}
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")
_DELIMITERS = {",": "comma", ";": "';'", "\t": "tab", "|": "'|'"}
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_UTF8_BOM = b"\xef\xbb\xbf"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Problem:
    """One finding about a cohort file.

    Attributes
    ----------
    line : int or None
        1-based line number as a person sees the file (header = line 1; for
        .xlsx the sheet row number); None for whole-file problems.
    patient_id : str or None
        The row's patient_id, when it has one.
    column : str or None
        The column concerned.
    value : str or None
        The offending value as written in the file.
    allowed : str
        What is allowed (from :meth:`helpers.contract.Column.allowed`).
    message : str
        What is wrong, in words.
    severity : str
        ``"error"`` or ``"warning"``.
    """

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


@dataclass(frozen=True)
class ValidationReport:
    """Outcome of validating one file: problems (errors), warnings and notes."""

    path: str
    ok: bool
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    notes: tuple[str, ...]
    n_rows: int

    def format(self) -> str:
        """A human-readable report.

        Returns
        -------
        str
            First line: the file and the verdict (``valid (N patients)`` or
            ``N problems in M rows``, with warning counts); then one ``  - ``
            line per problem, warning and note.
        """
        warn = _plural(len(self.warnings), "warning")
        if self.ok:
            head = f"{self.path}: valid ({_plural(self.n_rows, 'patient')}"
            head += f", {warn})" if self.warnings else ")"
        else:
            head = f"{self.path}: {_plural(len(self.problems), 'problem')}"
            head += f" in {_plural(self.n_rows, 'row')}" if self.n_rows else ""
            head += f" (and {warn})" if self.warnings else ""
        lines = [head]
        lines += [f"  - {p}" for p in self.problems]
        lines += [f"  - warning: {p}" for p in self.warnings]
        lines += [f"  - note: {n}" for n in self.notes]
        return "\n".join(lines)


class CohortValidationError(ValueError):
    """A cohort file breaks the contract; ``str()`` names the file and lists every problem."""

    def __init__(self, report: ValidationReport):
        super().__init__(report.format())
        self.report = report


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class _FileProblem(Exception):
    """Internal: a whole-file problem that stops reading."""

    def __init__(self, message: str, line: int | None = None, value: str | None = None):
        super().__init__(message)
        self.problem = Problem(line, None, None, value, "a UTF-8, comma-separated CSV or .xlsx "
                               "table with the contract's column names on line 1", message)


# --------------------------------------------------------------------------- reading


def read_cohort_file(path) -> pd.DataFrame:
    """Read a cohort file into raw text cells, without judging the values.

    Parameters
    ----------
    path : str or Path
        A CSV file (UTF-8, comma-separated; a UTF-8 byte-order mark is
        accepted) or an .xlsx workbook (first sheet). The file is only read.

    Returns
    -------
    DataFrame
        One row per non-blank line, every cell a ``str`` as written (blank
        cells ``""``), columns named as in the header (surrounding spaces
        removed), plus ``"_line"``: the line (sheet row) number of each row.
        Blank lines are skipped, so ``_line`` may jump.

    Raises
    ------
    CohortValidationError
        For problems with the file as a whole (missing, empty, not UTF-8,
        wrong delimiter, header not on line 1, not a table, ...).
    """
    raw, problems, notes = _read_raw(path)
    if raw is None or any(p.severity == "error" for p in problems):
        raise CohortValidationError(_report(path, problems, notes, 0 if raw is None else len(raw)))
    return raw


def _read_raw(path) -> tuple[pd.DataFrame | None, list[Problem], list[str]]:
    """Read the file; structural problems are returned, not raised."""
    path = Path(path)
    try:
        if not path.exists():
            raise _FileProblem(f"file not found: {path}")
        if not path.is_file():
            raise _FileProblem(f"not a file: {path}")
        size = path.stat().st_size
        if size == 0:
            raise _FileProblem("the file is empty (0 bytes); expected a header line and one row per patient")
        if size > MAX_FILE_BYTES:
            raise _FileProblem(f"the file is {size / 1e6:.0f} MB, larger than any cohort table "
                               f"(limit {MAX_FILE_BYTES / 1e6:.0f} MB); is it the right file?")
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
        is_xlsx_name = path.suffix.lower() in (".xlsx", ".xlsm")
        if head.startswith(_OLE_MAGIC):
            raise _FileProblem("this is an old-style Excel (.xls) or other OLE file; save it as .xlsx "
                               "or as 'CSV UTF-8'")
        if head.startswith(_ZIP_MAGIC):
            if not is_xlsx_name:
                raise _FileProblem(f"the file is named '{path.name}' but it is an Excel workbook "
                                   "(zip) rather than CSV text; rename it to .xlsx or save it as 'CSV UTF-8'")
            rows, notes = _xlsx_rows(path)
            raw, problems = _rows_to_frame(rows)
        else:
            if is_xlsx_name:
                kind = "CSV text" if _looks_like_text(head) else "not a workbook at all"
                raise _FileProblem(f"the file is named '{path.name}' but it is not an Excel workbook "
                                   f"({kind}); rename it to .csv or re-save it as .xlsx")
            text, notes = _csv_text(path.read_bytes())
            fast = _quote_free_frame(text)
            raw, problems = fast if fast is not None else _rows_to_frame(_csv_rows(text))
        return raw, problems, notes
    except _FileProblem as stop:
        return None, [stop.problem], []
    except OSError as exc:
        return None, [_FileProblem(f"cannot read the file: {exc}").problem], []


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
        raise _FileProblem("the file is UTF-16 text (Excel 'Unicode text'); re-save it as 'CSV UTF-8'")
    offset = 0
    if data.startswith(_UTF8_BOM):
        offset = len(_UTF8_BOM)
        notes.append("a UTF-8 byte-order mark at the start of the file was ignored")
    if not _looks_like_text(data[:SNIFF_BYTES]):
        raise _FileProblem("the file does not look like a table: it holds binary content, not text; "
                           "expected a UTF-8 CSV or an .xlsx workbook")
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + offset
        line = data.count(b"\n", 0, at) + 1
        bad = data[at:at + 1]
        guess = bad.decode("cp1252", errors="replace")
        raise _FileProblem(
            f"the file is not UTF-8 text: byte 0x{bad.hex().upper()} at byte offset {at} (line {line}) "
            f"cannot be decoded (in Latin-1/Windows-1252 it would be {guess!r}); "
            "re-save the file as UTF-8 (in Excel: 'CSV UTF-8')", line=line) from None
    if not text.strip():
        raise _FileProblem("the file holds only blank lines; expected a header line and one row per patient")
    _check_header_position(_split_candidates(text))
    return text, notes


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Split CSV text into (line number, cells) rows, header first."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        rows, last = [], 0
        for cells in reader:
            rows.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as exc:
        raise _FileProblem(f"the file cannot be parsed as CSV near line {last + 1}: {exc}",
                           line=last + 1) from None
    return rows


def _quote_free_frame(text: str) -> tuple[pd.DataFrame, list[Problem]] | None:
    """The raw frame of a CSV without quotes whose rows all match the header; else None.

    Gives what ``_rows_to_frame(_csv_rows(text))`` gives for such text (without
    quotes a cell never spans lines, so a line is split at its commas) but
    splits column-wise: no per-row lists, whose allocation and garbage
    collection dominate reading a large cohort. Other files (quotes, NUL,
    ragged rows, a trailing unnamed column, huge lines) return None and take
    the general path.
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
    numbers = [n for n, line in enumerate(lines, start=1) if line[:1].isalnum() or line.replace(",", "").strip()]
    if not numbers:
        return None
    header = [h.strip() for h in lines[numbers[0] - 1].split(",")]
    width = len(header)
    body = [lines[n - 1] for n in numbers[1:]]
    del lines
    if header[-1] == "" or set(map(str.count, body, itertools.repeat(","))) - {width - 1}:
        return None
    problems, keep = _header_problems(numbers[0], header)
    cells = ",".join(body).split(",") if body else []
    del body
    raw = pd.DataFrame({header[i]: pd.Series(cells[i::width], dtype="str") for i in keep},
                       index=pd.RangeIndex(len(numbers) - 1), copy=False)
    raw[_LINE] = pd.Series(numbers[1:], dtype="int64")
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
        raise _FileProblem(
            "the file does not look like a cohort table: none of the first lines holds the contract's "
            f"column names (line 1 starts {first[:60]!r}); expected a header such as "
            f"'{','.join(contract.NAMES[:4])},...' on line 1")
    if delim != ",":
        raise _FileProblem(f"the file looks like {_DELIMITERS[delim]}-separated; "
                           "the contract requires commas between columns. Re-save it as comma-separated "
                           "CSV (in Excel: 'CSV UTF-8 (comma delimited)')", line=number)
    first_line = candidates[0][0]
    if number != first_line and score >= 3:
        raise _FileProblem(f"the header must be on line 1, but the column names were found on line {number} "
                           f"(line {first_line} holds {','.join(candidates[0][1][',']).rstrip(',')[:60]!r}); "
                           "delete the rows above the header", line=number)


def _xlsx_rows(path: Path) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """Read the first sheet of a workbook into (sheet row, text cells) rows."""
    import zipfile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise _FileProblem(f"the file cannot be read as an .xlsx workbook: {exc}") from None
    notes = []
    try:
        sheet = workbook.worksheets[0]
        if len(workbook.worksheets) > 1:
            notes.append(f"read the first sheet '{sheet.title}' of {len(workbook.worksheets)}")
        rows = [(number, [_cell_text(c) for c in row])
                for number, row in enumerate(sheet.iter_rows(min_row=1), start=1)]
    finally:
        workbook.close()
    candidates = [(n, {d: cells for d in _DELIMITERS}) for n, cells in rows
                  if any(c.strip() for c in cells)][:HEADER_SEARCH_LINES]
    if not candidates:
        raise _FileProblem("the workbook's first sheet is empty; expected a header row and one row per patient")
    try:
        _check_header_position(candidates)
    except _FileProblem as stop:
        # Same wording as for CSV, but a spreadsheet user thinks in rows.
        raise _FileProblem(stop.problem.message.replace("line", "row"), line=stop.problem.line) from None
    return rows, notes


def _cell_text(cell) -> str:
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


def _rows_to_frame(rows: list[tuple[int, list[str]]]) -> tuple[pd.DataFrame, list[Problem]]:
    """Header + data rows -> raw frame; reports header and ragged-row problems."""
    # A row is blank when its joined cells are (whitespace is judged per character).
    rows = [row for row in rows if "".join(row[1]).strip()]
    if not rows:
        raise _FileProblem("the file holds no header line; expected a header line and one row per patient")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    lines = [number for number, _ in rows[1:]]
    body = [cells for _, cells in rows[1:]]
    del rows
    # Trailing unnamed, empty columns are a spreadsheet artefact, not data.
    while header and header[-1] == "" and all(len(c) < len(header) or not c[len(header) - 1].strip()
                                               for c in body):
        header.pop()
    problems, keep = _header_problems(header_line, header)
    pid_at = header.index("patient_id") if "patient_id" in header else None
    width = len(header)
    for row in [r for r, cells in enumerate(body) if len(cells) != width]:
        cells = body[row]
        pid = cells[pid_at].strip() if pid_at is not None and pid_at < len(cells) else None
        problems.append(Problem(lines[row], pid or None, None, None, f"{width} cells per line",
                                f"the line has {len(cells)} cells but the header has {width} "
                                "columns (a stray or missing comma, or an unquoted comma in a value?)"))
        body[row] = (cells + [""] * width)[:width]
    # Transpose rows to columns in one C-level pass (every row now has `width` cells).
    columns = list(zip(*body)) if body else [()] * width
    del body
    raw = pd.DataFrame({header[i]: pd.Series(columns[i], dtype="str") for i in keep},
                       index=pd.RangeIndex(len(lines)), copy=False)
    raw[_LINE] = pd.Series(lines, dtype="int64")
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
                problems.append(Problem(header_line, None, None, "", "a column name",
                                        f"column {i + 1} has no name in the header"))
        elif len(positions) > 1:
            where = _and_join(i + 1 for i in positions)
            problems.append(Problem(header_line, None, name, name, "each column name once",
                                    f"duplicate column name {name!r}: it appears {len(positions)} times "
                                    f"in the header (columns {where}); each column must appear once"))
    keep = sorted(positions[0] for name, positions in seen.items() if name != "")
    return problems, keep


def _normalise_name(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


_RECOGNISED = {c.name for c in contract.COLUMNS} | {_normalise_name(c.label) for c in contract.COLUMNS}


def _recognised(cell: str) -> bool:
    return _normalise_name(cell.strip().lstrip("\ufeff")) in _RECOGNISED


# --------------------------------------------------------------------------- parsing cells


def _text_codes(raw: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Cells as codes into a list of distinct stripped texts.

    ``texts[codes[i]]`` is cell ``i`` stripped of surrounding whitespace
    (``""`` for blank, missing or non-text cells), and equal stripped texts
    share one code, so per-value work (parsing, lookups) runs once per
    distinct value instead of once per cell. A Categorical (as built by
    :func:`_stripped_frame`) is used as it is, without hashing its cells again.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        codes, distinct = raw.array.codes, list(raw.array.categories)  # no Series built
    else:
        codes, distinct = pd.factorize(raw.to_numpy(dtype=object))
        distinct = list(distinct)
    texts = [v.strip() if v.__class__ is str else "" for v in distinct]
    if texts == distinct and (len(codes) == 0 or codes.min() >= 0):
        return codes, texts  # already distinct stripped texts, nothing missing (as from _stripped_frame)
    texts.append("")  # the code of missing cells (-1 from factorize)
    codes = np.where(codes < 0, len(distinct), codes)
    merged, texts = pd.factorize(np.array(texts, dtype=object))  # " a" and "a" are one text
    return merged[codes], list(texts)


def _stripped_frame(raw: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Columns ``names`` of ``raw`` as Categoricals of stripped text (categories = distinct texts).

    What the schema's checks see: each check then parses the few distinct
    values of a column rather than every cell.
    """
    out = {}
    for name in names:
        codes, texts = _text_codes(raw[name])
        out[name] = pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype=object)),
                              index=raw.index)
    return pd.DataFrame(out, index=raw.index, copy=False)


def _blank(raw: pd.Series) -> pd.Series:
    codes, texts = _text_codes(raw)
    return pd.Series(np.array([t == "" for t in texts], dtype=bool)[codes], index=raw.index)


def _duplicated(raw: pd.Series) -> pd.Series:
    """True on non-blank cells whose stripped text is also in another cell."""
    codes, texts = _text_codes(raw)
    repeated = np.bincount(codes, minlength=len(texts)) > 1
    blank = np.array([t == "" for t in texts], dtype=bool)
    return pd.Series((repeated & ~blank)[codes], index=raw.index)


def parse_column(raw: pd.Series, column: contract.Column) -> tuple[pd.Series, pd.Series]:
    """Parse one raw text column by its contract kind.

    Parameters
    ----------
    raw : Series of str
        Cells as written ("" = blank). Missing or non-text cells count as
        blank. A Categorical of text is accepted too.
    column : helpers.contract.Column
        The contract entry.

    Returns
    -------
    typed : Series
        Typed values (see :func:`normalise_cohort`); blanks and invalid
        cells are missing.
    valid : Series of bool
        False where a non-blank cell is not allowed (unknown code, not a
        number, out of range). Blank cells count as valid here; whether they
        are allowed is the separate "required" check.

    Notes
    -----
    Each distinct stripped text is parsed once and the results are spread
    to the cells by code, so the cost is one hashing pass over the cells
    plus Python work per distinct value.
    """
    codes, texts = _text_codes(raw)
    index = raw.index
    parsed, valid = _parse_texts(texts, column)
    if column.kind == "code":
        typed = pd.Series(pd.Categorical.from_codes(parsed[codes], categories=list(column.codes), ordered=True),
                          index=index)
    elif column.kind == "boolean":
        typed = pd.Series(pd.arrays.BooleanArray((parsed == 1)[codes], (parsed < 0)[codes]), index=index)
    elif column.kind in ("integer", "number"):
        typed = pd.Series(parsed[codes], index=index)
        if column.kind == "integer":
            typed = typed.round().astype("Int64")
    else:
        typed = pd.Series(parsed[codes], index=index, dtype="str")
    return typed.rename(raw.name), pd.Series(valid[codes], index=index, dtype=bool)


def _valid(raw: pd.Series, column: contract.Column) -> pd.Series:
    """The ``valid`` result of :func:`parse_column` alone (the schema's check), without typing."""
    codes, texts = _text_codes(raw)
    return pd.Series(_parse_texts(texts, column)[1][codes], index=raw.index, dtype=bool)


def _parse_texts(texts: list[str], column: contract.Column) -> tuple[np.ndarray, np.ndarray]:
    """Parse distinct stripped texts by the column's kind: (parsed, valid), one entry per text.

    ``parsed``: code -> position in ``column.codes`` (-1 if none); boolean ->
    1 yes, 0 no, -1 none; integer/number -> float (NaN unless valid and
    non-blank); text -> the text, None if blank. ``valid`` is True for
    blank texts and allowed values.
    """
    blank = np.array([t == "" for t in texts], dtype=bool)
    if column.kind == "code":
        position = {code: i for i, code in enumerate(column.codes)}
        parsed = np.array([position.get(t.lower(), -1) for t in texts], dtype=np.int64)
        return parsed, blank | (parsed >= 0)
    if column.kind == "boolean":
        words = {word: int(flag) for word, flag in _BOOLEAN_WORDS.items()}
        parsed = np.array([words.get(t.lower(), -1) for t in texts], dtype=np.int64)
        return parsed, blank | (parsed >= 0)
    if column.kind in ("integer", "number"):
        numbers = np.array([float(t) if _NUMBER.match(t) else np.nan for t in texts], dtype="float64")
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(numbers) & (numbers >= column.minimum) & (numbers <= column.maximum)
            if column.kind == "integer":
                ok &= numbers == np.floor(numbers)
        return np.where(ok, numbers, np.nan), blank | ok
    return np.array([None if t == "" else t for t in texts], dtype=object), np.ones(len(texts), dtype=bool)


def _reason(value: str, column: contract.Column) -> str:
    """A short hint why a non-blank value is not allowed."""
    text = value.strip()
    if column.kind in ("integer", "number"):
        if _DATE.match(text):
            return "it looks like a date"
        if "%" in text:
            return "write the number without '%'"
        if "," in text and _NUMBER.match(text.replace(",", ".")):
            return "use a dot as the decimal separator"
        if not _NUMBER.match(text):
            return "it is not a number"
        number = float(text)
        if column.kind == "integer" and number != np.floor(number):
            return "it is not a whole number"
        if number < column.minimum:
            return f"it is below the minimum {column.minimum:g}"
        if number > column.maximum:
            return f"it is above the maximum {column.maximum:g}"
    if column.kind == "code":
        close = difflib.get_close_matches(text.lower(), column.codes, n=1)
        if close:
            return f"did you mean {close[0]!r}?"
    return ""


# --------------------------------------------------------------------------- rules and schema


@dataclass(frozen=True)
class CrossRule:
    """A rule across columns: ``breaks(typed)`` is True on rows that break it."""

    name: str
    columns: tuple[str, ...]
    report_column: str
    breaks: Callable[[dict[str, pd.Series]], pd.Series]
    message: Callable[[dict[str, str]], str]
    allowed: str
    severity: str = "error"


def _is_cr(t: dict[str, pd.Series]) -> pd.Series:
    return t["response"].isin(contract.CR_CODES) & t["response"].notna()


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("mrd_only_for_cr", ("mrd_status", "response"), "mrd_status",
              lambda t: t["mrd_status"].notna() & (t["response"] == "none"),
              lambda v: f"{v['mrd_status']!r} is given but response is {v['response']!r}",
              "mrd_status only for patients in CR (response cr, crp or cri); blank otherwise"),
    CrossRule("crs_grade_only_with_crs", ("crs_grade", "crs"), "crs_grade",
              lambda t: t["crs_grade"].notna() & (t["crs"] != True),  # noqa: E712 (NA-aware)
              lambda v: f"{v['crs_grade']!r} is given but crs is {v['crs'] or 'blank'!r}",
              "crs_grade only when crs is yes"),
    CrossRule("crs_needs_grade", ("crs", "crs_grade"), "crs_grade",
              lambda t: (t["crs"] == True) & t["crs_grade"].isna(),  # noqa: E712
              lambda v: f"blank, but crs is {v['crs']!r}",
              "a CRS grade from 1 to 5 whenever crs is yes"),
    CrossRule("hsct_after_blina_only_for_cr", ("hsct_after_blina", "response"), "hsct_after_blina",
              lambda t: (t["hsct_after_blina"] == True) & (t["response"] == "none"),  # noqa: E712
              lambda v: f"{v['hsct_after_blina']!r} but response is {v['response']!r}",
              "yes only for patients in CR (response cr, crp or cri)"),
    CrossRule("tki_with_ph_negative", ("debulking_category", "ph_status"), "debulking_category",
              lambda t: (t["debulking_category"] == "tki") & (t["ph_status"] == "negative"),
              lambda v: f"{v['debulking_category']!r} with ph_status {v['ph_status']!r}: "
                        "a TKI is unusual for Ph-negative disease",
              "usually tki only with ph_status positive", severity="warning"),
    CrossRule("cr_after_one_cycle", ("response", "blina_cycles"), "response",
              lambda t: (t["response"] != "none") & (t["blina_cycles"] == 1),
              lambda v: f"{v['response']!r} with blina_cycles {v['blina_cycles']!r}: "
                        "the paper's CR patients all received 2 cycles",
              "usually response none when blina_cycles is 1", severity="warning"),
    # Optional follow-up columns: a rule whose columns are not all in the file is not judged.
    CrossRule("os_event_with_os_months", ("os_event", "os_months"), "os_event",
              lambda t: t["os_event"].isna() & t["os_months"].notna(),
              lambda v: f"blank, but os_months is {v['os_months']!r}",
              "os_event (yes or no) whenever os_months is given"),
    CrossRule("os_months_with_os_event", ("os_months", "os_event"), "os_months",
              lambda t: t["os_months"].isna() & t["os_event"].notna(),
              lambda v: f"blank, but os_event is {v['os_event']!r}",
              "os_months (a number from 0 to 600) whenever os_event is given"),
    CrossRule("rfs_event_with_rfs_months", ("rfs_event", "rfs_months"), "rfs_event",
              lambda t: t["rfs_event"].isna() & t["rfs_months"].notna(),
              lambda v: f"blank, but rfs_months is {v['rfs_months']!r}",
              "rfs_event (yes or no) whenever rfs_months is given"),
    CrossRule("rfs_months_with_rfs_event", ("rfs_months", "rfs_event"), "rfs_months",
              lambda t: t["rfs_months"].isna() & t["rfs_event"].notna(),
              lambda v: f"blank, but rfs_event is {v['rfs_event']!r}",
              "rfs_months (a number from 0 to 600) whenever rfs_event is given"),
    CrossRule("rfs_only_for_cr", ("rfs_months", "rfs_event", "response"), "rfs_months",
              lambda t: (t["rfs_months"].notna() | t["rfs_event"].notna()) & (t["response"] == "none"),
              lambda v: (f"{v['rfs_months']!r} is given" if v["rfs_months"].strip()
                         else f"blank, but rfs_event is {v['rfs_event']!r}")
                        + f" and response is {v['response']!r}",
              "rfs_months and rfs_event only for patients in CR (response cr, crp or cri); blank otherwise"),
    CrossRule("rfs_within_os", ("rfs_months", "os_months"), "rfs_months",
              lambda t: t["rfs_months"] > t["os_months"],
              lambda v: f"{v['rfs_months']!r} is longer than os_months {v['os_months']!r}",
              "rfs_months at most os_months"),
    CrossRule("hsct_months_only_with_hsct", ("hsct_months", "hsct_after_blina"), "hsct_months",
              lambda t: t["hsct_months"].notna() & (t["hsct_after_blina"] != True),  # noqa: E712
              lambda v: f"{v['hsct_months']!r} is given but hsct_after_blina is "
                        f"{v['hsct_after_blina'] or 'blank'!r}",
              "hsct_months only when hsct_after_blina is yes"),
    CrossRule("hsct_within_os", ("hsct_months", "os_months"), "hsct_months",
              lambda t: t["hsct_months"] > t["os_months"],
              lambda v: f"{v['hsct_months']!r} is later than os_months {v['os_months']!r}",
              "hsct_months at most os_months"),
)


def _rule_check(rule: CrossRule) -> pa.Check:
    def holds(frame: pd.DataFrame) -> pd.Series:
        if any(c not in frame.columns for c in rule.columns):
            return pd.Series(True, index=frame.index)  # missing columns are reported on their own
        parsed = {c: parse_column(frame[c], contract.column(c)) for c in rule.columns}
        broken = rule.breaks({c: typed for c, (typed, _) in parsed.items()})
        broken = broken.astype("boolean").fillna(False).astype(bool)
        # A cell that is itself invalid is reported by its column check; judging
        # the rule on it too would add a second, misleading problem.
        for _, valid in parsed.values():
            broken &= valid
        return ~broken

    return pa.Check(holds, name=rule.name)


def cohort_schema() -> pa.DataFrameSchema:
    """The pandera schema of a raw (text) cohort frame, built from the contract.

    Each contract column gets a ``required`` check (non-nullable columns),
    a ``valid`` check (codes, booleans, whole numbers, bounds) and, for
    ``patient_id``, a ``unique`` check; the cross-column rules of
    :data:`CROSS_RULES` are frame-wide checks. The optional follow-up columns
    may be absent; extra columns are allowed.
    Every check is vectorised (one boolean Series per column or frame) and
    accepts text or Categorical-of-text columns; validation passes
    Categoricals so that each check parses only a column's distinct values.

    Returns
    -------
    pandera.DataFrameSchema
        Lazy validation of it reports every failing cell and rule.
    """
    columns = {}
    for col in contract.ALL_COLUMNS:
        checks = []
        if not col.nullable:
            checks.append(pa.Check(lambda s: ~_blank(s), name="required"))
        if col.kind != "text":
            checks.append(pa.Check(lambda s, col=col: _valid(s, col), name="valid"))
        if col.unique:
            checks.append(pa.Check(lambda s: ~_duplicated(s), name="unique"))
        columns[col.name] = pa.Column(checks=checks, required=not col.optional, nullable=True)
    return pa.DataFrameSchema(columns, checks=[_rule_check(r) for r in CROSS_RULES], strict=False)


# --------------------------------------------------------------------------- validation


def validate_file(path) -> ValidationReport:
    """Validate a cohort file against the contract; never raises for bad content.

    Parameters
    ----------
    path : str or Path
        CSV or .xlsx file. It is only read, never changed.

    Returns
    -------
    ValidationReport
        Every problem found (errors and warnings), with line numbers as in
        the file. Accepted variants (surrounding spaces, upper case codes,
        yes/no/true/false/1/0 booleans, integers written ``45.0``, a UTF-8
        byte-order mark, blank lines) are not problems.
    """
    return _validate(path)[0]


def _validate(path) -> tuple[ValidationReport, pd.DataFrame | None]:
    """The report and the file's cells as :func:`_stripped_frame` (None when unreadable)."""
    raw, problems, notes = _read_raw(path)
    if raw is None:
        return _report(path, problems, notes, 0), None
    stripped = _stripped_frame(raw, [c for c in raw.columns if c != _LINE])
    # A row with the wrong number of cells (a structural problem on its line) has
    # its cells shifted: judging them would add one false problem per column.
    structural = {p.line for p in problems if p.column is None and p.line is not None}
    problems = problems + _validate_frame(raw, stripped, notes, skip_lines=structural)
    if raw.empty and not any(p.severity == "error" for p in problems):
        problems.append(Problem(None, None, None, None, "one row per patient",
                                "the file has a header but no patients"))
    return _report(path, problems, notes, len(raw)), stripped


def _report(path, problems, notes, n_rows) -> ValidationReport:
    errors = tuple(p for p in problems if p.severity == "error")
    warnings = tuple(p for p in problems if p.severity != "error")
    return ValidationReport(str(path), not errors, errors, warnings, tuple(notes), n_rows)


def _validate_frame(raw: pd.DataFrame, stripped: pd.DataFrame, notes: list[str],
                    skip_lines: set[int] = frozenset()) -> list[Problem]:
    """Run the schema on ``stripped`` (:func:`_stripped_frame` of ``raw``); failures become Problems.

    Only failing cells are visited one by one; messages quote ``raw``. Cell
    and cross-column failures on a line in ``skip_lines`` (rows already
    reported as ragged) are not reported; ``notes`` is appended to.
    """
    problems: list[Problem] = []
    header_line = 1
    present = [c for c in raw.columns if c != _LINE]
    extras = [c for c in present if c not in contract.BY_NAME]
    missing = [c for c in contract.NAMES if c not in raw.columns]
    for name in missing:
        problems.append(Problem(header_line, None, name, None, "every contract column, named exactly",
                                "required column is missing" + _suggest(name, extras)))
    for pair in contract.FOLLOW_UP_PAIRS:
        together = f"{pair[0]} and {pair[1]} together, or neither"
        for given, partner in (pair, pair[::-1]):
            if given in raw.columns and partner not in raw.columns:
                problems.append(Problem(header_line, None, partner, None, together, f"column {given} is "
                                        f"given without its partner {partner}; expected {together}"))
    if extras:
        notes.append("extra columns kept but not used by the analysis: " + ", ".join(extras))
    if raw.empty:
        return problems
    # `stripped` has exactly the texts in use as categories: stop at the first non-blank one.
    all_blank = {c.name for c in contract.COLUMNS if c.name in stripped.columns and not c.nullable
                 and all(t == "" for t in stripped[c.name].array.categories)}
    for name in all_blank:
        col = contract.column(name)
        problems.append(Problem(None, None, name, "", col.allowed(),
                                f"the column is empty in every row, but it is required; expected {col.allowed()}"))
    try:
        cohort_schema().validate(stripped, lazy=True)
        return problems
    except pa.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    if "patient_id" in stripped.columns:
        pid_codes, pid_texts = _text_codes(stripped["patient_id"])
    else:
        pid_codes, pid_texts = np.zeros(len(raw), dtype=np.int64), [""]
    file_lines = raw[_LINE].to_numpy()
    cells = {}  # column -> its raw cells as an object array, taken when first needed
    same_pid: dict[int, np.ndarray] = {}
    reasons: dict[tuple[str, str], str] = {}
    rules = {r.name: r for r in CROSS_RULES}

    def cell(name: str, row: int) -> str:
        if name not in cells:
            cells[name] = raw[name].to_numpy(dtype=object)
        return cells[name][row]

    def rows_with_pid(code: int) -> np.ndarray:
        if not same_pid:  # group every repeated id once, not one scan per id
            repeated = np.flatnonzero(np.bincount(pid_codes)[pid_codes] > 1)
            repeated = repeated[np.argsort(pid_codes[repeated], kind="stable")]
            starts = np.flatnonzero(np.diff(pid_codes[repeated])) + 1
            same_pid.update((int(pid_codes[g[0]]), g) for g in np.split(repeated, starts))
        return same_pid[code]

    found = []
    seen_rows: set[tuple[str, int]] = set()
    duplicates_done: set[str] = set()
    for failure in failures.itertuples(index=False):
        check, name, index = failure.check, failure.column, failure.index
        if check == "column_in_dataframe" or index is None or pd.isna(index):
            continue  # missing columns are reported above, with suggestions
        row = int(index)
        line = int(file_lines[row])
        if line in skip_lines:
            continue
        patient = pid_texts[pid_codes[row]] or None
        if check in rules:
            if (check, row) in seen_rows:
                continue
            seen_rows.add((check, row))
            rule = rules[check]
            values = {c: cell(c, row) for c in rule.columns}
            found.append(Problem(line, patient, rule.report_column, values[rule.report_column], rule.allowed,
                                 f"{rule.message(values)}; expected {rule.allowed}", rule.severity))
            continue
        col = contract.column(name)
        value = cell(name, row)
        if check == "required":
            if name in all_blank:
                continue
            found.append(Problem(line, patient, name, value, col.allowed(),
                                 f"blank, but a value is required; expected {col.allowed()}"))
        elif check == "valid":
            if (name, value) not in reasons:
                reasons[name, value] = _reason(value, col)
            reason = reasons[name, value]
            found.append(Problem(line, patient, name, value, col.allowed(),
                                 f"{value!r} is not allowed; expected {col.allowed()}"
                                 + (f" ({reason})" if reason else "")))
        elif check == "unique":
            key = value.strip()
            if key in duplicates_done:
                continue
            duplicates_done.add(key)
            lines = [int(file_lines[r]) for r in rows_with_pid(int(pid_codes[row]))]
            found.append(Problem(lines[0], key, name, value, col.allowed(),
                                 f"{key!r} is not allowed: the same patient_id is on lines "
                                 f"{_and_join(lines)}; expected {col.allowed()}"))
        else:  # a check this module does not know: report it as pandera words it
            found.append(Problem(line, patient, name, str(failure.failure_case), "",
                                 f"failed check {check!r}"))
    order = {n: i for i, n in enumerate(contract.NAMES)}
    found.sort(key=lambda p: (p.line or 0, order.get(p.column or "", 99)))
    return problems + found


def _and_join(items) -> str:
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _suggest(name: str, extras: list[str]) -> str:
    """'; the file has a column X — rename it to name' when an extra column looks like ``name``."""
    col = contract.column(name)
    targets = {name, _normalise_name(col.label)}
    exact = [e for e in extras if _normalise_name(e) in targets]
    close = exact or [e for e in extras
                      if difflib.get_close_matches(_normalise_name(e), list(targets), n=1, cutoff=0.75)]
    if not close:
        return ""
    return f"; the file has a column {close[0]!r} that looks like it — rename it to {name!r}"


# --------------------------------------------------------------------------- normalising


def normalise_cohort(raw: pd.DataFrame) -> pd.DataFrame:
    """Turn a validated raw frame into typed columns.

    Parameters
    ----------
    raw : DataFrame
        As from :func:`read_cohort_file` (text cells, optional ``_line``).
        Not modified.

    Returns
    -------
    DataFrame
        Contract columns in contract order, then extra columns (text).
        Codes -> ordered Categorical with the contract's codes as categories
        (so unused codes show as 0 counts); booleans -> nullable
        ``"boolean"``; integers -> ``"Int64"``; numbers -> float64 (NaN =
        missing); text -> ``str`` with blanks as missing. Invalid cells, if
        any were left, become missing. RangeIndex in file order; ``_line``
        is dropped.
    """
    out = {}
    for col in contract.ALL_COLUMNS:
        if col.name in raw.columns:
            out[col.name] = parse_column(raw[col.name], col)[0].reset_index(drop=True)
    as_text = contract.Column("", "text", "", nullable=True)
    for name in raw.columns:
        if name not in contract.BY_NAME and name != _LINE:
            out[name] = parse_column(raw[name], as_text)[0].reset_index(drop=True)
    return pd.DataFrame(out, index=pd.RangeIndex(len(raw)), copy=False)


def group_labels(low: float, high: float) -> tuple[str, str, str]:
    """Labels of the three blast groups for cut-offs ``low`` < ``high`` (in %).

    Parameters
    ----------
    low, high : float
        Cut-offs in % blasts, ``low < high``.

    Returns
    -------
    tuple of str
        ``(20, 50)`` gives ``("<20", "20-49", ">=50")``. For whole-number
        cut-offs the middle group is written ``low-(high-1)`` as in the paper;
        otherwise ``low-<high`` (e.g. ``"20.5-<50"``).

    Raises
    ------
    ValueError
        If ``low`` is not below ``high``.
    """
    if not low < high:
        raise ValueError(f"the low cut-off ({low}) must be below the high cut-off ({high})")
    if float(low).is_integer() and float(high).is_integer():
        middle = f"{low:g}-{high - 1:g}"
    else:
        middle = f"{low:g}-<{high:g}"
    return (f"<{low:g}", middle, f">={high:g}")


def _blast_group(values: pd.Series, low: float, high: float) -> pd.Series:
    labels = list(group_labels(low, high)) + ["missing"]
    # Codes rather than label strings: no per-row label lookup on large cohorts.
    group = np.select([values < low, values < high, values >= high], [0, 1, 2], default=3)
    return pd.Series(pd.Categorical.from_codes(group, categories=labels, ordered=True), index=values.index)


def add_groupings(cohort: pd.DataFrame, *, age_cutoff=50, bmb_high_cutoff=50, bmb_low_cutoff=20,
                  lines_cutoff=2) -> pd.DataFrame:
    """Add the derived groupings of the data dictionary; returns a new frame.

    Parameters
    ----------
    cohort : DataFrame
        Typed cohort (:func:`normalise_cohort`). Not modified.
    age_cutoff : int
        Age (years) splitting ``<cutoff`` from ``>=cutoff``.
    bmb_high_cutoff, bmb_low_cutoff : float
        Bone-marrow blast cut-offs (%): groups ``<low``, ``low-(high-1)``,
        ``>=high``; ``high_burden`` is blasts ``>= high``.
    lines_cutoff : int
        Previous lines splitting ``<=cutoff`` from ``>cutoff``.

    Returns
    -------
    DataFrame
        ``cohort`` plus: age_group, bmb_baseline_group, high_burden,
        bmb_post_group, lines_group, lines_group3 (``1``, ``2``, ``>=3``),
        any_cr, mrd_negative, mrd_evaluable, crs_recorded. Missing blasts
        fall in the ``missing`` group and give ``high_burden`` NA;
        ``mrd_negative`` is NA unless the patient is in CR with an MRD
        result; ``any_cr`` counts cr, crp and cri.
    """
    out = cohort.copy()
    age = out["age_years"].astype("Float64").astype("float64")
    age_labels = [f"<{age_cutoff:g}", f">={age_cutoff:g}"]
    age_group = np.where(np.isnan(age), -1, np.where(age < age_cutoff, 0, 1))  # codes into age_labels
    out["age_group"] = pd.Categorical.from_codes(age_group, categories=age_labels, ordered=True)
    baseline = out["bmb_baseline_pct"].astype("float64")
    out["bmb_baseline_group"] = _blast_group(baseline, bmb_low_cutoff, bmb_high_cutoff)
    out["high_burden"] = pd.Series(baseline >= bmb_high_cutoff, index=out.index).astype("boolean").where(
        baseline.notna())
    out["bmb_post_group"] = _blast_group(out["bmb_post_debulking_pct"].astype("float64"),
                                         bmb_low_cutoff, bmb_high_cutoff)
    lines = out["prior_lines"].astype("Float64").astype("float64")
    line_labels = [f"<={lines_cutoff:g}", f">{lines_cutoff:g}"]
    out["lines_group"] = pd.Categorical.from_codes(
        np.where(np.isnan(lines), -1, np.where(lines <= lines_cutoff, 0, 1)), categories=line_labels, ordered=True)
    three = np.select([lines == 1, lines == 2, lines >= 3], [0, 1, 2], default=-1)
    out["lines_group3"] = pd.Categorical.from_codes(three, categories=["1", "2", ">=3"], ordered=True)
    any_cr = out["response"].isin(contract.CR_CODES).to_numpy(dtype=bool)
    out["any_cr"] = any_cr
    evaluable = any_cr & out["mrd_status"].notna().to_numpy(dtype=bool)
    out["mrd_negative"] = pd.Series(out["mrd_status"] == "negative", index=out.index).astype(
        "boolean").where(evaluable)
    out["mrd_evaluable"] = evaluable
    out["crs_recorded"] = out["crs"].notna().to_numpy(dtype=bool)
    return out


def load_cohort(path, *, age_cutoff: int = 50, bmb_high_cutoff: float = 50, bmb_low_cutoff: float = 20,
                lines_cutoff: int = 2) -> pd.DataFrame:
    """Read, validate, normalise a cohort file and add the derived groupings.

    Parameters
    ----------
    path : str or Path
        CSV or .xlsx cohort file (only read).
    age_cutoff, bmb_high_cutoff, bmb_low_cutoff, lines_cutoff
        Cut-offs for :func:`add_groupings`.

    Returns
    -------
    DataFrame
        Typed cohort (see :func:`normalise_cohort`) with derived groupings.
        ``attrs["validation"]`` holds the formatted report (warnings, notes).

    Raises
    ------
    CohortValidationError
        Listing every problem in the file, when it breaks the contract.
    """
    report, cells = _validate(path)
    if not report.ok:
        raise CohortValidationError(report)
    cohort = add_groupings(normalise_cohort(cells), age_cutoff=age_cutoff, bmb_high_cutoff=bmb_high_cutoff,
                           bmb_low_cutoff=bmb_low_cutoff, lines_cutoff=lines_cutoff)
    cohort.attrs["validation"] = report.format()
    return cohort
