"""The notebooks keep the house rules that make them re-runnable and diffable."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from pipeline.parameters import declared_parameters
from pipeline.run import list_notebooks

NOTEBOOKS = list_notebooks(Path(__file__).resolve().parents[1] / "notebooks")
IDS = [p.stem for p in NOTEBOOKS]
VOLATILE = [
    re.compile(p)
    for p in (
        r"/work/|/tmp/|/home/|/root/|[A-Z]:\\\\",
        r"<Figure size",
        r"object at 0x[0-9a-f]+",
        r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d",
    )
]


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_opens_with_a_title_and_a_purpose_naming_inputs_and_outputs(path):
    first = read(path).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "Input" in first.source and "Output" in first.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell_names_settings_at_none_which_papermill_can_read(path):
    import papermill

    cells = [c for c in read(path).cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    lines = [ln for ln in cells[0].source.splitlines() if ln.strip() and not ln.startswith("#")]
    assert all(re.fullmatch(r"[a-z_]+ = None", line) for line in lines), lines
    assert set(papermill.inspect_notebook(str(path))) == set(declared_parameters(path))
    assert len(declared_parameters(path)) == len(lines)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_are_complete_and_carry_nothing_volatile(path):
    counts = []
    for cell in read(path).cells:
        if cell.cell_type != "code":
            continue
        counts.append(cell.execution_count)
        for output in cell.outputs:
            assert output.output_type != "error", f"stored error in {path.name}"
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/")
            )
            for pattern in VOLATILE:
                assert not pattern.search(text), (
                    f"{pattern.pattern!r} in {path.name}: {text[:200]!r}"
                )
            html = output.get("data", {}).get("text/html", "")
            # HTML only from helpers.display.table, whose table ids are fixed (a Styler's default id is random)
            assert not html or html.startswith('<div class="rich-table">'), (
                "HTML output churns; use display.table"
            )
    assert counts == list(range(1, len(counts) + 1)), "run top to bottom once before storing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_notebook_shows_where_its_data_came_from_first(path):
    code = [c for c in read(path).cells if c.cell_type == "code" and c.get("id") != "settings"]
    assert "data_provenance(data_path)" in code[1].source


def code_cell_sizes(path: Path) -> tuple[list[int], list[int]]:
    """Non-blank lines per code cell, and the length of every line of code."""
    cells = [c.source.splitlines() for c in read(path).cells if c.cell_type == "code"]
    return [sum(1 for ln in lines if ln.strip()) for lines in cells], [
        len(ln) for lines in cells for ln in lines
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_cells_are_short_median_six_lines_at_most_twenty_five_lines_of_100_characters(path):
    import statistics

    sizes, widths = code_cell_sizes(path)
    assert statistics.median(sizes) <= 6, sizes
    assert max(sizes) <= 25, sizes
    assert max(widths) <= 100, max(widths)
