"""``data/published_figures.csv`` is well formed and ``load_published_figures`` checks it.

Reference for the numbers: the paper's Table 1 and Table 2 (Bonifacio et al.
2022), whose blocks must add up to the 34 patients and to the category totals.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

from helpers.contract import DERIVED_LABELS, NAMES
from helpers.published import EXTERNAL_TYPES, FIGURE_COLUMNS, KINDS, figure, load_published_figures
from helpers.rounding import sum_parts

ROOT = Path(__file__).resolve().parents[1]
FIGURES = load_published_figures()
COHORT = pd.read_csv(ROOT / "data" / "reconstructed_cohort.csv")

# filters the notebooks add besides the contract's columns and derived groupings
KEY_VARIABLES = (
    set(NAMES) | set(DERIVED_LABELS) | {"crs_recorded", "mrd_negative", "bmb_baseline_available"}
)
TESTS = ("fisher", "chi2", "chi2_yates", "barnard", "boschloo")
_FILTER = r"(all|[a-z_0-9]+=[^\]&]+(&[a-z_0-9]+=[^\]&]+)*)"
RATE_KEY = re.compile(
    r"^(?P<measure>[a-z_0-9]+(=[a-z_0-9]+)?|[a-z_0-9]+\.(median|min|max|available|missing|distinct))\["
    + _FILTER
    + r"\]$"
)
TEST_KEY = re.compile(
    r"^(?P<measure>[a-z_0-9]+)\[(?P<by>[a-z_0-9]+)(\|"
    + _FILTER[1:-1]
    + r")?\]~(?P<test>[a-z_0-9]+)$"
)


def test_figures_file_has_the_expected_columns_and_over_100_rows():
    assert tuple(FIGURES.columns) == FIGURE_COLUMNS
    assert len(FIGURES) > 100
    assert FIGURES["id"].is_unique
    assert set(FIGURES["kind"]) <= set(KINDS)
    assert FIGURES["id"].str.fullmatch(r"[a-z0-9_]+").all()


def test_every_count_and_proportion_has_a_numerator_within_its_denominator():
    counted = FIGURES[FIGURES["kind"].isin(("count", "proportion"))]
    assert counted["numerator"].notna().all()
    props = FIGURES[FIGURES["kind"] == "proportion"]
    assert props["denominator"].notna().all()
    assert (props["numerator"] <= props["denominator"]).all()


def test_external_figures_have_no_cohort_query_or_key():
    ext = FIGURES[FIGURES["kind"] == "external"]
    assert (ext[["population", "condition", "result_key"]] == "").all().all()
    assert ext["value"].notna().all()


def test_p_values_are_probabilities_with_a_test_key():
    p = FIGURES[FIGURES["kind"] == "p_value"]
    assert len(p) == 3
    assert p["value"].between(0, 1).all()
    assert p["result_key"].str.endswith("~fisher").all()


@pytest.mark.parametrize(
    "fig_id", FIGURES.loc[(FIGURES["population"] != "") | (FIGURES["condition"] != ""), "id"]
)
def test_every_query_parses_against_the_contract_columns(fig_id):
    fig = figure(FIGURES, fig_id)
    for query in (fig["population"], fig["condition"]):
        if query:
            COHORT.query(query)  # raises on unknown columns or syntax
            names = set(re.findall(r"\b([a-z_]+)\b(?=\s*(?:[<>=!]=?|in\b))", query))
            assert names <= set(NAMES), names - set(NAMES)


def test_summary_rows_name_their_column_in_the_key():
    summary = FIGURES[FIGURES["kind"].isin(("median", "min", "max"))]
    assert len(summary) == 15
    for _, fig in summary.iterrows():
        column, rest = fig["result_key"].split(".", 1)
        assert column in NAMES and rest.startswith(fig["kind"] + "[")
        assert fig["condition"] == ""


@pytest.mark.parametrize(
    "key", sorted({k for key in FIGURES["result_key"] for k in sum_parts(key)})
)
def test_result_keys_follow_the_results_grammar(key):
    rate, test = RATE_KEY.match(key), TEST_KEY.match(key)
    assert rate or test, key
    if test:
        assert test["test"] in TESTS and test["by"] in KEY_VARIABLES
    inside = key[key.index("[") + 1 : key.index("]")]
    filters = inside.split("|", 1)[-1] if test else inside
    if filters != "all" and "=" in filters:
        for part in filters.split("&"):
            assert part.split("=", 1)[0] in KEY_VARIABLES, part


def _block_total(prefix: str) -> dict[str, int]:
    t1 = FIGURES[FIGURES["id"].str.startswith(prefix)]
    return t1.groupby(t1["id"].str.split("_").str[1])["numerator"].sum().to_dict()


def test_each_table_1_block_adds_up_to_34_patients():
    totals = _block_total("t1_")
    assert set(totals) == {"sex", "age", "status", "lines", "hsct", "bmb", "ph"}
    assert set(totals.values()) == {34}


def test_table_2_regimens_add_up_to_their_category_and_categories_to_34():
    regs = FIGURES[FIGURES["id"].str.startswith("t2_reg_")]
    cats = FIGURES[FIGURES["id"].str.startswith("t2_cat_")]
    assert cats["numerator"].sum() == 34
    by_category = {}
    for _, reg in regs.iterrows():
        # regimen rows sit under their category row in table order
        cat_after = cats[cats.index > reg.name].iloc[0]["id"]
        by_category[cat_after] = by_category.get(cat_after, 0) + reg["numerator"]
    assert by_category == dict(zip(cats["id"], cats["numerator"]))


def test_derived_group_counts_add_up_to_the_overall_figures():
    # Hand check of the paper's implied counts: subgroups sum to 23 CR, 21 evaluable, 17 negative.
    num = FIGURES.set_index("id")["numerator"]
    den = FIGURES.set_index("id")["denominator"]
    for groups in (
        ["s332_cr_" + k for k in ("steroids", "low_intensity_chemo", "polychemotherapy", "tki")],
        ["s333_cr_bmb_baseline_" + k for k in ("lt50", "ge50", "missing")],
        ["s333_cr_post_" + k for k in ("lt20", "20_49", "ge50", "missing")],
        ["s334_cr_age_lt50", "s334_cr_age_ge50"],
        ["s335_cr_lines_le2", "s335_cr_lines_gt2"],
    ):
        assert num[groups].sum() == num["s331_cr_any"] == 23
        assert den[groups].sum() == 34
    for groups in (
        ["s332_mrd_" + k for k in ("steroids", "low_intensity_chemo", "polychemotherapy", "tki")],
        ["s333_mrd_bmb_baseline_" + k for k in ("lt50", "ge50", "missing")],
        ["s333_mrd_post_" + k for k in ("lt20", "20_49", "missing")],
        ["s334_mrd_age_lt50", "s334_mrd_age_ge50"],
        ["s335_mrd_lines_le2", "s335_mrd_lines_gt2"],
    ):
        assert num[groups].sum() == num["s331_mrd_overall"] == 17
        assert den[groups].sum() == den["s331_mrd_overall"] == 21


def test_non_crs_percentages_imply_28_patients_not_29():
    nocrs = FIGURES[FIGURES["id"].str.startswith("s331_nocrs_")]
    assert nocrs["numerator"].sum() == 28 and set(nocrs["denominator"]) == {28}
    assert figure(FIGURES, "s331_crs_recorded")["numerator"] == 28 + 5


@pytest.mark.parametrize(
    "mutation, message",
    [
        (lambda f: pd.concat([f, f.iloc[[0]]]), "repeated ids"),
        (lambda f: f.assign(kind=f["kind"].where(f.index != 0, "ratio")), "unknown kind"),
        (
            lambda f: f.assign(numerator=f["numerator"].where(f["id"] != "abs_cr_overall", "99")),
            "numerator > denominator",
        ),
        (lambda f: f.drop(columns=["population"]), "missing columns"),
        (
            lambda f: f.assign(derived=f["derived"].where(f.index != 0, "maybe")),
            "derived must be yes/no",
        ),
        (
            lambda f: f.assign(
                comparator_id=f["comparator_id"].where(
                    f["id"] != "abs_cr_overall", "tower_blina_cr_full"
                )
            ),
            "comparator_id on a non-external figure",
        ),
        (
            lambda f: f.assign(
                external_type=f["external_type"].where(f["id"] != "intro_tower_n", "rumour")
            ),
            "unknown external_type",
        ),
        (
            lambda f: f.assign(
                external_type=f["external_type"].where(f["id"] != "abs_cr_overall", "literature")
            ),
            "external_type on a non-external figure",
        ),
    ],
)
def test_loader_rejects_malformed_figure_files(tmp_path, mutation, message):
    raw = pd.read_csv(ROOT / "data" / "published_figures.csv", dtype=str, keep_default_na=False)
    bad = tmp_path / "bad.csv"
    mutation(raw).to_csv(bad, index=False)
    with pytest.raises(ValueError, match=message):
        load_published_figures(bad)


def test_loader_types_numbers_and_keeps_blanks_as_empty_text():
    fig = figure(FIGURES, "abs_cr_overall")
    assert (fig["numerator"], fig["denominator"], fig["value"]) == (23, 34, 67.6)
    assert pd.isna(figure(FIGURES, "s31_age_median")["numerator"])
    assert figure(FIGURES, "abs_n_patients")["population"] == ""
    with pytest.raises(KeyError, match="no_such_figure"):
        figure(FIGURES, "no_such_figure")


def test_comparator_links_name_existing_comparator_rows_whose_rate_prints_as_the_paper_quotes_it():
    # Hand check of each link (comparator file counts or printed rate, paper's printed %):
    # 91/271 = 33.6 -> 34; 119/271 = 43.9 -> 44; 16/45 = 35.56 -> 35.6 and 36; 14/16 = 87.5;
    # rate-only rows quoted as printed (16, 25, 76, 45, 33).
    comparators = pd.read_csv(
        ROOT / "data" / "historic_comparators.csv", dtype=str, keep_default_na=False
    ).set_index("id")
    linked = FIGURES[FIGURES["comparator_id"] != ""]
    assert (linked["kind"] == "external").all()
    assert set(linked["comparator_id"]) <= set(comparators.index)
    expected = {
        "intro_tower_chr_blina": "34",
        "intro_tower_chr_chemo": "16",
        "intro_tower_orr_blina": "44",
        "intro_tower_orr_chemo": "25",
        "intro_tower_mrd_blina": "76",
        "intro_alcantara_cr": "35.6",
        "intro_alcantara_mrd": "87.5",
        "disc_historic_cr_low": "36",
        "disc_historic_cr_high": "45",
        "disc_meta_cr_high_burden": "33",
    }
    assert dict(zip(linked["id"], linked["printed"].str.rstrip("%"))) == expected
    for fid, cid in zip(linked["id"], linked["comparator_id"]):
        row = comparators.loc[cid]
        shown = Decimal(expected[fid])
        if row["numerator"]:
            exact = Decimal(100) * int(row["numerator"]) / int(row["denominator"])
            assert (
                exact.quantize(Decimal(1).scaleb(shown.as_tuple().exponent), ROUND_HALF_UP) == shown
            ), fid
        else:
            assert Decimal(row["percent"]) == shown, fid


def test_every_cohort_figure_has_a_result_key_so_only_external_figures_go_unrecomputed():
    cohort_figures = FIGURES[FIGURES["kind"] != "external"]
    assert list(cohort_figures.loc[cohort_figures["result_key"] == "", "id"]) == []


def test_every_external_figure_says_what_kind_of_figure_it_is():
    ext = FIGURES["kind"] == "external"
    assert set(FIGURES.loc[ext, "external_type"]) <= set(EXTERNAL_TYPES)
    assert (FIGURES.loc[~ext, "external_type"] == "").all()
    # the paper's section 2.1 dosing schedule: 9 and 28 mcg/day, 4 weeks on, 2 weeks off
    types = FIGURES.set_index("id")["external_type"]
    assert {
        types[f]
        for f in (
            "s21_blina_dose_first_week_mcg_day",
            "s21_blina_dose_after_mcg_day",
            "s21_cycle_infusion_weeks",
            "s21_cycle_washout_weeks",
        )
    } == {"protocol"}
    intro = FIGURES[ext & (FIGURES["location"] == "Introduction")]
    assert len(intro) and (intro["external_type"] == "literature").all()


# Hand-derived from the paper: Abstract n=23 = Table 2's 18 low-intensity + 5 polychemotherapy;
# section 3.2's "2 in combination with chemotherapy" = Table 2's vincristine + ponatinib +
# prednisone (1) and steroids + FLA-Ida + ponatinib (1).
SUM_FIGURES = {"abs_debulk_chemo": [18, 5], "s32_tki_with_chemo": [1, 1]}


@pytest.mark.parametrize("fig_id, counts", SUM_FIGURES.items())
def test_a_sum_key_adds_up_the_papers_own_counts_of_its_parts(fig_id, counts):
    fig = figure(FIGURES, fig_id)
    parts = sum_parts(fig["result_key"])
    printed_parts = [
        int(FIGURES.loc[FIGURES["result_key"] == k, "numerator"].iloc[0]) for k in parts
    ]
    assert printed_parts == counts and sum(counts) == fig["numerator"]


def test_crs_grade_1_2_is_the_sum_of_grades_1_and_2_among_crs():
    # Section 3.3.1: 5 CRS, "only one patient experienced a grade 3 CRS": 5 - 1 = 4 of 5 are grade 1-2
    fig = figure(FIGURES, "s331_crs_grade_1_2")
    assert sum_parts(fig["result_key"]) == ("n[crs=True&crs_grade=1]", "n[crs=True&crs_grade=2]")
    assert (fig["numerator"], fig["denominator"]) == (5 - 1, 5)


def test_centre_count_is_keyed_to_distinct_centre_codes():
    # Section 2.1: "shared among 7 Italian centers"
    fig = figure(FIGURES, "abs_n_centres")
    assert (fig["result_key"], fig["numerator"]) == ("center.distinct[all]", 7)


def test_loader_reads_a_file_without_the_optional_external_type_as_blank(tmp_path):
    raw = pd.read_csv(ROOT / "data" / "published_figures.csv", dtype=str, keep_default_na=False)
    old = tmp_path / "old.csv"
    raw.drop(columns=["external_type", "parameter"]).to_csv(old, index=False)
    frame = load_published_figures(old)
    assert tuple(frame.columns) == FIGURE_COLUMNS and (frame["external_type"] == "").all()
    assert (frame["parameter"] == "").all()
