"""Notebook 07 runs on valid cohorts where some sections have nothing to estimate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import DEFAULT_PATIENT
from run_inprocess import execute

from helpers.results import read_results

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_sensitivity_analysis.ipynb"

CR = {"response": "cr", "mrd_status": "negative"}
NO_CR = {"response": "none"}
MIXED = [
    {**CR, "bmb_baseline_pct": "10", "ph_status": "positive", "age_years": "30"},
    {**NO_CR, "bmb_baseline_pct": "80", "prior_lines": "3", "age_years": "60"},
    {**CR, "bmb_baseline_pct": "70", "age_years": "45"},
    {
        **NO_CR,
        "bmb_baseline_pct": "30",
        "ph_status": "positive",
        "prior_lines": "4",
        "age_years": "70",
    },
    {**CR, "bmb_baseline_pct": "55", "age_years": "25"},
]

#: name: (patient rows, text the notebook must print instead of an estimate)
COHORTS = {
    "no CR": (
        [{**NO_CR, "bmb_baseline_pct": str(b)} for b in (5, 30, 60, 90)],
        "not both outcomes occur",
    ),
    "all CR": (
        [{**CR, "bmb_baseline_pct": str(b)} for b in (5, 30, 60, 90)],
        "not both outcomes occur",
    ),
    "no blast values": ([{**r, "bmb_baseline_pct": ""} for r in MIXED], "nothing to scan"),
    "one patient": ([MIXED[0]], "Nothing to estimate: the model needs 5 coefficients"),
    "five patients": (MIXED, "Events per variable"),
    "blasts separate CR": (
        [
            {**CR, "bmb_baseline_pct": "10"},
            {**CR, "bmb_baseline_pct": "20"},
            {**NO_CR, "bmb_baseline_pct": "60"},
            {**NO_CR, "bmb_baseline_pct": "90"},
        ],
        "blasts separate CR",
    ),
}


def run_notebook(rows: list[dict], tmp_path: Path) -> tuple[str, pd.DataFrame]:
    """Notebook 07's cells run in this process on ``rows``: the text it shows and its results."""
    data = tmp_path / "cohort.csv"
    pd.DataFrame(
        [{"patient_id": f"T{i:02d}", **DEFAULT_PATIENT, **row} for i, row in enumerate(rows, 1)]
    ).to_csv(data, index=False)
    out = tmp_path / "out"
    run = execute(NOTEBOOK.stem, data_path=data, output_dir=out)
    return "\n".join([*run["_markdown"], run["_printed"]]), read_results(out)


@pytest.mark.parametrize("name", list(COHORTS))
def test_sections_with_nothing_to_estimate_say_so_and_the_rest_still_runs(name, tmp_path):
    rows, expected = COHORTS[name]
    text, res = run_notebook(rows, tmp_path)
    assert expected in text
    assert len(res)


#: R 4.2.2 on data/reconstructed_cohort.csv, the 33 patients with a baseline blast value
#: (cr = response in cr, crp, cri):
#:   glm(cr ~ I(bmb_baseline_pct / 10), binomial): exp(coef), exp(confint.default), Wald p
#:   fisher.test(table(bmb_baseline_pct >= c, cr))$p.value for each cut-off c
#:   logistf(cr ~ I(bmb_baseline_pct >= 50) + I(prior_lines > 2) + I(age_years / 10)
#:           + I(ph_status == "positive"))  (tight control as in tests/test_models.py)
SHIPPED_REFERENCES = {
    "any_cr[bmb_baseline_pct_per10]~logistic": (
        0.724327898728,
        0.531705070674,
        0.986732934879,
        0.0408906918835,
    ),
    "any_cr[high_burden]~firth_adjusted": (
        0.183438613347,
        0.0162676435784,
        1.16022272460,
        0.0725824415432,
    ),
    "any_cr[lines_group]~firth_adjusted": (
        0.292578012516,
        0.0556300481362,
        1.38447970652,
        0.1211144686814,
    ),
    "any_cr[age_years_per10]~firth_adjusted": (
        1.182644227135,
        0.7524719950839,
        1.91689259554,
        0.4641232062316,
    ),
    "any_cr[ph_status]~firth_adjusted": (
        1.190680850419,
        0.2323278504000,
        6.61140228160,
        0.8341253471125,
    ),
}
SHIPPED_FISHER = {
    20: 0.378437461377,
    25: 0.0215908174945,
    50: 0.0215908174945,
    55: 0.141070325053,
    70: 0.487500604536,
    75: 1.0,
    80: 0.252016129032,
}


def test_estimates_on_the_shipped_cohort_match_r(shipped_run):
    res = read_results(shipped_run)
    res = res[res["notebook"] == NOTEBOOK.stem].set_index("key")
    for key, (estimate, low, high, p) in SHIPPED_REFERENCES.items():
        row = res.loc[key]
        assert (row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]) == pytest.approx(
            (estimate, low, high, p), rel=1e-6
        ), key
    for cutoff, p in SHIPPED_FISHER.items():
        assert res.loc[f"any_cr[bmb_baseline_ge{cutoff}]~fisher", "p_value"] == pytest.approx(
            p, rel=1e-9
        )
    assert res.loc["firth_model[any_cr].epv", "estimate"] == pytest.approx(11 / 4)
