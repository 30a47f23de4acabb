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
is always complete. A failed run is left as ``<out>.failed`` for inspection; an
interrupted one (Ctrl-C, SIGTERM) is removed.
"""

from __future__ import annotations

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
#: Packages whose versions go into the manifest.
MANIFEST_PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "seaborn", "papermill",
                     "nbconvert", "pandera", "ortools", "openpyxl")
KERNEL_NAME = "python3"


def kernel_config():
    """Kernel-manager settings for every notebook run: local IPC sockets, not TCP.

    The kernel then has no network ports, and ipykernel does not print its
    "running over TCP without encryption" warning into the progress bar.
    """
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    return config


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
    """What a finished run produced."""

    run_dir: Path
    notebooks: tuple[str, ...]
    durations: Mapping[str, float]
    n_results: int


# --- discovering notebooks and parameters -----------------------------------------

def list_notebooks(folder: str | Path) -> list[Path]:
    """Notebooks named ``NN_noun_phrase.ipynb`` in ``folder``, in name order."""
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
    """``outputs/<data file stem>`` under the repository."""
    return REPO_ROOT / "outputs" / Path(data).stem


def run_analysis(data: str | Path, out: str | Path | None = None, *,
                 parameters: Sequence[tuple[str, str]] = (), force: bool = False,
                 notebooks_dir: str | Path = REPO_ROOT / "notebooks",
                 progress: bool = True) -> RunSummary:
    """Validate the cohort, execute every notebook and write a complete run directory.

    Parameters
    ----------
    data : path
        Cohort file (CSV or .xlsx) under the data contract. Never written to.
    out : path, optional
        Run directory; default ``outputs/<data stem>``.
    parameters : sequence of (name, text)
        Notebook parameters; unknown names are an error.
    force : bool
        Replace an existing run directory (only once the new run is complete).
    notebooks_dir : path
        Folder of ``NN_name.ipynb`` notebooks.
    progress : bool
        Show a progress bar on stderr.

    Raises
    ------
    PipelineError
        Bad data or parameters (before anything is executed), or a failing cell.
    """
    from helpers.loading import validate_file

    data = Path(data)
    out = Path(out) if out is not None else default_run_dir(data)
    notebooks = list_notebooks(notebooks_dir)
    declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
    overrides = coerce_parameters(parameters, declared)

    if out.exists() and not force:
        raise PipelineError(f"{out} already exists; pass --force to replace it or --out "
                            "to write elsewhere", exit_status=2)
    report = validate_file(data)
    if not report.ok:
        raise PipelineError(report.format(), exit_status=2)
    inputs = resolve_input_files(data, Path(notebooks_dir), declared, overrides)

    staging = out.with_name(out.name + ".partial")
    failed = out.with_name(out.name + ".failed")
    for leftover in (staging, failed):
        if leftover.exists():
            shutil.rmtree(leftover)
    try:
        durations = _execute_all(inputs, staging, notebooks, declared, overrides, progress)
        results = _collect_results(staging)
        render_report(staging, cohort_file=inputs["data_path"].name)
        write_manifest(staging, inputs, notebooks, declared, overrides, durations)
    except PipelineError:
        if staging.exists():
            staging.rename(failed)
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_into_place(staging, out)
    return RunSummary(out, tuple(nb.stem for nb in notebooks), durations, len(results))


def _execute_all(inputs: Mapping[str, Path], staging: Path, notebooks: list[Path],
                 declared: Mapping[str, dict], overrides: Mapping[str, object],
                 progress: bool) -> dict[str, float]:
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from tqdm.auto import tqdm

    (staging / "input").mkdir(parents=True)
    (staging / "notebooks").mkdir()
    base: dict[str, object] = {"output_dir": "."}
    for name, path in inputs.items():
        shutil.copy2(path, staging / "input" / path.name)
        base[name] = f"input/{path.name}"
    durations: dict[str, float] = {}
    bar = tqdm(notebooks, desc="notebooks", unit="nb", disable=not progress,
               file=sys.stderr, leave=True)
    for nb in bar:
        bar.set_postfix_str(nb.stem)
        params = {k: v for k, v in {**overrides, **base}.items() if k in declared[nb.stem]}
        target = staging / "notebooks" / nb.name
        started = time.perf_counter()
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters=params, cwd=str(staging),
                kernel_name=KERNEL_NAME, progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, config=kernel_config())
        except PapermillExecutionError as err:
            raise PipelineError(
                f"notebook {nb.name} failed in cell {err.cell_index} "
                f"(execution count {err.exec_count}): {err.ename}: {err.evalue}\n"
                f"The partial run is kept for inspection as {staging.name[:-8]}.failed/"
                f"notebooks/{nb.name}") from None
        durations[nb.stem] = round(time.perf_counter() - started, 3)
        strip_volatile_metadata(target)
    bar.close()
    return durations


def strip_volatile_metadata(path: str | Path) -> None:
    """Remove timings and absolute paths papermill stores, so two runs give equal files.

    The durations are kept in ``manifest.json`` instead.
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
    if out.exists():
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        staging.rename(out)
        shutil.rmtree(old)
    else:
        staging.rename(out)


# --- report and manifest -----------------------------------------------------------

def render_report(run_dir: str | Path, cohort_file: str | None = None) -> Path:
    """Render each executed notebook to HTML (code hidden) and write ``report/index.html``.

    The index opens with the reproduction summary when notebook 06 wrote
    ``tables/reproduction_summary.csv``, then links every notebook, table and figure.
    ``cohort_file`` names the analysed cohort in ``input/``, for the data banner.
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
    """SHA-256 hex digest of a file's bytes."""
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
    """
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                            resources={"metadata": {"path": str(path.parent)}},
                            record_timing=False, config=kernel_config())
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


def run_from_cli(args) -> int:
    """``python -m helpers run``: returns 0, 1 (a notebook failed), 2 (bad input) or 130."""
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        summary = run_analysis(args.data, args.out, parameters=[tuple(p) for p in args.parameter],
                               force=args.force, notebooks_dir=args.notebooks,
                               progress=True)
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_status
    except KeyboardInterrupt:
        print("interrupted: the partial run directory was removed", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    rel = os.path.relpath(summary.run_dir)
    rel = str(summary.run_dir) if rel.startswith("..") else rel
    print(f"run complete: {rel} ({len(summary.notebooks)} notebooks, "
          f"{summary.n_results} statistics); open {rel}/report/index.html")
    return 0


def refresh_notebooks_from_cli(args) -> int:
    """``python -m helpers refresh-notebooks``: re-execute notebooks in place."""
    from tqdm.auto import tqdm

    paths = [Path(p) for p in args.notebooks] or list_notebooks(REPO_ROOT / "notebooks")
    for path in tqdm(paths, desc="refreshing", unit="nb", file=sys.stderr):
        refresh_notebook(path)
    print(f"refreshed {len(paths)} notebooks")
    return 0
