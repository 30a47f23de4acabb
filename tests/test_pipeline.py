"""The papermill pipeline: complete runs, clear failures, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.pipeline import coerce_parameters, list_notebooks, PipelineError
from helpers.results import RESULT_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"
BAD_INPUTS = ROOT / "tests" / "bad_inputs"
NOTEBOOK_STEMS = [p.stem for p in list_notebooks(ROOT / "notebooks")]

pytestmark = pytest.mark.slow


def run_cli(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_notebooks(folder: Path, body: str, params: str = "") -> Path:
    """A notebooks folder with one notebook whose parameters cell declares the pipeline's."""
    folder.mkdir(parents=True, exist_ok=True)
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = new_code_cell('data_path: str = "x.csv"\noutput_dir: str = "."\n' + params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# Tiny"), cell, new_code_cell(body)]
    nbformat.write(nb, folder / "01_tiny.ipynb")
    return folder


@pytest.fixture(scope="session")
def shipped_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "shipped"
    done = run_cli("run", "--data", str(COHORT), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_a_run_on_the_shipped_cohort_writes_every_part_of_the_run_directory(shipped_run):
    for stem in NOTEBOOK_STEMS:
        assert (shipped_run / "notebooks" / f"{stem}.ipynb").is_file()
        assert (shipped_run / "report" / f"{stem}.html").is_file()
        assert (shipped_run / "results" / f"{stem}.csv").is_file()
    index = (shipped_run / "report" / "index.html").read_text()
    assert all(f"{stem}.html" in index for stem in NOTEBOOK_STEMS)
    assert "RECONSTRUCTED DATA" in index
    tables = {p.name for p in (shipped_run / "tables").iterdir()}
    assert {"table1_patient_characteristics.csv", "table1_patient_characteristics.xlsx",
            "table2_debulking_regimens.csv", "table2_debulking_regimens.xlsx"} <= tables
    assert {p.stem for p in (shipped_run / "tables").glob("*.csv")} == \
        {p.stem for p in (shipped_run / "tables").glob("*.xlsx")}
    figures = list((shipped_run / "figures").iterdir())
    assert {p.stem for p in figures if p.suffix == ".png"} == \
        {p.stem for p in figures if p.suffix == ".svg"} != set()
    assert (shipped_run / "input" / COHORT.name).read_bytes() == COHORT.read_bytes()


def test_results_csv_has_one_tidy_row_per_statistic_from_every_notebook(shipped_run):
    results = pd.read_csv(shipped_run / "results.csv")
    assert tuple(results.columns) == RESULT_COLUMNS
    assert not results.duplicated(["notebook", "key"]).any()
    assert set(results["notebook"]) == set(NOTEBOOK_STEMS)
    cr = results.set_index("key").loc["any_cr[all]"]
    assert (cr["numerator"], cr["denominator"]) == (23, 34)


def test_manifest_records_input_hash_parameters_versions_commit_and_durations(shipped_run):
    manifest = json.loads((shipped_run / "manifest.json").read_text())
    assert manifest["input"] == {"file": COHORT.name, "sha256": sha(COHORT),
                                 "bytes": COHORT.stat().st_size}
    assert set(manifest["parameters"]) == set(NOTEBOOK_STEMS)
    assert manifest["parameters"]["01_cohort_description"]["bmb_high_cutoff"] == "50"
    assert manifest["packages"]["pandas"] and manifest["packages"]["papermill"]
    assert set(manifest["durations_seconds"]) == set(NOTEBOOK_STEMS)
    assert "commit" in manifest["git"]


def test_executed_notebooks_carry_no_absolute_paths_or_timings(shipped_run):
    for path in (shipped_run / "notebooks").glob("*.ipynb"):
        text = path.read_text()
        assert str(ROOT) not in text and str(shipped_run) not in text
        assert '"start_time"' not in text and '"duration"' not in text


def test_an_existing_run_directory_is_not_overwritten_without_force(shipped_run):
    before = sha(shipped_run / "results.csv")
    done = run_cli("run", "--data", str(COHORT), "--out", str(shipped_run))
    assert done.returncode == 2
    assert "already exists" in done.stderr and "--force" in done.stderr
    assert sha(shipped_run / "results.csv") == before


def test_an_unknown_parameter_is_an_error_naming_it_and_runs_nothing(tmp_path):
    out = tmp_path / "run"
    done = run_cli("run", "--data", str(COHORT), "--out", str(out), "-p", "bmb_cutof", "40")
    assert done.returncode == 2
    assert "unknown parameter 'bmb_cutof'" in done.stderr and "bmb_high_cutoff" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_parameter_of_the_wrong_type_is_an_error():
    declared = {"01": {"age_cutoff": {"type": "int", "default": "50", "help": ""}}}
    with pytest.raises(PipelineError, match="'age_cutoff' must be int, got 'fifty'"):
        coerce_parameters([("age_cutoff", "fifty")], declared)
    assert coerce_parameters([("age_cutoff", "65")], declared) == {"age_cutoff": 65}


def test_a_bad_data_file_stops_the_run_before_any_notebook_with_the_validate_message(tmp_path):
    bad = BAD_INPUTS / "duplicate_patient_id.csv"
    before = sha(bad)
    out = tmp_path / "run"
    done = run_cli("run", "--data", str(bad), "--out", str(out))
    validate = run_cli("validate", str(bad))
    assert done.returncode == 2 and validate.returncode == 2
    assert validate.stdout.strip() in done.stderr
    assert list(tmp_path.iterdir()) == []
    assert sha(bad) == before


def test_a_failing_cell_names_notebook_cell_and_exception_and_leaves_no_complete_run(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", 'raise ValueError("boom in the analysis")')
    out = tmp_path / "run"
    done = run_cli("run", "--data", str(COHORT), "--out", str(out), "--notebooks", str(notebooks))
    assert done.returncode == 1
    assert "01_tiny.ipynb" in done.stderr and "ValueError: boom in the analysis" in done.stderr
    assert "cell" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    assert (tmp_path / "run.failed" / "notebooks" / "01_tiny.ipynb").exists()


def test_a_string_parameter_is_passed_as_data_and_never_executed(tmp_path):
    payload = "x\"\"\"'''; import pathlib; pathlib.Path('pwned').write_text('1') #\nsecond line\\"
    notebooks = tiny_notebooks(
        tmp_path / "nbs",
        "import pathlib\npathlib.Path('echo.txt').write_text(label)",
        params='label: str = "default"  # any text\n')
    out = tmp_path / "run"
    done = run_cli("run", "--data", str(COHORT), "--out", str(out), "--notebooks", str(notebooks),
                   "-p", "label", payload)
    assert done.returncode == 0, done.stderr
    assert (out / "echo.txt").read_text() == payload
    assert not (out / "pwned").exists() and not (ROOT / "pwned").exists()


def _descendants(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupting_a_run_leaves_no_run_directory_and_no_kernel(tmp_path, sig):
    import psutil

    notebooks = tiny_notebooks(tmp_path / "nbs", "import time\ntime.sleep(60)")
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "helpers", "run", "--data", str(COHORT),
                             "--out", str(out), "--notebooks", str(notebooks)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    kernels: list[int] = []
    while time.monotonic() < deadline and not kernels:
        time.sleep(0.5)
        kernels = [p for p in _descendants(proc.pid)
                   if "ipykernel" in " ".join(psutil.Process(p).cmdline())]
    assert kernels, "the kernel never started"
    time.sleep(2)  # let the sleeping cell start
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    time.sleep(1)
    assert not [p for p in kernels if psutil.pid_exists(p)
                and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def test_two_runs_on_the_same_input_give_identical_files_but_for_manifest_times(shipped_run, tmp_path):
    second = tmp_path / "again"
    done = run_cli("run", "--data", str(COHORT), "--out", str(second))
    assert done.returncode == 0, done.stderr
    first_files = sorted(p.relative_to(shipped_run) for p in shipped_run.rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert first_files == second_files
    differing = [str(rel) for rel in first_files
                 if rel.name != "manifest.json" and sha(shipped_run / rel) != sha(second / rel)]
    assert differing == []
    m1, m2 = (json.loads((d / "manifest.json").read_text()) for d in (shipped_run, second))
    m1.pop("durations_seconds"), m2.pop("durations_seconds")
    assert m1 == m2


def test_an_accepted_variant_file_runs_through_every_notebook_as_someone_elses_data(tmp_path):
    # Mixed-case, padded codes are normalised by the loader; 8 patients with empty
    # subgroups exercise every notebook on data that is not the reconstruction.
    variant = BAD_INPUTS / "mixed_case_padded.csv"
    before = sha(variant)
    out = tmp_path / "variant"
    done = run_cli("run", "--data", str(variant), "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    assert sha(variant) == before
    index = (out / "report" / "index.html").read_text()
    assert "RECONSTRUCTED DATA" not in index and "supplied by the analyst" in index
