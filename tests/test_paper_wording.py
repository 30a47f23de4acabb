"""Sentences that only hold for the paper's cohort at the paper's cut-offs stay off other pages.

Notebooks 01-06 run in this process (tests/run_inprocess.py) three times: on the shipped
reconstruction, on a synthetic registry file (``pipeline synth``) and on the shipped cohort
at a high-burden cut-off of 60 %. Each phrase below is written from a template for the
paper's case; the table says on which runs it must not appear, and the shipped run must
still show it (so a phrase that no template writes any more fails here too).
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest
from run_inprocess import NOTEBOOKS, execute

from helpers import narrative, published, reproduction
from helpers.provenance import SHIPPED_COHORT, data_provenance
from pipeline.synth import write_synthetic

UPSTREAM = (
    "01_cohort_description",
    "02_debulking_regimens",
    "03_response_by_subgroup",
    "04_crs_analysis",
    "05_historic_comparison",
    "06_reproduction_report",
)

#: phrase, absent on a registry file, absent on the shipped cohort at a cut-off of 60 %
PAPER_ONLY = [
    ("Counts match the paper by construction", True, True),
    ("rebuilds the paper's", True, True),
    ("the paper's three groups", True, True),
    ("(section 3.3.3)", True, True),
    ("The paper's section 3.3.3: below", True, True),
    ("The paper's sections 3.3.2-3.3.5, at its cut-offs", True, True),
    ("Bar chart (the paper's Figure 1)", True, True),
    ("The paper says that all but one", True, True),
    (
        "Which test gives the paper's p-values",
        True,
        False,
    ),  # the shipped cohort's own question at any cut-off
    ("Which denominator did the paper use", True, False),
    ("(the paper's reading: 14.7% (5 cases))", True, False),
    ("two 6-week cycles", True, False),
    ("PCR and/or flow cytometry", True, False),
    ("the paper's cohort overlaps it", True, False),
    ("In the paper's study the treating clinician chose", True, False),
    ("Of the paper's ", True, False),  # 06's count of verdicts
    ("Every recorded value:", True, False),  # 06's reading of the paper's unnamed tests
    ("agree because the solver was constrained", True, False),
]
#: phrases no page shows any more, on any data
NEVER = [
    "patients came from several Italian centres",
    "(paper, section 4)",
    "the paper's 5/34",
    "Figure 1, as in",
    "As in the paper",
]
#: phrases only a run away from the paper's case shows: registry, cut-off 60
ELSEWHERE = [
    ("OTHER CUT-OFFS", False, True),
    ("**Different definition.** This run sets high tumour burden at ≥ 60%", False, True),
    ("The paper's statement that all but one of its patients with CRS", False, True),
    ("the paper's section 3.1 and Table 1 count a high burden at its own cut-off", False, True),
    ("the paper's section 3.2 groups the blasts after debulking at its own cut-offs", False, True),
    ("Left out on other data", True, False),
    ("the data contract records a complete MRD response, not the assay", True, False),
    ("Bar chart (laid out as the paper's Figure 1)", True, False),
    ("These data are not the paper's cohort, so the comparison is a replication", True, False),
]


def _run(folder, data_path, **parameters) -> tuple[str, dict]:
    """Every Markdown cell, shown Markdown and printed line of notebooks 01-06 as one text, and 06's namespace."""
    texts = []
    for name in UPSTREAM:
        nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
        texts += ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
        ns = execute(name, data_path=str(data_path), output_dir=str(folder), **parameters)
        texts += [*ns["_markdown"], ns["_printed"]]
    return "\n".join(texts), ns


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Run folder, pages and notebook 06's namespace of each of the three runs."""
    registry = tmp_path_factory.mktemp("registry") / "registry.csv"
    write_synthetic(60, 3, registry)
    out = {}
    for run, data, parameters in (
        ("shipped", SHIPPED_COHORT, {}),
        ("registry", registry, {}),
        ("cutoff 60", SHIPPED_COHORT, {"bmb_high_cutoff": 60}),
    ):
        out[run] = tmp_path_factory.mktemp(run.replace(" ", ""))
        out[run, "pages"], out[run, "06"] = _run(out[run], data, **parameters)
    return out


@pytest.fixture(scope="module")
def pages(runs):
    return {run: runs[run, "pages"] for run in ("shipped", "registry", "cutoff 60")}


@pytest.fixture(scope="module")
def namespaces(runs):
    return {run: runs[run, "06"] for run in ("shipped", "registry", "cutoff 60")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "phrase, off_registry, off_at_60", PAPER_ONLY, ids=[p[0] for p in PAPER_ONLY]
)
def test_a_sentence_about_the_paper_s_cohort_shows_only_where_it_holds(
    pages, phrase, off_registry, off_at_60
):
    assert phrase in pages["shipped"]
    assert (phrase not in pages["registry"]) == off_registry
    assert (phrase not in pages["cutoff 60"]) == off_at_60


@pytest.mark.slow
@pytest.mark.parametrize("phrase", NEVER)
def test_a_paper_fact_stated_as_a_fact_about_the_data_is_on_no_page(pages, phrase):
    assert not [run for run, text in pages.items() if phrase in text]


@pytest.mark.slow
@pytest.mark.parametrize("phrase, on_registry, on_60", ELSEWHERE, ids=[p[0] for p in ELSEWHERE])
def test_a_run_away_from_the_paper_says_so_where_the_result_is_shown(
    pages, phrase, on_registry, on_60
):
    assert phrase not in pages["shipped"]
    assert (phrase in pages["registry"]) == on_registry
    assert (phrase in pages["cutoff 60"]) == on_60


# --- the banner and the cases ------------------------------------------------------------

PAPER = published.paper_cutoffs(published.load_published_figures())
BANNER_CASES = [  # cut-offs of the run, whether the banner claims counts match, words it must hold
    ({}, True, ""),
    (
        {"bmb_high_cutoff": 60},
        False,
        "high tumour burden at ≥ 60% marrow blasts before debulking (the paper: ≥ 50%)",
    ),
    (
        {"age_cutoff": 65, "lines_cutoff": 3},
        False,
        "the age groups split at 65 years (the paper: 50 years); the previous-lines groups split after 3 lines",
    ),
]


@pytest.mark.parametrize("changed, matches, words", BANNER_CASES)
def test_the_banner_claims_counts_match_the_paper_only_at_its_cut_offs(changed, matches, words):
    setting = narrative.run_setting(data_provenance(SHIPPED_COHORT), {**PAPER, **changed}, PAPER)
    assert ("Counts match the paper by construction" in setting.banner) == matches
    assert words in setting.banner
    assert setting.case() == (narrative.PAPER if matches else narrative.OTHER_CUTOFFS)


def test_a_passage_is_in_the_paper_s_case_when_its_own_cut_offs_are_the_paper_s():
    setting = narrative.run_setting(
        data_provenance(SHIPPED_COHORT), {**PAPER, "bmb_high_cutoff": 60}, PAPER
    )
    assert setting.case("age_cutoff", "lines_cutoff") == narrative.PAPER
    assert setting.case("bmb_high_cutoff") == narrative.OTHER_CUTOFFS


def test_a_template_set_without_every_case_is_refused():
    setting = narrative.run_setting(data_provenance(SHIPPED_COHORT), PAPER, PAPER)
    with pytest.raises(ValueError, match="other data"):
        narrative.pick({narrative.PAPER: "a", narrative.OTHER_CUTOFFS: "b"}, setting)


# --- the replication's endpoints ----------------------------------------------------------

#: endpoint key -> the paper's counts (data/published_figures.csv: s331_cr_any, s331_mrd_overall, s331_crs)
PAPER_ENDPOINTS = {"any_cr[all]": (23, 34), "mrd_negative[all]": (17, 21), "crs[all]": (5, 34)}


@pytest.mark.slow
@pytest.mark.parametrize("key", PAPER_ENDPOINTS)
def test_each_endpoint_of_a_registry_is_set_beside_the_paper_s_with_newcombe_s_interval(runs, key):
    from statsmodels.stats.proportion import confint_proportions_2indep

    rows = pd.read_csv(runs["registry"] / "results" / "06_reproduction_report.csv").set_index("key")
    row, (k_paper, n_paper) = rows.loc[f"replication[{key}]"], PAPER_ENDPOINTS[key]
    k, n = int(row["numerator"]), int(row["denominator"])
    # independent reference: statsmodels' Newcombe hybrid score interval for k/n - k_paper/n_paper
    low, high = confint_proportions_2indep(k, n, k_paper, n_paper, method="newcomb", compare="diff")
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (k / n - k_paper / n_paper, low, high)
    )


@pytest.mark.slow
def test_the_burden_contrast_is_compared_at_the_paper_s_cut_off_only(namespaces):
    from statsmodels.stats.proportion import confint_proportions_2indep

    at_paper = namespaces["registry"]["endpoints"].iloc[-1]
    (k1, n1), (k2, n2) = (
        namespaces["registry"]["data_counts"][f"any_cr[high_burden={level}]"]
        for level in ("False", "True")
    )
    assert (at_paper["ci_low"], at_paper["ci_high"]) == pytest.approx(
        confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    )
    # the paper's 12/13 - 10/20 = +42.3 points; statsmodels: confint_proportions_2indep(12, 13, 10, 20,
    # method="newcomb") = (0.0976109, 0.6334982)
    assert at_paper["paper"] == "42.3 (95% CI 9.8 to 63.3)"
    at_60 = namespaces["cutoff 60"]["endpoints"].iloc[-1]
    assert at_60["reading"].startswith("not compared") and math.isnan(at_60["estimate"])


@pytest.mark.slow
def test_the_index_of_a_replication_gives_differences_never_a_count_of_differing_figures(
    namespaces,
):
    registry = namespaces["registry"]
    [found] = registry["findings"]  # notebook 06's headline on other data
    text = found.text(registry["res"])
    assert "differs" not in text and "figures" not in text
    assert re.match(
        r"CR \(CR, CRp or CRi\) within two cycles [+-]\d+\.\d \(95% CI [+-]\d+\.\d to [+-]\d+\.\d\)",
        text,
    )


def test_a_median_or_range_of_another_cohort_is_shown_not_judged():
    figures = published.load_published_figures()
    median = figures[figures["kind"] == "median"].head(1)
    rows = pd.DataFrame([{"key": median["result_key"].iloc[0], "estimate": 99.0}])
    v = reproduction.judge_all(median, rows, reconstructed=False)
    assert v["verdict"].tolist() == [reproduction.SHOWN]
