"""Run every notebook with papermill into one self-contained run directory.

A run directory holds ``input/`` (copies of the files read), ``notebooks/`` (executed),
``report/`` (HTML), ``tables/``, ``figures/``, ``results/`` (a CSV per notebook),
``results.csv`` (all statistics) and ``manifest.json`` (hashes, parameters, versions,
commit, durations). It is built under ``<out>.partial`` and renamed only when complete; a
failed run is kept as ``<out>.failed`` with a short message, an interrupted one removed
(:mod:`pipeline.rundir`). Notebooks run in a process pool, each in its own kernel; the
first failure stops the others, and workers die with the runner (``PR_SET_PDEATHSIG``).
The run directory is the same for any number of workers (only durations differ).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# rfc3987_syntax compiles a Lark grammar when imported, the largest part of importing
# nbformat (through jsonschema; over half of `import pipeline.run` by python -X
# importtime); jsonschema uses it only to check "iri" formats, which validating a
# notebook never asks for. Marked missing, jsonschema skips that check.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import nbformat
import papermill
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError
from tqdm.auto import tqdm
from traitlets.config import Config

from helpers import suppression
from helpers.loading import validate_file
from helpers.parameters import (
    PARAMS_FILE,
    ParameterError,
    check_file_values,
    check_parameters,
    default,
    read_params_file,
)
from helpers.provenance import file_sha256
from helpers.results import RESULT_COLUMNS, read_results
from pipeline import kernels
from pipeline.parameters import (
    coerce_parameters,
    declared_parameters,
    effective_parameters,
    resolve_input_files,
)
from pipeline.report import render_report
from pipeline.rundir import (
    TOOL,
    RunDirError,
    check_out,
    failed_dir,
    keep_failed,
    make_staging,
    run_lock,
    swap_into_place,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
#: Notebooks that read what the notebooks numbered before them wrote (results/): each
#: starts once all of those have finished (and before any other waiting notebook).
READS_EARLIER_NOTEBOOKS = ("06_reproduction_report",)
#: Notebooks executed at the same time (each in its own process and kernel) by default...
DEFAULT_WORKERS = 2
#: ...for cohorts with fewer rows than this, with kernels forked from a fork server
#: (:mod:`pipeline.kernels`); larger cohorts run one notebook at a time in kernels started
#: as usual, since then memory (one cohort copy per kernel) matters more than start-up time.
CONCURRENT_BELOW_ROWS = 10_000
#: Packages whose versions go into the manifest.
MANIFEST_PACKAGES = (
    "pandas numpy scipy matplotlib seaborn papermill nbconvert pandera ortools openpyxl "
    "statsmodels lifelines python-docx"
).split()
KERNEL_NAME = "python3"
#: papermill's notebook metadata that differs between two runs (timings, absolute paths).
PAPERMILL_VOLATILE = (
    "start_time end_time duration exception input_path output_path environment_variables"
).split()


@contextlib.contextmanager
def kernel_config(fork_server: str = ""):
    """Kernel settings (a traitlets ``Config``) for one notebook: IPC sockets in a private folder,
    a kernel that dies with this process, forked by the run's ``fork_server``
    (:mod:`pipeline.kernels`) if one is given.

    No network ports, so no "running over TCP" warning; a private folder, since kernels
    sharing one race for socket names, which holds the connection file too (a run killed
    with SIGKILL leaves that folder, not a stray connection file beside it). The kernel log
    keeps only critical messages: shutting a kernel down interrupts it, which ipykernel would
    log as an error.
    """
    with tempfile.TemporaryDirectory(prefix="nbk-") as sockets:  # short: socket paths ~100 chars
        config = Config()
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(sockets, "kernel-ipc")
        config.KernelManager.connection_file = os.path.join(sockets, "kernel.json")
        config.NotebookClient.extra_arguments = ["--IPKernelApp.log_level=CRITICAL"]
        config.NotebookClient.kernel_manager_class = kernels.RunKernelManager
        config.RunKernelManager.fork_server = fork_server
        yield config


class PipelineError(Exception):
    """A run could not complete; ``exit_status`` 2 for bad input, 1 for a failed run."""

    def __init__(self, message: str, exit_status: int = 1):
        super().__init__(message)
        self.exit_status = exit_status


@dataclass(frozen=True)
class RunSummary:
    """What a finished run produced: the run directory (absolute), notebook stems in order,
    seconds per notebook, rows of ``results.csv``, the validation's warnings, and the
    workbook sheet analysed (None for a CSV)."""

    run_dir: Path
    notebooks: tuple[str, ...]
    durations: Mapping[str, float]
    n_results: int
    warnings: tuple[str, ...] = ()
    sheet: str | None = None


def list_notebooks(folder: str | Path) -> list[Path]:
    """Notebooks named ``NN_noun_phrase.ipynb`` in ``folder``, in name order; PipelineError if none."""
    paths = sorted(p for p in Path(folder).glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))
    if not paths:
        raise PipelineError(f"no notebooks named NN_name.ipynb in {folder}", exit_status=2)
    return paths


# --- a run -------------------------------------------------------------------------


def run_analysis(
    data: str | Path | None,
    out: str | Path | None = None,
    *,
    parameters: Sequence[tuple[str, str]] = (),
    force: bool = False,
    notebooks_dir: str | Path = REPO_ROOT / "notebooks",
    progress: bool = True,
    cell_timeout: float | None = None,
    workers: int | None = None,
    sheet: str | None = None,
    share: bool = False,
    params_file: str | Path | None = None,
    fork_server: str = "",
) -> RunSummary:
    """Validate the cohort, execute every notebook and write a complete run directory.

    ``data``: the cohort (CSV or .xlsx), never written to; None: the parameter file's
    ``data_path``, else the shipped cohort. ``out``: default ``outputs/<data stem>``.
    ``parameters``: ``(name, text)`` pairs checked against the notebooks' declarations.
    ``force`` replaces an existing run once the new one is complete. ``cell_timeout``:
    seconds per cell (None: no limit). ``workers``: notebooks at a time (None:
    :data:`DEFAULT_WORKERS` below :data:`CONCURRENT_BELOW_ROWS` rows, else 1). ``share``:
    no ``input/`` copy (inputs read from a deleted temporary copy), ``share_safe=True``,
    small counts hidden. ``params_file``: TOML settings between the project defaults and
    ``parameters``/``data``/``sheet``. ``fork_server``: the address of a
    :class:`pipeline.kernels.ForkServer` to fork kernels from (a batch's; blank: the one
    named by ``PIPELINE_FORK_SERVER``, else the run starts its own when that pays). Raises
    PipelineError (exit status 2 for bad input, before anything runs; 1 for a failed run,
    kept as ``<out>.failed``); KeyboardInterrupt on Ctrl-C or SIGTERM (the partial run
    removed).
    """
    settings, record = {}, None
    try:  # hashed before it is read: the manifest names the bytes that were read
        if params_file is not None:
            record = {"file": Path(params_file).name, "sha256": file_sha256(params_file)}
            settings = read_params_file(params_file)
    except OSError as err:
        raise PipelineError(
            f"parameter file {params_file}: cannot read it ({_os_message(err)})", 2
        ) from None
    except ParameterError as err:
        raise PipelineError(str(err), exit_status=2) from None
    if data is None:
        data = settings.get("data_path") or REPO_ROOT / "data" / "reconstructed_cohort.csv"
    if sheet is None and settings.get("data_sheet"):
        sheet = str(settings["data_sheet"])
    given = data  # messages name the file as the user wrote it, as `validate` does
    data = Path(os.path.abspath(data))
    out = Path(os.path.abspath(out)) if out is not None else REPO_ROOT / "outputs" / data.stem
    try:
        check_out(out, [data], force)
        with run_lock(out):
            check_out(out, [data], force)  # again, now that no other run can change it
            return _run_locked(
                given,
                data,
                out,
                parameters,
                force,
                Path(notebooks_dir),
                progress,
                cell_timeout,
                workers,
                sheet,
                share,
                params_file,
                settings,
                record,
                fork_server or kernels.given_server(),
            )
    except RunDirError as err:
        raise PipelineError(str(err), exit_status=2) from None
    except OSError as err:  # the lock or the staging folder cannot be made
        raise PipelineError(
            f"cannot write the run directory {out}: {_os_message(err)}", exit_status=2
        ) from None


def _os_message(err: OSError) -> str:
    where = f" ({err.filename})" if err.filename else ""
    return f"{err.strerror or err}{where}"


def _run_locked(
    given,
    data: Path,
    out: Path,
    parameters,
    force: bool,
    notebooks_dir: Path,
    progress: bool,
    cell_timeout,
    workers,
    sheet: str | None = None,
    share: bool = False,
    params_file=None,
    settings=None,
    parameter_record=None,
    fork_server: str = "",
) -> RunSummary:
    # The bytes validated are the bytes analysed: hashed before validation (a
    # regular file only: a FIFO is refused by validation without blocking here).
    validated_sha = file_sha256(data) if data.is_file() else None
    report = validate_file(given, sheet=sheet)
    if not report.ok:
        raise PipelineError(report.format(), exit_status=2)
    notebooks = list_notebooks(notebooks_dir)
    try:
        declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
        types = {
            name: info["type"] for params in declared.values() for name, info in params.items()
        }
        # Precedence: project defaults < parameter file < command line (-p, --data, --sheet).
        from_file = check_file_values(settings or {}, types, f"parameter file {params_file}")
        from_file = {
            k: v for k, v in from_file.items() if k not in ("data_path", "data_sheet", "output_dir")
        }
        overrides = {**from_file, **coerce_parameters(parameters, declared)}
        if sheet is not None:
            # A notebook without the parameter would read the workbook's default sheet.
            unable = [nb.name for nb in notebooks if "data_sheet" not in declared[nb.stem]]
            if unable:
                raise PipelineError(
                    f"--sheet {sheet!r}: the notebooks {', '.join(unable)} take no data_sheet "
                    "parameter, so they would read the workbook's default sheet; save the sheet "
                    "as its own file (or as the only visible sheet) instead",
                    exit_status=2,
                )
            overrides = {**overrides, "data_sheet": sheet}
        for nb in notebooks:
            check_parameters(effective_parameters(declared[nb.stem], overrides), where=nb.name)
        inputs = resolve_input_files(data, notebooks_dir, declared, overrides)
    except ParameterError as err:
        raise PipelineError(str(err), exit_status=2) from None
    check_out(out, inputs.values(), force)
    small = report.n_rows < CONCURRENT_BELOW_ROWS
    if workers is None:
        workers = DEFAULT_WORKERS if small else 1

    if share:
        overrides = {**overrides, "share_safe": True}  # passed only to notebooks that declare it
    staging = make_staging(out)
    failed = failed_dir(out)
    # A share run's input copies live outside the run directory and are deleted with it.
    input_root = _share_input_folder() if share else staging
    step = "copying the input files"
    try:
        try:
            copies = _copy_inputs(inputs, input_root)
            if copies["data_path"]["sha256"] != validated_sha:
                raise PipelineError(
                    f"{data} changed while the run was starting; run again", exit_status=2
                )
            sources = {nb.stem: file_sha256(nb) for nb in notebooks}
            step = "executing the notebooks"
            durations = _execute_all(
                inputs,
                staging,
                notebooks,
                declared,
                overrides,
                progress,
                cell_timeout,
                workers,
                failed,
                input_root / "input" if share else Path("input"),
                fork_server=fork_server if small else "",
                fork_kernels=small and kernels.worth_forking(len(notebooks)),
            )
            step = "collecting results.csv"
            results = _collect_results(staging)
            step = "writing manifest.json"
            write_manifest(
                staging,
                copies,
                notebooks,
                declared,
                overrides,
                durations,
                sources,
                kind="share" if share else "internal",
                parameter_file=parameter_record,
            )
            policy = suppression.Policy.for_run(
                share, int(overrides.get("min_cell", default("min_cell")))
            )
            # notebook 06 has read the full counts; the report renders from what the run shows
            if share:
                step = "hiding small counts in results.csv"
                suppression.suppress_result_files(staging, policy)
            step = "rendering the HTML report"  # after the manifest, whose commit and date it shows
            render_report(
                staging,
                cohort_file=inputs["data_path"].name,
                kind="share" if share else "internal",
                policy=policy,
            )
        except (PipelineError, KeyboardInterrupt):
            raise
        except Exception as err:
            done = (
                ""
                if step in ("copying the input files", "executing the notebooks")
                else "every notebook ran, but "
            )
            detail = _os_message(err) if isinstance(err, OSError) else str(err)
            raise PipelineError(
                f"{done}{step} failed: {type(err).__name__}: {detail}\n"
                f"The partial run is kept for inspection as {failed}"
            ) from None
    except PipelineError as err:
        # a failed share run keeps nothing: its notebooks and results are not yet share-safe
        if share:
            shutil.rmtree(staging, ignore_errors=True)
            raise PipelineError(
                re.sub(
                    r"The partial run is kept for inspection as \S+", SHARE_FAILED_NOTE, str(err)
                ),
                exit_status=err.exit_status,
            ) from None
        if staging.exists():
            keep_failed(staging, out)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        if share:
            shutil.rmtree(input_root, ignore_errors=True)
    swap_into_place(staging, out)
    return RunSummary(
        out,
        tuple(nb.stem for nb in notebooks),
        durations,
        len(results),
        tuple(str(w) for w in report.warnings),
        report.sheet,
    )


#: Said in place of where a failed run is kept, in a share run (which keeps none).
SHARE_FAILED_NOTE = (
    "A failed share run keeps no partial run (its counts are not yet hidden); "
    "run the same command without --share to inspect it"
)
#: Prefix of a share run's temporary folder holding its copy of the input files.
SHARE_INPUT_PREFIX = "share-input-"


def _share_input_folder() -> Path:
    """A new temporary folder for a share run's input copy, its owner's process id and start time
    in ``owner.pid``; first removes, and reports on stderr, the folders of share runs whose process
    is gone (killed), also where another process has since taken its id. A folder without a whole
    ``owner.pid`` is left alone: its run is starting and has copied nothing."""
    root = Path(tempfile.gettempdir())
    for folder in sorted(root.glob(SHARE_INPUT_PREFIX + "*")):
        try:
            if folder.is_symlink() or not folder.is_dir() or folder.stat().st_uid != os.getuid():
                continue
            pid, _, started = (folder / "owner.pid").read_text(encoding="ascii").partition(" ")
            pid = int(pid)
        except (OSError, ValueError):
            # no owner yet: a run starting now (it copies nothing before naming itself), or not ours
            continue
        if _process_alive(pid) and started.strip() in ("", _process_start(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        print(
            f"note: removed {folder}, the copy of a patient file left by a share run that was killed "
            f"(process {pid})",
            file=sys.stderr,
        )
    folder = Path(tempfile.mkdtemp(prefix=SHARE_INPUT_PREFIX))
    try:
        owner = folder / "owner.pid.part"
        owner.write_text(f"{os.getpid()} {_process_start(os.getpid())}\n", encoding="ascii")
        owner.replace(folder / "owner.pid")  # whole or absent: never read half-written
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)  # no other run would remove it: it has no owner
        raise
    return folder


def _process_start(pid: int) -> str:
    """When process ``pid`` started, in clock ticks after boot (Linux); "" where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        # fields after the command name, which may hold any bytes, ") " too; start time is field 22
        return stat.rpartition(b")")[2].split()[19].decode("ascii")
    except (OSError, IndexError, ValueError):
        return ""


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _copy_inputs(inputs: Mapping[str, Path], staging: Path) -> dict[str, dict]:
    """Copy every input into ``staging/input``; ``{name: {file, sha256, bytes}}`` of the copies."""
    (staging / "input").mkdir()
    copies = {}
    for name, path in inputs.items():
        copy = staging / "input" / path.name
        shutil.copyfile(path, copy)
        copies[name] = {
            "file": path.name,
            "sha256": file_sha256(copy),
            "bytes": copy.stat().st_size,
        }
    return copies


def _failure_message(nb: Path, err: BaseException, failed: Path, cell_timeout) -> str:
    """A short, traceback-free description of why executing ``nb`` failed."""
    keep = f"\nThe partial run is kept for inspection as {failed}"
    if isinstance(err, PapermillExecutionError):
        number, total = _source_cell_number(nb, err.cell_index)
        first = next((line.strip() for line in (err.source or "").splitlines() if line.strip()), "")
        return (
            f"notebook {nb.name} failed in cell {number} of {total} (cells counted from 1, "
            f"markdown included, as in the notebook file; In [{err.exec_count}] in the "
            f"executed copy), which begins {first[:80]!r}:\n{err.ename}: {err.evalue}"
            + keep
            + f"/notebooks/{nb.name}"
        )
    if isinstance(err, CellTimeoutError):
        preview = str(err).split("Here is a preview of the cell contents:", 1)[-1]
        lines = [
            line.strip()
            for line in preview.splitlines()
            if line.strip() and not set(line.strip()) <= {"-"}
        ]
        first = f", in the cell that begins {lines[0][:80]!r}" if lines else ""
        return (
            f"notebook {nb.name} timed out: a cell ran longer than {cell_timeout:g} s{first}" + keep
        )
    if isinstance(err, DeadKernelError):
        return (
            f"notebook {nb.name} failed: its kernel died while a cell was running "
            f"({err}); the Python process was ended from inside (os._exit, a crash in "
            "compiled code, or out of memory)" + keep
        )
    if isinstance(err, OSError):
        return f"notebook {nb.name} could not be written: {_os_message(err)}" + keep
    return f"notebook {nb.name} could not be executed: {type(err).__name__}: {err}" + keep


def _source_cell_number(nb: Path, executed_index: int) -> tuple[int, int]:
    """1-based number in the notebook file of the executed copy's cell ``executed_index``
    (papermill inserts one cell after the ``parameters`` cell, or at the top), and the count."""
    cells = nbformat.read(str(nb), as_version=4).cells
    tagged = [i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])]
    injected = tagged[0] + 1 if tagged else 0
    index = executed_index - 1 if executed_index > injected else executed_index
    return index + 1, len(cells)


def waits_for(notebooks: Sequence[Path]) -> dict[str, set[str]]:
    """For each notebook (by stem), the notebooks that must finish before it starts: for one of
    :data:`READS_EARLIER_NOTEBOOKS`, every notebook before it; for the others, none."""
    stems = [nb.stem for nb in notebooks]
    return {
        stem: set(stems[:i]) if stem in READS_EARLIER_NOTEBOOKS else set()
        for i, stem in enumerate(stems)
    }


def _execute_all(
    inputs: Mapping[str, Path],
    staging: Path,
    notebooks: list[Path],
    declared: Mapping[str, dict],
    overrides: Mapping[str, object],
    progress: bool,
    cell_timeout: float | None,
    workers: int,
    failed: Path,
    input_folder: Path = Path("input"),
    fork_kernels: bool = False,
    fork_server: str = "",
) -> dict[str, float]:
    """Execute every notebook into ``staging/notebooks``; seconds per notebook. The first
    failure or an interrupt stops the other workers. Kernels are forked by the server at
    ``fork_server`` if given, else by one started for this run if ``fork_kernels``."""
    (staging / "notebooks").mkdir()
    # params_file blank: the notebooks' settings cells keep the values injected here.
    base: dict[str, object] = {"output_dir": ".", PARAMS_FILE: ""}
    base.update({name: (input_folder / path.name).as_posix() for name, path in inputs.items()})
    waits = waits_for(notebooks)
    durations: dict[str, float] = {}
    slots = max(1, min(workers, len(notebooks)))
    # Fork: the workers start with papermill and the rest of this module imported. Processes are
    # forked on the first submit, in this (the main) thread, before tqdm starts its monitor thread.
    bar = None
    pool_of = kernels.worker_pool(slots, _worker_started, notebooks, fork_kernels, fork_server)
    with contextlib.ExitStack() as closing, pool_of as (pool, fork_server):
        pending, running = list(notebooks), {}
        while pending or running:
            ready = [nb for nb in pending if waits[nb.stem] <= durations.keys()]
            # A notebook that was waiting goes first, in notebook order otherwise.
            for nb in sorted(ready, key=lambda nb: not waits[nb.stem])[: slots - len(running)]:
                params = {k: v for k, v in {**overrides, **base}.items() if k in declared[nb.stem]}
                future = pool.submit(
                    _execute_notebook,
                    nb,
                    staging,
                    params,
                    cell_timeout,
                    failed,
                    input_folder if input_folder.is_absolute() else None,
                    fork_server,
                )
                running[future] = nb
                pending.remove(nb)
            if bar is None:
                bar = closing.enter_context(
                    tqdm(
                        total=len(notebooks),
                        desc="notebooks",
                        unit="nb",
                        disable=not progress,
                        file=sys.stderr,
                        leave=True,
                    )
                )
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                nb = running.pop(future)
                try:
                    status, value = future.result()
                except Exception:  # the worker process ended (BrokenProcessPool)
                    raise PipelineError(
                        f"notebook {nb.name} could not be executed: its worker process ended "
                        f"without a result\nThe partial run is kept for inspection as {failed}"
                    ) from None
                if status != "ok":
                    raise PipelineError(value)
                durations[nb.stem] = value
                bar.update(1)
                bar.set_postfix_str(nb.stem)
    return {nb.stem: durations[nb.stem] for nb in notebooks}


#: Worker initializer: die with the runner (SIGKILL), leave Ctrl-C to it (the runner stops the
#: workers itself), stop the notebook cleanly on SIGTERM.
_worker_started = functools.partial(kernels.worker_started, ignore_sigint=True)


def _execute_notebook(
    nb: Path,
    staging: Path,
    params: Mapping[str, object],
    cell_timeout: float | None,
    failed: Path,
    hidden_folder: Path | None = None,
    fork_server: str = "",
) -> tuple[str, object]:
    """In a worker: ``("ok", seconds)`` or ``("failed", message)``; raises nothing, so no
    traceback reaches the terminal."""
    target = staging / "notebooks" / nb.name
    with kernels.stoppable():  # SIGTERM: papermill shuts the kernel down, then the worker exits
        try:
            started = time.perf_counter()
            with kernel_config(fork_server) as config:
                papermill.execute_notebook(
                    str(nb),
                    str(target),
                    parameters=dict(params),
                    cwd=str(staging),
                    kernel_name=KERNEL_NAME,
                    progress_bar=False,
                    log_output=False,
                    request_save_on_cell_execute=False,
                    execution_timeout=cell_timeout,
                    config=config,
                )
            seconds = round(time.perf_counter() - started, 3)
            strip_volatile_metadata(target, hidden_folder)
        except KeyboardInterrupt:
            os._exit(130)  # stopped by the runner; the kernel was shut down on the way out
        except BaseException as err:  # every failure of one notebook becomes a short message
            try:
                return ("failed", _failure_message(nb, err, failed, cell_timeout))
            except BaseException:
                return ("failed", f"notebook {nb.name} failed: {type(err).__name__}")
    return ("ok", seconds)


# --- executed notebooks, results and manifest -----------------------------------------


def strip_volatile_metadata(path: str | Path, hidden_folder: Path | None = None) -> None:
    """Remove papermill's timings and absolute paths from ``path`` in place, so two runs give
    equal files; ``hidden_folder`` (a share run's input copy) is cut from the parameters."""
    nb = nbformat.read(str(path), as_version=4)
    pm = nb.metadata.get("papermill", {})
    for key in PAPERMILL_VOLATILE:
        pm.pop(key, None)
    prefix = f"{hidden_folder.as_posix()}/" if hidden_folder is not None else None
    if prefix and "parameters" in pm:
        pm["parameters"] = {
            k: v.replace(prefix, "") if isinstance(v, str) else v
            for k, v in pm.get("parameters", {}).items()
        }
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
            if prefix:
                cell.source = cell.source.replace(prefix, "").replace(
                    "# Parameters\n",
                    "# Parameters (share run: input files read from a temporary copy outside "
                    "the run folder, deleted after the run; names only)\n",
                    1,
                )
    coalesce_streams(nb)
    nbformat.write(nb, str(path))


def coalesce_streams(nb) -> None:
    """Merge consecutive stdout/stderr chunks of each cell of ``nb`` in place (their split
    depends on timing)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for output in cell.outputs:
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        cell.outputs = merged


def _collect_results(staging: Path):
    results = read_results(staging)
    results.to_csv(
        staging / "results.csv",
        index=False,
        lineterminator="\n",
        float_format="%.10g",
        columns=list(RESULT_COLUMNS),
    )
    return results


def write_manifest(
    run_dir: str | Path,
    copies: Mapping[str, Mapping],
    notebooks: Sequence[Path],
    declared: Mapping[str, dict],
    overrides: Mapping[str, object],
    durations: Mapping[str, float],
    sources: Mapping[str, str],
    kind: str = "internal",
    parameter_file: Mapping[str, str] | None = None,
) -> Path:
    """Write ``manifest.json`` (inputs and SHA-256, parameters as the literals the notebooks
    got, the notebooks run, versions, commit, durations); returns its path. ``copies``:
    ``{parameter: {file, sha256, bytes}}``; ``kind``: ``"internal"`` or ``"share"``;
    ``parameter_file``: ``{file, sha256}`` or None; ``sources``: notebook stem -> SHA-256 of
    its file as the run found it."""
    run_dir = Path(run_dir)
    params = {}
    for nb in notebooks:
        effective = {name: info["default"] for name, info in declared[nb.stem].items()}
        effective.update({k: repr(v) for k, v in overrides.items() if k in effective})
        folder = "input/" if kind == "internal" else ""  # a share run keeps no input/ copy
        effective.update(
            {k: repr(f"{folder}{c['file']}") for k, c in copies.items() if k in effective}
        )
        effective["output_dir"] = repr(".")
        if PARAMS_FILE in effective:
            effective[PARAMS_FILE] = repr("")
        params[nb.stem] = {k: effective[k] for k in sorted(effective)}
    versions = {}
    for pkg in MANIFEST_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    data = copies["data_path"]
    manifest = {
        "tool": TOOL,
        "kind": kind,
        "input": {"file": data["file"], "sha256": data["sha256"], "bytes": data["bytes"]},
        "reference_inputs": {
            name: {"file": c["file"], "sha256": c["sha256"]}
            for name, c in copies.items()
            if name != "data_path"
        },
        "parameter_file": dict(parameter_file) if parameter_file else None,
        "parameters": params,
        "notebooks": dict(sources),
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
            done = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


# --- refreshing stored notebook outputs ---------------------------------------------


def refresh_notebook(path: str | Path, timeout: int = 600) -> None:
    """Re-execute a notebook in place with its defaults, as nbval will (``timeout``: seconds a
    cell); written back only if every cell succeeded, without timing metadata."""
    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    with kernel_config() as config:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": str(path.parent)}},
            record_timing=False,
            config=config,
        )
        client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    coalesce_streams(nb)
    tmp = path.with_suffix(".ipynb.part")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)
