"""A notebook kernel imports only what the analysis uses; helpers have no import circle."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import nbformat
from shared_runs import ROOT, SHIPPED_COHORT

#: The runner's machinery; a kernel never needs it.
NOT_IN_KERNELS = (
    "pipeline",
    "pipeline.run",
    "pipeline.rundir",
    "pipeline.report",
    "nbformat",
    "jsonschema",
    "papermill",
    "nbconvert",
    "nbclient",
)


def helpers_the_notebooks_import() -> list[str]:
    """Every ``helpers`` module named in an import statement of a notebook code cell."""
    found: set[str] = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module == "helpers":
                    found |= {f"helpers.{alias.name}" for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "helpers."
                ):
                    found.add(node.module)
                elif isinstance(node, ast.Import):
                    found |= {a.name for a in node.names if a.name.startswith("helpers.")}
    return sorted(found)


_KERNEL = r"""
import importlib, json, sys
for name in sys.argv[2:]:
    importlib.import_module(name)
from helpers import narrative
narrative.data_provenance(sys.argv[1]).headline  # every notebook's first cell
print(json.dumps(sorted(sys.modules)))
"""


def test_a_kernel_importing_the_notebooks_helpers_never_loads_the_pipeline_or_nbformat():
    from pipeline.kernels import PRELOAD  # a forked kernel has what its fork server imported

    modules = helpers_the_notebooks_import()
    assert "helpers.narrative" in modules
    done = subprocess.run(
        [sys.executable, "-c", _KERNEL, str(SHIPPED_COHORT), *PRELOAD, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert [m for m in NOT_IN_KERNELS if m in loaded] == []


def test_provenance_is_one_module_that_narrative_and_the_report_share():
    import helpers.narrative as narrative
    import helpers.provenance as provenance
    import pipeline.report as report

    assert narrative.data_provenance is provenance.data_provenance
    assert report.data_provenance is provenance.data_provenance
    assert "pipeline.run" not in Path(narrative.__file__).read_text()


def test_no_helper_module_imports_the_pipeline_package():
    for path in sorted((ROOT / "helpers").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not [n for n in names if n == "pipeline" or n.startswith("pipeline.")], path.name
