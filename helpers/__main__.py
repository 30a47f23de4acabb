"""Command line: ``python -m helpers {validate,run,synth,reconstruct,refresh-notebooks}``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a cohort file against the data contract")
    p.add_argument("file", help="cohort file (.csv or .xlsx)")

    p = sub.add_parser("run", help="run every notebook with papermill into one run directory")
    p.add_argument("--data", default="data/reconstructed_cohort.csv", help="cohort file")
    p.add_argument("--out", default=None, help="run directory (default outputs/<data file stem>)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="notebook parameter (repeatable)")
    p.add_argument("--force", action="store_true", help="replace an existing run directory")
    p.add_argument("--notebooks", default="notebooks", help="folder of notebooks to run")

    p = sub.add_parser("synth", help="write a synthetic cohort of any size under the contract")
    p.add_argument("--n", type=int, required=True, help="number of patients")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--out", default=None, help="output CSV (default stdout)")

    p = sub.add_parser("reconstruct", help="rebuild the reconstructed cohort from published figures")
    p.add_argument("--out", default="data/reconstructed_cohort.csv", help="output CSV")

    p = sub.add_parser("refresh-notebooks", help="re-execute notebooks in place (stored outputs)")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: all in notebooks/)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the sub-command; returns the exit status."""
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
