"""Manuscript tables as Word documents hold the numbers of the tidy table they came from."""

import hashlib
import re
from pathlib import Path

import pandas as pd

from helpers import display, manuscript

COHORT = Path(__file__).resolve().parents[1] / "data" / "reconstructed_cohort.csv"


def sex_and_ph_counts() -> pd.DataFrame:
    """Table 1 rows computed in plain pandas (paper, Table 1: 21 men, 13 Ph-positive of 34)."""
    cohort = pd.read_csv(COHORT)
    rows = []
    for column, label in (("sex", "Sex"), ("ph_status", "Ph status")):
        for level, n in cohort[column].value_counts().sort_index().items():
            rows.append({"characteristic": label, "level": level, "numerator": n,
                         "denominator": len(cohort)})
    return pd.DataFrame(rows)


def test_a_docx_table_holds_the_same_numbers_as_the_tidy_table(tmp_path):
    tidy = sex_and_ph_counts()
    shown = display.table(tidy.assign(**{"n/N (%)": display.rate_cells(
        tidy.assign(ci_low=None, ci_high=None))["n/N (%)"]}),
        "Table 1", columns={"characteristic": "Characteristic", "level": "Level",
                            "n/N (%)": "n/N (%)"}).frame
    path = manuscript.save_docx(shown, "table1", tmp_path, "Table 1. Patient characteristics",
                                ["n/N (%): patients with the characteristic of all patients."],
                                data_note="RECONSTRUCTED DATA — not real patients.")
    title, table, notes = manuscript.read_docx_table(path)
    assert path == tmp_path / "tables" / "table1.docx"
    assert title == "Table 1. Patient characteristics"
    assert list(table.columns) == ["Characteristic", "Level", "n/N (%)"]
    counts = [tuple(map(int, re.match(r"(\d+)/(\d+)", cell).groups())) for cell in table["n/N (%)"]]
    assert counts == list(zip(tidy["numerator"], tidy["denominator"]))
    assert dict(zip(table["Level"], counts))["male"] == (21, 34)
    assert notes == ["n/N (%): patients with the characteristic of all patients.",
                     "RECONSTRUCTED DATA — not real patients."]


def test_the_same_table_gives_the_same_docx_bytes(tmp_path):
    frame = pd.DataFrame({"Group": ["A"], "n": [3]})
    paths = [manuscript.write_docx(frame, "T", [], tmp_path / f"{n}.docx") for n in "ab"]
    assert len({hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}) == 1
