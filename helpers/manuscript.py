"""Manuscript tables as Word documents (python-docx): title, table, footnotes.

The cells are written as the table shows them (strings as given, numbers as
in :func:`helpers.display.cell_text`), so the document holds exactly the
numbers of the tidy table it came from. Files are byte-stable (fixed dates).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from helpers.display import cell_text, fixed_zip_times, formula_safe


def write_docx(frame: pd.DataFrame, title: str, footnotes: Sequence[str], path: str | Path, *,
               data_note: str = "") -> Path:
    """Write one table as a ``.docx``: bold title, grid table with a bold header, footnotes,
    then ``data_note`` (where the data came from) in italics. Cells as the table reads;
    missing values print as "–", booleans as Yes/No, text that would start a spreadsheet
    formula (pasted into one) with a leading ``'``, as in the CSV."""
    import datetime

    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.core_properties.created = doc.core_properties.modified = datetime.datetime(2000, 1, 1)
    doc.core_properties.title = title
    heading = doc.add_paragraph()
    heading.add_run(title).bold = True
    grid = doc.add_table(rows=1, cols=len(frame.columns))
    grid.style = "Table Grid"
    for cell, name in zip(grid.rows[0].cells, frame.columns):
        cell.text = ""
        cell.paragraphs[0].add_run(formula_safe(str(name))).bold = True
    for row in frame.itertuples(index=False):
        cells = grid.add_row().cells
        for cell, value in zip(cells, row):
            cell.text = cell_text(formula_safe(value))  # as in the CSV: text is never a formula
    for note in [*footnotes, *([data_note] if data_note else [])]:
        run = doc.add_paragraph().add_run(note)
        run.font.size = Pt(8)
        run.italic = note == data_note
    buffer = io.BytesIO()
    doc.save(buffer)
    path = Path(path)
    path.write_bytes(fixed_zip_times(buffer.getvalue()))
    return path


def save_docx(frame: pd.DataFrame, name: str, output_dir: str | Path, title: str,
              footnotes: Sequence[str] = (), *, data_note: str = "") -> Path:
    """Write ``tables/<name>.docx`` under ``output_dir`` (see :func:`write_docx`)."""
    folder = Path(output_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    return write_docx(frame, title, footnotes, folder / f"{name}.docx", data_note=data_note)
