"""Run a notebook's code cells in this process (no kernel): fast checks of what a notebook computes.

:func:`execute` runs the cells in order in one namespace, sets the given
parameters right after the parameters cell, and collects the Markdown the
notebook shows (``helpers.narrative.show_markdown``) in ``namespace["_markdown"]``.
Printed tables go to a buffer, not to the terminal.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import nbformat

from helpers import narrative

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name: str, **parameters) -> dict:
    """Namespace after running ``notebooks/<name>.ipynb`` with ``parameters`` (e.g. data_path, output_dir)."""
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    parameters = {"params_file": "", **parameters}  # as a run: the values given here stand
    shown: list[str] = []
    namespace: dict = {"_markdown": shown}
    original = narrative.show_markdown
    narrative.show_markdown = shown.append
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                exec(compile(cell.source, f"{name}:{cell.get('id')}", "exec"), namespace)  # noqa: S102
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update({k: str(v) if isinstance(v, Path) else v for k, v in parameters.items()})
    finally:
        narrative.show_markdown = original
    return namespace
