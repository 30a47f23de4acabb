"""Regenerate the bad-input corpus and its index ``cases.csv`` (deterministic).

Most files are ``tests/fixtures/valid_small.csv`` with one defect. Run from
anywhere: ``python tests/bad_inputs/make_corpus.py``. The 10 MB junk file is
not stored; tests generate it in a temporary folder.

In ``cases.csv`` the fragments (separated by ``|``) must all appear in the
error message of an invalid file; line numbers count the header as line 1
(P01 is on line 2, P08 on line 9).
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
VALID = HERE.parent / "fixtures" / "valid_small.csv"


def table() -> list[list[str]]:
    """The valid fixture as rows of cells (header first)."""
    return [row for row in csv.reader(io.StringIO(VALID.read_text(encoding="utf-8"), newline=""))]


def to_csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return out.getvalue()


def with_cell(
    patient: str, column: str, value: str, rows: list[list[str]] | None = None
) -> list[list[str]]:
    """A copy of the table with one cell replaced."""
    rows = [list(r) for r in (rows or table())]
    col = rows[0].index(column)
    for row in rows[1:]:
        if row[0] == patient:
            row[col] = value
    return rows


def with_cells(changes: list[tuple[str, str, str]]) -> list[list[str]]:
    """A copy of the table with several cells replaced (patient, column, value)."""
    rows = table()
    for patient, column, value in changes:
        rows = with_cell(patient, column, value, rows)
    return rows


def without_column(column: str) -> list[list[str]]:
    rows = table()
    col = rows[0].index(column)
    return [r[:col] + r[col + 1 :] for r in rows]


#: Follow-up cells added to the valid fixture (os_months, os_event, rfs_months,
#: rfs_event, rfs_event_cause, hsct_months), chosen to meet every follow-up rule: RFS only
#: for the CR patients (P01, P02, P04, P06, P08), never longer than OS; a cause only with
#: an RFS event (P06's unknown); HSCT months only for the transplanted (P01, P06, P08),
#: never after OS; P05 has no follow-up at all.
FOLLOW_UP = {
    "P01": ("14.2", "no", "11", "yes", "relapse", "3.1"),
    "P02": ("9.5", "yes", "6", "yes", "relapse", ""),
    "P03": ("2.3", "yes", "", "", "", ""),
    "P04": ("20", "no", "17.5", "no", "", ""),
    "P05": ("", "", "", "", "", ""),
    "P06": ("7.8", "yes", "5.2", "yes", "", "2.5"),
    "P07": ("1.1", "yes", "", "", "", ""),
    "P08": ("30.4", "no", "27.9", "no", "", "4"),
}
FOLLOW_UP_COLUMNS = [
    "os_months",
    "os_event",
    "rfs_months",
    "rfs_event",
    "rfs_event_cause",
    "hsct_months",
]


def follow_up_table() -> list[list[str]]:
    """The valid fixture with the optional follow-up columns of :data:`FOLLOW_UP`."""
    rows = table()
    return [rows[0] + FOLLOW_UP_COLUMNS] + [row + list(FOLLOW_UP[row[0]]) for row in rows[1:]]


def without_follow_up_columns(*columns: str) -> list[list[str]]:
    """:func:`follow_up_table` without some of its columns."""
    rows = follow_up_table()
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    return [[r[i] for i in keep] for r in rows]


def with_follow_up_cell(patient: str, column: str, value: str) -> list[list[str]]:
    """:func:`follow_up_table` with one cell replaced."""
    return with_cell(patient, column, value, follow_up_table())


def write_xlsx(
    path: Path,
    rows: list[list[object]],
    *,
    more_sheets: tuple = (),
    first: tuple = (),
    merge: str | None = None,
    active: str = "cohort",
) -> None:
    """A workbook whose sheet 'cohort' holds ``rows``.

    ``first`` and ``more_sheets``: (title, rows, state) of sheets placed
    before and after it (state "visible" or "hidden"); ``merge``: a cell
    range of 'cohort' to merge; ``active``: the sheet selected when the file
    opens. Saved with fixed timestamps (same bytes each time).
    """
    from openpyxl import Workbook

    from pipeline.template import save_workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, sheet_rows, state in (*first, ("cohort", rows, "visible"), *more_sheets):
        sheet = workbook.create_sheet(title)
        sheet.sheet_state = state
        for row in sheet_rows:
            sheet.append(row)
        if title == "cohort" and merge:
            sheet.merge_cells(merge)
    workbook.active = [s.title for s in workbook.worksheets].index(active)
    save_workbook(workbook, path)


def typed_cells(rows: list[list[str]]) -> list[list[object]]:
    """Numbers as numbers, as a spreadsheet would store them."""
    out = [rows[0]]
    for row in rows[1:]:
        cells: list[object] = []
        for cell in row:
            try:
                number = float(cell)
                cells.append(int(number) if number.is_integer() else number)
            except ValueError:
                cells.append(cell if cell else None)
        out.append(cells)
    return out


def without_columns(*columns: str) -> list[list[str]]:
    rows = table()
    for column in columns:
        col = rows[0].index(column)
        rows = [r[:col] + r[col + 1 :] for r in rows]
    return rows


def typed_rows(rows: list[list[str]] | None = None) -> list[list[object]]:
    return typed_cells(rows or table())


#: Workbooks of the corpus: file -> how make_corpus writes it (see :func:`write_xlsx`).
WORKBOOKS = {
    "title_row.xlsx": lambda path: write_xlsx(path, [["Cohort export, 2022"], [], *typed_rows()]),
    "valid.xlsx": lambda path: write_xlsx(path, typed_rows()),
    "workbook_named_csv.csv": lambda path: write_xlsx(path, typed_rows()),
    "hidden_first_sheet.xlsx": lambda path: write_xlsx(
        path, typed_rows(), first=(("old", typed_rows()[:4], "hidden"),)
    ),
    "readme_then_cohort.xlsx": lambda path: write_xlsx(
        path,
        typed_rows(),
        first=(("README", [["Cohort of 8 patients"], ["see the data contract"]], "visible"),),
    ),
    "two_cohort_sheets.xlsx": lambda path: write_xlsx(
        path,
        typed_rows(),
        first=(("README", [["two cohorts"]], "visible"),),
        more_sheets=(("cohort 2", typed_rows()[:5], "visible"),),
        active="README",
    ),
    "two_cohort_sheets_second_active.xlsx": lambda path: write_xlsx(
        path,
        typed_rows()[:5],
        more_sheets=(("cohort 2", typed_rows(), "visible"),),
        active="cohort 2",
    ),
    "formula_without_value.xlsx": lambda path: write_xlsx(
        path, typed_rows(with_cell("P06", "age_years", "=40+10"))
    ),
    "merged_cells.xlsx": lambda path: write_xlsx(path, typed_rows(), merge="M3:M4"),
}


def cases() -> list[tuple[str, bytes | None, str, str, str]]:
    """(file, content or None for xlsx, accepted, what is wrong, fragments)."""
    valid = VALID.read_bytes()
    text = valid.decode("utf-8")
    lines = text.splitlines(keepends=True)
    rng = random.Random(20220401)
    several = with_cells(
        [
            ("P02", "age_years", ">50"),
            ("P05", "sex", "M"),
            ("P07", "crs_grade", ""),
            ("P08", "patient_id", "P01"),
        ]
    )
    return [
        (
            "missing_column.csv",
            to_csv(without_column("sex")).encode(),
            "no",
            "column sex removed",
            "required column is missing|column sex",
        ),
        (
            "unknown_code.csv",
            to_csv(with_cell("P03", "response", "partial")).encode(),
            "no",
            "response 'partial' is not a code",
            "line 4 (patient P03), column response|'partial' is not allowed|one of 'cr', 'crp', 'cri', 'none'",
        ),
        (
            "age_101.csv",
            to_csv(with_cell("P02", "age_years", "101")).encode(),
            "no",
            "age above 100",
            "line 3 (patient P02), column age_years|'101'|a whole number from 18 to 100|above the maximum 100",
        ),
        (
            "gt50_in_numeric.csv",
            to_csv(with_cell("P01", "bmb_baseline_pct", ">50")).encode(),
            "no",
            "'>50' in a number column",
            "line 2 (patient P01), column bmb_baseline_pct|'>50' is not allowed|a number from 0 to 100, or blank|not a number",
        ),
        (
            "duplicate_patient_id.csv",
            to_csv(with_cell("P05", "patient_id", "P02")).encode(),
            "no",
            "P02 twice",
            "column patient_id|'P02'|lines 3 and 6|unique",
        ),
        ("empty.csv", b"", "no", "0 bytes", "empty"),
        (
            "header_only.csv",
            lines[0].encode(),
            "no",
            "header but no rows",
            "header but no patients",
        ),
        (
            "mrd_for_non_cr.csv",
            to_csv(with_cell("P03", "mrd_status", "negative")).encode(),
            "no",
            "MRD given for a patient without CR",
            "line 4 (patient P03), column mrd_status|'negative' is given but response is 'none'|only for patients in CR",
        ),
        (
            "crs_grade_without_crs.csv",
            to_csv(with_cell("P02", "crs_grade", "2")).encode(),
            "no",
            "CRS grade with crs no",
            "line 3 (patient P02), column crs_grade|'2' is given but crs is 'no'|crs_grade only when crs is yes",
        ),
        (
            "crs_yes_without_grade.csv",
            to_csv(with_cell("P01", "crs_grade", "")).encode(),
            "no",
            "crs yes, grade blank",
            "line 2 (patient P01), column crs_grade|blank, but crs is 'yes'|whenever crs is yes",
        ),
        (
            "hsct_without_cr.csv",
            to_csv(with_cell("P05", "hsct_after_blina", "yes")).encode(),
            "no",
            "HSCT after blina without CR",
            "line 6 (patient P05), column hsct_after_blina|'yes' but response is 'none'|yes only for patients in CR",
        ),
        (
            "semicolon.csv",
            to_csv(table(), ";").encode(),
            "no",
            "';' delimiter",
            "looks like ';'-separated|requires commas",
        ),
        (
            "tab.csv",
            to_csv(table(), "\t").encode(),
            "no",
            "tab delimiter",
            "looks like tab-separated|requires commas",
        ),
        (
            "latin1.csv",
            to_csv(with_cell("P04", "debulking_regimen", "étoposide")).encode("latin-1"),
            "no",
            "Latin-1 encoded 'é'",
            "not UTF-8|0xE9|line 5|'é'|re-save the file as UTF-8",
        ),
        (
            "blank_lines.csv",
            (
                "\n" + lines[0] + "\n" + "".join(line + "\n" for line in lines[1:]) + "\n ,,\n"
            ).encode(),
            "yes",
            "blank lines (accepted)",
            "",
        ),
        (
            "blank_lines_with_error.csv",
            (
                "\n".join(to_csv(with_cell("P03", "sex", "x")).splitlines()[:3])
                + "\n\n\n"
                + "\n".join(to_csv(with_cell("P03", "sex", "x")).splitlines()[3:])
                + "\n"
            ).encode(),
            "no",
            "blank lines before a bad row: line numbers follow the file",
            "line 6 (patient P03), column sex|'x'",
        ),
        ("bom.csv", b"\xef\xbb\xbf" + valid, "yes", "UTF-8 byte-order mark (accepted)", ""),
        (
            "title_row.xlsx",
            None,
            "no",
            "xlsx with a title and a blank row above the header",
            "header must be on row 1|row 3",
        ),
        ("valid.xlsx", None, "yes", "the valid fixture as a workbook (accepted)", ""),
        (
            "all_empty_column.csv",
            to_csv(
                [r[:5] + ([""] if i else [r[5]]) + r[6:] for i, r in enumerate(table())]
            ).encode(),
            "no",
            "disease_status blank in every row",
            "column disease_status|empty in every row",
        ),
        (
            "pct_over_100.csv",
            to_csv(with_cell("P01", "bmb_post_debulking_pct", "120")).encode(),
            "no",
            "blasts 120 %",
            "line 2 (patient P01), column bmb_post_debulking_pct|'120'|above the maximum 100",
        ),
        (
            "pct_sign.csv",
            to_csv(with_cell("P02", "bmb_baseline_pct", "12%")).encode(),
            "no",
            "'12%' with a percent sign",
            "line 3 (patient P02), column bmb_baseline_pct|'12%'|without '%'",
        ),
        (
            "negative_days.csv",
            to_csv(with_cell("P02", "debulking_to_blina_days", "-3")).encode(),
            "no",
            "negative days",
            "line 3 (patient P02), column debulking_to_blina_days|'-3'|below the minimum 0",
        ),
        (
            "age_17.csv",
            to_csv(with_cell("P05", "age_years", "17")).encode(),
            "no",
            "age 17",
            "line 6 (patient P05), column age_years|'17'|a whole number from 18 to 100",
        ),
        (
            "mixed_case_padded.csv",
            to_csv(
                with_cells(
                    [
                        ("P01", "response", " CR "),
                        ("P01", "sex", "Male"),
                        ("P02", "prior_hsct", "YES"),
                        ("P03", "hsct_after_blina", "False"),
                        ("P04", "crs", "1"),
                        ("P05", "age_years", "18.0"),
                        ("P06", "source", " PAAP"),
                        ("P07", "crs", "TRUE"),
                    ]
                )
            ).encode(),
            "yes",
            "upper/mixed case, padded codes, true/1, '18.0' (accepted)",
            "",
        ),
        (
            "renamed_age_column.csv",
            to_csv(
                [["Age (years)" if c == "age_years" else c for c in table()[0]]] + table()[1:]
            ).encode(),
            "no",
            "age_years written as its label",
            "column age_years|required column is missing|'Age (years)'|rename it to 'age_years'",
        ),
        (
            "spreadsheet_renamed_column.csv",
            to_csv(
                [["Prior_Lines_1" if c == "prior_lines" else c for c in table()[0]]] + table()[1:]
            ).encode(),
            "no",
            "prior_lines renamed by a spreadsheet",
            "column prior_lines|'Prior_Lines_1'|rename it to 'prior_lines'",
        ),
        (
            "date_in_integer.csv",
            to_csv(with_cell("P03", "debulking_to_blina_days", "2020-03-01")).encode(),
            "no",
            "a date where days belong",
            "line 4 (patient P03), column debulking_to_blina_days|'2020-03-01'|whole number from 0 to 365|looks like a date",
        ),
        (
            "binary_junk.csv",
            rng.randbytes(4096),
            "no",
            "random bytes",
            "does not look like a table|binary",
        ),
        (
            "random_text.csv",
            (
                b"Minutes of the meeting\nWe discussed the debulking results; all agreed.\n"
                b"Next meeting: Tuesday\n"
            ),
            "no",
            "prose, not a table",
            "does not look like a cohort table|column names",
        ),
        (
            "really_csv.xlsx",
            valid,
            "no",
            "CSV text named .xlsx",
            "not an Excel workbook|CSV text|rename it to .csv",
        ),
        (
            "workbook_named_csv.csv",
            None,
            "no",
            "an .xlsx workbook named .csv",
            "Excel workbook|rename it to .xlsx",
        ),
        (
            "duplicate_header.csv",
            to_csv([r + [r[18]] for r in table()]).encode(),
            "no",
            "crs appears twice in the header",
            "duplicate column name 'crs'|columns 19 and 22",
        ),
        (
            "ragged_row.csv",
            (text.replace("P04,C01,neuf", "P04,C01,x,neuf")).encode(),
            "no",
            "an extra cell on one line",
            "line 5 (patient P04)|22 cells but the header has 21",
        ),
        (
            "empty_patient_id.csv",
            to_csv(with_cell("P04", "patient_id", "")).encode(),
            "no",
            "blank patient_id",
            "line 5, column patient_id|blank, but a value is required",
        ),
        (
            "prior_lines_0.csv",
            to_csv(with_cell("P01", "prior_lines", "0")).encode(),
            "no",
            "prior_lines 0",
            "line 2 (patient P01), column prior_lines|'0'|a whole number from 1 to 15",
        ),
        (
            "crs_grade_6.csv",
            to_csv(with_cell("P07", "crs_grade", "6")).encode(),
            "no",
            "CRS grade 6",
            "line 8 (patient P07), column crs_grade|'6'|a whole number from 1 to 5",
        ),
        (
            "blina_cycles_0.csv",
            to_csv(with_cell("P03", "blina_cycles", "0")).encode(),
            "no",
            "0 cycles",
            "line 4 (patient P03), column blina_cycles|'0'|a whole number from 1 to 10",
        ),
        (
            "boolean_maybe.csv",
            to_csv(with_cell("P06", "prior_hsct", "maybe")).encode(),
            "no",
            "boolean 'maybe'",
            "line 7 (patient P06), column prior_hsct|'maybe'|yes or no",
        ),
        (
            "half_integer.csv",
            to_csv(with_cell("P06", "prior_lines", "2.5")).encode(),
            "no",
            "2.5 lines",
            "line 7 (patient P06), column prior_lines|'2.5'|not a whole number",
        ),
        (
            "tki_ph_negative_warning.csv",
            to_csv(with_cell("P05", "ph_status", "negative")).encode(),
            "yes",
            "tki with Ph negative: accepted with a warning",
            "",
        ),
        (
            "cr_after_one_cycle_warning.csv",
            to_csv(with_cell("P03", "response", "cr")).encode(),
            "yes",
            "CR after one cycle: accepted with a warning",
            "",
        ),
        (
            "trailing_comma.csv",
            "".join(line.rstrip("\n") + ",\n" for line in lines).encode(),
            "yes",
            "every line ends with a comma: an empty unnamed column (accepted with a note)",
            "",
        ),
        (
            "no_center_no_source.csv",
            to_csv(without_columns("center", "source")).encode(),
            "yes",
            "no center and no source column, both allowed blank (accepted with a note)",
            "",
        ),
        (
            "unterminated_quote.csv",
            text.replace("P04,C01,neuf", 'P04,"C01,neuf').encode(),
            "no",
            "a quote opened on line 5 is never closed",
            'line 5: a quote (") opens a cell|not closed on that line but on line 9|lines 5 to 9',
        ),
        (
            "id_case_duplicate.csv",
            to_csv(with_cell("P05", "patient_id", "p02")).encode(),
            "no",
            "P02 and p02: one patient_id in two cases",
            "column patient_id|'P02' is not allowed|lines 3 and 6|written 'P02' and 'p02'",
        ),
        (
            "id_zero_width_duplicate.csv",
            to_csv(with_cell("P05", "patient_id", "P02\u200b")).encode(),
            "no",
            "P02 and P02 with a zero-width space",
            "column patient_id|lines 3 and 6|'P02\\u200b'|invisible characters",
        ),
        (
            "hidden_first_sheet.xlsx",
            None,
            "yes",
            "a hidden first sheet of 3 patients before the visible "
            "cohort (accepted: the visible sheet is read)",
            "",
        ),
        (
            "readme_then_cohort.xlsx",
            None,
            "yes",
            "a README sheet before the cohort sheet (accepted)",
            "",
        ),
        (
            "two_cohort_sheets.xlsx",
            None,
            "no",
            "two visible sheets with the contract's columns, a README active",
            "2 visible sheets hold the contract's column names|'cohort', 'cohort 2'|--sheet NAME",
        ),
        (
            "two_cohort_sheets_second_active.xlsx",
            None,
            "yes",
            "two visible sheets with the contract's columns, the second active (accepted: it is read)",
            "",
        ),
        (
            "formula_without_value.xlsx",
            None,
            "no",
            "a formula cell =40+10 with no stored value",
            "line 7 (patient P06), column age_years|sheet 'cohort', cell E7: formula =40+10 has no stored value",
        ),
        (
            "merged_cells.xlsx",
            None,
            "no",
            "two merged cells",
            "line 3 (patient P02), column debulking_to_blina_days|sheet 'cohort', cells M3:M4: merged cells",
        ),
        (
            "follow_up_valid.csv",
            to_csv(follow_up_table()).encode(),
            "yes",
            "the valid fixture with every follow-up column (accepted)",
            "",
        ),
        (
            "follow_up_os_700.csv",
            to_csv(with_follow_up_cell("P04", "os_months", "700")).encode(),
            "no",
            "overall survival 700 months",
            "line 5 (patient P04), column os_months|'700'|a number from 0 to 600, or blank|above the maximum 600",
        ),
        (
            "os_months_without_os_event_column.csv",
            to_csv(without_follow_up_columns("os_event")).encode(),
            "no",
            "os_months given without the os_event column",
            "column os_event|column os_months is given without its partner os_event|os_months and os_event together",
        ),
        (
            "os_event_blank_with_os_months.csv",
            to_csv(with_follow_up_cell("P03", "os_event", "")).encode(),
            "no",
            "os_months given, os_event blank",
            "line 4 (patient P03), column os_event|blank, but os_months is '2.3'|whenever os_months is given",
        ),
        (
            "os_months_blank_with_os_event.csv",
            to_csv(with_follow_up_cell("P07", "os_months", "")).encode(),
            "no",
            "os_event given, os_months blank",
            "line 8 (patient P07), column os_months|blank, but os_event is 'yes'|whenever os_event is given",
        ),
        (
            "rfs_event_blank_with_rfs_months.csv",
            to_csv(with_follow_up_cell("P02", "rfs_event", "")).encode(),
            "no",
            "rfs_months given, rfs_event blank",
            "line 3 (patient P02), column rfs_event|blank, but rfs_months is '6'|whenever rfs_months is given",
        ),
        (
            "rfs_months_blank_with_rfs_event.csv",
            to_csv(with_follow_up_cell("P04", "rfs_months", "")).encode(),
            "no",
            "rfs_event given, rfs_months blank",
            "line 5 (patient P04), column rfs_months|blank, but rfs_event is 'no'|whenever rfs_event is given",
        ),
        (
            "rfs_for_non_cr.csv",
            to_csv(
                with_cell("P03", "rfs_event", "yes", with_follow_up_cell("P03", "rfs_months", "1"))
            ).encode(),
            "no",
            "RFS given for a patient without CR",
            "line 4 (patient P03), column rfs_months|'1' is given and response is 'none'|only for patients in CR",
        ),
        (
            "rfs_longer_than_os.csv",
            to_csv(with_follow_up_cell("P06", "rfs_months", "9")).encode(),
            "no",
            "RFS longer than OS",
            "line 7 (patient P06), column rfs_months|'9' is longer than os_months '7.8'|rfs_months at most os_months",
        ),
        (
            "rfs_event_cause_without_event.csv",
            to_csv(with_follow_up_cell("P04", "rfs_event_cause", "relapse")).encode(),
            "no",
            "a cause of the RFS event for a patient without one",
            "line 5 (patient P04), column rfs_event_cause|'relapse' is given but rfs_event is 'no'"
            "|only when rfs_event is yes",
        ),
        (
            "rfs_event_cause_unknown_code.csv",
            to_csv(with_follow_up_cell("P02", "rfs_event_cause", "progression")).encode(),
            "no",
            "cause of the RFS event 'progression' is not a code",
            "line 3 (patient P02), column rfs_event_cause|'progression' is not allowed|one of 'relapse', 'death'",
        ),
        (
            "rfs_event_cause_without_rfs_event_column.csv",
            to_csv(without_follow_up_columns("rfs_months", "rfs_event")).encode(),
            "no",
            "rfs_event_cause given without the rfs_months and rfs_event columns",
            "column rfs_event|column rfs_event_cause is given without the column rfs_event it describes",
        ),
        (
            "hsct_months_without_hsct.csv",
            to_csv(with_follow_up_cell("P02", "hsct_months", "2")).encode(),
            "no",
            "months to HSCT for a patient not transplanted",
            "line 3 (patient P02), column hsct_months|'2' is given but hsct_after_blina is 'no'"
            "|hsct_months only when hsct_after_blina is yes",
        ),
        (
            "hsct_after_os.csv",
            to_csv(with_follow_up_cell("P01", "hsct_months", "15")).encode(),
            "no",
            "HSCT after the end of follow-up",
            "line 2 (patient P01), column hsct_months|'15' is later than os_months '14.2'|hsct_months at most os_months",
        ),
        (
            "several_problems.csv",
            to_csv(several).encode(),
            "no",
            "four defects in one file",
            "4 problems in 8 rows|line 3 (patient P02), column age_years|line 6 (patient P05), column sex|'M'"
            "|line 8 (patient P07), column crs_grade|'P01'|lines 2 and 9",
        ),
    ]


#: (problems, warnings) validate must report, where not (1, 0) for an invalid file
#: or (0, 0) for an accepted one: each file has one planted defect, except these.
COUNTS = {
    "several_problems.csv": (4, 0),  # four planted defects
    "tki_ph_negative_warning.csv": (0, 1),  # one warning-level rule broken
    "cr_after_one_cycle_warning.csv": (0, 1),  # one warning-level rule broken
}


def expected_counts(name: str, accepted: str) -> tuple[int, int]:
    """(problems, warnings) for a corpus file: by construction, see :data:`COUNTS`."""
    return COUNTS.get(name, (1, 0) if accepted == "no" else (0, 0))


def index_rows() -> list[list[str]]:
    """The rows of ``cases.csv``, header first."""
    rows = [["file", "accepted", "what_is_wrong", "fragments", "problems", "warnings"]]
    for name, _, accepted, what, fragments in cases():
        problems, warnings = expected_counts(name, accepted)
        rows.append([name, accepted, what, fragments, str(problems), str(warnings)])
    return rows


def main() -> None:
    for name, content, _accepted, _what, _fragments in cases():
        path = HERE / name
        if name in WORKBOOKS:
            WORKBOOKS[name](path)
        else:
            path.write_bytes(content)
    (HERE / "cases.csv").write_text(to_csv(index_rows()), encoding="utf-8")


if __name__ == "__main__":
    main()
