"""Run the whole analysis many times: several files, each centre of a file, a grid of parameters.

A batch folder holds ``runs/<name>/`` (one run directory per run), ``work/`` (the centre
subsets; the input is never changed), ``summary.csv`` (status, error and headline results
per run) and ``index.html`` (the same with a forest plot of CR). Runs execute in a
``ProcessPoolExecutor`` as cores and memory allow; a failing run is listed and the others
go on; a run whose ``manifest.json`` has the same input hash, parameter file, parameters and
notebooks is skipped, so a batch resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import os
import re
import shlex
import signal
import sys
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path

from helpers import suppression
from helpers.provenance import file_sha256
from pipeline.parameters import literal

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
    """``["a=1,2", "b=x"]`` -> every combination ``((a, 1), (b, x))``; ``[]`` -> ``[()]``.

    A name given twice, or a value given twice for one name, is refused: the runs would
    repeat each other under different folder names."""
    axes, seen = [], {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        vals = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not name or not vals:
            raise ValueError(
                f"--grid {item!r}: write NAME=VALUE[,VALUE...], e.g. bmb_high_cutoff=40,50,60"
            )
        if name in seen:
            raise ValueError(
                f"--grid {item!r}: {name} is already given by --grid {seen[name]!r}; "
                f"give each parameter once, with all its values: {name}=V1,V2,..."
            )
        seen[name] = item
        repeated = sorted({v for v in vals if vals.count(v) > 1})
        if repeated:
            raise ValueError(
                f"--grid {item!r}: the value {repeated[0]!r} is given twice; give each value once"
            )
        axes.append([(name, v) for v in vals])
    return [tuple(combo) for combo in itertools.product(*axes)]


#: Longest name part (centre, file stem, parameter) kept in a folder or file name, and the
#: longest run name: run folders get ``.partial``/``.failed.N`` and a lock file beside them,
#: and file systems allow 255 bytes.
NAME_PART_MAX = 60
RUN_NAME_MAX = 150


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_.")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def safe_names(texts: Mapping[str, str]) -> dict[str, str]:
    """``{key: text}`` -> ``{key: name}``: a distinct, portable file-name part for each key.

    The name is the text's ASCII slug when no other key gives the same slug (ignoring case,
    for case-insensitive file systems) and it is short; otherwise the slug (shortened; "x"
    when nothing is left, e.g. all non-Latin) and 8 hex digits of the key's SHA-256, so
    ``x`` and ``_x``, ``A-B`` and ``A.B``, or two Greek names never share a file.
    """
    slugs = {key: _slug(text) for key, text in texts.items()}
    users = Counter(slug.lower() for slug in slugs.values())
    names = {}
    for key, slug in slugs.items():
        plain = slug and users[slug.lower()] == 1 and len(slug) <= NAME_PART_MAX
        names[key] = slug if plain else f"{slug[:NAME_PART_MAX] or 'x'}-{_digest(key)}"
    return names


def split_by_centre(
    data: Path, work: Path, min_patients: int, name: str | None = None
) -> list[tuple[str, Path]]:
    """Write each centre's rows (centres under ``min_patients`` pooled, then the patients
    without a centre) as a CSV in ``work``, copied as read so a resumed batch sees unchanged
    hashes; ``[(label, file)]``.

    Files are named ``<name>-<centre>.csv`` (``name``: default the slug of the file's stem).
    Patients without a centre are labelled :data:`NO_CENTRE`. Each group gets its own file
    (:func:`safe_names`), every name settled before anything is written."""
    rows, header = _read_rows(data)
    if "center" not in header:
        raise ValueError(f"{data}: no 'center' column to split by")
    at = header.index("center")
    by: dict[str, list] = {}
    for row in rows:
        by.setdefault(row[at].strip() if at < len(row) else "", []).append(row)
    unrecorded = by.pop("", [])
    big = sorted(c for c, r in by.items() if len(r) >= min_patients)
    small = sorted(c for c in by if c not in big)
    # key (the centre as written; the pool apart from any centre) -> (label, rows)
    groups = {c: (c, by[c]) for c in big}
    if small:
        groups["\0pool"] = (OTHER_CENTRES, [r for c in small for r in by[c]])
    if unrecorded:  # never pooled with a centre
        groups["\0none"] = (NO_CENTRE, unrecorded)
    stem = name or _slug(data.stem)[:NAME_PART_MAX] or "x"
    names = safe_names({key: label for key, (label, _) in groups.items()})
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for key, (label, members) in groups.items():
        path = work / f"{stem}-{names[key]}.csv"
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


def plan_batch(
    files: list[str | Path],
    out: Path,
    *,
    by: str | None = None,
    min_patients: int = 1,
    grid: list[str] = (),
) -> list[RunSpec]:
    """Every run of the batch: files x (all patients and each centre when ``by == "center"``) x
    grid points.

    Each file's centre subsets go to ``out/work/<file>/``; every run and subset has its own
    name (:func:`safe_names`, then :func:`_unique_run_names`); ValueError naming a clash."""
    points = parse_grid(list(grid))
    files = [Path(os.path.abspath(file)) for file in files]
    file_names = safe_names({str(file): file.stem for file in files})
    specs, identities = [], []
    for file in files:
        sources = None
        if by == "center" and file.is_file():
            name = file_names[str(file)]
            try:
                sources = [
                    (label, path, path.stem)
                    for label, path in split_by_centre(
                        file, out / "work" / name, min_patients, name
                    )
                ]
            except (ValueError, UnicodeDecodeError, csv.Error):
                sources = None  # run as a whole: its validation then says what is wrong
        if sources is None:
            sources = [("", file, file_names[str(file)])]
        else:  # the whole file too: the pooled row the centres are read against
            sources = [
                (ALL_PATIENTS, file, f"{file_names[str(file)]}-{_slug(ALL_PATIENTS)}"),
                *sources,
            ]
        for centre, path, stem in sources:
            for point in points:
                name = "-".join([stem] + [_slug(f"{k}={v}") for k, v in point])
                specs.append(RunSpec(name, path, point, file.name, centre))
                identities.append(json.dumps([str(file), str(path), point]))
    names = _unique_run_names([s.name for s in specs], identities)
    return [RunSpec(n, s.data, s.parameters, s.source, s.centre) for n, s in zip(names, specs)]


def _unique_run_names(names: list[str], identities: list[str]) -> list[str]:
    """Names made distinct (ignoring case) and short: a name shared or too long is cut and
    given 8 hex digits of its run's identity (file, subset, parameters)."""
    users = Counter(name.lower() for name in names)
    done = [
        name
        if users[name.lower()] == 1 and len(name) <= RUN_NAME_MAX
        else f"{name[: RUN_NAME_MAX - 9]}-{_digest(identity)}"
        for name, identity in zip(names, identities)
    ]
    seen: dict[str, str] = {}
    for name, identity in zip(done, identities):
        if name.lower() in seen:
            raise ValueError(
                f"two runs of the batch would share the folder name {name!r}: "
                f"{seen[name.lower()]} and {identity}"
            )
        seen[name.lower()] = identity
    return done


def check_grid(
    grid: list[str],
    notebooks_dir: Path,
    settings: Mapping[str, object] | None = None,
    source: str = "parameter file",
) -> None:
    """Check every grid point as a run would, before anything runs: names the notebooks
    declare (not the ones the batch sets), values of the declared type, in range and in
    relation with the parameter file's values (``settings``), no value given twice.
    ValueError naming the ``--grid`` item, the value and what is allowed."""
    from helpers.parameters import (
        ParameterError,
        catalog,
        check_file_values,
        check_parameters,
    )
    from pipeline.parameters import RESERVED_PARAMETERS, coerce_parameters

    known = catalog(notebooks_dir)
    types = {name: info["type"] for name, info in known.items()}
    declared = {"notebooks": {name: {"type": kind} for name, kind in types.items()}}
    try:
        from_file = check_file_values(settings or {}, types, source)
    except ParameterError as err:
        raise ValueError(str(err)) from None
    from_file = {
        k: v for k, v in from_file.items() if k not in ("data_path", "data_sheet", "output_dir")
    }
    for item in grid:
        name, _, values = item.partition("=")
        name = name.strip()
        if name in RESERVED_PARAMETERS or name == "data_sheet":
            raise ValueError(
                f"--grid {item!r}: {name} is set by the batch for each run (the data files are its "
                "arguments); a grid varies the notebooks' other parameters"
            )
        typed: dict[object, str] = {}
        for text in (v.strip() for v in values.split(",") if v.strip()):
            try:
                value = coerce_parameters([(name, text)], declared)[name]
                for stem in sorted({nb for info in known.values() for nb in info["notebooks"]}):
                    mine = {
                        n: info["default"] for n, info in known.items() if stem in info["notebooks"]
                    }
                    if name in mine:
                        check_parameters(
                            {
                                **mine,
                                **{k: v for k, v in from_file.items() if k in mine},
                                name: value,
                            },
                            where=f"{stem}.ipynb",
                        )
            except ParameterError as err:
                raise ValueError(f"--grid {item!r}: {err}") from None
            if value in typed:
                raise ValueError(
                    f"--grid {item!r}: {typed[value]!r} and {text!r} are the same value "
                    f"({value!r}); give each value once"
                )
            typed[value] = text


def parameter_file_record(params_file: str | Path | None) -> dict[str, str] | None:
    """``{file, sha256}`` of the parameter file, as a run's manifest records it (None: no file)."""
    if params_file is None:
        return None
    return {"file": Path(params_file).name, "sha256": file_sha256(params_file)}


def is_up_to_date(
    spec: RunSpec,
    run_dir: Path,
    share: bool = False,
    parameter_file: Mapping[str, str] | None = None,
    notebooks: Mapping[str, str] | None = None,
) -> bool:
    """True when ``run_dir`` is a complete run of the same kind, input bytes, parameter file
    (``parameter_file``: :func:`parameter_file_record`, compared by SHA-256; None: none),
    parameters and notebooks (``notebooks``: stem -> SHA-256 of each notebook file the batch
    runs; None: not compared)."""
    try:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        if manifest["input"]["sha256"] != file_sha256(spec.data):
            return False
        if notebooks is not None and manifest["notebooks"] != dict(notebooks):
            return False
        if manifest.get("kind", "internal") != ("share" if share else "internal"):
            return False
        recorded = manifest.get("parameter_file") or None
        if (recorded and recorded.get("sha256")) != (
            parameter_file and parameter_file.get("sha256")
        ):
            return False
        given = dict(spec.parameters)
        for params in manifest["parameters"].values():
            for name, value in params.items():
                if name in given and literal(value) != literal(given[name]):
                    return False
        return (run_dir / "results.csv").is_file()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _worker_started(runner: int) -> None:
    """Batch worker initializer: SIGTERM when the runner dies (even by ``kill -9``), and SIGTERM
    stops the run as Ctrl-C does (partial run removed, kernels shut down)."""
    from pipeline import kernels

    kernels.worker_started(runner, signal.SIGTERM)


def _run_one(
    spec: RunSpec, run_dir: Path, notebooks_dir, share: bool, params_file=None, fork_server=""
) -> RunOutcome:
    """Worker: one run with one notebook worker, its kernels forked by the batch's
    ``fork_server`` if given; every error becomes the outcome's message."""
    import time

    from pipeline import kernels
    from pipeline.run import PipelineError, run_analysis

    start = time.perf_counter()
    with kernels.stoppable():  # stopped, the worker ends here: nobody reads the outcome
        try:
            run_analysis(
                spec.data,
                run_dir,
                parameters=list(spec.parameters),
                force=True,
                notebooks_dir=notebooks_dir,
                progress=False,
                workers=1,
                share=share,
                params_file=params_file,
                fork_server=fork_server,
            )
        except PipelineError as err:
            return RunOutcome(spec, "failed", str(err).strip(), time.perf_counter() - start)
        except KeyboardInterrupt:
            # The runner's id is no proof it lives: the death signal comes when the runner's
            # forking thread ends, which may be before its last thread, so getppid() can still
            # name the runner (kernels.stoppable exits then).
            if kernels.orphaned():
                os._exit(130)
            raise
        except Exception as err:  # noqa: BLE001  (one run's failure must not stop the batch)
            return RunOutcome(
                spec, "failed", f"{type(err).__name__}: {err}", time.perf_counter() - start
            )
    return RunOutcome(spec, "done", "", time.perf_counter() - start)


def default_jobs(n_runs: int) -> int:
    """Runs at the same time: at most the cores, the runs, and what free memory holds."""
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    try:
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        by_memory = max(1, free // MEMORY_PER_RUN)
    except (ValueError, OSError, AttributeError):
        by_memory = cores
    return max(1, min(cores, n_runs, by_memory))


def run_batch(
    specs: list[RunSpec],
    out: str | Path,
    *,
    notebooks_dir=None,
    jobs: int | None = None,
    progress: bool = True,
    share: bool = False,
    params_file: str | Path | None = None,
) -> list[RunOutcome]:
    """Run every spec into ``out/runs/<name>`` (skipping up-to-date ones) and write
    ``summary.csv`` and ``index.html`` whatever happened; the outcomes in spec order.
    ``params_file``: the parameter file every run reads (as ``run --params``)."""
    from tqdm.auto import tqdm

    from pipeline import kernels
    from pipeline.run import REPO_ROOT, list_notebooks

    out = Path(os.path.abspath(out))
    (out / "runs").mkdir(parents=True, exist_ok=True)
    notebooks_dir = Path(notebooks_dir) if notebooks_dir is not None else REPO_ROOT / "notebooks"
    record = parameter_file_record(params_file)
    notebooks = list_notebooks(notebooks_dir)
    sources = {nb.stem: file_sha256(nb) for nb in notebooks}
    outcomes: dict[str, RunOutcome] = {}
    todo = []
    for spec in specs:
        if not spec.data.is_file():
            outcomes[spec.name] = RunOutcome(spec, "failed", f"no such file: {spec.data}")
        elif is_up_to_date(spec, out / "runs" / spec.name, share, record, sources):
            outcomes[spec.name] = RunOutcome(spec, "skipped")
        else:
            todo.append(spec)
    if todo:
        # One fork server for every run of the batch: its imports are paid once.
        forking = kernels.worth_forking(len(todo) * len(sources))
        pool_of = kernels.worker_pool(
            jobs or default_jobs(len(todo)),
            _worker_started,
            notebooks,
            forking,
            kernels.given_server(),
        )
        with pool_of as (pool, address):
            runs = out / "runs"
            futures = {
                pool.submit(
                    _run_one, s, runs / s.name, notebooks_dir, share, params_file, address
                ): s
                for s in todo
            }
            bar = tqdm(
                total=len(specs),
                initial=len(specs) - len(todo),
                desc="batch",
                unit="run",
                file=sys.stderr,
                disable=not progress,
            )
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    outcomes[spec.name] = future.result()
                except Exception as err:  # noqa: BLE001  (a worker that died)
                    outcomes[spec.name] = RunOutcome(spec, "failed", f"{type(err).__name__}: {err}")
                bar.update(1)
            bar.close()
    ordered = [outcomes[s.name] for s in specs]
    # An error may quote a patient's row or value, or name a path: a share batch says where only.
    if share:
        ordered = [
            dataclasses.replace(o, error=suppression.share_failure_text(o.error)) if o.error else o
            for o in ordered
        ]
    from pipeline.batch_summary import write_summary

    write_summary(ordered, out, share=share)
    return ordered


def write_snakefile(
    specs: list[RunSpec],
    out: Path,
    path: str | Path,
    *,
    share: bool = False,
    notebooks_dir=None,
    params_file: str | Path | None = None,
) -> Path:
    """Export the batch as a Snakefile: one rule per run calling ``pipeline run`` with this
    interpreter (its absolute path) and the batch's parameter file."""
    lines = [
        "# Generated by `python -m pipeline batch --snakefile`: one rule per run.",
        "",
        "rule all:",
        "    input:",
    ]
    lines += [f"        {json.dumps(str(out / 'runs' / s.name / 'manifest.json'))}," for s in specs]
    rules = _rule_names([s.name for s in specs])
    for s, rule in zip(specs, rules):
        run_dir = out / "runs" / s.name
        cmd = [sys.executable, "-m", "pipeline", "run", "--data", str(s.data), "--out"]
        cmd += [str(run_dir), "--force", "--workers", "1"]
        if notebooks_dir is not None:
            cmd += ["--notebooks", os.path.abspath(notebooks_dir)]
        if params_file is not None:
            cmd += ["--params", os.path.abspath(params_file)]
        for name, value in s.parameters:
            cmd += ["-p", name, value]
        if share:
            cmd.append("--share")
        shell = " ".join(map(shlex.quote, cmd)).replace("{", "{{").replace("}", "}}")
        lines += [
            "",
            f"rule {rule}:",
            f"    input: {json.dumps(str(s.data))}",
            f"    output: {json.dumps(str(run_dir / 'manifest.json'))}",
            "    threads: 1",
            f"    shell: {json.dumps(shell)}",
        ]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rule_names(names: list[str]) -> list[str]:
    """Snakemake rule names (identifiers), distinct: ``A-B`` and ``A.B`` give ``run_A_B`` and
    ``run_A_B_<8 hex digits of the run name>``."""
    rules = ["run_" + re.sub(r"\W", "_", name, flags=re.ASCII) for name in names]
    users = Counter(rules)
    return [
        rule if users[rule] == 1 else f"{rule}_{_digest(name)}" for rule, name in zip(rules, names)
    ]


def batch_from_cli(args) -> int:
    """``python -m pipeline batch``: 0 every run done or skipped, 1 some failed, 2 bad usage."""
    from helpers.parameters import ParameterError, read_params_file
    from pipeline.parameters import check_params_path
    from pipeline.run import REPO_ROOT
    from pipeline.rundir import RunDirError, run_lock

    out = Path(os.path.abspath(args.out))
    notebooks = Path(args.notebooks) if args.notebooks is not None else REPO_ROOT / "notebooks"
    # As `run`: the repository's analysis.toml describes the repository's notebooks only.
    default = REPO_ROOT / "analysis.toml" if args.notebooks is None else None
    params_file = args.params if args.params is not None else default
    with contextlib.ExitStack() as held:
        try:  # bad usage (exit status 2) is found before any run starts
            if params_file is not None:
                check_params_path(params_file)  # a pipe would block
            settings = read_params_file(params_file) if params_file is not None else {}
            held.enter_context(run_lock(out))
            check_grid(args.grid, notebooks, settings, f"parameter file {params_file}")
            specs = plan_batch(
                args.data, out, by=args.by, min_patients=args.min_patients, grid=args.grid
            )
            if args.snakefile:
                write_snakefile(
                    specs,
                    out,
                    args.snakefile,
                    share=args.share,
                    notebooks_dir=args.notebooks,
                    params_file=params_file,
                )
                print(
                    f"wrote {args.snakefile} ({len(specs)} runs); run it with "
                    f"`snakemake --cores N -s {args.snakefile}`"
                )
                return 0
        except (ValueError, ParameterError, RunDirError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        except OSError as err:
            print(
                f"error: {err.strerror or err}{f': {err.filename}' if err.filename else ''}",
                file=sys.stderr,
            )
            return 2
        outcomes = run_batch(
            specs,
            out,
            notebooks_dir=args.notebooks,
            jobs=args.jobs,
            share=args.share,
            params_file=params_file,
        )
    failed = [o for o in outcomes if o.status == "failed"]
    for o in failed:
        first = o.error.splitlines()[0] if o.error else ""
        print(f"run {o.spec.name} failed: {first}", file=sys.stderr)
    counts = {k: sum(o.status == k for o in outcomes) for k in ("done", "skipped", "failed")}
    print(
        f"batch: {counts['done']} run, {counts['skipped']} skipped (unchanged), {counts['failed']} failed; "
        f"open {os.path.relpath(out)}/index.html"
    )
    return 1 if failed else 0
