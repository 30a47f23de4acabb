"""Tiny notebooks for pipeline tests: a title, a parameters cell and one code cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def write_probe(folder: Path, parameters: str, body: str, name: str = "01_probe") -> Path:
    """``folder`` (created) holding ``name``.ipynb: ``parameters`` as the tagged parameters cell, then ``body``."""
    folder.mkdir()
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell(f"# {name}"), params, new_code_cell(body)]
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder
