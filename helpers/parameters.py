"""Notebook parameters: the allowed values and the parameter file (analysis.toml).

:data:`PARAMETER_RULES` is the one table of allowed values; the pipeline checks every run
against it before any notebook starts, and a notebook's settings cell checks the parameter file.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

#: The parameter naming the parameter file; a run passes it blank.
PARAMS_FILE = "params_file"


class ParameterError(ValueError):
    """A parameter name or value the run cannot use; ``str()`` is the message."""


@dataclass(frozen=True)
class Rule:
    """Allowed values of one numeric parameter: bounds in its units (``math.inf`` for none),
    ``*_open`` when the bound itself is not allowed; ``meaning`` names it in messages."""

    low: float
    high: float
    meaning: str
    low_open: bool = False
    high_open: bool = False

    def allows(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        if math.isinf(self.high):
            return f"{'more than' if self.low_open else 'at least'} {self.low:g}"
        return f"in {left}{self.low:g}, {self.high:g}{right}"


#: Allowed values of every numeric notebook parameter.
PARAMETER_RULES: dict[str, Rule] = {
    "age_cutoff": Rule(0, 120, "age cut-off in years"),
    "bmb_low_cutoff": Rule(0, 100, "% bone-marrow blasts, lower edge of the middle group"),
    "bmb_high_cutoff": Rule(0, 100, "% bone-marrow blasts from which tumour burden is high"),
    "lines_cutoff": Rule(0, math.inf, "number of previous treatment lines"),
    "severe_crs_grade": Rule(1, 5, "CTCAE grade from which CRS counts as severe"),
    "prior_a": Rule(0, math.inf, "first shape of the Beta prior", low_open=True),
    "prior_b": Rule(0, math.inf, "second shape of the Beta prior", low_open=True),
    "power_target": Rule(0, 1, "power of the sample-size calculation",
                         low_open=True, high_open=True),
    "alpha": Rule(0, 1, "two-sided significance level", low_open=True, high_open=True),
    "scan_from": Rule(0, 100, "% bone-marrow blasts, lowest cut-off of the scan"),
    "scan_to": Rule(0, 100, "% bone-marrow blasts, highest cut-off of the scan"),
    "scan_step": Rule(0, 100, "percentage points between scanned cut-offs", low_open=True),
    "blast_step": Rule(0, 100, "percentage points of blasts per odds ratio", low_open=True),
    "age_step": Rule(0, 120, "years of age per odds ratio", low_open=True),
    "power_n_max": Rule(1, math.inf, "largest cohort size the sample-size search tries"),
    "at_risk_step_months": Rule(0, 600, "months between the numbers at risk", low_open=True),
    "landmark_months": Rule(0, 600, "months from the start of blinatumomab to the transplant landmark",
                            low_open=True),
    "bootstrap_samples": Rule(1, math.inf, "bootstrap resamples of the adjusted comparison"),
    "bootstrap_seed": Rule(0, math.inf, "seed of the bootstrap's random numbers"),
    "min_cell": Rule(2, math.inf, "smallest count a share run shows (smaller ones, from 1, are hidden)"),
}

#: Text parameters holding a comma-separated list: name -> the Rule of each number, or
#: "grouping" (columns of :func:`groupings`; ``forest_columns`` among ``subgroup_columns``).
LIST_RULES: dict[str, Rule | str] = {
    "subgroup_columns": "grouping", "all_tests_for": "grouping", "forest_columns": "grouping",
    "power_rates": Rule(0, 1, "true CR rate of the power table", low_open=True, high_open=True),
    "survival_months": Rule(0, 600, "months at which survival is reported"),
}
#: Groupings notebook 03 reports whatever else ``subgroup_columns`` adds.
REPORTED_GROUPINGS = ("debulking_category", "high_burden", "bmb_post_group", "lines_group", "age_group")


def groupings() -> tuple[str, ...]:
    """Columns to group patients by: the contract's coded and yes/no columns, the derived groupings."""
    from helpers import contract, derived

    coded = [c.name for c in contract.COLUMNS if c.kind in ("code", "boolean")]
    return tuple(coded + [d.name for d in derived.DERIVED if d.name not in ("any_cr", "mrd_evaluable", "mrd_negative")])


def _list_problem(name: str, value: str, values: Mapping[str, object]) -> str | None:
    """Why the list ``value`` of parameter ``name`` is not allowed (None: it is)."""
    items, rule = [item.strip() for item in value.split(",")], LIST_RULES[name]
    if not all(items):
        return "it must be a comma-separated list without empty items"
    if rule == "grouping":
        chosen = values.get("subgroup_columns") if name == "forest_columns" else None
        allowed = [c.strip() for c in chosen.split(",")] if isinstance(chosen, str) else groupings()
        what = "groupings computed (subgroup_columns)" if isinstance(chosen, str) else "grouping columns"
        wrong = next((item for item in items if item not in allowed), None)
        if wrong is not None:
            return f"{wrong!r} is not one of the {what}: {', '.join(allowed)}"
        missing = [g for g in REPORTED_GROUPINGS if g not in items] if name == "subgroup_columns" else []
        return f"it must include {', '.join(missing)} (notebook 03 reports them for the paper)" if missing else None
    for item in items:
        try:
            if not rule.allows(float(item)):  # NaN is never allowed
                return f"{item!r} is out of range: each {rule.meaning} must be {rule.describe()}"
        except ValueError:
            return f"{item!r} is not a number"
    return None


#: Relations between parameters: (smaller, larger), the first strictly below the second.
PARAMETER_RELATIONS: tuple[tuple[str, str], ...] = (
    ("bmb_low_cutoff", "bmb_high_cutoff"),
    ("alpha", "power_target"),
    ("scan_from", "scan_to"),
)


def check_parameters(values: Mapping[str, object], where: str = "") -> None:
    """Raise :class:`ParameterError` (name, value, what is allowed; ``where`` added) unless
    ``values`` keep :data:`PARAMETER_RULES`, :data:`LIST_RULES` and the relations; names without a rule pass."""
    suffix = f" ({where})" if where else ""
    for name, value in values.items():
        if name in LIST_RULES and isinstance(value, str):
            problem = _list_problem(name, value, values)
            if problem:
                raise ParameterError(f"parameter {name!r} = {value!r} is not allowed: {problem}{suffix}")
        rule = PARAMETER_RULES.get(name)
        if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not rule.allows(value):
            raise ParameterError(f"parameter {name!r} = {value!r} is out of range: the "
                                 f"{rule.meaning} must be {rule.describe()}{suffix}")
    for smaller, larger in PARAMETER_RELATIONS:
        if smaller in values and larger in values and not values[smaller] < values[larger]:
            raise ParameterError(f"parameter {smaller!r} = {values[smaller]!r} must be below "
                                 f"{larger!r} = {values[larger]!r}{suffix}")


# --- one parameter file (analysis.toml) ---------------------------------------------

#: Parameters whose value is a path: in the parameter file, relative to the file's folder.
_PATH_SUFFIXES = ("_path", "_file", "_dir")

_TYPE_WORDS = {"int": "a whole number", "float": "a number", "str": "text in quotes",
               "bool": "true or false"}


def catalog(notebooks_dir: str | Path) -> dict[str, dict]:
    """Every parameter of the ``NN_name.ipynb`` notebooks in ``notebooks_dir``, read from their JSON.

    Returns ``{name: {"type", "default" (the Python value), "help" (the line's comment),
    "notebooks" (stems declaring it)}}``, names in first-declared order. No kernel, no papermill.
    """
    import io
    import json
    import tokenize

    found: dict[str, dict] = {}
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if "parameters" not in cell.get("metadata", {}).get("tags", []):
                continue
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in source.splitlines():
                try:
                    node = ast.parse(line).body
                except SyntaxError:
                    continue
                if len(node) != 1 or not isinstance(node[0], ast.AnnAssign):
                    continue
                name = node[0].target.id
                comments = [t.string for t in tokenize.generate_tokens(io.StringIO(line).readline)
                            if t.type == tokenize.COMMENT]
                entry = found.setdefault(name, {
                    "type": ast.unparse(node[0].annotation), "default": ast.literal_eval(node[0].value),
                    "help": comments[0].lstrip("# ").strip() if comments else "", "notebooks": []})
                entry["notebooks"].append(path.stem)
            break
    return found


def read_params_file(path: str | Path, relative_to: str | Path | None = None) -> dict[str, object]:
    """The flat ``key = value`` pairs of a TOML parameter file (stdlib ``tomllib``).

    Path values (keys ending in ``_path``, ``_file``, ``_dir``) are relative to the file's
    folder; they are returned relative to ``relative_to``, or absolute when it is None.
    A blank path stays blank; a byte-order mark is skipped. Raises :class:`ParameterError` naming the file.
    """
    import os
    import tomllib

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            values = tomllib.loads(handle.read().removeprefix(b"\xef\xbb\xbf").decode("utf-8"))  # Windows editors add a BOM
    except OSError as err:
        raise ParameterError(f"parameter file {path}: cannot read it ({err.strerror or err})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ParameterError(f"parameter file {path}: not valid TOML in UTF-8 ({err})") from None
    folder = path.resolve().parent
    for key, value in values.items():
        if isinstance(value, (dict, list)):
            raise ParameterError(f"parameter file {path}: {key} holds a table or list; "
                                 "the file holds flat key = value lines only")
        if key.endswith(_PATH_SUFFIXES) and isinstance(value, str) and value:
            full = folder / value
            values[key] = str(full) if relative_to is None else os.path.relpath(full, relative_to)
    return values


def check_file_values(values: Mapping[str, object], types: Mapping[str, str],
                      source: str) -> dict[str, object]:
    """Typed values of a parameter file, checked against the declared types and :data:`PARAMETER_RULES`.

    ``types`` is ``{name: declared type}`` of every notebook parameter; a key not in it is
    an error, as is a value of another type or out of range (messages name ``source``).
    """
    checked: dict[str, object] = {}
    for key, value in values.items():
        if key not in types or key == PARAMS_FILE:
            known = ", ".join(sorted(n for n in types if n != PARAMS_FILE))
            raise ParameterError(f"{source}: unknown key {key!r} (= {value!r}): no notebook declares a "
                                 f"parameter of that name. Known: {known}")
        kind = types[key]
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = {"int": isinstance(value, int) and number, "bool": isinstance(value, bool),
                "float": number and math.isfinite(value), "str": isinstance(value, str)}.get(kind, True)
        if not fits:
            raise ParameterError(f"{source}: {key} = {value!r} is not allowed: it must be "
                                 f"{_TYPE_WORDS.get(kind, kind)}")
        value = float(value) if kind == "float" else value
        rule = PARAMETER_RULES.get(key)
        if rule is not None and number and not rule.allows(value):
            raise ParameterError(f"{source}: {key} = {value!r} is out of range: the {rule.meaning} "
                                 f"must be {rule.describe()}")
        checked[key] = value
    return checked


def notebook_settings(params_file: str, notebook: str | Path,
                      current: Mapping[str, object]) -> dict[str, object]:
    """The parameter file's values for the parameters ``notebook`` declares, for its settings cell.

    ``params_file`` blank: nothing (the parameters cell stands). Paths come back relative
    to the current folder (the notebook's, in JupyterLab). ``current`` holds the cell's
    values, for the relations of :data:`PARAMETER_RELATIONS`. Raises
    :class:`ParameterError` naming the file, key, value and what is allowed.
    """
    if not params_file:
        return {}
    notebook = Path(notebook)
    known = catalog(notebook.parent)
    source = f"parameter file {params_file}"
    values = check_file_values(read_params_file(params_file, relative_to=Path.cwd()),
                               {name: info["type"] for name, info in known.items()}, source)
    mine = {k: v for k, v in values.items() if notebook.stem in known[k]["notebooks"]}
    merged = {name: current[name] for name in known if name in current and notebook.stem in known[name]["notebooks"]}
    check_parameters({**merged, **mine}, where=source)
    return mine
