"""Command line: ``python -m pipeline {validate,run,params,batch,synth,reconstruct,refresh-notebooks}``."""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _whole_number_at_least_one(why: str = ""):
    """An argparse type: a whole number >= 1; ``why`` is added to the message for 0 or less."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1{why}, got {n}")
        return n

    return parse


#: ``synth --n`` and ``run --workers``.
_patient_count = _whole_number_at_least_one(" (a cohort file needs a patient)")
_worker_count = _whole_number_at_least_one()


def _positive_seconds(text: str) -> float:
    """argparse type of ``run --cell-timeout``: a number of seconds > 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command.

    Returns
    -------
    argparse.ArgumentParser
        Sub-commands validate, run, batch, synth, reconstruct and refresh-notebooks.
    """
    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sheet = dict(
        metavar="NAME",
        help="workbook sheet to read (default: the only visible sheet with the contract's columns)",
    )
    notebooks = "folder of notebooks to run (default: the repository's notebooks/)"

    p = sub.add_parser("validate", help="check a cohort file against the data contract")
    p.add_argument("file", nargs="?", help="cohort file (.csv or .xlsx)")
    p.add_argument("--sheet", **sheet)
    p.add_argument(
        "--template",
        metavar="DIR",
        help="instead of validating, write an empty template.csv and template.xlsx into DIR",
    )
    p.add_argument(
        "--fix-codes",
        metavar="OUT",
        help="also write a normalised copy of a valid FILE to OUT (a new .csv; never the input): "
        "codes in the contract's case, yes/no booleans, whole numbers without '.0', no "
        "surrounding spaces; lists every change",
    )

    p = sub.add_parser(
        "run",
        help="run every notebook with papermill into one run directory",
        epilog="Parameter values: the project defaults, replaced by the --params file's, "
        "replaced by -p, --data and --sheet. `python -m pipeline params` lists every "
        "parameter with its type, default and meaning.",
    )
    p.add_argument(
        "--data",
        help="cohort file, relative to the current directory "
        "(default: data_path of the --params file, else the repository's "
        "data/reconstructed_cohort.csv)",
    )
    p.add_argument(
        "--params",
        metavar="FILE",
        help="parameter file (TOML, flat keys named as the notebooks' parameters; "
        "default: the repository's analysis.toml, or none with --notebooks)",
    )
    p.add_argument(
        "--out",
        help="run directory, relative to the current directory "
        "(default: outputs/<data file stem> in the repository)",
    )
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="notebook parameter (repeatable)",
    )
    p.add_argument("--sheet", **sheet)
    p.add_argument("--force", action="store_true", help="replace an existing run directory")
    p.add_argument("--notebooks", help=notebooks)
    p.add_argument(
        "--workers",
        type=_worker_count,
        metavar="N",
        help="notebooks executed at the same time, each with its own kernel "
        "(default 2 for cohorts under 10,000 patients, else 1; "
        "the run directory is the same)",
    )
    p.add_argument(
        "--cell-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="fail the run when one cell runs longer than this (default: no limit)",
    )
    p.add_argument(
        "--share",
        action="store_true",
        help="share-safe run: no copy of the input in the run directory (name and SHA-256 "
        "stay in manifest.json), notebooks told share_safe=True, every page says so",
    )

    p = sub.add_parser(
        "params", help="list every notebook parameter: type, default, meaning, notebooks"
    )
    p.add_argument("--notebooks", help="folder of notebooks (default: the repository's notebooks/)")

    p = sub.add_parser(
        "batch", help="run the analysis over several files, each centre, a parameter grid"
    )
    p.add_argument("data", nargs="+", help="cohort files (.csv or .xlsx); never written to")
    p.add_argument(
        "--out", required=True, help="batch folder (runs/<name>/, summary.csv, index.html)"
    )
    p.add_argument(
        "--by",
        choices=["center"],
        help="one run per centre of each file (subsets written under OUT/work/)",
    )
    p.add_argument(
        "--min-patients",
        type=_patient_count,
        default=1,
        metavar="N",
        help="with --by center: centres with fewer patients are pooled as 'other centres'",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="one run per value (repeatable: every combination), e.g. bmb_high_cutoff=40,50,60",
    )
    p.add_argument(
        "--jobs",
        type=_worker_count,
        metavar="N",
        help="runs at the same time (default: as many as cores and free memory allow)",
    )
    p.add_argument("--notebooks", help=notebooks)
    p.add_argument(
        "--params",
        metavar="FILE",
        help="parameter file every run reads, as `run --params` (default: the repository's "
        "analysis.toml, or none with --notebooks); part of the check that skips finished runs",
    )
    p.add_argument("--share", action="store_true", help="share-safe runs (see `run --share`)")
    p.add_argument(
        "--snakefile", metavar="PATH", help="write the batch as a Snakefile instead of running it"
    )

    p = sub.add_parser("synth", help="write a synthetic cohort of any size under the contract")
    p.add_argument("--n", type=_patient_count, required=True, help="number of patients (>= 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument(
        "--follow-up",
        action="store_true",
        help="add the optional follow-up columns (survival, relapse, transplant times)",
    )
    p.add_argument("--out", help="output CSV (default stdout)")

    p = sub.add_parser(
        "reconstruct", help="rebuild the reconstructed cohort from published figures"
    )
    p.add_argument("--out", default="data/reconstructed_cohort.csv", help="output CSV")

    p = sub.add_parser("refresh-notebooks", help="re-execute notebooks in place (stored outputs)")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: all in notebooks/)")
    return parser


def install_interrupt_handlers() -> None:
    """Make SIGTERM raise KeyboardInterrupt, as Ctrl-C (SIGINT) does.

    Called first thing by ``python -m pipeline`` so that an interrupt at any
    moment of a run takes the same clean path (partial run removed, kernels
    shut down, exit status 130).
    """
    if threading.current_thread() is not threading.main_thread():
        return  # handlers can only be set there (main() called from a thread, e.g. by a test runner)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the sub-command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``python -m pipeline``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 failure, 2 bad input or usage, 130
        interrupted, 141 output pipe closed (as for a process ended by SIGPIPE).
        Operating-system errors are one line on stderr, never a traceback.
    """
    try:
        install_interrupt_handlers()
        return _dispatch(argv)
    except SystemExit as done:  # argparse: --help (0) and usage errors (2)
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 2)
    except KeyboardInterrupt:
        # An interrupt outside a run (while importing, validating, ...): no traceback.
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``validate FILE | head -1``): nothing left to say.
        _discard_stdout()
        return 141
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}", file=sys.stderr)
        return 1


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout has no file descriptor (captured)
        pass


def _validate_from_cli(args) -> int:
    """``python -m pipeline validate [--sheet NAME] FILE`` or ``validate --template DIR``."""
    if args.template is not None:
        from pipeline.template import write_template

        try:
            written = write_template(args.template)
        except OSError as exc:
            print(
                f"error: cannot write the template into {args.template}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 1
        for path in written:
            print(f"wrote {path}")
        return 0
    if args.file is None:
        print("error: validate needs a cohort FILE (or --template DIR)", file=sys.stderr)
        return 2
    from helpers.loading import validate_file

    if args.fix_codes is not None:
        from pipeline.validate import fix_codes

        return fix_codes(args.file, args.fix_codes, args.sheet)
    report = validate_file(args.file, sheet=args.sheet)
    print(report.format())
    sys.stdout.flush()  # a closed pipe shows here, inside main
    return 0 if report.ok else 2


def _dispatch(argv: list[str] | None) -> int:
    # Arguments are parsed before anything heavy is imported: --help and usage
    # errors are instant; each command imports only what it uses.
    args = build_parser().parse_args(argv)
    here = {
        "validate": _validate_from_cli,
        "run": run_from_cli,
        "params": params_from_cli,
        "refresh-notebooks": refresh_notebooks_from_cli,
    }
    if args.command in here:
        return here[args.command](args)
    # batch, synth and reconstruct: a module of their own, imported only for their command
    module = importlib.import_module(f"pipeline.{args.command}")
    return getattr(module, f"{args.command}_from_cli")(args)


def run_from_cli(args) -> int:
    """``python -m pipeline run``: 0 complete, 1 failed, 2 bad input, 130 interrupted."""
    from helpers.parameters import ParameterError
    from pipeline.parameters import check_params_path
    from pipeline.run import PipelineError, run_analysis
    from pipeline.rundir import InterruptedAfterCompletion

    notebooks = args.notebooks if args.notebooks is not None else REPO_ROOT / "notebooks"
    # The repository's analysis.toml describes the repository's notebooks, not another folder's.
    default = REPO_ROOT / "analysis.toml" if args.notebooks is None else None
    params_file = args.params if args.params is not None else default
    try:
        if params_file is not None:
            check_params_path(params_file)  # before the run hashes it: a pipe would block
        summary = run_analysis(
            args.data,
            args.out,
            parameters=[tuple(p) for p in args.parameter],
            force=args.force,
            notebooks_dir=notebooks,
            progress=True,
            cell_timeout=args.cell_timeout,
            workers=args.workers,
            sheet=args.sheet,
            share=args.share,
            params_file=params_file,
        )
    except PipelineError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_status
    except ParameterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except InterruptedAfterCompletion as err:
        print(
            f"interrupted after the run was complete: {err.args[0]} holds the finished run",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print("interrupted: the partial run directory was removed", file=sys.stderr)
        return 130
    for warning in summary.warnings:
        print(f"warning (the run went ahead): {warning}", file=sys.stderr)
    rel = os.path.relpath(summary.run_dir)
    rel = str(summary.run_dir) if rel.startswith("..") else rel
    sheet = f"sheet {summary.sheet!r} of the workbook, " if summary.sheet is not None else ""
    print(
        f"run complete: {rel} ({sheet}{len(summary.notebooks)} notebooks, "
        f"{summary.n_results} statistics); open {rel}/report/index.html"
    )
    return 0


def params_from_cli(args) -> int:
    """``python -m pipeline params``: one block per parameter the notebooks name (0): type,
    default, meaning and allowed values from helpers.parameters.SETTINGS."""
    from helpers.parameters import PARAMETER_RULES, catalog

    folder = Path(args.notebooks) if args.notebooks is not None else REPO_ROOT / "notebooks"
    for name, info in catalog(folder).items():
        rule = PARAMETER_RULES.get(name)
        allowed = f" Allowed: {rule.describe()}." if rule else ""
        print(
            f"{name} ({info['type']}, default {info['default']!r})\n    {info['meaning']}.{allowed}\n"
            f"    Notebooks: {', '.join(info['notebooks'])}"
        )
    sys.stdout.flush()  # a closed pipe shows here, inside main
    return 0


def refresh_notebooks_from_cli(args) -> int:
    """``python -m pipeline refresh-notebooks``: re-execute notebooks in place (0; a failing cell raises)."""
    from tqdm.auto import tqdm

    from pipeline.run import list_notebooks, refresh_notebook

    paths = [Path(p) for p in args.notebooks] or list_notebooks(REPO_ROOT / "notebooks")
    for path in tqdm(paths, desc="refreshing", unit="nb", file=sys.stderr):
        refresh_notebook(path)
    print(f"refreshed {len(paths)} notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
