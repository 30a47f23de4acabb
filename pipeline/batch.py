"""Run the whole analysis many times: several files, each centre of a file, a grid of parameters.

A batch folder holds ``runs/<name>/`` (one run directory per run), ``work/`` (the centre
subsets; the input is never changed), ``summary.csv`` (status, error and headline results
per run) and ``index.html`` (the same with a forest plot of CR). Runs execute in a
``ProcessPoolExecutor`` as cores and memory allow; a failing run is listed and the others
go on; a run whose ``manifest.json`` has the same input hash and parameters is skipped, so
a batch resumes where it stopped.
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from helpers.provenance import file_sha256

#: Label of the run pooling the centres below ``--min-patients``.
OTHER_CENTRES = "other centres"
#: Label of the run of the patients without a centre code (never pooled with other centres).
NO_CENTRE = "centre not recorded"
#: Label of the run of every patient of a file split by centre (the batch page's pooled row).
ALL_PATIENTS = "all patients"
#: Memory one run takes at most (papermill, one kernel, figures), to size the pool.
MEMORY_PER_RUN = 700 * 2**20


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch: its folder name, cohort file, parameters and what it is."""

    name: str
    data: Path
    parameters: tuple[tuple[str, str], ...] = ()
    source: str = ""
    centre: str = ""


@dataclass
class RunOutcome:
    """What became of one run: ``status`` is done, skipped or failed (with ``error``)."""

    spec: RunSpec
    status: str
    error: str = ""
    seconds: float = 0.0


def parse_grid(items: list[str]) -> list[tuple[tuple[str, str], ...]]:
    """``["a=1,2", "b=x"]`` -> every combination ``((a, 1), (b, x))``; ``[]`` -> ``[()]``."""
    axes = []
    for item in items:
        name, sep, values = item.partition("=")
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not vals:
            raise ValueError(f"--grid {item!r}: write NAME=VALUE[,VALUE...], e.g. bmb_high_cutoff=40,50,60")
        axes.append([(name.strip(), v) for v in vals])
    return [tuple(combo) for combo in itertools.product(*axes)]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "run"


def split_by_centre(data: Path, work: Path, min_patients: int) -> list[tuple[str, Path]]:
    """Write each centre's rows (centres under ``min_patients`` pooled, then the patients
    without a centre) as a CSV in ``work``, copied as read so a resumed batch sees unchanged
    hashes; ``[(label, file)]``."""
    rows, header = _read_rows(data)
    if "center" not in header:
        raise ValueError(f"{data}: no 'center' column to split by")
    at = header.index("center")
    by = {}
    for row in rows:
        by.setdefault(row[at].strip() if at < len(row) else "", []).append(row)
    unrecorded = by.pop("", [])
    big = sorted(c for c, r in by.items() if len(r) >= min_patients)
    small = sorted(c for c in by if c not in big)
    groups = [(c, by[c]) for c in big]
    if small:
        groups.append((OTHER_CENTRES, [r for c in small for r in by[c]]))
    if unrecorded:
        groups.append((NO_CENTRE, unrecorded))
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for label, members in groups:
        path = work / f"{_slug(data.stem)}-{_slug(label)}.csv"
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(members)
        text = buf.getvalue()
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            tmp = path.with_suffix(".csv.partial")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        out.append((label, path))
    return out


def _read_rows(data: Path) -> tuple[list[list[str]], list[str]]:
    if data.suffix.lower() in (".xlsx", ".xlsm"):
        import pandas as pd

        frame = pd.read_excel(data, dtype=str, keep_default_na=False)
        return frame.values.tolist(), [str(c) for c in frame.columns]
    with open(data, newline="", encoding="utf-8-sig") as fh:
        table = [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]
    if not table:
        raise ValueError(f"{data}: empty file")
    return table[1:], [c.strip() for c in table[0]]


def plan_batch(files: list[str | Path], out: Path, *, by: str | None = None, min_patients: int = 1,
               grid: list[str] = ()) -> list[RunSpec]:
    """Every run of the batch: files x (all patients and each centre when ``by == "center"``) x grid points."""
    points = parse_grid(list(grid))
    specs = []
    for file in files:
        file = Path(os.path.abspath(file))
        sources = None
        if by == "center" and file.is_file():
            try:
                sources = split_by_centre(file, out / "work", min_patients)
            except (ValueError, UnicodeDecodeError, csv.Error):
                sources = None  # run as a whole: its validation then says what is wrong
        if sources is None:
            sources = [("", file)]
        else:  # the whole file too: the pooled row the centres are read against
            sources = [(ALL_PATIENTS, file), *sources]
        for centre, path in sources:
            for point in points:
                parts = [file.stem] + ([centre] if centre else []) + [f"{k}={v}" for k, v in point]
                specs.append(RunSpec(_slug("-".join(parts)), path, point, file.name, centre))
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ValueError("two runs of the batch would share a folder name; give the data files distinct names")
    return specs


def is_up_to_date(spec: RunSpec, run_dir: Path, share: bool = False) -> bool:
    """True when ``run_dir`` is a complete run of the same kind, input bytes and parameters."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        if manifest["input"]["sha256"] != file_sha256(spec.data):
            return False
        if manifest.get("kind", "internal") != ("share" if share else "internal"):
            return False
        given = dict(spec.parameters)
        for params in manifest["parameters"].values():
            for name, value in params.items():
                if name in given and not _same(value, given[name]):
                    return False
        return (run_dir / "results.csv").is_file()
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _same(recorded: str, given: str) -> bool:
    def value(text):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
    return value(recorded) == value(given)


def _run_one(spec: RunSpec, run_dir: Path, notebooks_dir, share: bool) -> RunOutcome:
    """Worker: one run with one notebook worker; every error becomes the outcome's message."""
    import time

    from pipeline.run import PipelineError, run_analysis

    start = time.perf_counter()
    try:
        run_analysis(spec.data, run_dir, parameters=list(spec.parameters), force=True,
                     notebooks_dir=notebooks_dir, progress=False, workers=1, share=share)
    except PipelineError as err:
        return RunOutcome(spec, "failed", str(err).strip(), time.perf_counter() - start)
    except Exception as err:  # noqa: BLE001  (one run's failure must not stop the batch)
        return RunOutcome(spec, "failed", f"{type(err).__name__}: {err}", time.perf_counter() - start)
    return RunOutcome(spec, "done", "", time.perf_counter() - start)


def default_jobs(n_runs: int) -> int:
    """Runs at the same time: at most the cores, the runs, and what free memory holds."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, free // MEMORY_PER_RUN)
    except (ValueError, OSError, AttributeError):
        by_memory = cores
    return max(1, min(cores, n_runs, by_memory))


def run_batch(specs: list[RunSpec], out: str | Path, *, notebooks_dir=None, jobs: int | None = None,
              progress: bool = True, share: bool = False) -> list[RunOutcome]:
    """Run every spec into ``out/runs/<name>`` (skipping up-to-date ones) and write
    ``summary.csv`` and ``index.html`` whatever happened; the outcomes in spec order."""
    from tqdm.auto import tqdm

    from pipeline.run import REPO_ROOT

    out = Path(os.path.abspath(out))
    (out / "runs").mkdir(parents=True, exist_ok=True)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else REPO_ROOT / "notebooks"
    outcomes: dict[str, RunOutcome] = {}
    todo = []
    for spec in specs:
        if not spec.data.is_file():
            outcomes[spec.name] = RunOutcome(spec, "failed", f"no such file: {spec.data}")
        elif is_up_to_date(spec, out / "runs" / spec.name, share):
            outcomes[spec.name] = RunOutcome(spec, "skipped")
        else:
            todo.append(spec)
    bar = tqdm(total=len(specs), initial=len(specs) - len(todo), desc="batch", unit="run",
               file=sys.stderr, disable=not progress)
    if todo:
        with ProcessPoolExecutor(max_workers=jobs or default_jobs(len(todo))) as pool:
            futures = {pool.submit(_run_one, s, out / "runs" / s.name, notebooks_dir, share): s
                       for s in todo}
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    outcomes[spec.name] = future.result()
                except Exception as err:  # noqa: BLE001  (a worker that died)
                    outcomes[spec.name] = RunOutcome(spec, "failed", f"{type(err).__name__}: {err}")
                bar.update(1)
    bar.close()
    ordered = [outcomes[s.name] for s in specs]
    from pipeline.batch_summary import write_summary

    write_summary(ordered, out, share=share)
    return ordered


def write_snakefile(specs: list[RunSpec], out: Path, path: str | Path, *, share: bool = False,
                    notebooks_dir=None) -> Path:
    """Export the batch as a Snakefile: one rule per run calling ``python -m pipeline run``."""
    lines = ['# Generated by `python -m pipeline batch --snakefile`: one rule per run.', "",
             "rule all:", "    input:"]
    lines += [f"        {json.dumps(str(out / 'runs' / s.name / 'manifest.json'))}," for s in specs]
    for s in specs:
        run_dir = out / "runs" / s.name
        cmd = ["python", "-m", "pipeline", "run", "--data", str(s.data), "--out", str(run_dir), "--force",
               "--workers", "1"]
        if notebooks_dir is not None:
            cmd += ["--notebooks", str(notebooks_dir)]
        for name, value in s.parameters:
            cmd += ["-p", name, value]
        if share:
            cmd.append("--share")
        shell = " ".join(_shell_quote(c) for c in cmd).replace("{", "{{").replace("}", "}}")
        lines += ["", f"rule {_rule_name(s.name)}:",
                  f"    input: {json.dumps(str(s.data))}",
                  f"    output: {json.dumps(str(run_dir / 'manifest.json'))}",
                  "    threads: 1",
                  f"    shell: {json.dumps(shell)}"]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _rule_name(name: str) -> str:
    return "run_" + re.sub(r"\W", "_", name)


def batch_from_cli(args) -> int:
    """``python -m pipeline batch``: 0 every run done or skipped, 1 some failed, 2 bad usage."""
    out = Path(os.path.abspath(args.out))
    try:
        specs = plan_batch(args.data, out, by=args.by, min_patients=args.min_patients, grid=args.grid)
    except (ValueError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.snakefile:
        write_snakefile(specs, out, args.snakefile, share=args.share, notebooks_dir=args.notebooks)
        print(f"wrote {args.snakefile} ({len(specs)} runs); run it with `snakemake --cores N -s {args.snakefile}`")
        return 0
    outcomes = run_batch(specs, out, notebooks_dir=args.notebooks, jobs=args.jobs, share=args.share)
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        first = o.error.splitlines()[0] if o.error else ""
        print(f"run {o.spec.name} failed: {first}", file=sys.stderr)
    counts = {k: sum(o.status == k for o in outcomes) for k in ("done", "skipped", "failed")}
    print(f"batch: {counts['done']} run, {counts['skipped']} skipped (unchanged), {counts['failed']} failed; "
          f"open {os.path.relpath(out)}/index.html")
    return 1 if failed else 0

