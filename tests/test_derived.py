"""The derived variables: hand-worked values at the cut-offs, and the table kept in step with the doc.

Expected values for tests/fixtures/valid_small.csv were worked out by hand from
the file and the rules in docs/data-contract.md ("Derived variables").
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import derived, parameters
from helpers.derived import add_derived, group_labels
from helpers.loading import load_cohort, normalise_cohort
from helpers.reading import read_raw

#: The project's cut-offs (helpers.parameters.SETTINGS).
DEFAULTS = {name: parameters.default(name) for name in derived.CUTOFFS}

ROOT = Path(__file__).resolve().parents[1]
VALID = ROOT / "tests" / "fixtures" / "valid_small.csv"
SHIPPED = ROOT / "data" / "reconstructed_cohort.csv"
DOCUMENT = ROOT / "docs" / "data-contract.md"


# Hand-derived from valid_small.csv (P01..P08):
# age 34 49 50 67 18 100 28 55; baseline blasts 85 19.9 20 NA 50 49 100 0;
# post blasts 60 5 12.5 NA 30 45 0 0; prior lines 1 2 3 4 1 2 15 2;
# response cr crp none cri none cr none cr; mrd neg pos - - - neg - pos;
# crs yes no - yes no - yes no.
DEFAULT_GROUPS = {
    "age_group": ["<50", "<50", ">=50", ">=50", "<50", ">=50", "<50", ">=50"],
    "bmb_baseline_group": [">=50", "<20", "20-49", "missing", ">=50", "20-49", ">=50", "<20"],
    "high_burden": [True, False, False, pd.NA, True, False, True, False],
    "bmb_post_group": [">=50", "<20", "<20", "missing", "20-49", "20-49", "<20", "<20"],
    "lines_group": ["<=2", "<=2", ">2", ">2", "<=2", "<=2", ">2", "<=2"],
    "lines_1_2_3plus": ["1", "2", ">=3", ">=3", "1", "2", ">=3", "2"],
    "any_cr": [True, True, False, True, False, True, False, True],
    "mrd_evaluable": [True, True, False, False, False, True, False, True],
    "mrd_negative": [True, False, pd.NA, pd.NA, pd.NA, True, pd.NA, False],
    "crs_recorded": [True, True, False, True, True, False, True, True],
}


@pytest.mark.parametrize("name", DEFAULT_GROUPS)
def test_default_groupings_match_hand_derived_values_at_the_boundaries(name):
    cohort = load_cohort(VALID)
    assert [pd.NA if pd.isna(v) else v for v in cohort[name]] == DEFAULT_GROUPS[name]


def test_grouping_dtypes_and_category_orders():
    cohort = load_cohort(VALID)
    assert list(cohort["bmb_baseline_group"].cat.categories) == ["<20", "20-49", ">=50", "missing"]
    assert list(cohort["bmb_post_group"].cat.categories) == ["<20", "20-49", ">=50", "missing"]
    assert list(cohort["age_group"].cat.categories) == ["<50", ">=50"]
    assert list(cohort["lines_1_2_3plus"].cat.categories) == ["1", "2", ">=3"]
    assert cohort["high_burden"].dtype == "boolean" and cohort["mrd_negative"].dtype == "boolean"
    assert cohort["any_cr"].dtype == bool and cohort["crs_recorded"].dtype == bool


def test_other_cutoffs_move_groups_and_labels():
    cohort = load_cohort(
        VALID, age_cutoff=40, bmb_high_cutoff=60, bmb_low_cutoff=25, lines_cutoff=3
    )
    # blasts 85 19.9 20 NA 50 49 100 0 against 25/60; ages against 40; lines against 3.
    assert cohort["bmb_baseline_group"].tolist() == [
        ">=60",
        "<25",
        "<25",
        "missing",
        "25-59",
        "25-59",
        ">=60",
        "<25",
    ]
    assert [pd.NA if pd.isna(v) else v for v in cohort["high_burden"]] == [
        True,
        False,
        False,
        pd.NA,
        False,
        False,
        True,
        False,
    ]
    assert cohort["age_group"].tolist() == [
        "<40",
        ">=40",
        ">=40",
        ">=40",
        "<40",
        ">=40",
        "<40",
        ">=40",
    ]
    assert cohort["lines_group"].tolist() == ["<=3", "<=3", "<=3", ">3", "<=3", "<=3", ">3", "<=3"]
    assert cohort["lines_1_2_3plus"].tolist() == DEFAULT_GROUPS["lines_1_2_3plus"]


def test_blast_boundaries_just_below_and_at_each_cutoff():
    cohort = normalise_cohort(read_raw(VALID).frame)
    cohort["bmb_baseline_pct"] = [19.999, 20.0, 49.999, 50.0, np.nan, 0.0, 100.0, 49.0]
    grouped = add_derived(cohort, **DEFAULTS)
    assert grouped["bmb_baseline_group"].tolist() == [
        "<20",
        "20-49",
        "20-49",
        ">=50",
        "missing",
        "<20",
        ">=50",
        "20-49",
    ]


@pytest.mark.parametrize(
    ("low", "high", "labels"),
    [
        (20, 50, ("<20", "20-49", ">=50")),
        (25, 60, ("<25", "25-59", ">=60")),
        (20.5, 50, ("<20.5", "20.5-<50", ">=50")),
    ],
)
def test_group_labels_follow_the_cutoffs(low, high, labels):
    assert group_labels(low, high) == labels


def test_group_labels_refuse_a_low_cutoff_not_below_the_high_one():
    with pytest.raises(ValueError):
        group_labels(50, 50)


def test_add_derived_and_normalise_do_not_mutate_their_inputs():
    raw = read_raw(VALID).frame
    raw_copy = raw.copy(deep=True)
    typed = normalise_cohort(raw)
    pd.testing.assert_frame_equal(raw, raw_copy)
    typed_copy = typed.copy(deep=True)
    grouped = add_derived(typed, **DEFAULTS)
    pd.testing.assert_frame_equal(typed, typed_copy)
    assert grouped is not typed and "age_group" not in typed.columns


def _document_rows() -> list[dict[str, str]]:
    """Rows of the document's 'Derived variables' table, in order."""
    text = DOCUMENT.read_text(encoding="utf-8").split("## Derived variables", 1)[1]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("name", "---"):
            rows.append(dict(zip(("name", "meaning", "cutoffs"), cells)))
    return rows


def test_the_document_lists_every_derived_variable_with_the_same_meaning_and_cutoffs():
    documented = [
        (
            r["name"],
            r["meaning"],
            () if r["cutoffs"] == "–" else tuple(re.split(r",\s*", r["cutoffs"])),
        )
        for r in _document_rows()
    ]
    assert documented == [(d.name, d.describe(**DEFAULTS), d.parameters) for d in derived.DERIVED]


@pytest.mark.parametrize(
    ("name", "cutoffs", "meaning"),
    [
        (
            "high_burden",
            {"bmb_high_cutoff": 60},
            "high tumour burden: marrow blasts of 60 % or more before debulking (not available without a value)",
        ),
        ("age_group", {"age_cutoff": 65}, "age under 65 years, or 65 years and older"),
        ("lines_group", {}, "2 or fewer previous treatment lines, or more"),
    ],
)
def test_a_meaning_reads_in_the_clinicians_words_with_the_cutoff_values_of_the_run(
    name, cutoffs, meaning
):
    assert derived.BY_NAME[name].describe(**{**DEFAULTS, **cutoffs}) == meaning


def test_no_derived_variable_is_computed_from_code_kept_in_a_string():
    source = Path(derived.__file__).read_text(encoding="utf-8")
    assert "eval(" not in source and all(callable(d.compute) for d in derived.DERIVED)


def test_every_derived_variable_is_a_column_of_the_loaded_cohort():
    cohort = load_cohort(VALID)
    assert [d.name for d in derived.DERIVED] == list(cohort.columns[-len(derived.DERIVED) :])


def test_the_displayed_table_names_the_cutoff_values_in_use():
    shown = derived.table(**{**DEFAULTS, "bmb_high_cutoff": 60}).set_index("name")
    assert shown.loc["high_burden", "cut-offs"] == "bmb_high_cutoff = 60"
    assert shown.loc["any_cr", "cut-offs"] == ""


def test_the_shipped_cohort_groups_agree_with_plain_pandas():
    cohort = load_cohort(SHIPPED)
    post = cohort["bmb_post_debulking_pct"]
    # independent reference: the paper's groups written out with pd.cut
    expected = (
        pd.cut(post, [-np.inf, 20, 50, np.inf], right=False, labels=["<20", "20-49", ">=50"])
        .astype(object)
        .fillna("missing")
    )
    assert cohort["bmb_post_group"].astype(object).tolist() == expected.tolist()
    high = np.where(post.isna(), "missing", np.where(post < 50, "<50", ">=50"))
    assert cohort["bmb_post_split_high"].astype(str).tolist() == high.tolist()
    low = np.where(post.isna(), "missing", np.where(post < 20, "<20", ">=20"))
    assert cohort["bmb_post_split_low"].astype(str).tolist() == low.tolist()
    status = cohort["crs"].map({True: "CRS", False: "No CRS"}).fillna("Not recorded")
    assert cohort["crs_status"].astype(str).tolist() == status.tolist()
    assert cohort["crs_missing_as_no"].tolist() == (cohort["crs"] == True).fillna(False).tolist()  # noqa: E712


def test_a_low_cutoff_not_below_the_high_one_is_refused_before_anything_is_computed():
    with pytest.raises(ValueError, match="must be below"):
        load_cohort(VALID, bmb_low_cutoff=50, bmb_high_cutoff=50)
