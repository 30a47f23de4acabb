"""Manuscript tables as Word documents hold the numbers of the tidy table they came from."""

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
from docx import Document
from run_inprocess import execute

from helpers import display, manuscript, narrative

COHORT = Path(__file__).resolve().parents[1] / "data" / "reconstructed_cohort.csv"


def read_docx_table(path: str | Path) -> tuple[str, pd.DataFrame, list[str]]:
    """The title, first table (as strings) and footnotes of a document ``manuscript.write_docx`` wrote."""
    doc = Document(str(path))
    grid = doc.tables[0]
    rows = [[c.text for c in row.cells] for row in grid.rows]
    paragraphs = [p.text for p in doc.paragraphs if p.text]
    return paragraphs[0], pd.DataFrame(rows[1:], columns=rows[0]), paragraphs[1:]


def sex_and_ph_counts() -> pd.DataFrame:
    """Table 1 rows computed in plain pandas (paper, Table 1: 21 men, 13 Ph-positive of 34)."""
    cohort = pd.read_csv(COHORT)
    rows = []
    for column, label in (("sex", "Sex"), ("ph_status", "Ph status")):
        for level, n in cohort[column].value_counts().sort_index().items():
            rows.append(
                {
                    "characteristic": label,
                    "level": level,
                    "numerator": n,
                    "denominator": len(cohort),
                }
            )
    return pd.DataFrame(rows)


def test_a_docx_table_holds_the_same_numbers_as_the_tidy_table(tmp_path):
    tidy = sex_and_ph_counts()
    shown = display.table(
        tidy.assign(
            **{"n/N (%)": display.rate_cells(tidy.assign(ci_low=None, ci_high=None))["n/N (%)"]}
        ),
        "Table 1",
        columns={"characteristic": "Characteristic", "level": "Level", "n/N (%)": "n/N (%)"},
    ).frame
    path = manuscript.save_docx(
        shown,
        "table1",
        tmp_path,
        "Table 1. Patient characteristics",
        ["n/N (%): patients with the characteristic of all patients."],
        data_note="RECONSTRUCTED DATA — not real patients.",
    )
    title, table, notes = read_docx_table(path)
    assert path == tmp_path / "tables" / "table1.docx"
    assert title == "Table 1. Patient characteristics"
    assert list(table.columns) == ["Characteristic", "Level", "n/N (%)"]
    counts = [tuple(map(int, re.match(r"(\d+)/(\d+)", cell).groups())) for cell in table["n/N (%)"]]
    assert counts == list(zip(tidy["numerator"], tidy["denominator"]))
    assert dict(zip(table["Level"], counts))["male"] == (21, 34)
    assert notes == [
        "n/N (%): patients with the characteristic of all patients.",
        "RECONSTRUCTED DATA — not real patients.",
    ]


def test_the_same_table_gives_the_same_docx_bytes(tmp_path):
    frame = pd.DataFrame({"Group": ["A"], "n": [3]})
    paths = [manuscript.write_docx(frame, "T", [], tmp_path / f"{n}.docx") for n in "ab"]
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}) == 1


@pytest.fixture(scope="module")
def manuscript_run(tmp_path_factory):
    """Notebooks 01-03 run on the shipped cohort: their output folder and the namespace of 03."""
    out = tmp_path_factory.mktemp("manuscript")
    for name in ("01_cohort_description", "02_debulking_regimens"):
        execute(name, data_path=COHORT, output_dir=out)
    return out, execute("03_response_by_subgroup", data_path=COHORT, output_dir=out)


def saved_csv(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def results_of(out: Path, notebook: str) -> pd.DataFrame:
    return pd.read_csv(out / "results" / f"{notebook}.csv").set_index("key")


RECONSTRUCTED = narrative.data_provenance(COHORT).headline


@pytest.mark.parametrize(
    "name, title",
    [
        (
            "table1_patient_characteristics",
            "Table 1. Patient characteristics at the start of blinatumomab",
        ),
        ("table2_debulking_regimens", "Table 2. Debulking therapy before blinatumomab"),
    ],
)
def test_the_notebooks_word_tables_1_and_2_hold_the_cells_of_their_csv_tables(
    manuscript_run, name, title
):
    out, _ = manuscript_run
    shown_title, table, notes = read_docx_table(out / "tables" / f"{name}.docx")
    assert shown_title == title
    pd.testing.assert_frame_equal(table, saved_csv(out, name))
    assert notes[-1] == RECONSTRUCTED and "RECONSTRUCTED DATA" in notes[-1]


def test_the_word_table_1_counts_are_those_of_results_csv(manuscript_run):
    out, _ = manuscript_run
    _, table, _ = read_docx_table(out / "tables" / "table1_patient_characteristics.docx")
    results = results_of(out, "01_cohort_description")
    by_label = results.reset_index().set_index("label")
    table["Characteristic"] = table["Characteristic"].replace("", None).ffill()
    counts = table[table["Level"] != "Median (range)"]
    for characteristic, level, cell in counts.itertuples(index=False):
        n, percent = re.fullmatch(r"(\d+) \((\d+\.\d)%\)", cell).groups()
        row = by_label.loc[f"{characteristic}: {level}"]
        assert int(n) == row["numerator"]
        assert float(percent) == pytest.approx(100 * row["estimate"], abs=0.05)
    assert (
        len(counts) == 17
    )  # paper, Table 1: 16 levels of seven characteristics, and blasts not available for 1
    assert "21 (61.8%)" in set(counts.iloc[:, 2])  # men, paper Table 1


def test_the_word_response_table_holds_the_rates_and_p_values_of_results_csv(manuscript_run):
    out, run = manuscript_run
    title, table, notes = read_docx_table(out / "tables" / "response_by_subgroup.docx")
    assert title == "Response by subgroup: CR within two cycles and complete MRD response"
    assert notes[-1] == RECONSTRUCTED and notes[0].startswith(
        "n/N (%) with exact Clopper-Pearson 95% CI"
    )
    results = results_of(out, "03_response_by_subgroup")
    keys = [
        (by, str(level))
        for by in run["groupings"]
        for level in run["rate_tables"]["any_cr", by].rates["level"]
    ]
    assert len(keys) == len(table)
    for (by, level), row in zip(keys, table.itertuples(index=False)):
        cr = results.loc[f"any_cr[{by}={level}]"]
        assert re.match(r"(\d+)/(\d+)", row[2]).groups() == (
            str(int(cr["numerator"])),
            str(int(cr["denominator"])),
        )
        if row[3] != "–":
            assert row[3] == f"{100 * cr['ci_low']:.1f}–{100 * cr['ci_high']:.1f}"
        if row[0]:  # first row of a block carries the block's Fisher p
            assert row[4] == display.p_cell(results.loc[f"any_cr[{by}]~fisher", "p_value"]).replace(
                "–", ""
            )
    high = table[table["Subgroup"].str.startswith("High tumour burden")].iloc[0]
    assert high["CR p"] == "0.022"  # paper, section 3.3: p = 0.022


def test_word_tables_hold_text_that_would_start_a_formula_as_text_as_the_csv_does(tmp_path):
    frame = pd.DataFrame(
        {'=HYPERLINK("x")': ["=1+1", "+A1", "-2+3", "@SUM(A1)", "plain"], "n": [1, -2, 3, 4, 5]}
    )
    path = manuscript.write_docx(frame, "Title", [], tmp_path / "t.docx")
    _, table, _ = read_docx_table(path)
    assert list(table.columns) == ['\'=HYPERLINK("x")', "n"]
    assert table.iloc[:, 0].tolist() == ["'=1+1", "'+A1", "'-2+3", "'@SUM(A1)", "plain"]
    assert table["n"].tolist() == ["1", "-2", "3", "4", "5"]  # numbers stay numbers
    display.write_csv(frame, tmp_path / "t.csv")
    as_csv = pd.read_csv(tmp_path / "t.csv", dtype=str, encoding="utf-8-sig")
    assert as_csv.iloc[:, 0].tolist() == table.iloc[:, 0].tolist()


# --- journal layout: column widths ----------------------------------------------------------


def afm_widths(name: str) -> dict[str, int]:
    """Advance widths (1/1000 em) of the printable ASCII characters of an Adobe core font
    (Helvetica has Arial's metrics), read from the AFM file Matplotlib ships."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "pdfcorefonts" / f"{name}.afm"
    found = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        match = re.match(r"C (\d+) ; WX (\d+) ;", line)
        if match and 32 <= int(match[1]) < 127:
            found[chr(int(match[1]))] = int(match[2])
    return found


def printed_inches(text: str, *, bold: bool, size: float = manuscript.TABLE_PT) -> float:
    """Width of ``text`` set in Arial, inches; a character outside ASCII counted as 1 em (no
    character of Arial is wider), so the reference errs wide."""
    widths = afm_widths("Helvetica-Bold" if bold else "Helvetica")
    return sum(widths.get(ch, 1000) for ch in text) / 1000 * size / 72


def grid_columns(path: Path) -> tuple[list[float], bool]:
    """The ``w:gridCol`` widths (inches) of the first table and whether the page is landscape."""
    doc = Document(str(path))
    ns = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    cols = [int(c.get(f"{ns}w")) / 1440 for c in doc.tables[0]._tbl.tblGrid.iter(f"{ns}gridCol")]
    section = doc.sections[0]
    return cols, section.page_width > section.page_height


SUBGROUP_ROWS = pd.DataFrame(
    {
        "Subgroup": ["Debulking therapy", "", "High tumour burden (blasts before debulking)"],
        "Level": ["Steroids", "Polychemotherapy", ">=50"],
        "CR n/N (%)": ["3/7 (42.9%)", "5/5 (100.0%)", "10/20 (50.0%)"],
        "CR 95% CI": ["9.9–81.6", "47.8–100.0", "27.2–72.8"],
        "CR p": ["0.093", "", "0.022"],
        "MRD- n/N (%)": ["3/3 (100.0%)", "4/5 (80.0%)", "8/9 (88.9%)"],
        "MRD- 95% CI": ["29.2–100.0", "28.4–99.5", "51.8–99.7"],
        "MRD- p": ["1.000", "", "0.591"],
        "Low-intensity chemotherapy ± steroids": ["Low-intensity chemotherapy ± steroids", "", ""],
    }
)


@pytest.mark.parametrize(
    "frame, landscape",
    [
        (
            pd.DataFrame(
                {
                    "Characteristic": ["Sex", "Bone marrow blasts before debulking"],
                    "Level": ["Male", "Not available"],
                    "N=34 n (%)": ["21 (61.8%)", "1 (2.9%)"],
                }
            ),
            False,
        ),
        (SUBGROUP_ROWS.iloc[:, :8], True),
        (SUBGROUP_ROWS, True),
    ],
)
def test_each_word_table_column_is_as_wide_as_its_longest_word_and_the_table_fits_its_page(
    tmp_path, frame, landscape
):
    path = manuscript.write_docx(frame, "T", [], tmp_path / "t.docx")
    widths, is_landscape = grid_columns(path)
    assert is_landscape == landscape
    line = (11.0 if landscape else 8.5) - 2 * manuscript.MARGIN_IN
    assert sum(widths) <= line + 0.01
    for inches, (header, values) in zip(widths, frame.items()):
        shown = [manuscript.readable(v) for v in values]
        words = [
            (w, False)
            for v in shown
            for w in (v.split() if len(v) > manuscript.SHORT_CELL else [v])
        ]
        words += [(w, True) for w in header.split()]
        longest = max(printed_inches(w, bold=b) for w, b in words)
        assert inches >= longest + manuscript.CELL_PADDING_IN - 0.01, (header, inches, longest)
    assert len(set(widths)) > 1  # fitted to the text, not equal shares


def test_a_word_table_has_three_rules_and_no_vertical_lines(tmp_path):
    path = manuscript.write_docx(SUBGROUP_ROWS.iloc[:, :3], "T", ["note"], tmp_path / "t.docx")
    xml = Document(str(path)).tables[0]._tbl.xml
    rows = re.findall(r"<w:tr[ >].*?</w:tr>", xml, flags=re.DOTALL)
    edges = [
        sorted(set(re.findall(r"<w:(top|bottom|left|right|insideH|insideV) w:val=\"single\"", r)))
        for r in rows
    ]
    assert edges == [["bottom", "top"], [], [], ["bottom"]]
    assert "Table Grid" not in xml and "<w:tblHeader/>" in rows[0]
    assert "≥50" in xml and ">=50" not in xml
