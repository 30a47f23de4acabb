"""Run every notebook with papermill into one self-contained run directory.

A run directory holds::

    input/         a copy of the cohort file that was analysed
    notebooks/     the executed notebooks
    report/        each notebook as HTML, plus index.html linking them
    tables/        every table as CSV and XLSX
    figures/       every figure as PNG and SVG
    results/       one CSV of statistics per notebook
    results.csv    all of them, one tidy row per statistic
    manifest.json  input hash, parameters, package versions, git commit, durations

It is built under ``<out>.partial`` and renamed to ``<out>`` only when every
notebook has run and the report is written, so a directory with the final name
is always complete. A failed run (a failing cell, a kernel that dies, a cell
past ``--cell-timeout``, an error writing the report or manifest) is left as
``<out>.failed`` for inspection, with a short message naming the notebook; an
interrupted one (Ctrl-C, SIGTERM) is removed. Replacing a run (``--force``)
holds interrupts back during the two renames, and a run killed between them
(SIGKILL) is repaired at the start of the next run.

Notebooks run in forked worker processes, each with its own kernel (no state is
shared between notebooks), up to :data:`DEFAULT_WORKERS` at a time for cohorts
under :data:`CONCURRENT_BELOW_ROWS` rows (one at a time above, where memory per
kernel matters more than start-up time); a notebook
in :data:`RUNS_AFTER_THE_OTHERS` (the reproduction report, which reads the
others' results) starts only when all notebooks before it have finished. The
first failure stops the other workers and shuts their kernels down. The run
directory is byte-for-byte the same as with ``workers=1`` (only the durations
in ``manifest.json`` differ).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import nbformat

from helpers.results import RESULT_COLUMNS, read_results

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
#: Parameters the pipeline sets itself; a user cannot override them with -p.
RESERVED_PARAMETERS = ("data_path", "output_dir")
#: Notebooks that read what the other notebooks wrote (results/, tables/): each runs
#: alone, after every notebook before it has finished.
RUNS_AFTER_THE_OTHERS = ("06_reproduction_report",)
#: Notebooks executed at the same time (each in its own process and kernel) by default...
DEFAULT_WORKERS = 2
#: ...for cohorts with fewer rows than this; larger cohorts run one notebook at a
#: time, since then memory (one cohort copy per kernel) matters more than start-up time.
CONCURRENT_BELOW_ROWS = 10_000
#: Packages whose versions go into the manifest.
MANIFEST_PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "seaborn", "papermill",
                     "nbconvert", "pandera", "ortools", "openpyxl")
KERNEL_NAME = "python3"


@contextlib.contextmanager
def kernel_config():
    """Kernel-manager settings for one notebook run: local IPC sockets in a private folder.

    The kernel then has no network ports, and ipykernel does not print its
    "running over TCP without encryption" warning into the progress bar. The
    socket files go to a fresh temporary folder, removed afterwards: kernels
    sharing a folder would race for the same socket names. The kernel's own
    log is limited to critical messages: jupyter_client interrupts every
    kernel as it shuts it down, which ipykernel logs as an error
    ("KeyboardInterrupt caught in kernel") at random. Cell errors are not
    affected; they reach the notebook and the pipeline's message.

    Yields
    ------
    traitlets.config.Config
        To pass as ``config=`` to papermill or nbclient.
    """
    import tempfile

    from traitlets.config import Config

    with tempfile.TemporaryDirectory(prefix="nbk-") as sockets:  # short: socket paths ~100 chars
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(sockets, "kernel-ipc")
        config.NotebookClient.extra_arguments = ["--IPKernelApp.log_level=CRITICAL"]
        yield config


class PipelineError(Exception):
    """A run could not complete; ``str()`` is a short message for the analyst.

    ``exit_status`` is 2 for bad input (data file or parameters) and 1 for a
    failure while executing a notebook.
    """

    def __init__(self, message: str, exit_status: int = 1):
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class RunSummary:
    """What a finished run produced.

    Attributes
    ----------
    run_dir : Path
        The complete run directory (absolute).
    notebooks : tuple of str
        Stems of the notebooks executed, in order.
    durations : mapping
        Seconds each notebook took (also in ``manifest.json``).
    n_results : int
        Rows (statistics) in ``results.csv``.
    warnings : tuple of str
        Warnings of the data validation (the run went ahead), as printed by
        ``validate``; empty when there were none.
    sheet : str or None
        The workbook sheet analysed (None for a CSV).
    """

    run_dir: Path
    notebooks: tuple[str, ...]
    durations: Mapping[str, float]
    n_results: int
    warnings: tuple[str, ...] = ()
    sheet: str | None = None


# --- discovering notebooks and parameters -----------------------------------------

def list_notebooks(folder: str | Path) -> list[Path]:
    """Notebooks named ``NN_noun_phrase.ipynb`` in ``folder``, in name order.

    Parameters
    ----------
    folder : str or Path
        Folder to look in (not recursive).

    Returns
    -------
    list of Path

    Raises
    ------
    PipelineError
        When there are none (exit status 2).
    """
    paths = sorted(p for p in Path(folder).glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))
    if not paths:
        raise PipelineError(f"no notebooks named NN_name.ipynb in {folder}", exit_status=2)
    return paths


def declared_parameters(notebook: str | Path) -> dict[str, dict]:
    """Parameters declared in a notebook's ``parameters`` cell (papermill's inference).

    Returns ``{name: {"type": "int"|"float"|"str"|"bool"|..., "default": text, "help": text}}``.
    """
    import papermill

    found = papermill.inspect_notebook(str(notebook))
    nb = nbformat.read(str(notebook), as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            for number, line in enumerate(cell.source.splitlines(), start=1):
                match = re.match(r"^([A-Za-z_]\w*)\s*(:[^=]*)?=", line)
                if match and match.group(1) not in found:
                    raise PipelineError(
                        f"{Path(notebook).name}: papermill cannot read line {number} of the "
                        f"parameters cell ({line.strip()!r}); keep '=' out of the comment",
                        exit_status=2)
    return {
        name: {"type": info.get("inferred_type_name", "None"),
               "default": info.get("default"), "help": info.get("help", "")}
        for name, info in found.items()
    }


def coerce_parameters(pairs: Sequence[tuple[str, str]],
                      declared: Mapping[str, Mapping[str, dict]]) -> dict[str, object]:
    """Turn ``-p NAME VALUE`` pairs into typed values, checking every name exists.

    Parameters
    ----------
    pairs : sequence of (name, text)
        As given on the command line. Values are always data: a string is passed
        to papermill, which writes it as an escaped literal, never as code.
    declared : mapping
        ``{notebook name: declared_parameters(...)}``.

    Returns
    -------
    dict
        ``{name: value}`` typed as the first notebook declaring the name declares it.

    Raises
    ------
    PipelineError
        For a name no notebook declares, a reserved name, or a value that does
        not convert to the declared type (exit status 2).
    """
    types: dict[str, str] = {}
    for params in declared.values():
        for name, info in params.items():
            types.setdefault(name, info["type"])
    known = sorted(n for n in types if n not in RESERVED_PARAMETERS)
    values: dict[str, object] = {}
    for name, text in pairs:
        if name in RESERVED_PARAMETERS:
            option = "--data" if name == "data_path" else "--out"
            raise PipelineError(f"parameter {name!r} is set by the pipeline; use {option}",
                                exit_status=2)
        if name not in types:
            raise PipelineError(
                f"unknown parameter {name!r}: no notebook declares it. "
                f"Known parameters: {', '.join(known)}", exit_status=2)
        values[name] = _convert(name, text, types[name])
    return values


def _convert(name: str, text: str, type_name: str) -> object:
    try:
        if type_name == "int":
            return int(text)
        if type_name == "float":
            return float(text)
        if type_name == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1"):
                return True
            if lowered in ("false", "no", "0"):
                return False
            raise ValueError(text)
    except ValueError:
        raise PipelineError(f"parameter {name!r} must be {type_name}, got {text!r}",
                            exit_status=2) from None
    return text


# --- running -----------------------------------------------------------------------

def resolve_input_files(data: Path, notebooks_dir: Path, declared: Mapping[str, dict],
                        overrides: Mapping[str, object]) -> dict[str, Path]:
    """The files a run reads: the cohort and every ``*_file`` parameter.

    A ``*_file`` default (e.g. ``"../data/historic_comparators.csv"``) is resolved
    against the notebooks folder, as when the notebook is opened in JupyterLab; a
    value given with ``-p`` against the current directory. Each is copied into the
    run's ``input/`` folder so a run directory records everything it used.

    Parameters
    ----------
    data : Path
        The cohort file.
    notebooks_dir : Path
        Folder of the notebooks (base of relative defaults).
    declared : mapping
        ``{notebook stem: declared_parameters(...)}``.
    overrides : mapping
        Typed ``-p`` values (:func:`coerce_parameters`).

    Returns
    -------
    dict
        ``{parameter name: path}``, ``data_path`` first.

    Raises
    ------
    PipelineError
        If a file does not exist or two different files share a name (exit status 2).
    """
    import ast

    files: dict[str, Path] = {"data_path": data}
    for params in declared.values():
        for name, info in params.items():
            if not name.endswith("_file") or name in files:
                continue
            if name in overrides:
                files[name] = Path(str(overrides[name]))
            else:
                files[name] = Path(notebooks_dir) / ast.literal_eval(info["default"])
    by_name: dict[str, Path] = {}
    for name, path in files.items():
        if not path.is_file():
            raise PipelineError(f"{name}: no such file {path}", exit_status=2)
        other = by_name.setdefault(path.name, path)
        if other.resolve() != path.resolve():
            raise PipelineError(f"two input files share the name {path.name}: {other} and {path}",
                                exit_status=2)
    return files


def default_run_dir(data: str | Path) -> Path:
    """The default run directory for a cohort file.

    Parameters
    ----------
    data : str or Path
        The cohort file.

    Returns
    -------
    Path
        ``outputs/<data file stem>`` under the repository, whatever the current directory.
    """
    return REPO_ROOT / "outputs" / Path(data).stem


def run_analysis(data: str | Path, out: str | Path | None = None, *,
                 parameters: Sequence[tuple[str, str]] = (), force: bool = False,
                 notebooks_dir: str | Path = REPO_ROOT / "notebooks",
                 progress: bool = True, cell_timeout: float | None = None,
                 workers: int | None = None, sheet: str | None = None) -> RunSummary:
    """Validate the cohort, execute every notebook and write a complete run directory.

    Parameters
    ----------
    data : str or Path
        Cohort file (CSV or .xlsx) under the data contract. Never written to.
        A relative path is taken relative to the current directory.
    out : str or Path, optional
        Run directory, relative to the current directory when relative;
        default ``outputs/<data stem>`` under the repository.
    parameters : sequence of (name, text)
        Notebook parameters; unknown names are an error.
    force : bool
        Replace an existing run directory (only once the new run is complete).
    notebooks_dir : str or Path
        Folder of ``NN_name.ipynb`` notebooks.
    progress : bool
        Show a progress bar on stderr.
    cell_timeout : float, optional
        Seconds any one cell may run before the run fails; None (default) for no limit.
    workers : int, optional
        Notebooks executed at the same time, each in its own process and
        kernel (see :func:`execution_waves`); 1 runs them one by one. The
        run directory is the same either way. None (default):
        :data:`DEFAULT_WORKERS` for cohorts under :data:`CONCURRENT_BELOW_ROWS`
        rows, else 1.
    sheet : str, optional
        Workbook sheet to analyse, passed to the notebooks as ``data_sheet``
        (every notebook must declare it); default: the sheet the loader chooses.

    Returns
    -------
    RunSummary
        The final run directory (absolute), the notebooks run, their durations
        in seconds, and the number of statistics in ``results.csv``.

    Raises
    ------
    PipelineError
        Bad data or parameters (exit status 2, before anything is executed and
        before any directory is created), or a notebook, the report or the
        manifest failing (exit status 1; the partial run is kept as
        ``<out>.failed``).
    KeyboardInterrupt
        On Ctrl-C or SIGTERM (see :func:`run_from_cli`); the partial run is removed.
    """
    from helpers.loading import validate_file

    given = data  # reports name the file as the user wrote it, as `validate` does
    data = Path(os.path.abspath(data))
    out = Path(os.path.abspath(out)) if out is not None else default_run_dir(data)
    recover_interrupted_swap(out)
    if out.exists() and not force:
        raise PipelineError(f"{out} already exists; pass --force to replace it or --out "
                            "to write elsewhere", exit_status=2)
    report = validate_file(given, sheet=sheet)
    if not report.ok:
        raise PipelineError(report.format(), exit_status=2)
    notebooks = list_notebooks(notebooks_dir)
    declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
    overrides = coerce_parameters(parameters, declared)
    if sheet is not None:
        # A notebook without the parameter would read the workbook's default sheet.
        unable = [nb.name for nb in notebooks if "data_sheet" not in declared[nb.stem]]
        if unable:
            raise PipelineError(f"--sheet {sheet!r}: the notebooks {', '.join(unable)} take no data_sheet "
                                "parameter, so they would read the workbook's default sheet; save the sheet "
                                "as its own file (or as the only visible sheet) instead", exit_status=2)
        overrides = {**overrides, "data_sheet": sheet}
    inputs = resolve_input_files(data, Path(notebooks_dir), declared, overrides)
    if workers is None:
        workers = DEFAULT_WORKERS if report.n_rows < CONCURRENT_BELOW_ROWS else 1

    staging = out.with_name(out.name + ".partial")
    failed = out.with_name(out.name + ".failed")
    for leftover in (staging, failed):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        durations = _execute_all(inputs, staging, notebooks, declared, overrides, progress,
                                 cell_timeout, workers)
        step = "collecting results.csv"
        try:
            results = _collect_results(staging)
            step = "rendering the HTML report"
            render_report(staging, cohort_file=inputs["data_path"].name)
            step = "writing manifest.json"
            write_manifest(staging, inputs, notebooks, declared, overrides, durations)
        except Exception as err:
            raise PipelineError(f"every notebook ran, but {step} failed: "
                                f"{type(err).__name__}: {err}\n"
                                f"The partial run is kept for inspection as {failed}") from None
    except PipelineError:
        if staging.exists():
            staging.rename(failed)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_into_place(staging, out)
    return RunSummary(out, tuple(nb.stem for nb in notebooks), durations, len(results),
                      tuple(str(w) for w in report.warnings), report.sheet)


def _failure_message(nb: Path, err: BaseException, failed: Path, cell_timeout) -> str:
    """A short, traceback-free description of why executing ``nb`` failed."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    keep = f"\nThe partial run is kept for inspection as {failed}"
    if isinstance(err, PapermillExecutionError):
        number, total = _source_cell_number(nb, err.cell_index)
        first = next((line.strip() for line in (err.source or "").splitlines() if line.strip()), "")
        return (f"notebook {nb.name} failed in cell {number} of {total} (cells counted from 1, "
                f"markdown included, as in the notebook file; In [{err.exec_count}] in the "
                f"executed copy), which begins {first[:80]!r}:\n{err.ename}: {err.evalue}"
                + keep + f"/notebooks/{nb.name}")
    if isinstance(err, CellTimeoutError):
        preview = str(err).split("Here is a preview of the cell contents:", 1)[-1]
        lines = [line.strip() for line in preview.splitlines()
                 if line.strip() and not set(line.strip()) <= {"-"}]
        first = f", in the cell that begins {lines[0][:80]!r}" if lines else ""
        return (f"notebook {nb.name} timed out: a cell ran longer than {cell_timeout:g} s"
                f"{first}" + keep)
    if isinstance(err, DeadKernelError):
        return (f"notebook {nb.name} failed: its kernel died while a cell was running "
                f"({err}); the Python process was ended from inside (os._exit, a crash in "
                "compiled code, or out of memory)" + keep)
    return f"notebook {nb.name} could not be executed: {type(err).__name__}: {err}" + keep


def _source_cell_number(nb: Path, executed_index: int) -> tuple[int, int]:
    """1-based number, in the notebook file, of the cell at ``executed_index`` of the executed copy.

    Papermill inserts one injected-parameters cell after the ``parameters``
    cell (at the top when there is none); cells after it shift by one.
    """
    cells = nbformat.read(str(nb), as_version=4).cells
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    injected = tagged[0] + 1 if tagged else 0
    index = executed_index - 1 if executed_index > injected else executed_index
    return index + 1, len(cells)


def execution_waves(notebooks: Sequence[Path]) -> list[list[Path]]:
    """Split the notebooks into groups run one after the other.

    Parameters
    ----------
    notebooks : sequence of Path
        In name order.

    Returns
    -------
    list of list of Path
        Consecutive notebooks not in :data:`RUNS_AFTER_THE_OTHERS` form one
        group, whose members may run at the same time; each notebook in
        :data:`RUNS_AFTER_THE_OTHERS` is a group of its own, so it starts only
        when every notebook before it has finished.
    """
    waves: list[list[Path]] = []
    current: list[Path] = []
    for nb in notebooks:
        if nb.stem in RUNS_AFTER_THE_OTHERS:
            if current:
                waves.append(current)
            waves.append([nb])
            current = []
        else:
            current.append(nb)
    if current:
        waves.append(current)
    return waves


def _execute_all(inputs: Mapping[str, Path], staging: Path, notebooks: list[Path],
                 declared: Mapping[str, dict], overrides: Mapping[str, object],
                 progress: bool, cell_timeout: float | None = None,
                 workers: int = DEFAULT_WORKERS) -> dict[str, float]:
    """Execute every notebook into ``staging/notebooks``; returns seconds per notebook.

    Each notebook runs in a forked worker process with its own kernel, at most
    ``workers`` at a time within a group of :func:`execution_waves`. The first
    failure stops the others (their kernels are shut down) and raises
    :class:`PipelineError`; an interrupt does the same and re-raises.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    import papermill  # noqa: F401  (imported once here; the forked workers share it)
    from tqdm.auto import tqdm

    (staging / "input").mkdir(parents=True)
    (staging / "notebooks").mkdir()
    base: dict[str, object] = {"output_dir": "."}
    for name, path in inputs.items():
        shutil.copy2(path, staging / "input" / path.name)
        base[name] = f"input/{path.name}"
    failed = staging.with_name(staging.name[:-len(".partial")] + ".failed")
    context = multiprocessing.get_context("fork")
    durations: dict[str, float] = {}
    running: dict[object, tuple[Path, object]] = {}  # connection -> (notebook, process)
    bar = tqdm(total=len(notebooks), desc="notebooks", unit="nb", disable=not progress,
               file=sys.stderr, leave=True)
    try:
        for wave in execution_waves(notebooks):
            pending = list(wave)
            while pending or running:
                while pending and len(running) < max(1, workers):
                    nb = pending.pop(0)
                    params = {k: v for k, v in {**overrides, **base}.items()
                              if k in declared[nb.stem]}
                    receive, send = context.Pipe(duplex=False)
                    proc = context.Process(target=_notebook_worker, daemon=True,
                                           args=(send, nb, staging, params, cell_timeout, failed))
                    proc.start()
                    send.close()
                    running[receive] = (nb, proc)
                bar.set_postfix_str(", ".join(nb.stem for nb, _ in running.values()))
                for conn in wait(list(running)):
                    nb, proc = running.pop(conn)
                    try:
                        status, value = conn.recv()
                    except EOFError:
                        status, value = "failed", (f"notebook {nb.name} could not be executed: its "
                                                   "worker process ended without a result\nThe "
                                                   f"partial run is kept for inspection as {failed}")
                    conn.close()
                    proc.join()
                    if status == "ok":
                        durations[nb.stem] = value
                        bar.update(1)
                    elif status == "interrupted":
                        raise KeyboardInterrupt(f"notebook {nb.name} was interrupted")
                    else:
                        raise PipelineError(value)
    finally:
        _stop_workers(running)
        bar.close()
    return {nb.stem: durations[nb.stem] for nb in notebooks}


def _notebook_worker(conn, nb: Path, staging: Path, params: Mapping[str, object],
                     cell_timeout: float | None, failed: Path) -> None:
    """Body of a worker process: execute one notebook, send ``(status, value)`` back.

    ``status`` is ``"ok"`` (value: seconds), ``"failed"`` (value: the message
    for :class:`PipelineError`) or ``"interrupted"``. Nothing is raised, so no
    traceback reaches the terminal.
    """
    import papermill

    target = staging / "notebooks" / nb.name
    try:
        started = time.perf_counter()
        with kernel_config() as config:
            papermill.execute_notebook(
                str(nb), str(target), parameters=dict(params), cwd=str(staging),
                kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=cell_timeout,
                config=config)
        seconds = round(time.perf_counter() - started, 3)
        strip_volatile_metadata(target)
        result = ("ok", seconds)
    except KeyboardInterrupt:
        result = ("interrupted", "")
    except BaseException as err:  # every failure of one notebook becomes a short message
        try:
            result = ("failed", _failure_message(nb, err, failed, cell_timeout))
        except BaseException:
            result = ("failed", f"notebook {nb.name} failed: {type(err).__name__}")
    try:
        conn.send(result)
        conn.close()
    except BaseException:
        pass


def _stop_workers(running: Mapping[object, tuple[Path, object]]) -> None:
    """Stop still-running workers: SIGTERM (each shuts its kernel down), then wait for them."""
    for _, proc in running.values():
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + 30
    for conn, (_, proc) in running.items():
        while proc.is_alive():
            try:
                proc.join(max(0.0, deadline - time.monotonic()))
                break
            except KeyboardInterrupt:  # a second Ctrl-C: keep waiting for the kernels
                continue
        if proc.is_alive():
            proc.kill()
            proc.join()
        conn.close()


def strip_volatile_metadata(path: str | Path) -> None:
    """Remove timings and absolute paths papermill stores, so two runs give equal files.

    The durations are kept in ``manifest.json`` instead.

    Parameters
    ----------
    path : str or Path
        An executed notebook; rewritten in place.
    """
    nb = nbformat.read(str(path), as_version=4)
    pm = nb.metadata.get("papermill", {})
    for key in ("start_time", "end_time", "duration", "exception", "input_path",
                "output_path", "environment_variables"):
        pm.pop(key, None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
    coalesce_streams(nb)
    nbformat.write(nb, str(path))


def coalesce_streams(nb) -> None:
    """Merge consecutive stdout/stderr chunks of each cell, in place.

    How a cell's printed text is split into chunks depends on timing; merged,
    the same output is stored the same way on every run.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        Modified in place (the one exception to "never mutate": it is the
        notebook about to be written).
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (output.output_type == "stream" and previous is not None
                    and previous.output_type == "stream" and previous.name == output.name):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged


def _collect_results(staging: Path):
    results = read_results(staging)
    results.to_csv(staging / "results.csv", index=False, lineterminator="\n",
                   float_format="%.10g", columns=list(RESULT_COLUMNS))
    return results


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename the complete ``staging`` to ``out``, replacing an existing ``out``.

    SIGINT and SIGTERM are held back while the two renames run, so an
    interrupt cannot fall between them; one that arrives meanwhile is raised
    (as :class:`InterruptedAfterCompletion`) once ``out`` is complete. They are
    held back by Python-level handlers, not a signal mask: a mask covers only
    the calling thread, and the native threads numerical libraries start
    would still take the signal. A SIGKILL between the renames leaves
    ``<out>.old`` without ``<out>``, which :func:`recover_interrupted_swap`
    puts back at the start of the next run.
    """
    import threading

    old = out.with_name(out.name + ".old")
    arrived: list[int] = []
    previous = {}
    if threading.current_thread() is threading.main_thread():  # handlers can only be set there
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: arrived.append(signum))
    try:
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        staging.rename(out)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    shutil.rmtree(old, ignore_errors=True)
    if arrived:
        raise InterruptedAfterCompletion(out)


class InterruptedAfterCompletion(KeyboardInterrupt):
    """An interrupt that arrived while the complete run was being moved into place."""


def recover_interrupted_swap(out: str | Path) -> None:
    """Repair what a run killed while replacing ``out`` (``--force``) may have left.

    Parameters
    ----------
    out : str or Path
        The run directory about to be written.

    Returns
    -------
    None
        If ``<out>.old`` exists without ``<out>``, the previous complete run is
        renamed back to ``<out>``; if both exist, ``<out>.old`` is removed.
    """
    out = Path(out)
    old = out.with_name(out.name + ".old")
    if old.is_dir():
        if out.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.rename(out)


# --- report and manifest -----------------------------------------------------------

def render_report(run_dir: str | Path, cohort_file: str | None = None) -> Path:
    """Render each executed notebook to HTML (code hidden) and write ``report/index.html``.

    The index opens with the reproduction summary when notebook 06 wrote
    ``tables/reproduction_summary.csv``, then links every notebook, table and figure.

    Parameters
    ----------
    run_dir : str or Path
        A run directory with executed ``notebooks/``.
    cohort_file : str, optional
        Name of the analysed cohort in ``input/``, for the data-provenance
        banner; None leaves the banner out.

    Returns
    -------
    Path
        ``report/index.html``.
    """
    import html

    import pandas as pd
    from nbconvert import HTMLExporter

    run_dir = Path(run_dir)
    report = run_dir / "report"
    report.mkdir(exist_ok=True)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    pages = []
    for nb_path in sorted((run_dir / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(nb_path), as_version=4)
        body, _ = exporter.from_notebook_node(nb)
        page = report / f"{nb_path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append((nb_path.stem, _notebook_title(nb) or nb_path.stem))

    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             "<title>Debulking before blinatumomab: analysis report</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
             "</style></head><body>",
             "<h1>Debulking before blinatumomab: analysis report</h1>"]
    if cohort_file is not None:
        from helpers.narrative import data_provenance

        headline = data_provenance(run_dir / "input" / cohort_file).headline
        parts.append(f"<p><strong>{html.escape(headline)}</strong></p>")
    summary = run_dir / "tables" / "reproduction_summary.csv"
    if summary.exists():
        parts.append("<h2>Reproduction summary</h2>")
        parts.append(pd.read_csv(summary).to_html(index=False, na_rep="", border=0))
    parts.append("<h2>Notebooks</h2><ol>")
    parts += [f"<li><a href='{stem}.html'>{html.escape(title)}</a></li>" for stem, title in pages]
    parts.append("</ol>")
    for folder, what in (("tables", "Tables"), ("figures", "Figures")):
        files = sorted((run_dir / folder).glob("*")) if (run_dir / folder).is_dir() else []
        if files:
            parts.append(f"<h2>{what}</h2><ul>")
            parts += [f"<li><a href='../{folder}/{f.name}'>{f.name}</a></li>" for f in files]
            parts.append("</ul>")
    parts.append("<p><a href='../results.csv'>results.csv</a> (every statistic) · "
                 "<a href='../manifest.json'>manifest.json</a> (input, versions)</p>")
    parts.append("</body></html>\n")
    index = report / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index


def _notebook_title(nb) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file's bytes.

    Parameters
    ----------
    path : str or Path
        The file (read in 1 MiB chunks).

    Returns
    -------
    str
        64 lower-case hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(run_dir: str | Path, inputs: Mapping[str, Path], notebooks: Sequence[Path],
                   declared: Mapping[str, dict], overrides: Mapping[str, object],
                   durations: Mapping[str, float]) -> Path:
    """Write ``manifest.json``: input names and SHA-256, parameters, versions, commit, durations.

    Parameter values are recorded as the Python literals the notebooks received.

    Parameters
    ----------
    run_dir : str or Path
        The run directory.
    inputs : mapping
        ``{parameter name: file}`` as from :func:`resolve_input_files`.
    notebooks : sequence of Path
        The notebooks run.
    declared : mapping
        ``{notebook stem: declared_parameters(...)}``.
    overrides : mapping
        Typed ``-p`` values.
    durations : mapping
        Seconds per notebook stem.

    Returns
    -------
    Path
        ``manifest.json``.
    """
    run_dir = Path(run_dir)
    data = inputs["data_path"]
    params = {}
    for nb in notebooks:
        effective = {name: info["default"] for name, info in declared[nb.stem].items()}
        effective.update({k: repr(v) for k, v in overrides.items() if k in effective})
        effective.update({k: repr(f"input/{p.name}") for k, p in inputs.items() if k in effective})
        effective["output_dir"] = repr(".")
        params[nb.stem] = {k: effective[k] for k in sorted(effective)}
    versions = {}
    for pkg in MANIFEST_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    manifest = {
        "input": {"file": data.name, "sha256": file_sha256(data), "bytes": data.stat().st_size},
        "reference_inputs": {name: {"file": p.name, "sha256": file_sha256(p)}
                             for name, p in inputs.items() if name != "data_path"},
        "parameters": params,
        "python": sys.version.split()[0],
        "packages": versions,
        "git": _git_state(),
        "durations_seconds": dict(durations),
    }
    path = run_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _git_state() -> dict[str, object]:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True,
                                  text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


# --- refreshing stored notebook outputs ---------------------------------------------

def refresh_notebook(path: str | Path, timeout: int = 600) -> None:
    """Re-execute a notebook in place with its default parameters, as nbval will.

    Runs in the notebook's folder with the same kernel, drops timing metadata, and
    writes the notebook back only if every cell succeeded.

    Parameters
    ----------
    path : str or Path
        The notebook.
    timeout : int
        Seconds any one cell may run.
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    with kernel_config() as config:
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                                resources={"metadata": {"path": str(path.parent)}},
                                record_timing=False, config=config)
        client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    coalesce_streams(nb)
    tmp = path.with_suffix(".ipynb.part")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)


# --- command line ---------------------------------------------------------------------

def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def install_interrupt_handlers() -> None:
    """Make SIGTERM raise KeyboardInterrupt, as Ctrl-C (SIGINT) does.

    Called first thing by ``python -m helpers`` so that an interrupt at any
    moment of a run takes the same clean path (partial run removed, kernel
    shut down, exit status 130).

    Returns
    -------
    None
    """
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def run_from_cli(args) -> int:
    """``python -m helpers run``.

    Parameters
    ----------
    args : argparse.Namespace
        ``data``, ``out`` (None for the default), ``parameter`` (list of
        [name, value]), ``force``, ``notebooks``, ``workers`` (None: chosen
        by :func:`run_analysis`) and ``cell_timeout`` (seconds or None). Relative paths are taken relative to the current directory.

    Returns
    -------
    int
        0 (complete), 1 (a notebook, the report or the manifest failed),
        2 (bad input or parameters) or 130 (interrupted).
    """
    install_interrupt_handlers()
    data = args.data if args.data is not None else REPO_ROOT / "data" / "reconstructed_cohort.csv"
    notebooks = args.notebooks if args.notebooks is not None else REPO_ROOT / "notebooks"
    try:
        summary = run_analysis(data, args.out, parameters=[tuple(p) for p in args.parameter],
                               force=args.force, notebooks_dir=notebooks, progress=True,
                               cell_timeout=getattr(args, "cell_timeout", None),
                               workers=getattr(args, "workers", None), sheet=getattr(args, "sheet", None))
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_status
    except InterruptedAfterCompletion as err:
        print(f"interrupted after the run was complete: {err.args[0]} holds the finished run",
              file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted: the partial run directory was removed", file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"warning (the run went ahead): {warning}", file=sys.stderr)
    rel = os.path.relpath(summary.run_dir)
    rel = str(summary.run_dir) if rel.startswith("..") else rel
    sheet = f"sheet {summary.sheet!r} of the workbook, " if summary.sheet is not None else ""
    print(f"run complete: {rel} ({sheet}{len(summary.notebooks)} notebooks, "
          f"{summary.n_results} statistics); open {rel}/report/index.html")
    return 0


def refresh_notebooks_from_cli(args) -> int:
    """``python -m helpers refresh-notebooks``: re-execute notebooks in place.

    Parameters
    ----------
    args : argparse.Namespace
        ``notebooks``: paths, or empty for every notebook in ``notebooks/``.

    Returns
    -------
    int
        0 (a failing cell raises).
    """
    from tqdm.auto import tqdm

    paths = [Path(p) for p in args.notebooks] or list_notebooks(REPO_ROOT / "notebooks")
    for path in tqdm(paths, desc="refreshing", unit="nb", file=sys.stderr):
        refresh_notebook(path)
    print(f"refreshed {len(paths)} notebooks")
    return 0
