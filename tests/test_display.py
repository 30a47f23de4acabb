"""Rich tables for readers and the CSV/XLSX files saved for spreadsheet users."""

import hashlib

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers import display

# CR by blasts before debulking on the shipped cohort (paper, section 3.3.2: 12/13 vs
# 10/20, p = 0.022); intervals from R: binom.test(12, 13)$conf.int, binom.test(10, 20)$conf.int.
RATES = pd.DataFrame(
    {
        "high_burden": [False, True, None],
        "numerator": [12, 10, 1],
        "denominator": [13, 20, 1],
        "estimate": [12 / 13, 0.5, 1.0],
        "ci_low": [0.6397025647, 0.2719578496, 0.025],
        "ci_high": [0.9980543715, 0.7280421504, 1.0],
        "p_value": [0.02159081749, None, None],
    }
)


def shown_table():
    cells = display.rate_cells(RATES)
    return display.table(
        cells,
        "CR within two cycles by blasts before debulking",
        columns={
            "high_burden": "Blasts ≥50%",
            "n/N (%)": "CR, n/N (%)",
            "95% CI": "95% CI",
            "p": "p",
        },
        footnote=display.FISHER_FOOTNOTE,
    )


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("Blasts ≥50%", ["No", "Yes", "–"]),
        ("CR, n/N (%)", ["12/13 (92.3%)", "10/20 (50.0%)", "1/1 (100.0%)"]),
        ("95% CI", ["64.0–99.8%", "27.2–72.8%", "2.5–100.0%"]),
        ("p", ["0.022", "–", "–"]),
    ],
)
def test_rate_rows_become_words_and_formatted_numbers_under_human_headers(column, expected):
    assert list(shown_table().frame[column]) == expected


@pytest.mark.parametrize(
    ("p", "cell"),
    [
        (0.02159, "0.022"),
        (0.0023, "0.0023"),
        (0.0004, "<0.001"),
        (1.0, "1.000"),
        (float("nan"), "–"),
        (None, "–"),
    ],
)
def test_p_values_are_formatted_once_for_a_cell_under_a_p_header(p, cell):
    assert display.p_cell(p) == cell


def test_the_html_has_a_caption_a_footnote_and_a_fixed_table_id():
    html = shown_table()._repr_html_()
    assert "<caption>CR within two cycles by blasts before debulking</caption>" in html
    assert "Fisher&#x27;s exact test, two-sided" in html
    table_id = shown_table().table_id
    assert f'<table id="T_{table_id}">' in html
    assert html == shown_table()._repr_html_()  # byte-stable for stored outputs


def test_the_text_form_is_a_readable_aligned_table_with_title_and_footnote():
    lines = repr(shown_table()).splitlines()
    assert lines[0] == "CR within two cycles by blasts before debulking"
    assert lines[1].split() == ["Blasts", "≥50%", "CR,", "n/N", "(%)", "95%", "CI", "p"]
    assert "12/13 (92.3%)" in lines[2] and lines[-1] == display.FISHER_FOOTNOTE


def test_text_from_data_is_escaped_in_cells_headers_and_caption():
    evil = "<img src=x onerror=alert(42)>"
    frame = pd.DataFrame({evil: [evil]})
    html = display.table(frame, evil, footnote=evil)._repr_html_()
    assert "<img" not in html and html.count("&lt;img src=x onerror=alert(42)&gt;") == 4


def test_csv_is_written_utf8_with_a_byte_order_mark_and_keeps_the_tidy_numbers(tmp_path):
    frame = pd.DataFrame({"label": ["Blasts ≥50% – all"], "estimate": [0.5]})
    path = display.write_csv(frame, tmp_path / "t.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbflabel,estimate\n")
    pd.testing.assert_frame_equal(pd.read_csv(path), frame)


def test_xlsx_has_a_title_row_bold_header_widths_and_number_formats(tmp_path):
    path = display.write_xlsx(RATES, tmp_path / "rates.xlsx", "CR by blasts", footnote="Fisher")
    sheet = load_workbook(path).active
    assert sheet["A1"].value == "CR by blasts" and sheet["A1"].font.bold
    assert [c.value for c in sheet[2]] == [
        "High tumour burden (blasts before debulking)",
        "n",
        "N",
        "Proportion",
        "95% CI, lower",
        "95% CI, upper",
        "p",
    ]
    assert all(c.font.bold for c in sheet[2]) and [sheet["A3"].value, sheet["A4"].value] == [
        "No",
        "Yes",
    ]
    assert sheet["B3"].value == 12 and sheet["D3"].number_format == "0.0%"
    assert sheet["G3"].number_format == "0.000" and sheet["G4"].value is None
    assert sheet.column_dimensions["A"].width >= len("high_burden")
    assert sheet.cell(row=sheet.max_row, column=1).value == "Fisher"


def test_the_same_table_gives_the_same_xlsx_bytes(tmp_path):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first = display.write_xlsx(RATES, tmp_path / "a" / "t.xlsx", "CR")
    second = display.write_xlsx(RATES, tmp_path / "b" / "t.xlsx", "CR")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]


def test_xlsx_shows_a_column_as_percent_only_when_every_value_is_a_proportion(tmp_path):
    frame = pd.DataFrame(
        {"estimate": [45.0, 0.5], "ci_low": [0.1, None], "p_value": ["<0.001", "0.02"]}
    )
    sheet = load_workbook(display.write_xlsx(frame, tmp_path / "t.xlsx", "Mixed")).active
    assert sheet["A3"].number_format == "General" and sheet["B3"].number_format == "0.0%"
    assert sheet["C3"].number_format == "General" and sheet["C3"].value == "<0.001"


@pytest.mark.parametrize("text", ["=1+1", "+41", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_text_that_would_start_a_formula_stays_text_in_csv_and_xlsx(tmp_path, text):
    # OWASP CSV injection rule: a leading ' in the CSV; a string cell (never a formula) in the XLSX.
    frame = pd.DataFrame({"label": [text, "plain"], text: [1.5, -2.0]})
    display.write_csv(frame, tmp_path / "t.csv")
    saved = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert saved.columns.tolist() == ["label", "'" + text]
    assert saved["label"].tolist() == ["'" + text, "plain"]
    assert saved["'" + text].tolist() == [1.5, -2.0]  # numbers, negative ones too, unchanged
    display.write_xlsx(frame, tmp_path / "t.xlsx", "Title")
    sheet = load_workbook(tmp_path / "t.xlsx").active
    assert (sheet["A3"].value, sheet["A3"].data_type) == (text, "s")
    assert (sheet["B2"].value, sheet["B2"].data_type) == (text, "s")
    assert sheet["B4"].value == -2.0


def test_an_asymptotic_fallback_is_named_in_the_footnote_instead_of_an_exact_test():
    exact = "Fisher's exact test (2x2, two-sided)"
    fallback = "Pearson chi-square in place of Fisher's exact test (3x4, asymptotic; exact enumeration infeasible at n=900)"
    assert display.test_footnote([exact, exact]) == display.FISHER_FOOTNOTE
    note = display.test_footnote([exact, fallback])
    assert fallback in note and note != display.FISHER_FOOTNOTE


def test_an_untitled_table_has_no_caption_and_an_id_from_its_cells():
    first, second = (display.table(pd.DataFrame({"a": [v]}), "") for v in (1, 2))
    assert "<caption" not in first._repr_html_()
    assert first.table_id != second.table_id
    assert first.table_id == display.table(pd.DataFrame({"a": [1]}), "").table_id
