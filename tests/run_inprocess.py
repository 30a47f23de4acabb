"""Run a notebook's code cells in this process (no kernel): fast checks of what a notebook computes.

:func:`execute` runs the cells in order in one namespace, in the notebooks folder
(as ``python -m pipeline run`` and nbval do, so the notebooks' relative default paths
resolve), sets the given parameters right after the parameters cell, and collects the
Markdown the notebook shows (``helpers.narrative.show_markdown``) in
``namespace["_markdown"]`` and what it prints in ``namespace["_printed"]``. Figures are built
but written as empty files unless ``figures=True`` (for the tests that read a figure file:
rendering PNG and SVG is most of a small notebook's time). Unless given, the settings of
``shared_runs.LIGHT_SETTINGS`` that the notebook declares are set too (a smaller bootstrap and
sample-size search: no test of a notebook run here reads them at full size).

For the command line run in this process (``pipeline.__main__.main``) by checks that must end
before any notebook runs: :func:`keep_signal_handlers` and :func:`refuse_notebook_runs`.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import sys
from pathlib import Path

import nbformat
from shared_runs import LIGHT_SETTINGS

from helpers import narrative
from helpers.parameters import declared

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _empty_file(self, fname, *args, **kwargs) -> None:
    """Stands in for ``Figure.savefig``: an empty file, binary or text buffer."""
    if hasattr(fname, "write"):
        fname.write("" if isinstance(fname, io.TextIOBase) else b"")
    else:
        Path(fname).write_bytes(b"")


def execute(name: str, *, figures: bool = False, **parameters) -> dict:
    """Namespace after running ``notebooks/<name>.ipynb`` with ``parameters`` (e.g. data_path, output_dir).

    Paths among the parameters should be absolute: the cells run in the notebooks folder.
    """
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    names = declared(NOTEBOOKS / f"{name}.ipynb")
    light = {k: v for k, v in LIGHT_SETTINGS.items() if k in names}
    # as a run: the values given here stand
    parameters = {"params_file": "", **light, **parameters}
    shown: list[str] = []
    printed = io.StringIO()
    namespace: dict = {"_markdown": shown}
    original, cwd = narrative.show_markdown, os.getcwd()

    def capture(
        text: str, *, policy=None
    ) -> None:  # the notebook's policy, as show_markdown takes it
        shown.append(text)

    narrative.show_markdown = capture
    from matplotlib.figure import Figure

    savefig = Figure.savefig
    if not figures:
        Figure.savefig = _empty_file
    # The test process's own objects (its whole heap) are left out of garbage collection while
    # the notebook runs, as a kernel's few objects would be: statsmodels' Holm adjustment, for
    # one, calls gc.collect(), which would otherwise walk all of them.
    gc.freeze()
    try:
        os.chdir(NOTEBOOKS)
        with contextlib.redirect_stdout(printed):
            for cell in notebook.cells:
                if cell.cell_type != "code":
                    continue
                exec(compile(cell.source, f"{name}:{cell.get('id')}", "exec"), namespace)  # noqa: S102
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(
                        {k: str(v) if isinstance(v, Path) else v for k, v in parameters.items()}
                    )
    finally:
        gc.unfreeze()
        Figure.savefig = savefig
        narrative.show_markdown = original
        os.chdir(cwd)
        namespace["_printed"] = printed.getvalue()
        if (
            "matplotlib.pyplot" in sys.modules
        ):  # a kernel's figures end with it; here they would pile up
            sys.modules["matplotlib.pyplot"].close("all")
    return namespace


def keep_signal_handlers(monkeypatch) -> None:
    """``main`` installs the command line's interrupt handlers; the test process keeps its own."""
    import pipeline.__main__ as cli

    monkeypatch.setattr(cli, "install_interrupt_handlers", lambda: None)


def refuse_notebook_runs(monkeypatch) -> None:
    """Makes ``papermill.execute_notebook`` fail the test if anything calls it."""
    import papermill

    def refuse(*args, **kwargs):
        raise AssertionError(f"papermill.execute_notebook was called: {args[:1]}")

    monkeypatch.setattr(papermill, "execute_notebook", refuse)
