"""Command line: ``python -m helpers {validate,run,synth,reconstruct,refresh-notebooks}``."""

from __future__ import annotations

import argparse
import sys


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
        Sub-commands validate, run, synth, reconstruct and refresh-notebooks.
    """
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a cohort file against the data contract")
    p.add_argument("file", help="cohort file (.csv or .xlsx)")

    p = sub.add_parser("run", help="run every notebook with papermill into one run directory")
    p.add_argument("--data", default=None,
                   help="cohort file, relative to the current directory "
                        "(default: the repository's data/reconstructed_cohort.csv)")
    p.add_argument("--out", default=None,
                   help="run directory, relative to the current directory "
                        "(default: outputs/<data file stem> in the repository)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="notebook parameter (repeatable)")
    p.add_argument("--force", action="store_true", help="replace an existing run directory")
    p.add_argument("--notebooks", default=None,
                   help="folder of notebooks to run (default: the repository's notebooks/)")
    p.add_argument("--workers", type=_worker_count, default=None, metavar="N",
                   help="notebooks executed at the same time, each with its own kernel "
                        "(default 2 for cohorts under 10,000 patients, else 1; "
                        "the run directory is the same)")
    p.add_argument("--cell-timeout", type=_positive_seconds, default=None, metavar="SECONDS",
                   help="fail the run when one cell runs longer than this (default: no limit)")

    p = sub.add_parser("synth", help="write a synthetic cohort of any size under the contract")
    p.add_argument("--n", type=_patient_count, required=True, help="number of patients (>= 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--follow-up", action="store_true",
                   help="add the optional follow-up columns (survival, relapse, transplant times)")
    p.add_argument("--out", default=None, help="output CSV (default stdout)")

    p = sub.add_parser("reconstruct", help="rebuild the reconstructed cohort from published figures")
    p.add_argument("--out", default="data/reconstructed_cohort.csv", help="output CSV")

    p = sub.add_parser("refresh-notebooks", help="re-execute notebooks in place (stored outputs)")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: all in notebooks/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the sub-command.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after ``python -m helpers``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 success, 1 failure, 2 bad input, 130 interrupted.
    """
    try:
        return _dispatch(argv)
    except KeyboardInterrupt:
        # An interrupt outside a run (while importing, validating, ...): no traceback.
        print("interrupted", file=sys.stderr)
        return 130


def _dispatch(argv: list[str] | None) -> int:
    from helpers.pipeline import install_interrupt_handlers

    install_interrupt_handlers()
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        from helpers.loading import validate_file

        report = validate_file(args.file)
        print(report.format())
        return 0 if report.ok else 2
    if args.command == "run":
        from helpers.pipeline import run_from_cli

        return run_from_cli(args)
    if args.command == "synth":
        from helpers.synth import synth_from_cli

        return synth_from_cli(args)
    if args.command == "reconstruct":
        from helpers.reconstruct import reconstruct_from_cli

        return reconstruct_from_cli(args)
    if args.command == "refresh-notebooks":
        from helpers.pipeline import refresh_notebooks_from_cli

        return refresh_notebooks_from_cli(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
