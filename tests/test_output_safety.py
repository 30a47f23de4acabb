"""Text from data and file names never becomes live HTML in the report, nor a formula in a table file."""

from __future__ import annotations

import codecs
import csv
import io
import shutil
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.tables import save_table
from pipeline.report import render_report

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"
HOSTILE_NAME = "<img src=x onerror=alert(42)>"
HOSTILE_STUDY = "<script>alert(42)</script>TOWER"


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag in ("script", "style")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def live_payloads(page: str) -> list[str]:
    """Elements or attributes the hostile texts would have created if they were live."""
    parser = _Elements()
    parser.feed(page)
    found = []
    for tag, attrs in parser.tags:
        if tag == "img" and attrs.get("src") == "x":
            found.append(f"<img src=x> ({attrs})")
        found += [
            f"{tag} {name}={value!r}"
            for name, value in attrs.items()
            if name.startswith("on") and "alert" in (value or "")
        ]
        found += [
            f"{tag} href={attrs['href']!r}"
            for name in ("href",)
            if (attrs.get(name) or "").strip().lower().startswith("javascript:")
        ]
    return found


def page_text(page: str) -> str:
    parser = _Elements()
    parser.feed(page)
    return "".join(parser.text)


def hostile_run_dir(tmp_path: Path) -> Path:
    """A run directory whose notebook displays Markdown built from hostile names."""
    run = tmp_path / "run"
    for folder in ("input", "notebooks", "tables"):
        (run / folder).mkdir(parents=True)
    shutil.copyfile(COHORT, run / "input" / f"{HOSTILE_NAME}.csv")
    (run / "tables" / f"{HOSTILE_NAME}.csv").write_text("a\n1\n")
    nb = new_notebook()
    nb.cells = [new_markdown_cell("# Hostile names"), new_code_cell("show()")]
    nb.cells[1].outputs = [
        new_output(
            "display_data",
            data={
                "text/markdown": (
                    f"Data: {HOSTILE_NAME}.csv, supplied by the analyst.\n\n"
                    f"| study | rate |\n|---|---|\n| {HOSTILE_STUDY} | 33.6% |\n\n"
                    "Blasts <50% against >=50% in `a <b> code span`; "
                    "[the trial](javascript:alert(42)).\n"
                )
            },
        )
    ]
    nbformat.write(nb, run / "notebooks" / "01_hostile.ipynb")
    return run


def test_hostile_file_and_study_names_in_markdown_outputs_are_shown_as_text_not_html(tmp_path):
    run = hostile_run_dir(tmp_path)
    index = render_report(run, cohort_file=f"{HOSTILE_NAME}.csv")
    page = (run / "report" / "01_hostile.html").read_text(encoding="utf-8")
    assert live_payloads(page) == []
    text = page_text(page)
    assert f"Data: {HOSTILE_NAME}.csv" in text and HOSTILE_STUDY in text
    assert "Blasts <50% against >=50%" in text and "a <b> code span" in text
    index_page = index.read_text(encoding="utf-8")
    assert live_payloads(index_page) == []
    assert f"{HOSTILE_NAME}.csv is not real patients" in page_text(index_page)  # the banner
    assert f"{HOSTILE_NAME}.csv" in page_text(index_page)  # the table's link text


def test_the_html_check_finds_the_payloads_when_they_are_live():
    live = f"<p>{HOSTILE_NAME}</p><a href='javascript:alert(42)'>x</a>"
    assert len(live_payloads(live)) == 3


FORMULA_TEXTS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\tx"]


def test_table_text_that_would_start_a_formula_is_stored_as_text_in_csv_and_xlsx(tmp_path):
    table = pd.DataFrame(
        {
            "regimen": FORMULA_TEXTS + ["plain", None],
            "n": [1, 2, -3, 4, 5, 6, 7],
            "=SUM(A1)": ["a"] * 7,
        }
    )
    before = table.copy()
    csv_path, xlsx_path = save_table(table, "regimens", tmp_path)
    pd.testing.assert_frame_equal(table, before)  # the input is not changed
    # CSV: the OWASP rule, a leading single quote; numbers (-3) untouched.
    written = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    assert written["regimen"].tolist() == ["'" + t for t in FORMULA_TEXTS] + ["plain", ""]
    assert written["n"].tolist() == ["1", "2", "-3", "4", "5", "6", "7"]
    assert list(written.columns) == ["regimen", "n", "'=SUM(A1)"]
    # XLSX (title in row 1, header in row 2): every text cell is a string cell holding the
    # text unchanged; none is a formula.
    sheet = openpyxl.load_workbook(xlsx_path).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [c for c in cells if c.data_type == "f"] == []
    assert [sheet.cell(row=r, column=1).value for r in range(3, 8)] == FORMULA_TEXTS
    assert sheet.cell(row=2, column=3).value == "=SUM(A1)"
    assert sheet.cell(row=2, column=3).data_type == "s"
    assert sheet.cell(row=5, column=2).value == -3


@pytest.mark.parametrize("dtype", ["object", "category", "str"])
def test_formula_text_is_neutralised_whatever_the_column_type(tmp_path, dtype):
    table = pd.DataFrame({"regimen": pd.Series(["=1+1", "ok", "\rx"]).astype(dtype)})
    csv_path, xlsx_path = save_table(table, "t", tmp_path)
    data = csv_path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)  # UTF-8 with BOM, as Excel expects
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["regimen"], ["'=1+1"], ["ok"], ["'\rx"]]
    sheet = openpyxl.load_workbook(xlsx_path).active  # title in row 1, header in row 2
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("=1+1", "s")
