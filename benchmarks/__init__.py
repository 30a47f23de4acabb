"""Benchmark of the whole pipeline against a floor, at several cohort sizes.

``python -m benchmarks`` (or ``make benchmark``) times
``python -m pipeline run --data FILE --out DIR --force`` on the shipped cohort
(n = 34) and on synthetic cohorts (:mod:`pipeline.synth`) of 1,000, 10,000 and
100,000 patients, and compares it with a *floor*: the same number of notebooks,
each of which only starts a kernel and runs the real notebook's import
statements, executed with papermill exactly as the pipeline does (same kernel,
parameters, working directory). The floor is what any notebook pipeline pays
before doing work, so ``pipeline / floor`` is the pipeline's own overhead.

Each measurement runs in a fresh ``python -c`` wrapper process, so
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (a maximum over every child
ever waited for) covers that run only; when :mod:`psutil` is available the wrapper
also polls the summed RSS of the whole process tree (pipeline + kernel), which is
the peak memory reported. See ``benchmarks/README.md``.

Nothing happens on import.
"""

from __future__ import annotations

import ast
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_PATH = REPO_ROOT / "benchmarks" / "results" / "latest.json"
SHIPPED_COHORT = REPO_ROOT / "data" / "reconstructed_cohort.csv"
DEFAULT_SIZES = (34, 1_000, 10_000, 100_000)
QUICK_SIZES = (34, 1_000)
TABLE1_SIZE = 100_000
#: Imports every floor notebook runs (the libraries the analysis uses, in the form
#: it uses them); each notebook's own import statements are added after these.
FLOOR_IMPORTS = (
    "import numpy",
    "import pandas",
    "import scipy.stats",
    "import matplotlib.pyplot",
    "import seaborn",
    "import helpers",
)
#: Targets: (key, description, threshold); checked in :func:`check_targets`.
TARGETS = (
    ("overhead_at_34", "pipeline / floor at n = 34 <= 1.5", 1.5),
    ("scaling_100000_over_34", "time(100,000) / time(34) <= 2", 2.0),
    ("peak_mib_at_100000", "peak memory at n = 100,000 < 1 GiB", 1024.0),
)

# The wrapper that measures one command in a fresh process: wall time, the
# children's ru_maxrss, and (with psutil) the peak summed RSS of the process tree.
_MEASURE_WRAPPER = r"""
import json, resource, subprocess, sys, time
cmd, cwd, log = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
try:
    import psutil
except ImportError:
    psutil = None
peak_tree = 0
with open(log, "wb") as sink:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT)
    if psutil is None:
        proc.wait()
    else:
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            total = 0
            try:
                for p in [root] + root.children(recursive=True):
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            peak_tree = max(peak_tree, total)
            time.sleep(0.05)
    seconds = time.perf_counter() - start
maxrss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "returncode": proc.returncode,
                  "children_maxrss_mib": maxrss_kib / 1024,
                  "tree_peak_mib": peak_tree / 2**20 if psutil else None}))
"""

# Executes floor notebooks the way pipeline.run does (papermill, same kernel,
# parameters and working directory).
_FLOOR_RUNNER = r"""
import sys, pathlib, papermill
folder, data_name, workdir = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
out = pathlib.Path(workdir) / "notebooks"
out.mkdir(parents=True, exist_ok=True)
params = {"data_path": "input/" + data_name, "output_dir": ".", "params_file": ""}
for nb in sorted(folder.glob("*.ipynb")):
    declared = papermill.inspect_notebook(str(nb))
    papermill.execute_notebook(
        str(nb), str(out / nb.name), parameters={k: v for k, v in params.items() if k in declared},
        cwd=workdir, kernel_name="python3", progress_bar=False, log_output=False,
        request_save_on_cell_execute=False)
"""


@dataclass(frozen=True)
class Measurement:
    """One timed run.

    Attributes
    ----------
    seconds : float
        Wall time of the whole command (``time.perf_counter``), in seconds.
    peak_mib : float
        Peak memory in MiB: summed RSS of the process tree when psutil is
        available, otherwise the largest single child's ``ru_maxrss``.
    children_maxrss_mib : float
        ``ru_maxrss`` over the wrapper's children (largest single process), MiB.
    tree_peak_mib : float or None
        Polled (every 50 ms) peak of the summed RSS of the tree, MiB; None without psutil.
    """

    seconds: float
    peak_mib: float
    children_maxrss_mib: float
    tree_peak_mib: float | None


class BenchmarkError(RuntimeError):
    """A measured command failed; the message holds the tail of its output."""


# --- floor notebooks ------------------------------------------------------------------


def notebook_imports(nb: nbformat.NotebookNode) -> list[str]:
    """Top-level ``import``/``from ... import`` statements of a notebook's code cells.

    IPython magics and shell lines (``%...``, ``!...``) are skipped; cells that do
    not parse as Python are ignored. Duplicates are dropped, order kept.
    """
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lines = [
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        ]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                statement = ast.unparse(node)
                if statement not in found:
                    found.append(statement)
    return found


def floor_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The floor version of a notebook: its parameters cell (if any) and its imports.

    The parameters cell is kept so papermill injects parameters the same way; the
    second cell holds :data:`FLOOR_IMPORTS` followed by the notebook's own import
    statements, so the floor pays kernel start-up and every import (including
    libraries the helpers import lazily) but does no analysis.
    """
    floor = nbformat.v4.new_notebook()
    floor.metadata = nbformat.from_dict(
        {k: v for k, v in nb.metadata.items() if k in ("kernelspec", "language_info")}
    )
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            params = nbformat.v4.new_code_cell(cell.source)
            params.metadata["tags"] = ["parameters"]
            floor.cells.append(params)
            break
    imports = list(FLOOR_IMPORTS) + [s for s in notebook_imports(nb) if s not in FLOOR_IMPORTS]
    floor.cells.append(nbformat.v4.new_code_cell("\n".join(imports)))
    return floor


def pipeline_notebooks(folder: str | Path) -> list[Path]:
    """The notebooks the pipeline runs from ``folder`` (its ``NN_name.ipynb`` rule), in order.

    Falls back to every ``*.ipynb`` when :mod:`pipeline.run` is not importable.
    """
    try:
        from pipeline.run import NOTEBOOK_PATTERN
    except ImportError:
        return sorted(Path(folder).glob("*.ipynb"))
    return sorted(p for p in Path(folder).glob("*.ipynb") if NOTEBOOK_PATTERN.match(p.name))


def write_floor_notebooks(notebook_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write one floor notebook per pipeline notebook in ``notebook_dir`` (same names) to ``out_dir``.

    Returns the written paths in name order.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in pipeline_notebooks(notebook_dir):
        floor = floor_notebook(nbformat.read(str(path), as_version=4))
        nbformat.validate(floor)
        target = out_dir / path.name
        nbformat.write(floor, str(target))
        written.append(target)
    return written


# --- measuring --------------------------------------------------------------------------


def measure(cmd: Sequence[str], cwd: str | Path, log: str | Path) -> Measurement:
    """Run ``cmd`` once in a fresh wrapper process and return its time and peak memory.

    Parameters
    ----------
    cmd : sequence of str
        The command to time.
    cwd : str or Path
        Its working directory.
    log : str or Path
        File receiving the command's stdout and stderr.

    Returns
    -------
    Measurement
        Wall seconds and peak memory (MiB).

    Raises
    ------
    BenchmarkError
        When the command exits non-zero, or the wrapper itself fails (its
        stderr is in the message).
    """
    try:
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE_WRAPPER, json.dumps(list(cmd)), str(cwd), str(log)],
            capture_output=True,
            text=True,
            check=True,
        )
        raw = json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.CalledProcessError as err:
        raise BenchmarkError(
            f"the measuring wrapper exited {err.returncode}:\n{(err.stderr or '')[-3000:]}"
        ) from None
    except (ValueError, IndexError) as err:
        raise BenchmarkError(f"the measuring wrapper printed no result ({err})") from None
    if raw["returncode"] != 0:
        tail = Path(log).read_text(errors="replace")[-3000:]
        raise BenchmarkError(f"{' '.join(cmd)} exited {raw['returncode']}:\n{tail}")
    tree = raw["tree_peak_mib"]
    return Measurement(
        seconds=raw["seconds"],
        peak_mib=tree if tree is not None else raw["children_maxrss_mib"],
        children_maxrss_mib=raw["children_maxrss_mib"],
        tree_peak_mib=tree,
    )


def pipeline_cli(*args: str) -> list[str]:
    """The command line ``python -m pipeline ARGS`` with this interpreter."""
    return [sys.executable, "-m", "pipeline", *args]


def pipeline_command(data: Path, out: Path, notebooks: Path) -> list[str]:
    """The measured pipeline command."""
    return pipeline_cli(
        "run", "--data", str(data), "--out", str(out), "--force", "--notebooks", str(notebooks)
    )


def floor_command(floor_dir: Path, data: Path, workdir: Path) -> list[str]:
    """The measured floor command (papermill on the floor notebooks)."""
    return [sys.executable, "-c", _FLOOR_RUNNER, str(floor_dir), data.name, str(workdir)]


def summarise(runs: Sequence[Measurement]) -> dict:
    """Median seconds and maximum peak memory over repetitions."""
    return {
        "seconds": statistics.median(r.seconds for r in runs),
        "peak_mib": max(r.peak_mib for r in runs),
        "runs": [asdict(r) for r in runs],
    }


def notebook_durations(run_dir: Path) -> dict[str, float]:
    """Per-notebook execution seconds from a run's ``manifest.json`` (empty if absent)."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(manifest.get("durations_seconds", {}))


def cohort_file(n: int, folder: Path, seed: int) -> tuple[Path, str]:
    """The cohort file for size ``n``: the shipped one for 34 if present, else synthetic."""
    from pipeline.synth import write_synthetic

    if n == 34 and SHIPPED_COHORT.exists():
        return SHIPPED_COHORT, "shipped reconstructed cohort"
    path = folder / f"synthetic_{n}.csv"
    if not path.exists():
        write_synthetic(n, seed, path)
    return path, f"synthetic (seed {seed})"


# --- Table 1 builder against tableone -------------------------------------------------


def table1_comparison(data: Path, repeat: int) -> dict:
    """Time the project's Table 1 builder and ``tableone.TableOne`` on the same loaded cohort.

    Both tabulate the Table 1 categorical variables (missing as a level) and the
    median/range of the continuous ones. Returns best-of-``repeat`` seconds and
    ``ratio`` = ours / tableone, or ``{"available": False, "reason": ...}`` when
    the loader, the builder or tableone cannot be imported.
    """
    try:
        from helpers import tables
        from helpers.loading import load_cohort
    except ImportError as err:
        return {"available": False, "reason": f"helpers not ready: {err}"}
    try:
        from tableone import TableOne
    except ImportError as err:
        return {"available": False, "reason": f"tableone not installed: {err}"}

    cohort = load_cohort(data)
    categorical = list(getattr(tables, "TABLE1_VARIABLES", ()))
    continuous = list(getattr(tables, "TABLE1_SUMMARIES", ()))

    def ours():
        if hasattr(tables, "count_rows") and hasattr(tables, "summary_rows"):
            return tables.table1(
                tables.count_rows(cohort, categorical), tables.summary_rows(cohort, continuous)
            )
        return tables.table1(cohort)

    def theirs():
        # Only the tabulated columns: tableone trips over other categorical columns.
        return TableOne(
            cohort[categorical + continuous],
            columns=categorical + continuous,
            categorical=categorical,
            continuous=continuous,
            nonnormal=continuous,
            min_max=continuous,
        )

    try:
        t_ours = _best_time(ours, repeat)
        t_theirs = _best_time(theirs, repeat)
    except Exception as err:  # report, do not abort the benchmark
        return {"available": False, "reason": f"{type(err).__name__}: {err}"}
    return {
        "available": True,
        "n": len(cohort),
        "ours_seconds": t_ours,
        "tableone_seconds": t_theirs,
        "ratio": t_ours / t_theirs,
    }


def _best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# --- the whole benchmark ----------------------------------------------------------------


def run_benchmark(
    sizes: Sequence[int],
    repeat: int,
    seed: int = 0,
    notebooks: Path = REPO_ROOT / "notebooks",
    table1_size: int = TABLE1_SIZE,
    log=sys.stderr,
    json_path: Path | None = None,
) -> dict:
    """Measure the floor and the pipeline at each size; return a JSON-able result dict.

    Parameters
    ----------
    sizes : sequence of int
        Cohort sizes; 34 is the shipped cohort, others synthetic.
    repeat : int
        Repetitions per size (median seconds, maximum peak memory).
    seed : int
        Seed of the synthetic cohorts.
    notebooks : Path
        Folder of the pipeline's notebooks.
    table1_size : int
        Cohort size of the Table 1 vs tableone comparison.
    log : file
        Progress messages.
    json_path : Path, optional
        When given, the result so far is written there after every
        measurement, so an interrupted or failing benchmark keeps what it
        measured.

    Returns
    -------
    dict
        ``floor``, ``pipeline`` (one row per size; a size whose run failed has
        ``failed: True`` and ``reason``, and no times), ``table1_vs_tableone``
        and ``targets`` (a target depending on a failed size is not measured).

    Raises
    ------
    BenchmarkError
        Only when there are no notebooks to run.
    """
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "repeat": repeat,
        "seed": seed,
        "notebooks": None,
        "complete": False,
        "floor": None,
        "pipeline": [],
        "table1_vs_tableone": {"available": False, "reason": "not run yet"},
    }

    def save() -> None:
        result["targets"] = check_targets(result)
        if json_path is not None:
            _write_json(json_path, result)

    with tempfile.TemporaryDirectory(prefix="benchmark-") as tmp:
        tmp = Path(tmp)
        floor_dir = tmp / "floor_notebooks"
        n_notebooks = len(write_floor_notebooks(notebooks, floor_dir))
        if n_notebooks == 0:
            raise BenchmarkError(f"no notebooks in {notebooks}")
        result["notebooks"] = n_notebooks

        base_data, _ = cohort_file(34, tmp, seed)
        print(f"floor: {n_notebooks} import-only notebooks x {repeat}", file=log, flush=True)
        try:
            floor_runs = []
            for i in range(repeat):
                workdir = tmp / f"floor_run_{i}"
                (workdir / "input").mkdir(parents=True)
                floor_runs.append(
                    measure(floor_command(floor_dir, base_data, workdir), tmp, tmp / "floor.log")
                )
            result["floor"] = summarise(floor_runs)
        except BenchmarkError as err:
            result["floor"] = {"failed": True, "reason": str(err)}
            print(f"  floor FAILED: {_first_line(err)}", file=log, flush=True)
        save()
        floor_seconds = None if result["floor"].get("failed") else result["floor"]["seconds"]

        for n in sizes:
            try:
                data, origin = cohort_file(n, tmp, seed)
            except Exception as err:  # e.g. an invalid size: record it, go on
                result["pipeline"].append(
                    {"n": n, "data": None, "failed": True, "reason": f"{type(err).__name__}: {err}"}
                )
                save()
                continue
            print(f"pipeline n={n:,} ({origin}) x {repeat}", file=log, flush=True)
            runs, per_notebook = [], []
            try:
                for i in range(repeat):
                    out = tmp / f"run_{n}_{i}"
                    runs.append(
                        measure(
                            pipeline_command(data, out, notebooks), REPO_ROOT, tmp / f"run_{n}.log"
                        )
                    )
                    per_notebook.append(notebook_durations(out))
                    shutil.rmtree(out, ignore_errors=True)  # keep the temp folder small
            except BenchmarkError as err:
                print(f"  n={n:,} FAILED: {_first_line(err)}", file=log, flush=True)
                result["pipeline"].append(
                    {
                        "n": n,
                        "data": origin,
                        "failed": True,
                        "reason": str(err),
                        "completed_runs": len(runs),
                    }
                )
                save()
                continue
            median = statistics.median(r.seconds for r in runs)
            result["pipeline"].append(
                {
                    "n": n,
                    "data": origin,
                    **summarise(runs),
                    "ratio_to_floor": median / floor_seconds if floor_seconds else None,
                    "notebook_seconds": per_notebook,
                }
            )
            save()

        print(f"table 1 builder vs tableone at n={table1_size:,}", file=log, flush=True)
        try:
            t1_data, _ = cohort_file(table1_size, tmp, seed)
            result["table1_vs_tableone"] = table1_comparison(t1_data, repeat)
        except Exception as err:  # report, do not lose the pipeline measurements
            result["table1_vs_tableone"] = {
                "available": False,
                "reason": f"{type(err).__name__}: {err}",
            }
    result["complete"] = True
    save()
    return result


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _write_json(path: Path, result: dict) -> None:
    """Write ``result`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def check_targets(result: dict) -> list[dict]:
    """Evaluate :data:`TARGETS` against a result.

    Parameters
    ----------
    result : dict
        As from :func:`run_benchmark` (only ``pipeline`` is read: rows with
        ``n``, ``seconds``, ``peak_mib``, ``ratio_to_floor``; failed rows are ignored).

    Returns
    -------
    list of dict
        ``key``, ``target``, ``value`` and ``met`` per target; ``met`` is None
        (not measured) when a size it needs was not run, failed, or the floor failed.
    """
    by_n = {row["n"]: row for row in result["pipeline"] if not row.get("failed")}
    values = {
        "overhead_at_34": by_n[34].get("ratio_to_floor") if 34 in by_n else None,
        "scaling_100000_over_34": (
            by_n[100_000]["seconds"] / by_n[34]["seconds"]
            if 34 in by_n and 100_000 in by_n
            else None
        ),
        "peak_mib_at_100000": by_n[100_000]["peak_mib"] if 100_000 in by_n else None,
    }
    checked = []
    for key, text, limit in TARGETS:
        value = values[key]
        met = (
            None if value is None else (value < limit if key.startswith("peak") else value <= limit)
        )
        checked.append({"key": key, "target": text, "value": value, "met": met})
    return checked


def format_report(result: dict) -> str:
    """The plain-text table printed at the end of a benchmark."""
    floor = result["floor"]
    lines = [f"{'n':>9}  {'seconds':>8}  {'peak MiB':>8}  {'pipeline/floor':>14}  data"]
    if floor.get("failed"):
        lines.append(f"{'floor':>9}  FAILED: {_first_line(floor['reason'])}")
    else:
        lines.append(
            f"{'floor':>9}  {floor['seconds']:8.2f}  {floor['peak_mib']:8.0f}  {'1.00':>14}  "
            f"{result['notebooks']} import-only notebooks"
        )
    for row in result["pipeline"]:
        if row.get("failed"):
            lines.append(f"{row['n']:>9,}  FAILED: {_first_line(row['reason'])}")
            continue
        ratio = "-" if row["ratio_to_floor"] is None else f"{row['ratio_to_floor']:.2f}"
        lines.append(
            f"{row['n']:>9,}  {row['seconds']:8.2f}  {row['peak_mib']:8.0f}  "
            f"{ratio:>14}  {row['data']}"
        )
    for row in result["pipeline"]:
        durations = row.get("notebook_seconds") or [{}]
        if durations[0]:
            slowest = sorted(durations[0].items(), key=lambda kv: -kv[1])[:2]
            lines.append(
                f"  n={row['n']:,} slowest notebooks: "
                + ", ".join(f"{name} {sec:.1f} s" for name, sec in slowest)
            )
    by_n = {row["n"]: row for row in result["pipeline"] if not row.get("failed")}
    if 34 in by_n and 100_000 in by_n:
        lines.append(
            f"time(100,000) / time(34) = {by_n[100_000]['seconds'] / by_n[34]['seconds']:.2f}"
        )
    t1 = result["table1_vs_tableone"]
    if t1.get("available"):
        lines.append(
            f"Table 1 at n={t1['n']:,}: ours {t1['ours_seconds']:.3f} s, tableone "
            f"{t1['tableone_seconds']:.3f} s, ratio ours/tableone = {t1['ratio']:.2f}"
        )
    else:
        lines.append(f"Table 1 vs tableone: not available ({t1.get('reason')})")
    lines.append(f"(median of {result['repeat']} run(s); peak = max over runs)")
    lines.append("Targets:")
    for t in result["targets"]:
        mark = "not measured" if t["met"] is None else ("met" if t["met"] else "NOT met")
        value = "" if t["value"] is None else f" (value {t['value']:.2f})"
        lines.append(f"  {t['target']}: {mark}{value}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks [--sizes N ...] [--quick] [--repeat R] [--seed S] [--json PATH]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=None,
        help=f"cohort sizes (default {' '.join(map(str, DEFAULT_SIZES))})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: sizes {' '.join(map(str, QUICK_SIZES))}, one repetition, "
        "Table 1 comparison at the largest size",
    )
    parser.add_argument("--repeat", type=int, default=None, help="repetitions per size (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic cohorts")
    parser.add_argument("--notebooks", type=Path, default=REPO_ROOT / "notebooks")
    parser.add_argument("--json", type=Path, default=RESULTS_PATH, help="where to write results")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
    repeat = args.repeat or (1 if args.quick else 3)
    try:
        table1_size = max(sizes) if args.quick else TABLE1_SIZE
        result = run_benchmark(
            sizes, repeat, args.seed, args.notebooks, table1_size, json_path=args.json
        )
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    result["quick"] = args.quick
    _write_json(args.json, result)
    print(format_report(result))
    print(f"results written to {os.path.relpath(args.json)}")
    failed = [row["n"] for row in result["pipeline"] if row.get("failed")]
    if failed or result["floor"].get("failed"):
        print("some measurements failed (see above and the JSON for the reasons)", file=sys.stderr)
        return 1
    return 0
