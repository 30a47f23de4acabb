"""One parameter file (analysis.toml): the notebooks' settings cells, `pipeline params`, and 06's check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import parameters, results
from helpers.parameters import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SHIPPED = ROOT / "analysis.toml"
CATALOG = parameters.catalog(NOTEBOOKS)


def test_the_shipped_file_sets_nothing_so_a_run_uses_the_project_defaults():
    assert parameters.read_params_file(SHIPPED) == {}


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_each_notebook_names_settings_only_and_fills_them_in_the_cell_right_after(path):
    assert set(parameters.declared(path).values()) == {None}  # the defaults live in SETTINGS only
    assert set(parameters.declared(path)) <= set(parameters.SETTINGS)
    cells = nbformat.read(path, as_version=4).cells
    i = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", []))
    settings = cells[i + 1]
    assert settings.cell_type == "code" and "parameters.resolve(globals())" in settings.source
    assert "def " not in settings.source and "class " not in settings.source


def test_every_default_keeps_its_own_type_and_range():
    for name, setting in parameters.SETTINGS.items():
        assert type(setting.default).__name__ == setting.type, name
    parameters.check_parameters({n: s.default for n, s in parameters.SETTINGS.items()})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def in_notebooks(monkeypatch):
    monkeypatch.chdir(NOTEBOOKS)  # where JupyterLab runs a notebook


NAMES_04 = ("data_path", "params_file", "bmb_high_cutoff", "severe_crs_grade", "alpha")


def test_the_file_applies_to_the_names_a_notebook_declares_with_paths_relative_to_the_file(
    tmp_path, in_notebooks
):
    (tmp_path / "data").mkdir()
    toml = write(
        tmp_path,
        'data_path = "data/other.csv"\nbmb_high_cutoff = 60\nsevere_crs_grade = 4\n'
        "landmark_months = 6\n",
    )
    got = parameters.resolve(dict.fromkeys(NAMES_04) | {"params_file": str(toml)})
    assert got == {
        "params_file": str(toml),
        "alpha": 0.05,  # not in the file: the project default
        "data_path": os.path.relpath(tmp_path / "data" / "other.csv", NOTEBOOKS),
        "bmb_high_cutoff": 60,
        "severe_crs_grade": 4,
    }  # landmark_months not named here
    got = parameters.resolve({"params_file": str(toml), "landmark_months": None})
    assert got["landmark_months"] == 6.0 and isinstance(got["landmark_months"], float)
    given = parameters.resolve({"params_file": str(toml), "bmb_high_cutoff": 70})  # as papermill -p
    assert given["bmb_high_cutoff"] == 70


def test_without_a_file_the_settings_are_the_project_defaults_with_paths_as_the_notebook_reads_them(
    in_notebooks,
):
    got = parameters.resolve(dict.fromkeys(NAMES_04) | {"params_file": ""})
    assert got == {
        "params_file": "",
        "data_path": "../data/reconstructed_cohort.csv",
        "bmb_high_cutoff": parameters.default("bmb_high_cutoff"),
        "severe_crs_grade": parameters.default("severe_crs_grade"),
        "alpha": parameters.default("alpha"),
    }
    assert parameters.summary(got).startswith("Every setting at its project default")
    assert parameters.summary({**got, "alpha": 0.1}) == (
        "Settings changed from the project defaults: alpha = 0.1"
    )


@pytest.mark.parametrize(
    "value, message",
    [
        (50.5, "'bmb_high_cutoff' = 50.5 is not allowed: it must be a whole number"),
        ("60", "'bmb_high_cutoff' = '60' is not allowed: it must be a whole number"),
        (150, "'bmb_high_cutoff' = 150 is out of range"),
    ],
)
def test_a_value_given_by_papermill_is_checked_against_the_table(in_notebooks, value, message):
    with pytest.raises(ParameterError, match=message):
        parameters.resolve({"params_file": "", "bmb_high_cutoff": value})


@pytest.mark.parametrize(
    "text, message",
    [
        ("bmb_hihg_cutoff = 60", "unknown key 'bmb_hihg_cutoff' (= 60): no notebook names"),
        (
            "bmb_high_cutoff = 150",
            "bmb_high_cutoff = 150 is out of range: the % bone-marrow blasts from which "
            "tumour burden is high must be in [0, 100]",
        ),
        (
            "bmb_high_cutoff = 50.5",
            "bmb_high_cutoff = 50.5 is not allowed: it must be a whole number",
        ),
        ('alpha = "0.05"', "alpha = '0.05' is not allowed: it must be a number"),
        ("age_cutoff = true", "age_cutoff = True is not allowed: it must be a whole number"),
        ("data_sheet = 3", "data_sheet = 3 is not allowed: it must be text in quotes"),
        ("bmb_low_cutoff = 60", "'bmb_low_cutoff' = 60 must be below 'bmb_high_cutoff' = 50"),
        ("[cutoffs]\nage_cutoff = 40", "cutoffs holds a table or list"),
        ("age_cutoff = ", "not valid TOML"),
    ],
)
def test_an_unknown_key_or_bad_value_is_an_error_naming_file_key_value_and_what_is_allowed(
    tmp_path, in_notebooks, text, message
):
    toml = write(tmp_path, text + "\n")
    with pytest.raises(ParameterError) as err:
        parameters.resolve(
            {
                "params_file": str(toml),
                "bmb_high_cutoff": None,
                "bmb_low_cutoff": None,
                "age_cutoff": None,
                "alpha": None,
                "data_sheet": None,
            }
        )
    assert str(toml) in str(err.value) and message in str(err.value)


def test_helpers_params_lists_every_parameter_without_importing_the_heavy_libraries():
    code = (
        "import sys; from pipeline.__main__ import main; status = main(['params']); "
        "heavy = [m for m in ('pandas', 'papermill', 'nbformat', 'scipy') if m in sys.modules]; "
        "print('HEAVY', heavy, status)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY [] 0" in done.stdout
    for name, info in CATALOG.items():
        assert f"{name} ({info['type']}, default {info['default']!r})" in done.stdout
    assert (
        "bmb_high_cutoff (int, default 50)\n    % bone-marrow blasts from which tumour burden is "
        "high. Allowed: in [0, 100]." in done.stdout
    )
    assert "Notebooks: 01_cohort_description, 02_debulking_regimens" in done.stdout


def test_run_help_names_the_parameter_file_the_precedence_and_helpers_params():
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    text = " ".join(done.stdout.split())
    assert "--params FILE" in text and "python -m pipeline params" in text
    assert (
        "the project defaults, replaced by the --params file's, replaced by -p, --data and --sheet"
        in text
    )


# --- notebook 06 judges only results computed from the same data and values -----------------


def record(tmp_path: Path, data: Path, **changes) -> dict:
    values = {
        "data_sheet": "",
        "age_cutoff": 50,
        "bmb_high_cutoff": 50,
        "bmb_low_cutoff": 20,
        "lines_cutoff": 2,
    }
    inputs = results.run_inputs(data, **{**values, **changes})
    for stem in ("01_cohort_description", "03_response_by_subgroup"):
        frame = results.result_frame([{"key": "n[all]", "estimate": 1}], stem)
        results.write_results(
            frame,
            stem,
            tmp_path,
            inputs=inputs if stem.startswith("01") else results.run_inputs(data, **values),
        )
    return results.run_inputs(data, **values)


def test_results_from_the_same_data_and_values_pass(tmp_path):
    data = tmp_path / "cohort.csv"
    data.write_text("patient_id\nP1\n")
    expected = record(tmp_path, data)
    results.check_same_inputs(tmp_path, ("01", "02", "03"), expected)
    saved = json.loads((tmp_path / "results" / "01_cohort_description.inputs.json").read_text())
    assert saved["data_file"] == "cohort.csv" and saved["parameters"]["bmb_high_cutoff"] == 50


def test_a_notebook_run_with_another_cut_off_is_refused_naming_notebook_parameter_and_both_values(
    tmp_path,
):
    data = tmp_path / "cohort.csv"
    data.write_text("patient_id\nP1\n")
    expected = record(tmp_path, data, bmb_high_cutoff=60)
    with pytest.raises(
        ValueError,
        match=r"notebook 01_cohort_description used bmb_high_cutoff = 60, "
        r"this notebook bmb_high_cutoff = 50",
    ):
        results.check_same_inputs(tmp_path, ("01", "03"), expected)


def test_results_of_other_data_are_refused_naming_both_hashes(tmp_path):
    data, other = tmp_path / "cohort.csv", tmp_path / "other.csv"
    data.write_text("patient_id\nP1\n")
    other.write_text("patient_id\nP2\n")
    record(tmp_path, data)
    expected = results.run_inputs(other, bmb_high_cutoff=50)
    with pytest.raises(ValueError) as err:
        results.check_same_inputs(tmp_path, ("01",), expected)
    text = str(err.value)
    assert "analysed other data" in text and expected["data_sha256"] in text
    assert results.run_inputs(data)["data_sha256"] in text


def test_results_without_a_record_are_refused_and_rewriting_results_drops_an_old_record(tmp_path):
    data = tmp_path / "cohort.csv"
    data.write_text("patient_id\nP1\n")
    expected = record(tmp_path, data)
    frame = results.result_frame([{"key": "n[all]", "estimate": 1}], "03_response_by_subgroup")
    results.write_results(frame, "03_response_by_subgroup", tmp_path)  # rewritten without a record
    with pytest.raises(ValueError, match="03_response_by_subgroup.csv carries no record"):
        results.check_same_inputs(tmp_path, ("03",), expected)
