"""A batch's plan, names, parameters, lock and workers: each run analyses its own patients with
the values it is named after, one batch at a time per folder, and nothing outlives the runner.

Planning, naming, the grid and the resume check are tested as functions; the lock and the
parameter file through ``main`` in-process (papermill made to fail if called, or ``run_analysis``
replaced in the forked pool); only ``kill -9`` of the runner needs a real subprocess.
"""

from __future__ import annotations

import ast
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pandas as pd
import pytest
from probe_notebooks import RUN_PARAMETERS, adopted, is_kernel, still_running, write_probe

import pipeline.__main__ as cli
import pipeline.run
from pipeline.__main__ import main
from pipeline.batch import (
    ALL_PATIENTS,
    NAME_PART_MAX,
    NO_CENTRE,
    OTHER_CENTRES,
    RUN_NAME_MAX,
    RunSpec,
    check_grid,
    is_up_to_date,
    parameter_file_record,
    parse_grid,
    plan_batch,
    run_batch,
    write_snakefile,
)
from pipeline.kernels import FORK_FROM_NOTEBOOKS
from pipeline.run import list_notebooks
from pipeline.rundir import run_lock

ROOT = Path(__file__).resolve().parents[1]
COHORT = ROOT / "data" / "reconstructed_cohort.csv"
NOTEBOOKS = ROOT / "notebooks"
PORTABLE = re.compile(r"^[A-Za-z0-9_.=-]+$")


@pytest.fixture(autouse=True)
def keep_signal_handlers(monkeypatch):
    monkeypatch.setattr(cli, "install_interrupt_handlers", lambda: None)


def cohort_with_centres(folder: Path, centres: list[str], name: str = "registry") -> Path:
    """The shipped cohort with its patients dealt to ``centres`` in turn."""
    frame = pd.read_csv(COHORT, dtype=str, keep_default_na=False)
    frame["center"] = [centres[i % len(centres)] for i in range(len(frame))]
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


# --- names: every centre and run its own file and folder ----------------------------------


def centre_runs(specs: list[RunSpec]) -> list[RunSpec]:
    """The runs of the centres' subsets: a batch by centre also runs the whole file (all patients)."""
    whole = [s for s in specs if s.centre == ALL_PATIENTS]
    assert whole and all("work" not in s.data.parts for s in whole)  # it reads the input itself
    return [s for s in specs if s.centre != ALL_PATIENTS]


@pytest.mark.parametrize(
    "centres",
    [
        ["x", "_x"],
        ["", "run"],
        ["", "Αθήνα"],
        ["A-B", "A.B"],
        ["Αθήνα", "Λάρισα"],
        ["X", "x"],
        ["a" * 300, "b"],
        ["c/../d", "c_.._d"],
        [NO_CENTRE, ""],
    ],
    ids=[
        "x-and-_x",
        "blank-and-run",
        "blank-and-greek",
        "A-B-and-A.B",
        "all-greek",
        "case-only",
        "300-characters",
        "slashes",
        "blank-and-its-label",
    ],
)
def test_centres_whose_names_reduce_to_one_file_name_get_their_own_subset_and_run(
    tmp_path, centres
):
    data = cohort_with_centres(tmp_path, centres)
    out = tmp_path / "batch"
    every = plan_batch([data], out, by="center", grid=["bmb_high_cutoff=40,60"])
    assert len({s.name.lower() for s in every}) == len(every) == 2 * (len(centres) + 1)
    specs = centre_runs(every)
    assert all(PORTABLE.match(s.name) and len(s.name) <= RUN_NAME_MAX for s in specs)
    assert len({s.data for s in specs}) == len(centres)
    for spec in specs:
        assert (
            spec.data.parent == out / "work" / "registry"
            and len(spec.data.stem) <= 2 * NAME_PART_MAX + 10
        )
        rows = pd.read_csv(spec.data, dtype=str, keep_default_na=False)
        (value,) = set(rows["center"])  # one centre per subset
        assert (value or NO_CENTRE) == spec.centre
        assert len(rows) == sum(1 for i in range(34) if centres[i % len(centres)] == value)
    assert sorted(s.centre for s in specs) == sorted(2 * [c or NO_CENTRE for c in centres])


def test_a_small_centre_named_like_the_pool_is_kept_apart_from_it(tmp_path):
    data = cohort_with_centres(tmp_path, ["big"] * 10 + ["other centres", "tiny"])
    specs = centre_runs(plan_batch([data], tmp_path / "batch", by="center", min_patients=10))
    assert [s.centre for s in specs] == ["big", OTHER_CENTRES]
    pooled = pd.read_csv(specs[1].data, dtype=str)
    assert sorted(set(pooled["center"])) == ["other centres", "tiny"]


def test_a_large_centre_named_like_the_pool_and_the_pool_have_two_files(tmp_path):
    data = cohort_with_centres(tmp_path, ["other centres"] * 10 + ["tiny"])
    specs = centre_runs(plan_batch([data], tmp_path / "batch", by="center", min_patients=10))
    assert [s.centre for s in specs] == [OTHER_CENTRES, OTHER_CENTRES]
    assert [set(pd.read_csv(s.data, dtype=str)["center"]) for s in specs] == [
        {"other centres"},
        {"tiny"},
    ]
    assert specs[0].name != specs[1].name


def test_two_files_with_the_same_stem_or_a_stem_that_joins_like_a_centre_never_share_a_subset(
    tmp_path,
):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = cohort_with_centres(tmp_path / "one", ["b-c"], name="a")
    second = cohort_with_centres(tmp_path / "two", ["c"], name="a-b")
    third = cohort_with_centres(tmp_path, ["z"], name="a")
    specs = centre_runs(plan_batch([first, second, third], tmp_path / "batch", by="center"))
    assert len({s.data for s in specs}) == 3 and len({s.name for s in specs}) == 3
    assert [set(pd.read_csv(s.data, dtype=str)["center"]) for s in specs] == [{"b-c"}, {"c"}, {"z"}]


def test_only_the_named_subsets_are_written(tmp_path):
    data = cohort_with_centres(tmp_path, ["a" * 300, "b"])
    specs = centre_runs(plan_batch([data], tmp_path / "batch", by="center"))
    assert sorted(p.name for p in (tmp_path / "batch" / "work" / "registry").iterdir()) == sorted(
        s.data.name for s in specs
    )


def test_snakefile_rules_are_distinct_and_call_this_interpreter(tmp_path):
    data = cohort_with_centres(tmp_path, ["A-B", "A.B"])
    specs = plan_batch([data], tmp_path / "batch", by="center")
    text = write_snakefile(specs, tmp_path / "batch", tmp_path / "Snakefile").read_text(
        encoding="utf-8"
    )
    rules = re.findall(r"^rule (\w+):$", text, flags=re.MULTILINE)
    assert len(rules) == len(set(rules)) == 4  # the whole file and the two centres, and `all`
    shells = [
        ast.literal_eval(line.split("shell: ", 1)[1])
        for line in text.splitlines()
        if line.startswith("    shell: ")
    ]
    assert all(shell.startswith(f"{sys.executable} -m pipeline run ") for shell in shells)
    assert Path(sys.executable).is_absolute()


# --- the grid: each parameter once, each value once, checked at plan time -----------------


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        (
            ["bmb_high_cutoff=40,50", "bmb_high_cutoff=60"],
            "bmb_high_cutoff is already given by --grid 'bmb_high_cutoff=40,50'",
        ),
        (["bmb_high_cutoff=40,40"], "the value '40' is given twice"),
    ],
)
def test_a_grid_parameter_or_value_given_twice_is_refused(grid, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_grid(grid)


@pytest.mark.parametrize(
    ("grid", "settings", "message"),
    [
        (["bmb_high_cutoff=50,050"], {}, "'50' and '050' are the same value (50)"),
        (["nosuch=1"], {}, "unknown parameter 'nosuch': no notebook declares it"),
        (["data_path=x.csv"], {}, "data_path is set by the batch for each run"),
        (["bmb_high_cutoff=101"], {}, "parameter 'bmb_high_cutoff' = 101 is out of range"),
        (["bmb_high_cutoff=abc"], {}, "parameter 'bmb_high_cutoff' must be int, got 'abc'"),
        (
            ["bmb_low_cutoff=40"],
            {"bmb_high_cutoff": 30},
            "'bmb_low_cutoff' = 40 must be below 'bmb_high_cutoff' = 30",
        ),
        (["subgroup_columns=nosuch"], {}, "'nosuch' is not one of the grouping columns"),
        ([], {"nosuch": 1}, "unknown key 'nosuch'"),
    ],
)
def test_grid_values_are_checked_as_a_run_checks_them_before_anything_runs(grid, settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        check_grid(grid, NOTEBOOKS, settings)


def test_a_bad_grid_stops_the_batch_with_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "batch"
    status = main(
        [
            "batch",
            str(COHORT),
            "--out",
            str(out),
            "--by",
            "center",
            "--grid",
            "bmb_high_cutoff=40,50",
            "--grid",
            "bmb_high_cutoff=60",
        ]
    )
    err = capsys.readouterr().err
    assert (
        status == 2
        and err.startswith("error: --grid 'bmb_high_cutoff=60'")
        and err.count("\n") == 1
    ), err
    assert list(tmp_path.iterdir()) == []


# --- one parameter source: the batch reads analysis.toml or --params, as run does --------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ([], str(ROOT / "analysis.toml")),
        (["--params", "PARAMS"], "PARAMS"),
        (["--notebooks", str(NOTEBOOKS)], None),
    ],
)
def test_the_batch_passes_each_run_the_parameter_file_run_would_read(
    tmp_path, capsys, extra, expected
):
    params = tmp_path / "mine.toml"
    params.write_text("bmb_high_cutoff = 60\n", encoding="utf-8")
    extra = [str(params) if a == "PARAMS" else a for a in extra]
    expected = str(params) if expected == "PARAMS" else expected
    snake = tmp_path / "Snakefile"
    assert (
        main(
            [
                "batch",
                str(COHORT),
                "--out",
                str(tmp_path / "batch"),
                "--snakefile",
                str(snake),
                *extra,
            ]
        )
        == 0
    )
    shell = ast.literal_eval(
        re.search(r"^    shell: (.+)$", snake.read_text(), flags=re.MULTILINE).group(1)
    )
    if expected is None:
        assert "--params" not in shell
    else:
        words = shell.split()
        assert words[words.index("--params") + 1] == expected


@pytest.mark.parametrize(
    ("recorded", "given", "up_to_date"),
    [
        (None, None, True),
        (
            {"file": "analysis.toml", "sha256": "a" * 64},
            {"file": "other.toml", "sha256": "a" * 64},
            True,
        ),
        (
            {"file": "analysis.toml", "sha256": "a" * 64},
            {"file": "analysis.toml", "sha256": "b" * 64},
            False,
        ),
        (None, {"file": "analysis.toml", "sha256": "a" * 64}, False),
        ({"file": "analysis.toml", "sha256": "a" * 64}, None, False),
    ],
)
def test_a_run_is_up_to_date_only_when_made_with_the_same_parameter_file(
    tmp_path, recorded, given, up_to_date
):
    from helpers.provenance import file_sha256

    spec = RunSpec("r", COHORT)
    (tmp_path / "results.csv").write_text("notebook,key\n", encoding="utf-8")
    manifest = {
        "kind": "internal",
        "input": {"sha256": file_sha256(COHORT)},
        "parameter_file": recorded,
        "parameters": {},
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert is_up_to_date(spec, tmp_path, False, given) is up_to_date


def _fake_run(data, out, *, params_file=None, notebooks_dir, **kwargs):
    """Stands in for run_analysis in the forked workers: a finished run recording its parameter
    file and notebooks."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    from helpers.provenance import file_sha256

    (out / "results.csv").write_text("notebook,key\n", encoding="utf-8")
    manifest = {
        "kind": "internal",
        "input": {"sha256": file_sha256(data)},
        "parameters": {},
        "notebooks": {nb.stem: file_sha256(nb) for nb in list_notebooks(notebooks_dir)},
        "parameter_file": parameter_file_record(params_file),
    }
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


#: what changes between batches -> how
CHANGES = {
    "the parameter file": lambda params, notebook: params.write_text(
        "bmb_high_cutoff = 40\n", encoding="utf-8"
    ),
    "a notebook": lambda params, notebook: notebook.write_text(
        notebook.read_text(encoding="utf-8").replace("1 + 1", "2 + 2"), encoding="utf-8"
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_parameter_file_or_notebook_makes_the_batch_redo_its_runs(
    tmp_path, monkeypatch, change
):
    monkeypatch.setattr(
        pipeline.run, "run_analysis", _fake_run
    )  # the pool forks: the workers see it
    params = tmp_path / "mine.toml"
    params.write_text("bmb_high_cutoff = 60\n", encoding="utf-8")
    notebooks = write_probe(tmp_path / "nbs", RUN_PARAMETERS, "1 + 1")
    specs = plan_batch([COHORT], tmp_path / "batch", grid=["lines_cutoff=1,2"])

    def statuses():
        return [
            o.status
            for o in run_batch(
                specs,
                tmp_path / "batch",
                jobs=1,
                progress=False,
                params_file=params,
                notebooks_dir=notebooks,
            )
        ]

    assert statuses() == ["done", "done"]
    assert statuses() == ["skipped", "skipped"]
    CHANGES[change](params, next(notebooks.glob("*.ipynb")))
    assert statuses() == ["done", "done"]
    assert statuses() == ["skipped", "skipped"]


# --- one batch at a time per folder; the workers die with the runner ---------------------


def test_a_second_batch_on_the_same_out_stops_at_once(tmp_path, capsys):
    out = tmp_path / "batch"
    with run_lock(out):
        status = main(["batch", str(COHORT), "--out", str(out), "--by", "center"])
        err = capsys.readouterr().err
    assert status == 2 and err == (
        f"error: another run is writing {out} (lock .batch.lock); wait for it to "
        "finish or choose another --out\n"
    )
    assert not out.exists()


def test_the_batch_lock_also_keeps_a_run_out_of_the_batch_folder(tmp_path, capsys):
    out = tmp_path / "batch"
    with run_lock(out):
        assert main(["run", "--data", str(COHORT), "--out", str(out)]) == 2
    assert "another run is writing" in capsys.readouterr().err


def _stopped_mid_run(*args, **kwargs):
    """Stands in for run_analysis in a batch worker: SIGTERM arrives while the run goes on."""
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(60)  # cut short by the KeyboardInterrupt the handler raises


def test_a_batch_worker_stopped_by_sigterm_ends_even_while_its_runner_looks_alive(
    tmp_path, monkeypatch
):
    # The runner's death signal comes when its forking thread ends, maybe before its last
    # thread: getppid() still names the runner, as here, where the runner lives.
    from pipeline.batch import _run_one, _worker_started

    monkeypatch.setattr(pipeline.run, "run_analysis", _stopped_mid_run)
    spec = plan_batch([COHORT], tmp_path / "batch")[0]
    with ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_started,
        initargs=(os.getpid(),),
    ) as pool:
        future = pool.submit(_run_one, spec, tmp_path / "batch" / "runs" / spec.name, None, False)
        # The worker ends instead of going back to wait for work with SIGTERM ignored.
        assert isinstance(future.exception(timeout=60), BrokenProcessPool)


def _descendants(pid: int) -> list:
    import psutil

    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _described(proc) -> str:
    import psutil

    try:
        return f"{proc.pid} {' '.join(proc.cmdline())[-80:]}"
    except psutil.Error as err:
        return f"{proc.pid} ({type(err).__name__})"


@pytest.mark.slow
@pytest.mark.parametrize(
    "labels",
    # a batch of FORK_FROM_NOTEBOOKS notebooks or more forks its kernels from one server
    ["1,2", ",".join(map(str, range(1, FORK_FROM_NOTEBOOKS + 1)))],
    ids=["started kernels", "forked kernels"],
)
def test_run_workers_and_kernels_die_with_a_batch_runner_killed_by_sigkill(tmp_path, labels):
    import psutil

    notebooks = write_probe(
        tmp_path / "nbs",
        'data_path: str = "x.csv"\noutput_dir: str = "."\nlabel: int = 0',
        "import time\ntime.sleep(120)",
    )
    out = tmp_path / "batch"
    log = tmp_path / "stderr.txt"
    stderr = log.open("w")
    # Below a subreaper, as in CI: an orphaned kernel is not adopted by init.
    adopter = adopted(
        [
            sys.executable,
            "-m",
            "pipeline",
            "batch",
            str(COHORT),
            "--out",
            str(out),
            "--grid",
            f"label={labels}",
            "--notebooks",
            str(notebooks),
            "--jobs",
            "2",
        ],
        tmp_path,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 120
        kernels = []
        while len(kernels) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            kernels = [p for p in _descendants(adopter.pid) if is_kernel(p)]
        assert len(kernels) == 2, f"the kernels never started: {log.read_text()}"
        (runner,) = psutil.Process(adopter.pid).children()
        family = _descendants(runner.pid)
        assert len(family) >= 6  # two run workers, their notebook workers, two kernels
        servers = [p for p in family if "pipeline.kernels" in _described(p) and not is_kernel(p)]
        assert len(servers) == (labels.count(",") + 1 >= FORK_FROM_NOTEBOOKS)
        runner.kill()
        survivors = [_described(p) for p in still_running(family, within=60)]
    finally:
        adopter.kill()
        adopter.wait()
        stderr.close()
    assert survivors == [], f"alive after the runner was killed: {survivors}"
    # Stopped by SIGTERM, each run removed its partial folder on the way out.
    assert sorted(p.name for p in (out / "runs").iterdir()) == []
