"""Manuscript tables as Word documents (python-docx) in the layout journals ask for.

Title above the table, three horizontal rules (above and below the header row and
under the last row, no vertical lines), footnotes under it; ``>=``/``<=`` printed as
≥/≤. Column widths are fitted to the text: no column is narrower than its longest
word (so Word never splits a word inside a cell), the rest of the line is shared by
how much each column's text would wrap; a table whose words do not fit a portrait
line is laid out on a landscape page. The cells are written as the table shows them
(strings as given, numbers as in :func:`helpers.display.cell_text`), so the document
holds exactly the numbers of the tidy table it came from. Files are byte-stable
(fixed dates).

Widths are estimated from character counts (python-docx cannot measure text): an
upper bound on the average width of a character of the table font, so the estimate
errs towards wider columns.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.display import cell_text, fixed_zip_times, formula_safe, readable

#: Font of the document (on every Word installation; LibreOffice uses the metric-equal
#: Liberation Sans) and size of the table body, points.
FONT = "Arial"
TABLE_PT = 9
#: Estimated width of one character of Arial, in ems (digits are 0.556, most lower-case
#: letters less; a cell of capitals errs narrow by a few per cent).
CHAR_EM = 0.58
#: Extra width of a bold header character, in ems.
BOLD_EXTRA_EM = 0.05
#: Cells at most this many characters long never wrap ("p = 0.093", "100.0%").
SHORT_CELL = 12
#: Left plus right cell padding Word applies by default, inches (0.08 each side).
CELL_PADDING_IN = 0.16
#: Page size (US Letter) and margins, inches.
PAGE_IN = (8.5, 11.0)
MARGIN_IN = 1.0


@dataclass(frozen=True)
class Layout:
    """Column widths (inches) and page orientation chosen for a table."""

    widths: tuple[float, ...]
    landscape: bool


def text_width(text: str, *, bold: bool = False, size: float = TABLE_PT) -> float:
    """Estimated printed width of ``text`` on one line, inches."""
    return len(text) * (CHAR_EM + (BOLD_EXTRA_EM if bold else 0)) * size / 72


def column_layout(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Layout:
    """Widths that keep every word of a column on one line and fit the page's text width.

    Each column gets at least its longest word (header or cell; a short cell counts as
    one word) plus padding; when the
    text of every column fits on one line it gets just that; otherwise the free width is
    shared in proportion to how much longer each column's longest line is than its
    longest word. Landscape when the longest words alone do not fit a portrait line.
    """
    columns = [[str(h)] + [str(r[j]) for r in rows] for j, h in enumerate(header)]

    def longest(texts: list[str], split: bool) -> float:
        pieces = [(t.split() or [""]) if split and len(t) > SHORT_CELL else [t] for t in texts]
        return max(text_width(p, bold=i == 0) for i, ps in enumerate(pieces) for p in ps)

    word = [longest(c, True) + CELL_PADDING_IN for c in columns]
    line = [longest(c, False) + CELL_PADDING_IN for c in columns]
    portrait = PAGE_IN[0] - 2 * MARGIN_IN
    landscape = sum(word) > portrait
    available = (PAGE_IN[1] if landscape else PAGE_IN[0]) - 2 * MARGIN_IN
    if sum(line) <= available:
        return Layout(tuple(round(w, 2) for w in line), landscape)
    free, wrap = max(available - sum(word), 0.0), [ln - w for ln, w in zip(line, word)]
    total = sum(wrap) or 1.0
    return Layout(tuple(round(w + free * x / total, 2) for w, x in zip(word, wrap)), landscape)


def _rule(cell, *edges: str) -> None:
    """A single line, 1 pt (8 eighths), on the named edges (``top``, ``bottom``) of a cell."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge in edges:
        line = OxmlElement(f"w:{edge}")
        for key, value in (("val", "single"), ("sz", "8"), ("space", "0"), ("color", "000000")):
            line.set(qn(f"w:{key}"), value)
        borders.append(line)


def _row_flags(row, *, header: bool) -> None:
    """Keep a row on one page; repeat the header row on every page."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _fixed_layout(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)


def write_docx(
    frame: pd.DataFrame,
    title: str,
    footnotes: Sequence[str],
    path: str | Path,
    *,
    data_note: str = "",
) -> Path:
    """Write one table as a ``.docx`` in journal layout (see the module docstring): bold
    title, three-line table with a bold header, footnotes, then ``data_note`` (where the
    data came from) in italics. Cells as the table reads; missing values print as "–",
    booleans as Yes/No, ``>=``/``<=`` as ≥/≤, text that would start a spreadsheet formula
    (pasted into one) with a leading ``'``, as in the CSV."""
    import datetime

    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Inches, Pt

    header = [readable(formula_safe(str(c))) for c in frame.columns]
    rows = [
        [readable(cell_text(formula_safe(v))) for v in row] for row in frame.itertuples(index=False)
    ]
    layout = column_layout(header, rows)

    doc = Document()
    doc.core_properties.created = doc.core_properties.modified = datetime.datetime(2000, 1, 1)
    doc.core_properties.title = title
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(TABLE_PT)  # also the size of an empty cell's line
    normal.paragraph_format.space_after, normal.paragraph_format.line_spacing = Pt(0), 1.0
    section = doc.sections[0]
    width, height = PAGE_IN[::-1] if layout.landscape else PAGE_IN
    section.orientation = WD_ORIENT.LANDSCAPE if layout.landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(width), Inches(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(MARGIN_IN))

    heading = doc.add_paragraph()
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_after = Pt(6)
    title_run = heading.add_run(readable(title))
    title_run.bold, title_run.font.size = True, Pt(TABLE_PT + 2)
    grid = doc.add_table(rows=1 + len(rows), cols=len(header))
    grid.autofit = False
    _fixed_layout(grid)
    for column, inches in zip(grid.columns, layout.widths):
        column.width = Inches(inches)
    for i, (row, values) in enumerate(zip(grid.rows, [header, *rows])):
        _row_flags(row, header=i == 0)
        for cell, value, inches in zip(row.cells, values, layout.widths):
            cell.width = Inches(inches)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.space_after = Pt(0)
            # a row continuing a block (blank first cell) stays on the page of the row above
            paragraph.paragraph_format.keep_with_next = i == 0 or (
                i < len(rows) and not rows[i][0].strip()
            )
            if i > 1 and rows[i - 1][0].strip():  # a little air above each new block
                paragraph.paragraph_format.space_before = Pt(3)
            run = paragraph.add_run(value)
            run.font.size = Pt(TABLE_PT)
            run.bold = i == 0
            if i == 0:
                _rule(cell, "top", "bottom")
            elif i == len(rows):
                _rule(cell, "bottom")
    for note in [*footnotes, *([data_note] if data_note else [])]:
        paragraph = doc.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(2)
        run = paragraph.add_run(readable(note))
        run.font.size = Pt(TABLE_PT - 1)
        run.italic = note == data_note
    buffer = io.BytesIO()
    doc.save(buffer)
    path = Path(path)
    path.write_bytes(fixed_zip_times(buffer.getvalue()))
    return path


def save_docx(
    frame: pd.DataFrame,
    name: str,
    output_dir: str | Path,
    title: str,
    footnotes: Sequence[str] = (),
    *,
    data_note: str = "",
) -> Path:
    """Write ``tables/<name>.docx`` under ``output_dir`` (see :func:`write_docx`)."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    return write_docx(frame, title, footnotes, folder / f"{name}.docx", data_note=data_note)
