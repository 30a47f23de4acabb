"""The notebooks keep the house rules that make them re-runnable and diffable."""

from __future__ import annotations

import ast
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


# A result key is written by helpers.results.Key (or rate_key, test_key, Key.part_of), never by
# string formatting. Key-shaped text -- a name, then [...], then ~test and .part -- that a string
# expression writes with a computed piece in it is a key built by formatting; so is a computed
# key (a name ending in "key") extended by ".part", "[...]" or "~test".
KEY_SHAPE = re.compile(r"[\w.{}]+\[[^\[\]]*\](?:~[\w{}]+)?(?:\.[\w{}]+)*")
EXTENDED_KEY = re.compile(r"\{key\}[.\[~]\w+")
FIELD = re.compile(r"\{([^{}!:]*)[^{}]*\}")


def _piece(node) -> str:
    """A computed piece of a string: ``{key}`` for a name ending in ``key``, else ``{}``."""
    return "{key}" if isinstance(node, ast.Name) and node.id.endswith("key") else "{}"


def _fields(text: str) -> str:
    """Template text (``str.format`` fields) with each field as a computed piece."""
    return FIELD.sub(lambda m: "{key}" if m.group(1).endswith("key") else "{}", text)


def _written(node) -> str | None:
    """The text a string expression writes, computed pieces as ``{}``; None if not one."""
    if isinstance(node, ast.Constant):
        return _fields(node.value) if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(
            _written(v) if isinstance(v, ast.Constant) else _piece(v.value) for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _written(node.left), _written(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else _piece(node.left)) + (
            right if right is not None else _piece(node.right)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = node.left
        if isinstance(left, ast.Constant) and isinstance(left.value, str):
            return re.sub(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]", "{}", left.value)
    return None


def keys_built_by_formatting(source: str) -> list[str]:
    """Key-shaped text in ``source`` that string formatting writes (docstrings left out)."""
    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
    tree = ast.parse(code)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    built = []
    for node in ast.walk(tree):
        text = None if id(node) in docstrings else _written(node)
        if text is not None:
            built += [m.group() for m in KEY_SHAPE.finditer(text) if "{" in m.group()]
            built += [m.group() for m in EXTENDED_KEY.finditer(text)]
    return sorted(set(built))


@pytest.mark.parametrize(
    "code, built",
    [
        ('key = f"any_cr[{by}]"', True),
        ('f"fisher_sample_size[cr_crh_cri|true_rate={level}].n"', True),
        ('f"{key}[{var}|any_cr=True]~gray"', True),
        ('f"{key}.balance[{code}].{column}"', True),
        ('f"{key}.ess"', True),
        ('f"km_os[all].survival_{t:g}m"', True),
        ('"landmark_os[" + landmark_key + "={level}|any_cr=True]"', True),
        ('km_by_group(data, "km_os[high_burden={level}]")', True),
        ('"[[{key}.ess:value]]".format(key=key)', True),
        ('"%s[all]" % measure', True),
        ('f"replication[{below} - {above}]"', True),
        ('f"this cohort [[own:n_of]] vs {study} [[other:n_of]]"', False),
        ('f"[[{verdict_keys[0]}:n_pct]] **{labels[0]}**"', False),
        ('"patients here [[n[source=neuf]:n]]"', False),
        ('str(results.Key("any_cr", by=by)) + "; " + label', False),
        ('results.Key.part_of(key, f"survival_{t:g}m")', False),
        ("f\"{row['label']}: {words[column]} [{n}]\"", False),
        ('def f(key):\n    """`key` holds km_os[{level}]."""', False),
    ],
)
def test_the_key_check_finds_keys_built_from_pieces_and_passes_prose_placeholders(code, built):
    assert bool(keys_built_by_formatting(code)) == built, keys_built_by_formatting(code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_code_cell_builds_a_result_key_by_string_formatting_only_by_results_key(path):
    built = {
        cell.get("id"): found
        for cell in read(path).cells
        if cell.cell_type == "code" and (found := keys_built_by_formatting(cell.source))
    }
    assert not built, f"keys built by string formatting (use helpers.results.Key): {built}"
