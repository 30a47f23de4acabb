"""Runs with a parameter file: precedence, what the manifest records, and notebook 06's refusal."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from probe_notebooks import RUN_PARAMETERS, recorded, write_recording_probe
from shared_runs import SHIPPED_COHORT

from pipeline.run import PipelineError, run_analysis

pytestmark = pytest.mark.slow


def probe_notebooks(folder: Path) -> Path:
    """One notebook declaring three cut-offs and params_file, recording the values it ran with."""
    return write_recording_probe(
        folder,
        RUN_PARAMETERS + 'params_file: str = "../analysis.toml"\n'
        "age_cutoff: int = 50\nlines_cutoff: int = 2\nbmb_high_cutoff: int = 50",
        "{'age_cutoff': age_cutoff, 'lines_cutoff': lines_cutoff,\n"
        "               'bmb_high_cutoff': bmb_high_cutoff, 'params_file': params_file}",
    )


def test_defaults_give_way_to_the_file_and_the_file_to_the_command_line(tmp_path):
    notebooks = probe_notebooks(tmp_path / "nbs")
    toml = tmp_path / "run.toml"
    toml.write_text("lines_cutoff = 3\nbmb_high_cutoff = 60\noutput_dir = 'ignored/by/a/run'\n")
    out = tmp_path / "run"
    run_analysis(
        SHIPPED_COHORT,
        out,
        parameters=[("bmb_high_cutoff", "70")],
        notebooks_dir=notebooks,
        progress=False,
        params_file=toml,
    )
    seen = recorded(out)
    # default, file, command line; the notebook is told params_file="" so the file cannot undo the -p
    assert seen == {"age_cutoff": 50, "lines_cutoff": 3, "bmb_high_cutoff": 70, "params_file": ""}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["parameter_file"] == {
        "file": "run.toml",
        "sha256": hashlib.sha256(toml.read_bytes()).hexdigest(),
    }
    assert manifest["parameters"]["01_probe"] == {
        "age_cutoff": "50",
        "bmb_high_cutoff": "70",
        "data_path": "'input/reconstructed_cohort.csv'",
        "lines_cutoff": "3",
        "output_dir": "'.'",
        "params_file": "''",
    }


def test_the_file_data_path_is_relative_to_the_file_and_data_overrides_it(tmp_path):
    notebooks = probe_notebooks(tmp_path / "nbs")
    (tmp_path / "cfg").mkdir()
    shutil.copy(SHIPPED_COHORT, tmp_path / "cfg" / "from_file.csv")
    toml = tmp_path / "cfg" / "run.toml"
    toml.write_text('data_path = "from_file.csv"\n')
    summary = run_analysis(
        None, tmp_path / "a", notebooks_dir=notebooks, progress=False, params_file=toml
    )
    assert (
        json.loads((summary.run_dir / "manifest.json").read_text())["input"]["file"]
        == "from_file.csv"
    )
    summary = run_analysis(
        SHIPPED_COHORT, tmp_path / "b", notebooks_dir=notebooks, progress=False, params_file=toml
    )
    assert (
        json.loads((summary.run_dir / "manifest.json").read_text())["input"]["file"]
        == SHIPPED_COHORT.name
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("bmb_high_cutoff = 150", "is out of range"),
        (
            "severe_crs_grade = 4",
            "unknown key 'severe_crs_grade'",
        ),  # the probe notebook does not declare it
    ],
)
def test_a_bad_parameter_file_stops_the_run_before_any_notebook(tmp_path, text, message):
    notebooks = probe_notebooks(tmp_path / "nbs")
    toml = tmp_path / "run.toml"
    toml.write_text(text + "\n")
    with pytest.raises(PipelineError) as err:
        run_analysis(
            SHIPPED_COHORT,
            tmp_path / "run",
            notebooks_dir=notebooks,
            progress=False,
            params_file=toml,
        )
    assert (
        err.value.exit_status == 2
        and f"parameter file {toml}" in str(err.value)
        and message in str(err.value)
    )
    assert not (tmp_path / "run").exists()


def test_notebook_06_refuses_results_that_notebook_03_computed_with_another_cut_off(tmp_path):
    from run_inprocess import execute

    for stem in (
        "01_cohort_description",
        "02_debulking_regimens",
        "04_crs_analysis",
        "05_historic_comparison",
    ):
        execute(stem, data_path=SHIPPED_COHORT, output_dir=tmp_path)
    execute(
        "03_response_by_subgroup", data_path=SHIPPED_COHORT, output_dir=tmp_path, bmb_high_cutoff=60
    )
    with pytest.raises(Exception) as err:
        execute("06_reproduction_report", data_path=SHIPPED_COHORT, output_dir=tmp_path)
    assert (
        "notebook 03_response_by_subgroup used bmb_high_cutoff = 60, this notebook bmb_high_cutoff = 50"
        in str(err.value)
    )
