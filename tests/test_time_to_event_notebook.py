"""Notebook 08 on small or eventless cohorts with follow-up: every section either runs or says
in a sentence why it is left out, and the run completes (cells executed in this process)."""

import pandas as pd
import pytest
from run_inprocess import execute

from pipeline.synth import synthesize_cohort


def _cohort(name: str) -> pd.DataFrame:
    c = synthesize_cohort(60, 3, follow_up=True)
    c = c[c["os_months"] != ""].reset_index(drop=True)
    in_cr = c[c["rfs_months"] != ""]
    if name == "no_deaths":
        return c.assign(
            os_event="no",
            rfs_event=c["rfs_event"].where(c["rfs_event"] == "", "no"),
            rfs_event_cause="",
        )
    if name == "one_patient":
        return in_cr.iloc[:1]
    if name == "three_patients":
        return in_cr.iloc[:3]
    if name == "without_cause_column":
        return c.drop(columns="rfs_event_cause")
    raise KeyError(name)


@pytest.fixture(
    scope="module", params=["no_deaths", "one_patient", "three_patients", "without_cause_column"]
)
def run(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    _cohort(request.param).to_csv(folder / "cohort.csv", index=False)
    namespace = execute(
        "08_time_to_event", data_path=str(folder / "cohort.csv"), output_dir=str(folder / "out")
    )
    results = pd.read_csv(folder / "out" / "results" / "08_time_to_event.csv").set_index("key")
    return request.param, namespace, results


@pytest.mark.slow
def test_notebook_08_completes_with_follow_up_and_says_which_model_it_leaves_out(run):
    case, namespace, results = run
    shown = "\n".join(namespace["_markdown"])
    assert results.loc["follow_up.available[all]", "estimate"] == 1
    if case in ("no_deaths", "one_patient", "three_patients"):
        assert not any(k.startswith("cox_os_adjusted[") for k in results.index)
        assert "No adjusted model for this data" in shown
    if case == "no_deaths":
        assert "No Cox model for tumour burden" in shown
    if case == "without_cause_column":
        assert "Relapse and non-relapse mortality are not separated" in shown
        assert not any(k.startswith(("cir[", "nrm[")) for k in results.index)
        assert any(k.startswith("cox_os_adjusted[") for k in results.index)
