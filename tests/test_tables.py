"""Table builders, checked against the paper's printed Tables 1 and 2.

The expected strings are typed from the paper (Bonifacio et al. 2022, Tables 1-2),
not produced by the code under test.
"""

from pathlib import Path

import pandas as pd
import pytest

from helpers import loading, tables

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return loading.load_cohort(COHORT)


# (characteristic block, level label, value printed in the paper's Table 1)
TABLE1_PRINTED = [
    ("Sex", "Male", "21 (61.8%)"), ("Sex", "Female", "13 (38.2%)"),
    ("Age (years)", "<50", "19 (55.9%)"), ("Age (years)", ">=50", "15 (44.1%)"),
    ("Disease status", "Relapsed", "24 (70.6%)"), ("Disease status", "Refractory", "10 (29.4%)"),
    ("Previous treatment lines", "1", "7 (20.6%)"), ("Previous treatment lines", "2", "13 (38.2%)"),
    ("Previous treatment lines", ">=3", "14 (41.2%)"),
    ("Prior HSCT", "Yes", "17 (50.0%)"), ("Prior HSCT", "No", "17 (50.0%)"),
    ("Bone marrow blasts before debulking", "<20", "7 (20.6%)"),
    ("Bone marrow blasts before debulking", "20-49", "6 (17.6%)"),  # paper prints 17.7 (6/34 = 17.65)
    ("Bone marrow blasts before debulking", ">=50", "20 (58.8%)"),
    ("Bone marrow blasts before debulking", "Not available", "1 (2.9%)"),
    ("Ph status", "Positive", "13 (38.2%)"), ("Ph status", "Negative", "21 (61.8%)"),
]


@pytest.fixture(scope="module")
def table1(cohort) -> pd.DataFrame:
    table = tables.table1(tables.count_rows(cohort), tables.summary_rows(cohort))
    table["block"] = table["Characteristic"].replace("", pd.NA).ffill()
    return table


@pytest.mark.parametrize("block, level, printed", TABLE1_PRINTED)
def test_table1_prints_each_row_as_in_the_paper(table1, block, level, printed):
    row = table1[(table1["block"] == block) & (table1["Level"] == level)]
    assert row["N=34 n (%)"].tolist() == [printed]


def test_table1_summaries_give_the_medians_and_ranges_of_section_3_1(table1):
    medians = table1[table1["Level"] == "Median (range)"].set_index("block")["N=34 n (%)"]
    assert medians["Age (years)"] == "45 (range 20-75)"
    assert medians["Previous treatment lines"] == "2 (range 1-5)"
    assert medians["Bone marrow blasts before debulking"] == "69 (range 6-90)"


def test_table1_prints_each_characteristic_name_once(table1):
    names = [c for c in table1["Characteristic"] if c]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("category, regimen_count, total", [
    ("steroids", {"dexamethasone": 5, "prednisone": 2}, "7/34 (20.6%)"),
    ("low_intensity_chemo", None, "18/34 (52.9%)"),
    ("polychemotherapy", None, "5/34 (14.7%)"),
    ("tki", None, "4/34 (11.8%)"),
])
def test_table2_gives_the_papers_category_totals_and_regimen_counts(cohort, category, regimen_count, total):
    table = tables.table2(cohort)
    part = table[table["category"] == category]
    assert part["Total, n/N (%)"].iloc[0] == total
    assert part["N"].sum() == int(total.split("/")[0])
    if regimen_count:
        counts = dict(zip(part["Regimen"].str.lower(), part["N"]))
        assert counts == regimen_count


def test_table2_lists_the_twenty_one_regimens_of_the_paper(cohort):
    # Table 2 names 2 + 8 + 5 + 4 regimens.
    assert len(tables.table2(cohort)) == 19


def test_a_missing_value_is_its_own_level_and_is_never_dropped():
    frame = loading.add_groupings(pd.DataFrame({
        "age_years": pd.array([30, 60, 70], dtype="Int64"),
        "bmb_baseline_pct": [10.0, float("nan"), 80.0],
        "bmb_post_debulking_pct": [float("nan")] * 3,
        "prior_lines": pd.array([1, 2, 3], dtype="Int64"),
        "response": pd.Categorical(["cr", "none", "cri"], categories=["cr", "crp", "cri", "none"]),
        "mrd_status": pd.Categorical([None, None, "negative"], categories=["negative", "positive"]),
        "crs": pd.array([True, None, False], dtype="boolean"),
    }))
    counts = tables.count_rows(frame, ["bmb_baseline_group"]).set_index("level")
    assert counts.loc["Not available", "numerator"] == 1
    assert counts["denominator"].eq(3).all()
    assert counts["numerator"].sum() == 3


def test_saved_tables_are_byte_identical_when_saved_twice(tmp_path):
    table = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    first = [p.read_bytes() for p in tables.save_table(table, "t", tmp_path / "one")]
    second = [p.read_bytes() for p in tables.save_table(table, "t", tmp_path / "two")]
    assert first == second
    assert pd.read_excel(tmp_path / "one" / "tables" / "t.xlsx").equals(table)
