"""helpers.contract transcribes docs/data-contract.md; these tests read the document itself.

The markdown table is parsed here with plain string handling, independently of
helpers.contract, so a change to either side without the other fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import contract

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "data-contract.md"


def _document_rows(heading: str) -> dict[str, dict[str, str]]:
    """The rows of the table under the document's ``## {heading}``, keyed by column name."""
    text = DOCUMENT.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[0] in ("column", "") or set(cells[0]) <= {"-"}:
            continue
        name, kind, allowed, missing, meaning = cells
        rows[name] = {"kind": kind, "allowed": allowed, "missing": missing, "meaning": meaning}
    return rows


REQUIRED_ROWS = _document_rows("Columns")
FOLLOW_UP_ROWS = _document_rows("Optional follow-up columns (time to event)")
DOCUMENT_ROWS = {**REQUIRED_ROWS, **FOLLOW_UP_ROWS}


def test_the_document_and_the_module_list_the_same_columns_in_the_same_order():
    assert list(REQUIRED_ROWS) == list(contract.NAMES)
    assert len(contract.NAMES) == 21


def test_the_follow_up_columns_are_the_documented_optional_ones_after_the_required_ones():
    assert (
        list(FOLLOW_UP_ROWS)
        == list(contract.FOLLOW_UP_NAMES)
        == ["os_months", "os_event", "rfs_months", "rfs_event", "rfs_event_cause", "hsct_months"]
    )
    assert [c.name for c in contract.ALL_COLUMNS] == [*REQUIRED_ROWS, *FOLLOW_UP_ROWS]
    assert [c.name for c in contract.ALL_COLUMNS if c.optional] == list(FOLLOW_UP_ROWS)


def test_the_follow_up_pairs_are_the_ones_the_document_names_both_or_neither():
    text = DOCUMENT.read_text(encoding="utf-8")
    rules = text.split("\n## Optional follow-up columns (time to event)\n", 1)[1].split("\n## ", 1)[
        0
    ]
    assert "`os_months` and `os_event` are given together (both or neither)" in rules
    assert "likewise\n`rfs_months` and `rfs_event`" in rules
    assert contract.FOLLOW_UP_PAIRS == (("os_months", "os_event"), ("rfs_months", "rfs_event"))


def test_the_cause_of_an_rfs_event_is_documented_as_given_only_when_rfs_event_is_yes():
    text = DOCUMENT.read_text(encoding="utf-8")
    rules = text.split("\n## Optional follow-up columns (time to event)\n", 1)[1].split("\n## ", 1)[
        0
    ]
    assert "`rfs_event_cause`\nis given only when `rfs_event` is yes" in rules
    assert contract.FOLLOW_UP_NEEDS == (("rfs_event_cause", "rfs_event"),)


@pytest.mark.parametrize("name", list(DOCUMENT_ROWS))
def test_each_column_has_the_documented_missingness(name):
    assert contract.column(name).nullable == (DOCUMENT_ROWS[name]["missing"] == "yes")


@pytest.mark.parametrize("name", list(DOCUMENT_ROWS))
def test_each_column_has_the_documented_kind(name):
    documented = DOCUMENT_ROWS[name]["kind"]
    assert (
        contract.column(name).kind
        == {
            "text": "text",
            "code": "code",
            "integer": "integer",
            "number": "number",
            "boolean": "boolean",
        }[documented]
    )


@pytest.mark.parametrize("name", [n for n, r in DOCUMENT_ROWS.items() if r["kind"] == "code"])
def test_each_coded_column_allows_exactly_the_documented_codes(name):
    documented = tuple(re.findall(r"`([a-z_]+)`", DOCUMENT_ROWS[name]["allowed"]))
    assert contract.column(name).codes == documented


@pytest.mark.parametrize(
    "name", [n for n, r in DOCUMENT_ROWS.items() if r["kind"] in ("integer", "number")]
)
def test_each_numeric_column_has_the_documented_range(name):
    low, high = re.fullmatch(r"(\d+) to (\d+)", DOCUMENT_ROWS[name]["allowed"]).groups()
    col = contract.column(name)
    assert (col.minimum, col.maximum) == (float(low), float(high))


def test_only_patient_id_must_be_unique():
    assert [c.name for c in contract.ALL_COLUMNS if c.unique] == ["patient_id"]
    assert "unique" in DOCUMENT_ROWS["patient_id"]["allowed"]


# (column, value, what a reader sees): codes and keys keep ASCII and True/False, labels do not
LABEL_CASES = [
    ("bmb_baseline_group", ">=50", "≥50"),
    ("lines_group", "<=2", "≤2"),
    ("lines_1_2_3plus", ">=3", "≥3"),
    ("high_burden", True, "High tumour burden"),
    ("high_burden", "False", "Low tumour burden"),
    ("prior_hsct", True, "Yes"),
    ("crs", "False", "No"),
    ("ph_status", "positive", "Positive"),
    ("bmb_post_group", "20-49", "20-49"),
]


@pytest.mark.parametrize("column, value, label", LABEL_CASES)
def test_a_value_is_shown_by_its_label_never_its_code(column, value, label):
    assert contract.code_label(column, value) == label


@pytest.mark.parametrize(
    "label, in_text",
    [
        ("Steroids", "steroids"),
        ("Low-intensity chemotherapy ± steroids", "low-intensity chemotherapy ± steroids"),
        ("TKI ± steroids or chemotherapy", "TKI ± steroids or chemotherapy"),
        ("CR", "CR"),
    ],
)
def test_a_label_inside_a_sentence_keeps_its_abbreviations(label, in_text):
    assert contract.in_sentence(label) == in_text


@pytest.mark.parametrize(
    "text, shown",
    [
        (">=50", "≥50"),
        ("<=2 previous lines", "≤2 previous lines"),
        ("blasts >=50% and <=-1", "blasts ≥50% and ≤-1"),
        (
            '(c["bmb_baseline_pct"] >= bmb_high_cutoff)',
            '(c["bmb_baseline_pct"] >= bmb_high_cutoff)',
        ),
    ],
)
def test_comparisons_before_a_number_read_as_symbols_and_code_is_left_alone(text, shown):
    assert contract.readable(text) == shown
