"""The pipeline against a plain loop of ``papermill`` and ``jupyter nbconvert``, side by side.

``python -m benchmarks.against_plain_loop`` times, on the same cohort and the
same notebooks:

* **pipeline**: ``python -m pipeline run --data FILE --out DIR --force`` (what
  ``make run`` does): validation, every notebook, the HTML report, results
  and manifest;
* **plain loop**: one ``bash`` script that runs ``papermill NOTEBOOK OUT -p data_path ...
  -p output_dir .`` for each notebook in turn, then one ``jupyter nbconvert --to html``
  over all the executed notebooks (what a user would write), in a working folder holding
  copies of the same input files, with the same parameters as the pipeline passes.

The two alternate (pipeline first in odd repetitions, the loop first in even
ones) so that a change of machine load falls on both. Printed: each run's
seconds, the median of each, the ratio pipeline / loop per repetition and its
median, the target (``<= 0.30``) and the load average before and after. Not
part of the test suite; run it by hand. Nothing happens on import.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import (
    REPO_ROOT,
    RESULTS_PATH,
    SHIPPED_COHORT,
    BenchmarkError,
    _write_json,
    measure,
    pipeline_command,
)

TARGET = 0.30
BIN = Path(sys.executable).parent


def loop_script(notebooks: Sequence[Path], inputs: dict[str, Path], workdir: Path) -> str:
    """The bash script of the plain loop: papermill notebook by notebook, then one nbconvert call."""
    from pipeline.parameters import declared_parameters

    lines = ["set -e", f"cd {shlex.quote(str(workdir))}"]
    for nb in notebooks:
        declared = declared_parameters(nb)
        params = {"output_dir": ".", "params_file": ""}  # as a run: the values given here stand
        params.update({name: f"input/{path.name}" for name, path in inputs.items()})
        args = " ".join(
            f"-p {name} {shlex.quote(value)}" for name, value in params.items() if name in declared
        )
        out = f"notebooks/{nb.name}"
        lines.append(
            f"{shlex.quote(str(BIN / 'papermill'))} --no-progress-bar "
            f"{shlex.quote(str(nb))} {out} {args}"
        )
    executed = " ".join(f"notebooks/{nb.name}" for nb in notebooks)
    lines.append(
        f"{shlex.quote(str(BIN / 'jupyter'))} nbconvert --to html --no-input "
        f"--log-level ERROR {executed} --output-dir report"
    )
    return "\n".join(lines) + "\n"


def run(data: Path, repeat: int, notebooks_dir: Path, log=sys.stderr) -> dict:
    """Measure both sides ``repeat`` times, alternating; return a JSON-able dict."""
    from pipeline.parameters import declared_parameters, resolve_input_files
    from pipeline.run import list_notebooks

    notebooks = list_notebooks(notebooks_dir)
    declared = {nb.stem: declared_parameters(nb) for nb in notebooks}
    inputs = resolve_input_files(data, notebooks_dir, declared, {})
    runs: list[dict] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as tmp:
        tmp = Path(tmp)
        for i in range(repeat):
            out = tmp / f"run_{i}"
            workdir = tmp / f"loop_{i}"
            for folder in ("input", "notebooks", "report"):
                (workdir / folder).mkdir(parents=True)
            for path in inputs.values():
                shutil.copyfile(path, workdir / "input" / path.name)
            script = tmp / f"loop_{i}.sh"
            script.write_text(loop_script(notebooks, inputs, workdir))
            pipeline_cmd = pipeline_command(data, out, notebooks_dir)
            loop_cmd = ["bash", str(script)]
            order = [("pipeline", pipeline_cmd), ("loop", loop_cmd)]
            if i % 2:
                order.reverse()
            found = {}
            for name, cmd in order:
                print(f"run {i + 1}/{repeat}: {name}", file=log, flush=True)
                found[name] = measure(cmd, REPO_ROOT, tmp / f"{name}_{i}.log").seconds
            runs.append({**found, "ratio": found["pipeline"] / found["loop"]})
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(workdir, ignore_errors=True)
    return {
        "data": data.name,
        "notebooks": len(notebooks),
        "cpus": os.cpu_count(),
        "runs": runs,
        "pipeline_seconds": statistics.median(r["pipeline"] for r in runs),
        "loop_seconds": statistics.median(r["loop"] for r in runs),
        "ratio": statistics.median(r["ratio"] for r in runs),
        "target": TARGET,
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def format_report(result: dict) -> str:
    """Plain-text lines: every run, the medians, the ratio against the target, the load."""
    lines = [f"{'run':>4}  {'pipeline s':>10}  {'loop s':>8}  {'pipeline/loop':>13}"]
    for i, r in enumerate(result["runs"], start=1):
        lines.append(f"{i:>4}  {r['pipeline']:10.2f}  {r['loop']:8.2f}  {r['ratio']:13.2f}")
    lines.append(
        f"median  {result['pipeline_seconds']:8.2f}  {result['loop_seconds']:8.2f}  "
        f"{result['ratio']:13.2f}"
    )
    met = "met" if result["ratio"] <= result["target"] else "NOT met"
    lines.append(
        f"Target: pipeline / plain loop <= {result['target']}: {met} (value {result['ratio']:.2f})"
    )
    before = ", ".join(f"{x:.2f}" for x in result["load_before"])
    after = ", ".join(f"{x:.2f}" for x in result["load_after"])
    lines.append(f"load average before: {before}; after: {after} ({result['cpus']} CPUs)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.against_plain_loop [--data FILE] [--repeat R] [--json PATH]``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.against_plain_loop", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--data", type=Path, default=SHIPPED_COHORT, help="cohort file")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--notebooks", type=Path, default=REPO_ROOT / "notebooks")
    parser.add_argument(
        "--json", type=Path, default=RESULTS_PATH.with_name("against_plain_loop.json")
    )
    args = parser.parse_args(argv)
    try:
        result = run(args.data.resolve(), max(1, args.repeat), args.notebooks.resolve())
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    _write_json(args.json, result)
    print(format_report(result))
    print(f"results written to {os.path.relpath(args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
