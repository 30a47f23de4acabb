"""Tests of pipeline.template: the empty cohort template written from the data contract.

The template must be what the loader accepts: header-only it is refused only
for having no patients, and with the valid fixture's rows typed in it loads
as that cohort. The shipped data/template.* must be what the writer makes now.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import contract
from helpers.loading import load_cohort, validate_file
from pipeline.template import (
    COHORT_SHEET,
    OPTIONAL_BLOCK,
    OPTIONAL_LABEL,
    README_SHEET,
    REQUIRED_LABEL,
    template_columns,
    write_template,
)

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "valid_small.csv"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, Path]:
    return write_template(tmp_path_factory.mktemp("template"))


def valid_rows() -> list[list[str]]:
    """The valid fixture's rows in the template's column order (its follow-up columns blank)."""
    records = list(csv.DictReader(VALID.open(encoding="utf-8", newline="")))
    return [[record.get(c.name, "") for c in template_columns()] for record in records]


def without_follow_up(cohort: pd.DataFrame) -> pd.DataFrame:
    """A filled template's cohort without its blank follow-up columns (the fixture has none)."""
    assert cohort[list(contract.FOLLOW_UP_NAMES)].isna().all().all()
    return cohort.drop(columns=list(contract.FOLLOW_UP_NAMES))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_header_only_template_is_refused_only_for_having_no_patients(template, kind):
    path = template[0] if kind == "csv" else template[1]
    report = validate_file(path)
    assert [p.message for p in report.problems] == [
        "the file has a header but no patients: add one row per patient below the header"
    ]
    assert report.sheet == (COHORT_SHEET if kind == "xlsx" else None)


def test_the_csv_template_filled_in_loads_as_the_cohort_typed_in(template, tmp_path):
    filled = tmp_path / "filled.csv"
    shutil.copy(template[0], filled)
    with filled.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(valid_rows())
    pd.testing.assert_frame_equal(without_follow_up(load_cohort(filled)), load_cohort(VALID))


def test_the_xlsx_template_filled_in_loads_as_the_cohort_typed_in(template, tmp_path):
    from openpyxl import load_workbook

    book = load_workbook(template[1])
    sheet = book[COHORT_SHEET]
    for row in valid_rows():
        # typed as a person would: numbers as numbers, blanks left empty
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else (c or None) for c in row])
    book.save(tmp_path / "filled.xlsx")
    report = validate_file(tmp_path / "filled.xlsx")
    assert report.ok and report.n_rows == 8 and report.sheet == COHORT_SHEET
    pd.testing.assert_frame_equal(
        without_follow_up(load_cohort(tmp_path / "filled.xlsx")), load_cohort(VALID)
    )


def test_the_xlsx_template_has_the_header_a_readme_and_drop_downs_for_coded_columns(template):
    from openpyxl import load_workbook

    book = load_workbook(template[1])
    assert book.sheetnames == [COHORT_SHEET, README_SHEET]
    sheet = book[COHORT_SHEET]
    names = [c.name for c in template_columns()]
    assert [c.value for c in sheet[1]] == names
    readme = [[c.value or "" for c in row] for row in book[README_SHEET].iter_rows()]
    assert [r[0] for r in readme[1:]] == [
        REQUIRED_LABEL,
        *names[: -len(OPTIONAL_BLOCK)],
        OPTIONAL_LABEL,
        *names[-len(OPTIONAL_BLOCK) :],
    ]
    described = {r[0]: r for r in readme[1:]}
    for col in template_columns():
        row = described[col.name]
        assert row[4] == col.allowed()
        for code in col.codes:
            assert f"{code} = {col.code_labels[code]}" in row[5]
    lists = {}
    for rule in sheet.data_validations.dataValidation:
        column = sheet.cell(row=2, column=next(iter(rule.sqref.ranges)).min_col).column
        lists[names[column - 1]] = rule.formula1.strip('"').split(",")
    expected = {
        c.name: list(c.codes) if c.kind == "code" else ["yes", "no"]
        for c in template_columns()
        if c.kind in ("code", "boolean")
    }
    assert lists == expected


def test_the_optional_columns_follow_the_required_ones_as_a_shaded_block_with_a_note(template):
    from openpyxl import load_workbook

    names = [c.name for c in template_columns()]
    optional = [c.name for c in OPTIONAL_BLOCK]
    assert {"center", "source", *contract.FOLLOW_UP_NAMES} == set(optional)
    assert names[-len(optional) :] == optional and set(names[: -len(optional)]) == set(
        contract.NAMES
    ) - set(optional)
    assert template[0].read_text(encoding="utf-8").splitlines() == [",".join(names)]
    sheet = load_workbook(template[1])[COHORT_SHEET]
    for cell in sheet[1]:
        shaded = cell.fill.fgColor.rgb.endswith("DDEBF7")
        assert shaded is (cell.value in optional), cell.value
        assert (cell.comment is not None and "Optional column" in cell.comment.text) is shaded


def test_the_shipped_template_files_are_what_the_writer_makes_now(template):
    for made in template:
        assert (ROOT / "data" / made.name).read_bytes() == made.read_bytes(), (
            f"data/{made.name} is stale: run `make template`"
        )


def test_the_validate_command_writes_the_template(tmp_path, capsys):
    from pipeline.__main__ import main

    assert main(["validate", "--template", str(tmp_path / "t")]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {tmp_path / 't' / 'template.csv'}",
        f"wrote {tmp_path / 't' / 'template.xlsx'}",
    ]


def test_the_validate_command_without_a_file_or_template_and_into_a_file_fails_in_one_line(
    tmp_path, capsys
):
    from pipeline.__main__ import main

    assert main(["validate"]) == 2
    assert capsys.readouterr().err == "error: validate needs a cohort FILE (or --template DIR)\n"
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder", encoding="utf-8")
    assert main(["validate", "--template", str(blocker)]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(f"error: cannot write the template into {blocker}: ")
        and err.count("\n") == 1
    )
    assert blocker.read_text(encoding="utf-8") == "not a folder"
