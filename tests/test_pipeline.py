"""The papermill pipeline: complete runs, clear failures, nothing half-written."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell
from probe_notebooks import RUN_PARAMETERS, adopted, is_kernel, still_running, write_probe
from run_inprocess import keep_signal_handlers
from shared_runs import HOSTILE_NAME, HOSTILE_STUDY, pipeline_command, run_cli

from helpers.results import RESULT_COLUMNS
from pipeline import report
from pipeline.kernels import FORK_FROM_NOTEBOOKS, KERNEL_ONLY
from pipeline.parameters import coerce_parameters
from pipeline.run import PipelineError, list_notebooks

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"
BAD_INPUTS = ROOT / "tests" / "bad_inputs"
NOTEBOOK_STEMS = [p.stem for p in list_notebooks(ROOT / "notebooks")]

pytestmark = pytest.mark.slow


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tiny_notebooks(folder: Path, body: str, params: str = "", copies: int = 1) -> Path:
    """A notebooks folder with one notebook, 01_tiny, declaring the pipeline's parameters, and
    ``copies - 1`` copies of it (02_tiny, ...)."""
    write_probe(folder, RUN_PARAMETERS + params, body, name="01_tiny")
    for number in range(2, copies + 1):
        shutil.copy(folder / "01_tiny.ipynb", folder / f"{number:02d}_tiny.ipynb")
    return folder


#: Runs of one or two notebooks start their kernels as jupyter_client does; from
#: ``FORK_FROM_NOTEBOOKS`` notebooks on, kernels are forked by the run's fork server.
KERNEL_KINDS = pytest.mark.parametrize(
    "copies", [1, FORK_FROM_NOTEBOOKS], ids=["started kernels", "forked kernels"]
)


def run_args(notebooks: Path, out: Path, *more: str, data: Path = COHORT) -> list[str]:
    """The arguments of ``python -m pipeline run`` of ``notebooks`` on ``data`` into ``out``."""
    return ["run", "--data", str(data), "--out", str(out), "--notebooks", str(notebooks), *more]


def run_notebooks(
    notebooks: Path, out: Path, *more: str, data: Path = COHORT
) -> subprocess.CompletedProcess:
    """That run to its end, output captured."""
    return run_cli(*run_args(notebooks, out, *more, data=data))


def start_run(notebooks: Path, out: Path, *more: str, **popen) -> subprocess.Popen:
    """That run started, not waited for; output piped as text unless ``popen`` says otherwise."""
    return subprocess.Popen(
        pipeline_command(*run_args(notebooks, out, *more)),
        cwd=ROOT,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **popen},
    )


def test_a_run_on_the_shipped_cohort_writes_every_part_of_the_run_directory(shipped_run):
    for stem in NOTEBOOK_STEMS:
        assert (shipped_run / "notebooks" / f"{stem}.ipynb").is_file()
        assert (shipped_run / "report" / f"{stem}.html").is_file()
        assert (shipped_run / "results" / f"{stem}.csv").is_file()
    index = (shipped_run / "report" / "index.html").read_text()
    assert all(f"{stem}.html" in index for stem in NOTEBOOK_STEMS)
    assert "RECONSTRUCTED DATA" in index
    tables = {p.name for p in (shipped_run / "tables").iterdir()}
    assert {
        "table1_patient_characteristics.csv",
        "table1_patient_characteristics.xlsx",
        "table2_debulking_regimens.csv",
        "table2_debulking_regimens.xlsx",
    } <= tables
    assert {p.stem for p in (shipped_run / "tables").glob("*.csv")} == {
        p.stem for p in (shipped_run / "tables").glob("*.xlsx")
    }
    figures = list((shipped_run / "figures").iterdir())
    assert (
        {p.stem for p in figures if p.suffix == ".png"}
        == {p.stem for p in figures if p.suffix == ".svg"}
        != set()
    )
    assert (shipped_run / "input" / COHORT.name).read_bytes() == COHORT.read_bytes()


def test_results_csv_has_one_tidy_row_per_statistic_from_every_notebook(shipped_run):
    results = pd.read_csv(shipped_run / "results.csv")
    assert tuple(results.columns) == RESULT_COLUMNS
    assert not results.duplicated(["notebook", "key"]).any()
    assert set(results["notebook"]) == set(NOTEBOOK_STEMS)
    cr = results.set_index("key").loc["any_cr[all]"]
    assert (cr["numerator"], cr["denominator"]) == (23, 34)


def test_manifest_records_input_hash_parameters_notebooks_versions_commit_and_durations(
    shipped_run,
):
    manifest = json.loads((shipped_run / "manifest.json").read_text())
    assert manifest["notebooks"] == {
        stem: sha(ROOT / "notebooks" / f"{stem}.ipynb") for stem in NOTEBOOK_STEMS
    }
    assert manifest["input"] == {
        "file": COHORT.name,
        "sha256": sha(COHORT),
        "bytes": COHORT.stat().st_size,
    }
    assert set(manifest["parameters"]) == set(NOTEBOOK_STEMS)
    assert manifest["parameters"]["01_cohort_description"]["bmb_high_cutoff"] == "50"
    assert manifest["packages"]["pandas"] and manifest["packages"]["papermill"]
    assert set(manifest["durations_seconds"]) == set(NOTEBOOK_STEMS)
    assert "commit" in manifest["git"]
    assert manifest["parameter_file"] == {
        "file": "analysis.toml",
        "sha256": sha(ROOT / "analysis.toml"),
    }
    assert manifest["parameters"]["01_cohort_description"]["params_file"] == "''"


#: Exact power of the two-sided Fisher test of 05's primary comparison (n = 34 against TOWER
#: 119/271), from the enumeration with R's fisher.test in tests/test_power.py.
SHIPPED_POWER = {"0.55": 0.211961309770, "0.7": 0.820840460988, "observed": 0.737135056476}


def test_notebook_05_reports_the_power_and_size_of_its_primary_two_sample_test(shipped_run):
    res = pd.read_csv(shipped_run / "results.csv").set_index("key")
    for rate, expected in SHIPPED_POWER.items():
        row = res.loc[f"fisher_power[cr_crh_cri|true_rate={rate}]"]
        assert row["notebook"] == "05_historic_comparison" and row["denominator"] == 34
        assert row["estimate"] == pytest.approx(expected, abs=1e-9)
    assert res.loc["fisher_sample_size[cr_crh_cri|true_rate=observed].n", "estimate"] == 41
    assert not res.index.str.startswith("sample_size[").any()


def test_executed_notebooks_carry_no_absolute_paths_or_timings(shipped_run):
    for path in (shipped_run / "notebooks").glob("*.ipynb"):
        text = path.read_text()
        assert str(ROOT) not in text and str(shipped_run) not in text
        assert '"start_time"' not in text and '"duration"' not in text


def run_in_process(capsys, monkeypatch, *args: str) -> tuple[int, str]:
    """``python -m pipeline ARGS`` through ``main`` in this process: (status, stderr)."""
    import pipeline.__main__ as cli

    keep_signal_handlers(monkeypatch)
    status = cli.main(list(args))
    return status, capsys.readouterr().err


def test_an_existing_run_directory_is_not_overwritten_without_force(
    shipped_run, capsys, monkeypatch
):
    before = sha(shipped_run / "results.csv")
    status, err = run_in_process(
        capsys, monkeypatch, "run", "--data", str(COHORT), "--out", str(shipped_run)
    )
    assert status == 2
    assert "already exists" in err and "--force" in err
    assert sha(shipped_run / "results.csv") == before


def test_an_unknown_parameter_is_an_error_naming_it_and_runs_nothing(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    status, err = run_in_process(
        capsys,
        monkeypatch,
        "run",
        "--data",
        str(COHORT),
        "--out",
        str(out),
        "-p",
        "bmb_cutof",
        "40",
    )
    assert status == 2
    assert "unknown parameter 'bmb_cutof'" in err and "bmb_high_cutoff" in err
    assert list(tmp_path.iterdir()) == []


def test_a_parameter_of_the_wrong_type_is_an_error():
    from helpers.parameters import ParameterError

    declared = {"01": {"age_cutoff": {"type": "int", "default": "50", "help": ""}}}
    with pytest.raises(ParameterError, match="'age_cutoff' must be int, got 'fifty'"):
        coerce_parameters([("age_cutoff", "fifty")], declared)
    assert coerce_parameters([("age_cutoff", "65")], declared) == {"age_cutoff": 65}


def test_a_bad_data_file_stops_the_run_before_any_notebook_with_the_validate_message(
    tmp_path, capsys, monkeypatch
):
    bad = BAD_INPUTS / "duplicate_patient_id.csv"
    before = sha(bad)
    out = tmp_path / "run"
    status, err = run_in_process(capsys, monkeypatch, "run", "--data", str(bad), "--out", str(out))
    import pipeline.__main__ as cli

    assert cli.main(["validate", str(bad)]) == 2
    validate = capsys.readouterr().out
    assert status == 2
    assert validate.strip() in err
    assert list(tmp_path.iterdir()) == []
    assert sha(bad) == before


def test_a_failing_cell_names_notebook_cell_and_exception_and_leaves_no_complete_run(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", 'raise ValueError("boom in the analysis")')
    out = tmp_path / "run"
    done = run_notebooks(notebooks, out)
    assert done.returncode == 1
    assert "01_tiny.ipynb" in done.stderr and "ValueError: boom in the analysis" in done.stderr
    # tiny_notebooks writes markdown, parameters, body: the body is cell 3 of 3 in the
    # file; in the executed copy the injected parameters cell ran as In [2], the body In [3].
    assert "cell 3 of 3" in done.stderr and "In [3]" in done.stderr
    assert "begins 'raise ValueError(\"boom in the analysis\")'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    assert (tmp_path / "run.failed" / "notebooks" / "01_tiny.ipynb").exists()


def test_a_kernel_that_dies_is_a_short_error_naming_the_notebook_and_keeps_the_failed_run(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", "import os\nos._exit(1)")
    out = tmp_path / "run"
    done = run_notebooks(notebooks, out)
    assert done.returncode == 1, done.stderr
    assert "\nerror: notebook 01_tiny.ipynb failed: its kernel died" in done.stderr
    assert "Traceback" not in done.stderr and "DeadKernelError" not in done.stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    assert (tmp_path / "run.failed" / "input" / COHORT.name).exists()


def test_a_cell_running_past_the_timeout_is_a_short_error_naming_notebook_and_cell(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", "import time\ntime.sleep(120)")
    out = tmp_path / "run"
    started = time.monotonic()
    done = run_notebooks(notebooks, out, "--cell-timeout", "3")
    assert done.returncode == 1, done.stderr
    assert "notebook 01_tiny.ipynb timed out: a cell ran longer than 3 s" in done.stderr
    assert "begins 'import time'" in done.stderr
    # The pipeline's own report is short (ipykernel may log its shutdown above it).
    assert "CellTimeoutError" not in done.stderr and "pipeline/run.py" not in done.stderr
    assert done.stderr.splitlines()[-2].startswith("error: notebook 01_tiny.ipynb timed out")
    assert time.monotonic() - started < 110  # stopped by the timeout, not by the sleep ending
    assert not out.exists() and (tmp_path / "run.failed").is_dir()


@pytest.mark.parametrize(
    ("step", "words"),
    [("render_report", "rendering the HTML report"), ("write_manifest", "writing manifest.json")],
)
def test_a_failure_writing_the_report_or_manifest_is_a_pipeline_error_and_keeps_the_failed_run(
    tmp_path, monkeypatch, step, words
):
    import pipeline.run as pipeline

    def broken(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(pipeline, step, broken)
    notebooks = tiny_notebooks(tmp_path / "nbs", "x = 1")
    out = tmp_path / "run"
    with pytest.raises(PipelineError) as caught:
        pipeline.run_analysis(COHORT, out, notebooks_dir=notebooks, progress=False)
    assert caught.value.exit_status == 1
    assert f"{words} failed: OSError: No space left on device" in str(caught.value)
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    assert (tmp_path / "run.failed" / "notebooks" / "01_tiny.ipynb").exists()


def test_the_command_line_works_from_any_folder_with_out_relative_to_that_folder(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", "x = 1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run_cli(
        "run",
        "--notebooks",
        str(notebooks),
        "--out",
        "relative_run",
        cwd=elsewhere,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    # Default --data is the repository's shipped cohort, whichever the folder.
    assert (elsewhere / "relative_run" / "input" / COHORT.name).read_bytes() == COHORT.read_bytes()
    assert "run complete: relative_run " in done.stdout


def test_a_bad_file_named_relative_to_another_folder_gets_the_validate_report_not_a_notebook_error(
    tmp_path,
):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = run_cli(
        "run",
        "--data",
        "ragged_row.csv",
        "--out",
        str(tmp_path / "run"),
        cwd=BAD_INPUTS,
        timeout=120,
        env=env,
    )
    validate = run_cli("validate", "ragged_row.csv", cwd=BAD_INPUTS, timeout=120, env=env)
    assert run.returncode == 2 and validate.returncode == 2
    assert run.stderr == "error: " + validate.stdout
    assert validate.stdout.startswith("ragged_row.csv: 1 problem in 8 rows")
    assert list(tmp_path.iterdir()) == []


def test_a_file_with_only_warnings_runs_and_the_warning_is_printed(tmp_path):
    warned = BAD_INPUTS / "cr_after_one_cycle_warning.csv"
    before = sha(warned)
    notebooks = tiny_notebooks(tmp_path / "nbs", "x = 1")
    out = tmp_path / "run"
    done = run_notebooks(notebooks, out, data=warned)
    assert done.returncode == 0, done.stderr
    assert (
        "warning (the run went ahead): line 4 (patient P03), column response: 'cr' with "
        "blina_cycles '1': the paper's CR patients all received 2 cycles"
    ) in done.stderr
    assert (out / "notebooks" / "01_tiny.ipynb").exists() and sha(warned) == before


def test_a_string_parameter_is_passed_as_data_and_never_executed(tmp_path):
    payload = "x\"\"\"'''; import pathlib; pathlib.Path('pwned').write_text('1') #\nsecond line\\"
    notebooks = tiny_notebooks(
        tmp_path / "nbs",
        "import pathlib\npathlib.Path('echo.txt').write_text(label)",
        params='label: str = "default"  # any text\n',
    )
    out = tmp_path / "run"
    done = run_notebooks(notebooks, out, "-p", "label", payload)
    assert done.returncode == 0, done.stderr
    assert (out / "echo.txt").read_text() == payload
    assert not (out / "pwned").exists() and not (ROOT / "pwned").exists()


def _kernels_below(pid: int) -> list:
    """The live ipykernel processes (``psutil.Process``) started under ``pid``."""
    import psutil

    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [child for child in children if is_kernel(child)]


@KERNEL_KINDS
@pytest.mark.parametrize(
    ("sig", "whole_group"),
    [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
    ids=["SIGINT", "SIGTERM", "SIGINT-to-process-group-as-Ctrl-C"],
)
def test_interrupting_a_run_leaves_no_run_directory_and_no_kernel(
    tmp_path, sig, whole_group, copies
):
    body = "import pathlib, time\npathlib.Path(output_dir, 'sleeping').touch()\ntime.sleep(60)"
    notebooks = tiny_notebooks(tmp_path / "nbs", body, copies=copies)
    out = tmp_path / "run"
    # Own session: the process group a terminal's Ctrl-C signals, without the test runner in it.
    proc = start_run(notebooks, out, start_new_session=whole_group)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "run.partial" / "sleeping").exists():
        time.sleep(0.1)  # until a kernel runs the sleeping cell
    kernels = _kernels_below(proc.pid)
    assert kernels, "the kernel never started"
    if whole_group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr, stderr
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    assert still_running(kernels, within=5) == []


def test_rendering_a_finished_run_s_report_again_gives_the_same_pages_byte_for_byte(
    shipped_run, tmp_path
):
    # The notebooks' files are compared with a second execution in tests/test_second_execution.py.
    again = tmp_path / "run"
    shutil.copytree(shipped_run, again)
    shutil.rmtree(again / "report")
    report.render_report(again, cohort_file=COHORT.name, kind="internal")
    first = {
        p.relative_to(shipped_run): sha(p)
        for p in (shipped_run / "report").rglob("*")
        if p.is_file()
    }
    second = {p.relative_to(again): sha(p) for p in (again / "report").rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [str(rel) for rel in first if first[rel] != second[rel]] == []


_SWAP_WITH_AN_INTERRUPT = """
import os, pathlib, signal, sys
import pipeline.rundir as rundir
signal.signal(signal.SIGINT, signal.default_int_handler)  # a test runner may pass it on ignored
tmp, exchange = pathlib.Path(sys.argv[1]), sys.argv[2] == "exchange"
out, staging = tmp / "run", tmp / "run.partial"
real_renameat2, real_rename = rundir._renameat2, pathlib.Path.rename
def renameat2_then_interrupt(source, target, flag):
    if flag == rundir._RENAME_EXCHANGE and not exchange:
        return False  # as on a file system without it: two renames
    done = real_renameat2(source, target, flag)
    os.kill(os.getpid(), signal.SIGINT)
    return done
def rename_then_interrupt(self, target):
    result = real_rename(self, target)
    if self == out:  # the first of the two renames: out -> hidden name
        os.kill(os.getpid(), signal.SIGINT)
    return result
rundir._renameat2 = renameat2_then_interrupt
pathlib.Path.rename = rename_then_interrupt
try:
    rundir.swap_into_place(staging, out)
except rundir.InterruptedAfterCompletion:
    print("interrupted after completion")
"""


@pytest.mark.parametrize("how", ["exchange", "two-renames"])
def test_an_interrupt_during_a_forced_replace_waits_until_the_new_run_is_in_place(tmp_path, how):
    # In a process of its own: signal handlers can only be set in the main thread, and a
    # test runner's worker (pytest-xdist) may run tests outside it.
    out, staging = tmp_path / "run", tmp_path / "run.partial"
    out.mkdir()
    (out / "old.txt").write_text("previous run")
    staging.mkdir()
    (staging / "new.txt").write_text("new run")
    done = subprocess.run(
        [sys.executable, "-c", _SWAP_WITH_AN_INTERRUPT, str(tmp_path), how],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "interrupted after completion", done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]


def test_a_failed_run_keeps_a_users_failed_and_old_folders_and_takes_the_next_free_name(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", 'raise ValueError("boom")')
    for name in ("run.failed", "run.old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mine.txt").write_text(name)
    done = run_notebooks(notebooks, tmp_path / "run")
    assert done.returncode == 1, done.stderr
    assert f"kept for inspection as {tmp_path / 'run.failed.2'}" in done.stderr
    assert (tmp_path / "run.failed.2" / "notebooks" / "01_tiny.ipynb").exists()
    for name in ("run.failed", "run.old"):
        assert [p.name for p in (tmp_path / name).iterdir()] == ["mine.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "nbs",
        "run.failed",
        "run.failed.2",
        "run.old",
    ]


def test_force_replaces_a_previous_run_and_nothing_beside_it(tmp_path):
    notebooks = tiny_notebooks(tmp_path / "nbs", "x = 1")
    out = tmp_path / "run"
    assert run_notebooks(notebooks, out).returncode == 0
    (out / "stale.txt").write_text("from the previous run")
    (tmp_path / "run.old").mkdir()
    done = run_notebooks(notebooks, out, "--force")
    assert done.returncode == 0, done.stderr
    assert not (out / "stale.txt").exists() and (out / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "run", "run.old"]


def test_a_second_concurrent_run_on_the_same_out_fails_at_once_and_the_first_completes(tmp_path):
    # The first run's notebook waits until the test has seen the second run end.
    release = tmp_path / "release"
    notebooks = tiny_notebooks(
        tmp_path / "nbs",
        "import pathlib, time\nwhile not pathlib.Path(release).exists():\n    time.sleep(0.2)",
        params='release: str = "x"  # file that ends the wait\n',
    )
    out = tmp_path / "run"
    first = start_run(notebooks, out, "-p", "release", str(release))
    deadline = time.monotonic() + 120
    while not _kernels_below(first.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    second = run_notebooks(notebooks, out, "--force", "-p", "release", str(release))
    first_running = first.poll() is None
    release.write_text("go")
    _, stderr = first.communicate(timeout=300)
    assert second.returncode == 2, second.stderr
    assert second.stderr.strip() == (
        f"error: another run is writing {out} (lock .run.lock); "
        "wait for it to finish or choose another --out"
    )
    assert first_running
    assert first.returncode == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbs", "release", "run"]


@pytest.mark.parametrize(
    "copies", [2, FORK_FROM_NOTEBOOKS], ids=["started kernels", "forked kernels"]
)
def test_workers_and_kernels_die_with_a_runner_killed_by_sigkill(tmp_path, copies):
    import psutil

    notebooks = tiny_notebooks(tmp_path / "nbs", "import time\ntime.sleep(120)", copies=copies)
    # Below a subreaper, as in CI: an orphaned kernel is not adopted by init.
    adopter = adopted(
        pipeline_command(*run_args(notebooks, tmp_path / "run", "--workers", "2")),
        tmp_path,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while len(_kernels_below(adopter.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        (runner,) = psutil.Process(adopter.pid).children()
        descendants = runner.children(recursive=True)
        servers = [p for p in descendants if "pipeline.kernels" in " ".join(p.cmdline())]
        assert bool(servers) == (copies >= FORK_FROM_NOTEBOOKS)
        # the probes import none of the analysis packages: the server imported the kernel alone
        assert all(p.cmdline()[-1] == KERNEL_ONLY[-1] for p in servers)
        # two workers, each with a kernel (a third may be starting as a finished one shuts down)
        assert len(_kernels_below(runner.pid)) >= 2 and len(descendants) >= 4
        runner.kill()
        still_running(descendants, within=10)  # until they have ended
    finally:
        adopter.kill()
        adopter.wait()
    assert still_running(descendants) == []


_EDIT_THE_INPUT = """import pathlib
p = pathlib.Path(original)
p.write_text(p.read_text() + "\\n")"""


def test_the_manifest_hashes_the_copy_analysed_even_when_the_input_changes_during_the_run(tmp_path):
    data = tmp_path / "cohort.csv"
    shutil.copyfile(COHORT, data)
    notebooks = tiny_notebooks(
        tmp_path / "nbs", _EDIT_THE_INPUT, params='original: str = "x"  # the file to edit\n'
    )
    out = tmp_path / "run"
    done = run_notebooks(notebooks, out, "-p", "original", str(data), data=data)
    assert done.returncode == 0, done.stderr
    assert sha(data) != sha(COHORT)  # edited while the run went on
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["input"]["sha256"] == sha(out / "input" / "cohort.csv") == sha(COHORT)


def test_someone_elses_data_under_a_hostile_name_reach_the_report_only_as_text(followup_share_run):
    from test_output_safety import live_payloads, page_text

    out = followup_share_run
    assert sorted(p.stem for p in (out / "notebooks").glob("*.ipynb")) == NOTEBOOK_STEMS
    index = (out / "report" / "index.html").read_text(encoding="utf-8")
    assert "RECONSTRUCTED DATA" not in index and "supplied by the analyst" in index
    pages = sorted((out / "report").glob("*.html"))
    assert len(pages) == len(NOTEBOOK_STEMS) + 1
    for page in pages:
        assert live_payloads(page.read_text(encoding="utf-8")) == [], page.name
    assert f"Data: {HOSTILE_NAME}.csv" in page_text(
        (out / "report" / f"{NOTEBOOK_STEMS[0]}.html").read_text(encoding="utf-8")
    )
    comparisons = page_text(
        (out / "report" / "05_historic_comparison.html").read_text(encoding="utf-8")
    )
    assert HOSTILE_STUDY in comparisons  # shown, as text


def test_a_failure_in_one_of_two_concurrent_notebooks_stops_the_other_and_its_kernel(tmp_path):
    # the first notebook fails a second after the second has started (both kernels running)
    notebooks = tiny_notebooks(
        tmp_path / "nbs",
        "import pathlib, time\n"
        "started = pathlib.Path(output_dir, 'slow_started')\n"
        "for _ in range(600):  # a minute at most: the test then fails on the kernel count\n"
        "    if started.exists():\n"
        "        break\n"
        "    time.sleep(0.1)\n"
        "time.sleep(1)\n"
        "raise RuntimeError('first notebook fails')",
    )
    slow = nbformat.read(notebooks / "01_tiny.ipynb", as_version=4)
    slow.cells[-1] = new_code_cell(
        "import pathlib, time\npathlib.Path(output_dir, 'slow_started').touch()\ntime.sleep(300)"
    )
    nbformat.write(slow, notebooks / "02_slow.ipynb")
    out = tmp_path / "run"
    proc = start_run(notebooks, out, "--workers", "2")
    kernels: set = set()
    while proc.poll() is None:
        kernels |= set(_kernels_below(proc.pid))
        time.sleep(0.5)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1, stderr
    assert "notebook 01_tiny.ipynb failed in cell 3 of 3" in stderr
    assert (
        "RuntimeError: first notebook fails" in stderr and "02_slow" not in stderr.splitlines()[-2]
    )
    assert len(kernels) == 2  # both ran at the same time
    assert still_running(kernels, within=5) == []
    assert not out.exists() and (tmp_path / "run.failed" / "notebooks" / "01_tiny.ipynb").exists()
    assert not (tmp_path / "run.failed" / "notebooks" / "02_slow.ipynb").exists()


@pytest.mark.parametrize(
    ("names", "waiting"),
    [
        (
            ["01_a", "02_b", "06_reproduction_report", "07_c"],
            {"06_reproduction_report": {"01_a", "02_b"}},
        ),
        (["06_reproduction_report", "07_c"], {}),
        (["01_a", "07_c"], {}),
    ],
)
def test_the_reproduction_report_waits_for_the_notebooks_before_it_and_no_other(names, waiting):
    from pipeline.run import waits_for

    assert waits_for([Path(f"{n}.ipynb") for n in names]) == {
        n: waiting.get(n, set()) for n in names
    }


def test_the_reproduction_report_starts_only_once_a_slow_notebook_before_it_has_written(tmp_path):
    notebooks = write_probe(
        tmp_path / "nbs",
        RUN_PARAMETERS,
        "import time, pathlib\ntime.sleep(3)\npathlib.Path(output_dir, 'written').touch()",
        name="01_slow",
    )
    write_probe(
        tmp_path / "more",
        RUN_PARAMETERS,
        "import pathlib\nassert pathlib.Path(output_dir, 'written').exists()",
        name="06_reproduction_report",
    )
    shutil.move(tmp_path / "more" / "06_reproduction_report.ipynb", notebooks)
    done = run_notebooks(notebooks, tmp_path / "run")
    assert done.returncode == 0, done.stderr
