"""The shipped reconstructed cohort reproduces the paper's printed figures.

Everything here is computed straight from the CSV files with plain pandas
(``pd.read_csv`` and the ``population``/``condition`` queries stored in
``data/published_figures.csv``), so a bug in the project's loader or in the
reconstruction code cannot hide a mismatch. The reference values are the
paper's own printed numbers (Bonifacio et al. 2022, Front Oncol 11:804714).
"""

from __future__ import annotations

import argparse
import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest
import reference_exact

from helpers.contract import NAMES

ROOT = Path(__file__).resolve().parents[1]
COHORT_CSV = ROOT / "data" / "reconstructed_cohort.csv"
FIGURES_CSV = ROOT / "data" / "published_figures.csv"

COHORT = pd.read_csv(COHORT_CSV)
FIGURES = pd.read_csv(FIGURES_CSV, dtype=str, keep_default_na=False)
# Figures that are not a number of patients, checked by their own test.
NOT_PATIENT_COUNTS = {"abs_n_centres"}


def rows(kinds, where=lambda r: True):
    chosen = FIGURES[FIGURES["kind"].isin(kinds)]
    return [r for _, r in chosen.iterrows() if where(r)]


def select(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    return frame.query(query) if query else frame


COUNT_ROWS = rows(("count", "proportion"), lambda r: r["id"] not in NOT_PATIENT_COUNTS)
SUMMARY_ROWS = rows(("median", "min", "max"))
PERCENT_ROWS = rows(
    ("proportion",), lambda r: "%" in r["printed"] and r["value"] != "" and r["denominator"] != ""
)


@pytest.mark.parametrize("fig", COUNT_ROWS, ids=[r["id"] for r in COUNT_ROWS])
def test_cohort_reproduces_published_count(fig):
    population = select(COHORT, fig["population"])
    hits = select(population, fig["condition"])
    assert len(hits) == int(fig["numerator"]), fig["description"]
    if fig["denominator"]:
        assert len(population) == int(fig["denominator"]), fig["description"]


@pytest.mark.parametrize("fig", SUMMARY_ROWS, ids=[r["id"] for r in SUMMARY_ROWS])
def test_cohort_reproduces_published_median_and_range(fig):
    column = fig["result_key"].split(".")[0]
    values = select(COHORT, fig["population"])[column].dropna()
    computed = {"median": values.median(), "min": values.min(), "max": values.max()}[fig["kind"]]
    assert computed == float(fig["value"]), fig["description"]


def test_cohort_has_the_seven_published_centres():
    published = int(FIGURES.set_index("id").at["abs_n_centres", "numerator"])
    assert COHORT["center"].nunique() == published == 7


def _printed_percent(printed: str) -> Decimal:
    return Decimal(re.search(r"(\d+(?:\.\d+)?)%", printed).group(1))


@pytest.mark.parametrize("fig", PERCENT_ROWS, ids=[r["id"] for r in PERCENT_ROWS])
def test_printed_percent_matches_numerator_over_denominator_by_the_noted_rounding(fig):
    # Hand arithmetic in exact decimals: 100 * n / d, then the paper's rounding.
    printed = _printed_percent(fig["printed"])
    assert float(printed) == float(fig["value"])
    step = Decimal(1).scaleb(printed.as_tuple().exponent)
    exact = Decimal(100) * Decimal(int(fig["numerator"])) / Decimal(int(fig["denominator"]))
    rounded = exact.quantize(step, rounding=ROUND_HALF_UP)
    truncated = exact.quantize(step, rounding=ROUND_DOWN)
    double = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).quantize(
        step, rounding=ROUND_HALF_UP
    )
    note = fig["note"].lower()
    if "truncat" in note:
        assert truncated == printed != rounded
    elif "double rounding" in note:
        assert double == printed != rounded
    else:
        assert rounded == printed


@pytest.mark.parametrize(
    "fig_id, group_query",
    [
        ("s333_p_cr_bmb_baseline", "bmb_baseline_pct < 50"),
        ("s335_p_cr_lines", "prior_lines <= 2"),
    ],
)
def test_unconstrained_fisher_p_value_of_cohort_rounds_to_printed(fig_id, group_query):
    # p-values are not solver constraints, so this checks the paper's counts and test.
    fig = FIGURES.set_index("id").loc[fig_id]
    pop = select(COHORT, fig["population"])
    cr = pop.eval(fig["condition"])
    grp = pop.eval(group_query)
    a, b = int((grp & cr).sum()), int((grp & ~cr).sum())
    c, d = int((~grp & cr).sum()), int((~grp & ~cr).sum())
    p = reference_exact.fisher_p([[a, b], [c, d]])
    assert round(p, 2) == float(fig["value"])


def test_fisher_helper_matches_r_fisher_test_tea_tasting():
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value == 0.4857143 (R documentation example).
    assert reference_exact.fisher_p([[3, 1], [1, 3]]) == pytest.approx(0.4857143, abs=1e-7)


def test_cohort_file_follows_the_contract_layout():
    assert tuple(COHORT.columns) == NAMES
    assert COHORT["patient_id"].tolist() == [f"R{k:02d}" for k in range(1, 35)]
    text = COHORT_CSV.read_bytes()
    assert b"\r" not in text and text.endswith(b"\n")
    assert not re.search(rb"\d\.0(,|\n)", text), "whole numbers are written without .0"


def test_cohort_respects_cross_column_rules():
    in_cr = COHORT["response"] != "none"
    assert COHORT.loc[~in_cr, "mrd_status"].isna().all()
    assert (COHORT.loc[COHORT["hsct_after_blina"] == "yes", "response"] != "none").all()
    assert (COHORT["crs_grade"].notna() == (COHORT["crs"] == "yes")).all()
    assert (COHORT.loc[COHORT["debulking_category"] == "tki", "ph_status"] == "positive").all()
    assert (COHORT.loc[in_cr, "blina_cycles"] == 2).all()
    assert (
        COHORT.loc[COHORT["debulking_category"] != "polychemotherapy", "debulking_to_blina_days"]
        .isna()
        .all()
    )


def test_reconstruction_reproduces_the_shipped_csv_byte_for_byte(tmp_path):
    from pipeline.reconstruct import reconstruct_from_cli

    out = tmp_path / "cohort.csv"
    assert reconstruct_from_cli(argparse.Namespace(out=str(out))) == 0
    assert out.read_bytes() == COHORT_CSV.read_bytes()
