"""Table builders, checked against the paper's printed Tables 1 and 2.

The expected strings are typed from the paper (Bonifacio et al. 2022, Tables 1-2),
not produced by the code under test.
"""

import statistics
from pathlib import Path

import pandas as pd
import pytest

from helpers import contract, derived, loading, parameters, tables

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"


@pytest.fixture(scope="module")
def cohort() -> pd.DataFrame:
    return loading.load_cohort(COHORT)


# (characteristic block, level label, value printed in the paper's Table 1)
TABLE1_PRINTED = [
    ("Sex", "Male", "21 (61.8%)"),
    ("Sex", "Female", "13 (38.2%)"),
    ("Age (years)", "<50", "19 (55.9%)"),
    ("Age (years)", "≥50", "15 (44.1%)"),
    ("Disease status", "Relapsed", "24 (70.6%)"),
    ("Disease status", "Refractory", "10 (29.4%)"),
    ("Previous treatment lines", "1", "7 (20.6%)"),
    ("Previous treatment lines", "2", "13 (38.2%)"),
    ("Previous treatment lines", "≥3", "14 (41.2%)"),
    ("Prior HSCT", "Yes", "17 (50.0%)"),
    ("Prior HSCT", "No", "17 (50.0%)"),
    ("Bone marrow blasts before debulking", "<20", "7 (20.6%)"),
    (
        "Bone marrow blasts before debulking",
        "20-49",
        "6 (17.6%)",
    ),  # paper prints 17.7 (6/34 = 17.65)
    ("Bone marrow blasts before debulking", "≥50", "20 (58.8%)"),
    ("Bone marrow blasts before debulking", "Not available", "1 (2.9%)"),
    ("Ph status", "Positive", "13 (38.2%)"),
    ("Ph status", "Negative", "21 (61.8%)"),
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


def test_table1_shows_not_available_only_where_a_value_is_missing_as_in_the_paper(table1):
    # The paper's Table 1 has no "Not available" rows; the one missing baseline blast
    # value (34 - 7 - 6 - 20 = 1) is the only one the table must show.
    missing = table1[table1["Level"] == "Not available"]
    assert missing["block"].tolist() == ["Bone marrow blasts before debulking"]


def test_display_counts_drop_only_an_empty_not_available_level():
    counts = pd.DataFrame(
        {"level": ["a", "Not available", "b", "Not available"], "numerator": [0, 0, 3, 2]}
    )
    shown = tables.without_empty_missing(counts)
    assert shown.to_dict("list") == {"level": ["a", "b", "Not available"], "numerator": [0, 3, 2]}
    assert len(counts) == 4


def test_table1_prints_each_characteristic_name_once(table1):
    names = [c for c in table1["Characteristic"] if c]
    assert len(names) == len(set(names))


# The paper's Table 2, typed from the printed table: (category, regimen, N).
TABLE2_PRINTED = [
    ("steroids", "Dexamethasone", 5),
    ("steroids", "Prednisone", 2),
    ("low_intensity_chemo", "Vincristine + steroids", 6),
    ("low_intensity_chemo", "Vindesine + dexamethasone", 1),
    ("low_intensity_chemo", "6-MP + steroids", 2),
    ("low_intensity_chemo", "Vincristine", 4),
    ("low_intensity_chemo", "HU", 1),
    ("low_intensity_chemo", "Vinblastine + prednisone + 6-MP + methotrexate", 1),
    ("low_intensity_chemo", "Vincristine + 6-MP", 2),
    ("low_intensity_chemo", "steroids + HU + 6-MP", 1),
    ("polychemotherapy", "Idarubicin + vincristine + PEG-asparaginase + dexamethasone", 1),
    ("polychemotherapy", "Hyper-CVAD regimen", 1),
    ("polychemotherapy", "Vincristine + daunoblastin + erwinase + methylprednisolone", 1),
    ("polychemotherapy", "Cyclophosphamide + vincristine", 1),
    ("polychemotherapy", "Steroids + cyclophosphamide + vincristine", 1),
    ("tki", "Ponatinib", 1),
    ("tki", "Ponatinib + dexamethasone", 1),
    ("tki", "Vincristine + ponatinib + prednisone", 1),
    ("tki", "Steroids + FLA-Ida + ponatinib", 1),
]
#: Where our display spelling knowingly differs from the paper's (printed -> shown):
#: the paper starts one row in lower case and adds "regimen" after Hyper-CVAD.
SPELLING_DIFFERENCES = {
    "steroids + HU + 6-MP": "Steroids + HU + 6-MP",
    "Hyper-CVAD regimen": "Hyper-CVAD",
}


@pytest.fixture(scope="module")
def table2(cohort) -> pd.DataFrame:
    return tables.table2(cohort)


@pytest.mark.parametrize(
    "category, total",
    [
        ("steroids", "7/34 (20.6%)"),  # section 3.2: 20.6%
        ("low_intensity_chemo", "18/34 (52.9%)"),  # section 3.2: 52.9% (18/34)
        ("polychemotherapy", "5/34 (14.7%)"),
        ("tki", "4/34 (11.8%)"),
    ],
)
def test_table2_gives_the_papers_category_totals_with_their_percentages(table2, category, total):
    part = table2[table2["category"] == category]
    assert part["Total, n/N (%)"].tolist()[0] == total
    assert set(part["Total, n/N (%)"].tolist()[1:]) <= {""}
    assert part["N"].sum() == int(total.split("/")[0])


@pytest.mark.parametrize("category, printed, n", TABLE2_PRINTED, ids=[r[1] for r in TABLE2_PRINTED])
def test_table2_gives_each_regimen_of_the_paper_with_its_count(table2, category, printed, n):
    shown = SPELLING_DIFFERENCES.get(printed, printed)
    row = table2[table2["Regimen"] == shown]
    assert row["category"].tolist() == [category]
    assert row["N"].tolist() == [n]


def test_table2_lists_the_nineteen_regimens_of_the_paper(table2):
    # Table 2 names 2 + 8 + 5 + 4 = 19 regimens.
    assert len(table2) == 19
    assert table2.groupby("category", sort=False).size().to_dict() == {
        "steroids": 2,
        "low_intensity_chemo": 8,
        "polychemotherapy": 5,
        "tki": 4,
    }


def test_table2_lists_the_most_frequent_regimen_of_each_category_first(table2):
    firsts = table2[table2["Debulking therapy"] != ""]
    assert firsts["Regimen"].tolist() == [
        "Dexamethasone",
        "Vincristine + steroids",
        "Cyclophosphamide + vincristine",
        "Ponatinib",
    ]


@pytest.mark.parametrize(
    "recorded, shown",
    [
        ("hu", "HU"),
        ("steroids + hu + 6-mp", "Steroids + HU + 6-MP"),
        ("hyper-cvad", "Hyper-CVAD"),
        ("steroids + fla-ida + ponatinib", "Steroids + FLA-Ida + ponatinib"),
        (
            "idarubicin + vincristine + peg-asparaginase + dexamethasone",
            "Idarubicin + vincristine + PEG-asparaginase + dexamethasone",
        ),
        ("Vincristine, steroids", "Vincristine, steroids"),  # recorded text otherwise kept
        ("HU + 6-MP", "HU + 6-MP"),  # already in capitals
        ("thuja", "Thuja"),  # "hu" inside a word is not an abbreviation
    ],
)
def test_regimens_are_displayed_with_the_papers_capitals(recorded, shown):
    assert tables.regimen_display(recorded) == shown


def test_table2_keeps_the_recorded_regimen_text_for_lookups(cohort, table2):
    assert set(table2["regimen"]) == set(cohort["debulking_regimen"])
    assert "hu" in set(cohort["debulking_regimen"])


# --- the notebook-02 builders on the shipped cohort, against section 3.2 --------------


def test_polychemotherapy_started_blinatumomab_a_median_of_21_days_after_debulking(cohort):
    # Section 3.2: "median time ... was 21 days (range 20-48)" for polychemotherapy.
    days = tables.summary_rows(cohort, ["debulking_to_blina_days"], by="debulking_category")
    poly = days[days["level"] == "Polychemotherapy"].iloc[0]
    assert (poly["median"], poly["minimum"], poly["maximum"]) == (21, 20, 48)
    assert poly["summary"] == "21 (range 20-48)"
    assert poly["n"] == 5


def test_blasts_after_debulking_were_available_for_22_of_34(cohort):
    # Section 3.2: "available for 22 of 34 patients".
    available = tables.availability(cohort, "bmb_post_debulking_pct").set_index("key")
    assert available.loc[
        "bmb_post_debulking_pct.available[all]", ["numerator", "denominator"]
    ].tolist() == [22, 34]
    assert available.loc["bmb_post_debulking_pct.missing[all]", "numerator"] == 12


def test_blasts_after_debulking_split_18_2_2_of_22_as_in_section_3_2(cohort):
    # "18/22 patients (81.8%) had less than 20% BMB, 2 (9.1%) had 20-49% BMB, and 2 (9.1%) >= 50%".
    assessed = cohort[cohort["bmb_post_group"] != "missing"]
    counts = tables.without_empty_missing(
        tables.count_rows(assessed, ["bmb_post_group"])
    ).set_index("level")
    assert counts["numerator"].to_dict() == {"<20": 18, "20-49": 2, "≥50": 2}
    assert counts["denominator"].eq(22).all()
    assert counts["estimate"].round(3).to_dict() == {"<20": 0.818, "20-49": 0.091, "≥50": 0.091}


def test_median_blasts_after_debulking_was_8_percent_range_0_to_80(cohort):
    summary = tables.summary_rows(cohort, ["bmb_post_debulking_pct"]).iloc[0]
    assert (summary["median"], summary["minimum"], summary["maximum"]) == (8, 0, 80)
    assert (summary["n"], summary["n_missing"]) == (22, 12)


def test_fourteen_of_twenty_high_burden_patients_got_low_intensity_chemotherapy(cohort):
    # Section 3.2: "mostly received low intensity chemotherapy ... (14/20; 70%)".
    mix = tables.count_rows(cohort, ["debulking_category"], where={"high_burden": True})
    row = mix[mix["key"] == "n[high_burden=True&debulking_category=low_intensity_chemo]"].iloc[0]
    assert (row["numerator"], row["denominator"]) == (14, 20)
    assert row["estimate"] == pytest.approx(0.70)
    assert mix["numerator"].sum() == 20


def test_four_of_the_13_ph_positive_patients_were_debulked_with_a_tki(cohort):
    mix = tables.count_rows(cohort, ["debulking_category"], where={"ph_status": "positive"})
    row = mix[mix["key"] == "n[ph_status=positive&debulking_category=tki]"].iloc[0]
    assert (row["numerator"], row["denominator"]) == (4, 13)


def test_a_missing_value_is_its_own_level_and_is_never_dropped():
    frame = derived.add_derived(
        pd.DataFrame(
            {
                "age_years": pd.array([30, 60, 70], dtype="Int64"),
                "bmb_baseline_pct": [10.0, float("nan"), 80.0],
                "bmb_post_debulking_pct": [float("nan")] * 3,
                "prior_lines": pd.array([1, 2, 3], dtype="Int64"),
                "response": pd.Categorical(
                    ["cr", "none", "cri"], categories=["cr", "crp", "cri", "none"]
                ),
                "mrd_status": pd.Categorical(
                    [None, None, "negative"], categories=["negative", "positive"]
                ),
                "crs": pd.array([True, None, False], dtype="boolean"),
            }
        ),
        **{name: parameters.default(name) for name in derived.CUTOFFS},
    )
    counts = tables.count_rows(frame, ["bmb_baseline_group"]).set_index("level")
    assert counts.loc["Not available", "numerator"] == 1
    assert counts["denominator"].eq(3).all()
    assert counts["numerator"].sum() == 3


def test_saved_tables_are_byte_identical_when_saved_twice(tmp_path):
    table = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    first = [p.read_bytes() for p in tables.save_table(table, "t", tmp_path / "one")]
    second = [p.read_bytes() for p in tables.save_table(table, "t", tmp_path / "two")]
    assert first == second
    assert pd.read_excel(tmp_path / "one" / "tables" / "t.xlsx", header=1).equals(
        table
    )  # row 1: title


def test_saved_and_shown_counts_leave_out_an_empty_not_available_level(cohort, tmp_path, capsys):
    # Section 3.2: 14 of the 20 high-burden patients got low-intensity chemotherapy;
    # every patient has a debulking category, so the missing level is empty.
    mix = tables.count_rows(cohort, ["debulking_category"], where={"high_burden": True})
    before = mix.copy()
    tables.save_and_show_counts(mix, "mix", tmp_path, "Debulking of the high-burden patients")
    in_words = {"Level": "level", "n": "numerator"}  # the XLSX heads its columns in words
    for saved in (
        pd.read_csv(tmp_path / "tables" / "mix.csv"),
        pd.read_excel(tmp_path / "tables" / "mix.xlsx", header=1).rename(columns=in_words),
    ):
        assert "Not available" not in set(saved["level"])
        assert "variable" not in saved.columns
        assert saved["numerator"].sum() == 20
        assert (
            saved.set_index("level").loc["Low-intensity chemotherapy ± steroids", "numerator"] == 14
        )
    shown = capsys.readouterr().out
    assert "Not available" not in shown
    assert "14/20 (70.0%)" in shown and "45.7–88.1%" in shown  # exact CI, R: binom.test(14, 20)
    pd.testing.assert_frame_equal(mix, before)


def test_availability_counts_patients_with_and_without_a_code_among_all_patients(make_cohort):
    # hand count: codes A, B, A, (none), B -> 4 patients with a code, 1 without, of 5
    cohort = make_cohort([{"center": c} for c in ("A", "B", "A", "", "B")])
    before = cohort.copy()
    rows = tables.availability(cohort, "center").set_index("key")
    assert rows.loc["center.available[all]", ["numerator", "denominator"]].tolist() == [4, 5]
    assert rows.loc["center.missing[all]", ["numerator", "denominator"]].tolist() == [1, 5]
    pd.testing.assert_frame_equal(cohort, before)


def test_show_table_shows_at_most_max_rows_and_says_how_many_were_left_out(capsys):
    table = pd.DataFrame({"patient": [f"P{i}" for i in range(25)], "blasts": range(25)})
    tables.show_table(table, max_rows=20)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 20 + 1  # header, 20 rows, the note
    assert lines[20].split() == ["P19", "19"]
    assert lines[-1] == "First 20 of 25 rows shown."
    tables.show_table(table.head(20), max_rows=20)
    assert len(capsys.readouterr().out.splitlines()) == 21


def test_summary_rows_leave_out_and_count_missing_values():
    cohort = pd.DataFrame({"age_years": [20, 45, float("nan"), 75, None, 50]})
    row = tables.summary_rows(cohort, ["age_years"]).iloc[0]
    present = [20, 45, 75, 50]
    assert (row["n"], row["n_missing"]) == (4, 2)
    assert (row["median"], row["minimum"], row["maximum"]) == (statistics.median(present), 20, 75)
    assert row["summary"] == "47.5 (range 20-75)"


def test_summary_rows_say_not_recorded_when_no_value_is_present():
    row = tables.summary_rows(pd.DataFrame({"age_years": [None, None]}), ["age_years"]).iloc[0]
    assert (row["n"], row["n_missing"], row["summary"]) == (0, 2, "not recorded")


def test_table1_counts_equal_those_of_tableone_on_the_shipped_cohort(cohort):
    # tableone (an independent Table 1 library) counts each level, and missing values as "None".
    from tableone import TableOne

    variables = list(tables.TABLE1_VARIABLES)
    raw = cohort[variables].astype(object)
    raw = raw.where(raw.notna() & (raw != "missing")).astype(str).replace("nan", None)
    reference = TableOne(raw, columns=variables, categorical=variables, pval=False)
    ref = reference.cat_table
    counts = tables.count_rows(cohort)
    for var in variables:
        mine = {
            key.split("=", 1)[1][:-1]: n
            for key, n in zip(counts["key"], counts["numerator"])
            if key.startswith(f"n[{var}=")
        }
        theirs = {
            ("missing" if str(level) == "None" else str(level)): int(text.split(" ")[0])
            for (name, level), text in ref["Overall"].items()
            if name == var
        }
        assert {k: v for k, v in mine.items() if v} == theirs, var


def test_table1_by_centre_counts_equal_those_of_tableone_grouped_by_centre(cohort):
    # tableone's groupby gives one column per centre, as tables.table1_by does (codes there, labels here).
    import warnings

    from tableone import TableOne

    variables = list(tables.TABLE1_VARIABLES)
    raw = cohort[[*variables, "center"]].astype(object)
    raw = raw.where(raw.notna() & (raw != "missing")).astype(str).replace("nan", None)
    with warnings.catch_warnings():  # tableone's own pandas deprecation, not ours
        warnings.simplefilter("ignore")
        ref = TableOne(
            raw, columns=variables, categorical=variables, groupby="center", pval=False
        ).cat_table
    mine = tables.table1_by(cohort, "center", missing_label="Centre not recorded")
    mine["Characteristic"] = mine["Characteristic"].replace("", pd.NA).ffill()
    mine = mine[mine["Level"] != "Median (range)"]
    headers = {c.split(" (N=")[0]: c for c in mine.columns[2:]}
    assert set(headers) == {"All patients", *cohort["center"].dropna().unique()}
    for (var, level), row in ref.iterrows():
        label = tables.NOT_AVAILABLE if str(level) == "None" else tables.level_label(var, level)
        got = mine[(mine["Characteristic"] == contract.label(var)) & (mine["Level"] == label)]
        assert len(got) == 1, (var, level)
        for centre, header in headers.items():
            theirs = row["Overall" if centre == "All patients" else centre]
            assert got[header].iloc[0].split(" ")[0] == theirs.split(" ")[0], (var, level, centre)


@pytest.mark.parametrize(
    "column, levels, ordered",
    [
        ("ph_status", ["negative", None, "positive"], ["positive", "negative", None]),
        ("disease_status", ["refractory", "relapsed"], ["relapsed", "refractory"]),
        ("prior_hsct", [False, True], [True, False]),
        ("center", ["B", "A", "missing"], ["A", "B", "missing"]),
    ],
)
def test_levels_are_listed_in_the_contracts_order_not_by_count(column, levels, ordered):
    assert tables.natural_order(column, levels) == ordered
